"""Exports, weights files and the ``check`` / ``export`` commands."""

from __future__ import annotations

import json

import pytest
import torch

from backend.cli.main import main
from backend.export.formats import ExportError, example_inputs, export
from backend.export.weights import WeightsError, load_state_by_name, load_weights, save_weights
from backend.model.compiler import compile_document
from graph import Sketch
from graph.project import load, save
from tests.backend.designs import ROOT

WIDE = ROOT / "resources" / "examples" / "wide_and_deep.json"


def _mlp(hidden: int, out: int = 3):
    s = Sketch("Net")
    x = s.add("Input", shape=(4,), name="x")
    h = s.add("Dense", x, units=hidden, activation="relu", name="hidden")
    s.add("Output", s.add("Dense", h, units=out, name="head"), name="y")
    return s.doc


def test_weights_round_trip_and_transfer_by_name(tmp_path):
    a = compile_document(_mlp(8)).module
    path = tmp_path / "w.safetensors"
    save_weights(a, path)
    b = compile_document(_mlp(8)).module
    report = load_weights(b, path, strict=True)
    assert report.complete and sorted(report.loaded) == sorted(a.state_dict())
    for k, v in a.state_dict().items():
        assert torch.equal(v, b.state_dict()[k])
    # A changed design: the first layer fits, the head has another size.
    c = compile_document(_mlp(8, out=5)).module
    report = load_state_by_name(c, dict(a.state_dict()))
    assert sorted(report.loaded) == ["hidden.bias", "hidden.weight"]
    assert {n for n, *_ in report.shape_mismatch} == {"head.weight", "head.bias"}
    assert torch.equal(c.hidden.weight, a.hidden.weight)
    with pytest.raises(WeightsError, match="do not fit"):
        load_weights(c, path, strict=True)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a weights file")
    with pytest.raises(WeightsError, match="Cannot read"):
        load_weights(c, bad)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_export_py_safetensors_torchscript(tmp_path):
    doc = load(WIDE)
    weights = tmp_path / "trained.safetensors"
    torch.manual_seed(3)
    trained = compile_document(doc)
    save_weights(trained.module, weights)
    py = export(doc, "py", tmp_path / "model.py")
    assert py.read_text() == trained.code.source
    st_path = export(doc, "safetensors", tmp_path / "copy.safetensors", weights)
    assert load_weights(compile_document(doc).module, st_path, strict=True).complete
    ts = export(doc, "torchscript", tmp_path / "model.pt", weights)
    scripted = torch.jit.load(str(ts))
    args = example_inputs(trained, batch=5)
    with torch.no_grad():
        expected = trained.module.eval()(*args)
        got = scripted(*args)
    for e, g in zip(expected, got):
        assert torch.allclose(e, g, atol=1e-6)


def test_export_onnx_is_checked_and_keeps_names(tmp_path):
    onnx = pytest.importorskip("onnx")
    doc = load(WIDE)
    out = export(doc, "onnx", tmp_path / "model.onnx")
    model = onnx.load(str(out))
    onnx.checker.check_model(model)
    assert [i.name for i in model.graph.input] == ["input_a", "input_b"]
    assert [o.name for o in model.graph.output] == ["main_output", "aux_output"]


def test_export_errors_are_messages(tmp_path):
    doc = load(WIDE)
    with pytest.raises(ExportError, match="Unknown export format"):
        export(doc, "pickle", tmp_path / "x")
    with pytest.raises(ExportError, match="does not exist"):
        export(doc, "py", tmp_path / "missing" / "x.py")


def test_cli_check_prints_table_and_exit_status(tmp_path, capsys):
    assert main(["check", str(WIDE)]) == 0
    out = capsys.readouterr().out
    assert "hidden1" in out and "Dense" in out and "(N, 30)" in out and "930" in out
    assert "Total params: 1,207" in out and "No errors." in out
    s = Sketch("Broken")
    x = s.add("Input", shape=(2, 3, 4))
    s.add("Output", s.add("Dense", x, units=1, name="flat_please"))
    bad = tmp_path / "bad.ncproj.json"
    save(s.doc, bad)
    assert main(["check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "Dense 'flat_please' receives (N, 2, 3, 4)" in out
    garbage = tmp_path / "garbage.ncproj.json"
    garbage.write_text(json.dumps({"format": "nope"}))
    assert main(["check", str(garbage)]) == 1
    assert "not a NetCanvas project" in capsys.readouterr().err


def test_cli_export_writes_the_module(tmp_path, capsys):
    out = tmp_path / "wide.py"
    assert main(["export", str(WIDE), "--format", "py", "-o", str(out)]) == 0
    assert "class WideAndDeep(nn.Module):" in out.read_text()
    assert main(["export", str(WIDE), "--format", "safetensors", "-o", str(tmp_path / "w"),
                 "--weights", str(tmp_path / "missing.safetensors")]) == 1
    assert "Cannot read" in capsys.readouterr().err
