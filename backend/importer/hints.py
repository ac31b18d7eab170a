"""What the source of a module says beyond its traced graph, read for an exact round trip.

Tracing sees operations, not the design decisions NetCanvas wrote around them. Code exported by
NetCanvas records those in plain sight, and this module reads them back:

- the class docstring lists inputs (shape, int64 token ids) and outputs (name, loss, and the
  final activation left out of ``forward`` because the loss takes logits);
- ``forward`` marks a stripped activation *layer* with ``probs = scores  # logits…``
  and ends with ``return a, b`` (the returned variable names);
- ``predict`` applies the stripped activations (and their ``dim``);
- ``reset_parameters`` holds the ``nn.init`` calls of non-default initializers.

Every reader is best-effort: code that was not written by NetCanvas simply yields no hints.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import re
import textwrap
from dataclasses import dataclass, field
from typing import Any

from backend.model.layers import KERAS_NOTE

_INPUT = re.compile(r"^\s*(\w+): \(N((?:, \d+)*)\)(, int64 token ids)?\s*$")
_OUTPUT = re.compile(r"^\s*(\w+): \(N(?:, \d+)*\), loss (\w+)"
                     r"(?:, weight ([0-9.eE+-]+))?(?:, metric (\w+))?(.*)$")
_APPLIES = re.compile(r"\bapplies (softmax|log_softmax|sigmoid)\b")
#: ``probs = scores  # logits…``: an activation layer whose activation the loss applies.
_PASSTHROUGH = re.compile(r"^\s*(\w+) = (\w+)\s*#.*\blogits\b")
_WEIGHT_INITS = {"uniform_": "uniform", "normal_": "normal", "xavier_uniform_": "xavier_uniform",
                 "xavier_normal_": "xavier_normal", "kaiming_uniform_": "kaiming_uniform",
                 "kaiming_normal_": "kaiming_normal", "zeros_": "zeros", "ones_": "ones"}
_PARAMETER_INITS = {"zeros_": "zeros", "ones_": "ones", "normal_": "normal",
                    "uniform_": "uniform"}
_BIAS_INITS = {"zeros_": "zeros", "ones_": "ones", "uniform_": "uniform", "normal_": "normal"}


@dataclass
class OutputHint:
    """One output as NetCanvas's docstring describes it."""

    name: str
    loss: str
    loss_weight: float | None = None
    metric: str | None = None
    stripped: str | None = None
    """Activation left out of ``forward`` (``softmax``, ``log_softmax``, ``sigmoid``)."""
    dim: int | None = None
    """The stripped softmax's dim, read from ``predict``."""


