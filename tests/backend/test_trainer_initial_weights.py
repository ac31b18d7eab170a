"""The Trainer starts from given weights by name (fine-tuning, transfer) and says what it did."""

import torch

from backend.model.compiler import compile_document
from backend.training.trainer import Trainer
from graph import SetParams
from graph.examples import load_example

FROZEN_LR = {"epochs": 1, "optimizer": "sgd", "lr": 0.0, "device": "cpu", "seed": 3}


def _weights(doc, seed):
    torch.manual_seed(seed)
    return {k: v.clone() for k, v in compile_document(doc).module.state_dict().items()}


def test_run_starts_from_the_given_weights():
    doc = load_example("xor_mlp")
    start = _weights(doc, 123)
    notes = []
    trainer = Trainer(doc, config=FROZEN_LR, initial_weights=start)
    result = trainer.run(lambda ev: notes.extend(getattr(ev, "notes", ())))
    assert type(result).__name__ == "Finished"
    for name, tensor in trainer.module.state_dict().items():
        assert torch.equal(tensor, start[name]), name  # lr 0: still exactly the given weights
    assert any("started from the current weights (4 tensors)" in n for n in notes)


def test_without_initial_weights_the_initializers_apply():
    doc = load_example("xor_mlp")
    start = _weights(doc, 123)
    trainer = Trainer(doc, config=FROZEN_LR)
    trainer.run()
    assert not torch.equal(trainer.module.state_dict()["hidden.weight"], start["hidden.weight"])


def test_resized_layers_start_fresh_and_are_named():
    doc = load_example("xor_mlp")
    start = _weights(doc, 5)
    doc.apply(SetParams(doc.find("hidden"), {"units": 8}))  # hidden and unit change shape
    notes = []
    trainer = Trainer(doc, config=FROZEN_LR, initial_weights=start)
    trainer.run(lambda ev: notes.extend(getattr(ev, "notes", ())))
    note = next(n for n in notes if "current weights" in n)
    assert "start fresh" in note and "hidden" in note and "unit" in note
