"""Run control and failure behaviour: stop, pause/resume from another thread, NaN, errors."""

import threading

import pytest
import torch
from torch import nn

from backend.data.config import DataConfig
from backend.training.control import Control
from backend.training.events import BatchEnd, EpochEnd, Failed, Finished, Paused, Resumed, Warned
from backend.training.trainer import Trainer
from graph import Sketch

IRIS = DataConfig.from_dict({"dataset": "iris", "validation_split": 0.2})


def _iris_trainer(module=None, **training):
    module = module or nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    config = {"epochs": 5, "batch_size": 10, "optimizer": "sgd", "lr": 0.1, "report_every": 1,
              "report_seconds": 0}
    config.update(training)
    return Trainer(module, IRIS, config, inputs=["x"],
                   outputs=[_out("y", "cross_entropy")])


def _out(name, loss, **kw):
    from backend.data.prepare import OutputSpec

    return OutputSpec(name, loss, **kw)


def test_stop_from_the_callback_ends_within_one_batch():
    control = Control()
    events = []

    def callback(event):
        events.append(event)
        if isinstance(event, BatchEnd) and event.step == 3:
            control.stop()

    result = _iris_trainer().run(callback, control)
    assert isinstance(result, Finished) and result.reason == "stopped"
    assert result.steps == 3
    assert [e.step for e in events if isinstance(e, BatchEnd)] == [1, 2, 3]


def test_pause_and_resume_from_another_thread():
    control = Control()
    paused = threading.Event()
    events = []

    def callback(event):
        events.append(event)
        if isinstance(event, BatchEnd) and event.step == 2:
            control.pause()
        if isinstance(event, Paused):
            paused.set()

    trainer = _iris_trainer(epochs=2)
    worker = threading.Thread(target=lambda: events.append(trainer.run(callback, control)))
    worker.start()
    assert paused.wait(30), "the run never paused"
    steps_when_paused = [e.step for e in events if isinstance(e, BatchEnd)]
    assert steps_when_paused == [1, 2] and worker.is_alive()
    control.resume()
    worker.join(30)
    assert not worker.is_alive()
    kinds = [type(e) for e in events]
    assert kinds.index(Paused) < kinds.index(Resumed)
    assert isinstance(events[-1], Finished) and events[-1].reason == "completed"
    assert events[-1].steps == 2 * 12  # 120 training rows / batch 10, two epochs


def test_stop_while_paused_ends_the_run():
    control = Control()
    paused = threading.Event()

    def callback(event):
        if isinstance(event, BatchEnd) and event.step == 1:
            control.pause()
        if isinstance(event, Paused):
            paused.set()

    results = []
    worker = threading.Thread(target=lambda: results.append(_iris_trainer().run(callback,
                                                                                control)))
    worker.start()
    assert paused.wait(30)
    control.stop()
    worker.join(30)
    assert results[0].reason == "stopped" and results[0].steps == 1


class _Poisoned(nn.Module):
    """Returns NaN from the forward pass number ``at`` on (counting training calls)."""

    def __init__(self, at):
        super().__init__()
        self.layer = nn.Linear(4, 3)
        self.calls = 0
        self.at = at

    def forward(self, x):
        out = self.layer(x)
        if self.training:
            self.calls += 1
            if self.calls >= self.at:
                out = out * float("nan")
        return out


def test_nan_loss_stops_within_one_step_and_keeps_the_last_good_weights():
    module = _Poisoned(at=4)
    weights = []
    events = []

    def callback(event):
        events.append(event)
        if isinstance(event, BatchEnd):
            weights.append({k: v.clone() for k, v in module.state_dict().items()})

    result = _iris_trainer(module).run(callback)
    assert isinstance(result, Failed)
    assert "NaN or infinite" in result.message and "batch 4" in result.message
    assert "Lower the learning rate" in result.message
    assert [e.step for e in events if isinstance(e, BatchEnd)] == [1, 2, 3]
    for key, value in module.state_dict().items():
        assert torch.isfinite(value).all()
        assert torch.equal(value, weights[-1][key])  # the weights after step 3: untouched


