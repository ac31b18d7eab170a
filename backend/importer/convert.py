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
import torch.nn.functional as F
from torch import fx, nn

from backend.importer.hints import SourceHints, read_hints
from backend.importer.untraceable import explain_call, explain_trace, place, user_frame
from backend.importer.walk import SiteTracer, T, Walk, assigned_name
from backend.model.layers import ACTIVATED_TYPES
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

def _modes(module: nn.Module) -> list[tuple[nn.Module, bool]]:
    return [(m, m.training) for m in module.modules()]


def _restore(modes: list[tuple[nn.Module, bool]]) -> None:
    for m, mode in modes:
        m.training = mode


def _switch(module: nn.Module, train: bool) -> None:
    """``module.train()`` / ``.eval()``: the model's own, which it may override."""
    try:
        module.train() if train else module.eval()
    except Exception as exc:  # the user's override failed: say where, not a traceback
        cls = type(module).__name__
        raise ModelImportError(explain_call(
            exc, f"{cls}.{'train' if train else 'eval'}()",
            "Import calls train() and eval() to trace and check the model in both modes: make "
            "them work with no arguments.")) from None


def _trace(module: nn.Module) -> tuple[fx.GraphModule, fx.Graph]:
    """The module traced in training mode (what training does: dropout, sampling) and in eval
    mode (what differs outside training); the module's modes are left as they were."""
    cls = type(module).__name__
    if getattr(module, "nc_onnx", False):  # already a graph (from ONNX): nothing to trace
        return module, module.graph
    modes = _modes(module)
    graphs = []
    try:
        for train in (True, False):
            _switch(module, train)
            try:
                graphs.append(SiteTracer().trace(module))
            except ModelImportError:
                raise
            except Exception as exc:  # fx raises many types; all mean "cannot be traced"
                raise ModelImportError(explain_trace(exc, type(module))) from None
    finally:
        _restore(modes)
    gm = fx.GraphModule(module, graphs[0], class_name=cls)
    gm.graph.eliminate_dead_code()  # unused results change nothing the module returns
    gm.recompile()
    return gm, graphs[1]


class _Recorder(fx.Interpreter):
    """Runs the traced graph and records each node's shape, dtype, or Python value."""

    def __init__(self, gm: fx.GraphModule) -> None:
        super().__init__(gm)
        self.shapes: dict[fx.Node, Any] = {}
        self.dtypes: dict[fx.Node, str] = {}
        self.values: dict[fx.Node, Any] = {}

    def run_node(self, n: fx.Node) -> Any:
        result = super().run_node(n)
        self.shapes[n] = _shape_of(result)
        if isinstance(result, torch.Tensor):
            self.dtypes[n] = str(result.dtype).removeprefix("torch.")
        elif _plain(result):
            self.values[n] = result
        return result


def _plain(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str, torch.dtype, torch.device)):
        return True
    if isinstance(value, (tuple, list)):
        return all(_plain(v) for v in value)
    return False


