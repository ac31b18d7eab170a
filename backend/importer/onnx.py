"""ONNX files become designs through the same torch.fx path as PyTorch code.

``onnx2fx`` (optional: ``pip install 'netcanvas[onnx-import]'``) converts the ONNX graph into a
``torch.fx.GraphModule`` whose nodes call ONNX-semantics helpers (``gemm``, ``conv``, …, each a
function of its own with the ONNX attributes as arguments). `torch_graph` rewrites the helpers
that have an exact PyTorch counterpart into that call (``F.linear``, ``F.conv2d``,
``F.batch_norm`` with the file's weights, ``torch.reshape`` with the file's constant shape, …);
`backend.importer.convert.import_module` then traces and maps the result like any model. ONNX
operators without such a counterpart stay as they are and are listed as ``ONNX <Op>``.

An ONNX file holds the inference graph: BatchNormalization uses its running statistics and
Dropout is gone. The design gets PyTorch's layers (which train as usual), and only eval-mode
outputs are compared.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx

from backend.importer.convert import ModelImportError

INSTALL = "pip install 'netcanvas[onnx-import]' (the onnx and onnx2fx packages)"
_DTYPES = {1: "float32", 7: "int64"}


class OnnxImportError(ModelImportError):
    """The file cannot be read as ONNX (or the converter is missing); the message says why."""


def load_onnx(path: str | os.PathLike[str]) -> tuple[fx.GraphModule, list[tuple[int, ...]],
                                                     list[str]]:
    """The file as a GraphModule of PyTorch calls, with each input's shape (without the batch)
    and dtype."""
    try:
        import onnx
        import onnx2fx
    except ImportError as exc:
        raise OnnxImportError(f"ONNX import needs a package that is missing ({exc.name}): "
                              f"{INSTALL}.") from None
    path = Path(path)
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # not protobuf, truncated, …
        raise OnnxImportError(f"{path.name} is not a readable ONNX file: {exc}") from None
    initializers = {i.name for i in model.graph.initializer}
    shapes, dtypes = [], []
    for value in model.graph.input:
        if value.name in initializers:
            continue
        tensor = value.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim]
        if len(dims) < 2 or any(d is None for d in dims[1:]):
            raise OnnxImportError(f"{path.name}'s input {value.name!r} has the shape "
                                  f"{_shape_text(dims)}: import needs a fixed size in every "
                                  "dimension after the batch.")
        if tensor.elem_type not in _DTYPES:
            raise OnnxImportError(f"{path.name}'s input {value.name!r} holds ONNX element type "
                                  f"{tensor.elem_type}: only float32 and int64 inputs import.")
        shapes.append(tuple(int(d) for d in dims[1:]))
        dtypes.append(_DTYPES[tensor.elem_type])
    try:
        gm = onnx2fx.convert(model)
    except Exception as exc:  # onnx2fx raises its own errors for operators it lacks
        raise OnnxImportError(f"onnx2fx could not convert {path.name}: "
                              f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                              ) from None
    torch_graph(gm)
    gm.nc_onnx = True  # its graph is the model: import reads it without tracing
    return gm, shapes, dtypes


def _shape_text(dims: list[int | None]) -> str:
    return "(" + ", ".join("?" if d is None else str(d) for d in dims) + ")"


def onnx_op(target: Any) -> str | None:
    """``Gemm`` for onnx2fx's helper of the Gemm operator, None for anything else."""
    module = getattr(target, "__module__", "") or ""
    if not module.startswith("onnx2fx"):
        return None
    qualname = getattr(target, "__qualname__", "")
    name = qualname.split(".<locals>")[0].rsplit(".", 1)[-1]
    return "".join(part.capitalize() for part in name.split("_")) or qualname


# --- the rewrite ---------------------------------------------------------------------------------