@dataclass
class SourceHints:
    """Everything read from a module's source; empty when it was not written by NetCanvas."""

    netcanvas: bool = False
    input_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    int64_inputs: set[str] = field(default_factory=set)
    outputs: list[OutputHint] = field(default_factory=list)
    returned: list[str | None] = field(default_factory=list)
    """Variable names in ``forward``'s final return, in order (None for an expression)."""
    passthrough: dict[str, str] = field(default_factory=dict)
    """Variable → the variable it renames, for ``a = b  # logits…`` lines."""
    initializers: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Attribute name → Dense/Conv initializer params (a Parameter's ``init``) from
    ``reset_parameters``."""
    initializer_defaults: str = "pytorch"
    """``keras`` when ``reset_parameters`` says "default" initializers are Keras's."""


def read_hints(cls: type) -> SourceHints:
    """The hints in ``cls``'s docstring and methods (best-effort, never raises)."""
    hints = SourceHints()
    if cls.__module__.split(".")[0] == "torch":
        return hints  # nn.Sequential & co.: their source says nothing about this model
    _read_docstring(cls.__doc__ or "", hints)
    forward = _source(getattr(cls, "forward", None))
    if forward is not None:
        for line in forward.splitlines():
            m = _PASSTHROUGH.match(line)
            if m:
                hints.passthrough[m.group(1)] = m.group(2)
        hints.returned = _returned_names(forward)
    predict = _source(getattr(cls, "predict", None))
    if predict is not None and hints.outputs:
        for hint, dim in zip(hints.outputs, _predict_dims(predict, len(hints.outputs))):
            hint.dim = dim
    reset = getattr(cls, "reset_parameters", None)
    if hints.netcanvas and KERAS_NOTE in inspect.cleandoc(getattr(reset, "__doc__", "") or ""):
        hints.initializer_defaults = "keras"
    source = _source(reset)
    if source is not None:
        hints.initializers = _initializers(source, hints.initializer_defaults == "keras")
    return hints


def _read_docstring(doc: str, hints: SourceHints) -> None:
    lines = inspect.cleandoc(doc).splitlines()
    if not lines or "designed in NetCanvas" not in lines[0]:
        return
    hints.netcanvas = True
    section = None
    for line in lines[1:]:
        stripped = line.strip()
        if stripped in ("Inputs:", "Outputs:"):
            section = stripped
            continue
        if section == "Inputs:" and (m := _INPUT.match(line)):
            dims = tuple(int(d) for d in m.group(2).split(",")[1:])
            hints.input_shapes[m.group(1)] = dims
            if m.group(3):
                hints.int64_inputs.add(m.group(1))
        elif section == "Outputs:" and (m := _OUTPUT.match(line)):
            weight = float(m.group(3)) if m.group(3) else None
            applies = _APPLIES.search(m.group(5))
            hints.outputs.append(OutputHint(m.group(1), m.group(2), weight, m.group(4),
                                            applies.group(1) if applies else None))


def _source(func: Any) -> str | None:
    """The dedented source of a function, from the file or the `linecache` entry it came from."""
    code = getattr(func, "__code__", None)
    if code is None:
        return None
    try:
        text = inspect.getsource(func)
    except (OSError, TypeError):
        lines = linecache.getlines(code.co_filename)
        if not lines:
            return None
        try:
            text = "".join(inspect.getblock(lines[code.co_firstlineno - 1:]))
        except (IndexError, SyntaxError):
            return None
    return textwrap.dedent(text)


def _function(source: str) -> ast.FunctionDef | None:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    node = tree.body[0] if tree.body else None
    return node if isinstance(node, ast.FunctionDef) else None


def _returned_names(source: str) -> list[str | None]:
    func = _function(source)
    if func is None or not func.body or not isinstance(func.body[-1], ast.Return):
        return []
    value = func.body[-1].value
    items = value.elts if isinstance(value, ast.Tuple) else [value]
    return [item.id if isinstance(item, ast.Name) else None for item in items]


def _predict_dims(source: str, count: int) -> list[int | None]:
    """The ``dim`` each output's activation uses in ``predict`` (None where there is none)."""
    func = _function(source)
    if func is None or not func.body or not isinstance(func.body[-1], ast.Return):
        return [None] * count
    value = func.body[-1].value
    items = value.elts if isinstance(value, ast.Tuple) and count > 1 else [value]
    dims: list[int | None] = []
    for item in items:
        dim = None
        if isinstance(item, ast.Call):
            for kw in item.keywords:
                if kw.arg == "dim":
                    dim = _literal_int(kw.value)
        dims.append(dim)
    return dims + [None] * (count - len(dims))


def _literal_int(node: ast.AST) -> int | None:
    try:
        value = ast.literal_eval(node)
    except ValueError:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _initializers(source: str, keras: bool = False) -> dict[str, dict[str, Any]]:
    """``nn.init.<fn>_(self.<attr>.weight|bias, …)`` calls → Dense/Conv initializer params
    (with ``keras`` defaults, Glorot-uniform weights and zero biases are the defaults)."""
    func = _function(source)
    out: dict[str, dict[str, Any]] = {}
    if func is None:
        return out
    for stmt in func.body:
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if not isinstance(call, ast.Call) or not call.args:
            continue
        name = ast.unparse(call.func)
        if not name.startswith(("nn.init.", "torch.nn.init.")):
            continue
        fn = name.rsplit(".", 1)[1]
        target = call.args[0]
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and \
                target.value.id == "self" and fn in _PARAMETER_INITS:
            # A Parameter node's bare nn.Parameter: nn.init.normal_(self.token, 0.0, 0.02)
            params = out.setdefault(target.attr, {"init": _PARAMETER_INITS[fn]})
            if fn in ("uniform_", "normal_") and len(call.args) == 3:
                scale = _literal_float(call.args[2])
                if scale is not None:
                    params["init_scale"] = scale
            continue
        if not (isinstance(target, ast.Attribute) and target.attr in ("weight", "bias")):
            continue
        owner = ast.unparse(target.value)
        if not owner.startswith("self."):
            continue
        attr = owner[len("self."):]
        params = out.setdefault(attr, {})
        scale = None
        if fn in ("uniform_", "normal_") and len(call.args) == 3:
            scale = _literal_float(call.args[2])
        if keras and (target.attr, fn) in (("weight", "xavier_uniform_"), ("bias", "zeros_")):
            continue  # the project default, written out
        if target.attr == "weight" and fn in _WEIGHT_INITS:
            params["kernel_initializer"] = _WEIGHT_INITS[fn]
            if scale is not None:
                params["init_scale"] = scale
        elif target.attr == "bias" and fn in _BIAS_INITS:
            params["bias_initializer"] = _BIAS_INITS[fn]
            if scale is not None:
                params.setdefault("init_scale", scale)
    return out


def _literal_float(node: ast.AST) -> float | None:
    try:
        value = ast.literal_eval(node)
    except ValueError:
        return None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else None
