"""Model import on code written the way people write it (`tests/backend/import_corpus.py`).

Each model imports, the design exports as a .py file, and that exported module with the
imported weights gives the original model's outputs (eval mode; training mode too, under one
seed, for the models that draw random numbers). Forwards torch.fx cannot trace give a message
with the file, the line and the kind of construct, never a traceback.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest
import torch

from backend.export.formats import export
from backend.importer.convert import ModelImportError, import_module
from tests.backend.import_corpus import CASES, UNTRACEABLE

ATOL = 1e-6


def _load_exported(path, class_name):
    spec = importlib.util.spec_from_file_location(f"exported_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, class_name)()


def _run(model, inputs, train, seed=0):
    model.train(train)
    torch.manual_seed(seed)
    with torch.no_grad():
        out = model(*inputs)
    return list(out) if isinstance(out, (tuple, list)) else [out]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_corpus_model_imports_exports_and_computes_the_same(case, tmp_path):
    torch.manual_seed(0)
    original = case.factory()
    for p in original.parameters():  # weights no initializer would give, BN statistics too
        p.data.uniform_(-0.5, 0.5)
    for name, b in original.named_buffers():
        if name.endswith("running_var"):
            b.uniform_(0.5, 1.5)
        elif name.endswith("running_mean"):
            b.uniform_(-0.5, 0.5)
    result = import_module(original, list(case.shapes),
                           input_dtypes=list(case.dtypes) or None)
    assert result.unsupported == [] and result.skipped == []
    assert result.max_difference is not None and result.max_difference <= ATOL
    assert original.training, "import must leave the module's mode as it found it"

    path = export(result.doc, "py", tmp_path / f"{case.name}.py")
    exported = _load_exported(path, result.doc.name)
    exported.load_state_dict(result.state_dict, strict=True)
    inputs = case.inputs(batch=4, seed=1)
    modes = (False, True) if case.random else (False,)
    for train in modes:
        want, got = _run(original, inputs, train), _run(exported, inputs, train)
        assert len(want) == len(got)
        for a, b in zip(want, got):
            assert a.shape == b.shape
            assert torch.allclose(a, b, atol=ATOL, rtol=0), (train, float((a - b).abs().max()))


@pytest.mark.parametrize("case", [c for c in CASES if c.blocks], ids=lambda c: c.name)
def test_submodules_keep_their_names_in_the_design(case):
    """The user's own submodule classes are flattened; their layers keep the attribute path."""
    torch.manual_seed(0)
    original = case.factory()
    result = import_module(original, list(case.shapes), input_dtypes=list(case.dtypes) or None)
    names = {n.name for n in result.doc.nodes()}
    paths = {path.replace(".", "_") for path, m in original.named_modules()
             if type(m).__name__ in case.blocks}
    assert paths and all(any(n.startswith(p + "_") for n in names) for p in paths)


@pytest.mark.parametrize("cls, shapes, kind", UNTRACEABLE, ids=lambda v: getattr(v, "__name__",
                                                                                  None))
def test_untraceable_forward_says_what_where_and_what_to_do(cls, shapes, kind):
    with pytest.raises(ModelImportError) as info:
        import_module(cls(), list(shapes))
    message = info.value.message
    source = sys.modules[cls.__module__].__file__
    line = cls.forward.__code__.co_firstlineno
    body = range(line, line + 12)
    assert "import_corpus.py:" in message
    at = int(message.split("import_corpus.py:")[1].split(" ")[0])
    assert at in body, message
    assert {"assert": "an assert on a tensor's size", "device": "a device check",
            "branch": "data-dependent branching", "loop": "a loop over a size"}[kind] in message
    assert "Traceback" not in message and source
