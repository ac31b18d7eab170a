"""How each catalogue layer becomes PyTorch: an optional ``nn`` layer plus forward statements.

A `LayerPlan` is the single description that both interpretations of the walker use: shape
inference builds the layer on the ``meta`` device and executes the plan's statements on meta
tensors, and code generation writes the very same statements into the generated module. Values
enter a plan only as ``repr()`` of validated ints, floats, bools, tuples and choice strings.

Statements are templates with the placeholders ``{out}`` (this node's variable, its output 0),
``{out1}``, ``{out2}``… (its other outputs), ``{layer}`` (its ``nn`` attribute) and ``{x0}``,
``{x1}``… (its inputs by port: for a layer with named ports, ``{x1}`` is port 1 whether or not
port 0 … are connected; for Concatenate/Add/Multiply, the connected inputs in port order).

`init_lines` says how ``reset_parameters`` starts each layer, with the project's initializer
defaults (PyTorch's own, or Keras's Glorot-uniform kernels and zero biases).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Shape = tuple[Any, ...]

#: Layers that apply their own optional activation.
ACTIVATED_TYPES = frozenset({"Dense", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d",
                             "ConvTranspose2d", "ConvTranspose3d"})
RNN_CLASSES = {"LSTM": "nn.LSTM", "GRU": "nn.GRU", "SimpleRNN": "nn.RNN"}
RNN_GATES = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}
#: Modules whose constructors initialise them and that have no public reset_parameters().
CONSTRUCTOR_INITIALISED = frozenset({"MultiheadAttention", "TransformerEncoderLayer",
                                     "TransformerDecoderLayer"})
_CAUSAL_MASK = "nn.Transformer.generate_square_subsequent_mask({x}.shape[1], device={x}.device)"


@dataclass(frozen=True)
class Fix:
    """A one-click repair of a shape error, as data the canvas can offer as a quick fix.

    ``kind`` is ``insert_before`` (args: ``port``, ``type``, ``params``: put a layer in front of
    that input), ``replace_type`` (``type``, ``params``: the same connections, another layer) or
    ``set_params`` (``params``: change this node's parameters). `graph.fixes` turns one into an
    edit.
    """

    kind: str
    args: dict[str, Any] = field(default_factory=dict)
    label: str = ""


def insert_before(port: int, type_: str, label: str, **params: Any) -> Fix:
    return Fix("insert_before", {"port": port, "type": type_, "params": params}, label)


def set_params(label: str, **params: Any) -> Fix:
    return Fix("set_params", {"params": params}, label)


class PlanProblem(Exception):
    """Why a layer cannot take the shapes it receives; the text completes "<Type> 'name' …"."""

    def __init__(self, text: str, fixes: tuple[Fix, ...] = ()) -> None:
        super().__init__(text)
        self.fixes = tuple(fixes)


@dataclass(frozen=True)
class LayerPlan:
    """One node in PyTorch terms."""

    ctor: str | None
    """``nn`` class written as ``"nn.Linear"`` (or ``"nn.Parameter"``), None without one."""
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()
    statements: tuple[str, ...] = ()
    resolved: tuple[tuple[str, Any], ...] = ()
    """Arguments inferred from the incoming shapes (``in_features`` …), for people."""
    outputs: int = 1
    """How many outputs the statements define (``{out}``, ``{out1}``, …)."""
    scales_with_steps: bool = False
    """A recurrent layer: its outputs' step dimension (output 0's dimension 1, when it has one)
    is the input's, and everything else is independent of the number of steps."""

    @property
    def is_parameter(self) -> bool:
        """A bare learned tensor (``nn.Parameter``) rather than a module."""
        return self.ctor == "nn.Parameter"

    def constructor_source(self) -> str:
        """``nn.Linear(784, 300)`` — the right-hand side of the ``__init__`` line."""
        if self.is_parameter:
            return f"nn.Parameter(torch.zeros({', '.join(repr(a) for a in self.args)}))"
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs]
        return f"{self.ctor}({', '.join(parts)})"


def fmt(shape: Shape) -> str:
    """``(N, 30)``."""
    inner = ", ".join(str(d) for d in shape)
    return f"({inner}{',' if len(shape) == 1 else ''})"


def _numel(dims: tuple[Any, ...]) -> int:
    n = 1
    for d in dims:
        n *= int(d)
    return n


@dataclass
class _Node:
    """What a planner sees: the node's parameters, inputs and which outputs are wanted."""

    type: str
    p: dict[str, Any]
    shapes: list[Shape | None]
    dtypes: list[str | None]
    used: frozenset[int] | None
    strip: bool

    @property
    def x(self) -> Shape:
        return self.shapes[0] if self.shapes and self.shapes[0] is not None else ()

    def has(self, port: int) -> bool:
        return port < len(self.shapes) and self.shapes[port] is not None

    def wants(self, port: int) -> bool:
        return self.used is None or port in self.used

    def out(self, port: int) -> str:
        """The placeholder of output ``port``, or ``_`` when nothing reads it."""
        if not self.wants(port):
            return "_"
        return "{out}" if port == 0 else f"{{out{port}}}"

    @property
    def activation(self) -> str:
        return "none" if self.strip else self.p.get("activation", "none")


_PLANNERS: dict[str, Callable[[_Node], LayerPlan]] = {}


def _plans(*types: str) -> Callable[[Callable[[_Node], LayerPlan]], Callable[[_Node], LayerPlan]]:
    def register(fn: Callable[[_Node], LayerPlan]) -> Callable[[_Node], LayerPlan]:
        for t in types:
            _PLANNERS[t] = fn
        return fn
    return register


def planned_types() -> frozenset[str]:
    """Every layer type the PyTorch backend can plan (Input and Output are the walker's)."""
    return frozenset(_PLANNERS)


def plan_layer(type_: str, params: dict[str, Any], shapes: list[Shape | None],
               dtypes: list[str | None], strip_activation: bool = False,
               used: frozenset[int] | None = None) -> LayerPlan:
    """The plan for a node of ``type_`` receiving ``shapes`` (batch first, as ``"N"``).

    ``shapes`` and ``dtypes`` are indexed by input port (None: an optional port left open).
    Raises `PlanProblem` when the shapes do not fit. ``strip_activation`` leaves out the final
    softmax/sigmoid (the module returns logits for the loss); ``used`` names the outputs the
    generated code reads (None: all of them; the others are written as ``_``).
    """
    planner = _PLANNERS.get(type_)
    if planner is None:
        raise PlanProblem("is not supported by the PyTorch backend")
    return planner(_Node(type_, params, list(shapes), list(dtypes), used, strip_activation))


# --- shared checks --------------------------------------------------------------------------------

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


def _need_rank(shape: Shape, ranks: tuple[int, ...], expected: str, fix: str,
               fixes: tuple[Fix, ...] = ()) -> None:
    if len(shape) not in ranks:
        raise PlanProblem(f"receives {fmt(shape)} but needs {expected}{fix}", fixes)


def _float_only(n: _Node) -> None:
    if any(d is not None and d != "float32" for d in n.dtypes):
        raise PlanProblem("receives integer token ids (int64), which only an Embedding takes: "
                          "set the Input's dtype to float32 or insert an Embedding",
                          (insert_before(0, "Embedding", "Insert an Embedding in front"),))


def _float_port(n: _Node, port: int, what: str) -> None:
    if n.dtypes[port] not in (None, "float32"):
        raise PlanProblem(f"receives integer values at its {what} input, which needs floats: "
                          "set that Input's dtype to float32")


