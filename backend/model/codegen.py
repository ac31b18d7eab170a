"""Code generation: a design becomes one readable, standalone PyTorch module.

The second interpretation of the walker: the same topological order and the same `LayerPlan`
statements that shape inference executed on ``meta`` are written out as source. The app trains
the module obtained by executing exactly this source (`backend.model.compiler`), so the exported file
is the trained model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from backend.model.layers import (
    ACTIVATED_TYPES,
    CONSTRUCTOR_INITIALISED,
    KERAS_NOTE,
    LayerPlan,
    init_lines,
    plan_layer,
)
from backend.model.shapes import Analysis, analyse, format_shape
from graph.catalogue import INITIALIZER_DEFAULTS
from graph.document import Document
from graph.errors import GraphError
from graph.names import RESERVED, class_name, name_problem

INDENT = "    "
#: Output losses that take logits, and the activation they make redundant in ``forward``.
_LOGIT_LOSSES = {"cross_entropy": ("softmax", "log_softmax"), "binary_cross_entropy": ("sigmoid",)}
_ACTIVATION_LAYERS = {"Softmax": "softmax", "LogSoftmax": "log_softmax", "Sigmoid": "sigmoid"}
_METHODS = ("forward", "predict", "reset_parameters")


class CompileError(GraphError):
    """The design cannot become a module; the message lists what to fix."""


@dataclass
class GeneratedCode:
    """The generated module and the maps the app needs to relate it to the design."""

    source: str
    class_name: str
    input_names: list[str]
    output_names: list[str]
    attr_names: dict[str, str] = field(default_factory=dict)
    """Node id → the ``nn`` module attribute holding its weights."""
    stripped: dict[str, str] = field(default_factory=dict)
    """Output name → activation left out of ``forward`` (the loss takes logits)."""
    line_of: dict[str, int] = field(default_factory=dict)
    unused: list[str] = field(default_factory=list)
    """Node ids that feed no Output and are therefore left out of the module."""
    input_ids: list[str] = field(default_factory=list)
    output_ids: list[str] = field(default_factory=list)
    param_attrs: dict[str, str] = field(default_factory=dict)
    """Node id → the attribute of a Parameter node's bare ``nn.Parameter``."""
    block_classes: list[str] = field(default_factory=list)
    """The classes written for block definitions, in source order (before the model's)."""
    frozen_paths: list[str] = field(default_factory=list)
    """Dotted module paths of frozen layers inside blocks (``layer1.0.conv1``)."""


def _design_errors(analysis: Analysis) -> CompileError:
    lines = "\n".join(f"  - {e.message}" for e in analysis.errors)
    ids = [n for e in analysis.errors for n in e.node_ids]
    return CompileError(f"The design cannot be built yet:\n{lines}", ids)


def _module_attributes() -> frozenset[str]:
    from torch import nn

    return frozenset(dir(nn.Module)) | frozenset(_METHODS)


def _stripped_activation(doc: Document, node_id: str, analysis: Analysis) -> str | None:
    """The activation ``node_id`` ends with when only logit losses consume it, else None."""
    consumers = [e.dst for e in doc.out_edges(node_id)]
    if not consumers or any(doc.attr(c, "type") != "Output" for c in consumers):
        return None
    losses = {doc.attr(c, "params")["loss"] for c in consumers}
    if len(losses) != 1 or next(iter(losses)) not in _LOGIT_LOSSES:
        return None
    type_, params = doc.attr(node_id, "type"), doc.attr(node_id, "params")
    shape = analysis.nodes[node_id].output_shapes[0]
    if type_ in ACTIVATED_TYPES:
        act, dim = params.get("activation", "none"), -1 if type_ == "Dense" else 1
    elif type_ in _ACTIVATION_LAYERS:
        act, dim = _ACTIVATION_LAYERS[type_], params.get("dim", -1)
    else:
        return None
    if act not in _LOGIT_LOSSES[next(iter(losses))]:
        return None
    if act != "sigmoid" and dim % len(shape) != 1:
        return None  # the loss's class dimension is 1; another dim is not what it undoes
    return act


def live_nodes(doc: Document) -> set[str]:
    """The nodes that some Output depends on (the rest is not written into the code)."""
    import networkx as nx

    live: set[str] = set()
    for out in doc.outputs():
        live.add(out)
        live |= nx.ancestors(doc.graph, out)
    return live


def initializer_defaults(doc: Document) -> str:
    """The project's meaning of "default" initializers: ``pytorch`` (also when unset) or
    ``keras``; `CompileError` for anything else."""
    value = doc.section("model").get("initializers", "pytorch")
    if value not in INITIALIZER_DEFAULTS:
        raise CompileError(f"The model settings' initializers = {value!r} is not known: choose "
                           f"{' or '.join(INITIALIZER_DEFAULTS)}.")
    return value


