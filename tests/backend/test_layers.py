"""Every catalogue layer, over a grid of parameter values: the shapes inferred on the meta device
equal what the generated (allow-listed) module produces on real CPU tensors, in train and eval
mode, with PyTorch's and with Keras's initializer defaults; the generated code passes ruff."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from backend.model.codegen import generate
from backend.model.compiler import compile_document
from backend.model.layers import planned_types
from backend.model.shapes import analyse
from graph.catalogue import CATALOGUE
from graph.edits import SetSection
from tests.backend.designs import ROOT
from tests.backend.layer_cases import CASES, case_design, case_id

BATCH = 5


def _inputs(compiled, gen):
    tensors = []
    for node_id in compiled.code.input_ids:
        info = compiled.analysis.nodes[node_id]
        dims = (BATCH, *info.output_shapes[0][1:])
        if info.dtypes[0] == "int64":
            tensors.append(torch.randint(0, 2, dims, generator=gen))
        else:
            tensors.append(torch.randn(dims, generator=gen).abs() + 0.1)
    return tensors


def test_every_catalogue_layer_has_a_plan_and_a_case():
    typed = set(CATALOGUE) - {"Input", "Output"}
    assert typed == planned_types()
    assert typed <= {c[0] for c in CASES}


@pytest.mark.parametrize("defaults", ["pytorch", "keras"])
def test_meta_shapes_equal_a_real_run(defaults):
    failures = []
    for i, case in enumerate(CASES):
        doc = case_design(case)
        doc.apply(SetSection("model", {"initializers": defaults}))
        analysis = analyse(doc)
        if not analysis.ok:
            failures.append((case_id(case), [e.message for e in analysis.errors]))
            continue
        torch.manual_seed(i)
        compiled = compile_document(doc, analysis)
        gen = torch.Generator().manual_seed(i)
        xs = _inputs(compiled, gen)
        want = [(BATCH, *analysis.nodes[o].output_shapes[0][1:]) for o in compiled.code.output_ids]
        for mode in ("train", "eval"):
            module = compiled.module.train(mode == "train")
            with torch.no_grad():
                out = module(*xs)
            out = out if isinstance(out, tuple) else (out,)
            got = [tuple(t.shape) for t in out]
            if got != want:
                failures.append((case_id(case), mode, got, want))
    assert not failures, failures[:10]


def test_generated_code_of_every_case_passes_ruff(tmp_path):
    for i, case in enumerate(CASES):
        for defaults in ("pytorch", "keras"):
            doc = case_design(case)
            doc.apply(SetSection("model", {"initializers": defaults}))
            (tmp_path / f"case_{i}_{defaults}.py").write_text(generate(doc).source)
    for extra in (["--isolated"], ["--isolated", "--select", "E,F,W,I,B,UP", "--ignore", "E501"]):
        proc = subprocess.run([sys.executable, "-m", "ruff", "check", *extra, str(tmp_path)],
                              capture_output=True, text=True, cwd=ROOT)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
