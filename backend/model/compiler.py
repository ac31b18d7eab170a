"""Compile = execute the generated source: the module the app trains is the exported code.

There is no second code path. The source is checked against the AST allow-list, registered in
`linecache` under ``<netcanvas:ClassName>`` so tracebacks show the generated lines, executed in a
fresh namespace whose builtins allow only importing torch, and instantiated.
"""

from __future__ import annotations

import builtins
import linecache
from dataclasses import dataclass
from typing import Any

from torch import nn

from backend.model.allowlist import UnsafeSourceError, check_source
from backend.model.codegen import CompileError, GeneratedCode, generate
from backend.model.memory import DesignTooLargeError, check_fits
from backend.model.shapes import Analysis, analyse
from graph.document import Document

__all__ = ["CompileError", "CompiledModel", "DesignTooLargeError", "compile_document",
           "compile_source"]

_IMPORTABLE = frozenset({"torch", "torch.nn", "torch.nn.functional"})


@dataclass
class CompiledModel:
    """A design turned into a live module, with the code and analysis it came from."""

    module: nn.Module
    code: GeneratedCode
    analysis: Analysis
    filename: str
    #: Module paths of the frozen layers (`frozen_modules`).
    frozen: list[str]


def frozen_modules(doc: Any, code: GeneratedCode) -> list[str]:
    """Module paths of the layers that do not train: top-level layers switched off (a Block
    node: the whole block) and frozen layers inside blocks, in every instance
    (``layer1.0.conv1``)."""
    frozen = [a for n, a in code.attr_names.items() if not doc.attr(n, "trainable")]
    return frozen + [p for p in code.frozen_paths if p not in frozen]


def _guarded_import(name: str, globals_: Any = None, locals_: Any = None,
                    fromlist: Any = (), level: int = 0) -> Any:
    if level or name not in _IMPORTABLE:
        raise ImportError(f"generated code may import only torch, not {name!r}")
    return builtins.__import__(name, globals_, locals_, fromlist, level)


_BUILTINS = {"__import__": _guarded_import, "__build_class__": builtins.__build_class__,
             "super": super}


def compile_source(code: GeneratedCode) -> tuple[type[nn.Module], str]:
    """Check and execute ``code.source``; return the model class and its fake file name."""
    try:
        tree = check_source(code.source, code.class_name, tuple(code.block_classes))
    except UnsafeSourceError as exc:
        raise CompileError(f"The generated code was refused by the safety check ({exc}). "
                           "This is a bug in NetCanvas: please report it with the project.") \
            from None
    filename = f"<netcanvas:{code.class_name}>"
    lines = code.source.splitlines(keepends=True)
    linecache.cache[filename] = (len(code.source), None, lines, filename)
    namespace: dict[str, Any] = {"__builtins__": _BUILTINS,
                                 "__name__": f"netcanvas_generated.{code.class_name}"}
    exec(compile(tree, filename, "exec"), namespace)  # noqa: S102 - allow-listed source
    cls = namespace[code.class_name]
    return cls, filename


def compile_document(doc: Document, analysis: Analysis | None = None) -> CompiledModel:
    """Generate, check, execute and instantiate the module for ``doc``.

    Raises `CompileError` listing the design's problems when it is not valid, and its
    `DesignTooLargeError` when the weights cannot be allocated on this machine.
    """
    analysis = analysis if analysis is not None else analyse(doc)
    code = generate(doc, analysis)
    check_fits(doc, analysis)  # before the allocator is asked for weights that cannot exist
    cls, filename = compile_source(code)
    module = cls()
    frozen = []
    for path in frozen_modules(doc, code):
        target = module.get_submodule(path) if "." in path or hasattr(module, path) else None
        if isinstance(target, nn.Module):
            frozen.append(path)
            for p in target.parameters():
                p.requires_grad_(False)
    for node_id, attr in code.param_attrs.items():
        if not doc.attr(node_id, "trainable"):
            getattr(module, attr).requires_grad_(False)
    return CompiledModel(module, code, analysis, filename, frozen)
