"""The walk over a traced ``torch.fx`` graph that turns its nodes into catalogue layers.

`Walk` visits the nodes in order and gives each a *value*: `T`, a tensor the design computes
(an output port of a `Layer`, possibly with its first two dimensions swapped, as recurrent
states and ``batch_first=False`` sequences are); `Tup`, a tuple of values (a recurrent layer's
``(output, (h, c))``, a split); `Plumb`, a Python value such as a size; or a pending value that
only some uses turn into layers (`Param`, an ``nn.Parameter`` used directly; `Positions`, a
``torch.arange`` fed to an ``nn.Embedding``; `Noise`, ``torch.randn_like`` of the VAE's
reparameterisation; `Zeros`, a zero initial state; `Mask`, a causal attention mask). Whatever
has no exact layer raises `Unsupported` with the source line that wrote it, and what depends on
it is listed as skipped.

Each layer remembers the module path it came from and the stack of the user's submodules whose
``forward`` wrote it (`Layer.stack`), so a block-aware walk can group layers by submodule.
`SiteTracer` remembers each node's source line (names, folding, messages) and traces the tensor
factories ``torch.zeros`` / ``ones`` / ``full`` / ``randn`` when a size is symbolic.
"""

from __future__ import annotations

import ast
import linecache
import math
import operator
import os
import sys
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import fx, nn

from backend.importer import table as tb
from backend.importer.table import Activation, Unsupported, arg, lookup, module_name, op_name
from backend.model.layers import ACTIVATED_TYPES, PlanProblem, plan_layer
from graph.catalogue import get_spec
from graph.errors import ParamError

_TORCH_DIR = os.path.dirname(torch.__file__)
_THIS_DIR = os.path.dirname(__file__)
RNN = ("LSTM", "GRU", "SimpleRNN")
Ref = tuple[str, int]
#: Factories fx cannot trace with a symbolic size (``torch.zeros(x.size(0), 5)``).
FACTORIES = (torch.zeros, torch.ones, torch.full, torch.empty, torch.randn, torch.rand)


@dataclass
class Layer:
    key: str
    type: str
    params: dict[str, Any]
    inputs: dict[int, Ref]
    """The value feeding each input port (variadic layers: ports 0, 1, …)."""
    node: fx.Node | None
    module: str | None = None
    """Attribute path of the module it came from (``layer1.0.conv1``), for names."""
    state: dict[str, torch.Tensor] = field(default_factory=dict)
    """State-dict suffix → tensor (``""``: the attribute itself, for a Parameter)."""
    name: str | None = None
    trainable: bool = True
    stack: tuple[tuple[str, type], ...] = ()
    """The submodules (attribute path, class) whose forward was running, outermost first."""

    @property
    def scope(self) -> str:
        """The innermost user submodule that wrote this layer (``""``: the model itself)."""
        for path, cls in reversed(self.stack):
            if not _is_torch_leaf(cls) and path != self.module:
                return path
        return ""


def _is_torch_leaf(cls: type) -> bool:
    return cls.__module__.startswith("torch.nn") and cls not in (
        nn.Sequential, nn.ModuleList, nn.ModuleDict)


# --- values --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class T:
    """A tensor of the design: output ``ref`` of a layer."""

    ref: Ref
    swapped: bool = False
    """The tensor is the design's with dimensions 0 and 1 swapped (the batch second)."""
    as_bool: bool = False
    """``.bool()`` of int64 token ids: a padding mask."""


@dataclass(frozen=True)
class Tup:
    items: tuple[Any, ...]


@dataclass(frozen=True)
class Plumb:
    """A Python value (a size, a dtype, a device) known from running the model."""

    value: Any
    batch3: Any = None
    """Its value with a batch of 3 (differs when it depends on the batch size)."""

    @property
    def batch_dependent(self) -> bool:
        return self.value != self.batch3


@dataclass(frozen=True)
class Param:
    """An ``nn.Parameter`` or buffer (or an indexed view of one) used directly in forward."""

    name: str
    tensor: torch.Tensor
    index: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Positions:
    length: int


@dataclass(frozen=True)
class PosEmb:
    module: str
    length: int


@dataclass(frozen=True)
class Noise:
    shape: tuple[int, ...]
    node: fx.Node


@dataclass(frozen=True)
class ScaledNoise:
    std: T
    noise: Noise


@dataclass(frozen=True)
class Zeros:
    shape: tuple[int, ...]


@dataclass(frozen=True)
class Mask:
    """A causal mask of ``length`` positions (``kind``: under construction or done)."""

    length: int
    kind: str


@dataclass(frozen=True)
class StepPending:
    x: T


