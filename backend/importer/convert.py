"""Model import: an ``nn.Module`` becomes a NetCanvas design, with its weights.

The module is traced with ``torch.fx``; each graph node is mapped to a catalogue layer through the
table in `backend.importer.table`, run twice (batch 2 and 3) to learn every shape, laid out, and its
weights are renamed to the ``state_dict`` keys of the module NetCanvas generates for the design.
Whatever cannot be expressed exactly is listed by name (`ModelImportError`, or
`ImportResult.unsupported` with ``allow_partial``): nothing is dropped or approximated silently.

Decisions (documented here because they shape the design a user gets back):

- An activation is folded into the Dense/Conv layer before it when it is that layer's only user
  *and* it is written in the same statement (``h = torch.relu(self.fc(x))``) or assigned to the
  same variable (``x = self.fc(x); x = F.relu(x)``); otherwise it stays a layer of its own. This
  keeps a separate ``threshold = torch.sign(weighted_sum)`` layer separate on a round trip.
- Names: module layers are named after their attribute (``features.0`` → ``features_0``), other
  layers after the variable their statement assigns, else after their type (``relu_1``).
- Outputs: NetCanvas's exported docstring gives their names and losses, and says which final
  activation ``forward`` leaves to the loss; that activation is put back (on the Dense/Conv, or
  as the activation layer the ``# logits:`` line stands for), so an exported design imports back
  exactly. Other code gets outputs named ``<variable>_output`` (``output_1`` for an expression)
  with loss ``nll`` after a log_softmax, else ``mse``; set the loss you train with afterwards.
  Loss weights and metrics are not in the code, so they come back as their defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import fx, nn

from backend.importer.hints import SourceHints, read_hints
from backend.importer.walk import ACTIVATED, SiteTracer, Walk, assigned_name
from graph.catalogue import get_spec
from graph.document import Document
from graph.errors import GraphError
from graph.layout import apply_layout
from graph.names import name_problem, sanitize, unique_name
from graph.sketch import Sketch

_STRIPPED_LAYER = {"softmax": "Softmax", "log_softmax": "LogSoftmax", "sigmoid": "Sigmoid"}
#: Relative tolerance of the check that the imported design computes what the module computes.
VERIFY_RTOL, VERIFY_ATOL = 1e-4, 1e-5


class ModelImportError(GraphError):
    """The module cannot be imported (as a whole); the message says what and how to fix it.

    ``inputs`` names the forward arguments whose shapes are needed (empty when the problem is
    something else): the command line says to pass ``--input-shape``, the app points at its
    input-shape field, so the message itself names neither."""

    def __init__(self, message: str, unsupported: list[str] | None = None,
                 inputs: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.unsupported = list(unsupported or [])
        self.inputs = tuple(inputs)


@dataclass
class ImportResult:
    """The imported design, its weights and what could not be imported."""

    doc: Document
    state_dict: dict[str, torch.Tensor]
    """Weights keyed like ``compile_document(doc).module.state_dict()``."""
    unsupported: list[str] = field(default_factory=list)
    """``op (node …, file:line `code`)`` for every operation no layer expresses."""
    skipped: list[str] = field(default_factory=list)
    """Operations left out because they need the result of an unsupported one."""
    notes: list[str] = field(default_factory=list)
    max_difference: float | None = None
    """Largest output difference between the module and the imported design (when checked)."""


# --- tracing -------------------------------------------------------------------------------------

def _trace(module: nn.Module) -> fx.GraphModule:
    cls = type(module).__name__
    try:
        graph = SiteTracer().trace(module)
    except Exception as exc:  # fx raises many types; all mean "this forward cannot be traced"
        raise ModelImportError(
            f"torch.fx could not trace {cls}.forward: {exc}. Import needs a forward whose "
            "operations do not depend on tensor values (no `if`/`for` on tensors, no .item()); "
            "rewrite that part or import the sub-module that has none.") from None
    gm = fx.GraphModule(module, graph, class_name=cls)
    gm.graph.eliminate_dead_code()  # unused results change nothing the module returns
    gm.recompile()
    return gm


class _ShapeRecorder(fx.Interpreter):
    """Runs the traced graph and records each node's output shape."""

    def __init__(self, gm: fx.GraphModule) -> None:
        super().__init__(gm)
        self.shapes: dict[fx.Node, Any] = {}

    def run_node(self, n: fx.Node) -> Any:
        result = super().run_node(n)
        self.shapes[n] = _shape_of(result)
        return result