def _square_guess(features: int, channels: int = 1) -> tuple[int, ...] | None:
    """(1, 8, 8) for 64 features: the Reshape that makes a flat vector an image, if square."""
    side = math.isqrt(features // channels) if features % channels == 0 else 0
    return (channels, side, side) if side and side * side * channels == features else None


def _reshape_fix(x: Shape, rank: int) -> tuple[Fix, ...]:
    """A Reshape in front that gives a flat (N, F) input the rank a layer needs."""
    if len(x) != 2:
        return ()
    features = int(x[1])
    if rank == 3:
        target: tuple[int, ...] | None = (1, features)
    elif rank == 4:
        target = _square_guess(features)
    else:
        return ()
    if target is None:
        return ()
    return (insert_before(0, "Reshape", f"Insert a Reshape to {fmt(('N', *target))}",
                          shape=target),)


def _dim(dim: int, rank: int, what: str = "dim", fix_dim: int | None = None) -> int:
    """``dim`` made non-negative for a rank-``rank`` input; the batch (0) is refused."""
    if not -rank <= dim < rank or dim % rank == 0:
        fixes = () if fix_dim is None else (set_params(f"Set {what} to {fix_dim}",
                                                       **{what: fix_dim}),)
        raise PlanProblem(f"uses {what} {dim} but receives a {rank}-D input: choose a dimension "
                          f"after the batch (1 to {rank - 1}, or -1 for the last)", fixes)
    return dim % rank


def _spatial(x: Shape) -> tuple[int, ...]:
    return tuple(int(d) for d in x[2:])


def _per_dim(value: Any, dims: int) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * dims
    return tuple(value)


def _window_fits(x: Shape, kernel: tuple[int, ...], dilation: tuple[int, ...],
                 padding: tuple[int, ...], fixes: tuple[Fix, ...] = ()) -> None:
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(s > size + 2 * p for s, size, p in zip(span, _spatial(x), padding)):
        size = "×".join(str(k) for k in kernel)
        raise PlanProblem(f"receives {fmt(x)} but its {size} window is larger than the input: "
                          "use a smaller kernel, padding 'same', or a larger input", fixes)


def _pool_stride(kernel: tuple[int, ...], stride: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(k if s == 0 else s for k, s in zip(kernel, stride))


def _broadcastable(shapes: list[Shape]) -> bool:
    """Equal ranks, and every dimension equal or 1 (the batch equal): PyTorch broadcasting
    without adding dimensions, which could silently pair the batch with a feature axis."""
    if any(len(s) != len(shapes[0]) for s in shapes):
        return False
    for d in range(1, len(shapes[0])):
        sizes = {int(s[d]) for s in shapes} - {1}
        if len(sizes) > 1:
            return False
    return True


def _kwarg_if(kwargs: list[tuple[str, Any]], name: str, value: Any, default: Any) -> None:
    if value != default:
        kwargs.append((name, value))


def _call(fn: str, *args: str, **kwargs: Any) -> str:
    parts = list(args) + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{fn}({', '.join(parts)})"


def _single(statement: str, ctor: str | None = None, args: tuple[Any, ...] = (),
            kwargs: tuple[tuple[str, Any], ...] = (),
            resolved: tuple[tuple[str, Any], ...] = ()) -> LayerPlan:
    return LayerPlan(ctor, args, kwargs, (f"{{out}} = {statement}",), resolved)


# --- core ------------------------------------------------------------------------------------------

@_plans("Dense")
def _dense(n: _Node) -> LayerPlan:
    _float_only(n)
    x = n.x
    if len(x) == 1:
        raise PlanProblem(f"receives {fmt(x)}, one value per sample, but needs (N, features): "
                          "insert a Reshape to (1,) in front",
                          (insert_before(0, "Reshape", "Insert a Reshape to (N, 1)", shape=(1,)),))
    _need_rank(x, (2, 3), "(N, features)", ": insert a Flatten",
               (insert_before(0, "Flatten", "Insert a Flatten in front"),))
    in_f = int(x[-1])
    expr = _activation("{layer}({x0})", n.activation, -1)
    return _single(expr, "nn.Linear", (in_f, n.p["units"]),
                   () if n.p["use_bias"] else (("bias", False),), (("in_features", in_f),))


@_plans("Flatten")
def _flatten(n: _Node) -> LayerPlan:
    x, start, end = n.x, n.p["start_dim"], n.p["end_dim"]
    if start >= len(x):
        raise PlanProblem(f"starts at dimension {start} but receives {fmt(x)}: lower "
                          "start_dim or remove the Flatten", (set_params("Set start_dim to 1",
                                                                         start_dim=1),))
    if not -len(x) <= end < len(x) or end % len(x) < start:
        raise PlanProblem(f"ends at dimension {end} but starts at {start} for {fmt(x)}: choose "
                          f"an end_dim from {start} to {len(x) - 1} (or -1 for the last)",
                          (set_params("Set end_dim to -1", end_dim=-1),))
    args = [repr(start)] + ([] if end == -1 or end % len(x) == len(x) - 1 else [repr(end)])
    return _single(f"torch.flatten({{x0}}, {', '.join(args)})")


@_plans("Reshape")
def _reshape(n: _Node) -> LayerPlan:
    x, target = n.x, tuple(n.p["shape"])
    have = _numel(x[1:])
    free = [i for i, d in enumerate(target) if d == -1]
    if len(free) > 1 or 0 in target:
        raise PlanProblem(f"has the shape {fmt(target)}: sizes must be at least 1, with at most "
                          "one -1 (inferred)")
    want = _numel(d for d in target if d != -1)
    if (free and have % want) or (not free and have != want):
        holds = f"holds {want}" if not free else f"needs a multiple of {want}"
        raise PlanProblem(f"receives {fmt(x)} ({have} values per sample) but the shape "
                          f"{fmt(target)} {holds}: change the shape",
                          (set_params(f"Set the shape to ({have},)", shape=(have,)),))
    dims = ", ".join(repr(d) for d in target)
    return _single(f"{{x0}}.reshape({{x0}}.shape[0], {dims})")


@_plans("Parameter")
def _parameter(n: _Node) -> LayerPlan:
    shape = tuple(n.p["shape"])
    keep = ", ".join(["-1"] * len(shape))
    return LayerPlan("nn.Parameter", (1, *shape),
                     statements=(f"{{out}} = {{layer}}.expand({{x0}}.shape[0], {keep})",))


@_plans("Sampling")
def _sampling(n: _Node) -> LayerPlan:
    _float_only(n)
    mean, log_var = n.shapes[0], n.shapes[1]
    if mean != log_var:
        raise PlanProblem(f"receives a mean {fmt(mean)} and a log-variance {fmt(log_var)}: they "
                          "need one shape (two Dense layers of the same units)")
    if len(mean) < 2:
        raise PlanProblem(f"receives {fmt(mean)} but needs (N, features)")
    statements = []
    if n.wants(0):
        draw = "{out} = {x0} + torch.exp(0.5 * {x1}) * torch.randn_like({x0})"
        statements.append(draw if n.p.get("sample_in_eval") else
                          f"{draw} if self.training else {{x0}}")
    if n.wants(1):
        dims: Any = 1 if len(mean) == 2 else tuple(range(1, len(mean)))
        statements.append(f"{n.out(1)} = -0.5 * torch.sum(1 + {{x1}} - {{x0}} * {{x0}} - "
                          f"torch.exp({{x1}}), dim={dims!r}, keepdim=True)")
    return LayerPlan(None, statements=tuple(statements), outputs=2)


# --- regularization and normalization ------------------------------------------------------------

@_plans("Dropout")
def _dropout(n: _Node) -> LayerPlan:
    return _single("{layer}({x0})", "nn.Dropout", (n.p["p"],))


@_plans("Dropout1d", "Dropout2d", "Dropout3d")
def _dropout_nd(n: _Node) -> LayerPlan:
    _float_only(n)
    dims = int(n.type[-2])
    _need_rank(n.x, (dims + 2,), f"(N, channels, {_SPATIAL[dims]})",
               ": use Dropout for other shapes",
               (Fix("replace_type", {"type": "Dropout", "params": {"p": n.p["p"]}},
                    "Use Dropout instead"),))
    return _single("{layer}({x0})", f"nn.{n.type}", (n.p["p"],))


_SPATIAL = {1: "length", 2: "height, width", 3: "depth, height, width"}
_BY_RANK = {3: "1d", 4: "2d", 5: "3d"}


@_plans("BatchNorm")
def _batch_norm(n: _Node) -> LayerPlan:
    _float_only(n)
    x = n.x
    if len(x) in (2, 3):
        cls = "nn.BatchNorm1d"
    elif len(x) in (4, 5):
        cls = f"nn.BatchNorm{len(x) - 2}d"
    else:
        raise PlanProblem(f"receives {fmt(x)} but needs (N, features), (N, channels, length)"
                          " or (N, channels, height, width)")
    kwargs: list[tuple[str, Any]] = []
    _kwarg_if(kwargs, "eps", n.p["eps"], 1e-5)
    _kwarg_if(kwargs, "momentum", n.p["momentum"], 0.1)
    _kwarg_if(kwargs, "affine", n.p["affine"], True)
    _kwarg_if(kwargs, "track_running_stats", n.p["track_running_stats"], True)
    return _single("{layer}({x0})", cls, (int(x[1]),), tuple(kwargs),
                   (("num_features", int(x[1])),))


@_plans("LayerNorm")
def _layer_norm(n: _Node) -> LayerPlan:
    _float_only(n)
    x = n.x
    _need_rank(x, (2, 3, 4, 5, 6), "(N, features)", "")
    kwargs: list[tuple[str, Any]] = []
    _kwarg_if(kwargs, "eps", n.p["eps"], 1e-5)
    _kwarg_if(kwargs, "elementwise_affine", n.p["elementwise_affine"], True)
    if n.p["elementwise_affine"]:
        _kwarg_if(kwargs, "bias", n.p["use_bias"], True)
    return _single("{layer}({x0})", "nn.LayerNorm", (int(x[-1]),), tuple(kwargs),
                   (("normalized_shape", int(x[-1])),))


@_plans("InstanceNorm")
def _instance_norm(n: _Node) -> LayerPlan:
    _float_only(n)
    x = n.x
    _need_rank(x, (3, 4, 5), "(N, channels, length), (N, channels, height, width) or "
               "(N, channels, depth, height, width)", ": insert a Reshape in front",
               _reshape_fix(x, 4))
    kwargs: list[tuple[str, Any]] = []
    _kwarg_if(kwargs, "eps", n.p["eps"], 1e-5)
    _kwarg_if(kwargs, "momentum", n.p["momentum"], 0.1)
    _kwarg_if(kwargs, "affine", n.p["affine"], False)
    _kwarg_if(kwargs, "track_running_stats", n.p["track_running_stats"], False)
    return _single("{layer}({x0})", f"nn.InstanceNorm{_BY_RANK[len(x)]}", (int(x[1]),),
                   tuple(kwargs), (("num_features", int(x[1])),))


@_plans("GroupNorm")
def _group_norm(n: _Node) -> LayerPlan:
    _float_only(n)
    x = n.x
    _need_rank(x, (2, 3, 4, 5, 6), "(N, channels, …)", "")
    channels, groups = int(x[1]), n.p["num_groups"]
    if channels % groups:
        best = math.gcd(channels, groups)
        raise PlanProblem(f"receives {channels} channels, which {groups} groups do not divide: "
                          f"choose a divisor of {channels} (e.g. {best})",
                          (set_params(f"Set num_groups to {best}", num_groups=best),))
    kwargs: list[tuple[str, Any]] = []
    _kwarg_if(kwargs, "eps", n.p["eps"], 1e-5)
    _kwarg_if(kwargs, "affine", n.p["affine"], True)
    return _single("{layer}({x0})", "nn.GroupNorm", (groups, channels), tuple(kwargs),
                   (("num_channels", channels),))


# --- activations -----------------------------------------------------------------------------------

_SIMPLE = {"ReLU": "torch.relu({x0})", "ReLU6": "F.relu6({x0})", "Tanh": "torch.tanh({x0})",
           "Sigmoid": "torch.sigmoid({x0})", "Sign": "torch.sign({x0})",
           "Step": "({x0} > 0).to({x0}.dtype)", "SiLU": "F.silu({x0})", "Mish": "F.mish({x0})",
           "SELU": "F.selu({x0})", "Hardswish": "F.hardswish({x0})",
           "Hardsigmoid": "F.hardsigmoid({x0})", "Softsign": "F.softsign({x0})",
           "Exp": "torch.exp({x0})", "Log": "torch.log({x0})", "Sqrt": "torch.sqrt({x0})",
           "Abs": "torch.abs({x0})"}


@_plans(*_SIMPLE)
def _simple(n: _Node) -> LayerPlan:
    _float_only(n)
    return _single(_SIMPLE[n.type])


@_plans("GELU")
def _gelu(n: _Node) -> LayerPlan:
    _float_only(n)
    if n.p["approximate"] == "none":
        return _single("F.gelu({x0})")
    return _single(_call("F.gelu", "{x0}", approximate=n.p["approximate"]))


@_plans("LeakyReLU")
def _leaky_relu(n: _Node) -> LayerPlan:
    _float_only(n)
    return _single(_call("F.leaky_relu", "{x0}", negative_slope=n.p["negative_slope"]))


@_plans("ELU", "CELU")
def _elu(n: _Node) -> LayerPlan:
    _float_only(n)
    if n.type == "CELU" and n.p["alpha"] == 1.0:
        return _single("F.celu({x0})")
    return _single(_call(f"F.{n.type.lower()}", "{x0}", alpha=n.p["alpha"]))


@_plans("Softplus")
def _softplus(n: _Node) -> LayerPlan:
    _float_only(n)
    kwargs = {k: n.p[k] for k, d in (("beta", 1.0), ("threshold", 20.0)) if n.p[k] != d}
    return _single(_call("F.softplus", "{x0}", **kwargs))


@_plans("PReLU")
def _prelu(n: _Node) -> LayerPlan:
    _float_only(n)
    x = n.x
    args: tuple[Any, ...] = ()
    if n.p["per_channel"]:
        args = (int(x[1]),)
    kwargs = (("init", n.p["init"]),) if n.p["init"] != 0.25 else ()
    return _single("{layer}({x0})", "nn.PReLU", args, kwargs,
                   (("num_parameters", int(x[1]) if n.p["per_channel"] else 1),))


@_plans("Softmax", "LogSoftmax")
def _softmax(n: _Node) -> LayerPlan:
    _float_only(n)
    x, dim = n.x, n.p["dim"]
    if not -len(x) <= dim < len(x) or dim % len(x) == 0:
        raise PlanProblem(f"uses dim {dim} but receives {fmt(x)}: choose a dimension after "
                          f"the batch (1 to {len(x) - 1}, or -1 for the last)",
                          (set_params("Set dim to -1", dim=-1),))
    fn = "softmax" if n.type == "Softmax" else "log_softmax"
    return _single(f"torch.{fn}({{x0}}, dim={dim!r})")


# --- convolution, pooling, resampling -------------------------------------------------------------

def _conv_input(n: _Node, dims: int) -> Shape:
    _float_only(n)
    x = n.x
    need = f"(N, channels, {_SPATIAL[dims]})"
    _need_rank(x, (dims + 2,), need, ": insert a Reshape in front", _reshape_fix(x, dims + 2))
    return x


def _groups_fit(in_ch: int, out_ch: int, groups: int) -> None:
    if in_ch % groups or out_ch % groups:
        best = math.gcd(in_ch, out_ch)
        raise PlanProblem(f"receives {in_ch} channels and makes {out_ch}, which groups "
                          f"{groups} must divide both: choose groups dividing both (e.g. "
                          f"{math.gcd(best, groups) or 1})",
                          (set_params(f"Set groups to {math.gcd(best, groups) or 1}",
                                      groups=math.gcd(best, groups) or 1),))


def _odd_same_padding(kernel: tuple[int, ...], dilation: tuple[int, ...]) -> int | tuple[int, ...]:
    pads = tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation))
    return pads[0] if len(set(pads)) == 1 else pads