def _user_site() -> tuple[str, int] | None:
    """File and line of the user's code that is creating the current fx node."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code is not _TRACE_CODE:
        filename = frame.f_code.co_filename
        if not filename.startswith((_TORCH_DIR, _THIS_DIR)):
            return filename, frame.f_lineno
        frame = frame.f_back
    return None


class SiteTracer(fx.Tracer):
    """A tracer that remembers which source line created each node, and traces the tensor
    factories (`FACTORIES`) called with symbolic sizes (fx alone fails on them)."""

    def trace(self, root: Any, concrete_args: Any = None) -> fx.Graph:
        saved = {f.__name__: f for f in FACTORIES}
        try:
            for name, factory in saved.items():
                setattr(torch, name, _traced_factory(factory))
            return super().trace(root, concrete_args)
        finally:
            for name, factory in saved.items():
                setattr(torch, name, factory)

    def create_node(self, *args: Any, **kwargs: Any) -> fx.Node:
        node = super().create_node(*args, **kwargs)
        node.meta["nc_site"] = _user_site()
        return node


def _traced_factory(factory: Any) -> Any:
    """``factory`` recorded as a call when a size is symbolic, else called as it is."""
    def call(*args: Any, **kwargs: Any) -> Any:
        proxies: list[fx.Proxy] = []
        fx.node.map_aggregate((args, kwargs), lambda a: proxies.append(a)
                              if isinstance(a, fx.Proxy) else None)
        if proxies:
            return proxies[0].tracer.create_proxy("call_function", factory, args, kwargs)
        return factory(*args, **kwargs)

    call.__name__ = factory.__name__
    return call


_TRACE_CODE = fx.Tracer.trace.__code__


def site_text(site: tuple[str, int] | None) -> str:
    """``model.py:12 `x = self.fc(x)```."""
    if not site:
        return ""
    code = linecache.getline(site[0], site[1]).strip()
    place = os.path.basename(site[0]) if not site[0].startswith("<") else site[0]
    return f"{place}:{site[1]}" + (f" `{code}`" if code else "")


# --- the walk ------------------------------------------------------------------------------------

class Walk:
    """One pass over the traced graph, building `Layer`s and recording what does not map.

    ``shapes`` / ``shapes3`` and ``values`` / ``values3`` come from running the graph with a
    batch of 2 and of 3 (tensor shapes; Python results such as sizes). ``eval_graph`` is the
    same module traced in eval mode: it tells what ``forward`` does outside training (a VAE that
    samples always, dropout that is always on). ``inference`` marks a graph that has no training
    behaviour of its own (from ONNX): ``F.batch_norm(training=False)`` is a BatchNorm layer.
    """

    def __init__(self, gm: fx.GraphModule, run2: Any, run3: Any, dtypes: list[str],
                 eval_graph: fx.Graph | None = None, inference: bool = False) -> None:
        self.gm = gm
        self.shapes, self.shapes3 = run2.shapes, run3.shapes
        self.concrete, self.concrete3 = run2.values, run3.values
        self.dtypes_of = run2.dtypes
        self.dtypes = dtypes
        self.inference = inference
        self.eval_nodes: dict[tuple[str, int], list[fx.Node]] = {}
        if eval_graph is not None:
            for n in eval_graph.nodes:
                site = n.meta.get("nc_site")
                if site:
                    self.eval_nodes.setdefault(site, []).append(n)
        self.layers: dict[str, Layer] = {}
        self.values: dict[fx.Node, Any] = {}
        self.ref_shape: dict[Ref, tuple[int, ...]] = {}
        self.ref_dtype: dict[Ref, str] = {}
        self.failed: set[fx.Node] = set()
        self.unsupported: list[str] = []
        self.skipped: list[str] = []
        self.returned: list[T] = []
        self.returned_nodes: list[fx.Node] = []
        self.module_uses: dict[str, int] = {}
        self.notes: list[str] = []
        self._params: dict[tuple[str, tuple[int, ...]], str] = {}
        self._samplers: dict[tuple[Ref, Ref], str] = {}
        self._order = {n: i for i, n in enumerate(gm.graph.nodes)}
        self._nth: dict[fx.Node, int] = {}
        seen: dict[tuple[Any, Any], int] = {}
        for n in gm.graph.nodes:
            slot = (n.meta.get("nc_site"), n.target if tb.hashable(n.target) else None)
            self._nth[n] = seen.get(slot, 0)
            seen[slot] = self._nth[n] + 1
        self._kept: set[str] = set()

    # --- helpers ---------------------------------------------------------------------------------

    def where(self, node: fx.Node) -> str:
        text = site_text(node.meta.get("nc_site"))
        return f"node {node.name}, {text}" if text else f"node {node.name}"

    def shape(self, node: Any) -> tuple[int, ...] | None:
        shape = self.shapes.get(node) if isinstance(node, fx.Node) else None
        return shape if isinstance(shape, tuple) and all(isinstance(d, int) for d in shape) \
            else None

    def dshape(self, t: T) -> tuple[int, ...]:
        return self.ref_shape[t.ref]

    def val(self, a: Any) -> Any:
        if isinstance(a, fx.Node):
            return self.values[a]
        if isinstance(a, _ValueArg):
            return a.value
        return a

    def tensor(self, a: Any, what: str) -> T:
        """The design tensor ``a`` is, or `Unsupported` saying what it is instead."""
        v = self.val(a)
        if isinstance(v, T):
            return v
        raise Unsupported(f"{what} of {self._describe(v, a)}")

    def plain(self, a: Any, what: str) -> T:
        """A batch-first design tensor (not a swapped one, not a mask)."""
        t = self.tensor(a, what)
        if t.swapped:
            raise Unsupported(f"{what} of a tensor whose batch is its second dimension (a "
                              "recurrent layer's state or a batch_first=False sequence): "
                              "transpose it back with .transpose(0, 1) first")
        if t.as_bool:
            raise Unsupported(f"{what} of a boolean mask")
        return t

    def _describe(self, v: Any, a: Any) -> str:
        if isinstance(v, Tup):
            return "a tuple (take one of its elements, e.g. `out, _ = self.lstm(x)`)"
        if isinstance(v, Param):
            return (f"the parameter self.{v.name} used directly (a learned tensor imports only "
                    "in arithmetic with a batch of values, or as the weight of F.linear, "
                    "F.conv*, F.embedding, F.layer_norm, F.prelu or torch.mm)")
        if isinstance(v, Plumb):
            return f"the Python value {v.value!r}"
        if isinstance(v, (Noise, ScaledNoise)):
            return ("random noise (torch.randn_like imports only as the VAE's "
                    "reparameterisation mu + exp(0.5 * log_var) * randn_like(mu): the Sampling "
                    "layer)")
        if isinstance(v, Zeros):
            return "a tensor of zeros (imports only as a recurrent layer's initial state)"
        if isinstance(v, Positions):
            return "torch.arange positions (they import only as an nn.Embedding's input)"
        if isinstance(v, PosEmb):
            return ("a positional embedding (it imports only when added to a sequence of the "
                    "same length)")
        if isinstance(v, Mask):
            return "a causal mask (it imports only as an attention mask)"
        return f"a constant ({repr(a)[:40]})"

    def const(self, a: Any, what: str) -> Any:
        """A Python value (nested lists / tuples resolved), refusing batch-dependent ones."""
        if isinstance(a, (list, tuple)):
            return type(a)(self.const(x, what) for x in a)
        if isinstance(a, dict):
            return {k: self.const(x, what) for k, x in a.items()}
        if isinstance(a, slice):
            return slice(self.const(a.start, what), self.const(a.stop, what),
                         self.const(a.step, what))
        if not isinstance(a, fx.Node):
            return a
        v = self.values.get(a)
        if isinstance(v, Plumb):
            if v.batch_dependent:
                raise Unsupported(f"{what} that depends on the batch size")
            return v.value
        raise Unsupported(f"{what} given {self._describe(v, a)} where a number is needed")

    def add(self, type_: str, params: dict[str, Any], inputs: dict[int, Ref], node: fx.Node,
            module: str | None = None, state: dict[str, torch.Tensor] | None = None,
            shapes: list[tuple[int, ...]] | None = None, what: str | None = None) -> str:
        """A new layer fed by ``inputs``; ``shapes``: its outputs' design shapes (default: the
        node's own shape)."""
        try:
            params = get_spec(type_).validate_params(params)
        except ParamError as exc:
            raise Unsupported(f"{what or type_} with {exc.message[:1].lower()}"
                              f"{exc.message[1:]}") from None
        self._check_plan(type_, params, inputs, what or type_)
        key = node.name
        while key in self.layers:
            key += "_"
        stack = tuple(node.meta.get("nn_module_stack", {}).values())
        self.layers[key] = Layer(key, type_, params, dict(inputs), node, module, dict(state or {}),
                                 stack=tuple((str(p), c) for p, c in stack))
        if shapes is None:
            own = self.shape(node)
            shapes = [own] if own is not None else []
        for port, shape in enumerate(shapes):
            self.ref_shape[(key, port)] = tuple(shape)
            self.ref_dtype[(key, port)] = "float32"
        if shapes and len(shapes) == 1 and self.dtypes_of.get(node) == "int64":
            self.ref_dtype[(key, 0)] = "int64"
        if module is not None:
            self.module_uses[module] = self.module_uses.get(module, 0) + 1
        return key

    def _check_plan(self, type_: str, params: dict[str, Any], inputs: dict[int, Ref],
                    what: str) -> None:
        spec = get_spec(type_)
        if type_ in ("Input", "Output"):
            return
        if spec.variadic:
            ports = sorted(inputs)
        else:
            ports = list(range(spec.arity))
        shapes = [(("N", *self.ref_shape[inputs[p]][1:]) if p in inputs else None)
                  for p in ports]
        dtypes = [self.ref_dtype.get(inputs[p]) if p in inputs else None for p in ports]
        try:
            plan_layer(type_, params, shapes, dtypes)
        except PlanProblem as exc:
            raise Unsupported(f"{what} as a {type_} layer, which {exc}") from None

    def single(self, type_: str, params: dict[str, Any], x: T, node: fx.Node,
               what: str | None = None, **kw: Any) -> T:
        """A one-input layer on ``x``; a swapped ``x`` stays swapped (layers that act on the
        last dimension only)."""
        shape = self.shape(node)
        shapes = None
        if x.swapped and shape is not None:
            shapes = [_swap(shape)]
        key = self.add(type_, params, {0: x.ref}, node, shapes=shapes, what=what, **kw)
        return T((key, 0), x.swapped)

    # --- driver ----------------------------------------------------------------------------------

    def run(self) -> None:
        placeholders = 0
        for node in self.gm.graph.nodes:
            if node.op == "placeholder":
                placeholders += 1
                shape = self.shape(node)
                key = self.add("Input", {"shape": shape[1:] or (1,),
                                         "dtype": self.dtypes[placeholders - 1]}, {}, node)
                self.ref_dtype[(key, 0)] = self.dtypes[placeholders - 1]
                self.values[node] = T((key, 0))
                continue
            if node.op == "output":
                self._output(node)
                continue
            bad = [n for n in node.all_input_nodes if n in self.failed]
            if bad:
                self._keep_inputs_of(node)
                self.failed.add(node)
                self.skipped.append(f"{op_name(node, self.gm)} ({self.where(node)}): needs the "
                                    f"result of {bad[0].name}")
                continue
            try:
                self.values[node] = self._visit(node)
            except Unsupported as exc:
                self._keep_inputs_of(node)
                self.failed.add(node)
                self.unsupported.append(f"{exc} ({self.where(node)})")
        self._prune()

    def _keep_inputs_of(self, node: fx.Node) -> None:
        """What an unsupported operation reads stays in a partial design, to finish by hand."""
        for n in node.all_input_nodes:
            v = self.values.get(n)
            if isinstance(v, T):
                self._kept.add(v.ref[0])

    def _output(self, node: fx.Node) -> None:
        result = node.args[0]
        items = list(result) if isinstance(result, (tuple, list)) else [result]
        for item in items:
            if isinstance(item, fx.Node) and item in self.failed:
                self.skipped.append(f"output {item.name}: computed by an unsupported operation")
                continue
            v = self.values.get(item) if isinstance(item, fx.Node) else None
            if isinstance(v, T) and not v.swapped and not v.as_bool:
                self.returned.append(v)
                self.returned_nodes.append(item)
                continue
            if isinstance(v, T):
                what = "a tensor whose batch is its second dimension (transpose it first)"
            elif isinstance(result, dict):
                what = "a dict"
            elif isinstance(item, fx.Node):
                what = self._describe(v, item)
            else:
                what = repr(item)[:40]
            self.unsupported.append(f"returning {what} (only tensors, or a tuple of tensors, "
                                    f"can be outputs) ({self.where(node)})")

    def _prune(self) -> None:
        """Drop layers whose results nothing returned uses (those a pattern absorbed)."""
        live: set[str] = set()
        stack = [t.ref[0] for t in self.returned] + sorted(self._kept)
        while stack:
            key = stack.pop()
            if key in live:
                continue
            live.add(key)
            stack.extend(ref[0] for ref in self.layers[key].inputs.values())
        for key in [k for k, layer in self.layers.items()
                    if k not in live and layer.type != "Input"]:
            layer = self.layers.pop(key)
            if layer.module is not None:
                self.module_uses[layer.module] -= 1
        read = {ref for layer in self.layers.values() for ref in layer.inputs.values()}
        read |= {t.ref for t in self.returned}
        for layer in self.layers.values():
            if layer.type in RNN and (layer.key, 0) not in read:
                # Nothing reads the sequence: the code is the same either way; the default.
                layer.params["return_sequences"] = False

    # --- dispatch --------------------------------------------------------------------------------

    def _visit(self, node: fx.Node) -> Any:
        plumb = self._plumbing(node)
        if plumb is not None:
            return plumb
        self._check_in_place(node)
        if node.op == "get_attr":
            tensor = _fetch(self.gm, node.target)
            return Param(str(node.target), tensor)
        if node.op == "call_module":
            return self._module(node)
        target = node.target
        method = target if node.op == "call_method" else None
        act = tb.activation_of(node)
        if act is not None:
            return self._activation(node, act, node.args[0])
        if target is operator.getitem:
            return self._getitem(node)
        if target is getattr:
            return self._getattr(node)
        arith = self._arith_kind(node)
        if arith is not None:
            return self._arith(node, arith)
        unary = lookup(tb.UNARY, target) or (tb.UNARY.get(method) if method else None)
        if unary is not None:
            return self._unary(node, unary)
        if target is operator.neg or target is torch.neg or method in ("neg", "__neg__"):
            x = self.tensor(node.args[0], "negation")
            return self.single("Scale", {"factor": -1.0}, x, node, "negation")
        if method in tb.NO_OPS or target is torch.clone:
            return self._no_op(node)
        if method == "bool":
            return self._bool(node)
        if target is torch._assert or target is torch.Tensor.__bool__:
            return Plumb(None, None)
        handler = _FUNCTION_HANDLERS.get(target) if tb.hashable(target) else None
        if handler is None and method is not None:
            handler = _METHOD_HANDLERS.get(method)
        if handler is not None:
            return handler(self, node)
        raise Unsupported(op_name(node, self.gm))

    def _plumbing(self, node: fx.Node) -> Plumb | None:
        """Size / shape / dtype arithmetic: its value is known from running the model."""
        if node not in self.concrete:
            return None
        size_query = (
            (node.op == "call_function" and node.target is getattr
             and node.args[1] in tb.PLUMBING_ATTRS)
            or (node.op == "call_method" and node.target in tb.PLUMBING_METHODS))
        on_sizes = node.op in ("call_function", "call_method") and bool(
            node.all_input_nodes) and all(isinstance(self.values.get(n), Plumb)
                                          for n in node.all_input_nodes)
        if not (size_query or on_sizes):
            return None
        return Plumb(self.concrete[node], self.concrete3.get(node))

    def _check_in_place(self, node: fx.Node) -> None:
        """An in-place operation must not change a value something later reads."""
        inplace = node.kwargs.get("inplace") is True or node.target in tb.IN_PLACE or (
            node.op == "call_method" and str(node.target).endswith("_")
            and not str(node.target).startswith("__"))
        if node.op == "call_module":
            inplace = getattr(self.gm.get_submodule(node.target), "inplace", False) is True
        if not inplace or not node.args or not isinstance(node.args[0], fx.Node):
            return
        x = node.args[0]
        later = [u for u in x.users if u is not node and self._order[u] > self._order[node]]
        if later:
            raise Unsupported(f"{op_name(node, self.gm)} changes {x.name} in place, and "
                              f"{later[0].name} reads it afterwards (a design computes each "
                              "value once): write it out of place")

    # --- modules ---------------------------------------------------------------------------------

    def _module(self, node: fx.Node) -> Any:
        module = self.gm.get_submodule(node.target)
        cls = type(module)
        name = module_name(cls)
        if cls in (nn.LSTM, nn.GRU, nn.RNN):
            return self._rnn(node, module)
        if cls is nn.MultiheadAttention:
            return self._attention(node, module)
        if cls in (nn.TransformerEncoderLayer, nn.TransformerDecoderLayer):
            return self._transformer(node, module, str(node.target), node.args, node.kwargs)
        if cls in (nn.TransformerEncoder, nn.TransformerDecoder):
            return self._transformer_stack(node, module)
        if len(node.args) != 1 or node.kwargs:
            raise Unsupported(f"{name} called with more than one argument")
        x = node.args[0]
        act = tb.activation_of(node, module)
        if act is not None:
            return self._activation(node, act, x, module)
        if cls is nn.Identity:
            return self.val(x)
        if cls is nn.Embedding and isinstance(self.val(x), Positions):
            return self._positions(node, module)
        if cls is nn.PReLU:
            params = {"per_channel": module.num_parameters > 1, "init": float(module.init)}
            out = self.single("PReLU", params, self.plain(x, name), node, name,
                              module=str(node.target), state=module.state_dict())
            self._frozen(out, module)
            return out
        if cls is nn.Unflatten:
            return _ops._reshape_to(self, node, self.plain(x, name), name)
        shape = self.shape(x)
        type_, params = tb.map_module(module, shape)
        t = self.tensor(x, name)
        if t.swapped and type_ not in ("Dense", "LayerNorm", "Dropout"):
            t = self.plain(x, name)
        if type_ == "Embedding" and self.ref_dtype.get(t.ref) != "int64":
            raise Unsupported(f"{name} on values that are not int64 token ids")
        out = self.single(type_, params, t, node, name, module=str(node.target),
                          state=module.state_dict())
        self._frozen(out, module)
        if type_ == "Embedding" and module.sparse:
            self.notes.append(f"self.{node.target} is an nn.Embedding(sparse=True): the design's "
                              "Embedding has dense gradients (the same values).")
        return out

    def _frozen(self, t: T, module: nn.Module) -> None:
        params = list(module.parameters())
        if params and not any(p.requires_grad for p in params):
            self.layers[t.ref[0]].trainable = False

    def _activation(self, node: fx.Node, act: Activation, src: Any,
                    module: nn.Module | None = None) -> T:
        what = module_name(type(module)) if module is not None else act.kind
        x = self.tensor(src, what)
        if x.as_bool:
            raise Unsupported(f"{what} of a boolean mask")
        layer = self.layers[x.ref[0]]
        shape = self.shape(src)
        if act.kind in ("softmax", "log_softmax") and x.swapped:
            rank = len(shape) if shape else 3
            dim = act.params["dim"] % rank
            act = Activation(act.kind, {"dim": {0: 1, 1: 0}.get(dim, dim)})
        if (layer.type in ACTIVATED_TYPES and layer.params["activation"] == "none"
                and layer.node is src and len(src.users) == 1 and shape is not None
                and x.ref[1] == 0 and act.foldable(layer.type, len(shape))
                and self._same_statement(src, node)):
            layer.params["activation"] = act.kind
            return x
        type_, params = act.as_layer()
        state = module.state_dict() if module is not None else None
        return self.single(type_, params, x, node, what, state=state,
                           module=str(node.target) if module is not None else None)

    def _same_statement(self, a: fx.Node, b: fx.Node) -> bool:
        sa, sb = a.meta.get("nc_site"), b.meta.get("nc_site")
        if sa is None or sb is None or sa == sb:
            return True
        va, vb = assigned_name(sa), assigned_name(sb)
        return va is not None and va == vb

    def _rnn(self, node: fx.Node, module: nn.Module) -> Tup:
        name = module_name(type(module))
        type_, params = tb.rnn_params(module)
        x = self.tensor(arg(node, 0, "input"), name)
        if x.as_bool or x.swapped == bool(module.batch_first):
            order = "(N, steps, features)" if module.batch_first else "(steps, N, features)"
            raise Unsupported(f"{name}(batch_first={module.batch_first}) reads {order}, but "
                              "receives the batch in the other place: NetCanvas's inputs are "
                              "batch first" + ("" if module.batch_first else
                                               "; transpose with x.transpose(0, 1) first"))
        inputs: dict[int, Ref] = {0: x.ref}
        hx = arg(node, 1, "hx")
        lstm = type_ == "LSTM"
        if hx is not None:
            states = self.val(hx)
            if lstm:
                states = states.items if isinstance(states, Tup) else \
                    tuple(self.val(s) for s in hx) if isinstance(hx, (tuple, list)) else None
                if states is None or len(states) != 2:
                    raise Unsupported(f"{name} given an initial state that is not (h_0, c_0)")
            else:
                states = (states,)
            dirs = 2 if module.bidirectional else 1
            want = (module.num_layers * dirs, int(self.shapes[arg(node, 0, "input")][
                1 if not module.batch_first else 0]), module.hidden_size)
            zeros = [isinstance(s, Zeros) and s.shape == want for s in states]
            if not all(zeros):
                if any(zeros):
                    raise Unsupported(f"{name} given zeros for one part of its initial state "
                                      "and a tensor for the other")
                for port, s in enumerate(states, 1):
                    if not (isinstance(s, T) and s.swapped):
                        raise Unsupported(f"{name} given an initial state that is not another "
                                          "recurrent layer's final state (or zeros)")
                    inputs[port] = s.ref
        shapes = self.shapes[node]
        seq = shapes[0] if module.batch_first else _swap(shapes[0])
        states_shape = shapes[1] if lstm else (shapes[1],)
        key = self.add(type_, params, inputs, node, str(node.target), module.state_dict(),
                       [seq, *(_swap(s) for s in states_shape)], name)
        self._frozen(T((key, 0)), module)
        out = T((key, 0), not module.batch_first)
        if lstm:
            return Tup((out, Tup((T((key, 1), True), T((key, 2), True)))))
        return Tup((out, T((key, 1), True)))

    def _mask(self, value: Any, steps: int, what: str) -> bool:
        """Whether ``value`` (an attention mask argument) is the causal mask of ``steps``."""
        v = self.val(value)
        if v is None:
            return False
        if isinstance(v, Mask) and v.kind == "causal" and v.length == steps:
            self.notes.append(f"{self.where(value)}: the causal mask became the layer's "
                              "causal option (the same mask, passed with is_causal=True), so "
                              "PyTorch may pick another attention kernel, which rounds "
                              "differently (by about 1e-7)")
            return True
        raise Unsupported(f"{what} that is not the causal mask of the sequence "
                          "(nn.Transformer.generate_square_subsequent_mask(T), or "
                          "torch.triu(torch.ones(T, T), diagonal=1).bool())")

    def _padding_mask(self, value: Any, what: str) -> Ref | None:
        v = self.val(value)
        if v is None:
            return None
        if isinstance(v, T) and not v.swapped and (v.as_bool or
                                                  self.ref_dtype.get(v.ref) == "float32"):
            return v.ref
        raise Unsupported(f"{what} that is not int64 ids' .bool() or a float mask of a model "
                          "input")

    def _attention(self, node: fx.Node, module: nn.MultiheadAttention) -> Tup:
        name = "nn.MultiheadAttention"
        tb.check_attention(module)
        q_node, k_node, v_node = arg(node, 0, "query"), arg(node, 1, "key"), arg(node, 2, "value")
        q = self.tensor(q_node, name)
        k, v = self.tensor(k_node, name), self.tensor(v_node, name)
        swapped = not module.batch_first
        if any(t.swapped != swapped or t.as_bool for t in (q, k, v)):
            raise Unsupported(f"{name}(batch_first={module.batch_first}) given its batch in "
                              "the other place")
        inputs: dict[int, Ref] = {0: q.ref}
        if k != q:
            inputs[1] = k.ref
        if v != (k if 1 in inputs else q):
            inputs[2] = v.ref
        mask = self._padding_mask(arg(node, 3, "key_padding_mask"), "a key_padding_mask")
        if mask is not None:
            inputs[3] = mask
        steps = self.dshape(q)[1]
        causal = self._mask(arg(node, 5, "attn_mask"), steps, "an attn_mask")
        reads_weights = any(
            u.op == "call_function" and u.target is operator.getitem and u.args[1] == 1
            for u in node.users)
        if reads_weights and not (arg(node, 4, "need_weights", True) and
                                  arg(node, 6, "average_attn_weights", True)):
            raise Unsupported(f"{name}'s attention weights with need_weights=False or "
                              "average_attn_weights=False")
        if not reads_weights and arg(node, 4, "need_weights", True):
            self.notes.append(
                f"{self.where(node)}: self.{node.target} computes attention weights nothing "
                "reads (need_weights=True, the default); the design asks for none "
                "(need_weights=False), so PyTorch takes its fused kernel, which rounds "
                "differently (by about 1e-7)")
        params = {"num_heads": module.num_heads, "dropout": float(module.dropout),
                  "use_bias": module.in_proj_bias is not None, "causal": causal}
        shapes = self.shapes[node]
        out = shapes[0] if not swapped else _swap(shapes[0])
        weights = shapes[1] if isinstance(shapes[1], tuple) and shapes[1] else \
            (out[0], out[1], self.dshape(k)[1])
        key = self.add("MultiheadAttention", params, inputs, node, str(node.target),
                       module.state_dict(), [out, weights], name)
        return Tup((T((key, 0), swapped), T((key, 1))))

    def _transformer(self, node: fx.Node, layer: nn.Module, path: str, args: tuple,
                     kwargs: dict, state_of: nn.Module | None = None) -> T:
        name = module_name(type(layer))
        decoder = isinstance(layer, nn.TransformerDecoderLayer)
        params = tb.transformer_params(layer)
        swapped = not layer.self_attn.batch_first

        def get(pos: int, key: str, default: Any = None) -> Any:
            return args[pos] if len(args) > pos else kwargs.get(key, default)

        x = self.tensor(get(0, "tgt" if decoder else "src"), name)
        if x.swapped != swapped or x.as_bool:
            raise Unsupported(f"{name}(batch_first={not swapped}) given its batch in the other "
                              "place")
        inputs: dict[int, Ref] = {0: x.ref}
        steps = self.dshape(x)[1]
        if decoder:
            memory = self.tensor(get(1, "memory"), name)
            if memory.swapped != swapped:
                raise Unsupported(f"{name} given a memory with its batch in the other place")
            inputs[1] = memory.ref
            if self.val(get(3, "memory_mask")) is not None:
                raise Unsupported(f"{name} with a memory_mask")
            causal = self._mask(get(2, "tgt_mask"), steps, "a tgt_mask")
            for port, pos, key in ((2, 4, "tgt_key_padding_mask"),
                                   (3, 5, "memory_key_padding_mask")):
                mask = self._padding_mask(get(pos, key), f"a {key}")
                if mask is not None:
                    inputs[port] = mask
            flag = get(6, "tgt_is_causal", False)
        else:
            causal = self._mask(get(1, "src_mask", get(1, "mask")), steps, "a src_mask")
            mask = self._padding_mask(get(2, "src_key_padding_mask"), "a src_key_padding_mask")
            if mask is not None:
                inputs[1] = mask
            flag = get(3, "is_causal", False)
        if flag and not causal:
            raise Unsupported(f"{name} with is_causal=True but no causal mask")
        params["causal"] = causal
        shape = self.shape(node) if state_of is None else self.dshape(x)
        out = shape if not swapped or state_of is not None else _swap(shape)
        key = self.add("TransformerDecoderLayer" if decoder else "TransformerEncoderLayer",
                       params, inputs, node, path, (state_of or layer).state_dict(), [out],
                       name)
        return T((key, 0), swapped)

    def _transformer_stack(self, node: fx.Node, stack: nn.Module) -> T:
        name = module_name(type(stack))
        decoder = isinstance(stack, nn.TransformerDecoder)
        names = (("tgt", "memory", "tgt_mask", "memory_mask", "tgt_key_padding_mask",
                  "memory_key_padding_mask", "tgt_is_causal", "memory_is_causal") if decoder
                 else ("src", "mask", "src_key_padding_mask", "is_causal"))
        kwargs = dict(zip(names, node.args))
        kwargs.update(node.kwargs)
        if not decoder:
            kwargs["src_mask"] = kwargs.pop("mask", None)
            if self.val(kwargs.get("src_key_padding_mask")) is not None and \
                    getattr(stack, "use_nested_tensor", False):
                raise Unsupported(f"{name}(enable_nested_tensor=True) with a padding mask (in "
                                  "eval mode it zeroes padded positions, which its layers "
                                  "alone do not): construct it with enable_nested_tensor=False")
        first = kwargs.pop(names[0])
        memory = (kwargs.pop("memory"),) if decoder else ()
        value = self.val(first)
        for i, layer in enumerate(stack.layers):
            value = self._transformer_sub(node, layer, f"{node.target}.layers.{i}",
                                          (value, *memory), kwargs)
        if stack.norm is not None:
            if type(stack.norm) is not nn.LayerNorm:
                raise Unsupported(f"{name} with a norm that is not nn.LayerNorm")
            type_, params = tb.map_module(stack.norm, None)
            value = self.single(type_, params, value, node, name,
                                module=f"{node.target}.norm", state=stack.norm.state_dict())
        return value

    def _transformer_sub(self, node: fx.Node, layer: nn.Module, path: str, args: tuple,
                         kwargs: dict) -> T:
        """One layer of a stack: its first argument is already a value, not a node."""
        return self._transformer(node, layer, path, (_ValueArg(args[0]), *args[1:]), kwargs,
                                 layer)

    def _positions(self, node: fx.Node, module: nn.Embedding) -> PosEmb:
        if module.padding_idx is not None or module.max_norm is not None or \
                module.scale_grad_by_freq:
            raise Unsupported("a positional nn.Embedding with padding_idx, max_norm or "
                              "scale_grad_by_freq")
        length = self.val(node.args[0]).length
        return PosEmb(str(node.target), length)

    # --- getitem / getattr -----------------------------------------------------------------------

    def _getattr(self, node: fx.Node) -> Any:
        v, attr = self.val(node.args[0]), node.args[1]
        if isinstance(v, Tup) and attr in ("values", "indices"):
            return self._pick(v, 0 if attr == "values" else 1)
        raise Unsupported(f"attribute .{attr}")

    def _pick(self, v: Tup, index: Any) -> Any:
        if not isinstance(index, int) or not -len(v.items) <= index < len(v.items):
            raise Unsupported(f"element {index!r} of a tuple of {len(v.items)}")
        item = v.items[index]
        if isinstance(item, Exception):
            raise Unsupported(str(item))
        return item

    def _getitem(self, node: fx.Node) -> Any:
        src, index = node.args
        v = self.val(src)
        if isinstance(v, Tup):
            return self._pick(v, self.const(index, "indexing a tuple"))
        if isinstance(v, Plumb):
            return Plumb(self.concrete.get(node), self.concrete3.get(node))
        index = self.const(index, "indexing")
        if isinstance(v, Param):
            return Param(v.name, v.tensor, (*v.index, index))
        t = self.tensor(src, "indexing")
        if t.as_bool:
            raise Unsupported("indexing a boolean mask")
        items = list(index) if isinstance(index, tuple) else [index]
        last = self._last_step(src, t, items)
        if last is not None:
            return last
        return self._index(node, t, items)

    def _last_step(self, src: fx.Node, t: T, items: list[Any]) -> T | None:
        """``out[:, -1]`` of a recurrent layer's sequence is its ``return_sequences=False``."""
        layer = self.layers.get(t.ref[0])
        full = slice(None)
        wanted = ([-1], [-1, full], [-1, full, full]) if t.swapped else \
            ([full, -1], [full, -1, full])
        if (layer is None or layer.type not in RNN or t.ref[1] != 0 or items not in wanted
                or not layer.params["return_sequences"] or len(src.users) != 1):
            return None
        layer.params["return_sequences"] = False
        shape = self.ref_shape[t.ref]
        self.ref_shape[t.ref] = (shape[0], shape[2])
        return T(t.ref)

    def _index(self, node: fx.Node, t: T, items: list[Any]) -> T:
        rank = len(self.dshape(t))
        if any(i is Ellipsis for i in items):
            at = items.index(Ellipsis)
            fill = rank - (len([i for i in items if i is not None]) - 1)
            items = items[:at] + [slice(None)] * fill + items[at + 1:]
        for item in items:
            if isinstance(item, (fx.Node, torch.Tensor, list)) or isinstance(item, bool):
                raise Unsupported(f"indexing with [{_index_text(items)}] (only numbers and "
                                  "slices)")
        swapped = t.swapped
        if swapped:  # the first index is the design's dimension 1, the second the batch
            if len(items) > 1 and items[1] != slice(None):
                raise Unsupported(f"indexing [{_index_text(items)}] picks from the batch")
            first = items[0]
            ops = [("select", 1, first)] if isinstance(first, int) else \
                ([] if first == slice(None) else [("slice", 1, first)])
            swapped = not isinstance(first, int)
            rest, dim = items[2:], 2 if swapped else 1
        else:
            if items and items[0] != slice(None):
                raise Unsupported(f"indexing [{_index_text(items)}] picks from the batch (the "
                                  "first index must be `:`)")
            ops, rest, dim = [], items[1:], 1
        for item in rest:
            if item is None:
                ops.append(("unsqueeze", dim, None))
                dim += 1
            elif isinstance(item, int):
                ops.append(("select", dim, item))
            elif isinstance(item, slice):
                if item != slice(None):
                    ops.append(("slice", dim, item))
                dim += 1
            else:
                raise Unsupported(f"indexing with [{_index_text(items)}]")
        value = T(t.ref)
        shape = list(self.dshape(t))
        for kind, d, item in ops:
            if kind == "select":
                shape.pop(d)
                value = self._layer_on(node, "Select", {"dim": d, "index": item}, value,
                                       tuple(shape))
            elif kind == "slice":
                if item.step is not None and item.step < 1:
                    raise Unsupported("a slice with a negative step")
                shape[d] = len(range(*item.indices(shape[d])))
                value = self._layer_on(node, "Slice", {"dim": d, "start": item.start,
                                                       "stop": item.stop,
                                                       "step": item.step or 1},
                                       value, tuple(shape))
            else:
                shape.insert(d, 1)
                value = self._layer_on(node, "Reshape", {"shape": tuple(shape[1:])}, value,
                                       tuple(shape))
        return T(value.ref, swapped)

    def _layer_on(self, node: fx.Node, type_: str, params: dict[str, Any], x: T,
                  shape: tuple[int, ...]) -> T:
        key = self.add(type_, params, {0: x.ref}, node, shapes=[shape])
        return T((key, 0))

    # --- arithmetic ------------------------------------------------------------------------------

    def _arith_kind(self, node: fx.Node) -> str | None:
        target = node.target
        if node.op == "call_method":
            return tb.ARITH_METHODS.get(target)
        if not tb.hashable(target):
            return None
        for kind, targets in (("add", tb.ADD), ("sub", tb.SUB), ("mul", tb.MUL),
                              ("div", tb.DIV)):
            if target in targets:
                return kind
        return None

    def _arith(self, node: fx.Node, kind: str) -> Any:
        symbol = {"add": "+", "sub": "-", "mul": "*", "div": "/"}[kind]
        if node.kwargs.get("alpha", 1) != 1 or len(node.args) > 2:
            raise Unsupported(f"torch.{kind} with alpha")
        if node.kwargs.get("rounding_mode") is not None:
            raise Unsupported(f"torch.div with rounding_mode={node.kwargs['rounding_mode']!r}")
        a_arg = node.args[0]
        b_arg = node.args[1] if len(node.args) > 1 else node.kwargs.get("other")
        a, b = self.val(a_arg), self.val(b_arg)
        if kind == "mul":
            kl = self._kl(node, a_arg, b_arg)
            if kl is not None:
                return kl
            for x, y in ((a, b), (b, a)):
                if isinstance(x, Noise) and isinstance(y, T):
                    return ScaledNoise(y, x)
        if kind == "add":
            for x, y in ((a, b), (b, a)):
                if isinstance(x, T) and isinstance(y, ScaledNoise):
                    return self._sampling(node, x, y)
                if isinstance(x, T) and isinstance(y, PosEmb):
                    return self._positional(node, x, y)
        if isinstance(a, Plumb):
            a = self.const(a_arg, f"`{symbol}`")
        if isinstance(b, Plumb):
            b = self.const(b_arg, f"`{symbol}`")
        number = (int, float)
        if isinstance(a, T) and isinstance(b, number) and not isinstance(b, bool):
            return self._constant(node, kind, a, float(b), right=True)
        if isinstance(b, T) and isinstance(a, number) and not isinstance(a, bool):
            return self._constant(node, kind, b, float(a), right=False)
        if isinstance(a, Param) and isinstance(b, T):
            a = self._parameter(node, a, b)
        elif isinstance(b, Param) and isinstance(a, T):
            b = self._parameter(node, b, a)
        if not (isinstance(a, T) and isinstance(b, T)):
            bad = a_arg if not isinstance(a, T) else b_arg
            raise Unsupported(f"`{symbol}` with {self._describe(self.val(bad), bad)}")
        if a.swapped != b.swapped or a.as_bool or b.as_bool:
            raise Unsupported(f"`{symbol}` of tensors whose batch is in different places")
        type_ = {"add": "Add", "sub": "Subtract", "mul": "Multiply", "div": "Divide"}[kind]
        left = self.layers[a.ref[0]]
        if (type_ in ("Add", "Multiply") and left.type == type_ and a.ref[1] == 0
                and left.node is a_arg and len(a_arg.users) == 1
                and a_arg.meta.get("nc_site") == node.meta.get("nc_site")):
            left.inputs[len(left.inputs)] = b.ref  # a + b + c is one variadic layer
            left.node = node
            self.layers[left.key] = self.layers.pop(left.key)  # after its new input
            return a
        shape = self.shape(node)
        key = self.add(type_, {}, {0: a.ref, 1: b.ref}, node,
                       shapes=[_swap(shape) if a.swapped else shape], what=f"`{symbol}`")
        return T((key, 0), a.swapped)

    def _constant(self, node: fx.Node, kind: str, x: T, c: float, right: bool) -> T:
        """``x op c`` (``right``) or ``c op x``: Scale / Shift layers."""
        if x.as_bool:
            raise Unsupported("arithmetic on a boolean mask")
        if not math.isfinite(c):
            raise Unsupported(f"arithmetic with {c!r}")
        if kind == "add":
            return self.single("Shift", {"offset": c}, x, node, "`+` with a constant")
        if kind == "mul":
            return self.single("Scale", {"factor": c}, x, node, "`*` with a constant")
        if kind == "div":
            if not right:
                raise Unsupported("a constant divided by a tensor (no layer computes c / x)")
            return self.single("Scale", {"factor": c, "op": "divide"}, x, node,
                               "`/` by a constant")
        if right:
            return self.single("Shift", {"offset": -c}, x, node, "`-` with a constant")
        negated = self.single("Scale", {"factor": -1.0}, x, node, "`-` of a tensor")
        return self.single("Shift", {"offset": c}, negated, node, "a constant minus a tensor")

    def _parameter(self, node: fx.Node, p: Param, like: T) -> T:
        """A learned tensor used in arithmetic with ``like``: a Parameter layer (broadcast over
        the batch), then whatever indexing it had."""
        tensor = p.tensor
        rank = len(self.dshape(like))
        items = []
        for index in p.index:
            items.extend(index if isinstance(index, tuple) else (index,))
        if tensor.dim() == rank and tensor.shape[0] == 1:
            shape = tuple(tensor.shape[1:])
        elif tensor.dim() < rank:
            shape = (1,) * (rank - 1 - tensor.dim()) + tuple(tensor.shape)
            if items:
                raise Unsupported(f"indexing the parameter self.{p.name} (only with a leading "
                                  "dimension of 1)")
        else:
            raise Unsupported(f"the parameter self.{p.name} of shape {tuple(tensor.shape)} in "
                              f"arithmetic with {('N', *self.dshape(like)[1:])} (its first "
                              "dimension would meet the batch)")
        value = self.parameter_layer(node, p, shape or (1,), like)
        if items:
            value = self._index(node, value, items)
        return value

    def parameter_layer(self, node: fx.Node, p: Param, shape: tuple[int, ...], like: T) -> T:
        """The Parameter layer holding ``p`` as ``(1, *shape)``, repeated over ``like``'s
        batch (one per parameter and shape: uses share it)."""
        tensor = p.tensor
        cached = self._params.get((p.name, shape))
        if cached is None:
            value = tensor.detach().reshape(1, *shape)
            stack = tuple(node.meta.get("nn_module_stack", {}).values())
            key = self.add("Parameter", {"shape": shape}, {0: like.ref}, node,
                           shapes=[(self.dshape(like)[0], *shape)], what=f"self.{p.name}",
                           state={"": value})
            self.layers[key].name = p.name.replace(".", "_")
            self.layers[key].stack = tuple((str(a), c) for a, c in stack)
            self.layers[key].trainable = bool(getattr(tensor, "requires_grad", False))
            self._params[(p.name, shape)] = key
            cached = key
        return T((cached, 0))

    def _positional(self, node: fx.Node, x: T, emb: PosEmb) -> T:
        module = self.gm.get_submodule(emb.module)
        shape = self.dshape(x)
        if x.swapped or len(shape) != 3 or shape[1] != emb.length or \
                shape[2] != module.embedding_dim:
            raise Unsupported(f"positions of self.{emb.module} added to {('N', *shape[1:])} "
                              f"(they fit (N, {emb.length}, {module.embedding_dim}))")
        table = module.num_embeddings
        return self.single("PositionalEmbedding",
                           {"max_length": 0 if table == emb.length else table}, x, node,
                           "a positional embedding", module=emb.module,
                           state=module.state_dict())

    def _unary(self, node: fx.Node, type_: str) -> T:
        x = self.tensor(node.args[0], type_.lower())
        if x.as_bool:
            raise Unsupported(f"{type_.lower()} of a boolean mask")
        return self.single(type_, {}, x, node)

    def _no_op(self, node: fx.Node) -> Any:
        v = self.val(node.args[0])
        if isinstance(v, (Zeros, Mask, Positions, Param)):
            return v
        if isinstance(v, StepPending) and node.target in ("to", "float") and \
                self.dtypes_of.get(node) == "float32":
            return self.single("Step", {}, v.x, node, "(x > 0).to(x.dtype)")
        x = self.tensor(node.args[0], f"Tensor.{node.target}()")
        if self.dtypes_of.get(node) != self.dtypes_of.get(node.args[0]):
            raise Unsupported(f"Tensor.{node.target}() changing the dtype to "
                              f"{self.dtypes_of.get(node)}")
        return x

    def _bool(self, node: fx.Node) -> Any:
        v = self.val(node.args[0])
        if isinstance(v, Mask):
            return Mask(v.length, "causal") if v.kind == "ones" else v
        if isinstance(v, T) and self.ref_dtype.get(v.ref) == "int64" and not v.swapped:
            return T(v.ref, as_bool=True)
        raise Unsupported("Tensor.bool() (only of int64 ids, as a padding mask)")

    # --- patterns --------------------------------------------------------------------------------

    def _sampling_layer(self, node: fx.Node, mean: T, log_var: T) -> str:
        slot = (mean.ref, log_var.ref)
        if slot not in self._samplers:
            if mean.swapped or log_var.swapped or self.dshape(mean) != self.dshape(log_var):
                raise Unsupported("the reparameterisation of a mean and a log-variance of "
                                  "different shapes")
            shape = self.dshape(mean)
            kl = (shape[0], 1) if len(shape) == 2 else (shape[0],) + (1,) * (len(shape) - 1)
            self._samplers[slot] = self.add("Sampling", {}, {0: mean.ref, 1: log_var.ref},
                                            node, shapes=[shape, kl])
        return self._samplers[slot]

    def _sampling(self, node: fx.Node, mean: T, scaled: ScaledNoise) -> T:
        """``mu + exp(0.5 * log_var) * randn_like(mu)`` (in any order): the Sampling layer."""
        log_var = self._half_exp(scaled.std)
        if log_var is None or tuple(scaled.noise.shape) != tuple(self.shape(node) or ()):
            raise Unsupported("random noise in a sum that is not the reparameterisation mu + "
                              "exp(0.5 * log_var) * randn_like(mu)")
        key = self._sampling_layer(node, mean, log_var)
        always = self._random_in_eval(scaled.noise.node)
        self.layers[key].params["sample_in_eval"] = always
        return T((key, 0))

    def _half_exp(self, std: T) -> T | None:
        """The log-variance ``lv`` when ``std`` is ``exp(0.5 * lv)`` (or ``exp(lv / 2)``)."""
        layer = self.layers.get(std.ref[0])
        if layer is None or layer.type != "Exp" or std.swapped:
            return None
        half = self.layers[layer.inputs[0][0]]
        if half.type != "Scale" or (half.params["factor"], half.params["op"]) not in (
                (0.5, "multiply"), (2.0, "divide")):
            return None
        return T(half.inputs[0])

    def _random_in_eval(self, noise: fx.Node) -> bool:
        """Whether ``forward`` draws this noise in eval mode too (the eval trace has it)."""
        return self.in_eval(noise) is not None

    def in_eval(self, node: fx.Node) -> fx.Node | None:
        """The call of the eval-mode trace that is ``node`` (same line, same function, the
        same occurrence on that line), or None when eval mode does not make it."""
        same = [n for n in self.eval_nodes.get(node.meta.get("nc_site"), ())
                if n.target is node.target or n.target == node.target]
        k = self._nth.get(node, 0)
        return same[k] if k < len(same) else None

    def _kl(self, node: fx.Node, a: Any, b: Any) -> T | None:
        """``-0.5 * torch.sum(1 + lv - mu * mu - torch.exp(lv), dim=…, keepdim=True)``, the
        Sampling layer's KL divergence, written as NetCanvas writes it."""
        for factor, total in ((a, b), (b, a)):
            if factor != -0.5 or not isinstance(total, fx.Node):
                continue
            got = _match_kl(total)
            if got is None:
                continue
            mean_node, lv_node, dims = got
            mean, log_var = self.val(mean_node), self.val(lv_node)
            if not (isinstance(mean, T) and isinstance(log_var, T)):
                return None
            rank = len(self.dshape(mean))
            if dims != (1 if rank == 2 else tuple(range(1, rank))):
                return None
            key = self._sampling_layer(node, mean, log_var)
            return T((key, 1))
        return None

    # --- functions -------------------------------------------------------------------------------

    def weight(self, a: Any, what: str) -> Param | None:
        if a is None:
            return None
        v = self.val(a)
        if isinstance(v, Param) and not v.index:
            return v
        raise Unsupported(f"{what} whose weights are not parameters of the model")

    def owner(self, p: Param) -> str | None:
        """``fc`` for ``fc.weight`` (ONNX: ``fc_weight``); None for the model's own."""
        owner = p.name.rpartition(".")[0]
        if not owner and self.inference:
            for suffix in ("_weight", "_bias", "_scale"):
                if p.name.endswith(suffix) and len(p.name) > len(suffix):
                    return p.name[:-len(suffix)]
        return owner or None

    def functional(self, node: fx.Node, type_: str, params: dict[str, Any], x: T,
                   state: dict[str, Param | None], what: str) -> T:
        tensors = {k: p.tensor.detach() for k, p in state.items() if p is not None}
        first = next((p for p in state.values() if p is not None), None)
        owner = self.owner(first) if first is not None else None
        out = self.single(type_, params, x, node, what, state=tensors)
        layer = self.layers[out.ref[0]]
        if owner:
            layer.name = owner.replace(".", "_")
        if first is not None and not any(getattr(p.tensor, "requires_grad", False)
                                         for p in state.values() if p is not None):
            layer.trainable = self.inference
        return out


