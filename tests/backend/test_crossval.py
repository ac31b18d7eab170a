"""k-fold cross-validation: three scores with mean ± std, stratified folds that cover the
training pool once, the test split kept out, and the stop flag."""

import math

import pytest
import torch

from backend.data.config import DataConfig
from backend.data.load import load_dataset
from backend.training.control import Control
from backend.training.events import EpochEnd
from backend.workflows.crossval import CVResult, FoldEvent, FoldScore, crossval, fold_splits
from graph.sketch import Sketch


def _iris_mlp(epochs=15):
    s = Sketch("IrisMLP")
    x = s.add("Input", shape=(4,), name="features")
    h = s.add("Dense", x, units=16, activation="relu")
    s.add("Output", s.add("Dense", h, units=3), loss="cross_entropy", name="species")
    s.settings("data", dataset="iris", test_split=0.2, seed=0)
    s.settings("training", epochs=epochs, batch_size=16, optimizer="adam", lr=0.01,
               device="cpu", threads=1)
    return s.doc


def test_three_folds_report_three_scores_with_mean_and_std():
    events = []
    result = crossval(_iris_mlp(), folds=3, callback=events.append)
    print("iris 3-fold:", result.summary())
    assert result.metric == "accuracy" and len(result.scores) == 3
    assert all(0.7 <= s <= 1.0 for s in result.scores)
    assert result.mean == pytest.approx(sum(result.scores) / 3)
    assert result.std == pytest.approx(float(torch.tensor(result.scores).std(unbiased=False)))
    folds_seen = {e.fold for e in events if isinstance(e, FoldEvent)
                  and isinstance(e.event, EpochEnd)}
    assert folds_seen == {1, 2, 3}
    assert "± " in result.summary()


def test_folds_partition_the_pool_stratified_and_keep_the_test_split_out():
    cfg = DataConfig.from_dict({"dataset": "iris", "test_split": 0.2, "seed": 0})
    ds = load_dataset(cfg)
    splits = fold_splits(ds, cfg, 4)
    test = set(splits[0].test.tolist())
    assert len(test) == 30 and all(set(s.test.tolist()) == test for s in splits)
    held = torch.cat([s.validation for s in splits]).tolist()
    assert len(held) == len(set(held)) == 120 and not test & set(held)
    for s in splits:
        assert not set(s.train.tolist()) & set(s.validation.tolist())
        counts = torch.bincount(ds.targets["target"].values[s.validation], minlength=3)
        assert counts.max() - counts.min() <= 1  # stratified: 10 per class, give or take one


def test_loss_metric_and_bad_fold_counts():
    result = crossval(_iris_mlp(epochs=3), folds=2, metric="loss")
    assert result.metric == "loss" and all(math.isfinite(s) for s in result.scores)
    with pytest.raises(ValueError, match="2 to 10 folds"):
        crossval(_iris_mlp(), folds=1)


def test_stop_flag_keeps_the_finished_folds():
    control = Control()

    def stop_in_fold_2(e):
        if e.fold == 2 and isinstance(e.event, EpochEnd):
            control.stop()

    result = crossval(_iris_mlp(epochs=3), folds=3, callback=stop_in_fold_2, control=control)
    assert result.stopped and len(result.folds) == 1


def test_empty_result_is_nan():
    empty = CVResult("accuracy", [])
    assert math.isnan(empty.mean) and math.isnan(empty.std)
    one = CVResult("loss", [FoldScore(1, 0.5, {})])
    assert one.mean == 0.5 and one.std == 0.0
