"""The exported train.py runs the app's own training code (the runtime, copied verbatim beside
it) and reproduces the in-app loss trace on the CPU.

The reproduction matrix: a covering set of short runs in which every optimizer, every schedule
kind and every loss appears at least once, with an early stop that triggers, class and sample
weights, augmentation, per-layer learning rates, frozen layers and two outputs. Every exported
script runs in one fresh interpreter in which NetCanvas (backend, graph, builder), Qt and optuna
cannot be imported; the built-in data sets' scripts run without safetensors too."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from backend.data.config import BUILTIN
from backend.data.dataset import Dataset
from backend.export.runtime import PACKAGE, runtime_files, runtime_sources
from backend.export.script import ScriptExportError, export_training_script, training_script
from backend.training.config import OPTIMIZERS, SCHEDULES
from backend.training.events import Finished
from backend.training.record import history_record
from backend.training.trainer import Trainer
from graph.catalogue import LOSSES
from graph.sketch import Sketch
from tests.backend.designs import csv_two_outputs

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": ""}
CPU = {"device": "cpu", "threads": 1}

#: Runs the exported scripts of the folders given on the command line, one after the other,
#: in this interpreter; what the scripts may not import fails to import.
DRIVER = textwrap.dedent("""
    import importlib.abc, os, runpy, sys
    BLOCKED = {"backend", "graph", "builder", "PySide6", "pyqtgraph", "optuna"}

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"train.py may not import {name}")
            return None

    sys.meta_path.insert(0, Block())
    for folder in sys.argv[1:]:
        with_data = os.path.exists(os.path.join(folder, "data.safetensors"))
        if with_data:
            BLOCKED.discard("safetensors")
        else:
            BLOCKED.add("safetensors")
        os.chdir(folder)
        sys.path.insert(0, folder)
        sys.argv = ["train.py", "--out", "run"]
        try:
            runpy.run_path("train.py", run_name="__main__")
        except SystemExit as exc:
            assert not exc.code, (folder, exc.code)
        sys.path.remove(folder)
        for name in [m for m in sys.modules if m == "model" or m.startswith("netcanvas_runtime")]:
            del sys.modules[name]