def _shape_of(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return tuple(value.shape)
    if isinstance(value, (tuple, list)):
        return tuple(_shape_of(v) for v in value)
    return None


def _run_shapes(gm: fx.GraphModule, module: nn.Module, specs: list[tuple[tuple[int, ...], str]],
                batch: int) -> dict[fx.Node, Any]:
    """Shapes of every node for a batch of ``batch`` samples (in eval mode, state untouched)."""
    recorder = _ShapeRecorder(gm)
    inputs = [torch.zeros((batch, *shape), dtype=torch.int64 if dtype == "int64" else
                          torch.float32) for shape, dtype in specs]
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        with torch.no_grad():
            recorder.run(*inputs)
    except Exception as exc:  # the user's module failed on the shapes we were given
        shapes = ", ".join(str(s) for s, _ in specs)
        names = tuple(str(n.target) for n in gm.graph.nodes if n.op == "placeholder")
        raise ModelImportError(
            f"{type(module).__name__} failed on inputs of shape {shapes} (batch {batch}): "
            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}. Give each "
            "input's shape without the batch dimension.", inputs=names) from None
    finally:
        for m, mode in modes:
            m.training = mode
    return recorder.shapes


# --- shapes of the inputs ------------------------------------------------------------------------

def _input_specs(gm: fx.GraphModule, input_shapes: list[tuple] | None, hints: SourceHints
                 ) -> list[tuple[tuple[int, ...], str]]:
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    if not placeholders:
        raise ModelImportError(f"{type(gm).__name__}.forward takes no inputs: there is nothing "
                               "to design around.")
    if input_shapes is not None and len(input_shapes) != len(placeholders):
        names = tuple(str(p.target) for p in placeholders)
        raise ModelImportError(
            f"forward takes {len(placeholders)} input(s) ({', '.join(names)}) but "
            f"{len(input_shapes)} input shape(s) were given: give one per input, in order.",
            inputs=names)
    specs, missing = [], []
    for i, p in enumerate(placeholders):
        int64 = p.target in hints.int64_inputs or any(
            u.op == "call_module" and isinstance(gm.get_submodule(u.target), nn.Embedding)
            for u in p.users)
        if input_shapes is not None:
            shape = tuple(int(d) for d in input_shapes[i])
        elif p.target in hints.input_shapes:
            shape = hints.input_shapes[p.target]
        else:
            shape = _obvious_shape(gm, p)
        if shape is None:
            missing.append(str(p.target))
            continue
        if not shape or any(d < 1 for d in shape):
            raise ModelImportError(f"The input shape {shape} of {p.target!r} is not a shape: "
                                   "give positive sizes without the batch, e.g. 1,28,28.")
        specs.append((shape, "int64" if int64 else "float32"))
    if missing:
        raise ModelImportError(
            f"Cannot tell the shape of input(s) {', '.join(missing)} (without the batch "
            "dimension): give it, e.g. 1,28,28 (input_shapes=[(1, 28, 28)] in Python), one "
            "per forward argument.", inputs=tuple(str(p.target) for p in placeholders))
    return specs


def _obvious_shape(gm: fx.GraphModule, placeholder: fx.Node) -> tuple[int, ...] | None:
    """``(in_features,)`` when the input goes straight and only into Linear layers."""
    sizes = set()
    for user in placeholder.users:
        if user.op != "call_module" or not isinstance(gm.get_submodule(user.target), nn.Linear):
            return None
        sizes.add(gm.get_submodule(user.target).in_features)
    return (sizes.pop(),) if len(sizes) == 1 else None


# --- building the design -------------------------------------------------------------------------

def _apply_hints(walk: Walk, hints: SourceHints) -> list[tuple[str, dict[str, Any], str | None]]:
    """Output (source key, Output params, name) per returned value, restoring stripped layers."""
    outputs = []
    use = hints.netcanvas and len(hints.outputs) == len(walk.returned)
    inserted: dict[tuple[str | None, str], str] = {}
    for i, item in enumerate(walk.returned):
        key = walk.values[item]
        var = hints.returned[i] if i < len(hints.returned) else None
        if not use:
            layer = walk.layers[key]
            log_probs = layer.type == "LogSoftmax" or layer.params.get("activation") == \
                "log_softmax"
            outputs.append((key, {"loss": "nll" if log_probs else "mse"}, None,
                            var or assigned_name(item.meta.get("nc_site"))))
            continue
        hint = hints.outputs[i]
        act = hint.stripped
        if act in _STRIPPED_LAYER:
            layer = walk.layers[key]
            through = var in hints.passthrough
            if through or not (
                    layer.type in ACTIVATED and layer.params["activation"] in ("none", act)):
                slot = (var if through else None, key)
                if slot not in inserted:
                    params = {"dim": hint.dim if hint.dim is not None else -1} \
                        if act != "sigmoid" else {}
                    new = walk.add(_STRIPPED_LAYER[act], params, [key], item)
                    walk.layers[new].name = var if through else None
                    inserted[slot] = new
                key = inserted[slot]
            else:
                layer.params["activation"] = act
        params: dict[str, Any] = {"loss": hint.loss}
        if hint.loss_weight is not None:
            params["loss_weight"] = hint.loss_weight
        if hint.metric is not None:
            params["metric"] = hint.metric
        outputs.append((key, params, hint.name, None))
    return outputs