def _shape_of(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return tuple(value.shape)
    if isinstance(value, (tuple, list)):
        return tuple(_shape_of(v) for v in value)
    return None


def _run(gm: fx.GraphModule, module: nn.Module, specs: list[tuple[tuple[int, ...], str]],
         batch: int) -> _Recorder:
    """Shapes and values of every node for a batch of ``batch`` (eval mode, state untouched)."""
    recorder = _Recorder(gm)
    inputs = [torch.zeros((batch, *shape), dtype=torch.int64 if dtype == "int64" else
                          torch.float32) for shape, dtype in specs]
    modes = _modes(module)
    state = _snapshot(module)
    for m, _ in modes:
        m.training = False
    try:
        with torch.no_grad():
            recorder.run(*inputs)
    except Exception as exc:  # the user's module failed on the shapes we were given
        shapes = ", ".join(str(s) for s, _ in specs)
        names = tuple(str(n.target) for n in gm.graph.nodes if n.op == "placeholder")
        if getattr(module, "nc_onnx", False):
            raise ModelImportError(
                f"The ONNX graph, as onnx2fx converted it, fails to run on inputs of shape "
                f"{shapes}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}. "
                "Export the model to ONNX again (another opset), or import its PyTorch code."
            ) from None
        frame = user_frame(exc)
        where = f" at {place(frame.filename, frame.lineno)}" if frame else ""
        raise ModelImportError(
            f"{type(module).__name__} failed on inputs of shape {shapes} (batch {batch})"
            f"{where}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}. Give "
            "each input's shape without the batch dimension.", inputs=names) from None
    finally:
        _restore(modes)
        _put_back(module, state)
    return recorder


def _snapshot(module: nn.Module) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [(t, t.detach().clone()) for t in module.state_dict(keep_vars=True).values()
            if isinstance(t, torch.Tensor)]


def _put_back(module: nn.Module, state: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
    with torch.no_grad():
        for tensor, saved in state:
            tensor.copy_(saved)


# --- shapes of the inputs ------------------------------------------------------------------------

def _input_specs(gm: fx.GraphModule, input_shapes: list[tuple] | None, hints: SourceHints,
                 input_dtypes: list[str] | None = None) -> list[tuple[tuple[int, ...], str]]:
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
        int64 = p.target in hints.int64_inputs or _takes_ids(gm, p)
        if input_dtypes is not None:
            int64 = input_dtypes[i] == "int64"
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


def _takes_ids(gm: fx.GraphModule, placeholder: fx.Node) -> bool:
    """Whether an input holds token ids: it feeds an embedding, or is a padding mask."""
    for user in placeholder.users:
        if user.op == "call_module" and isinstance(gm.get_submodule(user.target), nn.Embedding):
            return True
        if user.op == "call_function" and user.target is F.embedding and user.args[0] is \
                placeholder:
            return True
        if user.op == "call_method" and user.target in ("bool", "long"):
            return True
    return False


def _obvious_shape(gm: fx.GraphModule, placeholder: fx.Node) -> tuple[int, ...] | None:
    """``(in_features,)`` when the input goes straight and only into Linear layers."""
    sizes = set()
    for user in placeholder.users:
        if user.op == "call_module" and isinstance(gm.get_submodule(user.target), nn.Linear):
            sizes.add(gm.get_submodule(user.target).in_features)
        elif user.op == "call_function" and user.target is F.linear and \
                isinstance(user.args[1], fx.Node) and user.args[1].op == "get_attr":
            sizes.add(int(gm.get_parameter(str(user.args[1].target)).shape[1]))  # nn.Linear
        else:
            return None
    return (sizes.pop(),) if len(sizes) == 1 else None


# --- building the design -------------------------------------------------------------------------

def _apply_hints(walk: Walk, hints: SourceHints) -> list[tuple[T, dict[str, Any], str | None,
                                                               str | None]]:
    """Output (source value, Output params, name, variable) per returned value, restoring the
    activations NetCanvas's exported code leaves to the loss."""
    outputs = []
    use = hints.netcanvas and len(hints.outputs) == len(walk.returned)
    inserted: dict[tuple[str | None, Any], T] = {}
    for i, (value, item) in enumerate(zip(walk.returned, walk.returned_nodes)):
        var = hints.returned[i] if i < len(hints.returned) else None
        layer = walk.layers[value.ref[0]]
        if not use:
            log_probs = value.ref[1] == 0 and (layer.type == "LogSoftmax" or
                                               layer.params.get("activation") == "log_softmax")
            outputs.append((value, {"loss": "nll" if log_probs else "mse"}, None,
                            var or assigned_name(item.meta.get("nc_site"))))
            continue
        hint = hints.outputs[i]
        act = hint.stripped
        if act in _STRIPPED_LAYER:
            through = var in hints.passthrough
            if through or not (value.ref[1] == 0 and layer.type in ACTIVATED_TYPES
                               and layer.params["activation"] in ("none", act)):
                slot = (var if through else None, value.ref)
                if slot not in inserted:
                    params = {"dim": hint.dim if hint.dim is not None else -1} \
                        if act != "sigmoid" else {}
                    key = walk.add(_STRIPPED_LAYER[act], params, {0: value.ref}, item,
                                   shapes=[walk.ref_shape[value.ref]])
                    walk.layers[key].name = var if through else None
                    inserted[slot] = T((key, 0))
                value = inserted[slot]
            else:
                layer.params["activation"] = act
        params: dict[str, Any] = {"loss": hint.loss}
        if hint.loss_weight is not None:
            params["loss_weight"] = hint.loss_weight
        if hint.metric is not None:
            params["metric"] = hint.metric
        outputs.append((value, params, hint.name, None))
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
            name = unique_name(name if name and not name_problem(name) else prefix, taken)
        taken.add(name)
        names[key] = name

    def site(layer: Any) -> Any:
        at = layer.node.meta.get("nc_site") if layer.node is not None else None
        return (at, layer.scope) if at else None

    layers = list(walk.layers.values())
    last_on_site: dict[Any, str] = {}
    for layer in layers:
        if site(layer):
            last_on_site[site(layer)] = layer.key
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
        var = layer.name
        if var is None and site(layer) and last_on_site.get(site(layer)) == layer.key:
            var = assigned_name(site(layer)[0])
        scope = layer.scope.replace(".", "_")
        if var and scope and layer.name is None:
            var = f"{scope}_{var}"  # a submodule's `out` is `layer1_0_out`
        elif not var and scope:
            var = f"{scope}_{_prefix(layer.type)}"
        claim(layer.key, var, _prefix(layer.type))
    for i, (_, _, name, var) in enumerate(outputs):
        if not name:
            claim(f"#out{i}", f"{var}_output" if var else None, "output")
    return names


def _build(walk: Walk, outputs: list, names: dict[str, str], model_name: str,
           hints: SourceHints) -> tuple[Document, dict[str, str]]:
    from graph.edits import add_node, connect

    sketch = Sketch(model_name)
    doc = sketch.doc
    ids: dict[str, str] = {}
    try:
        for layer in walk.layers.values():
            params = dict(layer.params)
            if layer.type in ACTIVATED_TYPES and layer.module in hints.initializers:
                params.update(hints.initializers[layer.module])
            if layer.type == "Parameter" and names[layer.key] in hints.initializers:
                params.update(hints.initializers[names[layer.key]])
            edit = add_node(doc, layer.type, name=names[layer.key], params=params,
                            trainable=layer.trainable)
            doc.apply(edit)
            ids[layer.key] = edit.node.id
            for port, (src, src_port) in sorted(layer.inputs.items()):
                doc.apply(connect(doc, ids[src], edit.node.id, src_port=src_port,
                                  dst_port=port))
        for i, (value, params, _, _) in enumerate(outputs):
            edit = add_node(doc, "Output", name=names[f"#out{i}"], params=params)
            doc.apply(edit)
            ids[f"#out{i}"] = edit.node.id
            doc.apply(connect(doc, ids[value.ref[0]], edit.node.id, src_port=value.ref[1],
                              dst_port=0))
    except GraphError as exc:
        raise ModelImportError(f"The imported layers do not form a valid design ({exc}). "
                               "This is a bug in NetCanvas's importer: please report it with "
                               "the module.") from None
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


def _weights(walk: Walk, doc: Document, ids: dict[str, str]) -> dict[str, torch.Tensor]:
    from backend.model.codegen import CompileError, generate

    try:
        code = generate(doc)
        attrs = {**code.attr_names, **code.param_attrs}
    except (CompileError, GraphError):
        attrs = {}
    state: dict[str, torch.Tensor] = {}
    for layer in walk.layers.values():
        node_id = ids[layer.key]
        attr = attrs.get(node_id, doc.attr(node_id, "name"))
        for k, v in layer.state.items():
            state[f"{attr}.{k}" if k else attr] = v.detach().clone()
    return state


def _outputs_of(module: nn.Module, inputs: list[torch.Tensor], train: bool,
                seed: int) -> list[torch.Tensor]:
    modes = _modes(module)
    state = _snapshot(module)
    for m, _ in modes:
        m.training = train
    try:
        torch.manual_seed(seed)
        with torch.no_grad():
            result = module(*inputs)
            result = [t.clone() for t in (result if isinstance(result, (tuple, list))
                                          else [result])]
    finally:
        _restore(modes)
        _put_back(module, state)
    return result


def _verify(module: nn.Module, doc: Document, state: dict[str, torch.Tensor],
            specs: list[tuple[tuple[int, ...], str]], modes: tuple[bool, ...]
            ) -> tuple[bool, float]:
    """Whether the module and the compiled design agree (eval mode, and training mode under
    the same seed), and their largest output difference."""
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
    worst, ok = 0.0, True
    rng = torch.random.get_rng_state()
    try:
        for train in modes:
            try:
                want = _outputs_of(module, inputs, train, 0)
            except Exception as exc:  # the user's module failed on random inputs
                raise ModelImportError(explain_call(
                    exc, f"{type(module).__name__}.forward on random inputs")) from None
            got = _outputs_of(compiled, inputs, train, 0)
            ok = ok and len(want) == len(got)
            for a, b in zip(want, got):
                if a.shape != b.shape:
                    return False, float("inf")
                ok = ok and torch.allclose(a.float(), b.float(), VERIFY_RTOL, VERIFY_ATOL,
                                           equal_nan=True)
                diff = (a.float() - b.float()).abs().nan_to_num(0.0)
                worst = max(worst, float(diff.max()) if a.numel() else 0.0)
    finally:
        torch.random.set_rng_state(rng)
    return ok, worst


def import_module(module: nn.Module, input_shapes: list[tuple] | None = None,
                  name: str | None = None, *, allow_partial: bool = False,
                  verify: bool = True, input_dtypes: list[str] | None = None,
                  inference: bool = False, blocks: bool = False) -> ImportResult:
    """Trace ``module`` and return it as a design with its weights.

    ``input_shapes`` gives each forward argument's shape without the batch; when left out it is
    read from NetCanvas's docstring or the first Linear layer. ``input_dtypes`` (``float32`` /
    ``int64`` per input) overrides what the module's use of them suggests. Raises
    `ModelImportError` when an operation has no catalogue layer (listing them all) unless
    ``allow_partial``, which returns what could be imported with the rest listed — and raises
    all the same when nothing reaches an output. ``verify`` runs module and design on the same
    random input, in eval mode and in training mode under one seed, and raises if they
    disagree. ``inference``: the module is an inference graph (from ONNX); only eval mode is
    compared. ``blocks``: the module's own submodules become block definitions with the
    module's state-dict keys (`backend.importer.blocks`); where that cannot be exact, the flat
    design is kept and a note says why.
    """
    if not isinstance(module, nn.Module):
        raise ModelImportError(f"Expected an nn.Module instance, got {type(module).__name__}.")
    cls = type(module)
    hints = read_hints(cls)
    gm, eval_graph = _trace(module)
    specs = _input_specs(gm, input_shapes, hints, input_dtypes)
    run2, run3 = _run(gm, module, specs, 2), _run(gm, module, specs, 3)
    walk = Walk(gm, run2, run3, [d for _, d in specs], eval_graph, inference)
    walk.run()
    problems = walk.unsupported + walk.skipped
    if walk.unsupported and not allow_partial:
        listing = "\n".join(f"  - {u}" for u in walk.unsupported)
        raise ModelImportError(
            f"{cls.__name__} uses {len(walk.unsupported)} operation(s) that no NetCanvas layer "
            f"expresses:\n{listing}\nRewrite them with supported layers, or import with "
            "--allow-partial to get the rest of the design.", walk.unsupported)
    if not walk.returned:
        listing = "\n".join(f"  - {u}" for u in walk.unsupported + walk.skipped)
        raise ModelImportError(
            f"Nothing of {cls.__name__} reaches an output: every value forward returns needs "
            f"an operation no NetCanvas layer expresses, so the design would have no Output:"
            f"\n{listing}", walk.unsupported)
    outputs = _apply_hints(walk, hints)
    names = _names(walk, outputs, hints)
    doc, ids = _build(walk, outputs, names, name or cls.__name__, hints)
    state = _weights(walk, doc, ids)
    notes = list(walk.notes)
    if blocks and not problems:
        from backend.importer.blocks import FoldError, fold

        try:
            doc, state, kept = fold(doc, walk, ids)
            notes += kept
        except FoldError as exc:
            notes.append(f"Kept flat (no blocks): {exc}.")
    result = ImportResult(doc, state, walk.unsupported, walk.skipped, notes)
    for attr, uses in walk.module_uses.items():
        if uses > 1 and any(True for _ in module.get_submodule(attr).parameters()):
            result.notes.append(f"self.{attr} is applied {uses} times: each use became its own "
                                "layer with a copy of the weights (a design does not share "
                                "weights), so they would train apart.")
    if verify and not problems:
        modes = (False,) if inference else (False, True)
        ok, result.max_difference = _verify(module, doc, state, specs, modes)
        if not ok:
            message = (f"The imported design computes different outputs from {cls.__name__} "
                       f"(largest difference {result.max_difference:.3g}). This is a bug in "
                       "NetCanvas's importer: please report it with the module.")
            if not allow_partial:
                raise ModelImportError(message)
            result.notes.append(message)
    return result