def _swap(shape: Any) -> tuple[int, ...]:
    shape = tuple(shape)
    return (shape[1], shape[0], *shape[2:]) if len(shape) > 1 else shape


class _ValueArg:
    """Stands for an already-computed value where a handler expects a graph node."""

    def __init__(self, value: Any) -> None:
        self.value = value


def _fetch(gm: nn.Module, target: str) -> torch.Tensor:
    obj: Any = gm
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj


def _match_kl(total: fx.Node) -> tuple[fx.Node, fx.Node, Any] | None:
    """(mean, log_var, dims) when ``total`` is ``torch.sum(1 + lv - m * m - torch.exp(lv),
    dim=dims, keepdim=True)``."""
    def call(n: Any, targets: frozenset | tuple, count: int = 2) -> tuple | None:
        if isinstance(n, fx.Node) and n.op == "call_function" and tb.hashable(n.target) and \
                n.target in targets and len(n.args) >= count:
            return n.args
        return None

    if not (isinstance(total, fx.Node) and total.target in (torch.sum,)
            and total.op == "call_function" and total.kwargs.get("keepdim") is True):
        return None
    dims = total.kwargs.get("dim", total.args[1] if len(total.args) > 1 else None)
    outer = call(total.args[0], tb.SUB)
    if outer is None:
        return None
    inner, exp = outer
    exp_args = call(exp, (torch.exp,), 1)
    inner_args = call(inner, tb.SUB)
    if exp_args is None or inner_args is None:
        return None
    one_plus, square = inner_args
    plus = call(one_plus, tb.ADD)
    sq = call(square, tb.MUL)
    if plus is None or sq is None or sq[0] is not sq[1] or plus[0] != 1:
        return None
    lv = plus[1]
    if exp_args[0] is not lv:
        return None
    return sq[0], lv, tuple(dims) if isinstance(dims, list) else dims


