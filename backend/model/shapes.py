"""Exact shape inference: every layer is built and run on PyTorch's ``meta`` device.

One topological walk over the design. For each node the walker asks `backend.model.layers` for the
node's `LayerPlan`, builds its ``nn`` layer on ``meta`` and executes the plan's statements on
meta tensors — the same statements the generated code contains — so the shapes shown on the
canvas are exactly the shapes PyTorch will produce. Results are cached per (type, params,
input shapes, dtypes), so re-analysing after an edit costs little.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812 - the conventional name, used by plan statements
from torch import nn

from backend.model.layers import Fix, LayerPlan, PlanProblem, Shape, flops, fmt, plan_layer
from graph.blocks import is_ref, resolve
from graph.document import Document
from graph.errors import GraphError, ParamError
from graph.events import Edge
from graph.validation import validate

BATCH = "N"
_META_BATCH = 3
_CACHE_SIZE = 8192


class ShapeError(GraphError):
    """A layer that cannot take the shapes it receives; ``fixes`` holds one-click repairs
    (`backend.model.layers.Fix`, most likely first) the canvas may offer."""

    def __init__(self, message: str, node_ids: Any = (), fixes: tuple[Fix, ...] = ()) -> None:
        super().__init__(message, node_ids)
        self.fixes = tuple(fixes)


def format_shape(shape: Shape | None) -> str:
    """``("N", 30)`` → ``"(N, 30)"``; None → ``"?"``."""
    return "?" if shape is None else fmt(shape)


@dataclass
class NodeInfo:
    """What analysis knows about one node."""

    input_shapes: list[Shape | None] = field(default_factory=list)
    """Shapes received, by input port (None: an optional port left open)."""
    output_shapes: list[Shape] = field(default_factory=list)
    params: int = 0
    trainable_params: int = 0
    flops: int | None = None
    error: GraphError | None = None
    resolved: dict[str, Any] = field(default_factory=dict)
    dtypes: list[str] = field(default_factory=list)
    """dtype of each output (``float32`` or ``int64``)."""
    plan: LayerPlan | None = None
    instances: list[Analysis] = field(default_factory=list)
    """A Block node: the analysis of each instance it chains (``repeat``), inner shapes
    inferred from the shapes it receives."""
    values: dict[str, Any] = field(default_factory=dict)
    """A Block node: its value for every parameter of its definition."""
    params_used: dict[str, Any] | None = None
    """Inside a definition: the node's parameters with the instance's values written in."""


@dataclass
class Analysis:
    """Shapes, parameter counts and errors of a whole design."""

    nodes: dict[str, NodeInfo]
    errors: list[GraphError]
    order: list[str] = field(default_factory=list)
    """Node ids in the topological order the walker used (empty when the graph has a cycle)."""
    prefix: str = ""
    """An instance's path in the module (``layer3.1.``); empty for the design."""
    port_shapes: list[Shape] = field(default_factory=list)
    """An instance: the shapes its ports receive."""

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def total_params(self) -> int:
        return sum(info.params for info in self.nodes.values())

    @property
    def trainable_params(self) -> int:
        return sum(info.trainable_params for info in self.nodes.values())

    def edge_shape(self, edge: Edge) -> Shape | None:
        """The shape flowing through ``edge``, or None where it is unknown."""
        info = self.nodes.get(edge.src)
        if info is None or edge.src_port >= len(info.output_shapes):
            return None
        return info.output_shapes[edge.src_port]


@dataclass(frozen=True)
class _Result:
    plan: LayerPlan | None
    out_shapes: tuple[Shape, ...] = ()
    out_dtypes: tuple[str, ...] = ()
    params: int = 0
    flops: int | None = None
    problem: str | None = None
    fixes: tuple[Fix, ...] = ()


_cache: OrderedDict[tuple[Any, ...], _Result] = OrderedDict()
_instance_cache: OrderedDict[tuple[Any, ...], Analysis] = OrderedDict()
_structure_cache: dict[tuple[str, int], list[GraphError]] = {}
_code_cache: dict[str, Any] = {}
_module_cache: dict[tuple[Any, ...], tuple[Any, int]] = {}


def clear_cache() -> None:
    """Forget cached layer results (for cold-start measurements)."""
    _cache.clear()
    _code_cache.clear()
    _module_cache.clear()
    _instance_cache.clear()
    _structure_cache.clear()


