"""Model import: an ``nn.Module`` becomes a NetCanvas design, with its weights.

The module is traced with ``torch.fx``; each graph node is mapped to a catalogue layer through the
table in `backend.import_map`, run twice (batch 2 and 3) to learn every shape, laid out, and its
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
  exactly. Other code gets outputs named ``<variable>_output`` with loss ``mse``.
"""

from __future__ import annotations

import ast
import linecache
import os
import sys
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import fx, nn

from backend.import_hints import SourceHints, read_hints
from backend.import_map import (
    ADD_TARGETS,
    CAT_TARGETS,
    DROPOUT_TARGETS,
    FLATTEN_TARGETS,
    MEAN_TARGETS,
    MUL_TARGETS,
    POOL_FUNCS,
    RESHAPE_TARGETS,
    Activation,
    Unsupported,
    activation_of,
    arg,
    flatten_params,
    map_module,
    op_name,
    pool_params,
)
from graph.catalogue import get_spec
from graph.document import Document
from graph.errors import GraphError, ParamError
from graph.layout import apply_layout
from graph.names import name_problem, sanitize, unique_name
from graph.sketch import Sketch

_TORCH_DIR = os.path.dirname(torch.__file__)
_THIS_DIR = os.path.dirname(__file__)
_ACTIVATED = ("Dense", "Conv1d", "Conv2d")
_RNN = ("LSTM", "GRU", "SimpleRNN")
_STRIPPED_LAYER = {"softmax": "Softmax", "log_softmax": "LogSoftmax", "sigmoid": "Sigmoid"}
#: Relative tolerance of the check that the imported design computes what the module computes.
VERIFY_RTOL, VERIFY_ATOL = 1e-4, 1e-5


class ModelImportError(GraphError):
    """The module cannot be imported (as a whole); the message says what and how to fix it."""

    def __init__(self, message: str, unsupported: list[str] | None = None) -> None:
        super().__init__(message)
        self.unsupported = list(unsupported or [])


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


@dataclass
class _Layer:
    key: str
    type: str
    params: dict[str, Any]
    inputs: list[str]
    node: fx.Node | None
    module: str | None = None
    name: str | None = None
    trainable: bool = True


# --- tracing -------------------------------------------------------------------------------------