def _port_variables(doc: Document, order: list[str], names: dict[str, str]
                    ) -> dict[tuple[str, int], str]:
    """The variable of every (node, output port): the node's name for output 0, and
    ``<name>_<port name>`` (made unique) for the others, e.g. ``lstm_h_n``."""
    taken = set(names.values()) | RESERVED
    out: dict[tuple[str, int], str] = {}
    for node_id in order:
        spec, params = doc.spec(node_id), doc.attr(node_id, "params")
        for port in range(spec.output_count(params)):
            if port == 0:
                out[(node_id, 0)] = names[node_id]
                continue
            var = _free(f"{names[node_id]}_{spec.output_name(port)}", taken)
            taken.add(var)
            out[(node_id, port)] = var
    return out


def generate(doc: Document, analysis: Analysis | None = None) -> GeneratedCode:
    """The standalone module for ``doc``; raises `CompileError` when the design is invalid."""
    analysis = analysis if analysis is not None else analyse(doc)
    if not analysis.ok:
        raise _design_errors(analysis)
    defaults = initializer_defaults(doc)
    cls = class_name(doc.name)
    names = {n: doc.attr(n, "name") for n in doc.graph.nodes}
    for node_id, name in names.items():
        if name_problem(name):
            raise CompileError(f"The layer name {name!r} cannot be used in code: "
                               f"{name_problem(name)}.", (node_id,))
    inputs, outputs = doc.inputs(), doc.outputs()
    live = live_nodes(doc)
    order = [n for n in analysis.order if n in live]
    unused = [n for n in analysis.order if n not in live]
    classes: dict = {}
    frozen: list[str] = []
    if doc.block_ids():
        from backend.model.block_code import block_classes

        classes, frozen = block_classes(doc, analysis, live, defaults, cls)

    # Which activations are left to the loss, and the plan each node is written from.
    stripped_by_node: dict[str, tuple[str, int]] = {}
    plans: dict[str, LayerPlan] = {}
    for node_id in order:
        info, type_ = analysis.nodes[node_id], doc.attr(node_id, "type")
        if type_ in ("Input", "Output", "Block"):
            continue
        act = _stripped_activation(doc, node_id, analysis)
        params = doc.attr(node_id, "params")
        if act is not None:
            dim = params.get("dim", -1) if type_ in _ACTIVATION_LAYERS else (
                -1 if type_ == "Dense" else 1)
            stripped_by_node[node_id] = (act, dim)
        assert info.plan is not None
        used = frozenset(e.src_port for e in doc.out_edges(node_id) if e.dst in live)
        partial = info.plan.outputs > 1 and used != frozenset(range(info.plan.outputs))
        if (act is not None and type_ not in _ACTIVATION_LAYERS) or partial:
            plans[node_id] = plan_layer(type_, params, info.input_shapes,
                                        _input_dtypes(doc, node_id, analysis),
                                        strip_activation=act is not None, used=used)
        else:
            plans[node_id] = info.plan

    # Attributes are named after nodes, unless that would hide a method of nn.Module.
    reserved = _module_attributes()
    taken_attrs = set(reserved | set(names.values()))
    attr_names: dict[str, str] = {}
    param_attrs: dict[str, str] = {}
    for node_id in order:
        plan = plans.get(node_id)
        if doc.attr(node_id, "type") == "Block":
            attr = names[node_id]
            if attr in reserved:
                attr = _free(f"{attr}_layer", taken_attrs)
                taken_attrs.add(attr)
            attr_names[node_id] = attr
        elif plan is not None and plan.ctor is not None:
            attr = names[node_id]
            if attr in reserved:
                attr = _free(f"{attr}_layer", taken_attrs)
                taken_attrs.add(attr)
            (param_attrs if plan.is_parameter else attr_names)[node_id] = attr
    attrs = {**attr_names, **param_attrs}
    var = _port_variables(doc, order, names)

    w = _Writer()
    line_of: dict[str, int] = {}
    stripped: dict[str, str] = {}
    in_names = [names[n] for n in inputs]
    out_names = [names[n] for n in outputs]
    source_of_output = {o: doc.in_edges(o)[0] for o in outputs}

    block_ctor = {n: _block_constructor(doc, n, analysis, classes) for n in attrs
                  if doc.attr(n, "type") == "Block"}
    written = [s for p in plans.values() for s in p.statements]
    written += [plans[n].constructor_source() for n in attrs if n in plans]
    written += [line for n in attrs if n in plans
                for line in init_lines(doc.attr(n, "type"), plans[n], doc.attr(n, "params"),
                                       defaults)]
    written += [c.source for c in classes.values()]
    written += [call for calls in block_ctor.values() for call in calls]
    w.line(f'"""NetCanvas design {cls}: standalone PyTorch code (needs only torch)."""')
    w.line()
    if stripped_by_node or any("torch." in s for s in written):
        w.line("import torch")
    if any("F." in s for s in written):
        w.line("import torch.nn.functional as F")
    w.line("from torch import nn")
    w.line()
    w.line()
    for block_cls in classes.values():
        for text in block_cls.source.splitlines():
            w.line(text)
        w.line()
        w.line()
    w.line(f"class {cls}(nn.Module):")
    doc_lines = [f"{cls}, designed in NetCanvas.", "", "Inputs:"]
    for n in inputs:
        doc_lines.append(f"    {names[n]}: {format_shape(analysis.nodes[n].output_shapes[0])}"
                         + (", int64 token ids" if analysis.nodes[n].dtypes[0] == "int64" else ""))
    doc_lines.append("Outputs:")
    for o in outputs:
        edge = source_of_output[o]
        shape = format_shape(analysis.nodes[o].output_shapes[0])
        params = doc.attr(o, "params")
        loss = params["loss"]
        if params["loss_weight"] != 1.0:
            loss += f", weight {params['loss_weight']!r}"
        if params["metric"] != "auto":
            loss += f", metric {params['metric']}"
        act = stripped_by_node.get(edge.src)
        note = f" (logits; predict() applies {act[0]})" if act else ""
        doc_lines.append(f"    {names[o]}: {shape}, loss {loss}{note}")
    w.docstring(doc_lines, 1)
    w.line()
    w.line(f"{INDENT}def __init__(self):")
    w.line(f"{INDENT * 2}super().__init__()")
    for node_id in order:
        if node_id in block_ctor:
            calls = block_ctor[node_id]
            if len(calls) == 1:
                w.line(f"{INDENT * 2}self.{attrs[node_id]} = {calls[0]}")
            else:
                w.line(f"{INDENT * 2}self.{attrs[node_id]} = nn.Sequential(")
                for call in calls:
                    w.line(f"{INDENT * 3}{call},")
                w.line(f"{INDENT * 2})")
        elif node_id in attrs:
            w.line(f"{INDENT * 2}self.{attrs[node_id]} = {plans[node_id].constructor_source()}")
    w.line(f"{INDENT * 2}self.reset_parameters()")
    w.line()
    w.line(f"{INDENT}def reset_parameters(self):")
    _reset_docstring(w, doc, order, attrs, defaults)
    for node_id in order:
        if node_id in block_ctor:
            repeat = doc.attr(node_id, "params").get("repeat", 1)
            layer = f"self.{attrs[node_id]}"
            for target in [layer] if repeat == 1 else [f"{layer}[{k}]" for k in range(repeat)]:
                w.line(f"{INDENT * 2}{target}.reset_parameters()")
        elif node_id in attrs:
            layer = f"self.{attrs[node_id]}"
            for stmt in init_lines(doc.attr(node_id, "type"), plans[node_id],
                                   doc.attr(node_id, "params"), defaults):
                w.line(f"{INDENT * 2}{stmt.format(layer=layer)}")
    w.line()
    w.line(f"{INDENT}def forward(self, {', '.join(in_names)}):")
    for n in inputs:
        line_of[n] = w.lineno
    for node_id in order:
        type_ = doc.attr(node_id, "type")
        if type_ in ("Input", "Output"):
            continue
        edges = doc.in_edges(node_id)
        if type_ == "Block":
            line_of[node_id] = w.lineno + 1
            n_out = doc.spec(node_id).output_count()
            outs_text = ", ".join(var[(node_id, k)] for k in range(n_out)) or "_"
            call = ", ".join(var[(e.src, e.src_port)] for e in edges)
            w.line(f"{INDENT * 2}{outs_text} = self.{attrs[node_id]}({call})")
            continue
        if doc.spec(node_id).variadic:
            args = {f"x{i}": var[(e.src, e.src_port)] for i, e in enumerate(edges)}
        else:
            args = {f"x{e.dst_port}": var[(e.src, e.src_port)] for e in edges}
        plan = plans[node_id]
        outs = {"out": var[(node_id, 0)],
                **{f"out{k}": var[(node_id, k)] for k in range(1, plan.outputs)}}
        layer = f"self.{attrs[node_id]}" if node_id in attrs else ""
        if node_id in stripped_by_node and type_ in _ACTIVATION_LAYERS:
            act = stripped_by_node[node_id][0]
            line_of[node_id] = w.lineno + 1
            w.line(f"{INDENT * 2}{outs['out']} = {args['x0']}  # logits; predict() applies {act}")
            continue
        if node_id in stripped_by_node:
            w.line(f"{INDENT * 2}# logits: the loss applies {stripped_by_node[node_id][0]} itself; "
                   "so does predict()")
        line_of[node_id] = w.lineno + 1
        for stmt in plan.statements:
            w.line(INDENT * 2 + stmt.format(layer=layer, **outs, **args))
    returned = [var[(source_of_output[o].src, source_of_output[o].src_port)] for o in outputs]
    for o in outputs:
        line_of[o] = w.lineno + 1
        act = stripped_by_node.get(source_of_output[o].src)
        if act:
            stripped[names[o]] = act[0]
    w.line(f"{INDENT * 2}return {', '.join(returned)}")
    if stripped:
        _write_predict(w, in_names, outputs, names, source_of_output, stripped_by_node)
    return GeneratedCode(w.text(), cls, in_names, out_names, attr_names, stripped, line_of,
                         unused, list(inputs), list(outputs), param_attrs,
                         [c.name for c in classes.values()], frozen)


