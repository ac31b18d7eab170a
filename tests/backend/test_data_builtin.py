"""Built-in data sets load offline; the data settings validate and round-trip."""

import pytest
import torch

from backend.data.builtin import load_builtin
from backend.data.config import BUILTIN, DataConfig
from backend.data.split import split_indices


@pytest.mark.parametrize("name", BUILTIN)
def test_every_builtin_set_loads_offline(name):
    ds = load_builtin(name)
    assert len(ds) >= 4
    assert ds.x.dtype == torch.float32 and torch.isfinite(ds.x).all()
    target = ds.target(None)
    assert len(target.values) == len(ds)
    if target.is_classes:
        assert target.values.dtype == torch.long
        assert int(target.values.max()) < target.num_classes


def test_shapes_of_image_and_sequence_sets():
    assert load_builtin("digits").sample_shape == (1, 8, 8)
    assert load_builtin("digits_flat").sample_shape == (64,)
    assert load_builtin("sequences").sample_shape == (20, 1)
    assert float(load_builtin("digits").x.max()) == 1.0


def test_truth_table_pm1_targets():
    ds = load_builtin("or", {"targets": "pm1"})
    assert ds.target(None).values.tolist() == [-1.0, 1.0, 1.0, 1.0]
    assert not ds.target(None).is_classes
    assert load_builtin("xor").target(None).values.tolist() == [0, 1, 1, 0]


def test_stratified_split_keeps_class_proportions():
    ds = load_builtin("iris")
    s = split_indices(ds, 0.2, 0.2, seed=3)
    assert len(s.train) + len(s.validation) + len(s.test) == 150
    assert set(s.train.tolist()).isdisjoint(s.validation.tolist())
    for part in (s.validation, s.test):
        counts = torch.bincount(ds.target(None).values[part], minlength=3)
        assert counts.tolist() == [10, 10, 10]
    again = split_indices(ds, 0.2, 0.2, seed=3)
    assert torch.equal(s.train, again.train)


def test_data_config_round_trip_keeps_unknown_keys():
    raw = {"dataset": "diabetes", "validation_split": 0.2, "seed": 4,
           "inputs": {"a": {"features": [0, "bmi"]}}, "future_key": [1, 2]}
    cfg = DataConfig.from_dict(raw)
    assert cfg.extra == {"future_key": [1, 2]}
    again = DataConfig.from_dict(cfg.to_dict())
    assert again == cfg


@pytest.mark.parametrize("raw, key", [
    ({"dataset": "nope"}, "dataset"),
    ({"validation_split": 1.5}, "validation_split"),
    ({"validation_split": 0.6, "test_split": 0.5}, "validation_split + test_split"),
    ({"targets": {"y": {"encoding": "fancy"}}}, "targets.y.encoding"),
    ({"dataset": "csv"}, "path"),
    ({"augment": {"shift": -1}}, "augment.shift"),
    ({"augment": {"rotate": 200}}, "augment.rotate"),
    ({"augment": {"turn": 5}}, "augment.turn"),
])
def test_bad_data_settings_name_the_key(raw, key):
    with pytest.raises(ValueError, match=key.replace("+", r"\+")):
        DataConfig.from_dict(raw)