def _prefix(type_: str) -> str:
    """Base of a generated name: ``relu`` for ReLU (the catalogue's snake case gives ``re_lu``)."""
    return get_spec(type_).name_prefix or type_.lower()


def _names(walk: Walk, outputs: list, hints: SourceHints) -> dict[str, str]:
    """A unique, valid name for every layer key (Output keys are ``#out<i>``)."""
    taken: set[str] = set()
    names: dict[str, str] = {}

    def claim(key: str, candidate: str | None, prefix: str) -> None:
        name = sanitize(candidate, prefix) if candidate else None
        if name is None or name in taken or name_problem(name):
            name = unique_name(name or prefix, taken)
        taken.add(name)
        names[key] = name

    layers = list(walk.layers.values())
    last_on_site: dict[Any, str] = {}
    for layer in layers:
        if layer.node is not None and layer.node.meta.get("nc_site"):
            last_on_site[layer.node.meta["nc_site"]] = layer.key
    for layer in layers:
        if layer.type == "Input":
            claim(layer.key, str(layer.node.target), "input")
    for i, (_, _, name, _) in enumerate(outputs):
        if name:
            claim(f"#out{i}", name, "output")
    for layer in layers:
        if layer.module is not None and layer.key not in names:
            attr = layer.module.replace(".", "_")
            var = assigned_name(layer.node.meta.get("nc_site"))
            if attr.endswith("_layer") and var == attr[:-len("_layer")]:
                attr = var  # codegen renames attributes that would hide nn.Module methods
            claim(layer.key, attr, _prefix(layer.type))
    for layer in layers:
        if layer.key in names:
            continue
        site = layer.node.meta.get("nc_site") if layer.node is not None else None
        var = layer.name
        if var is None and site and last_on_site.get(site) == layer.key:
            var = assigned_name(site)
        prefix = _prefix(layer.type)
        claim(layer.key, var if var and var not in taken else None, prefix)
    for i, (_, _, name, var) in enumerate(outputs):
        if not name:
            claim(f"#out{i}", f"{var}_output" if var else None, "output")
    return names


def _build(walk: Walk, outputs: list, names: dict[str, str], model_name: str,
           hints: SourceHints) -> tuple[Document, dict[str, str]]:
    sketch = Sketch(model_name)
    ids: dict[str, str] = {}
    try:
        for layer in walk.layers.values():
            params = dict(layer.params)
            if layer.type in ACTIVATED and layer.module in hints.initializers:
                params.update(hints.initializers[layer.module])
            ids[layer.key] = sketch.add(layer.type, *[ids[k] for k in layer.inputs],
                                        name=names[layer.key], trainable=layer.trainable,
                                        **params)
        for i, (key, params, _, _) in enumerate(outputs):
            ids[f"#out{i}"] = sketch.add("Output", ids[key], name=names[f"#out{i}"], **params)
    except GraphError as exc:
        raise ModelImportError(f"The imported layers do not form a valid design ({exc}). "
                               "This is a bug in NetCanvas's importer: please report it with "
                               "the module.") from None
    doc = sketch.doc
    if hints.initializer_defaults != "pytorch":
        sketch.settings("model", initializers=hints.initializer_defaults)
    doc.apply(apply_layout(doc))
    _order_ends(doc, [ids[k] for k, layer in walk.layers.items() if layer.type == "Input"],
                doc.inputs)
    _order_ends(doc, [ids[f"#out{i}"] for i in range(len(outputs))], doc.outputs)
    return doc, ids


def _order_ends(doc: Document, wanted: list[str], current: Any) -> None:
    """Reassign positions among ``wanted`` so the document orders them as ``forward`` does."""
    from graph.edits import MoveNodes

    if current() == wanted:
        return
    slots = sorted((doc.attr(n, "pos") for n in wanted), key=lambda p: (p[1], p[0]))
    if len(set(slots)) != len(slots):
        slots = [(slots[0][0], slots[0][1] + 110.0 * i) for i in range(len(slots))]
    doc.apply(MoveNodes(dict(zip(wanted, slots))))


