"""The inspector: forms from ParamSpecs; edits are undoable, merge, and refuse bad values."""

from __future__ import annotations

from builder.param_editors import (
    ChoiceEditor,
    FloatEditor,
    IntEditor,
    IntOrTupleEditor,
    IntTupleEditor,
    OptionalIntEditor,
)
from graph.events import Edge


def _chain(window):
    c = window.controller
    a = c.add_layer("Input", (0, 0), shape=(8,))
    b = c.add_layer("Dense", (250, 0), units=30)
    d = c.add_layer("Dense", (500, 0), units=1)
    c.connect_ports(Edge(a, 0, b, 0))
    c.connect_ports(Edge(b, 0, d, 0))
    return a, b, d


def test_editing_units_changes_the_edge_shape_label(window):
    a, b, d = _chain(window)
    window.analysis.run_now()
    label = window.scene.edges[Edge(b, 0, d, 0)]
    assert label.label == "(N, 30)"
    window.scene.select_nodes([b])
    editor = window.inspector.editors["units"]
    assert isinstance(editor, IntEditor)
    assert editor.box.minimum() == 1
    editor.box.setValue(64)
    assert window.controller.doc.attr(b, "params")["units"] == 64
    window.analysis.run_now()
    assert label.label == "(N, 64)"
    assert "64" in window.scene.nodes[b].subtitle
    assert "(N, 64)" in window.inspector.info.text()
    window.controller.stack.undo()
    assert window.controller.doc.attr(b, "params")["units"] == 30
    assert editor.box.value() == 30  # the form follows undo


def test_continuous_edits_merge_into_one_undo_step(window):
    a, b, d = _chain(window)
    stack = window.controller.stack
    window.scene.select_nodes([b])
    count = stack.count()
    box = window.inspector.editors["units"].box
    for value in (31, 32, 33, 34):
        box.setValue(value)
    assert stack.count() == count + 1
    stack.undo()
    assert window.controller.doc.attr(b, "params")["units"] == 30
    stack.redo()
    assert window.controller.doc.attr(b, "params")["units"] == 34
    # a different parameter is a new step
    window.inspector.editors["activation"].committed.emit("relu")
    assert stack.count() == count + 2


def test_choice_float_and_tuple_editors(window):
    c = window.controller
    x = c.add_layer("Input", (0, 0), shape=(1, 8, 8))
    conv = c.add_layer("Conv2d", (250, 0))
    drop = c.add_layer("Dropout", (500, 0))
    window.scene.select_nodes([conv])
    ks = window.inspector.editors["kernel_size"]
    assert isinstance(ks, IntTupleEditor)
    ks.edit.setText("5, 5")
    ks.edit.editingFinished.emit()
    assert c.doc.attr(conv, "params")["kernel_size"] == (5, 5)
    ks.edit.setText("5, 5, 5")  # wrong length: refused, nothing applied
    ks.edit.editingFinished.emit()
    assert c.doc.attr(conv, "params")["kernel_size"] == (5, 5)
    assert window.inspector.error_label.isVisibleTo(window.inspector)
    assert "kernel_size" in window.inspector.error_label.text()
    assert ks.edit.text() == "5, 5"
    padding = window.inspector.editors["padding"]
    assert isinstance(padding, IntOrTupleEditor)
    padding.words.setCurrentIndex(padding.words.findText("same"))
    padding.words.activated.emit(padding.words.currentIndex())
    assert c.doc.attr(conv, "params")["padding"] == "same"
    activation = window.inspector.editors["activation"]
    assert isinstance(activation, ChoiceEditor)
    window.scene.select_nodes([drop])
    p = window.inspector.editors["p"]
    assert isinstance(p, FloatEditor)
    p.edit.setText("2.5")  # out of bounds
    p.edit.editingFinished.emit()
    assert c.doc.attr(drop, "params")["p"] == 0.5
    assert "0.99" in window.inspector.error_label.text()
    p.edit.setText("0.25")
    p.edit.editingFinished.emit()
    assert c.doc.attr(drop, "params")["p"] == 0.25
    assert x in c.doc


def test_name_is_validated_and_trainable_switch(window):
    a, b, d = _chain(window)
    c = window.controller
    window.scene.select_nodes([b])
    edit = window.inspector.name_edit
    edit.setText("class")
    edit.editingFinished.emit()
    assert c.doc.attr(b, "name") == "dense_1"
    assert "keyword" in window.inspector.error_label.text()
    edit.setText(c.doc.attr(d, "name"))
    edit.editingFinished.emit()
    assert c.doc.attr(b, "name") == "dense_1"
    assert "already used" in window.inspector.error_label.text()
    edit.setText("hidden1")
    edit.editingFinished.emit()
    assert c.doc.attr(b, "name") == "hidden1"
    assert window.scene.nodes[b].title == "hidden1"
    window.inspector.trainable_box.setChecked(False)
    assert c.doc.attr(b, "trainable") is False
    assert window.scene.nodes[b].frozen
    c.stack.undo()
    assert c.doc.attr(b, "trainable") is True
    assert window.inspector.trainable_box.isChecked()