def _inputs_of(doc: Document, node_id: str, nodes: dict[str, NodeInfo]
               ) -> tuple[list[Shape | None], list[str | None]] | None:
    """The shapes and dtypes a node receives, by input port (variadic: in port order), or None
    when an upstream node has no result or a required input is missing."""
    spec = doc.spec(node_id)
    edges = doc.in_edges(node_id)
    if spec.variadic:
        shapes: list[Shape | None] = []
        dtypes: list[str | None] = []
    else:
        shapes, dtypes = [None] * spec.arity, [None] * spec.arity
    for edge in edges:
        src = nodes[edge.src]
        if edge.src_port >= len(src.output_shapes):
            return None
        if spec.variadic:
            shapes.append(src.output_shapes[edge.src_port])
            dtypes.append(src.dtypes[edge.src_port])
        elif edge.dst_port < spec.arity:
            shapes[edge.dst_port] = src.output_shapes[edge.src_port]
            dtypes[edge.dst_port] = src.dtypes[edge.src_port]
    if spec.variadic:
        return (shapes, dtypes) if len(shapes) >= 2 else None
    if not shapes or any(shapes[p] is None for p in spec.required_inputs()):
        return None
    return shapes, dtypes


def analyse(doc: Document) -> Analysis:
    """Shapes, parameter counts, FLOPs and errors for every node; never raises for a bad design.

    A Block node is analysed per instance: its definition is walked with the shapes the node
    receives and the node's parameter values (`NodeInfo.instances`); an error inside names the
    instance path (``layer3.1.conv2``) and is pinned to the Block node."""
    return _walk(doc, None, None, "")


def _structure(doc: Document) -> list[GraphError]:
    if not doc.is_definition:
        return list(validate(doc))
    key = (doc.block_id, doc.root.blocks_version)
    hit = _structure_cache.get(key)
    if hit is None:
        if len(_structure_cache) > 1024:
            _structure_cache.clear()
        hit = _structure_cache[key] = list(validate(doc))
    return list(hit)


def _walk(doc: Document, ports: list[tuple[Shape, str]] | None, values: dict[str, Any] | None,
          prefix: str) -> Analysis:
    errors: list[GraphError] = _structure(doc)
    if prefix and errors:
        errors = [GraphError(f"{doc.name} '{prefix[:-1]}': {e.message}") for e in errors]
    nodes: dict[str, NodeInfo] = {n: NodeInfo() for n in doc.graph.nodes}
    try:
        order = doc.topological_order()
    except Exception:  # a cycle: validate() already reported it
        return Analysis(nodes, errors, [], prefix)
    port_of = {n: k for k, n in enumerate(doc.inputs())} if ports is not None else {}
    # In an nn.Sequential block, layers are named by their index (their state-dict keys).
    chain = {n: k for k, n in enumerate(
        n for n in order if doc.attr(n, "type") not in ("BlockInput", "BlockOutput"))
    } if doc.sequential else {}
    for node_id in order:
        info = nodes[node_id]
        type_ = doc.attr(node_id, "type")
        params = doc.attr(node_id, "params")
        if type_ == "Input":
            info.output_shapes = [(BATCH, *params["shape"])]
            info.dtypes = [params["dtype"]]
            continue
        if type_ == "BlockInput":
            k = port_of.get(node_id)
            if ports is not None and k is not None and k < len(ports):
                info.output_shapes, info.dtypes = [ports[k][0]], [ports[k][1]]
            continue
        received = _inputs_of(doc, node_id, nodes)
        if received is None:
            continue  # an upstream error or a missing input, reported elsewhere
        shapes, dtypes = received
        info.input_shapes = shapes
        if type_ in ("Output", "BlockOutput"):
            info.output_shapes = list(shapes)
            info.dtypes = list(dtypes)
            continue
        name = prefix + (str(chain[node_id]) if node_id in chain else doc.attr(node_id, "name"))
        if values is not None and any(is_ref(v) for v in params.values()):
            try:
                spec = doc.spec(node_id)
                fixed = {k: v for k, v in params.items() if k == "block" and type_ == "Block"}
                params = {**fixed, **spec.validate_params(
                    {k: v for k, v in resolve(params, values).items() if k not in fixed},
                    partial=True)}
            except ParamError as exc:
                info.error = ShapeError(f"{type_} '{name}': {exc.message}", (node_id,))
                errors.append(info.error)
                continue
            info.params_used = params
        if type_ == "Block":
            _block_node(doc, node_id, params, info, shapes, dtypes, name, errors)
            continue
        result = _run(type_, params, shapes, dtypes)
        if result.problem is not None:
            info.error = ShapeError(f"{type_} '{name}' {result.problem}.", (node_id,),
                                    result.fixes)
            errors.append(info.error)
            continue
        info.plan = result.plan
        info.output_shapes = list(result.out_shapes)
        info.dtypes = list(result.out_dtypes)
        info.params = result.params
        info.trainable_params = result.params if doc.attr(node_id, "trainable") else 0
        info.flops = result.flops
        info.resolved = dict(result.plan.resolved) if result.plan else {}
    return Analysis(nodes, errors, order, prefix,
                    [s for s, _ in ports] if ports is not None else [])