def torch_graph(gm: fx.GraphModule) -> None:
    """Rewrite onnx2fx's helpers into the PyTorch calls that compute the same (in place)."""
    for node in list(gm.graph.nodes):
        if node.op != "call_function":
            continue
        op = onnx_op(node.target)
        if op is None:
            continue
        qualname = getattr(node.target, "__qualname__", "")
        if "<lambda>" in qualname and len(node.args) == 1 and not node.kwargs:
            node.replace_all_uses_with(node.args[0])  # Identity, Dropout in inference
            gm.graph.erase_node(node)
            continue
        rewrite = _REWRITES.get(qualname.split(".<locals>")[-1].lstrip("."))
        done = rewrite(gm, node) if rewrite is not None else None
        if done is None:
            node.meta["nc_onnx_op"] = op
    gm.graph.eliminate_dead_code()
    gm.recompile()


def _const(gm: fx.GraphModule, value: Any) -> Any:
    """A constant argument: a number or list as it is, a get_attr tensor as a list."""
    if isinstance(value, fx.Node):
        if value.op != "get_attr":
            return None
        tensor = getattr(gm, str(value.target))
        return tensor.tolist()
    return value


def _symmetric(pads: Any, dims: int) -> tuple[int, ...] | None:
    if pads is None:
        return (0,) * dims
    pads = list(pads)
    begin, end = pads[:dims], pads[dims:]
    return tuple(begin) if begin == end else None


def _set(node: fx.Node, target: Callable[..., Any], args: tuple, kwargs: dict | None = None
         ) -> bool:
    node.target = target
    node.args = args
    node.kwargs = kwargs or {}
    return True


def _gemm(gm: fx.GraphModule, node: fx.Node) -> bool | None:
    a, b, c, alpha, beta, trans_a, trans_b = node.args
    if alpha != 1.0 or beta != 1.0 or trans_a or not isinstance(b, fx.Node) or \
            b.op != "get_attr":
        return None
    if not trans_b:  # Y = A B: F.linear takes B transposed
        weight = getattr(gm, str(b.target)).t().contiguous()
        name = f"{b.target}_t"
        gm.register_buffer(name, weight)
        with gm.graph.inserting_before(node):
            b = gm.graph.get_attr(name)
    return _set(node, F.linear, (a, b, c))


def _conv(gm: fx.GraphModule, node: fx.Node) -> bool | None:
    x, weight, bias, strides, dilations, group, pads, auto_pad, _kernel = node.args
    dims = len(getattr(gm, str(weight.target)).shape) - 2 if isinstance(weight, fx.Node) \
        and weight.op == "get_attr" else None
    padding = _symmetric(pads, dims) if dims else None
    if dims not in (1, 2, 3) or padding is None or auto_pad not in ("NOTSET", None):
        return None
    fn = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[dims]
    return _set(node, fn, (x, weight, bias, tuple(_per(strides, dims)), padding,
                           tuple(_per(dilations, dims)), group))


def _conv_transpose(gm: fx.GraphModule, node: fx.Node) -> bool | None:
    (x, weight, bias, strides, dilations, group, pads, output_padding, auto_pad, output_shape,
     _kernel) = node.args
    dims = len(getattr(gm, str(weight.target)).shape) - 2 if isinstance(weight, fx.Node) \
        and weight.op == "get_attr" else None
    padding = _symmetric(pads, dims) if dims else None
    if dims not in (1, 2, 3) or padding is None or output_shape is not None or \
            auto_pad not in ("NOTSET", None):
        return None
    fn = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[dims]
    return _set(node, fn, (x, weight, bias, tuple(_per(strides, dims)), padding,
                           tuple(_per(output_padding, dims)), group,
                           tuple(_per(dilations, dims))))


def _per(values: Any, dims: int) -> list[int]:
    values = list(values)
    return values * dims if len(values) == 1 else values


def _batch_norm(gm: fx.GraphModule, node: fx.Node) -> bool | None:
    x, scale, bias, mean, var, eps, training = node.args
    if training:
        return None
    return _set(node, F.batch_norm, (x, mean, var, scale, bias, False, 0.1, float(eps)))


