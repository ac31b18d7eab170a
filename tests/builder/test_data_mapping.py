"""The data mapping a person can use: a column picker per Input (the data set's columns with
their types and first values), typed ranges checked as they are typed, the targets listed per
Output, the built-in data sets described, a new design with a validation split."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from graph import Sketch
from graph.edits import SetSection

LEFT, NONE = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier


def _two_inputs():
    s = Sketch("WideDeep")
    wide = s.add("Input", shape=(3,), name="wide")
    deep = s.add("Input", shape=(3,), name="deep", pos=(0, 200))
    s.add("Output", s.add("Dense", s.add("Concatenate", wide, deep), units=1), name="out")
    s.doc.apply(SetSection("data", {"dataset": "diabetes"}))
    return s.doc


def _ready(window, qtbot, doc):
    window.controller.set_document(doc)
    window.show_training()
    window.target_shapes.start()
    form = window.training.form
    qtbot.waitUntil(lambda: form.facts is not None and form.picker.isVisible(), timeout=60000)
    return form


def _drag(picker, name, first, last, modifier=NONE):
    viewport = picker.viewport()
    a = picker.visualRect(picker.check_cell(first, name)).center()
    b = picker.visualRect(picker.check_cell(last, name)).center()
    QTest.mousePress(viewport, LEFT, modifier, a)
    QTest.mouseMove(viewport, b)
    QTest.mouseRelease(viewport, LEFT, modifier, b)


def test_the_picker_lists_the_columns_and_choosing_writes_the_mapping(window, qtbot):
    form = _ready(window, qtbot, _two_inputs())
    picker, doc, stack = form.picker, window.controller.doc, window.controller.stack
    assert picker.rowCount() == 10 and picker.inputs == ["wide", "deep"]
    assert picker.item(0, 0).text() == "0  age" and picker.item(0, 1).text() == "number"
    assert len(picker.item(0, 2).text().split(", ")) == 3  # a few values
    assert "442 samples · 10 features" in form.data_facts.text()
    count = stack.count()
    _drag(picker, "wide", 0, 4)
    doc = window.controller.doc
    assert doc.section("data")["inputs"] == {"wide": {"features": [0, 1, 2, 3, 4]}}
    assert doc.attr(doc.find("wide"), "params")["shape"] == (5,)  # sized in the same step
    assert stack.count() == count + 1 and form.input_edits["wide"].text() == "0-4"
    _drag(picker, "deep", 9, 4)  # upwards works too
    assert doc.section("data")["inputs"]["deep"] == {"features": [4, 5, 6, 7, 8, 9]}
    assert doc.attr(doc.find("deep"), "params")["shape"] == (6,)
    # a click takes one column out (and its Input's size follows)
    QTest.mouseClick(picker.viewport(), LEFT, NONE,
                     picker.visualRect(picker.check_cell(9, "deep")).center())
    assert doc.section("data")["inputs"]["deep"] == {"features": [4, 5, 6, 7, 8]}
    assert picker.item(9, 4).checkState() == Qt.CheckState.Unchecked
    stack.undo()
    stack.undo()
    assert "deep" not in doc.section("data")["inputs"]
    assert doc.attr(doc.find("deep"), "params")["shape"] == (3,)
    assert picker.item(4, 4).checkState() == Qt.CheckState.Unchecked  # the picker follows undo
    assert picker.item(4, 3).checkState() == Qt.CheckState.Checked
    analysis = window.analysis
    analysis.start()
    assert analysis.run_now().problems == []


def test_typed_ranges_are_checked_as_typed(window, qtbot):
    form = _ready(window, qtbot, _two_inputs())
    edit, doc = form.input_edits["wide"], window.controller.doc
    edit.setFocus()
    QTest.keyClicks(edit, "0-4, 12")
    assert edit.property("problem") == ("Input 'wide': column 12 does not exist: the data set "
                                        "has 10 columns (0–9).")
    assert form.mapping_message.isVisible() and "column 12" in form.mapping_message.text()
    assert edit.toolTip() == edit.property("problem")
    QTest.keyClick(edit, Qt.Key.Key_Return)  # refused: nothing written
    assert "inputs" not in doc.section("data")
    QTest.keyClick(edit, Qt.Key.Key_Backspace)
    QTest.keyClick(edit, Qt.Key.Key_Backspace)
    QTest.keyClicks(edit, "7")
    assert not edit.property("problem") and not form.mapping_message.isVisible()
    QTest.keyClick(edit, Qt.Key.Key_Return)
    assert doc.section("data")["inputs"]["wide"] == {"features": [0, 1, 2, 3, 4, 7]}
    assert doc.attr(doc.find("wide"), "params")["shape"] == (6,)
    edit.selectAll()
    QTest.keyClicks(edit, "5-2")
    assert "runs backwards" in edit.property("problem")
    edit.selectAll()
    QTest.keyClicks(edit, "sex, bmi")  # names work too
    assert not edit.property("problem")


def test_outputs_pick_a_target_of_the_data_set(window, qtbot):
    form = _ready(window, qtbot, _two_inputs())
    box = form.output_rows["out"]["target"]
    assert [box.itemText(i) for i in range(box.count())] == ["target"]
    assert "values" in box.itemData(0, Qt.ItemDataRole.ToolTipRole)
    box.lineEdit().setFocus()
    QTest.keyClicks(box.lineEdit(), "price")
    assert "there is no target “price”" in box.lineEdit().property("problem")
    QTest.keyClick(box.lineEdit(), Qt.Key.Key_Return)
    assert "targets" not in window.controller.doc.section("data")
    box.lineEdit().selectAll()
    QTest.keyClicks(box.lineEdit(), "target")
    QTest.keyClick(box.lineEdit(), Qt.Key.Key_Return)
    assert window.controller.doc.section("data")["targets"] == {"out": {"target": "target"}}


def test_builtin_sets_are_listed_with_their_size_and_target(window):
    form = window.training.form
    combo = form.field("data.dataset").widget
    view = combo.view()
    index = combo.model().index(combo.findText("diabetes"), 0)
    from PySide6.QtWidgets import QStyleOptionViewItem

    option = QStyleOptionViewItem()
    combo.itemDelegate().initStyleOption(option, index)
    assert option.text == "diabetes  —  442 samples · 10 features · values (regression)"
    assert combo.itemData(combo.findText("iris"), Qt.ItemDataRole.ToolTipRole) == \
        "150 samples · 4 features · 3 classes"
    assert view.minimumWidth() > combo.fontMetrics().horizontalAdvance(option.text)
    assert combo.currentText() in ("iris",)  # the value is still the name


def test_images_need_no_columns(window, qtbot):
    s = Sketch("Digits")
    s.add("Output", s.add("Dense", s.add("Flatten", s.add("Input", shape=(1, 8, 8))),
                          units=10), name="digit", loss="cross_entropy")
    s.doc.apply(SetSection("data", {"dataset": "digits"}))
    window.controller.set_document(s.doc)
    window.show_training()
    window.target_shapes.start()
    form = window.training.form
    qtbot.waitUntil(lambda: form.facts is not None, timeout=60000)
    assert not form.picker.isVisible()
    assert "each Input takes the whole sample" in form.picker_note.text()


def test_a_new_design_holds_out_a_fifth_for_validation(window, dialogs):
    dialogs.name_answer = "Fresh"
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.controller.doc.section("data")["validation_split"] == 0.2
    assert window.training.form.field("data.validation_split").widget.value() == 20
    assert not window.files.is_modified()


@pytest.mark.usefixtures("training_process")
def test_a_regression_is_evaluated_on_its_first_split_with_a_scatter_and_units(window, qtbot):
    from tests.builder.training_helpers import train_to_end

    assert window.open_example("wide_and_deep")
    data = window.controller.doc.section("data")
    window.controller.push(SetSection("data", {**data, "test_split": 0.0}))
    panel = train_to_end(window, qtbot, None, epochs=2)
    assert panel.run.status == "completed", panel.status.text()
    loss_axis = panel.plots.epoch_plot.getAxis("left").labelText
    metric_axis = panel.plots.metric_plot.getAxis("left").labelText
    assert loss_axis == "loss (standardised)" and metric_axis == "mae (original)"
    panel.views.setCurrentWidget(panel.evaluation)
    view = panel.evaluation
    assert view.split_box.currentText() == "validation"  # the test split is empty
    view.evaluate_now()
    assert view.evaluated is not None and view.evaluated.split == "validation"
    assert view.chart.currentWidget() is view.scatter  # never a class grid
    metrics = {view.metrics.item(r, 1).text() for r in range(view.metrics.rowCount())}
    assert {"loss (standardised)", "mae (original units)"} <= metrics
    assert "original units" in view.scatter.getPlotItem().getAxis("bottom").labelText