def _index_text(index: Any) -> str:
    items = index if isinstance(index, (tuple, list)) else (index,)
    out = []
    for item in items:
        if isinstance(item, slice):
            out.append(":".join("" if v is None else str(v)
                                for v in (item.start, item.stop, item.step)).rstrip(":") or ":")
        elif item is Ellipsis:
            out.append("...")
        else:
            out.append(item.name if isinstance(item, fx.Node) else repr(item))
    return ", ".join(out)


def assigned_name(site: tuple[str, int] | None) -> str | None:
    """The variable a source line assigns (``h = …`` → ``h``; ``out, _ = …`` → ``out``)."""
    if not site:
        return None
    line = linecache.getline(site[0], site[1]).strip()
    try:
        stmt = ast.parse(line).body[0]
    except (SyntaxError, IndexError):
        return None
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0]
        if isinstance(target, ast.Tuple) and target.elts:
            target = target.elts[0]
        return target.id if isinstance(target, ast.Name) else None
    if isinstance(stmt, (ast.AugAssign, ast.AnnAssign)) and isinstance(stmt.target, ast.Name):
        return stmt.target.id
    return None


# Handlers of functions and methods live in `backend.importer.ops`; importing it fills these.
_FUNCTION_HANDLERS: dict[Any, Any] = {}
_METHOD_HANDLERS: dict[str, Any] = {}

from backend.importer import ops as _ops  # noqa: E402  (registers the handlers)

_ops.register(_FUNCTION_HANDLERS, _METHOD_HANDLERS)
