"""How the walk reads ``torch.*`` / ``F.*`` functions and tensor methods (one handler each).

Every handler takes the `Walk` and the fx node and returns the node's value, or raises
`Unsupported` with what no layer can express. `register` fills the walk's dispatch tables.
"""

from __future__ import annotations

import operator
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx

from backend.importer import table as tb
from backend.importer.table import Unsupported, arg


def _walk_types() -> Any:
    from backend.importer import walk

    return walk


# --- shape and layout ----------------------------------------------------------------------------

def cat(w: Any, node: fx.Node) -> Any:
    wk = _walk_types()
    tensors = arg(node, 0, "tensors")
    if not isinstance(tensors, (list, tuple)) or not tensors:
        raise Unsupported("torch.cat of something that is not a list of tensors")
    values = [w.tensor(t, "torch.cat") for t in tensors]
    swapped = {v.swapped for v in values}
    if len(swapped) != 1 or any(v.as_bool for v in values):
        raise Unsupported("torch.cat of tensors whose batch is in different places")
    dim = w.const(arg(node, 1, "dim", 0), "torch.cat's dim")
    rank = len(w.dshape(values[0]))
    axis = _design_dim(dim, rank, values[0].swapped, "torch.cat")
    if len(values) == 1:
        return values[0]
    shape = w.shape(node)
    key = w.add("Concatenate", {"axis": axis}, {i: v.ref for i, v in enumerate(values)}, node,
                shapes=[wk._swap(shape) if values[0].swapped else shape], what="torch.cat")
    return wk.T((key, 0), values[0].swapped)


def _design_dim(dim: int, rank: int, swapped: bool, what: str) -> int:
    """The design's dimension for ``dim`` of the actual tensor; the batch is refused."""
    if not -rank <= dim < rank:
        raise Unsupported(f"{what} over dimension {dim} of a {rank}-D tensor")
    if swapped and dim % rank in (0, 1):
        dim = 1 - dim % rank
    if dim % rank == 0:
        raise Unsupported(f"{what} over the batch dimension")
    return dim


def flatten(w: Any, node: fx.Node) -> Any:
    x = w.plain(node.args[0], "flatten")
    start = w.const(arg(node, 1, "start_dim", 0), "flatten")
    end = w.const(arg(node, 2, "end_dim", -1), "flatten")
    type_, params = tb.flatten_params(start, end, w.dshape(x))
    return w.single(type_, params, x, node, "flatten")


def reshape(w: Any, node: fx.Node) -> Any:
    x = w.plain(node.args[0], "reshape")
    what = "torch.reshape" if node.op == "call_function" else f"Tensor.{node.target}()"
    sizes = node.args[1:]
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if not sizes and "shape" in node.kwargs:
        sizes = tuple(node.kwargs["shape"])
    literal = None
    if sizes and all(not isinstance(s, fx.Node) for s in sizes[1:]) and all(
            isinstance(s, int) for s in sizes[1:]):
        first = w.val(sizes[0])
        if first == -1 or (isinstance(first, _walk_types().Plumb) and first.batch_dependent):
            literal = tuple(sizes[1:])
    return _reshape_to(w, node, x, what, literal)


def _reshape_to(w: Any, node: fx.Node, x: Any, what: str,
                literal: tuple[int, ...] | None = None) -> Any:
    s2 = w.shape(node)
    s3 = w.shapes3.get(node)
    if not (s2 and s3 and s2[0] == 2 and s3[0] == 3 and tuple(s2[1:]) == tuple(s3[1:])):
        raise Unsupported(f"{what} that does not keep the batch dimension first (Reshape "
                          "changes each sample only)")
    shape = literal if literal and len(literal) == len(s2) - 1 else tuple(s2[1:])
    if not shape:
        raise Unsupported(f"{what} to one value per sample (use x[:, 0] or .squeeze(1))")
    return w.single("Reshape", {"shape": shape}, x, node, what)


def unsqueeze(w: Any, node: fx.Node) -> Any:
    return _reshape_to(w, node, w.plain(node.args[0], "unsqueeze"), "unsqueeze")