class _Broken(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(4, 3)

    def forward(self, x):
        if self.training:
            raise RuntimeError("shape trouble inside the model")
        return self.layer(x)


def test_an_exception_inside_the_model_becomes_a_failed_event():
    events = []
    result = _iris_trainer(_Broken()).run(events.append)
    assert isinstance(result, Failed) and events[-1] is result
    assert "shape trouble inside the model" in result.message
    assert "epoch 1, batch 1" in result.message
    assert "Traceback" in result.detail


def test_sign_layer_warns_and_refuses_to_train_nothing():
    s = Sketch("Threshold")
    x = s.add("Input", shape=(2,), name="x")
    s.add("Output", s.add("Sign", s.add("Dense", x, units=1)), loss="mse", name="y")
    s.settings("data", dataset="or", options={"targets": "pm1"})
    events = []
    result = Trainer(s.doc, config={"epochs": 5, "batch_size": 0}).run(events.append)
    warning = next(e for e in events if isinstance(e, Warned))
    assert "Sign layer" in warning.message and "zero gradient" in warning.message
    assert isinstance(result, Failed) and "gradient is zero everywhere" in result.message


def test_data_mismatch_is_a_failed_event_before_training():
    s = Sketch("Wrong")
    x = s.add("Input", shape=(3,), name="x")
    s.add("Output", s.add("Dense", x, units=3), loss="cross_entropy", name="y")
    s.settings("data", dataset="iris")
    events = []
    result = Trainer(s.doc).run(events.append)
    assert isinstance(result, Failed) and "expects shape (3,)" in result.message
    assert not any(isinstance(e, BatchEnd) for e in events)


def test_frozen_layers_are_not_trained():
    s = Sketch("Frozen")
    x = s.add("Input", shape=(4,), name="x")
    h = s.add("Dense", x, units=8, activation="relu", name="base", trainable=False)
    s.add("Output", s.add("Dense", h, units=3, name="head"), loss="cross_entropy", name="y")
    s.settings("data", dataset="iris")
    trainer = Trainer(s.doc, config={"epochs": 3, "optimizer": "adam", "lr": 0.01})
    trainer.prepare()
    before = {k: v.clone() for k, v in trainer.module.state_dict().items()}
    assert isinstance(trainer.run(), Finished)
    after = trainer.module.state_dict()
    frozen = [k for k in before if k.startswith("base")]
    assert frozen and all(torch.equal(before[k], after[k]) for k in frozen)
    assert not torch.equal(before["head.weight"], after["head.weight"])
    assert sum(len(g["params"]) for g in trainer.optimizer.param_groups) == 2


def test_early_stopping_restores_the_best_weights():
    events = []
    trainer = _iris_trainer(epochs=200, lr=2.0, early_stopping_patience=2,
                            optimizer="sgd", momentum=0.9)
    result = trainer.run(events.append)
    assert result.reason == "early stopping" and result.best_epoch is not None
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert len(epochs) == result.best_epoch + 2
    best = epochs[result.best_epoch - 1].validation["y"]["loss"]
    assert trainer.evaluate("validation")["y"]["loss"] == pytest.approx(best, rel=1e-5)


@pytest.mark.parametrize("training", [
    {"class_weights": "balanced"},
    {"class_weights": [1.0, 2.0, 3.0], "clip_grad_norm": 1.0},
    {"optimizer": "sgd", "momentum": 0.9, "nesterov": True, "schedule": "cosine"},
    {"optimizer": "rmsprop", "schedule": {"kind": "step", "step_size": 1, "gamma": 0.5}},
    {"optimizer": "adagrad", "schedule": {"kind": "exponential", "gamma": 0.9}},
    {"optimizer": "adamw", "weight_decay": 0.01,
     "schedule": {"kind": "plateau", "warmup_epochs": 2, "patience": 0}},
])
def test_optimizers_schedules_and_weights_train(training):
    events = []
    result = _iris_trainer(**training, epochs=4, lr=0.05).run(events.append)
    assert isinstance(result, Finished), getattr(result, "message", "")
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert epochs[-1].train_loss < epochs[0].train_loss * 1.05
    if training.get("schedule") == "cosine":
        assert epochs[-1].lr < epochs[0].lr
    if isinstance(training.get("schedule"), dict) and training["schedule"].get("warmup_epochs"):
        assert epochs[0].lr < 0.05
