"""ONNX import: a design exported to ONNX imports back (through onnx2fx and the same torch.fx
path) as a design that computes the same outputs; the CLI and the error messages."""

from __future__ import annotations

import pytest
import torch

from backend.cli.main import main as cli_main
from backend.export.formats import example_inputs, export
from backend.importer.convert import ModelImportError
from backend.importer.files import import_file
from backend.model.compiler import compile_document
from graph.examples import load_example
from graph.project import load

pytest.importorskip("onnx2fx")
pytest.importorskip("onnxscript")


def _outputs(module, inputs):
    module.eval()
    with torch.no_grad():
        out = module(*inputs)
    return list(out) if isinstance(out, tuple) else [out]


@pytest.mark.parametrize("name", ["cnn_residual", "lenet5", "unet_autoencoder"])
def test_exported_design_imports_back_from_onnx_with_the_same_outputs(name, tmp_path):
    doc = load_example(name)
    compiled = compile_document(doc)
    for p in compiled.module.parameters():  # weights no initializer would give
        p.data.uniform_(-0.5, 0.5)
    from backend.export.weights import save_weights

    weights = tmp_path / "w.safetensors"
    save_weights(compiled.module, weights)
    path = export(doc, "onnx", tmp_path / f"{name}.onnx", weights)
    result = import_file(str(path))
    assert result.unsupported == [] and result.max_difference is not None
    rebuilt = compile_document(result.doc).module
    rebuilt.load_state_dict(result.state_dict, strict=True)
    inputs = list(example_inputs(compiled, batch=4))
    for want, got in zip(_outputs(compiled.module, inputs), _outputs(rebuilt, inputs),
                         strict=True):
        assert want.shape == got.shape
        assert torch.allclose(want, got, atol=1e-6, rtol=0)
    weighted = {"Dense", "Conv2d", "ConvTranspose2d", "BatchNorm"}
    assert {n.type for n in doc.nodes()} & weighted == \
        {n.type for n in result.doc.nodes()} & weighted


def test_cli_imports_an_onnx_file(tmp_path, capsys):
    path = export(load_example("cnn_residual"), "onnx", tmp_path / "model.onnx")
    out = tmp_path / "design.json"
    assert cli_main(["import", str(path), "-o", str(out)]) == 0
    assert "design.safetensors" in capsys.readouterr().out
    doc = load(out)
    assert doc.name == "Model"
    assert any(n.type == "Conv2d" for n in doc.nodes())
    assert cli_main(["import", str(path), "-o", str(out), "--input-shape", "3,4"]) == 2
    assert "fixes its input shapes" in capsys.readouterr().err


def test_onnx_files_that_do_not_import_say_why(tmp_path):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(ModelImportError, match="not a readable ONNX file"):
        import_file(str(broken))
    path = export(load_example("bilstm_sequences"), "onnx", tmp_path / "lstm.onnx")
    with pytest.raises(ModelImportError) as info:
        import_file(str(path))
    assert "ONNX " in info.value.message  # the ONNX operators without a layer, by name