def squeeze(w: Any, node: fx.Node) -> Any:
    x = w.plain(node.args[0], "squeeze")
    shape = w.dshape(x)
    dim = arg(node, 1, "dim")
    if dim is None:
        dims = [d for d in range(1, len(shape)) if shape[d] == 1]
        w.notes.append(f"{w.where(node)}: x.squeeze() would also drop the batch dimension of "
                       "a batch of one sample; the design keeps it")
    else:
        dim = w.const(dim, "squeeze")
        dims = [_design_dim(d, len(shape), False, "squeeze")
                for d in (dim if isinstance(dim, (tuple, list)) else (dim,))]
        dims = [d % len(shape) for d in dims if shape[d % len(shape)] == 1]
    if not dims:
        return x
    if len(dims) == 1:
        return w.single("Select", {"dim": dims[0], "index": 0}, x, node, "squeeze")
    return _reshape_to(w, node, x, "squeeze")


def unflatten(w: Any, node: fx.Node) -> Any:
    return _reshape_to(w, node, w.plain(node.args[0], "unflatten"), "unflatten")


def permute(w: Any, node: fx.Node) -> Any:
    x = w.tensor(node.args[0], "permute")
    dims = node.args[1:] if node.op == "call_method" else (arg(node, 1, "dims"),)
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    dims = tuple(w.const(d, "permute") for d in dims)
    rank = len(w.dshape(x))
    if sorted(d % rank for d in dims) != list(range(rank)):
        raise Unsupported(f"permute{dims!r} of a {rank}-D tensor")
    return _rearrange(w, node, x, tuple(d % rank for d in dims), "Permute", None)


def transpose(w: Any, node: fx.Node) -> Any:
    x = w.tensor(node.args[0], "transpose")
    rank = len(w.dshape(x))
    if node.target == "t":
        a, b = 0, 1
    else:
        a = w.const(arg(node, 1, "dim0"), "transpose")
        b = w.const(arg(node, 2, "dim1"), "transpose")
    perm = list(range(rank))
    perm[a % rank], perm[b % rank] = perm[b % rank], perm[a % rank]
    return _rearrange(w, node, x, tuple(perm), "Transpose", (a, b))


def _rearrange(w: Any, node: fx.Node, x: Any, perm: tuple[int, ...], kind: str,
               written: tuple[int, int] | None) -> Any:
    """``x`` permuted by ``perm`` (of the actual tensor): a Permute / Transpose of the design
    tensor, with the result's batch first or second."""
    wk = _walk_types()
    rank = len(perm)
    swap = [1, 0, *range(2, rank)]
    s_in = swap if x.swapped else list(range(rank))
    for out_swapped in (False, True):
        s_out = swap if out_swapped else list(range(rank))
        q = tuple(s_in[perm[s_out[j]]] for j in range(rank))
        if q[0] != 0:
            continue
        if q == tuple(range(rank)):
            return wk.T(x.ref, out_swapped)
        shape = w.dshape(x)
        new_shape = tuple(shape[i] for i in q)
        moved = [j for j in range(rank) if q[j] != j]
        if kind == "Transpose" and len(moved) == 2:
            a, b = written if written and not x.swapped and not out_swapped else moved
            params = {"dim0": a, "dim1": b}
        else:
            kind, params = "Permute", {"dims": q}
        key = w.add(kind, params, {0: x.ref}, node, shapes=[new_shape],
                    what="permute" if kind == "Permute" else "transpose")
        return wk.T((key, 0), out_swapped)
    raise Unsupported("a permutation that moves the batch dimension past the second place")


