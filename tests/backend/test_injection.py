"""A project file can never make NetCanvas run its own code.

Hypothesis puts hostile names and string parameters into a project file. Either loading refuses
it with `ProjectFormatError`, or the generated source parses, passes the allow-list, compiles,
and a marker file that an injected payload would create never appears.
"""

from __future__ import annotations

import ast
import keyword
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.model.allowlist import UnsafeSourceError, check_source
from backend.model.codegen import CompileError
from backend.model.compiler import compile_document
from graph.errors import ProjectFormatError
from graph.project import from_dict


def _payloads(marker: str) -> list[str]:
    return [
        f"__import__('os').system('touch {marker}')",
        f"x\nimport os; os.system('touch {marker}')\n",
        f"x'); open('{marker}', 'w'); ('",
        f'x"""\nopen("{marker}", "w")\n"""',
        f"relu\nopen({marker!r}, 'w')",
        "__class__", "__init__", "__builtins__", "self", "torch", "nn", "F", "eval", "exec",
        "open", "print", "lambda", "None", "True", "_", "train", "forward", "parameters",
        "ｆｏｒｗａｒｄ", "x\u200b", "naïve", "a b", "", "0abc", "x" * 70, "relu", "same", "valid",
    ]


def _names(marker: str):
    return st.one_of(st.sampled_from(_payloads(marker)), st.sampled_from(keyword.kwlist),
                     st.text(max_size=20),
                     st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True))


def _project(model, names, activation, loss, dtype, shape):
    return {
        "format": "netcanvas-project", "version": 1, "name": model, "description": names[0],
        "nodes": [
            {"id": "n1", "type": "Input", "name": names[0],
             "params": {"shape": shape, "dtype": dtype}},
            {"id": "n2", "type": "Dense", "name": names[1],
             "params": {"units": 3, "activation": activation}},
            {"id": "n3", "type": "Output", "name": names[2], "params": {"loss": loss}},
        ],
        "edges": [{"src": ["n1", 0], "dst": ["n2", 0]}, {"src": ["n2", 0], "dst": ["n3", 0]}],
        "training": {"note": names[1]},
    }


def test_hostile_project_files_are_refused_or_emitted_safely():
    with tempfile.TemporaryDirectory() as tmp:
        marker = str(Path(tmp) / "PWNED")
        names = _names(marker)
        outcomes = {"refused": 0, "compiled": 0, "invalid design": 0}

        valid_name = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
        fields = ("name0", "name1", "name2", "activation", "loss", "dtype", "shape")

        @settings(max_examples=1000, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow])
        @given(target=st.sampled_from(fields), hostile=names, model=names,
               valid=st.lists(valid_name, min_size=3, max_size=3, unique=True),
               hostile_shape=st.lists(st.one_of(st.integers(-2, 9), names), max_size=3))
        def check(target, hostile, model, valid, hostile_shape):
            """Every example injects into one field (and always into the model name)."""
            node_names = [hostile if target == f"name{i}" else valid[i] for i in range(3)]
            obj = _project(model, node_names,
                           hostile if target == "activation" else "relu",
                           hostile if target == "loss" else "mse",
                           hostile if target == "dtype" else "float32",
                           hostile_shape if target == "shape" else [4])
            try:
                doc = from_dict(obj)
            except ProjectFormatError:
                outcomes["refused"] += 1
                return
            try:
                compiled = compile_document(doc)
            except CompileError:
                outcomes["invalid design"] += 1
                return
            source = compiled.code.source
            ast.parse(source)
            check_source(source, compiled.code.class_name)
            outcomes["compiled"] += 1
            assert not Path(marker).exists()

        check()
        assert not Path(marker).exists()
        assert outcomes["refused"] >= 100 and outcomes["compiled"] >= 100, outcomes


@pytest.mark.parametrize("source", [
    "import os\nclass M(nn.Module):\n    pass\n",
    "import torch\nclass M(nn.Module):\n    def forward(self, x):\n        return eval('1')\n",
    "import torch\nclass M(nn.Module):\n    def forward(self, x):\n        return torch.os.getcwd()\n",
    "import torch\nclass M(nn.Module):\n    def forward(self, x):\n"
    "        return x.__class__\n",
    "import torch\nclass M(nn.Module):\n    def forward(self, x):\n        return 'rm -rf'\n",
    "import torch\nclass M(nn.Module):\n    def forward(self, x):\n"
    "        return [y for y in x]\n",
    "import torch\nclass M(nn.Module):\n    def forward(self, x):\n        while x:\n"
    "            pass\n",
    "import torch\nclass M(nn.Module):\n    def __init__(self):\n        self.train = 1\n",
    "import torch\nclass M(nn.Module):\n    pass\nclass N(nn.Module):\n    pass\n",
    "import torch\nclass M(nn.Module):\n    @staticmethod\n    def forward(x):\n"
    "        return x\n",
    "import torch\nprint(1)\nclass M(nn.Module):\n    pass\n",
])
def test_allow_list_refuses(source):
    with pytest.raises(UnsafeSourceError):
        check_source(source, "M")