def test_multi_selection_edits_a_shared_parameter_on_all(window):
    c = window.controller
    ids = [c.add_layer("Dense", (0, 100.0 * i)) for i in range(3)]
    conv = c.add_layer("Conv1d", (300, 0))
    window.scene.select_nodes(ids + [conv])
    editors = window.inspector.editors
    assert "activation" in editors and "units" not in editors and "filters" not in editors
    count = c.stack.count()
    editors["activation"].committed.emit("tanh")
    assert all(c.doc.attr(n, "params")["activation"] == "tanh" for n in ids + [conv])
    assert c.stack.count() == count + 1
    c.stack.undo()
    assert all(c.doc.attr(n, "params")["activation"] == "none" for n in ids + [conv])
    window.scene.select_nodes(ids)
    window.inspector.editors["units"].box.setValue(7)
    assert all(c.doc.attr(n, "params")["units"] == 7 for n in ids)


def test_padding_takes_a_number_a_tuple_or_a_word(window):
    c = window.controller
    x = c.add_layer("Input", (0, 0), shape=(1, 8, 8))
    conv = c.add_layer("Conv2d", (250, 0), stride=(2, 2))
    c.connect_ports(Edge(x, 0, conv, 0))
    window.scene.select_nodes([conv])
    padding = window.inspector.editors["padding"]
    for text, value in (("1", 1), ("1, 2", (1, 2)), ("valid", "valid")):
        padding.edit.setText(text)
        padding.edit.editingFinished.emit()
        assert c.doc.attr(conv, "params")["padding"] == value
    for bad, fragment in (("1, 2, 3", "list of 2"), ("wide", "not a number"),
                          ("-1", "from 0")):
        padding.edit.setText(bad)
        padding.edit.editingFinished.emit()
        assert c.doc.attr(conv, "params")["padding"] == "valid"
        assert fragment in window.inspector.error_label.text(), bad
    c.set_params([conv], {"padding": (2, 1)})
    assert padding.edit.text() == "2, 1"  # follows the document
    assert padding.words.currentIndex() == -1
    c.stack.undo()
    assert padding.edit.text() == "valid" and padding.words.currentText() == "valid"


def test_optional_values_take_empty_text_as_not_set(window):
    c = window.controller
    sl = c.add_layer("Slice", (0, 0), start=1)
    window.scene.select_nodes([sl])
    stop = window.inspector.editors["stop"]
    assert isinstance(stop, OptionalIntEditor) and stop.edit.text() == ""
    stop.edit.setText("-1")
    stop.edit.editingFinished.emit()
    assert c.doc.attr(sl, "params")["stop"] == -1
    start = window.inspector.editors["start"]
    start.edit.setText("")
    start.edit.editingFinished.emit()
    assert c.doc.attr(sl, "params")["start"] is None
    start.edit.setText("one")
    start.edit.editingFinished.emit()
    assert "whole number" in window.inspector.error_label.text()
    up = c.add_layer("Upsample", (0, 100))
    window.scene.select_nodes([up])
    size = window.inspector.editors["size"]
    assert isinstance(size, IntTupleEditor)
    size.edit.setText("16, 16")
    size.edit.editingFinished.emit()
    assert c.doc.attr(up, "params")["size"] == (16, 16)
    size.edit.setText("")
    size.edit.editingFinished.emit()
    assert c.doc.attr(up, "params")["size"] is None


def test_initializer_defaults_are_a_model_setting_that_undoes(window):
    c = window.controller
    window.scene.select_nodes([])
    box = window.inspector.initializers_box
    assert box is not None and box.currentData() == "pytorch"
    count = c.stack.count()
    box.setCurrentIndex(box.findData("keras"))
    box.activated.emit(box.currentIndex())
    assert c.doc.section("model")["initializers"] == "keras"
    assert c.stack.count() == count + 1 and not c.stack.isClean()
    c.stack.undo()
    assert c.doc.section("model").get("initializers", "pytorch") == "pytorch"
    assert box.currentData() == "pytorch"  # the form follows undo


def test_a_split_node_draws_one_output_port_per_piece(window):
    c = window.controller
    x = c.add_layer("Input", (0, 0), shape=(6,))
    chunk = c.add_layer("Chunk", (250, 0))
    c.connect_ports(Edge(x, 0, chunk, 0))
    item = window.scene.nodes[chunk]
    assert len(item.outputs) == 2
    c.set_params([chunk], {"chunks": 3})
    assert len(item.outputs) == 3
    lstm = c.add_layer("LSTM", (0, 200))
    assert len(window.scene.nodes[lstm].inputs) == 3  # sequence, h_0, c_0
    assert len(window.scene.nodes[lstm].outputs) == 3  # output, h_n, c_n
    c.stack.undo()
    c.stack.undo()
    assert len(item.outputs) == 2
