"""Learning-rate finder: a sensible suggestion on the digits MLP, weights untouched, stop flag,
and the ``netcanvas lr-find`` command (``--apply`` saves the suggestion)."""

import json
import math

import torch

from backend.cli.main import main
from backend.training.control import Control
from backend.training.trainer import Trainer
from backend.workflows.lr_finder import LRStep, find_lr, lr_at, sparkline, suggest
from graph.examples import example_path, load_example


def _config(doc, **over):
    cfg = doc.section("training")
    cfg.update(device="cpu", threads=1, **over)
    return cfg


def test_schedule_is_exponential_from_start_to_end():
    assert lr_at(0, 100, 1e-5, 10) == 1e-5
    assert math.isclose(lr_at(99, 100, 1e-5, 10), 10)
    assert math.isclose(lr_at(33, 100, 1e-5, 10) / lr_at(32, 100, 1e-5, 10),
                        lr_at(1, 100, 1e-5, 10) / 1e-5)


def test_suggestion_rule_is_a_tenth_of_the_minimum():
    lrs = [10 ** (-5 + i * 0.1) for i in range(60)]
    smoothed = [2.0 - 0.02 * i if i < 40 else 1.3 + 0.5 * (i - 40) for i in range(60)]
    suggestion, at_min, steepest = suggest(lrs, smoothed)
    assert math.isclose(at_min, lrs[39]) and math.isclose(suggestion, lrs[39] / 10)
    assert steepest is not None and steepest < at_min


def test_digits_mlp_suggestion_in_range_and_weights_unchanged():
    doc = load_example("mlp_digits")
    trainer = Trainer(doc, config=_config(doc, epochs=1))
    trainer.prepare()
    weights = {k: v.clone() for k, v in trainer.module.state_dict().items()}
    given = {k: v.clone() for k, v in weights.items()}
    steps = []
    result = find_lr(doc, config=_config(doc), state_dict=given, steps=120,
                     callback=steps.append)
    print(f"digits MLP: suggestion {result.suggestion:.4g}, min-loss lr "
          f"{result.min_loss_lr:.4g}, steepest {result.steepest_lr:.4g}, "
          f"{len(result.lrs)} steps ({result.reason})")
    assert 1e-3 <= result.suggestion <= 1.0
    assert result.reason in ("exploded", "completed")
    assert len(result.lrs) == len(result.losses) == len(result.smoothed) == len(steps)
    assert isinstance(steps[0], LRStep) and steps[0].lr == 1e-5
    assert all(b > a for a, b in zip(result.lrs, result.lrs[1:]))
    for key, value in given.items():  # the caller's weights were copied, never written
        assert torch.equal(value, weights[key]), key
    assert "|" in sparkline(result)


def test_stop_flag_ends_the_sweep():
    doc = load_example("xor_mlp")
    control = Control()

    def stop_at_20(step):
        if step.step == 20:
            control.stop()

    result = find_lr(doc, config=_config(doc), steps=200, callback=stop_at_20, control=control)
    assert result.reason == "stopped" and len(result.lrs) == 20


def test_cli_prints_and_applies_the_suggestion(tmp_path, capsys):
    project = tmp_path / "digits.json"
    project.write_text(example_path("mlp_digits").read_text())
    code = main(["lr-find", str(project), "--steps", "80", "--device", "cpu", "--apply"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "suggested learning rate:" in out
    lr = json.loads(project.read_text())["training"]["lr"]
    assert f"wrote lr {lr:g}" in out and 1e-4 < lr < 1.0


def test_cli_bad_project_is_a_message(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert main(["lr-find", str(bad)]) == 2
    assert "error:" in capsys.readouterr().err