@_plans("Conv1d", "Conv2d", "Conv3d")
def _conv(n: _Node) -> LayerPlan:
    dims = int(n.type[-2])
    x = _conv_input(n, dims)
    p = n.p
    kernel, stride, dilation = tuple(p["kernel_size"]), tuple(p["stride"]), tuple(p["dilation"])
    padding = p["padding"]
    if padding == "same" and any(s != 1 for s in stride):
        pad = _odd_same_padding(kernel, dilation)
        raise PlanProblem("uses padding 'same' with a stride other than 1: set the stride to 1, "
                          f"or the padding to a number ({pad!r} keeps ⌈size / stride⌉ for odd "
                          "kernels)", (set_params(f"Set padding to {pad!r}", padding=pad),
                                       set_params("Set stride to 1", stride=(1,) * dims)))
    pads = (0,) * dims if padding in ("valid", "same") else _per_dim(padding, dims)
    if padding != "same":
        _window_fits(x, kernel, dilation, pads,
                     (set_params("Set padding to 'same'", padding="same"),)
                     if all(s == 1 for s in stride) else ())
    in_ch = int(x[1])
    _groups_fit(in_ch, p["filters"], p["groups"])
    kwargs: list[tuple[str, Any]] = [("kernel_size", kernel)]
    if any(s != 1 for s in stride):
        kwargs.append(("stride", stride))
    if padding == "same" or (padding != "valid" and any(v != 0 for v in pads)):
        kwargs.append(("padding", padding))
    if any(d != 1 for d in dilation):
        kwargs.append(("dilation", dilation))
    _kwarg_if(kwargs, "groups", p["groups"], 1)
    _kwarg_if(kwargs, "padding_mode", p["padding_mode"], "zeros")
    if not p["use_bias"]:
        kwargs.append(("bias", False))
    expr = _activation("{layer}({x0})", n.activation, 1)
    return _single(expr, f"nn.{n.type}", (in_ch, p["filters"]), tuple(kwargs),
                   (("in_channels", in_ch),))


