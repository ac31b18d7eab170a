"""Transfer learning in the app: copy the lower layers of another project with their weights
(frozen, one undo step, mismatches listed), frozen layers drawn differently, per-layer
multipliers and trainable switches as one step, "unfreeze all and fine-tune at lr/10"."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from builder.training.panel import weights_path_for
from graph import project
from graph.edits import Connect, Disconnect
from graph.events import Edge
from graph.sketch import Sketch

TRAIN = {"epochs": 2, "batch_size": 64, "optimizer": "adam", "lr": 0.003, "seed": 0}
DATA = {"dataset": "digits_flat", "validation_split": 0.2, "seed": 0}


def _source():
    s = Sketch("Source")
    x = s.add("Input", shape=(64,), name="pixels")
    h1 = s.add("Dense", x, units=48, activation="relu", name="hidden1")
    h2 = s.add("Dense", h1, units=32, activation="relu", name="hidden2")
    s.add("Output", s.add("Dense", h2, units=10, name="head"), loss="cross_entropy")
    s.settings("data", **DATA).settings("training", **TRAIN)
    return s.doc


def _target(hidden2_units=None):
    s = Sketch("Target")
    x = s.add("Input", shape=(64,), name="pixels")
    if hidden2_units:
        h1 = s.add("Dense", x, units=48, activation="relu", name="hidden1")
        x = s.add("Dense", h1, units=hidden2_units, activation="relu", name="hidden2")
    s.add("Output", s.add("Dense", x, units=10, name="new_head"), loss="cross_entropy")
    s.settings("data", **DATA).settings("training", **TRAIN)
    return s.doc


@pytest.fixture
def source_project(tmp_path):
    from backend.model.compiler import compile_document

    doc = _source()
    path = tmp_path / "source.ncproj.json"
    project.save(doc, path)
    torch.manual_seed(3)
    state = {k: v.clone() for k, v in compile_document(doc).module.state_dict().items()}
    save_file({k: v.contiguous() for k, v in state.items()}, str(weights_path_for(path)))
    return path, state


def _open(window, doc):
    window.files.open_document(doc, doc.name)
    return window.workflows.show_transfer()


def test_copy_lower_layers_frozen_as_one_undo_step(window, qtbot, source_project):
    path, state = source_project
    dialog = _open(window, _target())
    assert dialog.choose_project(str(path))
    listed = [dialog.layers.topLevelItem(i).text(0)
              for i in range(dialog.layers.topLevelItemCount())]
    assert listed == ["hidden1", "hidden2", "head"]
    assert dialog.checked_layers() == ["hidden1", "hidden2"]  # the head is left out
    stack = window.controller.stack
    index = stack.index()
    assert dialog.copy_selected()
    assert stack.index() == index + 1  # one undo step
    doc = window.controller.doc
    for name in ("hidden1", "hidden2"):
        node = doc.node(doc.find(name))
        assert node.trainable is False
        # frozen layers are drawn differently on the canvas
        assert window.scene.nodes[node.id].frozen
    assert "Connect hidden1" in dialog.status.text()
    # the copied tensors became the design's weights, bit for bit
    weights = window.training.trained_state
    assert torch.equal(weights["hidden1.weight"], state["hidden1.weight"])
    assert torch.equal(weights["hidden2.bias"], state["hidden2.bias"])
    # wire the copied stack in, then the design builds with them
    head = doc.find("new_head")
    window.controller.push(Disconnect(doc.in_edges(head)[0]))
    window.controller.push(Connect(Edge(doc.find("pixels"), 0, doc.find("hidden1"), 0)))
    window.controller.push(Connect(Edge(doc.find("hidden2"), 0, head, 0)))
    from graph.validation import validate
    assert not validate(doc)
    # undo the wiring and the copy: the layers are gone again
    for _ in range(4):
        stack.undo()
    assert doc.find("hidden1") is None and stack.index() == index


def test_shape_mismatch_is_listed_not_loaded(window, source_project):
    path, state = source_project
    dialog = _open(window, _target(hidden2_units=16))
    assert dialog.choose_project(str(path))
    assert dialog.copy_selected()
    report = dialog.report
    assert report.copied == ["hidden1"] and not report.added
    assert report.shape_mismatch and report.shape_mismatch[0][0] == "hidden2"
    text = dialog.report_view.toPlainText()
    assert "hidden2.weight: shape (16, 48) here, (32, 48) in the source" in text
    assert "color: #c62828" in dialog.status.styleSheet()
    weights = window.training.trained_state
    assert torch.equal(weights["hidden1.weight"], state["hidden1.weight"])
    assert weights["hidden2.weight"].shape == (16, 48)  # the design's own, not the source's


def test_weights_file_loads_by_name_and_missing_weights_ask(window, source_project, tmp_path):
    path, state = source_project
    dialog = _open(window, _source())
    assert dialog.choose_weights(str(weights_path_for(path)))
    dialog.set_checked(["hidden1", "hidden2", "head"])
    assert dialog.copy_selected()
    assert dialog.report.copied == ["hidden1", "hidden2", "head"]
    assert torch.equal(window.training.trained_state["head.weight"], state["head.weight"])
    # a project without weights beside it: the dialog asks for them; cancelling says why
    bare = tmp_path / "bare.ncproj.json"
    project.save(_source(), bare)

    class NoAnswer:
        def open_file(self, *args):
            return None

    window.workflows.ask = NoAnswer()
    assert not dialog.choose_project(str(bare))
    assert "no trained weights beside it" in dialog.status.text()


def test_trainable_switches_multipliers_and_fine_tune(window):
    doc = _source()
    dialog = _open(window, doc)
    stack = window.controller.stack
    rows = {dialog.table.item(r, 0).text(): r for r in range(dialog.table.rowCount())}
    assert set(rows) == {"hidden1", "hidden2", "head"}
    from PySide6.QtCore import Qt
    for name in ("hidden1", "hidden2"):
        dialog.table.item(rows[name], 2).setCheckState(Qt.CheckState.Unchecked)
    dialog.table.cellWidget(rows["head"], 3).setValue(2.0)
    index = stack.index()
    assert dialog.apply_training()
    assert stack.index() == index + 1
    doc = window.controller.doc
    assert [n.name for n in doc.nodes() if not n.trainable] == ["hidden1", "hidden2"]
    assert doc.section("training")["lr_multipliers"] == {"head": 2.0}
    assert window.scene.nodes[doc.find("hidden1")].frozen
    # unfreeze all and fine-tune at lr/10: one step
    assert dialog.fine_tune()
    assert stack.index() == index + 2
    assert all(n.trainable for n in doc.nodes())
    assert doc.section("training")["lr"] == pytest.approx(0.0003)
    assert "lr_multipliers" not in doc.section("training")
    assert not window.scene.nodes[doc.find("hidden1")].frozen
    stack.undo()
    assert doc.section("training")["lr"] == pytest.approx(0.003)
    assert not doc.node(doc.find("hidden1")).trainable
    # the table follows undo
    assert dialog.table.item(rows["hidden1"], 2).checkState() == Qt.CheckState.Unchecked


def test_scenario_6_train_the_new_head_on_frozen_copied_layers_then_fine_tune(
        window, qtbot, source_project):
    """SCENARIOS §6 in the app: copy, freeze, train the head (the copied weights stay
    bit-identical), then unfreeze all and fine-tune at lr/10 (now they change)."""
    path, state = source_project
    dialog = _open(window, _target())
    assert dialog.choose_project(str(path)) and dialog.copy_selected()
    doc = window.controller.doc
    head = doc.find("new_head")
    window.controller.push(Disconnect(doc.in_edges(head)[0]))
    window.controller.push(Connect(Edge(doc.find("pixels"), 0, doc.find("hidden1"), 0)))
    window.controller.push(Connect(Edge(doc.find("hidden2"), 0, head, 0)))
    panel = window.training
    assert panel.continue_box.isEnabled() and panel.continue_box.isChecked()
    with qtbot.waitSignal(panel.session.runDone, timeout=60_000):
        assert window.run_training()
    assert panel.run.status == "completed", panel.status.text()
    trained = panel.trained_state
    for key in ("hidden1.weight", "hidden1.bias", "hidden2.weight", "hidden2.bias"):
        assert torch.equal(trained[key], state[key]), f"frozen {key} changed"
    head_before = trained["new_head.weight"].clone()
    assert dialog.fine_tune()  # unfreeze all, lr / 10, one undo step
    assert all(doc.attr(n, "trainable") for n in doc.node_ids())
    with qtbot.waitSignal(panel.session.runDone, timeout=60_000):
        assert window.run_training()
    tuned = panel.trained_state
    assert not torch.equal(tuned["hidden1.weight"], state["hidden1.weight"])
    # It continued from the trained head: Adam at lr 3e-4 moves each weight by at most ~3e-4
    # a step, so after two short epochs the head is close to where it was; fresh weights
    # would differ by about their own size.
    moved = (tuned["new_head.weight"] - head_before).abs().mean()
    assert moved < 0.2 * head_before.abs().mean()
    window.training.shutdown()


def test_a_block_instance_is_copied_with_its_definition_frozen_whole(window, tmp_path):
    """Copy ResNet stages (block instances) from a project: the definitions come along, the
    list reads the block's class and counts its tensors, and the instance freezes whole."""
    from backend.model.compiler import compile_document
    from graph.examples import load_example

    src = load_example("resnet_blocks_digits")
    path = tmp_path / "resnet.ncproj.json"
    project.save(src, path)
    state = {k: v.clone() for k, v in compile_document(src).module.state_dict().items()}
    save_file({k: v.contiguous() for k, v in state.items()}, str(weights_path_for(path)))
    s = Sketch("Head")
    x = s.add("Input", shape=(1, 8, 8), name="image")
    s.add("Output", s.add("Dense", s.add("Flatten", x), units=10, name="new_fc"),
          loss="cross_entropy")
    dialog = _open(window, s.doc)
    assert dialog.choose_project(str(path))
    rows = {dialog.layers.topLevelItem(i).text(0): dialog.layers.topLevelItem(i)
            for i in range(dialog.layers.topLevelItemCount())}
    assert rows["layer1"].text(1) == "block BasicBlock"
    assert "tensors" in rows["layer1"].text(2) and "layer1" not in rows["layer1"].text(2)
    assert rows["layer1"].text(3) == "new block instance"
    dialog.set_checked(["stem", "stem_bn", "layer1"])
    index = window.controller.stack.index()
    assert dialog.copy_selected()
    assert window.controller.stack.index() == index + 1  # definitions and layers: one step
    doc = window.controller.doc
    layer1 = doc.find("layer1")
    assert doc.attr(layer1, "type") == "Block" and doc.node(layer1).trainable is False
    assert doc.block(doc.attr(layer1, "params")["block"]).name == "BasicBlock"
    weights = window.training.trained_state
    assert torch.equal(weights["layer1.1.conv2.weight"], state["layer1.1.conv2.weight"])
    # the training table lists the instance as one row, with its class
    table = {dialog.table.item(r, 0).text(): dialog.table.item(r, 1).text()
             for r in range(dialog.table.rowCount())}
    assert table["layer1"] == "block BasicBlock"
    window.controller.stack.undo()
    assert doc.find("layer1") is None and len(doc.block_ids()) == 0
