"""The AST allow-list every generated module must pass before it is executed.

Defence in depth: names and values are validated long before code is generated, and this check
makes sure that, whatever slipped through, the source can only build ``torch`` layers and call
tensor operations. Anything not explicitly allowed is refused.
"""

from __future__ import annotations

import ast
import functools
import re

from graph.catalogue import LAYERS

_IMPORTS = {("torch", None), ("torch.nn.functional", "F")}
_FROM_IMPORTS = {("torch", "nn")}
_ROOTS = frozenset({"torch", "nn", "F"})
_METHODS = frozenset({"__init__", "reset_parameters", "forward", "predict"})
#: Methods that may be called on a local tensor.
_TENSOR_METHODS = frozenset({"reshape", "mean", "sum", "amax", "to", "permute", "transpose",
                             "contiguous", "expand", "bool"})
_TENSOR_ATTRS = frozenset({"shape", "dtype", "device"})
#: The only string constants allowed outside docstrings: the catalogue's choice values.
_STRINGS = frozenset(c for spec in LAYERS for p in spec.params for c in p.choices) | {
    "reflect", "replicate"}
_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.MatMult)
_LAYER_ATTRS = frozenset({"weight", "bias", "reset_parameters", "expand"})
#: A recurrent layer's own tensors, set one by one by Keras-style initializers.
_RNN_TENSOR = re.compile(r"^(weight|bias)_(ih|hh)_l\d+(_reverse)?$")
#: Every torch / nn / F name the generator may write.
_CALLABLES = frozenset(
    [f"torch.{n}" for n in ("relu", "tanh", "sigmoid", "sign", "softmax", "log_softmax",
                            "flatten", "cat", "exp", "log", "sqrt", "abs", "split", "chunk",
                            "sum", "randn_like", "arange", "zeros")]
    + [f"F.{n}" for n in ("gelu", "elu", "leaky_relu", "relu6", "silu", "mish", "selu", "celu",
                          "hardswish", "hardsigmoid", "softsign", "softplus",
                          "max_pool1d", "max_pool2d", "max_pool3d",
                          "avg_pool1d", "avg_pool2d", "avg_pool3d",
                          "adaptive_avg_pool1d", "adaptive_avg_pool2d",
                          "adaptive_max_pool1d", "adaptive_max_pool2d",
                          "interpolate", "pixel_shuffle", "pixel_unshuffle", "pad",
                          "scaled_dot_product_attention")]
    + [f"nn.{n}" for n in ("Module", "Linear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d",
                           "ConvTranspose2d", "ConvTranspose3d", "Dropout", "Dropout1d",
                           "Dropout2d", "Dropout3d", "BatchNorm1d", "BatchNorm2d",
                           "BatchNorm3d", "LayerNorm", "InstanceNorm1d", "InstanceNorm2d",
                           "InstanceNorm3d", "GroupNorm", "Embedding", "LSTM", "GRU", "RNN",
                           "PReLU", "MultiheadAttention", "TransformerEncoderLayer",
                           "TransformerDecoderLayer", "Parameter", "Sequential",
                           "Transformer.generate_square_subsequent_mask")]
    + [f"nn.init.{n}_" for n in ("uniform", "normal", "xavier_uniform", "xavier_normal",
                                 "kaiming_uniform", "kaiming_normal", "zeros", "ones",
                                 "orthogonal")])


class UnsafeSourceError(Exception):
    """Generated source that contains something the allow-list does not permit."""

    def __init__(self, node: ast.AST | None, what: str) -> None:
        line = getattr(node, "lineno", "?")
        super().__init__(f"line {line}: {what}")


def check_source(source: str, class_name: str, blocks: tuple[str, ...] = ()) -> ast.Module:
    """Parse ``source`` and check it against the allow-list; return the tree or raise.

    ``blocks`` are the classes of block definitions, written in this order before the model's
    class: each derives from ``nn.Module`` or ``nn.Sequential`` and may be called by the classes
    after it."""
    try:
        tree = ast.parse(source, mode="exec")
    except SyntaxError as exc:
        raise UnsafeSourceError(None, f"does not parse ({exc.msg})") from None
    _Checker(class_name, tuple(blocks)).module(tree)
    return tree