def _block_node(doc: Document, node_id: str, params: dict[str, Any], info: NodeInfo,
                shapes: list[Shape | None], dtypes: list[str | None], name: str,
                errors: list[GraphError]) -> None:
    """Walk each instance of a Block node with the shapes it receives."""
    block = doc.root.block(params["block"])

    def fail(message: str) -> None:
        info.error = ShapeError(message, (node_id,))
        errors.append(info.error)

    values: dict[str, Any] = {}
    for p in block.block_params:
        try:
            values[p.name] = p.validate(params.get(p.name, p.default))
        except ParamError as exc:
            fail(f"Block '{name}' ({block.name}): {exc.message}")
            return
    info.values = values
    repeat = params.get("repeat", 1)
    if repeat > 1 and (len(block.inputs()) != 1 or len(block.outputs()) != 1):
        fail(f"Block '{name}' repeats {block.name} {repeat} times, which needs one input and "
             f"one output (it has {len(block.inputs())} and {len(block.outputs())}): set "
             "repeat to 1 or change the block's ports")
        return
    current = [(s, d or "float32") for s, d in zip(shapes, dtypes) if s is not None]
    for k in range(repeat):
        path = f"{name}.{k}." if repeat > 1 else f"{name}."
        inner = _instance(block, values, current, path)
        info.instances.append(inner)
        if not inner.ok:
            for e in inner.errors:
                errors.append(ShapeError(e.message, (node_id,), getattr(e, "fixes", ())))
            info.error = errors[-1]
            return
        current = []
        for out in block.outputs():
            out_info = inner.nodes[out]
            if not out_info.output_shapes:
                fail(f"Block '{name}' ({block.name}): output "
                     f"'{block.attr(out, 'name')}' receives nothing")
                return
            current.append((out_info.output_shapes[0], out_info.dtypes[0]))
    info.output_shapes = [s for s, _ in current]
    info.dtypes = [d for _, d in current]
    info.params = sum(a.total_params for a in info.instances)
    info.trainable_params = sum(a.trainable_params for a in info.instances) \
        if doc.attr(node_id, "trainable") else 0
    counted = [n.flops for a in info.instances for n in a.nodes.values()]
    info.flops = None if any(f is None for f in counted if f is not None) else \
        sum(f for f in counted if f is not None)


def _instance(block: Document, values: dict[str, Any], ports: list[tuple[Shape, str]],
              prefix: str) -> Analysis:
    key = (block.block_id, block.root.blocks_version, tuple(sorted(
        (k, _freeze(v)) for k, v in values.items())), tuple(ports), prefix)
    return _cached(_instance_cache, key, lambda: _walk(block, ports, values, prefix))


def layer_shapes(type_: str, params: dict[str, Any], shapes: list[Shape | None],
                 dtypes: list[str | None]) -> tuple[list[Shape], list[str]]:
    """The output shapes and dtypes of one layer receiving ``shapes`` (by port), as the walker
    infers them (cached); `ShapeError` with the problem text (completing "<Type> …") otherwise.
    """
    result = _run(type_, params, list(shapes), list(dtypes))
    if result.problem is not None:
        raise ShapeError(f"{type_} {result.problem}.", (), result.fixes)
    return list(result.out_shapes), list(result.out_dtypes)


def _freeze(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


def _run(type_: str, params: dict[str, Any], shapes: list[Shape | None],
         dtypes: list[str | None]) -> _Result:
    key = (type_, tuple(sorted((k, _freeze(v)) for k, v in params.items())), tuple(shapes),
           tuple(dtypes))
    return _cached(_cache, key, lambda: _compute(type_, params, shapes, dtypes))


def _cached(cache: Any, key: Any, compute: Any) -> Any:
    """``cache[key]``, computed on a miss; the least recently used entry goes past
    `_CACHE_SIZE`."""
    hit = cache.get(key)
    if hit is not None:
        cache.move_to_end(key)
        return hit
    result = compute()
    cache[key] = result
    if len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)
    return result


