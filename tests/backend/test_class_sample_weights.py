"""Scenario 5: class weights ("balanced" or by hand) and a CSV sample-weight column feed the
Trainer's loss as normalised weighted means, sum(w·l) / sum(w)."""

import pytest
import torch
import torch.nn.functional as F

from backend.training.events import Finished
from backend.training.trainer import Trainer
from graph.sketch import Sketch


def _design(data):
    s = Sketch("Weighted")
    x = s.add("Input", shape=(2,), name="features")
    s.add("Output", s.add("Dense", x, units=3, name="head"), loss="cross_entropy",
          name="label")
    s.settings("data", **data)
    return s.doc


def _first_loss(doc, **training):
    """One full-batch step with lr 0: the reported train loss is the loss at the initial
    weights, which stay as they are, so it can be recomputed by hand."""
    cfg = {"epochs": 1, "batch_size": 0, "optimizer": "sgd", "lr": 0.0, "device": "cpu",
           "seed": 0, **training}
    trainer = Trainer(doc, config=cfg)
    assert isinstance(trainer.run(), Finished)
    data = trainer.train_data
    with torch.no_grad():
        per_sample = F.cross_entropy(trainer.module(*data.inputs), data.targets[0],
                                     reduction="none")
    return trainer.history[0]["train_loss"], per_sample, data


def _csv(tmp_path):
    rows = ["a,b,label,w"]
    gen = torch.Generator().manual_seed(0)
    for i in range(60):
        label = 0 if i < 40 else (1 if i < 52 else 2)  # imbalanced: 40 / 12 / 8
        a, b = torch.randn(2, generator=gen).tolist()
        rows.append(f"{a:.4f},{b:.4f},{label},{1.0 + (i % 3)}")
    path = tmp_path / "rows.csv"
    path.write_text("\n".join(rows) + "\n")
    return {"dataset": "csv", "path": str(path), "options": {"target": "label"},
            "validation_split": 0.0, "test_split": 0.0,
            "inputs": {"features": {"features": ["a", "b"]}}}


def test_balanced_class_weights(tmp_path):
    doc = _design(_csv(tmp_path))
    plain, per_sample, data = _first_loss(doc)
    assert plain == pytest.approx(float(per_sample.mean()), rel=1e-6)
    weighted, per_sample, data = _first_loss(doc, class_weights="balanced")
    labels = data.labels[0]
    counts = torch.bincount(labels, minlength=3).double()
    w = (len(labels) / (3 * counts))[labels]
    expected = float((per_sample.double() * w).sum() / w.sum())
    assert weighted == pytest.approx(expected, rel=1e-6)
    assert weighted != pytest.approx(plain, rel=1e-3)


def test_class_weights_by_hand(tmp_path):
    doc = _design(_csv(tmp_path))
    loss, per_sample, data = _first_loss(doc, class_weights=[1.0, 0.0, 3.0])
    w = torch.tensor([1.0, 0.0, 3.0])[data.labels[0]]
    assert loss == pytest.approx(float((per_sample * w).sum() / w.sum()), rel=1e-6)


def test_sample_weight_column_from_csv(tmp_path):
    data = _csv(tmp_path)
    data["sample_weight"] = "w"
    doc = _design(data)
    loss, per_sample, prepared = _first_loss(doc)
    w = prepared.weight
    assert w is not None and sorted(set(w.tolist())) == [1.0, 2.0, 3.0]
    assert loss == pytest.approx(float((per_sample * w).sum() / w.sum()), rel=1e-6)
    assert loss != pytest.approx(float(per_sample.mean()), rel=1e-4)
    both, per_sample, prepared = _first_loss(doc, class_weights="balanced")
    counts = torch.bincount(prepared.labels[0], minlength=3).double()
    cw = (len(counts.new_empty(60)) / (3 * counts))[prepared.labels[0]].float()
    ww = prepared.weight * cw
    assert both == pytest.approx(float((per_sample * ww).sum() / ww.sum()), rel=1e-5)
