"""Transfer learning: copy the lower layers of a trained MLP into a new design, freeze them,
train the new head (frozen weights bit-identical), then unfreeze and fine-tune at lr/10."""

import pytest
import torch
from safetensors.torch import save_file

from backend.export.weights import load_state_by_name
from backend.training.events import Finished
from backend.training.trainer import Trainer
from backend.workflows.transfer import (
    TransferError,
    copy_layers,
    fine_tune,
    freeze,
    frozen_layers,
    set_lr_multipliers,
)
from graph.sketch import Sketch

TRAIN = {"epochs": 3, "batch_size": 64, "optimizer": "adam", "lr": 0.003, "device": "cpu",
         "threads": 1, "seed": 0}
DATA = {"dataset": "digits_flat", "validation_split": 0.2, "seed": 0}


def _source():
    s = Sketch("Source")
    x = s.add("Input", shape=(64,), name="pixels")
    h1 = s.add("Dense", x, units=48, activation="relu", name="hidden1")
    h2 = s.add("Dense", h1, units=32, activation="relu", name="hidden2")
    s.add("Output", s.add("Dense", h2, units=10, name="head"), loss="cross_entropy")
    s.settings("data", **DATA).settings("training", **TRAIN)
    return s.doc


def _target(hidden2_units=32):
    """A new design: the same input, no hidden layers yet, a new 10-way head."""
    s = Sketch("Target")
    x = s.add("Input", shape=(64,), name="pixels")
    if hidden2_units != 32:
        h1 = s.add("Dense", x, units=48, activation="relu", name="hidden1")
        x = s.add("Dense", h1, units=hidden2_units, activation="relu", name="hidden2")
    s.add("Output", s.add("Dense", x, units=10, name="new_head"), loss="cross_entropy")
    s.settings("data", **DATA).settings("training", **TRAIN)
    return s.doc


def _train(doc, state=None):
    trainer = Trainer(doc)
    trainer.prepare()
    if state is not None:
        report = load_state_by_name(trainer.module, state)
        assert not report.shape_mismatch
    result = trainer.run()
    assert isinstance(result, Finished), result
    return trainer


@pytest.fixture(scope="module")
def trained_source():
    src = _source()
    trainer = _train(src)
    return src, {k: v.clone() for k, v in trainer.module.state_dict().items()}


def test_copy_freeze_train_head_then_fine_tune(trained_source, tmp_path):
    src, state = trained_source
    path = tmp_path / "source.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    dst = _target()
    edit, weights, report = copy_layers(src, path, dst, ["hidden1", "hidden2"])
    assert report.complete and report.copied == ["hidden1", "hidden2"]
    assert report.added == ["hidden1", "hidden2"]
    dst.apply(edit)
    # connect the copied stack: input → hidden1 (copied edge hidden1→hidden2 exists), hidden2 →
    # the new head instead of the input
    from graph.edits import Connect, Disconnect
    from graph.events import Edge
    head = dst.find("new_head")
    dst.apply(Disconnect(dst.in_edges(head)[0]))
    dst.apply(Connect(Edge(dst.find("pixels"), 0, dst.find("hidden1"), 0)))
    dst.apply(Connect(Edge(dst.find("hidden2"), 0, head, 0)))
    assert dst.in_edges(dst.find("hidden2"))[0].src == dst.find("hidden1")
    dst.apply(freeze(dst, ["hidden1", "hidden2"]))
    assert frozen_layers(dst) == ["hidden1", "hidden2"]

    head_trainer = _train(dst, weights)
    after = head_trainer.module.state_dict()
    for key, value in weights.items():  # frozen: bit-identical after training
        assert torch.equal(after[key], value), key
    (metrics,) = head_trainer.history[-1]["validation"].values()
    acc = metrics["accuracy"]
    assert acc > 0.8, acc  # the copied features are good enough for a linear head

    lr = dst.section("training")["lr"]
    dst.apply(fine_tune(dst))
    assert frozen_layers(dst) == [] and dst.section("training")["lr"] == pytest.approx(lr / 10)
    tuned = _train(dst, {k: v.clone() for k, v in after.items()})
    assert tuned.optimizer.param_groups[0]["lr"] == pytest.approx(lr / 10)
    changed = tuned.module.state_dict()
    assert not torch.equal(changed["hidden1.weight"], after["hidden1.weight"])


def test_shape_mismatch_is_listed_not_loaded(trained_source):
    src, state = trained_source
    dst = _target(hidden2_units=16)
    edit, weights, report = copy_layers(src, state, dst, ["hidden1", "hidden2"])
    assert edit is None  # both layers exist already
    assert report.copied == ["hidden1"]
    assert report.shape_mismatch[0][:2] == ("hidden2", "weight")
    assert "hidden2: weight has shape (16, 48) here but (32, 48)" in report.summary()
    assert set(weights) == {"hidden1.weight", "hidden1.bias"}


def test_unknown_layer_and_bad_file_are_messages(trained_source, tmp_path):
    src, state = trained_source
    with pytest.raises(TransferError, match="no layer called nope"):
        copy_layers(src, state, _target(), ["nope"])
    (tmp_path / "bad.safetensors").write_bytes(b"junk")
    with pytest.raises(TransferError, match="Cannot read the weights file"):
        copy_layers(src, tmp_path / "bad.safetensors", _target(), ["hidden1"])