def _block_constructor(doc: Document, node_id: str, analysis: Analysis,
                       classes: dict) -> list[str]:
    """A Block node's module: its class called with each instance's values (``repeat``: the
    calls of an ``nn.Sequential``)."""
    block_cls = classes[doc.attr(node_id, "params")["block"]]
    return [block_cls.call(inner) for inner in analysis.nodes[node_id].instances]


def _input_dtypes(doc: Document, node_id: str, analysis: Analysis) -> list[str | None]:
    """The dtypes ``node_id`` receives, aligned with its ``input_shapes`` (by port)."""
    info = analysis.nodes[node_id]
    edges = doc.in_edges(node_id)
    if doc.spec(node_id).variadic:
        return [analysis.nodes[e.src].dtypes[e.src_port] for e in edges]
    dtypes: list[str | None] = [None] * len(info.input_shapes)
    for e in edges:
        dtypes[e.dst_port] = analysis.nodes[e.src].dtypes[e.src_port]
    return dtypes


def _reset_docstring(w: _Writer, doc: Document, order: list[str], attrs: dict[str, str],
                     defaults: str) -> None:
    lines = ["Start every layer afresh, with the initializers the design asks for."]
    if defaults == "keras":
        lines += ["", KERAS_NOTE]
    kept = [attrs[n] for n in order if n in attrs and doc.attr(n, "type") in
            CONSTRUCTOR_INITIALISED]
    if kept:
        one = len(kept) == 1
        lines += ["", f"{', '.join(kept)}: as {'its' if one else 'their'} constructor "
                  f"initialised {'it' if one else 'them'} (PyTorch's own initializers)."]
    w.docstring(lines, 2)


