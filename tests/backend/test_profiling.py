"""Profiling: forward/backward ms per layer from torch.profiler, a chrome://tracing trace, and
weight/gradient histograms per layer per epoch."""

import json

import pytest

from backend.training.control import Control
from backend.training.events import EpochEnd, Finished
from backend.training.trainer import Trainer
from backend.workflows.profiling import HistogramRecorder, layer_histograms, profile_layers
from graph.examples import load_example


def _cfg(doc, **over):
    return {**doc.section("training"), "device": "cpu", "threads": 1, **over}


def test_per_layer_times_and_trace(tmp_path):
    doc = load_example("cnn_residual")
    trace = tmp_path / "trace.json"
    prof = profile_layers(doc, steps=3, config=_cfg(doc), trace_path=trace)
    print("\n" + prof.table())
    assert [t.layer for t in prof.layers] == ["conv1", "bn1", "conv2", "conv3", "logits"]
    assert all(t.forward_ms > 0 and t.backward_ms > 0 for t in prof.layers)
    assert prof.step_ms >= sum(t.forward_ms + t.backward_ms for t in prof.layers) * 0.9
    events = json.loads(trace.read_text())["traceEvents"]
    names = {e.get("name") for e in events}
    assert {"forward:conv1", "backward:conv3", "step"} <= names
    assert prof.trace == str(trace) and prof.steps == 3


def test_profile_leaves_no_hooks_and_obeys_stop():
    doc = load_example("mlp_digits")
    control = Control()
    control.stop()
    with pytest.raises(ValueError, match="stopped before the first step"):
        profile_layers(doc, steps=2, config=_cfg(doc), control=control)


def test_histograms_per_layer_per_epoch():
    doc = load_example("mlp_digits")
    trainer = Trainer(doc, config=_cfg(doc, epochs=2))
    seen = []
    recorder = HistogramRecorder(trainer, bins=20, forward=seen.append)
    assert isinstance(trainer.run(recorder.callback), Finished)
    assert len(recorder.epochs) == 2 and sum(isinstance(e, EpochEnd) for e in seen) == 2
    first = recorder.epochs[0]
    assert set(first) == {"hidden1", "hidden2", "logits"}
    hist = first["hidden1"]["weights"]
    assert sum(hist.counts) == 64 * 300 + 300 and len(hist.edges) == 21
    assert sum(first["logits"]["gradients"].counts) == 100 * 10 + 10
    assert recorder.epochs[0]["hidden2"]["weights"].counts != \
        recorder.epochs[1]["hidden2"]["weights"].counts  # the weights moved between epochs
    fresh = layer_histograms(trainer.module, {"logits": "logits"}, bins=5)
    assert len(fresh["logits"]["weights"].counts) == 5


def test_a_design_with_blocks_is_timed_per_block_instance(tmp_path):
    """One row per block instance, nested ones too, by module path (as in the state-dict
    keys) with its definition; an instance's time includes its inner instances'."""
    from graph.edits import SetSection

    doc = load_example("resnet_blocks_digits")
    training = doc.section("training")
    training.update(device="cpu", threads=1)
    doc.apply(SetSection("training", training))
    profile = profile_layers(doc, steps=3, warmup=1, trace_path=tmp_path / "t.json")
    assert [t.layer for t in profile.layers] == ["stem", "stem_bn", "layer1", "layer2", "fc"]
    rows = [(b.path, b.block) for b in profile.blocks]
    assert rows == [("layer1.0", "BasicBlock"), ("layer1.1", "BasicBlock"),
                    ("layer2", "Stage"), ("layer2.0", "DownBlock"),
                    ("layer2.0.downsample", "Projection"), ("layer2.1", "BasicBlock")]
    times = {b.path: b for b in profile.blocks}
    assert all(b.forward_ms > 0 and b.backward_ms > 0 for b in profile.blocks)
    layer2 = next(t for t in profile.layers if t.layer == "layer2")
    assert times["layer2"].forward_ms == layer2.forward_ms  # the same module: the same range
    assert times["layer2.0"].forward_ms >= times["layer2.0.downsample"].forward_ms
    assert "layer1.0 (BasicBlock)" in profile.table()
    events = json.loads((tmp_path / "t.json").read_text())["traceEvents"]
    assert any(e.get("name") == "block-forward:layer1.0" for e in events)
