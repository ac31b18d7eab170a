"""The gallery's training scenarios, end to end: design → compile → Trainer → events."""

import torch

from backend.training.events import EpochEnd, Evaluated, Finished, Started
from backend.training.trainer import Trainer
from graph import Sketch


def _run(doc, **training):
    events = []
    trainer = Trainer(doc, config=training)
    result = trainer.run(events.append)
    assert isinstance(result, Finished), getattr(result, "message", result)
    return trainer, events


def test_scenario_1_or_perceptron():
    s = Sketch("Perceptron")
    x = s.add("Input", shape=(2,), name="x")
    unit = s.add("Dense", x, units=1, activation="tanh", kernel_initializer="uniform",
                 init_scale=0.5, bias_initializer="zeros")
    s.add("Output", unit, loss="mse", metric="accuracy", name="y")
    s.settings("data", dataset="or", options={"targets": "pm1"})
    trainer, events = _run(s.doc, epochs=500, batch_size=0, optimizer="sgd", lr=0.1, seed=0)
    weight = trainer.module.state_dict()
    assert all(float(v.abs().max()) > 0 for v in weight.values() if v.dim() > 1)
    last = [e for e in events if isinstance(e, EpochEnd)][-1]
    assert last.epoch == 500 and last.train["y"]["loss"] < 0.05
    assert last.train["y"]["accuracy"] == 1.0
    truth = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    with torch.no_grad():
        out = trainer.module(truth)
    assert torch.sign(out[:, 0]).tolist() == [-1.0, 1.0, 1.0, 1.0]
    started = next(e for e in events if isinstance(e, Started))
    assert started.steps_per_epoch == 1 and started.train_samples == 4


def _mlp(units=(300, 100), activation="relu", out_activation="softmax", loss="cross_entropy"):
    s = Sketch("Classifier")
    h = s.add("Input", shape=(8, 8), name="image")
    h = s.add("Flatten", h)
    for n in units:
        h = s.add("Dense", h, units=n, activation=activation)
    h = s.add("Dense", h, units=10, activation=out_activation)
    s.add("Output", h, loss=loss, metric="accuracy", name="digit")
    return s


def test_scenario_2_mlp_on_digits_reaches_95_percent():
    s = _mlp()
    s.settings("data", dataset="digits", validation_split=0.2, test_split=0.1, seed=0)
    trainer, events = _run(s.doc, epochs=10, batch_size=32, optimizer="sgd", lr=0.05,
                           momentum=0.9, seed=0)
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert epochs[-1].validation["digit"]["accuracy"] >= 0.95
    assert epochs[-1].train_loss < epochs[0].train_loss
    evaluated = next(e for e in events if isinstance(e, Evaluated))
    matrix = torch.tensor(evaluated.confusion["digit"])
    assert matrix.shape == (10, 10) and int(matrix.sum()) == len(trainer.test_data)
    assert float(matrix.trace()) / float(matrix.sum()) == evaluated.metrics["digit"]["accuracy"]
    assert evaluated.predictions["digit"].shape == (len(trainer.test_data),)


def test_scenario_2_variant_tanh_onehot_mse_adam_trains():
    s = _mlp(units=(1024,), activation="tanh", out_activation="tanh", loss="mse")
    s.settings("data", dataset="digits_flat", targets={"digit": {"encoding": "onehot"}})
    trainer, events = _run(s.doc, epochs=4, batch_size=128, optimizer="adam", lr=0.001)
    assert trainer.prepared.outputs[0].encoding == "onehot"
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert epochs[-1].train_loss < epochs[0].train_loss
    assert epochs[-1].validation["digit"]["accuracy"] > 0.85


def test_scenario_3_wide_and_deep_reports_both_outputs():
    s = Sketch("WideAndDeep")
    a = s.add("Input", shape=(5,), name="input_a")
    b = s.add("Input", shape=(6,), name="input_b")
    h1 = s.add("Dense", b, units=30, activation="relu")
    h2 = s.add("Dense", h1, units=30, activation="relu")
    main = s.add("Dense", s.add("Concatenate", a, h2), units=1)
    s.add("Output", main, loss="mse", loss_weight=0.9, name="main_output")
    s.add("Output", s.add("Dense", h2, units=1), loss="mse", loss_weight=0.1, name="aux_output")
    s.settings("data", dataset="diabetes", validation_split=0.2, test_split=0.1,
               inputs={"input_a": {"features": [0, 1, 2, 3, 4]},
                       "input_b": {"features": [2, 3, 4, 5, 6, 7]}},
               targets={"main_output": {"target": 0}, "aux_output": {"target": 0}})
    trainer, events = _run(s.doc, epochs=20, batch_size=32, optimizer="adam", lr=0.003)
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    last = epochs[-1]
    assert set(last.train) == set(last.validation) == {"main_output", "aux_output"}
    expected = 0.9 * last.train["main_output"]["loss"] + 0.1 * last.train["aux_output"]["loss"]
    assert abs(last.train_loss - expected) < 1e-9
    assert last.validation["main_output"]["mae"] < 60  # in the target's own units
    assert last.train_loss < epochs[0].train_loss
    evaluated = next(e for e in events if isinstance(e, Evaluated))
    assert set(evaluated.predictions) == {"main_output", "aux_output"}
    assert evaluated.split == "test"
