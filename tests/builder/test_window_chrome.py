"""The window around the canvas: toolbar, the design's name, find, layout direction, diagram
export and the Help menu — driven through the real widgets."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QToolButton

from tests.builder.gestures import Gestures


def _button(window, action) -> QToolButton:
    button = window.toolbar.widgetForAction(action)
    assert isinstance(button, QToolButton) and button.isVisible()
    return button


def test_toolbar_has_run_pause_stop_fit_layout_undo_redo(window):
    texts = [a.iconText() for a in window.toolbar.actions() if a.iconText()]
    for wanted in ("Undo", "Redo", "Fit", "Layout", "Run", "Pause", "Stop"):
        assert wanted in texts
    assert window.act_pause.isEnabled() is False and window.act_stop.isEnabled() is False
    c = window.controller
    a = c.add_layer("Input", (0, 0))
    c.add_layer("Dense", (900, 700))
    QTest.mouseClick(_button(window, window.act_layout), Qt.MouseButton.LeftButton)
    assert c.doc.attr(a, "pos") == (0.0, 0.0) and c.stack.text(c.stack.index() - 1) == "auto-layout"
    QTest.mouseClick(_button(window, window.act_undo), Qt.MouseButton.LeftButton)
    assert c.stack.text(c.stack.index() - 1).startswith("add")
    QTest.mouseClick(_button(window, window.act_redo), Qt.MouseButton.LeftButton)
    QTest.mouseClick(_button(window, window.act_fit), Qt.MouseButton.LeftButton)
    assert window.view.zoom() <= 1.0


def test_run_from_the_toolbar_reports_what_is_missing(window):
    QTest.mouseClick(_button(window, window.act_run), Qt.MouseButton.LeftButton)
    assert "Cannot train" in window.training.status.text()
    assert window.act_run.isEnabled()  # nothing started


def test_new_asks_the_name_which_is_shown_exported_and_renamed_undoably(window, dialogs):
    dialogs.name_answer = "wide and deep"
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert ("name", "Model") in dialogs.asked
    doc = window.controller.doc
    assert doc.name == "WideAndDeep" and window.name_edit.text() == "WideAndDeep"
    assert window.windowTitle().startswith("wide and deep")
    assert window.controller.stack.count() == 0 and not window.files.is_modified()
    g = Gestures(window)
    g.type_into(window.name_edit, "Regressor")
    assert window.controller.doc.name == "Regressor"
    x = window.controller.add_layer("Input", (0, 0))
    window.controller.insert_after("Output", [(x, 0)])
    window.analysis.start()
    report = window.analysis.run_now()
    assert "class Regressor(nn.Module)" in report.code
    for _ in range(3):
        window.controller.stack.undo()
    assert window.controller.doc.name == "WideAndDeep"
    assert window.name_edit.text() == "WideAndDeep"
    dialogs.name_answer = None  # cancelled: the design stays
    window.act_new.trigger()
    assert window.controller.doc is doc


def test_an_empty_name_is_refused_with_a_reason(window):
    g = Gestures(window)
    g.type_into(window.name_edit, "   ")
    assert window.controller.doc.name == "Model" and window.name_edit.text() == "Model"
    assert "needs a name" in window.statusBar().currentMessage()


def test_find_layer_selects_and_shows_each_match(window):
    window.open_example("cnn_residual")
    QTest.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.finder.hasFocus()
    QTest.keyClicks(window.finder, "conv")
    QTest.keyClick(window.finder, Qt.Key.Key_Return)
    doc = window.controller.doc
    first = window.scene.selected_node_ids()
    assert [doc.attr(n, "name") for n in first] == ["conv1"]
    view = window.view
    assert view.viewport().rect().contains(view.mapFromScene(
        window.scene.nodes[first[0]].sceneBoundingRect().center()))
    QTest.keyClick(window.finder, Qt.Key.Key_Return)
    assert [doc.attr(n, "name") for n in window.scene.selected_node_ids()] == ["conv2"]
    window.finder.clear()
    QTest.keyClicks(window.finder, "nosuchlayer")
    QTest.keyClick(window.finder, Qt.Key.Key_Return)
    assert "color" in window.finder.styleSheet()
    QTest.keyClick(window.finder, Qt.Key.Key_Escape)
    assert window.view.hasFocus()


def test_top_to_bottom_layout_moves_ports_and_is_one_undo_step(window):
    window.open_example("mlp_digits")
    doc, scene = window.controller.doc, window.scene
    window.act_top_down.trigger()
    assert window.settings.layout_direction == "TB"
    for edge in doc.edges():
        assert doc.attr(edge.src, "pos")[1] < doc.attr(edge.dst, "pos")[1]
        a = scene.nodes[edge.src].port_pos("out", 0)
        b = scene.nodes[edge.dst].port_pos("in", edge.dst_port)
        assert a.y() < b.y()  # out at the bottom, in at the top
    window.controller.stack.undo()
    window.act_top_down.trigger()
    assert window.settings.layout_direction == "LR"


def test_diagram_exports_png_and_svg(window, dialogs, tmp_path):
    window.open_example("wide_and_deep")
    window.analysis.start()
    window.analysis.run_now()
    dialogs.save_answer = str(tmp_path / "d.png")
    window.act_diagram["png"].trigger()
    image = QImage(str(tmp_path / "d.png"))
    assert image.width() > 1000 and image.height() > 200
    dialogs.save_answer = str(tmp_path / "d.svg")
    window.act_diagram["svg"].trigger()
    svg = (tmp_path / "d.svg").read_text()
    assert "<svg" in svg and "hidden2" in svg and "(N, 35)" in svg
    assert window.scene.exporting is False


def test_help_menu_docs_shortcuts_and_about(window):
    window.help.act_docs.trigger()
    viewer = window.help.viewer
    assert viewer.isVisible() and viewer.list.count() >= 3
    assert "NetCanvas" in viewer.browser.toPlainText()
    titles = [viewer.list.item(i).text() for i in range(viewer.list.count())]
    assert "Overview" in titles
    viewer.list.setCurrentRow(titles.index(next(t for t in titles if "architecture" in t.lower())))
    assert "rooms by concept" in viewer.browser.toPlainText()
    window.help.act_shortcuts.trigger()
    sheet = window.help.sheet.browser.toPlainText()
    for action in (window.act_run, window.act_find, window.act_layout, window.act_undo):
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        assert keys and keys in sheet
    assert "Double-click or Enter on a palette layer" in sheet
    box = window.help.show_about()
    text = box.text()
    assert "Python" in text and "Qt" in text and "torch" in text
    box.close()
    QApplication.processEvents()


def test_toolbar_run_pause_stop_drive_the_training(window, qtbot):
    window.open_example("mlp_digits")
    panel = window.training
    panel.run_overrides = {"epochs": 50, "batch_size": 1}
    with qtbot.waitSignal(panel.session.batchesArrived, timeout=120_000):
        QTest.mouseClick(_button(window, window.act_run), Qt.MouseButton.LeftButton)
    assert window.act_pause.isEnabled() and window.act_stop.isEnabled()
    assert not window.act_run.isEnabled()
    QTest.mouseClick(_button(window, window.act_pause), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.run.status == "paused", timeout=10_000)
    assert window.act_pause.isChecked() and panel.pause_button.isChecked()
    panel.resume()  # from the panel's own button: the toolbar follows
    assert not window.act_pause.isChecked()
    with qtbot.waitSignal(panel.session.runDone, timeout=10_000):
        QTest.mouseClick(_button(window, window.act_stop), Qt.MouseButton.LeftButton)
    assert panel.run.status == "stopped"
    assert window.act_run.isEnabled() and not window.act_pause.isEnabled()