""")


def _dense_chain(name, n_in, *layers, **output):
    """Input → Dense layers ((units, activation, layer name, trainable) each) → one Output."""
    s = Sketch(name)
    h = s.add("Input", shape=(n_in,), name="features")
    for units, act, layer, trainable in layers:
        h = s.add("Dense", h, units=units, activation=act, name=layer, trainable=trainable)
    s.add("Output", h, name="out", **output)
    return s


def _iris_sgd(tmp):
    """SGD with Nesterov momentum, a step schedule after a warm-up, balanced class weights, a
    frozen layer and a per-layer learning rate."""
    s = _dense_chain("IrisSGD", 4, (8, "relu", "base", False), (8, "tanh", "mid", True),
                     (3, "none", "head", True), loss="cross_entropy")
    s.settings("data", dataset="iris", seed=3)
    s.settings("training", epochs=4, batch_size=16, optimizer="sgd", lr=0.1, momentum=0.9,
               nesterov=True, schedule={"kind": "step", "step_size": 1, "gamma": 0.7,
                                        "warmup_epochs": 0.5},
               class_weights="balanced", lr_multipliers={"mid": 0.5}, seed=7, **CPU)
    return s.doc, None


def _diabetes_rmsprop(tmp):
    """Two regression outputs (MAE and MSE, weighted), RMSprop, an exponential schedule,
    gradient clipping and an early stop that triggers."""
    s = Sketch("DiabetesTwo")
    x = s.add("Input", shape=(10,), name="features")
    h = s.add("Dense", x, units=16, activation="relu", name="hidden")
    s.add("Output", s.add("Dense", h, units=1, name="a_head"), name="a", loss="mae")
    s.add("Output", s.add("Dense", h, units=1, name="b_head"), name="b", loss="mse",
          loss_weight=0.5)
    s.settings("data", dataset="diabetes", validation_split=0.2)
    s.settings("training", epochs=40, batch_size=64, optimizer="rmsprop", lr=0.05,
               momentum=0.5, schedule={"kind": "exponential", "gamma": 0.95},
               clip_grad_norm=1.0, early_stopping_patience=1, **CPU)
    return s.doc, None


def _csv_adamw(tmp):
    """Data from a CSV file with a sample-weight column: a Huber regression and a binary
    cross-entropy output (its sigmoid left to the loss), AdamW, a plateau schedule."""
    s = csv_two_outputs(tmp)
    s.settings("data", validation_split=0.25, sample_weight="w")
    s.settings("training", epochs=6, batch_size=20, optimizer="adamw", lr=0.02,
               weight_decay=0.01, schedule={"kind": "plateau", "factor": 0.5, "patience": 0},
               **CPU)
    return s.doc, tmp


def _moons_adagrad(tmp):
    """Adagrad, a cosine schedule and the NLL loss on log-probabilities; mixed precision is on
    (it exports: on the CPU both runs train in float32)."""
    s = _dense_chain("MoonsNLL", 2, (16, "tanh", "hidden", True),
                     (2, "log_softmax", "head", True), loss="nll")
    s.settings("data", dataset="moons", options={"samples": 300, "noise": 0.2})
    s.settings("training", epochs=4, batch_size=32, optimizer="adagrad", lr=0.1,
               schedule={"kind": "cosine", "min_lr": 0.001}, amp=True, **CPU)
    return s.doc, None


def _digits_adam(tmp):
    """Image augmentation (shift, rotation, noise), Adam, a constant rate and class weights
    typed by hand."""
    s = Sketch("DigitsCNN")
    x = s.add("Input", shape=(1, 8, 8), name="image")
    c = s.add("Conv2d", x, filters=4, kernel_size=(3, 3), padding="same", activation="relu",
              name="conv")
    s.add("Output", s.add("Dense", s.add("Flatten", c), units=10, name="head"), name="digit",
          loss="cross_entropy")
    s.settings("data", dataset="digits", augment={"shift": 1, "rotate": 12, "noise": 0.05})
    s.settings("training", epochs=1, batch_size=64, optimizer="adam", lr=0.01,
               class_weights=[1, 2, 1, 1, 1, 1, 1, 1, 1, 3], **CPU)
    return s.doc, None


MATRIX = {"iris_sgd": _iris_sgd, "diabetes_rmsprop": _diabetes_rmsprop,
          "moons_adagrad": _moons_adagrad, "digits_adam": _digits_adam,
          "csv_adamw": _csv_adamw}


def _trace(history):
    return [(h["train_loss"], h["validation_loss"],
             {o: v["loss"] for o, v in h["train"].items()}) for h in history]


def test_the_matrix_covers_every_optimizer_schedule_and_loss(tmp_path):
    docs = [MATRIX[name](tmp_path)[0] for name in MATRIX]
    sections = [d.section("training") for d in docs]
    assert {t["optimizer"] for t in sections} == set(OPTIMIZERS)
    kinds = {t.get("schedule", {}).get("kind", "constant") for t in sections}
    assert kinds == set(SCHEDULES)
    losses = {d.attr(n, "params")["loss"] for d in docs for n in d.outputs()}
    assert losses == set(LOSSES) - {"none"}


def test_exported_scripts_reproduce_the_in_app_loss_traces(tmp_path):
    app, folders = {}, []
    for name, make in MATRIX.items():
        case = tmp_path / name
        case.mkdir()
        doc, base = make(case)
        out = case / "export"
        out.mkdir()
        export_training_script(doc, out, base_dir=base)
        trainer = Trainer(doc, base_dir=base)
        result = trainer.run()
        assert isinstance(result, Finished), result
        app[name] = (result.reason, _trace(trainer.history),
                     history_record(trainer, result, {}, project=None, model=doc.name))
        folders.append(str(out))
    assert app["diabetes_rmsprop"][0] == "early stopping"  # it triggers in the matrix
    proc = subprocess.run([sys.executable, "-c", DRIVER, *folders], capture_output=True,
                          text=True, timeout=600, env=ENV, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    for name, folder in zip(MATRIX, folders):
        history = json.loads((Path(folder) / "run" / "history.json").read_text())
        reason, trace, record = app[name]
        assert history["status"] == reason
        # the format of `netcanvas train` (backend.training.record, shared)
        assert set(history) == set(record) and history["model"] == record["model"]
        assert set(history["epochs"][0]) == set(record["epochs"][0])
        assert history["preprocessing"] == record["preprocessing"]
        script = _trace(history["epochs"])
        assert len(script) == len(trace), name
        worst = max(max(abs(a[0] - b[0]), abs((a[1] or 0) - (b[1] or 0)),
                        *(abs(a[2][o] - b[2][o]) for o in a[2])) for a, b in zip(trace, script))
        print(f"{name}: {len(trace)} epochs, max |app - script| = {worst:g}")
        assert worst <= 1e-6, name
        weights = "weights.safetensors" if name == "csv_adamw" else "weights.pt"
        assert (Path(folder) / "run" / weights).is_file()


def test_the_runtime_is_written_verbatim_and_imports_only_torch_and_numpy(tmp_path):
    doc, _ = _iris_sgd(tmp_path)
    written = export_training_script(doc, tmp_path)
    backend = ROOT / "backend"
    for rel in runtime_files():
        assert (tmp_path / PACKAGE / rel).read_bytes() == (backend / rel).read_bytes(), rel
    allowed_top = {"torch", "numpy", "__future__"} | set(sys.stdlib_module_names)
    lazy_only = {"sklearn", "safetensors", "tqdm"}
    for rel in runtime_files():
        tree = ast.parse((backend / rel).read_text())
        top_level = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module]
            else:
                continue
            for name in names:
                root = name.split(".")[0]
                ok = root in allowed_top or (root in lazy_only and id(node) not in top_level)
                assert ok, f"{rel}:{node.lineno} imports {name}"
    assert set(runtime_sources()) >= {"__init__.py", "training/__init__.py", "data/__init__.py"}
    text = written.script.read_text()
    assert "def " not in text and "class " not in text  # configuration and one call only
    assert "FROZEN = ['base']" in text and "'lr_multipliers': {'mid': 0.5}" in text
    ruff = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated",
                           str(written.script), str(written.model)], capture_output=True,
                          text=True)
    assert ruff.returncode == 0, ruff.stdout


def test_runs_under_torchrun_with_two_processes(tmp_path):
    doc, _ = _iris_sgd(tmp_path)
    export_training_script(doc, tmp_path)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "train.py", "--epochs", "2"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env=ENV)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert [e["epoch"] for e in history["epochs"]] == [1, 2]
    assert proc.stdout.count("epoch 1/2") == 1  # rank 0 alone prints
    assert "2 processes" in proc.stdout


def test_the_cli_writes_the_same_files_as_the_app(tmp_path):
    from backend.cli.main import main
    from graph import project

    doc, _ = _csv_adamw(tmp_path)
    path = tmp_path / "csv.ncproj.json"
    project.save(doc, path)
    app = tmp_path / "app"
    app.mkdir()
    export_training_script(doc, app, base_dir=tmp_path)
    assert main(["export", str(path), "--format", "script", "-o", str(tmp_path / "cli")]) == 0
    names = sorted(str(p.relative_to(app)) for p in app.rglob("*") if p.is_file())
    assert names == sorted(str(p.relative_to(tmp_path / "cli"))
                           for p in (tmp_path / "cli").rglob("*") if p.is_file())
    for name in names:
        if name.endswith(".safetensors"):  # its header's key order is not fixed
            a, b = Dataset.load(app / name), Dataset.load(tmp_path / "cli" / name)
            assert torch.equal(a.x, b.x) and torch.equal(a.sample_weight, b.sample_weight)
            assert a.feature_names == b.feature_names and list(a.targets) == list(b.targets)
            continue
        assert (app / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name


def test_what_cannot_be_scripted_is_refused_with_a_message(tmp_path):
    doc, _ = _iris_sgd(tmp_path)
    section = doc.section("training")
    section["lr"] = "fast"
    from graph.edits import SetSection

    doc.apply(SetSection("training", section))
    with pytest.raises(ScriptExportError, match="'lr' = 'fast'"):
        training_script(doc)
    with pytest.raises(ScriptExportError, match="does not exist"):
        export_training_script(_iris_sgd(tmp_path)[0], tmp_path / "missing")


def test_every_builtin_data_set_is_loaded_by_the_script_itself():
    from backend.export.script import is_builtin

    assert all(is_builtin(name) for name in BUILTIN)
    assert not is_builtin("csv") and not is_builtin("mnist")