@_plans("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")
def _conv_transpose(n: _Node) -> LayerPlan:
    dims = int(n.type[-2])
    x = _conv_input(n, dims)
    p = n.p
    kernel, stride, dilation = tuple(p["kernel_size"]), tuple(p["stride"]), tuple(p["dilation"])
    out_pad = _per_dim(p["output_padding"], dims)
    if any(o >= s and o >= d for o, s, d in zip(out_pad, stride, dilation)):
        raise PlanProblem(f"uses output_padding {p['output_padding']!r}, which must be smaller "
                          "than the stride (or the dilation): lower it or raise the stride",
                          (set_params("Set output_padding to 0", output_padding=0),))
    in_ch = int(x[1])
    _groups_fit(in_ch, p["filters"], p["groups"])
    kwargs: list[tuple[str, Any]] = [("kernel_size", kernel)]
    if any(s != 1 for s in stride):
        kwargs.append(("stride", stride))
    for name in ("padding", "output_padding"):
        if any(v != 0 for v in _per_dim(p[name], dims)):
            kwargs.append((name, p[name]))
    if any(d != 1 for d in dilation):
        kwargs.append(("dilation", dilation))
    _kwarg_if(kwargs, "groups", p["groups"], 1)
    if not p["use_bias"]:
        kwargs.append(("bias", False))
    expr = _activation("{layer}({x0})", n.activation, 1)
    return _single(expr, f"nn.{n.type}", (in_ch, p["filters"]), tuple(kwargs),
                   (("in_channels", in_ch),))


@_plans("MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d")
def _pool(n: _Node) -> LayerPlan:
    dims = int(n.type[-2])
    x = _conv_input(n, dims)
    p = n.p
    kernel = tuple(p["kernel_size"])
    dilation = tuple(p.get("dilation", (1,) * dims))
    pads = _per_dim(p["padding"], dims)
    if any(2 * pad > d * (k - 1) + 1 for pad, k, d in zip(pads, kernel, dilation)):
        raise PlanProblem(f"pads by {p['padding']!r}, more than half its window: lower the "
                          "padding or widen the window", (set_params("Set padding to 0",
                                                                     padding=0),))
    _window_fits(x, kernel, dilation, pads)
    stride = _pool_stride(kernel, tuple(p["stride"]))
    kwargs: dict[str, Any] = {"kernel_size": kernel, "stride": stride}
    if any(v != 0 for v in pads):
        kwargs["padding"] = p["padding"]
    if any(d != 1 for d in dilation):
        kwargs["dilation"] = dilation
    if p["ceil_mode"]:
        kwargs["ceil_mode"] = True
    if not p.get("count_include_pad", True):
        kwargs["count_include_pad"] = False
    fn = ("max" if n.type.startswith("Max") else "avg") + f"_pool{dims}d"
    return _single(_call(f"F.{fn}", "{x0}", **kwargs))


@_plans("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d")
def _adaptive_pool(n: _Node) -> LayerPlan:
    dims = int(n.type[-2])
    _conv_input(n, dims)
    fn = ("adaptive_avg" if "Avg" in n.type else "adaptive_max") + f"_pool{dims}d"
    return _single(f"F.{fn}({{x0}}, {tuple(n.p['output_size'])!r})")


@_plans("GlobalAvgPool")
def _global_avg_pool(n: _Node) -> LayerPlan:
    _float_only(n)
    x = n.x
    if len(x) < 3:
        raise PlanProblem(f"receives {fmt(x)} but needs (N, channels, …) with spatial "
                          "dimensions: it belongs after a convolution")
    spatial = tuple(range(2, len(x)))
    return _single(f"{{x0}}.mean(dim={spatial!r})")


_MODE_RANK = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}