def test_lr_multipliers_reach_the_optimizer_and_zero_holds_a_layer(trained_source):
    src, state = trained_source
    doc = src.copy()
    doc.apply(set_lr_multipliers(doc, {"hidden1": 0.0, "hidden2": 0.1}))
    assert doc.section("training")["lr_multipliers"] == {"hidden1": 0.0, "hidden2": 0.1}
    trainer = Trainer(doc)
    trainer.prepare()
    load_state_by_name(trainer.module, state)
    assert isinstance(trainer.run(), Finished)
    lrs = {g["lr_mult"]: g["lr"] for g in trainer.optimizer.param_groups}
    assert lrs == pytest.approx({1.0: 0.003, 0.0: 0.0, 0.1: 0.0003})
    after = trainer.module.state_dict()
    assert torch.equal(after["hidden1.weight"], state["hidden1.weight"])
    assert not torch.equal(after["hidden2.weight"], state["hidden2.weight"])
    assert set_lr_multipliers(doc, {"hidden1": 0.0}) is None  # no change, no edit


def test_unknown_multiplier_layer_fails_clearly(trained_source):
    src, _ = trained_source
    doc = src.copy()
    section = doc.section("training")
    section["lr_multipliers"] = {"ghost": 0.5}
    result = Trainer(doc, config=section).run()
    assert "names the layer 'ghost'" in result.message


def _resnet_target():
    """A new design for the same 8×8 digits: an input and a new head, no backbone yet."""
    s = Sketch("DigitsHead")
    x = s.add("Input", shape=(1, 8, 8), name="image")
    pool = s.add("AdaptiveAvgPool2d", x, output_size=(1, 1), name="avgpool")
    head = s.add("Dense", s.add("Flatten", pool, name="flatten"), units=10, name="new_fc")
    s.add("Output", head, loss="cross_entropy", name="digit")
    s.settings("data", dataset="digits", validation_split=0.2, seed=0)
    s.settings("training", epochs=1, batch_size=64, optimizer="adam", lr=0.003, seed=0,
               device="cpu", threads=1)
    return s.doc


def test_a_trained_block_is_copied_with_its_definition_and_weights_and_stays_frozen():
    from graph.edits import Connect, Disconnect
    from graph.events import Edge
    from graph.examples import load_example

    src = load_example("resnet_blocks_digits")
    section = src.section("training")
    section.update(epochs=2, device="cpu", threads=1)
    source = Trainer(src, config=section)
    source.prepare()
    assert isinstance(source.run(), Finished)
    state = {k: v.clone() for k, v in source.module.state_dict().items()}

    dst = _resnet_target()
    backbone = ["stem", "stem_bn", "stem_relu", "layer1", "layer2"]
    edit, weights, report = copy_layers(src, state, dst, backbone)
    weighted = ["stem", "stem_bn", "layer1", "layer2"]  # (a ReLU has nothing to copy)
    assert report.complete and report.copied == weighted and report.added == backbone
    dst.apply(edit)
    # the instances came with their definitions (and the ones those use), under their names
    names = {dst.block(b).name for b in dst.block_ids()}
    assert {"BasicBlock", "Stage"} <= names
    assert set(weights) == {k for k in state if k.split(".")[0] in
                            {"stem", "stem_bn", "layer1", "layer2"}}
    # wire the copied backbone in: image → stem, layer2 → avgpool
    pool = dst.find("avgpool")
    dst.apply(Disconnect(dst.in_edges(pool)[0]))
    dst.apply(Connect(Edge(dst.find("image"), 0, dst.find("stem"), 0)))
    dst.apply(Connect(Edge(dst.find("layer2"), 0, pool, 0)))
    dst.apply(freeze(dst, backbone))

    head = _train(dst, weights)
    after = head.module.state_dict()
    for key, value in weights.items():  # frozen, batch-norm statistics included
        assert torch.equal(after[key], value), key
    (metrics,) = head.history[-1]["validation"].values()
    assert metrics["accuracy"] > 0.5, metrics  # the copied features serve the new head

    # a second copy into a design that has them: the definitions are reused, not doubled
    blocks = len(dst.block_ids())
    again, _, report2 = copy_layers(src, state, dst, backbone)
    assert again is None and report2.copied == weighted and len(dst.block_ids()) == blocks


def test_a_block_built_differently_here_is_listed_not_loaded():
    from backend.model.compiler import compile_document
    from graph.edits import SetParams
    from graph.examples import load_example

    src = load_example("resnet_blocks_digits")
    state = compile_document(src).module.state_dict()
    dst = src.copy()
    layer1 = dst.find("layer1")
    dst.apply(SetParams(layer1, {"repeat": 1}))  # one BasicBlock here, two in the source
    _, weights, report = copy_layers(src, state, dst, ["layer1", "stem"])
    assert report.copied == ["stem"] and not report.complete
    assert report.missing and all(layer == "layer1" for layer, _ in report.missing)
    assert any(t.startswith("1.") for _, t in report.missing)
    assert "this design's layer has not" in report.summary()
    assert not any(k.startswith("layer1.") for k in weights)
