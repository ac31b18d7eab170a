"""Code generation for block definitions: one ``nn.Module`` class per definition.

The walker analysed every instance of a definition with the shapes it receives (`NodeInfo.
instances`); this module writes one class that builds all of them. Each constructor argument of
an inner layer is written as the simplest expression that is right for every instance, tried in
this order: the block parameter the layer refers to; for an inferred size, a block parameter or
a dimension of a block input that equals it in every instance (``in_channels``; where it is the
same in every instance, the input's dimension first); the constant; otherwise an argument of
its own (``bn1_num_features``). The class's arguments are the block
parameters plus the inferred sizes used, and each instance is written as a call with its values
(``BasicBlock(in_channels=64, channels=128, stride=2)``); ``repeat`` becomes an
``nn.Sequential`` of the instances; a definition marked sequential (a chain) becomes an
``nn.Sequential`` subclass, so its layers' state-dict keys are indices (``downsample.0``).
"""

from __future__ import annotations

import builtins
import keyword
from dataclasses import dataclass, field
from typing import Any

from backend.model.codegen import (
    INDENT,
    CompileError,
    _free,
    _module_attributes,
    _port_variables,
    _Writer,
    live_nodes,
)
from backend.model.layers import CONSTRUCTOR_INITIALISED, LayerPlan, init_lines, plan_layer
from backend.model.shapes import Analysis
from graph.blocks import definition_order, referenced
from graph.document import Document
from graph.names import RESERVED, name_problem

_PORTS = ("BlockInput", "BlockOutput")
_PLAIN_CALL = ("{out} = {layer}({x0})",)


@dataclass
class Instance:
    """One instance of a definition: its analysis and its parameter values."""

    analysis: Analysis
    values: dict[str, Any]


@dataclass
class BlockClass:
    """What the generated class of one definition takes and how each instance calls it."""

    name: str
    args: list[str] = field(default_factory=list)
    inferred: set[str] = field(default_factory=set)
    """The arguments that are sizes inferred from the block's inputs."""
    values: dict[int, dict[str, Any]] = field(default_factory=dict)
    """id(instance analysis) → the value of every argument."""
    source: str = ""
    sequential: bool = False

    def call(self, analysis: Analysis) -> str:
        values = self.values[id(analysis)]
        return f"{self.name}({', '.join(f'{a}={values[a]!r}' for a in self.args)})"


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def collect(doc: Document, analysis: Analysis, live: set[str],
            found: dict[str, list[Instance]]) -> None:
    """Every instance of every definition reached from ``doc``'s live Block nodes."""
    for node_id in analysis.order:
        if node_id not in live or doc.attr(node_id, "type") != "Block":
            continue
        info = analysis.nodes[node_id]
        block = doc.root.block(doc.attr(node_id, "params")["block"])
        for inner in info.instances:
            found.setdefault(block.block_id, []).append(Instance(inner, info.values))
            collect(block, inner, live_nodes(block), found)


def block_classes(root: Document, analysis: Analysis, live: set[str], defaults: str,
                  top_class: str) -> tuple[dict[str, BlockClass], list[str]]:
    """The class of every definition the design uses, leaves first; and the dotted paths of
    frozen layers inside blocks (``layer1.0.conv1``)."""
    found: dict[str, list[Instance]] = {}
    collect(root, analysis, live, found)
    classes: dict[str, BlockClass] = {}
    frozen: list[str] = []
    taken = {top_class}
    for block_id in definition_order(root):
        if block_id not in found:
            continue
        block = root.block(block_id)
        if block.name in taken or block.name in RESERVED or keyword.iskeyword(block.name) or \
                block.name in dir(builtins) or name_problem(block.name):
            raise CompileError(f"Block {block.name} cannot be a class name here (it is the "
                               "model's name, or Python's or the generated code's): rename "
                               "the block.")
        taken.add(block.name)
        classes[block_id] = _write_class(block, found[block_id], classes, defaults, frozen)
    return classes, frozen