@_plans("Upsample")
def _upsample(n: _Node) -> LayerPlan:
    _float_only(n)
    x, p = n.x, n.p
    mode = p["mode"]
    _need_rank(x, (3, 4, 5), "(N, channels, …) with 1 to 3 spatial dimensions",
               ": insert a Reshape in front", _reshape_fix(x, 4))
    if mode in _MODE_RANK and len(x) != _MODE_RANK[mode]:
        fitting = {3: "linear", 4: "bilinear", 5: "trilinear"}[len(x)]
        raise PlanProblem(f"uses mode '{mode}' but receives {fmt(x)}: '{mode}' resizes "
                          f"{_MODE_RANK[mode] - 2}-D data; use '{fitting}' or 'nearest'",
                          (set_params(f"Set mode to '{fitting}'", mode=fitting),))
    if p["align_corners"] and mode not in _MODE_RANK:
        raise PlanProblem(f"uses align_corners with mode '{mode}': it applies to the linear "
                          "modes only; untick it",
                          (set_params("Untick align_corners", align_corners=False),))
    kwargs: dict[str, Any] = {}
    if p["size"] is not None:
        size = tuple(p["size"])
        if len(size) != len(x) - 2:
            raise PlanProblem(f"has the size {size!r} but receives {fmt(x)} with "
                              f"{len(x) - 2} spatial dimension(s): give one size per dimension")
        kwargs["size"] = size
    else:
        kwargs["scale_factor"] = p["scale_factor"]
    kwargs["mode"] = mode
    if p["align_corners"]:
        kwargs["align_corners"] = True
    return _single(_call("F.interpolate", "{x0}", **kwargs))


@_plans("PixelShuffle", "PixelUnshuffle")
def _pixel_shuffle(n: _Node) -> LayerPlan:
    _float_only(n)
    x = n.x
    _need_rank(x, (4,), "(N, channels, height, width)", ": insert a Reshape in front",
               _reshape_fix(x, 4))
    if n.type == "PixelShuffle":
        r = n.p["upscale_factor"]
        if int(x[1]) % (r * r):
            raise PlanProblem(f"receives {fmt(x)} but its {x[1]} channels are not a multiple of "
                              f"r² = {r * r}: give the layer before it {r * r}·k channels")
        return _single(f"F.pixel_shuffle({{x0}}, {r!r})")
    r = n.p["downscale_factor"]
    if int(x[2]) % r or int(x[3]) % r:
        raise PlanProblem(f"receives {fmt(x)} but its height and width must be multiples of "
                          f"{r}: resize the input or lower downscale_factor")
    return _single(f"F.pixel_unshuffle({{x0}}, {r!r})")


