"""The gallery's real networks (issue 10): each trains offline on built-in data, learns, and
exports a module that computes what the trained one computes."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest
import torch

from backend.export.formats import export
from backend.export.script import export_training_script
from backend.training.events import EpochEnd, Finished
from backend.training.trainer import Trainer
from graph.edits import SetSection
from graph.examples import list_examples, load_example
from tests.backend.test_script_export import ENV

NEW = ["lenet5", "resnet_small", "unet_autoencoder", "vae_digits", "transformer_sequences",
       "bilstm_sequences", "resnet_blocks_digits", "transformer_blocks"]


def _doc(name, **training):
    doc = load_example(name)
    section = doc.section("training")
    section.update(device="cpu", threads=1, **training)
    doc.apply(SetSection("training", section))
    return doc


def test_the_gallery_lists_them():
    names = [e.name for e in list_examples()]
    assert set(NEW) <= set(names)
    for info in list_examples():
        if info.name in NEW:
            assert info.title and len(info.description) > 60


@pytest.mark.parametrize("name", NEW)
def test_trains_briefly_and_exports_what_it_trained(name, tmp_path):
    doc = _doc(name, epochs=2)
    events = []
    trainer = Trainer(doc)
    result = trainer.run(events.append)
    assert isinstance(result, Finished), getattr(result, "message", result)
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert len(epochs) == 2 and epochs[1].train_loss < epochs[0].train_loss
    assert all(torch.isfinite(torch.tensor(e.validation_loss)) for e in epochs)
    path = export(doc, "py", tmp_path / f"{name}.py")
    spec = importlib.util.spec_from_file_location(name, path)
    module_file = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module_file)
    exported = getattr(module_file, doc.name)()
    exported.load_state_dict(trainer.module.state_dict())
    exported.eval()
    trained = trainer.module.eval()
    inputs = [t[:8] for t in trainer.validation_data.inputs]
    with torch.no_grad():
        want, got = trained(*inputs), exported(*inputs)
    want = want if isinstance(want, tuple) else (want,)
    got = got if isinstance(got, tuple) else (got,)
    for a, b in zip(want, got, strict=True):
        assert torch.allclose(a, b, atol=1e-6)


def test_autoencoder_script_reproduces_the_app(tmp_path):
    """The target is the input: the exported train.py prepares the data with the runtime's
    own code (targets from an Input included) and follows the in-app loss trace."""
    doc = _doc("unet_autoencoder", epochs=2)
    export_training_script(doc, tmp_path)
    trainer = Trainer(doc)
    assert isinstance(trainer.run(), Finished)
    app = [(h["train_loss"], h["validation_loss"]) for h in trainer.history]
    proc = subprocess.run([sys.executable, "train.py", "--out", "run"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300, env=ENV)
    assert proc.returncode == 0, proc.stderr[-3000:]
    history = json.loads((tmp_path / "run" / "history.json").read_text())["epochs"]
    script = [(h["train_loss"], h["validation_loss"]) for h in history]
    assert len(app) == len(script) == 2
    assert max(max(abs(a[0] - b[0]), abs(a[1] - b[1])) for a, b in zip(app, script)) <= 1e-6