def _dotted(node: ast.expr) -> list[str] | None:
    """``torch.nn.init`` → ["torch", "nn", "init"]; None for anything but a name chain."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


@functools.cache
def _module_attributes() -> frozenset[str]:
    from torch import nn

    return frozenset(dir(nn.Module)) | _METHODS


def _is_docstring(stmt: ast.stmt) -> bool:
    return (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str))


def _safe_name(name: str) -> bool:
    return name.isidentifier() and name.isascii() and not name.startswith("__")


class _Checker:
    def __init__(self, class_name: str, blocks: tuple[str, ...] = ()) -> None:
        self.class_name = class_name
        self.blocks = blocks
        self.defined: set[str] = set()
        """Block classes already defined (callable by the classes after them)."""
        self.sequential = False
        self.layers: set[str] = set()

    def module(self, tree: ast.Module) -> None:
        body = list(tree.body)
        if body and _is_docstring(body[0]):
            body = body[1:]
        classes = 0
        expected = [*self.blocks, self.class_name]
        for stmt in body:
            if isinstance(stmt, ast.Import):
                for alias in stmt.names:
                    if (alias.name, alias.asname) not in _IMPORTS:
                        raise UnsafeSourceError(stmt, f"import of {alias.name!r} is not allowed")
            elif isinstance(stmt, ast.ImportFrom):
                for alias in stmt.names:
                    if stmt.level or (stmt.module, alias.name) not in _FROM_IMPORTS or alias.asname:
                        raise UnsafeSourceError(stmt, "this import is not allowed")
            elif isinstance(stmt, ast.ClassDef):
                if classes >= len(expected) or stmt.name != expected[classes]:
                    raise UnsafeSourceError(stmt, "unexpected class definition")
                classes += 1
                self.class_def(stmt)
                self.defined.add(stmt.name)
            else:
                raise UnsafeSourceError(stmt, f"{type(stmt).__name__} at module level")
        if classes != len(expected):
            raise UnsafeSourceError(None, f"expected {len(expected)} classes, found {classes}")

    def class_def(self, cls: ast.ClassDef) -> None:
        if cls.decorator_list or cls.keywords:
            raise UnsafeSourceError(cls, "unexpected class definition")
        self.layers = set()
        bases = ("nn.Module", "nn.Sequential") if cls.name in self.blocks else ("nn.Module",)
        if len(cls.bases) != 1 or ast.unparse(cls.bases[0]) not in bases:
            raise UnsafeSourceError(cls, "the class must derive from nn.Module only")
        self.sequential = ast.unparse(cls.bases[0]) == "nn.Sequential"
        body = list(cls.body)
        if body and _is_docstring(body[0]):
            body = body[1:]
        seen: set[str] = set()
        for stmt in body:
            if not isinstance(stmt, ast.FunctionDef) or stmt.name not in _METHODS:
                raise UnsafeSourceError(stmt, "only __init__, reset_parameters, forward and "
                                              "predict may be defined")
            if stmt.name in seen:
                raise UnsafeSourceError(stmt, f"{stmt.name} defined twice")
            seen.add(stmt.name)
            self.function(stmt)

    def function(self, fn: ast.FunctionDef) -> None:
        a = fn.args
        if fn.decorator_list or fn.returns or a.vararg or a.kwarg or a.kwonlyargs or \
                a.posonlyargs or a.defaults or a.kw_defaults:
            raise UnsafeSourceError(fn, "unexpected function signature")
        params = [arg.arg for arg in a.args]
        if not params or params[0] != "self" or any(arg.annotation for arg in a.args):
            raise UnsafeSourceError(fn, "methods take self and plain arguments")
        local = set(params)
        for name in params:
            if not _safe_name(name) or name in _ROOTS:
                raise UnsafeSourceError(fn, f"argument name {name!r} is not allowed")
        body = list(fn.body)
        if body and _is_docstring(body[0]):
            body = body[1:]
        for stmt in body:
            self.statement(stmt, local, fn.name)

    def statement(self, stmt: ast.stmt, local: set[str], method: str) -> None:
        if isinstance(stmt, ast.Expr):
            if not isinstance(stmt.value, ast.Call):
                raise UnsafeSourceError(stmt, "an expression statement must be a call")
            if method == "__init__" and ast.unparse(stmt.value) == "super().__init__()":
                return
            call = stmt.value
            if method == "__init__" and self.sequential and \
                    ast.unparse(call.func) == "super().__init__" and not call.keywords:
                for arg in call.args:
                    if isinstance(arg, ast.Starred):
                        raise UnsafeSourceError(arg, "*args are not allowed")
                    self.expr(arg, local)
                return
            self.expr(stmt.value, local)
        elif isinstance(stmt, ast.Assign):
            if len(stmt.targets) != 1:
                raise UnsafeSourceError(stmt, "chained assignment")
            self.expr(stmt.value, local)
            self.target(stmt.targets[0], local, method)
        elif isinstance(stmt, ast.Return):
            if stmt.value is not None:
                self.expr(stmt.value, local)
        else:
            raise UnsafeSourceError(stmt, f"{type(stmt).__name__} statements are not allowed")

    def target(self, node: ast.expr, local: set[str], method: str) -> None:
        if isinstance(node, ast.Name):
            if not _safe_name(node.id) or node.id in _ROOTS or node.id == "self":
                raise UnsafeSourceError(node, f"cannot assign to {node.id!r}")
            local.add(node.id)
        elif isinstance(node, ast.Tuple):
            for elt in node.elts:
                self.target(elt, local, method)
        elif isinstance(node, ast.Attribute) and method == "__init__":
            if not (isinstance(node.value, ast.Name) and node.value.id == "self"
                    and _safe_name(node.attr) and not node.attr.startswith("_")
                    and node.attr not in _module_attributes()):
                raise UnsafeSourceError(node, "only self.<layer> may be assigned")
            self.layers.add(node.attr)
        else:
            raise UnsafeSourceError(node, "unexpected assignment target")

    def expr(self, node: ast.expr, local: set[str]) -> None:
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, str) and v not in _STRINGS:
                raise UnsafeSourceError(node, f"string {v!r} is not an allowed value")
            if not isinstance(v, (bool, int, float, str)) and v is not None:
                raise UnsafeSourceError(node, "unexpected constant")
        elif isinstance(node, ast.Name):
            if node.id not in local:
                raise UnsafeSourceError(node, f"unknown name {node.id!r}")
        elif isinstance(node, ast.Attribute):
            self.attribute(node, local)
        elif isinstance(node, ast.Call):
            self.call(node, local)
        elif isinstance(node, (ast.Tuple, ast.List)):
            for elt in node.elts:
                self.expr(elt, local)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, _BINOPS):
            self.expr(node.left, local)
            self.expr(node.right, local)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            self.expr(node.operand, local)
        elif isinstance(node, ast.IfExp):
            if ast.unparse(node.test) != "self.training":
                raise UnsafeSourceError(node, "a conditional may only test self.training")
            self.expr(node.body, local)
            self.expr(node.orelse, local)
        elif isinstance(node, ast.Compare) and all(isinstance(o, ast.Gt) for o in node.ops):
            self.expr(node.left, local)
            for c in node.comparators:
                self.expr(c, local)
        elif isinstance(node, ast.Subscript):
            self.expr(node.value, local)
            self.expr(node.slice, local)
        elif isinstance(node, ast.Slice):
            for part in (node.lower, node.upper, node.step):
                if part is not None:
                    self.expr(part, local)
        else:
            raise UnsafeSourceError(node, f"{type(node).__name__} expressions are not allowed")

    def attribute(self, node: ast.Attribute, local: set[str]) -> None:
        if not _safe_name(node.attr) or node.attr.startswith("_"):
            raise UnsafeSourceError(node, f"attribute {node.attr!r} is not allowed")
        parts = _dotted(node)
        if parts is not None:
            if ".".join(parts) in _CALLABLES:
                return
            if parts[0] == "self":
                if len(parts) == 2 and (parts[1] in self.layers or
                                        parts[1] in ("reset_parameters", "training")):
                    return
                if len(parts) == 3 and parts[1] in self.layers and (
                        parts[2] in _LAYER_ATTRS or _RNN_TENSOR.match(parts[2])):
                    return
            if len(parts) == 2 and parts[0] in local and \
                    parts[1] in _TENSOR_ATTRS | _TENSOR_METHODS:
                return
        elif isinstance(node.value, (ast.Compare, ast.Call, ast.Subscript)) and \
                node.attr in _TENSOR_METHODS:
            self.expr(node.value, local)
            return
        elif isinstance(node.value, ast.Subscript) and self._indexed_layer(node.value) and (
                node.attr in _LAYER_ATTRS or _RNN_TENSOR.match(node.attr)):
            return
        raise UnsafeSourceError(node, f"access to {ast.unparse(node)!r} is not allowed")

    def _indexed_layer(self, node: ast.Subscript) -> bool:
        """``self[0]`` in an ``nn.Sequential`` block, or ``self.<layer>[0]``."""
        if not (isinstance(node.slice, ast.Constant) and type(node.slice.value) is int):
            return False
        parts = _dotted(node.value)
        return parts == ["self"] and self.sequential or (
            parts is not None and len(parts) == 2 and parts[0] == "self"
            and parts[1] in self.layers)

    def call(self, node: ast.Call, local: set[str]) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id == "self":
            pass  # self(...) runs forward
        elif isinstance(func, ast.Name) and func.id in self.defined:
            pass  # a block class defined above
        elif isinstance(func, ast.Attribute):
            self.attribute(func, local)
        else:
            raise UnsafeSourceError(node, f"call of {ast.unparse(func)!r} is not allowed")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise UnsafeSourceError(arg, "*args are not allowed")
            self.expr(arg, local)
        for kw in node.keywords:
            if kw.arg is None or not _safe_name(kw.arg):
                raise UnsafeSourceError(kw, "unexpected keyword argument")
            self.expr(kw.value, local)
