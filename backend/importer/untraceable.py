"""Why a model's own code stopped the import, and where: messages instead of tracebacks.

`explain_trace` reads what ``torch.fx`` raised while tracing ``forward`` and names the line of
the user's file that did it, the kind of construct (an assert on a size, a device check,
data-dependent branching, a loop over a size) and what to do. `explain_call` does the same for an
exception raised by the user's ``__init__``, ``train()`` or ``eval()``.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import linecache
import os
import textwrap
import traceback

_TORCH = importlib.util.find_spec("torch")
_TORCH_DIR = os.path.dirname(_TORCH.origin) if _TORCH and _TORCH.origin else "\0"
_OURS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # backend/


def user_frame(exc: BaseException) -> traceback.FrameSummary | None:
    """The innermost frame of the traceback that is the user's code (not torch's, not ours)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith((_TORCH_DIR, _OURS)) and
              not f.filename.startswith("<frozen")]
    return frames[-1] if frames else None


def place(filename: str, line: int) -> str:
    """``model.py:12`` (relative to the working folder when the file is inside it)."""
    try:
        rel = os.path.relpath(filename)
    except ValueError:
        rel = filename
    shown = rel if not rel.startswith("..") else filename
    return f"{shown}:{line}"


def _line(frame: traceback.FrameSummary) -> str:
    return (frame.line or linecache.getline(frame.filename, frame.lineno or 0)).strip()


_LOOP_FIX = ("loop over a fixed number (range(6)), or use a layer that loops itself (nn.LSTM over "
             "the whole sequence instead of nn.LSTMCell step by step)")
_ADVICE = {
    "assert": ("an assert on a tensor's size, which tracing cannot evaluate: remove it, or "
               "write it as torch._assert(condition, message), which tracing keeps"),
    "device": ("a device check (like x.is_cuda), which tracing cannot answer: remove it; "
               "NetCanvas moves the model and its data to the device itself"),
    "branch": ("data-dependent branching (an if on a tensor's values), so the design would "
               "compute one branch only: rewrite it without the branch (e.g. with torch.where), "
               "or import the sub-module that one branch calls"),
    "loop": ("a loop over a size (its length comes from a tensor), which tracing cannot "
             f"unroll: {_LOOP_FIX}"),
    "value": ("a tensor's value used as a Python number (.item(), .tolist(), int(x)), which "
              "tracing cannot know: compute it from sizes instead, or leave it out of forward"),
}


def classify(code: str) -> str | None:
    """The kind of construct a source line is, as far as it stops tracing."""
    try:
        tree = ast.parse(textwrap.dedent(code) if not code.rstrip().endswith(":")
                         else code.strip() + " pass")
    except SyntaxError:
        return None
    stmt = tree.body[0] if tree.body else None
    text = code
    if isinstance(stmt, ast.Assert):
        return "assert"
    if any(k in text for k in (".is_cuda", ".device", ".is_cpu", ".get_device(")):
        return "device"
    if isinstance(stmt, ast.For) and isinstance(stmt.iter, ast.Call) and \
            ast.unparse(stmt.iter.func) == "range":
        return "loop"
    if isinstance(stmt, (ast.For, ast.While)):
        return "loop"
    if isinstance(stmt, ast.If) or any(isinstance(n, (ast.IfExp, ast.BoolOp))
                                       for n in ast.walk(tree)):
        return "branch"
    if any(k in text for k in (".item()", ".tolist()", "int(", "float(")):
        return "value"
    return None


def _loops_over_sizes(frame: traceback.FrameSummary) -> list[tuple[int, str]]:
    """Other lines of the same function that loop over a size (``for t in range(x.size(1))``)."""
    found = []
    lines = linecache.getlines(frame.filename)
    if not lines or not frame.lineno:
        return found
    try:
        start = frame.lineno - 1
        while start > 0 and not lines[start].lstrip().startswith("def "):
            start -= 1
        block = inspect.getblock(lines[start:])
    except (IndexError, SyntaxError, TypeError):
        return found
    for i, text in enumerate(block):
        number = start + i + 1
        if number != frame.lineno and classify(text.strip()) == "loop" and (
                "size(" in text or "shape" in text or "len(" in text):
            found.append((number, text.strip()))
    return found


def explain_trace(exc: BaseException, cls: type) -> str:
    """The message for a ``forward`` that torch.fx could not trace."""
    name = cls.__name__
    frame = user_frame(exc)
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if frame is None:
        return (f"torch.fx could not trace {name}.forward: {reason}. Import needs a forward "
                "whose operations do not depend on tensor values (no `if`/`for` on tensors, "
                "no .item()); rewrite that part or import a sub-module that has none.")
    code = _line(frame)
    kind = classify(code)
    where = f"{place(frame.filename, frame.lineno)} `{code}`"
    if kind is None:
        text = (f"torch.fx could not trace {name}.forward at {where}: {reason}. Import needs "
                "a forward whose operations do not depend on tensor values (no `if`/`for` on "
                "tensors, no .item()); rewrite that line, or import a sub-module that has none.")
    else:
        text = f"torch.fx could not trace {name}.forward at {where}: it is {_ADVICE[kind]}."
    more = [n for n in _loops_over_sizes(frame) if kind != "loop"]
    if more:
        text += " The same forward also has " + "; ".join(
            f"a loop over a size at line {n} `{c}`" for n, c in more) + f" ({_LOOP_FIX})."
    return text


def explain_call(exc: BaseException, what: str, advice: str = "") -> str:
    """``Net.__init__() raised ValueError: … (model.py:12 `…`)`` for the user's own code."""
    frame = user_frame(exc)
    reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    where = f" ({place(frame.filename, frame.lineno)} `{_line(frame)}`)" if frame else ""
    return f"{what} raised {reason}{where}." + (f" {advice}" if advice else "")
