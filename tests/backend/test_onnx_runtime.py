"""ONNX exports of every example open in onnxruntime and give PyTorch's outputs."""

import pytest

from backend.export.formats import check_onnx_outputs, export
from backend.model.compiler import compile_document
from graph.examples import list_examples, load_example

ort = pytest.importorskip("onnxruntime")


@pytest.mark.parametrize("name", [i.name for i in list_examples()])
def test_onnx_export_matches_pytorch_in_onnxruntime(name, tmp_path, monkeypatch):
    import backend.export.formats as exports

    checked = []
    real = exports.check_onnx_outputs
    monkeypatch.setattr(exports, "check_onnx_outputs",
                        lambda compiled, path, module: checked.append(real(compiled, path, module)))
    export(load_example(name), "onnx", tmp_path / "model.onnx")
    assert not (tmp_path / "model.onnx.data").exists(), "one self-contained file"
    assert checked and checked[0] is not None and checked[0] < 1e-4


def test_onnx_outputs_equal_for_the_exported_weights(tmp_path):
    from backend.export.weights import save_weights

    doc = load_example("wide_and_deep")
    compiled = compile_document(doc)
    weights = tmp_path / "w.safetensors"
    save_weights(compiled.module, weights)
    out = export(doc, "onnx", tmp_path / "model.onnx", weights_path=weights)
    assert check_onnx_outputs(compiled, out) < 1e-5
