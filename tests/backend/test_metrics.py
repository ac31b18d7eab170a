"""The Meter queues batches and folds them into its sums: the results equal a direct computation."""

from __future__ import annotations

import math

import pytest
import torch

from backend.data.prepare import OutputTarget
from backend.training import metrics
from backend.training.metrics import Meter

CLASSES = OutputTarget("digit", "label", "index", tuple("0123456789"), metric="accuracy")
BINARY = OutputTarget("spam", "label", "value", None, threshold=0.0, metric="accuracy")
MAE = OutputTarget("price", "price", "value", scale=2.0, metric="mae")
R2 = OutputTarget("size", "size", "value", metric="r2")


def _batches(seed: int, steps: int, sizes=(7, 32, 1)):
    gen = torch.Generator().manual_seed(seed)
    for s in range(steps):
        n = sizes[s % len(sizes)]
        logits = torch.randn(n, 10, generator=gen)
        labels = torch.randint(0, 10, (n,), generator=gen)
        single = torch.randn(n, 1, generator=gen)
        bits = torch.randint(0, 2, (n,), generator=gen)
        value = torch.randn(n, 1, generator=gen)
        loss = torch.rand((), generator=gen)
        yield n, logits, labels, single, bits, value, loss


@pytest.mark.parametrize("steps", [1, metrics.FOLD_EVERY - 1, metrics.FOLD_EVERY,
                                   3 * metrics.FOLD_EVERY + 5])
@pytest.mark.parametrize("host_loss", [False, True])
def test_queued_sums_equal_the_direct_computation(steps, host_loss):
    meter = Meter([CLASSES, BINARY, MAE, R2], torch.device("cpu"))
    n_all = correct = correct_bin = loss_sum = abs_sum = 0.0
    r2_pred, r2_true = [], []
    for n, logits, labels, single, bits, value, loss in _batches(1, steps):
        meter.update(0, loss.item() if host_loss else loss, logits, labels, labels)
        meter.update(1, loss, single, bits.float(), bits)
        meter.update(2, loss, value, value * 0.5, None)
        meter.update(3, None, value, value.reshape(-1) + 1.0, None)  # (N,) targets, (N, 1) output
        n_all += n
        loss_sum += loss.item() * n
        correct += (logits.argmax(-1) == labels).sum().item()
        correct_bin += ((single[:, 0] > 0).long() == bits).sum().item()
        abs_sum += (value * 0.5).abs().sum().item()
        r2_pred.append(value.reshape(-1))
        r2_true.append(value.reshape(-1) + 1.0)
    res = meter.results()
    assert meter.samples == [n_all] * 4
    assert res["digit"]["loss"] == pytest.approx(loss_sum / n_all, rel=1e-6)
    assert res["digit"]["accuracy"] == pytest.approx(correct / n_all)
    assert res["spam"]["accuracy"] == pytest.approx(correct_bin / n_all)
    assert res["price"]["mae"] == pytest.approx(abs_sum / n_all * 2.0, rel=1e-6)
    p, t = torch.cat(r2_pred).double(), torch.cat(r2_true).double()
    ss_res = ((p - t) ** 2).sum().item()
    ss_tot = ((t - t.mean()) ** 2).sum().item()
    expected = 1 - ss_res / ss_tot if ss_tot > 0 else math.nan
    assert res["size"]["r2"] == pytest.approx(expected, rel=1e-6, nan_ok=True)


def test_the_sums_tensor_includes_queued_batches_and_reset_drops_them():
    meter = Meter([CLASSES], torch.device("cpu"))
    logits = torch.tensor([[0.0, 2.0] + [0.0] * 8, [3.0] + [0.0] * 9])
    labels = torch.tensor([1, 2])
    meter.update(0, torch.tensor(0.5), logits, labels, labels)
    assert meter.acc[0, metrics.LOSS].item() == pytest.approx(1.0)  # folded on read
    assert meter.acc[0, metrics.CORRECT].item() == 1.0
    meter.update(0, torch.tensor(9.0), logits, labels, labels)
    meter.reset()
    assert meter.snapshot() == [[0.0] * 6] and meter.samples == [0]


def test_large_predictions_are_folded_before_they_pile_up(monkeypatch):
    monkeypatch.setattr(metrics, "FOLD_ELEMENTS", 1000)
    meter = Meter([MAE], torch.device("cpu"))
    pred = torch.ones(100, 6)
    meter.update(0, None, pred, pred * 0, None)
    assert meter._values[0]  # 600 numbers: still queued
    meter.update(0, None, pred, pred * 0, None)
    assert not meter._values[0]  # 1,200 ≥ 1,000: folded at once
    assert meter.snapshot()[0][metrics.ABS] == 1200.0