def _compute(type_: str, params: dict[str, Any], shapes: list[Shape | None],
             dtypes: list[str | None]) -> _Result:
    try:
        plan = plan_layer(type_, params, shapes, dtypes)
    except PlanProblem as exc:
        return _Result(None, problem=str(exc), fixes=exc.fixes)
    got = " and ".join(fmt(s) for s in shapes if s is not None)
    steps = int(shapes[0][1]) if plan.scales_with_steps and shapes[0] is not None else 0
    run_shapes = list(shapes)
    if steps > 1:
        # Recurrent kernels unroll step by step on the meta device (55 ms for 16 steps of a
        # bidirectional LSTM, growing with the length); their shapes scale exactly with the
        # number of steps, so one step is run and the step dimension restored below.
        run_shapes[0] = (shapes[0][0], 1, *shapes[0][2:])
    try:
        layer, n_params = _build(plan)
        tensors = [None if s is None else _meta_tensor(s, d) for s, d in zip(run_shapes, dtypes)]
        outs = _execute(plan, layer, tensors)
    except Exception as exc:  # PyTorch refused the shapes: say so in its words
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return _Result(None, problem=f"cannot process {got}: {detail}")
    out_shapes, out_dtypes = [], []
    for out in outs:
        if out.dim() == 0 or out.shape[0] != _META_BATCH:
            return _Result(None, problem=f"does not keep the batch dimension for {got}")
        out_shape = (BATCH, *(int(d) for d in out.shape[1:]))
        if steps > 1 and not out_shapes and len(out_shape) == 3 and out_shape[1] == 1:
            out_shape = (BATCH, steps, out_shape[2])  # output 0: the sequence, every step
        if any(d == 0 for d in out_shape[1:]):
            return _Result(None, problem=f"receives {got} and would output {fmt(out_shape)}, "
                                         "which is empty: use a smaller kernel or stride, or a "
                                         "larger input")
        out_shapes.append(out_shape)
        out_dtypes.append("int64" if out.dtype == torch.int64 else "float32")
    return _Result(plan, tuple(out_shapes), tuple(out_dtypes), n_params,
                   flops(type_, plan, shapes, out_shapes[0], params))


def _build(plan: LayerPlan) -> tuple[nn.Module | torch.Tensor | None, int]:
    """The plan's layer on the meta device (cached: meta layers hold no data, and in eval mode
    a forward pass changes nothing, so layers built alike are shared)."""
    if plan.ctor is None:
        return None, 0
    key = (plan.ctor, plan.args, plan.kwargs)
    hit = _module_cache.get(key)
    if hit is not None:
        return hit
    if plan.is_parameter:
        tensor = nn.Parameter(torch.zeros(plan.args, device="meta"))
        built: tuple[nn.Module | torch.Tensor | None, int] = (tensor, tensor.numel())
    else:
        cls = getattr(nn, plan.ctor.removeprefix("nn."))
        with torch.device("meta"):
            layer = cls(*plan.args, **dict(plan.kwargs))
        layer.eval()
        built = (layer, sum(p.numel() for p in layer.parameters()))
    if len(_module_cache) > _CACHE_SIZE:
        _module_cache.clear()
    _module_cache[key] = built
    return built


def _meta_tensor(shape: Shape, dtype: str | None) -> torch.Tensor:
    dims = (_META_BATCH, *(int(d) for d in shape[1:]))
    return torch.empty(dims, dtype=torch.int64 if dtype == "int64" else torch.float32,
                       device="meta")


class _Self:
    """``self`` in plan statements that ask for the mode (the Sampling node): training, so the
    meta run goes through every operation the training step will."""

    training = True


def _execute(plan: LayerPlan, layer: nn.Module | torch.Tensor | None,
             tensors: list[torch.Tensor | None]) -> list[torch.Tensor]:
    """Run the plan's statements — the generated code's own lines — on meta tensors."""
    names = {f"x{i}": f"x{i}" for i in range(len(tensors))}
    outs = {"out": "out", **{f"out{k}": f"out{k}" for k in range(1, plan.outputs)}}
    source = "\n".join(s.format(layer="layer", **outs, **names) for s in plan.statements)
    code = _code_cache.get(source)
    if code is None:
        code = _code_cache[source] = compile(source, "<netcanvas:shape>", "exec")
    scope: dict[str, Any] = {"torch": torch, "F": F, "nn": nn, "layer": layer, "self": _Self,
                             **{f"x{i}": t for i, t in enumerate(tensors) if t is not None}}
    exec(code, {"__builtins__": {}}, scope)  # noqa: S102 - plan statements, validated values
    return [scope[name] for name in outs]