@_plans("ZeroPad", "ReflectionPad", "ReplicationPad")
def _pad(n: _Node) -> LayerPlan:
    _float_only(n)
    x = n.x
    _need_rank(x, (3, 4, 5), "(N, channels, …) with 1 to 3 spatial dimensions",
               ": insert a Reshape in front", _reshape_fix(x, 4))
    spatial = len(x) - 2
    pad = tuple(n.p["padding"])
    if len(pad) == 1:
        pad = pad * (2 * spatial)
    if len(pad) % 2 or len(pad) > 2 * spatial:
        raise PlanProblem(f"has the padding {tuple(n.p['padding'])!r} but receives {fmt(x)}: "
                          f"give one number, or (left, right) pairs for up to {spatial} "
                          "dimension(s)", (set_params("Pad every side by 1", padding=(1,)),))
    if n.type == "ReflectionPad":
        sizes = [int(d) for d in reversed(x[2:])]
        for i, amount in enumerate(pad):
            if amount >= sizes[i // 2]:
                raise PlanProblem(f"reflects by {amount} but receives {fmt(x)}: reflection "
                                  "padding must be smaller than the dimension it pads")
    mode = {"ReflectionPad": "reflect", "ReplicationPad": "replicate"}.get(n.type)
    extra = {"mode": mode} if mode else {}
    return _single(_call("F.pad", "{x0}", repr(pad), **extra))


# --- embedding and recurrent -----------------------------------------------------------------------

@_plans("Embedding")
def _embedding(n: _Node) -> LayerPlan:
    p = n.p
    if n.dtypes and n.dtypes[0] != "int64":
        raise PlanProblem("receives float values but needs integer token ids: set the "
                          "Input's dtype to int64")
    kwargs: list[tuple[str, Any]] = []
    pad = p["padding_idx"]
    if pad is not None:
        if not -p["num_embeddings"] <= pad < p["num_embeddings"]:
            raise PlanProblem(f"has padding_idx {pad} outside its vocabulary of "
                              f"{p['num_embeddings']}: choose an id below "
                              f"{p['num_embeddings']} or clear it",
                              (set_params("Set padding_idx to 0", padding_idx=0),))
        kwargs.append(("padding_idx", pad))
    if p["max_norm"] is not None:
        kwargs.append(("max_norm", p["max_norm"]))
    _kwarg_if(kwargs, "scale_grad_by_freq", p["scale_grad_by_freq"], False)
    return _single("{layer}({x0})", "nn.Embedding", (p["num_embeddings"], p["embedding_dim"]),
                   tuple(kwargs))


def _state_port(n: _Node, port: int, want: Shape, name: str) -> str:
    got = n.shapes[port]
    assert got is not None
    _float_port(n, port, name)
    if tuple(got) != tuple(want):
        raise PlanProblem(f"receives the initial state {name} {fmt(got)} but needs "
                          f"{fmt(want)} (N, layers × directions, hidden): feed it another "
                          "recurrent layer's final state of the same size")
    return f"{{x{port}}}.transpose(0, 1).contiguous()"


@_plans("LSTM", "GRU", "SimpleRNN")
def _rnn(n: _Node) -> LayerPlan:
    _float_port(n, 0, "sequence")
    p = n.p
    x = n.x
    _need_rank(x, (3,), "(N, steps, features)",
               ": insert a Reshape (e.g. to (steps, features)) in front", _reshape_fix(x, 3))
    lstm = n.type == "LSTM"
    layers_dirs = p["num_layers"] * (2 if p["bidirectional"] else 1)
    state = ("N", layers_dirs, p["hidden_size"])
    kwargs: list[tuple[str, Any]] = []
    _kwarg_if(kwargs, "num_layers", p["num_layers"], 1)
    if n.type == "SimpleRNN":
        _kwarg_if(kwargs, "nonlinearity", p["nonlinearity"], "tanh")
    _kwarg_if(kwargs, "bias", p["use_bias"], True)
    kwargs.append(("batch_first", True))
    if p["bidirectional"]:
        kwargs.append(("bidirectional", True))
    if p["num_layers"] > 1 and p["dropout"] > 0:
        kwargs.append(("dropout", p["dropout"]))
    call = "{layer}({x0})"
    if lstm and n.has(1) != n.has(2):
        raise PlanProblem("receives only one of h_0 and c_0: an LSTM's initial state needs "
                          "both (connect the other, or neither)")
    if n.has(1):
        h0 = _state_port(n, 1, state, "h_0")
        hx = f"({h0}, {_state_port(n, 2, state, 'c_0')})" if lstm else h0
        call = f"{{layer}}({{x0}}, {hx})"
    if lstm:
        states = "_" if not (n.wants(1) or n.wants(2)) else f"({n.out(1)}, {n.out(2)})"
        statements = [f"{n.out(0)}, {states} = {call}"]
    else:
        statements = [f"{n.out(0)}, {n.out(1)} = {call}"]
    if n.wants(0) and not p["return_sequences"]:
        statements.append("{out} = {out}[:, -1]")
    for port in (1, 2) if lstm else (1,):
        if n.wants(port):
            statements.append(f"{n.out(port)} = {n.out(port)}.transpose(0, 1)")
    return LayerPlan(RNN_CLASSES[n.type], (int(x[-1]), p["hidden_size"]), tuple(kwargs),
                     tuple(statements), (("input_size", int(x[-1])),), outputs=3 if lstm else 2,
                     scales_with_steps=True)


# --- attention -------------------------------------------------------------------------------------

def _sequence(n: _Node, port: int, what: str) -> Shape:
    shape = n.shapes[port]
    assert shape is not None
    _float_port(n, port, what)
    _need_rank(shape, (3,), "(N, steps, features)" if port == 0 else
               f"(N, steps, features) at its {what} input", ": insert a Reshape in front",
               _reshape_fix(shape, 3) if port == 0 else ())
    return shape


def _heads_fit(embed: int, heads: int, name: str) -> None:
    if embed % heads:
        best = max(h for h in range(1, heads + 1) if embed % h == 0)
        raise PlanProblem(f"receives {embed} features, which {heads} heads do not divide: "
                          f"choose {name} dividing {embed} (e.g. {best})",
                          (set_params(f"Set {name} to {best}", **{name: best}),))


def _padding_mask(n: _Node, port: int, batch_len: int, what: str) -> str:
    mask = n.shapes[port]
    assert mask is not None
    if len(mask) != 2 or int(mask[1]) != batch_len:
        raise PlanProblem(f"receives the {what} {fmt(mask)} but needs (N, {batch_len}): one "
                          "value per position, non-zero where it is padding")
    return f"{{x{port}}}.bool()" if n.dtypes[port] == "int64" else f"{{x{port}}}"


@_plans("MultiheadAttention")
def _mha(n: _Node) -> LayerPlan:
    p = n.p
    q = _sequence(n, 0, "query")
    k = _sequence(n, 1, "key") if n.has(1) else q
    v = _sequence(n, 2, "value") if n.has(2) else k
    embed = int(q[-1])
    _heads_fit(embed, p["num_heads"], "num_heads")
    if int(k[1]) != int(v[1]):
        raise PlanProblem(f"receives keys {fmt(k)} and values {fmt(v)}: they need the same "
                          "number of steps")
    kwargs: list[tuple[str, Any]] = []
    _kwarg_if(kwargs, "dropout", p["dropout"], 0.0)
    _kwarg_if(kwargs, "bias", p["use_bias"], True)
    if int(k[-1]) != embed:
        kwargs.append(("kdim", int(k[-1])))
    if int(v[-1]) != embed:
        kwargs.append(("vdim", int(v[-1])))
    kwargs.append(("batch_first", True))
    key = "{x1}" if n.has(1) else "{x0}"
    value = "{x2}" if n.has(2) else key
    call = ["{x0}", key, value]
    if n.has(3):
        call.append(f"key_padding_mask={_padding_mask(n, 3, int(k[1]), 'key-padding mask')}")
    if p["causal"]:
        if int(q[1]) != int(k[1]):
            raise PlanProblem(f"is causal but receives {q[1]} queries and {k[1]} keys: a causal "
                              "mask pairs each position with the earlier ones of the same "
                              "sequence", (set_params("Untick causal", causal=False),))
        call += [f"attn_mask={_CAUSAL_MASK.format(x='{x0}')}", "is_causal=True"]
    if not n.wants(1):
        call.append("need_weights=False")
    statement = f"{n.out(0)}, {n.out(1)} = {{layer}}({', '.join(call)})"
    return LayerPlan("nn.MultiheadAttention", (embed, p["num_heads"]), tuple(kwargs),
                     (statement,), (("embed_dim", embed),), outputs=2)


@_plans("ScaledDotProductAttention")
def _sdpa(n: _Node) -> LayerPlan:
    _float_only(n)
    q, k, v = (n.shapes[i] for i in range(3))
    assert q is not None and k is not None and v is not None
    if len(q) < 3 or len(k) != len(q) or len(v) != len(q):
        raise PlanProblem(f"receives {fmt(q)}, {fmt(k)} and {fmt(v)} but needs query, key and "
                          "value of one rank ≥ 3: (N, …, steps, features)")
    if q[-1] != k[-1] or k[-2] != v[-2]:
        raise PlanProblem(f"receives query {fmt(q)}, key {fmt(k)} and value {fmt(v)}: query "
                          "and key need the same features, key and value the same steps")
    kwargs: dict[str, Any] = {}
    if n.p["causal"]:
        kwargs["is_causal"] = True
    if n.p["scale"] is not None:
        kwargs["scale"] = n.p["scale"]
    return _single(_call("F.scaled_dot_product_attention", "{x0}", "{x1}", "{x2}", **kwargs))


def _transformer_kwargs(p: dict[str, Any]) -> list[tuple[str, Any]]:
    kwargs: list[tuple[str, Any]] = []
    _kwarg_if(kwargs, "dim_feedforward", p["dim_feedforward"], 2048)
    _kwarg_if(kwargs, "dropout", p["dropout"], 0.1)
    _kwarg_if(kwargs, "activation", p["activation"], "relu")
    _kwarg_if(kwargs, "layer_norm_eps", p["layer_norm_eps"], 1e-5)
    kwargs.append(("batch_first", True))
    _kwarg_if(kwargs, "norm_first", p["norm_first"], False)
    _kwarg_if(kwargs, "bias", p["use_bias"], True)
    return kwargs


def _causal(n: _Node, prefix: str) -> list[str]:
    """The causal mask arguments of a Transformer layer's self-attention (``src`` / ``tgt``)."""
    if not n.p["causal"]:
        return []
    return [f"{prefix}_mask={_CAUSAL_MASK.format(x='{x0}')}",
            f"{'is' if prefix == 'src' else 'tgt_is'}_causal=True"]


def _transformer(n: _Node, cls: str, embed: int, call: list[str]) -> LayerPlan:
    return _single(f"{{layer}}({', '.join(call)})", cls, (embed, n.p["nhead"]),
                   tuple(_transformer_kwargs(n.p)), (("d_model", embed),))


@_plans("TransformerEncoderLayer")
def _encoder_layer(n: _Node) -> LayerPlan:
    x = _sequence(n, 0, "source")
    embed = int(x[-1])
    _heads_fit(embed, n.p["nhead"], "nhead")
    call = ["{x0}", *_causal(n, "src")]
    if n.has(1):
        call.append(f"src_key_padding_mask={_padding_mask(n, 1, int(x[1]), 'padding mask')}")
    return _transformer(n, "nn.TransformerEncoderLayer", embed, call)


@_plans("TransformerDecoderLayer")
def _decoder_layer(n: _Node) -> LayerPlan:
    x = _sequence(n, 0, "target")
    memory = _sequence(n, 1, "memory")
    embed = int(x[-1])
    _heads_fit(embed, n.p["nhead"], "nhead")
    if int(memory[-1]) != embed:
        raise PlanProblem(f"receives the target {fmt(x)} and the memory {fmt(memory)}: the "
                          f"memory needs {embed} features too (insert a Dense of {embed} units "
                          "in front of it)", (insert_before(1, "Dense", f"Insert a Dense of "
                                                            f"{embed} units", units=embed),))
    call = ["{x0}", "{x1}", *_causal(n, "tgt")]
    if n.has(2):
        call.append(f"tgt_key_padding_mask={_padding_mask(n, 2, int(x[1]), 'target mask')}")
    if n.has(3):
        call.append("memory_key_padding_mask="
                    + _padding_mask(n, 3, int(memory[1]), "memory mask"))
    return _transformer(n, "nn.TransformerDecoderLayer", embed, call)


@_plans("PositionalEmbedding")
def _positional(n: _Node) -> LayerPlan:
    x = _sequence(n, 0, "sequence")
    steps, embed = int(x[1]), int(x[2])
    table = n.p["max_length"] or steps
    if steps > table:
        raise PlanProblem(f"receives {steps} steps but holds {table} positions: raise "
                          "max_length (or set 0 for the input's length)",
                          (set_params("Set max_length to 0", max_length=0),))
    return _single("{x0} + {layer}(torch.arange({x0}.shape[1], device={x0}.device))",
                   "nn.Embedding", (table, embed), (), (("embedding_dim", embed),))


# --- tensor operations -----------------------------------------------------------------------------

@_plans("Permute")
def _permute(n: _Node) -> LayerPlan:
    x, dims = n.x, tuple(n.p["dims"])
    if sorted(dims) != list(range(len(x))) or dims[0] != 0:
        example = (0, *range(len(x) - 1, 0, -1))
        raise PlanProblem(f"has the order {dims!r} but receives {fmt(x)}: list every dimension "
                          f"0 to {len(x) - 1} once, the batch 0 first (e.g. {example!r})",
                          (set_params(f"Set dims to {example!r}", dims=example),))
    return _single(f"{{x0}}.permute({', '.join(repr(d) for d in dims)})")


@_plans("Transpose")
def _transpose(n: _Node) -> LayerPlan:
    x = n.x
    a = _dim(n.p["dim0"], len(x), "dim0", 1)
    b = _dim(n.p["dim1"], len(x), "dim1", len(x) - 1)
    if a == b:
        raise PlanProblem(f"swaps dimension {a} with itself: choose two different dimensions")
    return _single(f"{{x0}}.transpose({n.p['dim0']!r}, {n.p['dim1']!r})")


def _subscript(dim: int, item: str) -> str:
    return "{x0}[" + ", ".join([":"] * dim + [item]) + "]"


@_plans("Select")
def _select(n: _Node) -> LayerPlan:
    x = n.x
    dim = _dim(n.p["dim"], len(x), "dim", 1)
    size, index = int(x[dim]), n.p["index"]
    if not -size <= index < size:
        raise PlanProblem(f"picks index {index} of dimension {dim}, which has {size} entries: "
                          f"choose -{size} to {size - 1}", (set_params("Set index to -1",
                                                                       index=-1),))
    return _single(_subscript(dim, repr(index)))


@_plans("Slice")
def _slice(n: _Node) -> LayerPlan:
    x = n.x
    dim = _dim(n.p["dim"], len(x), "dim", 1)
    start, stop, step = n.p["start"], n.p["stop"], n.p["step"]
    item = ("" if start is None else repr(start)) + ":" + ("" if stop is None else repr(stop))
    if step != 1:
        item += f":{step!r}"
    if len(range(*slice(start, stop, step).indices(int(x[dim])))) == 0:
        raise PlanProblem(f"keeps [{item}] of dimension {dim}, which has {x[dim]} entries: "
                          "nothing is left; change start or stop")
    return _single(_subscript(dim, item))


@_plans("Split", "Chunk")
def _split(n: _Node) -> LayerPlan:
    x = n.x
    dim = _dim(n.p["dim"], len(x), "dim", len(x) - 1)
    size = int(x[dim])
    if n.type == "Split":
        sizes = list(n.p["sizes"])
        if sum(sizes) != size:
            even = (size // len(sizes),) * len(sizes)
            fixes = (set_params(f"Set sizes to {even!r}", sizes=even),) if \
                size % len(sizes) == 0 and size >= len(sizes) else ()
            raise PlanProblem(f"cuts {sum(sizes)} values ({' + '.join(map(str, sizes))}) but "
                              f"dimension {dim} of {fmt(x)} has {size}: make the sizes sum to "
                              f"{size}", fixes)
        call, count = f"torch.split({{x0}}, {sizes!r}, dim={n.p['dim']!r})", len(sizes)
    else:
        chunks = n.p["chunks"]
        if size % chunks:
            divisors = [d for d in range(2, min(size, 16) + 1) if size % d == 0]
            raise PlanProblem(f"cannot cut dimension {dim} of {fmt(x)} ({size}) into {chunks} "
                              f"equal chunks: choose a divisor of {size}"
                              + (f" ({', '.join(map(str, divisors))})" if divisors else ""),
                              (set_params(f"Set chunks to {divisors[0]}", chunks=divisors[0]),)
                              if divisors else ())
        call, count = f"torch.chunk({{x0}}, {chunks!r}, dim={n.p['dim']!r})", chunks
    targets = ", ".join(n.out(i) for i in range(count))
    return LayerPlan(None, statements=(f"{targets} = {call}",), outputs=count)


@_plans("Mean", "Sum", "Max")
def _reduce(n: _Node) -> LayerPlan:
    x = n.x
    dims = tuple(n.p["dims"])
    normal = [_dim(d, len(x), "dims") for d in dims]
    if len(set(normal)) != len(normal):
        raise PlanProblem(f"reduces the dimensions {dims!r}, naming one twice: list each once")
    method = {"Mean": "mean", "Sum": "sum", "Max": "amax"}[n.type]
    dim = dims[0] if len(dims) == 1 else dims
    keep = ", keepdim=True" if n.p["keepdim"] else ""
    if n.type == "Mean":
        _float_only(n)
    return _single(f"{{x0}}.{method}(dim={dim!r}{keep})")


@_plans("Scale")
def _scale(n: _Node) -> LayerPlan:
    _float_only(n)
    op = " * " if n.p["op"] == "multiply" else " / "
    if n.p["op"] == "divide" and n.p["factor"] == 0:
        raise PlanProblem("divides by 0: choose another factor")
    return _single(f"{{x0}}{op}{n.p['factor']!r}")


@_plans("Shift")
def _shift(n: _Node) -> LayerPlan:
    _float_only(n)
    offset = n.p["offset"]
    op = " - " if math.copysign(1.0, offset) < 0 else " + "
    return _single(f"{{x0}}{op}{abs(offset)!r}")


# --- merging ---------------------------------------------------------------------------------------

@_plans("Concatenate")
def _concatenate(n: _Node) -> LayerPlan:
    shapes = [s for s in n.shapes if s is not None]
    got = " and ".join(fmt(s) for s in shapes)
    rank = len(shapes[0])
    if any(len(s) != rank for s in shapes):
        high = max(range(len(shapes)), key=lambda i: len(shapes[i]))
        raise PlanProblem(f"receives {got} but needs inputs with the same number of "
                          "dimensions: insert a Flatten or Reshape in front of one",
                          (insert_before(high, "Flatten", f"Insert a Flatten in front of "
                                                          f"input {high}"),))
    axis = n.p["axis"]
    if not -rank <= axis < rank or axis % rank == 0:
        raise PlanProblem(f"joins on axis {axis} but receives {got}: choose an axis after the "
                          f"batch (1 to {rank - 1}, or -1 for features)",
                          (set_params("Set axis to -1", axis=-1),))
    ax = axis % rank
    for d in range(1, rank):
        if d != ax and len({s[d] for s in shapes}) > 1:
            raise PlanProblem(f"receives {got} but needs all dimensions except axis {axis} "
                              "to match: insert a Dense or Reshape in front of an input")
    joined = ", ".join(f"{{x{i}}}" for i in range(len(shapes)))
    return _single(f"torch.cat([{joined}], dim={axis!r})")


_OPERATORS = {"Add": " + ", "Multiply": " * ", "Subtract": " - ", "Divide": " / "}


@_plans(*_OPERATORS)
def _arithmetic(n: _Node) -> LayerPlan:
    _float_only(n)
    shapes = [s for s in n.shapes if s is not None]
    if not _broadcastable(shapes):
        got = " and ".join(fmt(s) for s in shapes)
        raise PlanProblem(f"receives {got} but needs inputs of one shape (or sizes of 1 that "
                          "broadcast): insert a Dense (or Reshape) in front of an input to "
                          "match the others", _arithmetic_fixes(n.type, shapes))
    joined = _OPERATORS[n.type].join(f"{{x{i}}}" for i in range(len(shapes)))
    return _single(joined)


def _arithmetic_fixes(type_: str, shapes: list[Shape]) -> tuple[Fix, ...]:
    first = shapes[0]
    fixes: list[Fix] = []
    if all(len(s) == len(first) and s[:-1] == first[:-1] for s in shapes):
        for i, s in enumerate(shapes):
            if s[-1] != first[-1]:
                fixes.append(insert_before(i, "Dense", f"Insert a Dense of {first[-1]} units in "
                                           f"front of input {i} (a projection)",
                                           units=int(first[-1])))
                break
        if type_ == "Add":
            fixes.append(Fix("replace_type", {"type": "Concatenate", "params": {"axis": -1}},
                             "Concatenate the inputs instead"))
    return tuple(fixes)


@_plans("MatMul")
def _matmul(n: _Node) -> LayerPlan:
    _float_only(n)
    a, b = n.shapes[0], n.shapes[1]
    assert a is not None and b is not None
    if len(a) < 3 or len(b) < 3 or len(a) != len(b):
        raise PlanProblem(f"receives {fmt(a)} and {fmt(b)} but needs batched matrices of one "
                          "rank, (N, …, rows, inner) and (N, …, inner, cols): for x · W use a "
                          "Dense layer")
    if a[-1] != b[-2]:
        raise PlanProblem(f"receives {fmt(a)} @ {fmt(b)}: the inner sizes {a[-1]} and {b[-2]} "
                          "differ (a Transpose of the second input swaps its last two "
                          "dimensions)", (insert_before(1, "Transpose", "Insert a Transpose "
                                                        "in front of the second input",
                                                        dim0=-2, dim1=-1),)
                          if a[-1] == b[-1] else ())
    return _single("{x0} @ {x1}")


# --- costs and initialisation ----------------------------------------------------------------------

def flops(type_: str, plan: LayerPlan, shapes: list[Shape | None], out_shape: Shape,
          params: dict[str, Any]) -> int | None:
    """Multiply-adds × 2 for one sample, for the layers where that is the cost that matters."""
    in_shape = shapes[0] if shapes and shapes[0] is not None else ()
    if type_ == "Dense":
        steps = int(in_shape[1]) if len(in_shape) == 3 else 1
        return 2 * int(in_shape[-1]) * params["units"] * steps
    if type_.startswith("Conv") and "Transpose" not in type_:
        return (2 * _numel(out_shape[1:]) * (int(in_shape[1]) // params["groups"])
                * _numel(params["kernel_size"]))
    if type_.startswith("ConvTranspose"):
        return (2 * _numel(in_shape[1:]) * (params["filters"] // params["groups"])
                * _numel(params["kernel_size"]))
    if type_ in RNN_CLASSES:
        hidden, steps, feat = params["hidden_size"], int(in_shape[1]), int(in_shape[2])
        dirs = 2 if params["bidirectional"] else 1
        total = 0
        for layer in range(params["num_layers"]):
            size = feat if layer == 0 else hidden * dirs
            total += RNN_GATES[type_] * 2 * (size * hidden + hidden * hidden) * steps * dirs
        return total
    if type_ in ("MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer"):
        steps, embed = int(in_shape[1]), int(in_shape[2])
        keys = int(shapes[1][1]) if type_ != "TransformerEncoderLayer" and len(shapes) > 1 \
            and shapes[1] is not None else steps
        total = 2 * (2 * steps + 2 * keys) * embed * embed + 4 * steps * keys * embed
        if type_ != "MultiheadAttention":
            total += 4 * steps * embed * params["dim_feedforward"]
        if type_ == "TransformerDecoderLayer":
            total += 2 * 4 * steps * embed * embed + 4 * steps * steps * embed
        return total
    if type_ == "MatMul":
        return 2 * _numel(out_shape[1:]) * int(in_shape[-1])
    return None


#: What reset_parameters writes for a kernel / bias initializer (``{t}``: the tensor).
_KERNEL_LINES = {
    "uniform": "nn.init.uniform_({t}, {neg}, {s})", "normal": "nn.init.normal_({t}, 0.0, {s})",
    "xavier_uniform": "nn.init.xavier_uniform_({t})", "xavier_normal": "nn.init.xavier_normal_({t})",
    "kaiming_uniform": "nn.init.kaiming_uniform_({t}, nonlinearity='relu')",
    "kaiming_normal": "nn.init.kaiming_normal_({t}, nonlinearity='relu')",
    "zeros": "nn.init.zeros_({t})", "ones": "nn.init.ones_({t})",
}
KERAS_NOTE = "Layers left at \"default\" start as in Keras: Glorot-uniform weights, zero biases."


def _init_line(kind: str, target: str, scale: float) -> str:
    return _KERNEL_LINES[kind].format(t=target, s=repr(scale), neg=repr(-scale))


def init_lines(type_: str, plan: LayerPlan, params: dict[str, Any],
               defaults: str = "pytorch") -> list[str]:
    """``reset_parameters`` lines for one layer (``{layer}``: its attribute), given the project's
    initializer ``defaults`` (``pytorch`` or ``keras``)."""
    if plan.ctor is None or plan.ctor.startswith("nn.Dropout") or \
            type_ in CONSTRUCTOR_INITIALISED:
        return []
    if plan.is_parameter:
        kind, scale = params["init"], params["init_scale"]
        return [_init_line(kind, "{layer}", scale)]
    keras = defaults == "keras"
    if type_ in ACTIVATED_TYPES:
        scale = params.get("init_scale", 0.05)
        kernel = params.get("kernel_initializer", "default")
        bias = params.get("bias_initializer", "default")
        if keras:
            kernel = "xavier_uniform" if kernel == "default" else kernel
            bias = "zeros" if bias == "default" else bias
        lines = [] if keras else ["{layer}.reset_parameters()"]
        if kernel != "default":
            lines.append(_init_line(kernel, "{layer}.weight", scale))
        if params.get("use_bias", True) and bias != "default":
            lines.append(_init_line(bias, "{layer}.bias", scale))
        return lines
    if keras and type_ in ("Embedding", "PositionalEmbedding"):
        lines = [_init_line("uniform", "{layer}.weight", 0.05)]
        if params.get("padding_idx") is not None:
            lines.append(f"nn.init.zeros_({{layer}}.weight[{params['padding_idx']!r}])")
        return lines
    if keras and type_ in RNN_CLASSES:
        return _keras_rnn_lines(type_, params)
    return ["{layer}.reset_parameters()"]


def _keras_rnn_lines(type_: str, params: dict[str, Any]) -> list[str]:
    """Keras's recurrent defaults: Glorot-uniform input kernels, orthogonal recurrent kernels,
    zero biases (an LSTM's forget gate starting at 1: ``unit_forget_bias``)."""
    hidden = params["hidden_size"]
    lines = []
    for layer in range(params["num_layers"]):
        for suffix in ("", "_reverse") if params["bidirectional"] else ("",):
            name = f"l{layer}{suffix}"
            lines.append(f"nn.init.xavier_uniform_({{layer}}.weight_ih_{name})")
            lines.append(f"nn.init.orthogonal_({{layer}}.weight_hh_{name})")
            if params["use_bias"]:
                lines.append(f"nn.init.zeros_({{layer}}.bias_ih_{name})")
                lines.append(f"nn.init.zeros_({{layer}}.bias_hh_{name})")
                if type_ == "LSTM":
                    lines.append(f"nn.init.ones_({{layer}}.bias_ih_{name}[{hidden}:"
                                 f"{2 * hidden}])")
    return lines
