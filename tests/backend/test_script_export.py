"""The exported train.py reproduces the in-app loss trace on the CPU (same seed), needs nothing
of NetCanvas, and runs under torchrun with two CPU processes (gloo)."""

import json
import os
import subprocess
import sys

import pytest

from backend.export.script import ScriptExportError, export_training_script, training_script
from backend.training.events import Finished
from backend.training.trainer import Trainer
from graph.edits import SetSection
from graph.examples import load_example
from graph.sketch import Sketch

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": ""}


def _doc(name, **training):
    doc = load_example(name)
    section = doc.section("training")
    section.update(device="cpu", threads=1, **training)
    doc.apply(SetSection("training", section))
    return doc


def _app_trace(doc):
    trainer = Trainer(doc)
    assert isinstance(trainer.run(), Finished)
    return [(h["train_loss"], h["validation_loss"]) for h in trainer.history]


def _script_trace(folder):
    # run from a folder outside the repository: the script must not need NetCanvas
    proc = subprocess.run([sys.executable, "train.py", "--device", "cpu", "--history", "h.json"],
                          cwd=folder, capture_output=True, text=True, timeout=300, env=ENV)
    assert proc.returncode == 0, proc.stderr[-3000:]
    history = json.loads((folder / "h.json").read_text())
    return [(h["train_loss"], h["validation_loss"]) for h in history]


@pytest.mark.parametrize("name, training", [
    ("xor_mlp", {"epochs": 40}),
    ("mlp_digits", {"epochs": 3}),
    ("wide_and_deep", {"epochs": 3, "schedule": {"kind": "cosine", "warmup_epochs": 1},
                       "class_weights": None, "clip_grad_norm": 1.0}),
])
def test_script_reproduces_the_in_app_loss_trace(tmp_path, name, training):
    doc = _doc(name, **training)
    paths = export_training_script(doc, tmp_path)
    assert paths.model.name == "model.py" and paths.script.name == "train.py"
    app = _app_trace(doc)
    script = _script_trace(tmp_path)
    assert len(app) == len(script)
    diff = max(max(abs(a[0] - b[0]), abs((a[1] or 0) - (b[1] or 0))) for a, b in zip(app, script))
    print(f"{name}: {len(app)} epochs, max |app - script| = {diff:g}")
    assert diff <= 1e-6
    assert (tmp_path / "weights.safetensors").is_file()


def test_frozen_layers_multipliers_and_class_weights_reproduce(tmp_path):
    s = Sketch("Frozen")
    x = s.add("Input", shape=(4,), name="features")
    h = s.add("Dense", x, units=8, activation="relu", name="base", trainable=False)
    h2 = s.add("Dense", h, units=8, activation="tanh", name="mid")
    s.add("Output", s.add("Dense", h2, units=3, name="head"), loss="cross_entropy")
    s.settings("data", dataset="iris", seed=3)
    s.settings("training", epochs=4, batch_size=16, optimizer="sgd", lr=0.1, momentum=0.9,
               nesterov=True, class_weights="balanced", lr_multipliers={"mid": 0.5},
               device="cpu", threads=1, seed=7)
    export_training_script(s.doc, tmp_path)
    text = (tmp_path / "train.py").read_text()
    assert "FROZEN = ['base']" in text and "'lr_multipliers': {'mid': 0.5}" in text
    assert max(abs(a[0] - b[0]) for a, b in zip(_app_trace(s.doc), _script_trace(tmp_path))) \
        <= 1e-6


def test_runs_under_torchrun_with_two_processes(tmp_path):
    export_training_script(_doc("mlp_digits", epochs=2), tmp_path)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "train.py", "--device", "cpu", "--history", "h.json"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env=ENV)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    history = json.loads((tmp_path / "h.json").read_text())
    assert len(history) == 2 and history[1]["train_loss"] < history[0]["train_loss"]
    assert proc.stdout.count("epoch 1/2") == 1  # rank 0 alone prints


def _xor_csv_design(folder, **data):
    rows = ["a,b,y"] + [f"{a},{b},{a ^ b}" for _ in range(10) for a in (0, 1) for b in (0, 1)]
    (folder / "rows.csv").write_text("\n".join(rows) + "\n")
    doc = _doc("xor_mlp", epochs=20)
    section = doc.section("data")
    section.update(dataset="csv", path="rows.csv", validation_split=0.25, **data)
    doc.apply(SetSection("data", section))
    return doc


def test_data_from_files_travel_prepared_beside_the_script(tmp_path):
    doc = _xor_csv_design(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    written = export_training_script(doc, out, base_dir=tmp_path)
    assert written.data == out / "data.safetensors" and written.data.is_file()
    text = written.script.read_text()
    assert "def prepare():" in text and "data.safetensors" in text and "load_dataset" not in text
    trainer = Trainer(doc, base_dir=str(tmp_path))
    assert isinstance(trainer.run(), Finished)
    app = [(h["train_loss"], h["validation_loss"]) for h in trainer.history]
    script = _script_trace(out)
    assert len(app) == len(script) == 20
    assert max(max(abs(a[0] - b[0]), abs(a[1] - b[1])) for a, b in zip(app, script)) <= 1e-6


def test_what_cannot_be_scripted_is_refused_with_a_message(tmp_path):
    doc = _xor_csv_design(tmp_path, sample_weight="a")
    with pytest.raises(ScriptExportError, match="Per-sample weights"):
        training_script(doc, base_dir=tmp_path)
    with pytest.raises(ScriptExportError, match="does not exist"):
        export_training_script(_doc("xor_mlp"), tmp_path / "missing")


def test_augmented_training_reproduces_with_the_same_random_draws(tmp_path):
    doc = _doc("cnn_residual", epochs=1, batch_size=64)
    data = doc.section("data")
    data["augment"] = {"shift": 1, "rotate": 12, "noise": 0.05}
    doc.apply(SetSection("data", data))
    export_training_script(doc, tmp_path)
    app, script = _app_trace(doc), _script_trace(tmp_path)
    assert len(app) == len(script) == 1
    assert abs(app[0][0] - script[0][0]) <= 1e-6 and abs(app[0][1] - script[0][1]) <= 1e-6
