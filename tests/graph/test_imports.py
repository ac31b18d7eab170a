"""Dependencies point one way: builder -> backend -> graph."""

import subprocess
import sys

import pytest


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\nprint(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_graph_imports_neither_torch_nor_qt():
    mods = _modules_after("import graph, graph.project, graph.layout, graph.recovery, "
                          "graph.clipboard, graph.examples")
    assert "networkx" in mods
    assert not {m for m in mods if m.split(".")[0] in {"torch", "PySide6", "pyqtgraph"}}


@pytest.mark.parametrize("module", ["backend", "backend.cli"])
def test_backend_imports_no_qt(module):
    mods = _modules_after(f"import {module}")
    assert not {m for m in mods if m.split(".")[0] in {"PySide6", "pyqtgraph", "builder"}}


def test_cli_help_does_not_import_torch_or_qt():
    mods = _modules_after("import backend.cli as c\nc._parser()")
    assert not {m for m in mods if m.split(".")[0] in {"torch", "PySide6"}}
