"""How each catalogue layer becomes PyTorch: an optional ``nn`` layer plus forward statements.

A `LayerPlan` is the single description that both interpretations of the walker use: shape
inference builds the layer on the ``meta`` device and executes the plan's statements on meta
tensors, and code generation writes the very same statements into the generated module. Values
enter a plan only as ``repr()`` of validated ints, floats, bools, tuples and choice strings.

Statements are templates with the placeholders ``{out}`` (this node's variable), ``{layer}``
(its ``nn`` attribute) and ``{x0}``, ``{x1}``… (its inputs in port order).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Shape = tuple[Any, ...]

#: Layer types that have an ``nn`` module attribute in the generated class.
MODULE_TYPES = frozenset({"Dense", "Conv1d", "Conv2d", "BatchNorm", "LayerNorm", "Dropout",
                          "Embedding", "LSTM", "GRU", "SimpleRNN"})
#: Layers that apply their own optional activation.
ACTIVATED_TYPES = frozenset({"Dense", "Conv1d", "Conv2d"})
RNN_CLASSES = {"LSTM": "nn.LSTM", "GRU": "nn.GRU", "SimpleRNN": "nn.RNN"}
RNN_GATES = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}


class PlanProblem(Exception):
    """Why a layer cannot take the shapes it receives; the text completes "<Type> 'name' …"."""


@dataclass(frozen=True)
class LayerPlan:
    """One node in PyTorch terms."""

    ctor: str | None
    """``nn`` class written as ``"nn.Linear"``, or None for layers without a module."""
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()
    statements: tuple[str, ...] = ()
    resolved: tuple[tuple[str, Any], ...] = ()
    """Arguments inferred from the incoming shapes (``in_features`` …), for people."""

    def constructor_source(self) -> str:
        """``nn.Linear(784, 300)`` — the right-hand side of the ``__init__`` line."""
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs]
        return f"{self.ctor}({', '.join(parts)})"


def fmt(shape: Shape) -> str:
    """``(N, 30)``."""
    inner = ", ".join(str(d) for d in shape)
    return f"({inner}{',' if len(shape) == 1 else ''})"


def _activation(expr: str, activation: str, dim: int) -> str:
    if activation == "none":
        return expr
    if activation in ("relu", "tanh", "sigmoid", "sign"):
        return f"torch.{activation}({expr})"
    if activation in ("softmax", "log_softmax"):
        return f"torch.{activation}({expr}, dim={dim!r})"
    if activation in ("gelu", "elu", "leaky_relu"):
        return f"F.{activation}({expr})"
    raise AssertionError(f"unknown activation {activation!r}")


def _need_rank(shape: Shape, ranks: tuple[int, ...], expected: str, fix: str) -> None:
    if len(shape) not in ranks:
        raise PlanProblem(f"receives {fmt(shape)} but needs {expected}{fix}")


def _float_only(type_: str, dtypes: list[str]) -> None:
    if any(d != "float32" for d in dtypes):
        raise PlanProblem("receives integer token ids (int64), which only an Embedding takes: "
                          "set the Input's dtype to float32 or insert an Embedding")


def _fits_kernel(x: Shape, kernel: tuple[int, ...]) -> None:
    spatial = tuple(int(d) for d in x[2:])
    if any(k > d for k, d in zip(kernel, spatial)):
        size = "×".join(str(k) for k in kernel)
        raise PlanProblem(f"receives {fmt(x)} but its {size} window is larger than the input: "
                          "use a smaller kernel, padding 'same', or a larger input")


def _pool_stride(kernel: tuple[int, ...], stride: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(k if s == 0 else s for k, s in zip(kernel, stride))


def plan_layer(type_: str, params: dict[str, Any], shapes: list[Shape], dtypes: list[str],
               strip_activation: bool = False) -> LayerPlan:
    """The plan for a node of ``type_`` receiving ``shapes`` (batch first, as ``"N"``).

    Raises `PlanProblem` when the shapes do not fit. ``strip_activation`` leaves out the final
    softmax/sigmoid (the module returns logits for the loss).
    """
    p = params
    x = shapes[0] if shapes else ()
    act = p.get("activation", "none")
    if strip_activation and type_ in ACTIVATED_TYPES:
        act = "none"

    if type_ == "Dense":
        _float_only(type_, dtypes)
        _need_rank(x, (2, 3), "(N, features)", ": insert a Flatten")
        in_f = int(x[-1])
        expr = _activation("{layer}({x0})", act, -1)
        return LayerPlan("nn.Linear", (in_f, p["units"]),
                         () if p["use_bias"] else (("bias", False),),
                         (f"{{out}} = {expr}",), (("in_features", in_f),))
    if type_ in ("Conv1d", "Conv2d"):
        _float_only(type_, dtypes)
        dims = 1 if type_ == "Conv1d" else 2
        need = "(N, channels, length)" if dims == 1 else "(N, channels, height, width)"
        _need_rank(x, (dims + 2,), need, ": insert a Reshape in front")
        if p["padding"] == "same" and any(s != 1 for s in p["stride"]):
            raise PlanProblem("uses padding 'same' with a stride other than 1: set the stride "
                              "to 1 or the padding to 'valid'")
        if p["padding"] == "valid":
            _fits_kernel(x, tuple(p["kernel_size"]))
        in_ch = int(x[1])
        kwargs: list[tuple[str, Any]] = [("kernel_size", tuple(p["kernel_size"]))]
        if any(s != 1 for s in p["stride"]):
            kwargs.append(("stride", tuple(p["stride"])))
        if p["padding"] != "valid":
            kwargs.append(("padding", p["padding"]))
        if not p["use_bias"]:
            kwargs.append(("bias", False))
        expr = _activation("{layer}({x0})", act, 1)
        return LayerPlan(f"nn.{type_}", (in_ch, p["filters"]), tuple(kwargs),
                         (f"{{out}} = {expr}",), (("in_channels", in_ch),))
    if type_ == "Dropout":
        return LayerPlan("nn.Dropout", (p["p"],), (), ("{out} = {layer}({x0})",))
    if type_ == "BatchNorm":
        _float_only(type_, dtypes)
        if len(x) in (2, 3):
            cls = "nn.BatchNorm1d"
        elif len(x) == 4:
            cls = "nn.BatchNorm2d"
        else:
            raise PlanProblem(f"receives {fmt(x)} but needs (N, features), (N, channels, length)"
                              " or (N, channels, height, width)")
        kwargs = []
        if p["eps"] != 1e-5:
            kwargs.append(("eps", p["eps"]))
        if p["momentum"] != 0.1:
            kwargs.append(("momentum", p["momentum"]))
        return LayerPlan(cls, (int(x[1]),), tuple(kwargs), ("{out} = {layer}({x0})",),
                         (("num_features", int(x[1])),))
    if type_ == "LayerNorm":
        _float_only(type_, dtypes)
        _need_rank(x, (2, 3, 4, 5), "(N, features)", "")
        kwargs = [("eps", p["eps"])] if p["eps"] != 1e-5 else []
        return LayerPlan("nn.LayerNorm", (int(x[-1]),), tuple(kwargs), ("{out} = {layer}({x0})",),
                         (("normalized_shape", int(x[-1])),))
    if type_ == "Embedding":
        if dtypes and dtypes[0] != "int64":
            raise PlanProblem("receives float values but needs integer token ids: set the "
                              "Input's dtype to int64")
        return LayerPlan("nn.Embedding", (p["num_embeddings"], p["embedding_dim"]), (),
                         ("{out} = {layer}({x0})",))
    if type_ in RNN_CLASSES:
        _float_only(type_, dtypes)
        _need_rank(x, (3,), "(N, steps, features)",
                   ": insert a Reshape (e.g. to (steps, features)) in front")
        kwargs = []
        if p["num_layers"] != 1:
            kwargs.append(("num_layers", p["num_layers"]))
        kwargs.append(("batch_first", True))
        if p["bidirectional"]:
            kwargs.append(("bidirectional", True))
        if p["num_layers"] > 1 and p["dropout"] > 0:
            kwargs.append(("dropout", p["dropout"]))
        statements = ["{out}, _ = {layer}({x0})"]
        if not p["return_sequences"]:
            statements.append("{out} = {out}[:, -1]")
        return LayerPlan(RNN_CLASSES[type_], (int(x[-1]), p["hidden_size"]), tuple(kwargs),
                         tuple(statements), (("input_size", int(x[-1])),))
    return _functional(type_, p, x, shapes, dtypes)


def _functional(type_: str, p: dict[str, Any], x: Shape, shapes: list[Shape],
                dtypes: list[str]) -> LayerPlan:
    """Layers without weights: one functional statement."""
    simple = {"ReLU": "torch.relu({x0})", "Tanh": "torch.tanh({x0})",
              "Sigmoid": "torch.sigmoid({x0})", "GELU": "F.gelu({x0})",
              "Sign": "torch.sign({x0})", "Step": "({x0} > 0).to({x0}.dtype)"}
    if type_ in simple:
        _float_only(type_, dtypes)
        return LayerPlan(None, statements=(f"{{out}} = {simple[type_]}",))
    if type_ == "LeakyReLU":
        _float_only(type_, dtypes)
        return LayerPlan(None, statements=(
            f"{{out}} = F.leaky_relu({{x0}}, negative_slope={p['negative_slope']!r})",))
    if type_ == "ELU":
        _float_only(type_, dtypes)
        return LayerPlan(None, statements=(f"{{out}} = F.elu({{x0}}, alpha={p['alpha']!r})",))
    if type_ in ("Softmax", "LogSoftmax"):
        _float_only(type_, dtypes)
        dim = p["dim"]
        if not -len(x) <= dim < len(x) or dim % len(x) == 0:
            raise PlanProblem(f"uses dim {dim} but receives {fmt(x)}: choose a dimension after "
                              f"the batch (1 to {len(x) - 1}, or -1 for the last)")
        fn = "softmax" if type_ == "Softmax" else "log_softmax"
        return LayerPlan(None, statements=(f"{{out}} = torch.{fn}({{x0}}, dim={dim!r})",))
    if type_ == "Flatten":
        start = p["start_dim"]
        if start >= len(x):
            raise PlanProblem(f"starts at dimension {start} but receives {fmt(x)}: lower "
                              "start_dim or remove the Flatten")
        return LayerPlan(None, statements=(f"{{out}} = torch.flatten({{x0}}, {start!r})",))
    if type_ == "Reshape":
        target = tuple(p["shape"])
        have = _numel(x[1:])
        want = _numel(target)
        if have != want:
            raise PlanProblem(f"receives {fmt(x)} ({have} values per sample) but the shape "
                              f"{fmt(target)} holds {want}: change the shape")
        dims = ", ".join(repr(d) for d in target)
        return LayerPlan(None, statements=(f"{{out}} = {{x0}}.reshape({{x0}}.shape[0], {dims})",))
    if type_ in ("MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d"):
        _float_only(type_, dtypes)
        dims = int(type_[-2])
        need = "(N, channels, length)" if dims == 1 else "(N, channels, height, width)"
        _need_rank(x, (dims + 2,), need, ": insert a Reshape in front")
        kernel = tuple(p["kernel_size"])
        _fits_kernel(x, kernel)
        stride = _pool_stride(kernel, tuple(p["stride"]))
        fn = ("max" if type_.startswith("Max") else "avg") + f"_pool{dims}d"
        return LayerPlan(None, statements=(
            f"{{out}} = F.{fn}({{x0}}, kernel_size={kernel!r}, stride={stride!r})",))
    if type_ == "GlobalAvgPool":
        _float_only(type_, dtypes)
        if len(x) < 3:
            raise PlanProblem(f"receives {fmt(x)} but needs (N, channels, …) with spatial "
                              "dimensions: it belongs after a convolution")
        spatial = tuple(range(2, len(x)))
        return LayerPlan(None, statements=(f"{{out}} = {{x0}}.mean(dim={spatial!r})",))
    if type_ == "Concatenate":
        return _concatenate(p, shapes)
    if type_ in ("Add", "Multiply"):
        if any(s != shapes[0] for s in shapes[1:]):
            got = " and ".join(fmt(s) for s in shapes)
            raise PlanProblem(f"receives {got} but needs inputs of one shape: insert a Dense "
                              "(or Reshape) in front of an input to match the others")
        op = " + " if type_ == "Add" else " * "
        joined = op.join(f"{{x{i}}}" for i in range(len(shapes)))
        return LayerPlan(None, statements=(f"{{out}} = {joined}",))
    raise PlanProblem("is not supported by the PyTorch backend")


def _concatenate(p: dict[str, Any], shapes: list[Shape]) -> LayerPlan:
    got = " and ".join(fmt(s) for s in shapes)
    rank = len(shapes[0])
    if any(len(s) != rank for s in shapes):
        raise PlanProblem(f"receives {got} but needs inputs with the same number of "
                          "dimensions: insert a Flatten or Reshape in front of one")
    axis = p["axis"]
    if not -rank <= axis < rank or axis % rank == 0:
        raise PlanProblem(f"joins on axis {axis} but receives {got}: choose an axis after the "
                          f"batch (1 to {rank - 1}, or -1 for features)")
    ax = axis % rank
    for d in range(1, rank):
        if d != ax and len({s[d] for s in shapes}) > 1:
            raise PlanProblem(f"receives {got} but needs all dimensions except axis {axis} "
                              "to match: insert a Dense or Reshape in front of an input")
    joined = ", ".join(f"{{x{i}}}" for i in range(len(shapes)))
    return LayerPlan(None, statements=(f"{{out}} = torch.cat([{joined}], dim={axis!r})",))


def _numel(dims: tuple[Any, ...]) -> int:
    n = 1
    for d in dims:
        n *= int(d)
    return n


def flops(type_: str, plan: LayerPlan, in_shape: Shape, out_shape: Shape,
          params: dict[str, Any]) -> int | None:
    """Multiply-adds × 2 for one sample, for the layers where that is the cost that matters."""
    if type_ == "Dense":
        steps = int(in_shape[1]) if len(in_shape) == 3 else 1
        return 2 * int(in_shape[-1]) * params["units"] * steps
    if type_ in ("Conv1d", "Conv2d"):
        return 2 * _numel(out_shape[1:]) * int(in_shape[1]) * _numel(params["kernel_size"])
    if type_ in RNN_CLASSES:
        hidden, steps, feat = params["hidden_size"], int(in_shape[1]), int(in_shape[2])
        dirs = 2 if params["bidirectional"] else 1
        total = 0
        for layer in range(params["num_layers"]):
            size = feat if layer == 0 else hidden * dirs
            total += RNN_GATES[type_] * 2 * (size * hidden + hidden * hidden) * steps * dirs
        return total
    return None