def _write_predict(w: _Writer, in_names: list[str], outputs: list[str], names: dict[str, str],
                   source_of_output: dict, stripped_by_node: dict[str, tuple[str, int]]) -> None:
    w.line()
    w.line(f"{INDENT}def predict(self, {', '.join(in_names)}):")
    w.docstring(["Outputs with their final activation; forward() returns logits for the loss.",
                 "", "Use it in eval mode under torch.no_grad()."], 2)
    call = f"self({', '.join(in_names)})"
    results = []
    for o in outputs:
        act = stripped_by_node.get(source_of_output[o].src)
        var = names[o] if len(outputs) > 1 else call
        if act is None:
            results.append(var)
        elif act[0] == "sigmoid":
            results.append(f"torch.sigmoid({var})")
        else:
            results.append(f"torch.{act[0]}({var}, dim={act[1]!r})")
    if len(outputs) > 1:
        w.line(f"{INDENT * 2}{', '.join(names[o] for o in outputs)} = {call}")
    w.line(f"{INDENT * 2}return {', '.join(results)}")


def _free(base: str, taken: set[str]) -> str:
    candidate, i = base, 2
    while candidate in taken:
        candidate, i = f"{base}{i}", i + 1
    return candidate


class _Writer:
    """Collects lines and knows the 1-based number of the last one written."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    @property
    def lineno(self) -> int:
        return len(self.lines)

    def line(self, text: str = "") -> None:
        self.lines.append(text)

    def docstring(self, lines: list[str], depth: int) -> None:
        pad = INDENT * depth
        if len(lines) == 1:
            self.line(f'{pad}"""{lines[0]}"""')
            return
        self.line(f'{pad}"""{lines[0]}')
        for text in lines[1:]:
            self.line(f"{pad}{text}" if text else "")
        self.line(f'{pad}"""')

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"
