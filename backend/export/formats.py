"""Exports of a design: the ``.py`` module, safetensors weights, ONNX and TorchScript.

Every format starts from the compiled module, i.e. from the generated source, with the given
weights loaded (strictly: an export with half-loaded weights would be a silent lie). Weights
trained on standardised data carry the statistics; the model is then exported for raw data
(`backend.model.raw_data`): features as they are in the data file, targets in their units.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from pathlib import Path

import torch

from backend.export.weights import load_weights, read_preprocessing, save_weights
from backend.model.compiler import CompiledModel, compile_document
from backend.model.raw_data import OnRawData, layers_for, on_raw_data, raw_data_source
from graph.document import Document
from graph.errors import GraphError
from graph.project import write_atomic

FORMATS = ("py", "safetensors", "onnx", "torchscript")
SUFFIXES = {"py": ".py", "safetensors": ".safetensors", "onnx": ".onnx", "torchscript": ".pt"}


class ExportError(GraphError):
    """An export that cannot be written; the message says why and what to do."""


def input_shapes(compiled: CompiledModel) -> list[tuple[int, ...]]:
    """Each Input's sample shape (without the batch dimension), in forward's order."""
    return [tuple(int(d) for d in compiled.analysis.nodes[n].output_shapes[0][1:])
            for n in compiled.code.input_ids]


def example_inputs(compiled: CompiledModel, batch: int = 2) -> tuple[torch.Tensor, ...]:
    """Deterministic inputs of the design's shapes (zeros as token ids for int64 inputs)."""
    gen = torch.Generator().manual_seed(0)
    tensors = []
    for node_id, shape in zip(compiled.code.input_ids, input_shapes(compiled)):
        info = compiled.analysis.nodes[node_id]
        dims = (batch, *shape)
        if info.dtypes[0] == "int64":
            tensors.append(torch.zeros(dims, dtype=torch.int64))
        else:
            tensors.append(torch.randn(dims, generator=gen))
    return tuple(tensors)


def export(doc: Document, fmt: str, out_path: str | os.PathLike[str],
           weights_path: str | os.PathLike[str] | None = None) -> Path:
    """Write ``doc`` as ``fmt`` to ``out_path``; return the path written.

    Raises `ExportError` (or a `CompileError` for an invalid design) with a message for people.
    """
    if fmt not in FORMATS:
        raise ExportError(f"Unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}.")
    out = Path(out_path)
    if not out.parent.exists():
        raise ExportError(f"The folder {str(out.parent)!r} does not exist: create it first.")
    compiled = compile_document(doc)
    preprocessing = raw = None
    if weights_path is not None:
        preprocessing = read_preprocessing(weights_path)  # travels with the weights
        # Trained on standardised data: the model, the .py and ONNX / TorchScript take raw data.
        raw = layers_for(compiled.code, input_shapes(compiled), preprocessing)
    if fmt == "py":
        write_atomic(out, compiled.code.source if raw is None else
                     raw_data_source(compiled.code, raw))
        return out
    if weights_path is not None:
        load_weights(compiled.module, weights_path, strict=True)
    module = compiled.module.eval()
    if fmt == "safetensors":
        save_weights(module, out, preprocessing)
    elif fmt == "onnx":
        _export_onnx(compiled, out, module if raw is None else on_raw_data(module, raw).eval())
    else:
        _export_torchscript(compiled, out,
                            module if raw is None else on_raw_data(module, raw).eval())
    return out


def _export_onnx(compiled: CompiledModel, out: Path, module: torch.nn.Module) -> None:
    try:
        import onnx
    except ImportError:
        raise ExportError("ONNX export needs the 'onnx' and 'onnxscript' packages: "
                          "pip install 'netcanvas[onnx]'.") from None
    # The exporter logs one line per torchvision operator it cannot find: noise here.
    logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)
    args = example_inputs(compiled)
    code = compiled.code
    batch = torch.export.Dim("batch", min=1)
    shapes = tuple({0: batch} for _ in args)
    if isinstance(module, OnRawData):  # forward(*xs): the inputs are one argument
        shapes = (shapes,)
    failures = []
    for dynamo in (True, False):
        try:
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                if dynamo:
                    torch.onnx.export(module, args, str(out), dynamo=True,
                                      external_data=False,
                                      input_names=code.input_names,
                                      output_names=code.output_names,
                                      dynamic_shapes=shapes, verbose=False)
                else:
                    axes = {n: {0: "batch"} for n in code.input_names + code.output_names}
                    torch.onnx.export(module, args, str(out), dynamo=False,
                                      input_names=code.input_names,
                                      output_names=code.output_names, dynamic_axes=axes)
            break
        except ImportError as exc:
            raise ExportError(f"ONNX export needs a package that is missing ({exc}): "
                              "pip install 'netcanvas[onnx]'.") from None
        except Exception as exc:  # try the other exporter before giving up
            failures.append(f"{'dynamo' if dynamo else 'legacy'} exporter: "
                            f"{str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}")
    else:
        raise ExportError("PyTorch could not export this design to ONNX: " + "; ".join(failures))
    try:
        onnx.checker.check_model(onnx.load(str(out)))
    except Exception as exc:
        raise ExportError(f"The ONNX file was written but does not pass onnx.checker: {exc}") \
            from None
    check_onnx_outputs(compiled, out, module)


def check_onnx_outputs(compiled: CompiledModel, path: Path, module: torch.nn.Module | None = None,
                       atol: float = 1e-4) -> float | None:
    """Run the ONNX file in onnxruntime (when installed) and compare with PyTorch.

    Uses another batch size than the export did, so a fixed batch dimension is caught too.
    Returns the largest absolute difference, or None without onnxruntime.
    """
    try:
        import onnxruntime
    except ImportError:
        return None
    args = example_inputs(compiled, batch=3)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {name: t.numpy() for name, t in zip(compiled.code.input_names, args)}
    got = session.run(list(compiled.code.output_names), feed)
    with torch.no_grad():
        want = (module if module is not None else compiled.module).eval()(*args)
    want = want if isinstance(want, (tuple, list)) else (want,)
    worst = 0.0
    for name, g, w in zip(compiled.code.output_names, got, want):
        if tuple(g.shape) != tuple(w.shape):
            raise ExportError(f"onnxruntime gives output {name!r} the shape {tuple(g.shape)}, "
                              f"PyTorch {tuple(w.shape)}.")
        diff = float((torch.from_numpy(g).to(w.dtype) - w).abs().max()) if w.numel() else 0.0
        worst = max(worst, diff)
        if not diff <= atol + 1e-3 * float(w.abs().max() if w.numel() else 0):
            raise ExportError(f"onnxruntime's output {name!r} differs from PyTorch's by {diff:.3g}.")
    return worst


def _export_torchscript(compiled: CompiledModel, out: Path, module: torch.nn.Module) -> None:
    args = example_inputs(compiled)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(module, args, check_trace=False)
    except Exception as exc:
        raise ExportError(f"PyTorch could not trace this design to TorchScript: {exc}") from None
    traced.save(str(out))
