"""Targets that are not in the data set: an Input's own data (autoencoders) and zeros (a penalty
output such as a VAE's KL term), with clear messages when they cannot fit."""

from __future__ import annotations

import pytest
import torch

from backend.data.builtin import load_builtin
from backend.data.config import DataConfig
from backend.data.errors import DataMismatchError
from backend.data.prepare import InputSpec, OutputSpec, prepare_data

IMAGE = (InputSpec("image", (1, 8, 8)),)


def _prepare(targets, outputs, shapes, inputs=IMAGE):
    ds = load_builtin("digits")
    cfg = DataConfig.from_dict({"dataset": "digits", "validation_split": 0.2, "seed": 0,
                                "targets": targets})
    return prepare_data(ds, cfg, list(inputs), list(outputs), probe=lambda xs: list(shapes))


def test_the_input_is_the_target_and_zeros_take_the_output_shape():
    prepared = _prepare({"recon": {"source": "input"}, "kl": {"source": "zeros"}},
                        [OutputSpec("recon", "mse"), OutputSpec("kl", "mae", 0.01)],
                        [(64,), (1,)])
    recon, kl = prepared.outputs
    assert (recon.source, recon.target, recon.encoding, recon.metric) == \
        ("input", "input image", "value", "mae")
    assert (kl.source, kl.target, kl.metric) == ("zeros", "zeros", "mae")
    x, = prepared.train.inputs
    target, zeros = prepared.train.targets
    assert torch.equal(target, x.reshape(len(x), 64))  # reshaped to the output's shape
    assert zeros.shape == (len(x), 1) and not zeros.any()
    assert prepared.train.labels == [None, None]


@pytest.mark.parametrize("targets, outputs, shapes, inputs, fragment", [
    ({"y": {"source": "input"}}, [OutputSpec("y", "cross_entropy")], [(10,)],
     (InputSpec("image", (1, 8, 8)),), "holds values, not classes"),
    ({"y": {"source": "input"}}, [OutputSpec("y", "mse")], [(10,)],
     (InputSpec("image", (1, 8, 8)),), "reconstructs the input 'image'"),
    ({"y": {"source": "input"}}, [OutputSpec("y", "mse")], [(64,)],
     (InputSpec("a", (1, 8, 8)), InputSpec("b", (1, 8, 8))), "has 2 inputs"),
    ({"y": {"source": "input", "input": "c"}}, [OutputSpec("y", "mse")], [(64,)],
     (InputSpec("image", (1, 8, 8)),), "has no Input 'c'"),
])
def test_what_does_not_fit_is_said(targets, outputs, shapes, inputs, fragment):
    with pytest.raises(DataMismatchError) as info:
        _prepare(targets, outputs, shapes, inputs)
    assert fragment in str(info.value)


def test_the_source_is_checked():
    with pytest.raises(ValueError, match="targets.y.source"):
        DataConfig.from_dict({"dataset": "digits", "targets": {"y": {"source": "noise"}}})
