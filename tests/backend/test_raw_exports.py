"""Exports take raw data: a model trained on standardised tabular data, exported with its
weights as .py, ONNX or TorchScript, takes the features as they are in the data file and
returns regression outputs in the targets' units; on raw rows it gives the app's predictions."""

from __future__ import annotations

import runpy
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from backend.data.builtin import load_builtin
from backend.data.config import DataConfig
from backend.data.load import load_dataset
from backend.data.split import split_indices
from backend.export.formats import export
from backend.export.weights import save_weights
from backend.training.events import Finished
from backend.training.metrics import predicted_classes
from backend.training.trainer import Trainer
from graph.edits import SetSection
from graph.examples import load_example
from tests.backend.designs import csv_two_outputs


def _trained(doc, base_dir=None):
    trainer = Trainer(doc, base_dir=base_dir)
    assert isinstance(trainer.run(), Finished)
    return trainer


def _wide_and_deep(tmp_path=None):
    doc = load_example("wide_and_deep")
    section = doc.section("training")
    section.update(epochs=2, device="cpu")
    doc.apply(SetSection("training", section))
    return doc, None


def _csv(tmp_path):
    s = csv_two_outputs(tmp_path, "CsvRaw")
    s.settings("data", test_split=0.3)
    s.settings("training", epochs=3, batch_size=16, device="cpu")
    return s.doc, tmp_path


def _raw_rows(doc, trainer, base_dir):
    """The test split's rows as they are in the data, cut into each Input's columns."""
    cfg = DataConfig.from_dict(doc.section("data"))
    ds = load_dataset(cfg, base_dir) if base_dir else load_builtin(cfg.dataset, cfg.options)
    val, test = (cfg.validation_split, cfg.test_split)
    default_val, default_test = ds.default_splits
    idx = split_indices(ds, default_val if val is None else val,
                        default_test if test is None else test, cfg.seed, cfg.stratify).test
    columns = []
    for spec in trainer.parts.inputs:
        features = cfg.inputs.get(spec.name, {}).get("features")
        cols = [ds.feature_names.index(f) if isinstance(f, str) else f for f in features] \
            if features else list(range(ds.x.shape[1]))
        columns.append(ds.x[idx][:, cols])
    return columns


def _assert_app_predictions(trainer, outputs, what):
    """``outputs`` (the export's, on raw rows) give what the app predicts in original units."""
    app = trainer.evaluation("test")
    outputs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
    for info, got in zip(trainer.prepared.outputs, outputs):
        got = torch.as_tensor(got).float()
        want = app.predictions[info.output]
        if info.num_classes:
            assert torch.equal(predicted_classes(got, info).reshape(-1), want.reshape(-1)), what
        else:
            assert info.scale != 1.0  # a standardised target: the units are undone
            assert torch.allclose(got.reshape(want.shape), want, rtol=1e-5,
                                  atol=1e-4 * info.scale), (what, info.output)


@pytest.mark.parametrize("make", [_wide_and_deep, _csv], ids=["builtin_diabetes", "csv"])
def test_exports_on_raw_rows_equal_the_app_in_original_units(tmp_path, make):
    doc, base_dir = make(tmp_path)
    trainer = _trained(doc, base_dir)
    weights = tmp_path / "w.safetensors"
    save_weights(trainer.module, weights, trainer.prepared.preprocessing())
    rows = _raw_rows(doc, trainer, base_dir)
    names = [s.name for s in trainer.parts.inputs]

    py = export(doc, "py", tmp_path / "model.py", weights)
    text = py.read_text()
    assert "class Standardize(nn.Module):" in text and "def on_raw_data():" in text
    ruff = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated",
                           str(py)], capture_output=True, text=True)
    assert ruff.returncode == 0, ruff.stdout
    model = runpy.run_path(str(py))["on_raw_data"]()
    model.model.load_state_dict(load_file(str(weights)))
    with torch.no_grad():
        _assert_app_predictions(trainer, model.eval()(*rows), ".py")

    scripted = torch.jit.load(str(export(doc, "torchscript", tmp_path / "m.pt", weights)))
    with torch.no_grad():
        _assert_app_predictions(trainer, scripted(*rows), "TorchScript")

    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(str(export(doc, "onnx", tmp_path / "m.onnx", weights)),
                                   providers=["CPUExecutionProvider"])
    got = session.run(None, {n: r.numpy() for n, r in zip(names, rows)})
    _assert_app_predictions(trainer, [torch.from_numpy(g) for g in got], "ONNX")


def test_without_standardisation_the_export_is_the_design(tmp_path):
    """Images (or standardisation switched off) need nothing undone: the plain design."""
    doc = load_example("xor_mlp")
    weights = tmp_path / "w.safetensors"
    trainer = _trained(doc)
    save_weights(trainer.module, weights, trainer.prepared.preprocessing())
    text = export(doc, "py", tmp_path / "m.py", weights).read_text()
    assert "Standardize" not in text and "on_raw_data" not in text


def test_statistics_of_another_design_are_refused(tmp_path):
    from backend.export.formats import ExportError  # noqa: F401 - the family of errors
    from backend.model.raw_data import RawDataError

    doc, _ = _wide_and_deep()
    trainer = _trained(doc)
    pre = trainer.prepared.preprocessing()
    pre["inputs"]["input_a"]["mean"] = pre["inputs"]["input_a"]["mean"][:-1]
    weights = tmp_path / "w.safetensors"
    save_weights(trainer.module, weights, pre)
    with pytest.raises(RawDataError, match="does not fit this design"):
        export(doc, "onnx", tmp_path / "m.onnx", weights)
