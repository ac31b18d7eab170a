"""The training workspace: Run gives the plots room in a Training view the user can leave, the
layout is not stuck after it (nor at the next launch), and the plots read in the dark look."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from builder.theme import apply_theme


def _settle(qtbot, window):
    QApplication.processEvents()
    qtbot.wait(20)  # dock resizes land in the next layout pass


def test_the_training_view_gives_room_and_gives_it_back(make_window, qtbot, settings):
    window = make_window()
    _settle(qtbot, window)
    before = window.bottom_dock.height()
    assert before < 0.45 * window.height()
    window.show_training()  # what Run does
    _settle(qtbot, window)
    assert window.training_view() and window.act_training_view.isChecked()
    assert window.bottom_dock.height() > 0.55 * window.height()
    assert window.bottom_tabs.currentIndex() == window._training_index
    # the toolbar's Training button (or Ctrl+T) switches back to the design
    button = window.toolbar.widgetForAction(window.act_training_view)
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    _settle(qtbot, window)
    assert not window.training_view()
    assert abs(window.bottom_dock.height() - before) <= 8
    QTest.keyClick(window, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    _settle(qtbot, window)
    assert window.training_view() and window.bottom_dock.height() > 0.55 * window.height()
    window.close()  # closed in the Training view
    again = make_window()
    _settle(qtbot, again)
    assert not again.training_view()
    assert again.bottom_dock.height() < 0.45 * again.height()  # the canvas has its height


def test_plots_confusion_matrix_and_run_list_read_in_the_dark(window, qtbot):
    from builder.training.history import RunRecord

    app = QApplication.instance()
    try:
        window.set_theme("dark")
        QApplication.processEvents()  # the palette reaches the widgets
        panel = window.training
        plots = panel.plots
        axis = plots.batch_plot.getAxis("left")
        assert axis.textPen().color().lightness() > 150  # light text on the dark panel
        assert plots.lr_curve.opts["pen"].color().lightness() > 150
        view = panel.evaluation
        lut = view.confusion.image.getColorMap().getColors()
        assert QColor(*lut[0][:3]).lightness() < 60  # no white grid on the dark palette
        assert view.confusion.counts.inks[0].lightness() > 150
        plots.add_run(RunRecord(1, "Run 1 · a design · iris", {}, {}))
        plots.run_list.resize(240, 80)
        plots.run_list.show()
        qtbot.waitExposed(plots.run_list)
        image = plots.run_list.viewport().grab().toImage()
        rect = plots.run_list.visualItemRect(plots.run_list.item(0))
        base = plots.run_list.palette().base().color().lightness()
        brightest = max(QColor(image.pixel(x, y)).lightness()
                        for x in range(rect.left(), rect.left() + 24)
                        for y in range(rect.top(), rect.bottom()))
        assert brightest - base > 60  # the check box's frame shows
        window.set_theme("light")
        assert view.confusion.counts.inks[0].lightness() < 100
    finally:
        apply_theme(app, "light")


def test_the_training_panel_fills_its_tab_and_scrolls_only_below_its_minimum(make_window, qtbot):
    """Its holder gives it the tab's size (a resizable QScrollArea gave it the height its
    word-wrapped labels and four plots prefer, ~1,090 px, and the plots scrolled away)."""
    window = make_window()
    _settle(qtbot, window)
    window.show_training()
    _settle(qtbot, window)
    holder = window.bottom_tabs.widget(window._training_index)
    panel = window.training
    qtbot.waitUntil(lambda: panel.height() == holder.viewport().height())
    assert not holder.verticalScrollBar().isVisible()
    for widget in panel.plots._widgets:  # all four plots in sight
        assert widget.mapTo(panel, widget.rect().bottomRight()).y() <= panel.height()
    window.leave_training_view()
    window.resizeDocks([window.bottom_dock], [150], Qt.Orientation.Vertical)
    _settle(qtbot, window)
    if holder.viewport().height() < panel.minimumSizeHint().height():  # too small: it scrolls
        qtbot.waitUntil(lambda: holder.verticalScrollBar().isVisible())
        assert panel.height() >= panel.minimumSizeHint().height()
