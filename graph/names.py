"""Node and model names: unique Python identifiers that are safe to emit as code."""

from __future__ import annotations

import builtins
import keyword
import re

from graph.errors import NameError_

MAX_NAME = 64
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: Names the generated module itself uses; a node called ``torch`` would shadow the import.
RESERVED = frozenset({"self", "torch", "nn", "F", "math", "super", "forward", "training",
                      "reset_parameters", "outputs", "inputs"})
_FORBIDDEN = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins))


def name_problem(name: object) -> str | None:
    """Why ``name`` cannot be a node name, or None when it can."""
    if not isinstance(name, str) or not name:
        return "a name must be a non-empty text"
    if len(name) > MAX_NAME:
        return f"a name has at most {MAX_NAME} characters"
    if not name.isascii() or not _IDENT.match(name):
        return (f"{name!r} is not a Python identifier: use letters, digits and _, "
                "not starting with a digit")
    if name.startswith("__"):
        return f"{name!r} starts with a double underscore, which Python reserves"
    if name in _FORBIDDEN:
        return f"{name!r} is a Python keyword or built-in name"
    if name in RESERVED:
        return f"{name!r} is used by the generated code"
    return None


def check_name(name: object) -> str:
    problem = name_problem(name)
    if problem:
        raise NameError_(problem[0].upper() + problem[1:] + ".")
    return name  # type: ignore[return-value]


def sanitize(text: str, fallback: str = "layer") -> str:
    """Turn any text into a valid name (not checked for uniqueness)."""
    name = re.sub(r"\W+", "_", str(text).strip().encode("ascii", "ignore").decode()).strip("_")
    name = re.sub(r"_+", "_", name)
    if not name or name[0].isdigit():
        name = f"{fallback}_{name}" if name else fallback
    name = name[:MAX_NAME]
    if name_problem(name):
        name = f"{name}_"[:MAX_NAME]
    if name_problem(name):
        name = fallback
    return name


def unique_name(prefix: str, taken: set[str] | frozenset[str]) -> str:
    """``prefix_1``, ``prefix_2``… the first not in ``taken``."""
    base = re.sub(r"\W+", "_", str(prefix)).strip("_") or "layer"
    if base[0].isdigit():
        base = f"layer_{base}"
    i = 1
    while True:
        candidate = f"{base}_{i}"
        if candidate not in taken and not name_problem(candidate):
            return candidate
        i += 1


def class_name(text: str) -> str:
    """A CamelCase class name for the model, e.g. ``wide and deep`` → ``WideAndDeep``."""
    parts = re.split(r"[^A-Za-z0-9]+", str(text).encode("ascii", "ignore").decode())
    name = "".join(p[:1].upper() + p[1:] for p in parts if p)
    if not name or name[0].isdigit():
        name = "Model" + name
    name = name[:MAX_NAME]
    if name_problem(name):
        name = "Net" + name
    return name[:MAX_NAME]
