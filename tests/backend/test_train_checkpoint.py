"""Checkpoints: a stopped run resumed from disk reproduces the uninterrupted loss trace."""

import json

import pytest
import torch
from torch import nn

from backend.data.config import DataConfig
from backend.data.prepare import OutputSpec
from backend.training.checkpoints import CheckpointError, load_checkpoint
from backend.training.config import TrainConfig
from backend.training.control import Control
from backend.training.events import BatchEnd, EpochEnd
from backend.training.trainer import Trainer

IRIS = DataConfig.from_dict({"dataset": "iris", "validation_split": 0.2, "seed": 1})
CONFIG = {"epochs": 3, "batch_size": 16, "optimizer": "sgd", "lr": 0.1, "momentum": 0.9,
          "report_every": 1, "report_seconds": 0, "seed": 5, "schedule": "cosine"}


def _trainer():
    torch.manual_seed(123)  # the module's own initial weights: replaced when resuming
    module = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))
    return Trainer(module, IRIS, CONFIG, inputs=["x"], outputs=[OutputSpec("y", "cross_entropy")])


def _trace(events):
    return ([(e.step, e.losses["y"]) for e in events if isinstance(e, BatchEnd)],
            [(e.epoch, e.train_loss, e.validation_loss) for e in events
             if isinstance(e, EpochEnd)])


def test_resume_reproduces_the_uninterrupted_run(tmp_path):
    full = []
    reference = _trainer()
    reference.run(full.append)

    control = Control()
    first = []

    def stop_mid_epoch(event):
        first.append(event)
        if isinstance(event, BatchEnd) and event.step == 11:  # 8 steps per epoch
            control.stop()

    interrupted = _trainer()
    assert interrupted.run(stop_mid_epoch, control).reason == "stopped"
    interrupted.save_checkpoint(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} >= {"weights.safetensors",
                                                     "optimizer.safetensors", "trainer.json"}
    second = []
    resumed = _trainer().resume_from(tmp_path)
    result = resumed.run(second.append)
    assert result.reason == "completed" and result.steps == 24

    batches, epochs = _trace(full)
    batches_a, epochs_a = _trace(first)
    batches_b, epochs_b = _trace(second)
    assert batches_a + batches_b == batches
    assert epochs_a + epochs_b == epochs
    for key, value in reference.module.state_dict().items():
        assert torch.equal(value, resumed.module.state_dict()[key])


def test_checkpoint_files_are_safetensors_and_json(tmp_path):
    trainer = _trainer()
    trainer.run()
    trainer.save_checkpoint(tmp_path)
    meta = json.loads((tmp_path / "trainer.json").read_text())
    assert meta["format"] == "netcanvas-checkpoint" and meta["epoch"] == 3
    ckpt = load_checkpoint(tmp_path)
    assert set(ckpt.weights) == set(trainer.module.state_dict())
    assert any(k.endswith("momentum_buffer") for s in ckpt.optimizer["state"].values() for k in s)


def test_resume_from_a_folder_that_is_not_a_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="not a NetCanvas checkpoint"):
        _trainer().resume_from(tmp_path)


def test_train_config_round_trip_and_errors():
    raw = {"epochs": 7, "optimizer": "SGD", "momentum": 0.9, "nesterov": True,
           "schedule": {"kind": "step", "step_size": 3, "warmup_epochs": 1}, "mystery": True}
    cfg = TrainConfig.from_dict(raw)
    assert cfg.optimizer == "sgd" and cfg.schedule.step_size == 3 and cfg.extra == {
        "mystery": True}
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    for bad, key in [({"epochs": 0}, "epochs"), ({"optimizer": "lion"}, "optimizer"),
                     ({"schedule": {"kind": "zigzag"}}, "schedule.kind"),
                     ({"class_weights": "heavy"}, "class_weights"),
                     ({"amp": "yes"}, "amp"), ({"lr": float("nan")}, "lr")]:
        with pytest.raises(ValueError, match=f"'{key}'"):
            TrainConfig.from_dict(bad)
    with pytest.raises(ValueError, match="nesterov"):
        TrainConfig.from_dict({"nesterov": True})
