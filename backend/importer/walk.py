"""The walk over a traced ``torch.fx`` graph that turns its nodes into catalogue layers.

`Walk` visits the nodes in order: leaf modules and functions found in `backend.importer.table`
become `Layer`s; size/shape arithmetic feeding reshapes is absorbed; everything else is recorded
as unsupported (with the source line that wrote it), and what depends on it as skipped.
`SiteTracer` remembers each node's source line, which names layers and decides activation folding.
"""

from __future__ import annotations

import ast
import linecache
import operator
import os
import sys
from dataclasses import dataclass
from typing import Any

import torch
from torch import fx, nn

from backend.importer.table import (
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
from graph.errors import ParamError

_TORCH_DIR = os.path.dirname(torch.__file__)
_THIS_DIR = os.path.dirname(__file__)
ACTIVATED = ("Dense", "Conv1d", "Conv2d")
RNN = ("LSTM", "GRU", "SimpleRNN")


@dataclass
class Layer:
    key: str
    type: str
    params: dict[str, Any]
    inputs: list[str]
    node: fx.Node | None
    module: str | None = None
    name: str | None = None
    trainable: bool = True


def _user_site() -> tuple[str, int] | None:
    """File and line of the user's code that is creating the current fx node.

    The innermost frame outside torch and NetCanvas, looking no further out than the tracer's
    own ``trace`` call (a node created after ``forward`` returned has no line).
    """
    frame = sys._getframe(2)
    while frame is not None and frame.f_code is not _TRACE_CODE:
        filename = frame.f_code.co_filename
        if not filename.startswith((_TORCH_DIR, _THIS_DIR)):
            return filename, frame.f_lineno
        frame = frame.f_back
    return None


_TRACE_CODE = fx.Tracer.trace.__code__


class SiteTracer(fx.Tracer):
    """A tracer that remembers which source line created each node (for names and folding)."""

    def create_node(self, *args: Any, **kwargs: Any) -> fx.Node:
        node = super().create_node(*args, **kwargs)
        node.meta["nc_site"] = _user_site()
        return node


# --- the walk ------------------------------------------------------------------------------------

class Walk:
    """One pass over the traced graph, building `Layer`s and recording what does not map."""

    def __init__(self, gm: fx.GraphModule, shapes: dict, shapes3: dict,
                 dtypes: list[str]) -> None:
        self.gm, self.shapes, self.shapes3, self.dtypes = gm, shapes, shapes3, dtypes
        self.layers: dict[str, Layer] = {}
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
        self.layers[key] = Layer(key, type_, params, inputs, node, module)
        self.values[node] = key
        return key

    # driver
    def run(self) -> None:
        placeholders = 0
        for node in self.gm.graph.nodes:
            if node.op == "placeholder":
                placeholders += 1
                try:
                    self.add("Input", {"shape": self.shape(node)[1:] or (1,),
                                       "dtype": self.dtypes[placeholders - 1]}, [], node)
                except Unsupported as exc:
                    self.failed.add(node)
                    self.unsupported.append(f"input {node.target}: {exc}")
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
        elif target is operator.getitem:
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
        elif target is operator.gt:
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
        if type_ in RNN:
            del self.values[node]
            self.rnn_tuple[node] = key

    def _activation(self, node: fx.Node, act: Activation) -> None:
        src = node.args[0]
        key = self.value(src, act.kind)
        layer = self.layers[key]
        shape = self.shape(src)
        if (layer.type in ACTIVATED and layer.params["activation"] == "none"
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
