"""Mapping data onto a design: feature columns per Input, targets per Output, mismatches."""

import pytest
import torch

from backend.data.builtin import load_builtin
from backend.data.config import DataConfig
from backend.data.errors import DataMismatchError
from backend.data.prepare import InputSpec, OutputSpec, prepare_data


def _probe(units):
    return lambda xs: [(u,) for u in units]


def test_wide_and_deep_takes_overlapping_columns_and_shares_the_target():
    ds = load_builtin("diabetes")
    cfg = DataConfig.from_dict({
        "dataset": "diabetes", "validation_split": 0.2, "test_split": 0.1,
        "inputs": {"a": {"features": [0, 1, 2, 3, 4]}, "b": {"features": [2, 3, 4, 5, 6, "s3"]}},
    })
    data = prepare_data(ds, cfg, [InputSpec("a", (5,)), InputSpec("b", (6,))],
                        [OutputSpec("main"), OutputSpec("aux")], probe=_probe([1, 1]))
    a, b = data.train.inputs
    assert a.shape[1] == 5 and b.shape[1] == 6
    assert torch.equal(a[:, 2:5], b[:, 0:3])  # the overlapping columns are the same data
    assert torch.equal(data.train.targets[0], data.train.targets[1])
    assert data.outputs[0].metric == "mae" and data.outputs[0].scale > 1
    assert abs(float(data.train.targets[0].mean())) < 1e-5  # standardised on the train split


def test_feature_count_mismatch_is_explained():
    ds = load_builtin("iris")
    with pytest.raises(DataMismatchError) as info:
        prepare_data(ds, DataConfig(), [InputSpec("x", (3,))], [OutputSpec("y", "cross_entropy")])
    message = str(info.value)
    assert "Input 'x' expects shape (3,) (3 values) per sample" in message
    assert "4 features" in message and "Set the Input's shape to [4]" in message


def test_class_count_mismatch_is_explained():
    ds = load_builtin("digits_flat")
    with pytest.raises(DataMismatchError, match="has 3 unit.*10 classes.*Give the layer"):
        prepare_data(ds, DataConfig(), [InputSpec("x", (64,))],
                     [OutputSpec("y", "cross_entropy")], probe=_probe([3]))


def test_classification_loss_on_regression_target_is_explained():
    ds = load_builtin("diabetes")
    with pytest.raises(DataMismatchError, match="holds continuous values. Use the MSE"):
        prepare_data(ds, DataConfig(), [InputSpec("x", (10,))],
                     [OutputSpec("y", "cross_entropy")], probe=_probe([1]))


def test_images_reshape_to_a_flat_input_and_onehot_for_mse():
    ds = load_builtin("digits")
    data = prepare_data(ds, DataConfig(), [InputSpec("x", (64,))], [OutputSpec("y", "mse")],
                        probe=_probe([10]))
    assert data.train.inputs[0].shape[1:] == (64,)
    assert data.outputs[0].encoding == "onehot" and data.outputs[0].metric == "accuracy"
    assert data.train.targets[0].shape[1] == 10
    assert any("reshaped" in note for note in data.notes)


def test_pm1_truth_table_gets_a_sign_threshold():
    ds = load_builtin("or", {"targets": "pm1"})
    cfg = DataConfig.from_dict({"dataset": "or", "options": {"targets": "pm1"}})
    data = prepare_data(ds, cfg, [InputSpec("x", (2,))], [OutputSpec("y", "mse", metric="accuracy")],
                        probe=_probe([1]))
    info = data.outputs[0]
    assert len(data.train) == 4 and info.threshold == 0.0
    assert data.train.labels[0].tolist() == [0, 1, 1, 1]


def test_several_inputs_need_a_mapping():
    with pytest.raises(DataMismatchError, match="say which feature columns feed each one"):
        prepare_data(load_builtin("iris"), DataConfig(), [InputSpec("a"), InputSpec("b")],
                     [OutputSpec("y", "cross_entropy")])