def split(w: Any, node: fx.Node) -> Any:
    wk = _walk_types()
    x = w.tensor(node.args[0], "split")
    if x.as_bool:
        raise Unsupported("split of a boolean mask")
    chunk = node.target in (torch.chunk, "chunk")
    size_arg = arg(node, 1, "chunks" if chunk else "split_size_or_sections")
    if size_arg is None and not chunk:
        size_arg = node.kwargs.get("split_size")
    sizes_in = w.const(size_arg, "split")
    dim = w.const(arg(node, 2, "dim", 0), "split")
    shape = w.dshape(x)
    rank = len(shape)
    axis = _design_dim(dim, rank, x.swapped, "split")
    total = shape[axis]
    if chunk:
        each = -(-total // sizes_in)
        sizes = [each] * (total // each) + ([total % each] if total % each else [])
        if len(sizes) == sizes_in and total % sizes_in == 0:
            type_, params = "Chunk", {"chunks": sizes_in, "dim": axis if x.swapped else dim}
        else:
            type_, params = "Split", {"sizes": tuple(sizes), "dim": axis if x.swapped else dim}
    else:
        if isinstance(sizes_in, int):
            sizes = [sizes_in] * (total // sizes_in) + \
                ([total % sizes_in] if total % sizes_in else [])
        else:
            sizes = list(sizes_in)
        type_, params = "Split", {"sizes": tuple(sizes), "dim": axis if x.swapped else dim}
    if len(sizes) == 1:
        return wk.Tup((x,))
    out_shapes = []
    for s in sizes:
        piece = list(shape)
        piece[axis] = s
        out_shapes.append(tuple(piece))
    key = w.add(type_, params, {0: x.ref}, node, shapes=out_shapes, what=type_.lower())
    return wk.Tup(tuple(wk.T((key, i), x.swapped) for i in range(len(sizes))))


def reduce(w: Any, node: fx.Node) -> Any:
    wk = _walk_types()
    kind = tb.lookup(tb.REDUCE, node.target) if node.op == "call_function" else \
        tb.REDUCE[node.target]
    name = {"Mean": "mean", "Sum": "sum", "Max": "max"}[kind]
    x = w.tensor(node.args[0], name)
    dim = arg(node, 1, "dim")
    if isinstance(dim, fx.Node) and not isinstance(w.val(dim), wk.Plumb):
        raise Unsupported(f"torch.{name} of two tensors (an element-wise maximum)")
    dim = w.const(dim, name)
    if dim is None or dim == () or dim == []:
        raise Unsupported(f"{name} over every dimension (it would mix the batch)")
    keepdim = bool(w.const(arg(node, 2, "keepdim", False), name))
    if node.kwargs.get("dtype") is not None:
        raise Unsupported(f"{name} with a dtype")
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    shape = w.dshape(x)
    rank = len(shape)
    # The design's dims: as written (negative ones kept) unless the batch is second.
    design = tuple(_design_dim(d, rank, x.swapped, name) for d in dims)
    returns_pair = node.target in (torch.max, "max")
    if kind == "Mean" and not x.swapped and not keepdim and not isinstance(dim, int) and \
            rank >= 3 and sorted(d % rank for d in design) == list(range(2, rank)):
        out = w.single("GlobalAvgPool", {}, x, node, name)
    else:
        kept = [d % rank for d in design]
        out_shape = tuple((1 if i in kept else s) for i, s in enumerate(shape)
                          if keepdim or i not in kept)
        swapped = x.swapped and not (0 in kept and not keepdim)
        key = w.add(kind, {"dims": design, "keepdim": keepdim}, {0: x.ref}, node,
                    shapes=[out_shape], what=name)
        out = wk.T((key, 0), swapped)
    if returns_pair:
        if kind == "Max":
            w.notes.append(f"{w.where(node)}: torch.max(x, dim) became a Max layer (amax): the "
                           "same values; where several entries tie for the maximum, amax shares "
                           "the gradient among them")
        return wk.Tup((out, Unsupported("the indices of torch.max (no layer gives them)")))
    return out


def dropout(w: Any, node: fx.Node) -> Any:
    type_ = tb.lookup(tb.DROPOUT, node.target)
    x = w.tensor(node.args[0], type_)
    p = float(w.const(arg(node, 1, "p", 0.5), type_))
    training = arg(node, 2, "train" if node.target is torch.dropout else "training", True)
    training = w.const(training, type_)
    if w.inference or not training:
        return x
    other = w.in_eval(node)
    if other is not None:
        if arg(other, 2, "train" if node.target is torch.dropout else "training", True) is True:
            raise Unsupported(f"F.{type_.lower()}(…) without training=self.training, which "
                              "drops values in eval mode too (pass training=self.training, or "
                              "use nn.Dropout)")
    return w.single(type_, {"p": p}, x, node, f"F.{type_.lower()}")


def pool(w: Any, node: fx.Node) -> Any:
    type_ = tb.lookup(tb.POOL, node.target)
    what = f"F.{type_[:3].lower()}_pool{type_[-2:]}"
    x = w.plain(node.args[0], what)
    c = w.const
    kernel, stride = c(arg(node, 1, "kernel_size"), what), c(arg(node, 2, "stride"), what)
    padding = c(arg(node, 3, "padding", 0), what)
    if type_.startswith("Max"):
        if c(arg(node, 6, "return_indices", False), what):
            raise Unsupported(f"{what} with return_indices=True")
        params = tb.pool_params(type_, kernel, stride, padding, c(arg(node, 4, "dilation", 1),
                                                                  what),
                                c(arg(node, 5, "ceil_mode", False), what))
    else:
        if c(arg(node, 6, "divisor_override"), what) is not None:
            raise Unsupported(f"{what} with divisor_override")
        params = tb.pool_params(type_, kernel, stride, padding, 1,
                                c(arg(node, 4, "ceil_mode", False), what),
                                c(arg(node, 5, "count_include_pad", True), what))
    return w.single(type_, params, x, node, what)


def adaptive(w: Any, node: fx.Node) -> Any:
    type_ = tb.lookup(tb.ADAPTIVE, node.target)
    what = f"F.adaptive_{'avg' if 'Avg' in type_ else 'max'}_pool{type_[-2:]}"
    x = w.plain(node.args[0], what)
    if w.const(arg(node, 2, "return_indices", False), what):
        raise Unsupported(f"{what} with return_indices=True")
    size = tb.adaptive_size(w.const(arg(node, 1, "output_size"), what), int(type_[-2]),
                            w.dshape(x))
    return w.single(type_, {"output_size": size}, x, node, what)


def interpolate(w: Any, node: fx.Node) -> Any:
    x = w.plain(node.args[0], "F.interpolate")
    c = w.const
    params = tb.upsample_params(c(arg(node, 1, "size"), "F.interpolate"),
                                c(arg(node, 2, "scale_factor"), "F.interpolate"),
                                c(arg(node, 3, "mode", "nearest"), "F.interpolate"),
                                c(arg(node, 4, "align_corners"), "F.interpolate"),
                                c(arg(node, 5, "recompute_scale_factor"), "F.interpolate"),
                                w.dshape(x), c(arg(node, 6, "antialias", False), "F.interpolate"))
    return w.single("Upsample", params, x, node, "F.interpolate")


def pixel_shuffle(w: Any, node: fx.Node) -> Any:
    up = node.target in (F.pixel_shuffle, torch.pixel_shuffle)
    what = "F.pixel_shuffle" if up else "F.pixel_unshuffle"
    x = w.plain(node.args[0], what)
    r = w.const(node.args[1], what)
    if up:
        return w.single("PixelShuffle", {"upscale_factor": r}, x, node, what)
    return w.single("PixelUnshuffle", {"downscale_factor": r}, x, node, what)


def pad(w: Any, node: fx.Node) -> Any:
    x = w.plain(node.args[0], "F.pad")
    amounts = w.const(arg(node, 1, "pad"), "F.pad")
    mode = w.const(arg(node, 2, "mode", "constant"), "F.pad")
    value = w.const(arg(node, 3, "value"), "F.pad")
    types = {"constant": "ZeroPad", "reflect": "ReflectionPad", "replicate": "ReplicationPad"}
    if mode not in types:
        raise Unsupported(f"F.pad(mode={mode!r}) (only constant zeros, reflect or replicate)")
    if value not in (None, 0, 0.0):
        raise Unsupported(f"F.pad with value {value!r} (only zeros)")
    return w.single(types[mode], {"padding": tb.pad_params(amounts)}, x, node, "F.pad")


# --- weights used directly -----------------------------------------------------------------------

def linear(w: Any, node: fx.Node) -> Any:
    x = w.tensor(node.args[0], "F.linear")
    weight = w.weight(arg(node, 1, "weight"), "F.linear")
    bias = w.weight(arg(node, 2, "bias"), "F.linear")
    return w.functional(node, "Dense", {"units": weight.tensor.shape[0],
                                        "use_bias": bias is not None}, x,
                        {"weight": weight, "bias": bias}, "F.linear")


def matmul(w: Any, node: fx.Node) -> Any:
    wk = _walk_types()
    a, b = w.val(node.args[0]), w.val(node.args[1])
    if isinstance(a, wk.T) and isinstance(b, wk.Param) and not b.index and b.tensor.dim() == 2:
        weight = wk.Param(b.name, b.tensor.detach().t().contiguous())
        w.notes.append(f"{w.where(node)}: x @ self.{b.name} became a Dense layer whose weight "
                       f"is self.{b.name} transposed ({tuple(weight.tensor.shape)})")
        return w.functional(node, "Dense", {"units": b.tensor.shape[1], "use_bias": False},
                            a, {"weight": weight}, "matrix product with a parameter")
    x, y = w.tensor(node.args[0], "matmul"), w.tensor(node.args[1], "matmul")
    if x.swapped or y.swapped or x.as_bool or y.as_bool:
        raise Unsupported("a matrix product of tensors whose batch is not first")
    key = w.add("MatMul", {}, {0: x.ref, 1: y.ref}, node, what="a matrix product")
    return wk.T((key, 0))


def conv(w: Any, node: fx.Node) -> Any:
    type_ = tb.lookup(tb.CONV_FUNCS, node.target)
    what = f"F.{type_.lower().replace('transpose', '_transpose')}"
    x = w.plain(node.args[0], what)
    weight = w.weight(arg(node, 1, "weight"), what)
    bias = w.weight(arg(node, 2, "bias"), what)
    c = w.const
    transpose = "Transpose" in type_
    stride = c(arg(node, 3, "stride", 1), what)
    padding = c(arg(node, 4, "padding", 0), what)
    if transpose:
        output_padding = c(arg(node, 5, "output_padding", 0), what)
        groups = c(arg(node, 6, "groups", 1), what)
        dilation = c(arg(node, 7, "dilation", 1), what)
        out_channels = weight.tensor.shape[1] * groups
    else:
        output_padding = 0
        dilation = c(arg(node, 5, "dilation", 1), what)
        groups = c(arg(node, 6, "groups", 1), what)
        out_channels = weight.tensor.shape[0]
    kernel = tuple(weight.tensor.shape[2:])
    params = tb.conv_params(type_, out_channels, kernel, stride, padding, dilation, groups,
                            bias is not None, output_padding=output_padding)
    return w.functional(node, type_, params, x, {"weight": weight, "bias": bias}, what)


def embedding(w: Any, node: fx.Node) -> Any:
    x = w.plain(node.args[0], "F.embedding")
    weight = w.weight(arg(node, 1, "weight"), "F.embedding")
    c = w.const
    params = tb.embedding_params(weight.tensor.shape[0], weight.tensor.shape[1],
                                 c(arg(node, 2, "padding_idx"), "F.embedding"),
                                 c(arg(node, 3, "max_norm"), "F.embedding"),
                                 c(arg(node, 4, "norm_type", 2.0), "F.embedding"),
                                 c(arg(node, 5, "scale_grad_by_freq", False), "F.embedding"))
    return w.functional(node, "Embedding", params, x, {"weight": weight}, "F.embedding")


def layer_norm(w: Any, node: fx.Node) -> Any:
    x = w.tensor(node.args[0], "F.layer_norm")
    shape = w.const(arg(node, 1, "normalized_shape"), "F.layer_norm")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if len(shape) != 1 or shape[0] != w.dshape(x)[-1]:
        raise Unsupported(f"F.layer_norm over {shape!r} (only the last dimension)")
    weight = w.weight(arg(node, 2, "weight"), "F.layer_norm")
    bias = w.weight(arg(node, 3, "bias"), "F.layer_norm")
    if weight is None and bias is not None:
        raise Unsupported("F.layer_norm with a bias but no weight")
    eps = float(w.const(arg(node, 4, "eps", 1e-5), "F.layer_norm"))
    return w.functional(node, "LayerNorm", {"eps": eps, "elementwise_affine": weight is not None,
                                            "use_bias": bias is not None or weight is None},
                        x, {"weight": weight, "bias": bias}, "F.layer_norm")


def batch_norm(w: Any, node: fx.Node) -> Any:
    x = w.plain(node.args[0], "F.batch_norm")
    mean = w.weight(arg(node, 1, "running_mean"), "F.batch_norm")
    var = w.weight(arg(node, 2, "running_var"), "F.batch_norm")
    weight = w.weight(arg(node, 3, "weight"), "F.batch_norm")
    bias = w.weight(arg(node, 4, "bias"), "F.batch_norm")
    training = w.const(arg(node, 5, "training", False), "F.batch_norm")
    momentum = w.const(arg(node, 6, "momentum", 0.1), "F.batch_norm")
    eps = float(w.const(arg(node, 7, "eps", 1e-5), "F.batch_norm"))
    if (weight is None) != (bias is None):
        raise Unsupported("F.batch_norm with only one of weight and bias")
    if not w.inference and (mean is None) != bool(training):
        raise Unsupported("F.batch_norm that uses running statistics while training (or none "
                          "in eval mode): the BatchNorm layer switches with the mode")
    state = {"weight": weight, "bias": bias, "running_mean": mean, "running_var": var}
    params = {"momentum": float(momentum if momentum is not None else 0.1), "eps": eps,
              "affine": weight is not None, "track_running_stats": mean is not None}
    out = w.functional(node, "BatchNorm", params, x, state, "F.batch_norm")
    if mean is not None:
        w.layers[out.ref[0]].state["num_batches_tracked"] = torch.tensor(0)
    return out


def prelu(w: Any, node: fx.Node) -> Any:
    x = w.plain(node.args[0], "F.prelu")
    weight = w.weight(arg(node, 1, "weight"), "F.prelu")
    return w.functional(node, "PReLU", {"per_channel": weight.tensor.numel() > 1}, x,
                        {"weight": weight}, "F.prelu")


def group_norm(w: Any, node: fx.Node) -> Any:
    x = w.plain(node.args[0], "F.group_norm")
    groups = w.const(arg(node, 1, "num_groups"), "F.group_norm")
    weight = w.weight(arg(node, 2, "weight"), "F.group_norm")
    bias = w.weight(arg(node, 3, "bias"), "F.group_norm")
    eps = float(w.const(arg(node, 4, "eps", 1e-5), "F.group_norm"))
    if (weight is None) != (bias is None):
        raise Unsupported("F.group_norm with only one of weight and bias")
    return w.functional(node, "GroupNorm", {"num_groups": groups, "eps": eps,
                                            "affine": weight is not None}, x,
                        {"weight": weight, "bias": bias}, "F.group_norm")


def instance_norm(w: Any, node: fx.Node) -> Any:
    x = w.plain(node.args[0], "F.instance_norm")
    c = w.const
    mean = w.weight(arg(node, 1, "running_mean"), "F.instance_norm")
    w.weight(arg(node, 2, "running_var"), "F.instance_norm")
    weight = w.weight(arg(node, 3, "weight"), "F.instance_norm")
    bias = w.weight(arg(node, 4, "bias"), "F.instance_norm")
    use_input_stats = c(arg(node, 5, "use_input_stats", True), "F.instance_norm")
    momentum = float(c(arg(node, 6, "momentum", 0.1), "F.instance_norm"))
    eps = float(c(arg(node, 7, "eps", 1e-5), "F.instance_norm"))
    if mean is not None or not use_input_stats or (weight is None) != (bias is None):
        raise Unsupported("F.instance_norm with running statistics or only one of weight and "
                          "bias")
    return w.functional(node, "InstanceNorm", {"eps": eps, "momentum": momentum,
                                               "affine": weight is not None}, x,
                        {"weight": weight, "bias": bias}, "F.instance_norm")


# --- attention -----------------------------------------------------------------------------------

def sdpa(w: Any, node: fx.Node) -> Any:
    wk = _walk_types()
    what = "F.scaled_dot_product_attention"
    q, k, v = (w.tensor(arg(node, i, n), what) for i, n in enumerate(("query", "key", "value")))
    if any(t.swapped or t.as_bool for t in (q, k, v)):
        raise Unsupported(f"{what} of tensors whose batch is not first")
    c = w.const
    if float(c(arg(node, 4, "dropout_p", 0.0), what)) != 0.0:
        raise Unsupported(f"{what} with dropout_p > 0 (the ScaledDotProductAttention layer has "
                          "no dropout)")
    if c(node.kwargs.get("enable_gqa", False), what):
        raise Unsupported(f"{what} with enable_gqa=True")
    causal = bool(c(arg(node, 5, "is_causal", False), what))
    if w._mask(arg(node, 3, "attn_mask"), w.dshape(q)[-2], f"{what}'s attn_mask"):
        causal = True
    scale = c(node.kwargs.get("scale"), what)
    key = w.add("ScaledDotProductAttention",
                {"causal": causal, "scale": None if scale is None else float(scale)},
                {0: q.ref, 1: k.ref, 2: v.ref}, node, what=what)
    return wk.T((key, 0))


# --- constants and pending values ----------------------------------------------------------------

def arange(w: Any, node: fx.Node) -> Any:
    wk = _walk_types()
    values = [w.const(a, "torch.arange") for a in node.args]
    start, end, step = (0, values[0], 1) if len(values) == 1 else \
        (values + [1])[:3] if len(values) >= 2 else (0, node.kwargs.get("end"), 1)
    if "end" in node.kwargs:
        end = w.const(node.kwargs["end"], "torch.arange")
    if "start" in node.kwargs:
        start = w.const(node.kwargs["start"], "torch.arange")
    if start != 0 or step != 1 or not isinstance(end, int):
        raise Unsupported("torch.arange that does not count 0, 1, … (positions)")
    return wk.Positions(end)


def zeros(w: Any, node: fx.Node) -> Any:
    return _walk_types().Zeros(tuple(w.shape(node) or ()))


def full(w: Any, node: fx.Node) -> Any:
    wk = _walk_types()
    shape = w.shape(node) or ()
    value = w.const(arg(node, 1, "fill_value"), "torch.full")
    if len(shape) == 2 and shape[0] == shape[1] and value == float("-inf"):
        return wk.Mask(shape[0], "full")
    raise Unsupported("torch.full (only the -inf square of a causal mask)")


def ones(w: Any, node: fx.Node) -> Any:
    wk = _walk_types()
    shape = w.shape(node) or ()
    if len(shape) == 2 and shape[0] == shape[1] and w.shape(node) == w.shapes3.get(node):
        return wk.Mask(shape[0], "ones_square")
    raise Unsupported("torch.ones (only the square of a causal mask)")


def triu(w: Any, node: fx.Node) -> Any:
    wk = _walk_types()
    v = w.val(node.args[0])
    diagonal = w.const(arg(node, 1, "diagonal", 0), "torch.triu")
    if isinstance(v, wk.Mask) and diagonal == 1:
        return wk.Mask(v.length, "causal" if v.kind == "full" else "ones")
    raise Unsupported("torch.triu (only of a causal mask)")


def randn_like(w: Any, node: fx.Node) -> Any:
    wk = _walk_types()
    if node.kwargs.get("dtype") is not None:
        raise Unsupported("torch.randn_like with a dtype")
    return wk.Noise(tuple(w.shape(node) or ()), node)


def randn(w: Any, node: fx.Node) -> Any:
    wk = _walk_types()
    if w.shapes.get(node) is None or node.kwargs.get("generator") is not None:
        raise Unsupported("torch.randn")
    return wk.Noise(tuple(w.shape(node)), node)


def greater(w: Any, node: fx.Node) -> Any:
    wk = _walk_types()
    x, other = node.args
    t = w.tensor(x, "comparison `>`")
    users = list(node.users)
    if other != 0 or len(users) != 1 or users[0].op != "call_method" or \
            users[0].target not in ("to", "float"):
        raise Unsupported("comparison `>` (only `(x > 0).to(x.dtype)`, the Step layer)")
    return wk.StepPending(t)


def expand(w: Any, node: fx.Node) -> Any:
    """``self.token.expand(x.shape[0], -1, -1)``: a Parameter layer repeated over x's batch."""
    wk = _walk_types()
    p = w.val(node.args[0])
    sizes = node.args[1:]
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    like = _batch_source(w, sizes[0]) if sizes else None
    if not isinstance(p, wk.Param) or p.index or like is None or \
            p.tensor.dim() != len(sizes) or p.tensor.shape[0] != 1:
        raise Unsupported("Tensor.expand() (only of a parameter with a leading 1 to the batch "
                          "size, as in self.token.expand(x.shape[0], -1, -1))")
    for d, size in zip(p.tensor.shape[1:], sizes[1:]):
        if w.const(size, "expand") not in (-1, d):
            raise Unsupported("Tensor.expand() of a parameter beyond the batch dimension")
    return w.parameter_layer(node, p, tuple(p.tensor.shape[1:]), like)


def _batch_source(w: Any, size: Any) -> Any:
    """The design tensor whose batch size ``size`` is (``x.shape[0]``, ``x.size(0)``)."""
    wk = _walk_types()
    v = w.val(size)
    if not (isinstance(size, fx.Node) and isinstance(v, wk.Plumb) and v.batch_dependent):
        return None
    node = size
    if node.op == "call_method" and node.target == "size":
        src = node.args[0]
    elif node.op == "call_function" and node.target is operator.getitem and \
            isinstance(node.args[0], fx.Node) and node.args[1] == 0:
        inner = node.args[0]
        if inner.op == "call_function" and inner.target is getattr:
            src = inner.args[0]
        elif inner.op == "call_method" and inner.target == "size":
            src = inner.args[0]
        else:
            return None
    else:
        return None
    t = w.values.get(src)
    return t if isinstance(t, wk.T) and not t.swapped else None


def register(functions: dict[Any, Any], methods: dict[str, Any]) -> None:
    for target in tb.CAT:
        functions[target] = cat
    functions[torch.flatten] = flatten
    methods["flatten"] = flatten
    functions[torch.reshape] = reshape
    methods["reshape"] = methods["view"] = reshape
    functions[torch.unsqueeze] = methods["unsqueeze"] = unsqueeze
    functions[torch.squeeze] = methods["squeeze"] = squeeze
    functions[torch.unflatten] = methods["unflatten"] = unflatten
    functions[torch.permute] = methods["permute"] = permute
    for name in ("transpose", "swapdims", "swapaxes", "t"):
        methods[name] = transpose
    functions[torch.transpose] = functions[torch.swapdims] = transpose
    functions[torch.split] = functions[torch.chunk] = split
    methods["split"] = methods["chunk"] = split
    for target in tb.REDUCE:
        (methods if isinstance(target, str) else functions)[target] = reduce
    for target in tb.DROPOUT:
        functions[target] = dropout
    for target in tb.POOL:
        functions[target] = pool
    for target in tb.ADAPTIVE:
        functions[target] = adaptive
    functions[F.interpolate] = functions[F.upsample] = interpolate
    for target in (F.pixel_shuffle, F.pixel_unshuffle, torch.pixel_shuffle,
                   torch.pixel_unshuffle):
        functions[target] = pixel_shuffle
    functions[F.pad] = pad
    functions[F.linear] = linear
    for target in tb.MATMUL:
        functions[target] = matmul
    methods["matmul"] = methods["mm"] = methods["bmm"] = matmul
    for target in tb.CONV_FUNCS:
        functions[target] = conv
    functions[F.embedding] = embedding
    functions[F.layer_norm] = layer_norm
    functions[F.batch_norm] = batch_norm
    functions[F.prelu] = prelu
    functions[F.group_norm] = group_norm
    functions[F.instance_norm] = instance_norm
    functions[F.scaled_dot_product_attention] = sdpa
    functions[torch.arange] = arange
    functions[torch.zeros] = functions[torch.zeros_like] = zeros
    functions[torch.full] = full
    functions[torch.ones] = ones
    functions[torch.triu] = triu
    methods["triu"] = triu
    functions[torch.randn_like] = randn_like
    functions[torch.randn] = randn
    functions[operator.gt] = greater
    methods["expand"] = expand
