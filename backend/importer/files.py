"""Files that import: a Python file's ``nn.Module`` (``model.py:Net``) or an ONNX file.

`import_file` is the one entry point of ``netcanvas import`` and of File ▸ Import: it loads the
file (running a Python file's code, as ``python model.py`` would) and hands the module to
`backend.importer.convert.import_module`. Whatever the user's own code raises — at import of
the file, in ``__init__`` — comes back as a message naming the file and line, never a traceback.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from backend.importer.untraceable import explain_call


class TargetError(ValueError):
    """The file or the name in it cannot be used (a usage problem); the text says why."""


def is_onnx(path: str | os.PathLike[str]) -> bool:
    return str(path).lower().endswith(".onnx")


def split_target(target: str) -> tuple[str, str | None]:
    """``model.py:Net`` → (``model.py``, ``Net``); ``model.onnx`` → (``model.onnx``, None)."""
    if is_onnx(target):
        return target, None
    path, sep, name = target.rpartition(":")
    if not sep or not path or not name:
        raise TargetError(f"{target!r} should be FILE.py:ClassName (e.g. model.py:Net) or "
                          "FILE.onnx")
    return path, name


def load_target(target: str) -> Any:
    """Execute ``FILE.py`` and return an instance of the ``nn.Module`` named after the colon."""
    from torch import nn

    path_text, attr = split_target(target)
    if attr is None:
        raise TargetError(f"{target!r} is an ONNX file: import it with import_file")
    path = Path(path_text)
    if not path.is_file():
        raise TargetError(f"There is no file {str(path)!r}.")
    module_name = f"netcanvas_import_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise TargetError(f"{str(path)!r} cannot be loaded as Python: name it *.py.")
    py_module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = py_module  # dataclasses and pickling look modules up here
    sys.path.insert(0, str(path.resolve().parent))  # so the file can import its neighbours
    try:
        spec.loader.exec_module(py_module)
    except Exception as exc:  # the user's file failed: say where, not a traceback
        raise TargetError(explain_call(exc, f"Running {str(path)!r}")) from None
    finally:
        sys.path.remove(str(path.resolve().parent))
    obj = getattr(py_module, attr, None)
    if obj is None:
        found = [n for n, v in vars(py_module).items()
                 if isinstance(v, type) and issubclass(v, nn.Module) and v.__module__ ==
                 module_name]
        raise TargetError(f"{str(path)!r} defines no {attr!r}" +
                          (f"; its modules are: {', '.join(found)}" if found else ""))
    if isinstance(obj, nn.Module):
        return obj
    if not callable(obj):
        raise TargetError(f"{attr!r} in {str(path)!r} is not an nn.Module class.")
    try:
        instance = obj()
    except TypeError as exc:
        if "argument" not in str(exc):
            raise TargetError(explain_call(exc, f"{attr}()")) from None
        raise TargetError(f"{attr}() cannot be called without arguments ({exc}): give its "
                          "arguments defaults, or add a function that builds the module and "
                          "import that (FILE.py:make_model).") from None
    except Exception as exc:  # the user's __init__ failed
        raise TargetError(explain_call(exc, f"{attr}()", "Import builds the model with no "
                                       "arguments: make that work.")) from None
    if not isinstance(instance, nn.Module):
        raise TargetError(f"{attr}() returned a {type(instance).__name__}, not an nn.Module.")
    return instance


def import_file(target: str, input_shapes: list[tuple[int, ...]] | None = None,
                name: str | None = None, *, allow_partial: bool = False,
                blocks: bool = True) -> Any:
    """``FILE.py:NAME`` or ``FILE.onnx`` as an `ImportResult` (see `import_module`;
    ``blocks``, the default: the module's own submodule classes become block definitions;
    False flattens. An ONNX graph has no classes to keep and is always flat)."""
    from backend.importer.convert import import_module

    path, _ = split_target(target)
    if not is_onnx(path):
        return import_module(load_target(target), input_shapes, name,
                             allow_partial=allow_partial, blocks=blocks)
    from backend.importer.onnx import load_onnx

    if not Path(path).is_file():
        raise TargetError(f"There is no file {path!r}.")
    module, shapes, dtypes = load_onnx(path)
    if input_shapes is not None and [tuple(s) for s in input_shapes] != shapes:
        raise TargetError(f"{Path(path).name} fixes its input shapes "
                          f"({'; '.join(','.join(map(str, s)) for s in shapes)}): give no "
                          "input shapes for it.")
    from graph.names import class_name

    return import_module(module, shapes, name or class_name(Path(path).stem),
                         allow_partial=allow_partial, input_dtypes=dtypes, inference=True)