@dataclass
class _Inner:
    """One inner node across all instances."""

    node_id: str
    attr: str
    plans: list[LayerPlan | None]
    calls: list[list[tuple[BlockClass, Analysis]]] | None = None
    """A Block node: per instance, the class and analysis of each instance it chains."""


def _input_arg(block: Document, port: int, dim: int, rank: int) -> str:
    ports = block.inputs()
    head = "in_" if len(ports) == 1 else f"{block.attr(ports[port], 'name')}_"
    if rank == 2 or (rank == 3 and dim == 2):
        return f"{head}features"
    if dim == 1 and rank >= 3:
        return f"{head}channels"
    return f"{head}size{dim}"


class _Signature:
    """The class arguments discovered while the constructor lines are written."""

    def __init__(self, block: Document, instances: list[Instance]) -> None:
        self.block = block
        self.instances = instances
        self.params = [p.name for p in block.block_params]
        self.inputs: list[str] = []
        self.extra: list[str] = []
        self.columns: dict[str, list[Any]] = {
            p: [inst.values[p] for inst in instances] for p in self.params}
        self.taken = set(self.params) | RESERVED | {"self"}
        self.dims: dict[tuple[int, int], str] = {}

    def args(self) -> list[str]:
        return [*self.inputs, *self.params, *self.extra]

    def _param_expr(self, names: list[str], column: list[Any]) -> str | None:
        for p in names:
            values = self.columns[p]
            if all(_same(v, pv) for v, pv in zip(column, values)):
                return p
            widths = {len(v) for v in column if isinstance(v, tuple)}
            if len(widths) == 1 and all(
                    _same(v, pv) or (isinstance(v, tuple) and all(_same(e, pv) for e in v))
                    for v, pv in zip(column, values)):
                n = widths.pop()
                return "(" + ", ".join([p] * n) + ("," if n == 1 else "") + ")"
        return None

    def _input_expr(self, column: list[Any]) -> str | None:
        shapes = [inst.analysis.port_shapes for inst in self.instances]
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in column):
            return None
        for port, shape in enumerate(shapes[0]):
            for dim in range(1, len(shape)):
                if all(port < len(s) and len(s[port]) == len(shape) and s[port][dim] == v
                       for s, v in zip(shapes, column)):
                    if (port, dim) in self.dims:
                        return self.dims[(port, dim)]
                    name = _free(_input_arg(self.block, port, dim, len(shape)), self.taken)
                    self.dims[(port, dim)] = name
                    self.inputs.append(name)
                    self.taken.add(name)
                    self.columns[name] = [s[port][dim] for s in shapes]
                    return name
        return None

    def expr(self, column: list[Any], refs: list[str], inferred: bool, label: str) -> str:
        """The expression of one constructor argument whose values per instance are
        ``column``."""
        found = self._param_expr([p for p in self.params if p in refs], column)
        if found:
            return found
        constant = all(_same(v, column[0]) for v in column)
        if constant and not inferred:
            return repr(column[0])
        found = self._param_expr(self.params, column) if not constant or inferred else None
        if found and not constant:
            return found
        found = self._input_expr(column) if inferred or not constant else None
        if found:
            return found
        found = self._param_expr(self.params, column) if inferred and constant else None
        if found:
            return found  # an inferred size that is a parameter's value (ff2: Linear(ff, …))
        if constant:
            return repr(column[0])
        name = _free(label, self.taken)
        self.taken.add(name)
        self.extra.append(name)
        self.columns[name] = list(column)
        return name


def _inferred(column: list[Any], resolved: list[set[Any]]) -> bool:
    """Whether every instance's value is one of its layer's inferred sizes."""
    return all(any(_same(v, r) for r in rs) for v, rs in zip(column, resolved))


def _plan_key(plan: LayerPlan) -> tuple[Any, ...]:
    return (plan.ctor, len(plan.args), plan.statements, plan.outputs)