def _weights(module: nn.Module, walk: Walk, doc: Document, ids: dict[str, str]
             ) -> dict[str, torch.Tensor]:
    from backend.model.codegen import CompileError, generate

    try:
        attrs = generate(doc).attr_names
    except (CompileError, GraphError):
        attrs = {}
    state: dict[str, torch.Tensor] = {}
    for layer in walk.layers.values():
        if layer.module is None:
            continue
        node_id = ids[layer.key]
        attr = attrs.get(node_id, doc.attr(node_id, "name"))
        for k, v in module.get_submodule(layer.module).state_dict().items():
            state[f"{attr}.{k}"] = v.detach().clone()
    return state


def _verify(module: nn.Module, doc: Document, state: dict[str, torch.Tensor],
            specs: list[tuple[tuple[int, ...], str]]) -> tuple[bool, float]:
    """Whether the module and the compiled design agree, and their largest output difference."""
    from backend.model.compiler import CompileError, compile_document

    try:
        compiled = compile_document(doc).module
    except (CompileError, GraphError) as exc:
        raise ModelImportError(f"The imported design does not build: {exc}") from None
    compiled.load_state_dict(state)
    vocab = min((m.num_embeddings for m in module.modules() if isinstance(m, nn.Embedding)),
                default=2)
    gen = torch.Generator().manual_seed(0)
    inputs = [torch.randint(0, vocab, (3, *s), generator=gen) if d == "int64"
              else torch.randn((3, *s), generator=gen) for s, d in specs]
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    compiled.eval()
    try:
        with torch.no_grad():
            want, got = module(*inputs), compiled(*inputs)
    finally:
        for m, mode in modes:
            m.training = mode
    want = list(want) if isinstance(want, (tuple, list)) else [want]
    got = list(got) if isinstance(got, (tuple, list)) else [got]
    worst, ok = 0.0, len(want) == len(got)
    for a, b in zip(want, got):
        if a.shape != b.shape:
            return False, float("inf")
        ok = ok and torch.allclose(a.float(), b.float(), VERIFY_RTOL, VERIFY_ATOL)
        worst = max(worst, float((a.float() - b.float()).abs().max()) if a.numel() else 0.0)
    return ok, worst


def import_module(module: nn.Module, input_shapes: list[tuple] | None = None,
                  name: str | None = None, *, allow_partial: bool = False,
                  verify: bool = True) -> ImportResult:
    """Trace ``module`` and return it as a design with its weights.

    ``input_shapes`` gives each forward argument's shape without the batch; when left out it is
    read from NetCanvas's docstring or the first Linear layer. Raises `ModelImportError` when an
    operation has no catalogue layer (listing them all) unless ``allow_partial``, which returns
    what could be imported with the rest listed. ``verify`` runs module and design on the same
    random input and raises if they disagree (a bug in the importer, never expected).
    """
    if not isinstance(module, nn.Module):
        raise ModelImportError(f"Expected an nn.Module instance, got {type(module).__name__}.")
    cls = type(module)
    hints = read_hints(cls)
    gm = _trace(module)
    specs = _input_specs(gm, input_shapes, hints)
    shapes = _run_shapes(gm, module, specs, 2)
    shapes3 = _run_shapes(gm, module, specs, 3)
    walk = Walk(gm, shapes, shapes3, [d for _, d in specs])
    walk.run()
    problems = walk.unsupported + walk.skipped
    if walk.unsupported and not allow_partial:
        listing = "\n".join(f"  - {u}" for u in walk.unsupported)
        raise ModelImportError(
            f"{cls.__name__} uses {len(walk.unsupported)} operation(s) that no NetCanvas layer "
            f"expresses:\n{listing}\nRewrite them with supported layers, or import with "
            "--allow-partial to get the rest of the design.", walk.unsupported)
    outputs = _apply_hints(walk, hints)
    names = _names(walk, outputs, hints)
    doc, ids = _build(walk, outputs, names, name or cls.__name__, hints)
    state = _weights(module, walk, doc, ids)
    result = ImportResult(doc, state, walk.unsupported, walk.skipped)
    for attr, uses in walk.module_uses.items():
        if uses > 1:
            result.notes.append(f"self.{attr} is applied {uses} times: each use became its own "
                                "layer with a copy of the weights (a design does not share "
                                "weights), so they would train apart.")
    if not walk.returned:
        result.notes.append("No output could be imported: the design has no Output layer.")
    if verify and not problems and walk.returned:
        ok, result.max_difference = _verify(module, doc, state, specs)
        if not ok:
            message = (f"The imported design computes different outputs from {cls.__name__} "
                       f"(largest difference {result.max_difference:.3g}). This is a bug in "
                       "NetCanvas's importer: please report it with the module.")
            if not allow_partial:
                raise ModelImportError(message)
            result.notes.append(message)
    return result