def _user_site() -> tuple[str, int] | None:
    """File and line of the user's code that is creating the current fx node."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith((_TORCH_DIR, _THIS_DIR)):
            return filename, frame.f_lineno
        frame = frame.f_back
    return None


class _SiteTracer(fx.Tracer):
    """A tracer that remembers which source line created each node (for names and folding)."""

    def create_node(self, *args: Any, **kwargs: Any) -> fx.Node:
        node = super().create_node(*args, **kwargs)
        node.meta["nc_site"] = _user_site()
        return node


def _trace(module: nn.Module) -> fx.GraphModule:
    cls = type(module).__name__
    try:
        graph = _SiteTracer().trace(module)
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
        raise ModelImportError(
            f"{type(module).__name__} failed on inputs of shape {shapes} (batch {batch}): "
            f"{exc}. Give each input's shape without the batch dimension (--input-shape).") \
            from None
    finally:
        for m, mode in modes:
            m.training = mode
    return recorder.shapes


# --- the walk ------------------------------------------------------------------------------------

class _Walk:
    """One pass over the traced graph, building `_Layer`s and recording what does not map."""

    def __init__(self, gm: fx.GraphModule, shapes: dict, shapes3: dict,
                 dtypes: list[str]) -> None:
        self.gm, self.shapes, self.shapes3, self.dtypes = gm, shapes, shapes3, dtypes
        self.layers: dict[str, _Layer] = {}
        self.values: dict[fx.Node, str] = {}
        self.rnn_tuple: dict[fx.Node, str] = {}
        self.rnn_seq: dict[fx.Node, str] = {}
        self.plumbing: set[fx.Node] = set()
        self.step_pending: dict[fx.Node, fx.Node] = {}
        self.failed: set[fx.Node] = set()
        self.unsupported: list[str] = []
        self.skipped: list[str] = []
        self.returned: list[fx.Node] = []
        self.module_uses: dict[str, int] = {}

    # helpers
    def where(self, node: fx.Node) -> str:
        site = node.meta.get("nc_site")
        if not site:
            return f"node {node.name}"
        code = linecache.getline(site[0], site[1]).strip()
        place = os.path.basename(site[0]) if not site[0].startswith("<") else site[0]
        return f"node {node.name}, {place}:{site[1]}" + (f" `{code}`" if code else "")

    def shape(self, node: Any) -> tuple[int, ...] | None:
        shape = self.shapes.get(node) if isinstance(node, fx.Node) else None
        return shape if isinstance(shape, tuple) and all(isinstance(d, int) for d in shape) \
            else None

    def value(self, node: Any, what: str) -> str:
        if isinstance(node, fx.Node) and node in self.values:
            return self.values[node]
        if isinstance(node, fx.Node) and node in self.rnn_tuple:
            raise Unsupported(f"{what} on the (output, state) tuple of a recurrent layer: "
                              "take its first element (`out, _ = self.lstm(x)`)")
        shown = node.name if isinstance(node, fx.Node) else repr(node)
        raise Unsupported(f"{what} with an operand ({shown}) that is not the output of a layer "
                          "(a constant, a size or a parameter)")

    def add(self, type_: str, params: dict[str, Any], inputs: list[str], node: fx.Node,
            module: str | None = None) -> str:
        try:
            params = get_spec(type_).validate_params(params)
        except ParamError as exc:
            raise Unsupported(f"{type_} with {exc.message[:1].lower()}{exc.message[1:]}") \
                from None
        key = node.name
        while key in self.layers:
            key += "_"
        self.layers[key] = _Layer(key, type_, params, inputs, node, module)
        self.values[node] = key
        return key

    # driver
    def run(self) -> None:
        placeholders = 0
        for node in self.gm.graph.nodes:
            if node.op == "placeholder":
                self.add("Input", {"shape": self.shape(node)[1:] or (1,),
                                   "dtype": self.dtypes[placeholders]}, [], node)
                placeholders += 1
                continue
            if node.op == "output":
                self._output(node)
                continue
            bad = [n for n in node.all_input_nodes if n in self.failed]
            if bad:
                self.failed.add(node)
                self.skipped.append(f"{op_name(node, self.gm)} ({self.where(node)}): needs the "
                                    f"result of {bad[0].name}")
                continue
            try:
                self._visit(node)
            except Unsupported as exc:
                self.failed.add(node)
                self.unsupported.append(f"{exc} ({self.where(node)})")

    def _output(self, node: fx.Node) -> None:
        result = node.args[0]
        items = list(result) if isinstance(result, (tuple, list)) else [result]
        for item in items:
            if isinstance(item, fx.Node) and item in self.failed:
                self.skipped.append(f"output {item.name}: computed by an unsupported operation")
            elif isinstance(item, fx.Node) and item in self.values:
                self.returned.append(item)
            else:
                kind = "a dict" if isinstance(result, dict) else repr(item)[:40]
                self.unsupported.append(f"returning {kind} (only tensors, or a tuple of tensors, "
                                        f"can be outputs) ({self.where(node)})")

    def _visit(self, node: fx.Node) -> None:
        if node.op == "get_attr":
            raise Unsupported(f"parameter or buffer self.{node.target} used directly in forward")
        if node.op == "call_module":
            self._module(node)
            return
        target = node.target
        method = target if node.op == "call_method" else None
        act = activation_of(node)
        if act is not None:
            self._activation(node, act)
        elif self._is_plumbing(node):
            self.plumbing.add(node)
        elif target is getattr(__import__("operator"), "getitem"):
            self._getitem(node)
        elif target in ADD_TARGETS or method == "add":
            self._merge(node, "Add")
        elif target in MUL_TARGETS or method == "mul":
            self._merge(node, "Multiply")
        elif target in CAT_TARGETS:
            tensors = arg(node, 0, "tensors")
            if not isinstance(tensors, (list, tuple)):
                raise Unsupported("torch.cat of a non-list")
            inputs = [self.value(t, "torch.cat") for t in tensors]
            self.add("Concatenate", {"axis": arg(node, 1, "dim", 0)}, inputs, node)
        elif target in FLATTEN_TARGETS or method == "flatten":
            x = node.args[0]
            type_, params = flatten_params(arg(node, 1, "start_dim", 0),
                                           arg(node, 2, "end_dim", -1), self.shape(x))
            self.add(type_, params, [self.value(x, "flatten")], node)
        elif target in RESHAPE_TARGETS or method in ("reshape", "view"):
            self._reshape(node)
        elif target in MEAN_TARGETS or method == "mean":
            self._mean(node)
        elif target in POOL_FUNCS:
            self._pool_function(node, POOL_FUNCS[target])
        elif target in DROPOUT_TARGETS:
            self.add("Dropout", {"p": float(arg(node, 1, "p", 0.5))},
                     [self.value(node.args[0], "dropout")], node)
        elif method == "contiguous":
            self.values[node] = self.value(node.args[0], "contiguous")
        elif target is getattr(__import__("operator"), "gt"):
            self._step_compare(node)
        elif method in ("to", "float") and node.args and node.args[0] in self.step_pending:
            x = self.step_pending[node.args[0]]
            self.add("Step", {}, [self.value(x, "step")], node)
        else:
            raise Unsupported(op_name(node, self.gm))

    def _is_plumbing(self, node: fx.Node) -> bool:
        """Size/shape/dtype arithmetic that only feeds reshapes and casts."""
        import operator

        if node.op == "call_function" and node.target is getattr and \
                node.args[1] in ("shape", "dtype"):
            return True
        if node.op == "call_method" and node.target in ("size", "dim"):
            return True
        if node.op == "call_function" and node.target in (
                operator.getitem, operator.mul, operator.add, operator.floordiv, operator.sub):
            nodes = node.all_input_nodes
            return bool(nodes) and all(n in self.plumbing for n in nodes)
        return False

    def _module(self, node: fx.Node) -> None:
        module = self.gm.get_submodule(node.target)
        if len(node.args) != 1 or node.kwargs:
            raise Unsupported(f"{op_name(node, self.gm)} called with more than one input "
                              "(an initial state or extra arguments)")
        x = node.args[0]
        act = activation_of(node, module)
        if act is not None:
            self._activation(node, act)
            return
        if type(module) is nn.Identity:
            self.values[node] = self.value(x, "nn.Identity")
            return
        type_, params = map_module(module, self.shape(x))
        key = self.add(type_, params, [self.value(x, op_name(node, self.gm))], node,
                       module=node.target)
        params_ = list(module.parameters())
        if params_ and not any(p.requires_grad for p in params_):
            self.layers[key].trainable = False
        self.module_uses[node.target] = self.module_uses.get(node.target, 0) + 1
        if type_ in _RNN:
            del self.values[node]
            self.rnn_tuple[node] = key

    def _activation(self, node: fx.Node, act: Activation) -> None:
        src = node.args[0]
        key = self.value(src, act.kind)
        layer = self.layers[key]
        shape = self.shape(src)
        if (layer.type in _ACTIVATED and layer.params["activation"] == "none"
                and layer.node is src and len(src.users) == 1 and shape is not None
                and act.foldable(layer.type, len(shape)) and self._same_statement(src, node)):
            layer.params["activation"] = act.kind
            self.values[node] = key
            return
        type_, params = act.as_layer()
        self.add(type_, params, [key], node)

    def _same_statement(self, a: fx.Node, b: fx.Node) -> bool:
        sa, sb = a.meta.get("nc_site"), b.meta.get("nc_site")
        if sa is None or sb is None or sa == sb:
            return True
        va, vb = assigned_name(sa), assigned_name(sb)
        return va is not None and va == vb

    def _getitem(self, node: fx.Node) -> None:
        src, index = node.args
        if src in self.rnn_tuple:
            key = self.rnn_tuple[src]
            if index != 0:
                raise Unsupported(f"the final state of {self.layers[key].type} "
                                  f"'{src.target}' (element {index!r} of its output): only the "
                                  "output sequence can be imported")
            self.values[node] = key
            self.rnn_seq[node] = key
            return
        last_step = (slice(None, None, None), -1)
        if src in self.rnn_seq and index == last_step and len(src.users) == 1:
            key = self.rnn_seq[src]
            if self.layers[key].params["return_sequences"]:
                self.layers[key].params["return_sequences"] = False
                self.values[node] = key
                return
        raise Unsupported(f"indexing a tensor with [{_index_text(index)}]")

    def _merge(self, node: fx.Node, type_: str) -> None:
        what = "+" if type_ == "Add" else "*"
        if node.kwargs.get("alpha", 1) != 1:
            raise Unsupported("torch.add with alpha")
        a, b = node.args[0], node.args[1]
        if not (isinstance(a, fx.Node) and isinstance(b, fx.Node)):
            raise Unsupported(f"`{what}` with a constant (only tensor {what} tensor)")
        ka, kb = self.value(a, what), self.value(b, what)
        if self.shape(a) != self.shape(b):
            raise Unsupported(f"`{what}` of shapes {self.shape(a)} and {self.shape(b)} "
                              "(broadcasting; the inputs must have one shape)")
        left = self.layers[ka]
        if (left.type == type_ and left.node is a and len(a.users) == 1
                and a.meta.get("nc_site") == node.meta.get("nc_site")):
            left.inputs.append(kb)  # a + b + c is one variadic layer
            left.node = node
            self.values[node] = ka
            return
        self.add(type_, {}, [ka, kb], node)

    def _reshape(self, node: fx.Node) -> None:
        x = node.args[0]
        s2, s3 = self.shape(node), self.shape(node) and self.shapes3.get(node)
        if not (s2 and s3 and s2[0] == 2 and s3[0] == 3 and s2[1:] == s3[1:]):
            raise Unsupported(f"{op_name(node, self.gm)} that does not keep the batch dimension "
                              "first (Reshape changes each sample only)")
        self.add("Reshape", {"shape": s2[1:]}, [self.value(x, "reshape")], node)

    def _mean(self, node: fx.Node) -> None:
        x = node.args[0]
        shape = self.shape(x)
        dim = arg(node, 1, "dim")
        dims = (dim,) if isinstance(dim, int) else tuple(dim or ())
        keepdim = arg(node, 2, "keepdim", False)
        if shape is None or len(shape) < 3 or keepdim or \
                sorted(d % len(shape) for d in dims) != list(range(2, len(shape))):
            raise Unsupported(f"mean over dims {dim!r} (only the mean over all spatial "
                              "dimensions, without keepdim, is GlobalAvgPool)")
        self.add("GlobalAvgPool", {}, [self.value(x, "mean")], node)

    def _pool_function(self, node: fx.Node, type_: str) -> None:
        x = node.args[0]
        kernel, stride = arg(node, 1, "kernel_size"), arg(node, 2, "stride")
        padding = arg(node, 3, "padding", 0)
        if type_.startswith("Max"):
            if arg(node, 6, "return_indices", False):
                raise Unsupported(f"F.{type_.lower()} with return_indices=True")
            params = pool_params(type_, kernel, stride, padding, arg(node, 4, "dilation", 1),
                                 arg(node, 5, "ceil_mode", False))
        else:
            if arg(node, 6, "divisor_override") is not None:
                raise Unsupported(f"F.{type_.lower()} with divisor_override")
            params = pool_params(type_, kernel, stride, padding, 1,
                                 arg(node, 4, "ceil_mode", False))
        self.add(type_, params, [self.value(x, type_)], node)

    def _step_compare(self, node: fx.Node) -> None:
        """``(x > 0).to(x.dtype)`` (or ``.float()``) is the Step layer."""
        x, other = node.args
        users = list(node.users)
        ok = (other == 0 and isinstance(x, fx.Node) and len(users) == 1
              and users[0].op == "call_method" and users[0].target in ("to", "float"))
        if ok and users[0].target == "to":
            dtype = users[0].args[1] if len(users[0].args) > 1 else users[0].kwargs.get("dtype")
            ok = isinstance(dtype, fx.Node) and dtype.target is getattr and dtype.args[0] is x
        if not ok:
            raise Unsupported("comparison `>` (only `(x > 0).to(x.dtype)`, the Step layer)")
        self.value(x, "step")
        self.step_pending[node] = x


def _index_text(index: Any) -> str:
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for item in items:
        if isinstance(item, slice):
            out.append(":".join("" if v is None else str(v)
                                for v in (item.start, item.stop, item.step)).rstrip(":") or ":")
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


# --- shapes of the inputs ------------------------------------------------------------------------

def _input_specs(gm: fx.GraphModule, input_shapes: list[tuple] | None, hints: SourceHints
                 ) -> list[tuple[tuple[int, ...], str]]:
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    if not placeholders:
        raise ModelImportError(f"{type(gm).__name__}.forward takes no inputs: there is nothing "
                               "to design around.")
    if input_shapes is not None and len(input_shapes) != len(placeholders):
        raise ModelImportError(
            f"forward takes {len(placeholders)} input(s) "
            f"({', '.join(str(p.target) for p in placeholders)}) but {len(input_shapes)} "
            "input shape(s) were given: give one --input-shape per input, in order.")
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
            "dimension): pass it, e.g. `--input-shape 1,28,28` on the command line or "
            "input_shapes=[(1, 28, 28)] in Python, one per forward argument.")
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

def _apply_hints(walk: _Walk, hints: SourceHints) -> list[tuple[str, dict[str, Any], str | None]]:
    """Output (source key, Output params, name) per returned value, restoring stripped layers."""
    outputs = []
    use = hints.netcanvas and len(hints.outputs) == len(walk.returned)
    inserted: dict[tuple[str | None, str], str] = {}
    for i, item in enumerate(walk.returned):
        key = walk.values[item]
        var = hints.returned[i] if i < len(hints.returned) else None
        if not use:
            outputs.append((key, {"loss": "mse"}, None, var or assigned_name(
                item.meta.get("nc_site"))))
            continue
        hint = hints.outputs[i]
        act = hint.stripped
        if act in _STRIPPED_LAYER:
            layer = walk.layers[key]
            through = hints.passthrough.get(var or "")
            if through and through[1] == act or not (
                    layer.type in _ACTIVATED and layer.params["activation"] in ("none", act)):
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


def _names(walk: _Walk, outputs: list, hints: SourceHints) -> dict[str, str]:
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
            claim(layer.key, attr, get_spec(layer.type).prefix)
    for layer in layers:
        if layer.key in names:
            continue
        site = layer.node.meta.get("nc_site") if layer.node is not None else None
        var = layer.name
        if var is None and site and last_on_site.get(site) == layer.key:
            var = assigned_name(site)
        prefix = get_spec(layer.type).prefix
        claim(layer.key, var if var and var not in taken else None, prefix)
    for i, (_, _, name, var) in enumerate(outputs):
        if not name:
            claim(f"#out{i}", f"{var}_output" if var else None, "output")
    return names


def _build(walk: _Walk, outputs: list, names: dict[str, str], model_name: str,
           hints: SourceHints) -> tuple[Document, dict[str, str]]:
    sketch = Sketch(model_name)
    ids: dict[str, str] = {}
    try:
        for layer in walk.layers.values():
            params = dict(layer.params)
            if layer.type in _ACTIVATED and layer.module in hints.initializers:
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


def _weights(module: nn.Module, walk: _Walk, doc: Document, ids: dict[str, str]
             ) -> dict[str, torch.Tensor]:
    from backend.codegen import CompileError, generate

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
    from backend.compiler import CompileError, compile_document

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
    walk = _Walk(gm, shapes, shapes3, [d for _, d in specs])
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