def _align(plans: list[LayerPlan]) -> list[LayerPlan]:
    """The plans with the same keyword arguments: planners leave out arguments at PyTorch's
    default, so an instance without one gets the ``nn`` class's default written in."""
    keys: list[str] = []
    for plan in plans:
        keys += [k for k, _ in plan.kwargs if k not in keys]
    if all(len(p.kwargs) == len(keys) for p in plans) or plans[0].ctor is None or \
            plans[0].is_parameter:
        return plans
    import dataclasses
    import inspect

    from torch import nn

    signature = inspect.signature(getattr(nn, plans[0].ctor.removeprefix("nn.")))
    out = []
    for plan in plans:
        have = dict(plan.kwargs)
        out.append(dataclasses.replace(plan, kwargs=tuple(
            (k, have[k] if k in have else signature.parameters[k].default) for k in keys)))
    return out


def _write_class(block: Document, instances: list[Instance], classes: dict[str, BlockClass],
                 defaults: str, frozen: list[str]) -> BlockClass:
    name = block.name
    live = live_nodes(block)
    first = instances[0].analysis
    order = [n for n in first.order if n in live]
    layers = [n for n in order if block.attr(n, "type") not in _PORTS]
    names = {n: block.attr(n, "name") for n in block.graph.nodes}
    reserved = _module_attributes()
    attrs_taken = set(reserved | set(names.values()))
    sig = _Signature(block, instances)
    inner: dict[str, _Inner] = {}
    for node_id in layers:
        type_ = block.attr(node_id, "type")
        attr = names[node_id]
        if attr in reserved:
            attr = _free(f"{attr}_layer", attrs_taken)
            attrs_taken.add(attr)
        if type_ == "Block":
            child = classes[block.attr(node_id, "params")["block"]]
            calls = [[(child, a) for a in inst.analysis.nodes[node_id].instances]
                     for inst in instances]
            inner[node_id] = _Inner(node_id, attr, [None] * len(instances), calls)
            continue
        used = frozenset(e.src_port for e in block.out_edges(node_id) if e.dst in live)
        plans = []
        for inst in instances:
            info = inst.analysis.nodes[node_id]
            plan = info.plan
            assert plan is not None
            if plan.outputs > 1 and used != frozenset(range(plan.outputs)):
                params = info.params_used or block.attr(node_id, "params")
                plan = plan_layer(type_, params, info.input_shapes, _dtypes(block, node_id,
                                                                            inst.analysis),
                                  used=used)
            plans.append(plan)
        keys = {_plan_key(p) for p in plans}
        if len(keys) == 1:
            plans = _align(plans)
        if len(keys) > 1 or len({tuple(k for k, _ in p.kwargs) for p in plans}) > 1:
            raise CompileError(
                f"Block {name}: '{names[node_id]}' computes differently in its instances "
                f"({', '.join(sorted({i.analysis.prefix[:-1] for i in instances}))}), so one "
                "class cannot build them all: make the parameter that changes its forward "
                "(an activation, a dimension…) the same, or use separate blocks.", (node_id,))
        inner[node_id] = _Inner(node_id, attr, plans)

    # Constructor expressions, discovering the class's arguments.
    ctor: dict[str, str] = {}
    for node_id in layers:
        item = inner[node_id]
        refs = list(referenced(block.attr(node_id, "params")).values())
        label = names[node_id]
        if item.calls is not None:
            parts = []
            counts = {len(c) for c in item.calls}
            if len(counts) > 1:
                raise CompileError(f"Block {name}: '{label}' repeats differently in its "
                                   "instances.", (node_id,))
            passed = referenced(block.attr(node_id, "params"))
            for k in range(counts.pop()):
                child = item.calls[0][k][0]
                args = []
                for arg in child.args:
                    column = [child.values[id(c[k][1])][arg] for c in item.calls]
                    expr = sig.expr(column, [passed[arg]] if arg in passed else [],
                                    arg in child.inferred, f"{label}_{arg}")
                    args.append(f"{arg}={expr}")
                parts.append(f"{child.name}({', '.join(args)})")
            ctor[node_id] = parts[0] if len(parts) == 1 else \
                f"nn.Sequential({', '.join(parts)})"
            continue
        plan0 = item.plans[0]
        resolved = [{v for _, v in p.resolved} for p in item.plans]  # type: ignore[union-attr]

        res_names = [k for k, _ in plan0.resolved]
        exprs = []
        for j in range(len(plan0.args)):
            column = [p.args[j] for p in item.plans]  # type: ignore[union-attr]
            base = res_names[j] if j < len(res_names) else f"arg{j}"
            exprs.append(sig.expr(column, refs, _inferred(column, resolved), f"{label}_{base}"))
        kw = []
        for j, (key, _) in enumerate(plan0.kwargs):
            column = [p.kwargs[j][1] for p in item.plans]  # type: ignore[union-attr]
            expr = sig.expr(column, refs, _inferred(column, resolved), f"{label}_{key}")
            kw.append(f"{key}={expr}")
        if plan0.is_parameter:
            ctor[node_id] = f"nn.Parameter(torch.zeros({', '.join(exprs)}))"
        elif plan0.ctor is not None:
            ctor[node_id] = f"{plan0.ctor}({', '.join(exprs + kw)})"

    cls = BlockClass(name, sig.args(), set(sig.inputs), sequential=block.sequential)
    for i, inst in enumerate(instances):
        cls.values[id(inst.analysis)] = {a: sig.columns[a][i] for a in cls.args}
    w = _Writer()
    ports_in = [names[n] for n in block.inputs()]
    ports_out = [names[n] for n in block.outputs()]
    used_as = ", ".join(i.analysis.prefix[:-1] for i in instances[:4]) + (
        " and others" if len(instances) > 4 else "")
    doc_line = (f"Block {name}: ({', '.join(ports_in)}) → ({', '.join(ports_out)}), "
                f"designed in NetCanvas; used as {used_as}.")
    index = {n: k for k, n in enumerate(layers)}
    if block.sequential:
        _check_chain(block, layers, inner, ctor)
        w.line(f"class {name}(nn.Sequential):")
        w.docstring([doc_line], 1)
        w.line()
        w.line(f"{INDENT}def __init__(self{''.join(', ' + a for a in cls.args)}):")
        w.line(f"{INDENT * 2}super().__init__(")
        for node_id in layers:
            w.line(f"{INDENT * 3}{ctor[node_id]},")
        w.line(f"{INDENT * 2})")
        attr_of = {n: f"self[{index[n]}]" for n in layers}
    else:
        w.line(f"class {name}(nn.Module):")
        w.docstring([doc_line], 1)
        w.line()
        w.line(f"{INDENT}def __init__(self{''.join(', ' + a for a in cls.args)}):")
        w.line(f"{INDENT * 2}super().__init__()")
        attr_of = {}
        for node_id in layers:
            if node_id in ctor:
                w.line(f"{INDENT * 2}self.{inner[node_id].attr} = {ctor[node_id]}")
                attr_of[node_id] = f"self.{inner[node_id].attr}"
    w.line()
    w.line(f"{INDENT}def reset_parameters(self):")
    w.docstring(["Start every layer afresh, with the initializer defaults of the design."], 2)
    for node_id in layers:
        if node_id not in attr_of:
            continue
        item = inner[node_id]
        layer = attr_of[node_id]
        if item.calls is not None:
            repeat = len(item.calls[0])  # the instances chained (repeat, perhaps a reference)
            targets = [layer] if repeat == 1 else [f"{layer}[{k}]" for k in range(repeat)]
            for t in targets:
                w.line(f"{INDENT * 2}{t}.reset_parameters()")
            continue
        type_ = block.attr(node_id, "type")
        if type_ in CONSTRUCTOR_INITIALISED:
            continue
        params = instances[0].analysis.nodes[node_id].params_used or block.attr(node_id,
                                                                                "params")
        for stmt in init_lines(type_, item.plans[0], params, defaults):
            w.line(f"{INDENT * 2}{stmt.format(layer=layer)}")
    if not block.sequential:
        var = _port_variables(block, order, names)
        w.line()
        w.line(f"{INDENT}def forward(self, {', '.join(ports_in)}):")
        for node_id in layers:
            edges = block.in_edges(node_id)
            item = inner[node_id]
            if item.calls is not None:
                args = ", ".join(var[(e.src, e.src_port)] for e in edges)
                n_out = block.spec(node_id).output_count()
                outs = ", ".join(var[(node_id, k)] for k in range(n_out)) or "_"
                w.line(f"{INDENT * 2}{outs} = {attr_of[node_id]}({args})")
                continue
            if block.spec(node_id).variadic:
                args = {f"x{i}": var[(e.src, e.src_port)] for i, e in enumerate(edges)}
            else:
                args = {f"x{e.dst_port}": var[(e.src, e.src_port)] for e in edges}
            plan = item.plans[0]
            assert plan is not None
            outs = {"out": var[(node_id, 0)],
                    **{f"out{k}": var[(node_id, k)] for k in range(1, plan.outputs)}}
            for stmt in plan.statements:
                w.line(INDENT * 2 + stmt.format(layer=attr_of.get(node_id, ""), **outs, **args))
        returned = [var[(block.in_edges(o)[0].src, block.in_edges(o)[0].src_port)]
                    for o in block.outputs()]
        w.line(f"{INDENT * 2}return {', '.join(returned)}")
    for inst in instances:
        for node_id in layers:
            if not block.attr(node_id, "trainable") and node_id in attr_of:
                part = str(index[node_id]) if block.sequential else inner[node_id].attr
                frozen.append(f"{inst.analysis.prefix}{part}")
    cls.source = w.text()
    return cls