def _layer_norm_single(gm: fx.GraphModule, node: fx.Node) -> bool | None:
    x, scale, bias, axis, eps = node.args
    if axis != -1 or not isinstance(scale, fx.Node) or scale.op != "get_attr":
        return None
    size = getattr(gm, str(scale.target)).shape[-1]
    return _set(node, F.layer_norm, (x, (int(size),), scale, bias, float(eps)))


def _pool(kind: str) -> Callable[[fx.GraphModule, fx.Node], bool | None]:
    def rewrite(gm: fx.GraphModule, node: fx.Node) -> bool | None:
        if kind == "max":
            x, kernel, strides, pads, dilations, ceil, auto_pad, indices, _order = node.args
            if indices:
                return None
        else:
            x, kernel, strides, pads, dilations, ceil, count_pad, auto_pad = node.args
        dims = len(kernel)
        padding = _symmetric(pads, dims)
        if dims not in (1, 2, 3) or padding is None or auto_pad not in ("NOTSET", None):
            return None
        if kind == "max":
            fn = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[dims]
            return _set(node, fn, (x, tuple(kernel), tuple(_per(strides, dims)), padding,
                                   tuple(_per(dilations, dims)), bool(ceil)))
        if any(d != 1 for d in dilations):
            return None
        fn = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[dims]
        return _set(node, fn, (x, tuple(kernel), tuple(_per(strides, dims)), padding,
                               bool(ceil), bool(count_pad)))
    return rewrite


def _reduce(fn: Callable[..., Any]) -> Callable[[fx.GraphModule, fx.Node], bool | None]:
    def rewrite(gm: fx.GraphModule, node: fx.Node) -> bool | None:
        t, axes, keepdims, _noop = node.args
        axes = _const(gm, axes)
        if not axes:
            return None
        return _set(node, fn, (t,), {"dim": tuple(int(a) for a in axes),
                                     "keepdim": bool(keepdims)})
    return rewrite


def _reshape(gm: fx.GraphModule, node: fx.Node) -> bool | None:
    x, shape, allowzero = node.args
    shape = _const(gm, shape)
    if shape is None:
        return None
    shape = [int(d) for d in shape]
    if shape and shape[0] == 0 and not allowzero:
        shape[0] = -1  # ONNX's 0 copies the batch size
    if 0 in shape[1:]:
        return None
    return _set(node, torch.reshape, (x, tuple(shape)))


def _resize(gm: fx.GraphModule, node: fx.Node) -> bool | None:
    x, _roi, scales, sizes, mode, coord_mode = node.args
    scales = _const(gm, scales)
    if sizes is not None or not scales or len(set(scales[2:])) != 1 or scales[:2] != [1, 1]:
        return None
    modes = {2: {"nearest": "nearest", "linear": "linear", "cubic": None},
             4: {"nearest": "nearest", "linear": "bilinear", "cubic": "bicubic"},
             5: {"nearest": "nearest", "linear": "trilinear", "cubic": None}}
    torch_mode = modes.get(len(scales), {}).get(mode)
    if torch_mode is None or coord_mode not in ("half_pixel", "pytorch_half_pixel",
                                                "asymmetric", "align_corners"):
        return None
    kwargs: dict[str, Any] = {"scale_factor": float(scales[2]), "mode": torch_mode}
    if torch_mode != "nearest":
        kwargs["align_corners"] = coord_mode == "align_corners"
    elif coord_mode != "asymmetric":
        return None
    return _set(node, F.interpolate, (x,), kwargs)


_REWRITES: dict[str, Callable[[fx.GraphModule, fx.Node], bool | None]] = {
    "_gemm": _gemm, "_conv": _conv, "_conv_transpose": _conv_transpose,
    "_batch_norm": _batch_norm, "_layer_norm_single": _layer_norm_single,
    "_max_pool": _pool("max"), "_avg_pool": _pool("avg"),
    "_reduce_mean": _reduce(torch.mean), "_reduce_sum": _reduce(torch.sum),
    "_reshape": _reshape, "_resize": _resize,
}