def _check_chain(block: Document, layers: list[str], inner: dict[str, _Inner],
                 ctor: dict[str, str]) -> None:
    """A sequential definition must be a chain of modules that each take the previous one's
    output (``nn.Sequential`` passes one value along)."""
    def refuse(why: str, node_ids: tuple[str, ...] = ()) -> CompileError:
        return CompileError(f"Block {block.name} is written as an nn.Sequential, but {why}: "
                            "make it a chain of layers from its one input to its one output, "
                            "or turn 'sequential' off.", node_ids)

    if len(block.inputs()) != 1 or len(block.outputs()) != 1:
        raise refuse("it has several inputs or outputs")
    previous = block.inputs()[0]
    for node_id in layers:
        edges = block.in_edges(node_id)
        item = inner[node_id]
        label = block.label(node_id)
        if len(edges) != 1 or edges[0].src != previous or len(block.out_edges(previous)) != 1:
            raise refuse(f"'{label}' does not just take the previous layer's output", (node_id,))
        if node_id not in ctor or (item.calls is None and (
                item.plans[0].statements != _PLAIN_CALL or item.plans[0].is_parameter)):
            raise refuse(f"'{label}' is not a module called on its input", (node_id,))
        previous = node_id
    out = block.outputs()[0]
    if block.in_edges(out)[0].src != previous or len(block.out_edges(previous)) != 1:
        raise refuse("its output is not the last layer's")


def _dtypes(doc: Document, node_id: str, analysis: Analysis) -> list[str | None]:
    """The dtypes ``node_id`` receives, aligned with its ``input_shapes`` (by port)."""
    edges = doc.in_edges(node_id)
    if doc.spec(node_id).variadic:
        return [analysis.nodes[e.src].dtypes[e.src_port] for e in edges]
    dtypes: list[str | None] = [None] * len(analysis.nodes[node_id].input_shapes)
    for e in edges:
        dtypes[e.dst_port] = analysis.nodes[e.src].dtypes[e.src_port]
    return dtypes
