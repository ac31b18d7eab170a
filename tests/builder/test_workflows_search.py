"""Hyperparameter search in the app: a tiny search runs on the background runner, the table and
the overlaid curves fill in live, the best is highlighted and opens as a new design; k-fold
scores show as mean ± std; Stop ends it; bad settings say what to fix."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from builder.workflows.search_dialog import COLUMNS

pytestmark = pytest.mark.usefixtures("gui_thread_checks")


def _dialog(window, trials=2, epochs=2):
    window.open_example("mlp_digits")
    dialog = window.workflows.show_search()
    dialog.trials.setValue(trials)
    dialog.epochs.setValue(epochs)
    dialog.sampler.setCurrentIndex(dialog.sampler.findData("random"))
    dialog.layers.low.setValue(1)
    dialog.layers.high.setValue(2)
    dialog.units.setText("16, 32")
    dialog.lr.low.setValue(1e-3)
    dialog.lr.high.setValue(3e-2)
    dialog.vary_optimizer.setChecked(True)
    return dialog


def test_two_trial_search_fills_table_and_plot_and_opens_best(window, qtbot):
    dialog = _dialog(window)
    assert "hidden1 → hidden2" in dialog.block_label.text()
    events = []
    dialog.runner.progress.connect(events.extend)
    with qtbot.waitSignal(dialog.runner.finished, timeout=120000):
        assert dialog.start()
    kinds = {type(e).__name__ for e in events}
    assert {"TrialStarted", "TrialEpoch", "TrialDone"} <= kinds
    result = dialog.result
    assert len(result.trials) == 2
    assert dialog.table.rowCount() == 2
    states = [dialog.table.item(r, COLUMNS.index("state")).text() for r in range(2)]
    assert states == [t.state for t in result.trials]
    # every trial has its curve; the best is drawn thick in the highlight colour, and bold
    assert set(dialog.curves) == {0, 1}
    best = result.best
    assert best is not None and dialog.best_number() == best.number
    best_pen = dialog.curves[best.number].opts["pen"]
    assert best_pen.widthF() > 3
    xs, ys = dialog.curves[best.number].getData()
    assert list(xs) == [1, 2] and all(0 <= y <= 1 for y in ys)
    row = dialog._row_of(best.number)
    assert dialog.table.item(row, 0).font().bold()
    assert "Best: trial" in dialog.status.text()
    # open the best as a new design: one new untitled document with the trial's settings
    assert dialog.open_button.isEnabled() and "best" in dialog.open_button.text()
    dialog.open_button.click()
    doc = window.controller.doc
    assert doc.section("training")["lr"] == pytest.approx(best.params["lr"])
    assert doc.section("training")["epochs"] == 30  # the design's own settings stay
    hidden = [n.params["units"] for n in doc.nodes()
              if n.type == "Dense" and n.name.startswith("hidden_")]
    assert hidden == [best.params[f"units_{i + 1}"] for i in range(best.params["hidden_layers"])]
    assert window.files.path is None and window.files.is_modified()
    assert "trial" in window.windowTitle()
    dialog.close()


def test_kfold_reports_mean_and_std_and_stop(window, qtbot):
    dialog = _dialog(window, trials=1, epochs=2)
    dialog.folds.setCurrentIndex(dialog.folds.findData(3))
    dialog.prune.setChecked(False)
    with qtbot.waitSignal(dialog.runner.finished, timeout=120000):
        dialog.start()
    trial = dialog.result.trials[0]
    assert trial.state == "complete" and len(trial.fold_scores) == 3
    assert "±" in dialog.table.item(0, COLUMNS.index("score")).text()
    assert "over 3 folds" in dialog.status.text()
    # a long search, stopped: the thread ends and the window still closes cleanly
    dialog.trials.setValue(50)
    dialog.folds.setCurrentIndex(0)
    seen = []
    dialog.runner.progress.connect(seen.extend)
    dialog.start()
    qtbot.waitUntil(lambda: any(type(e).__name__ == "TrialEpoch" for e in seen), timeout=60000)
    with qtbot.waitSignal(dialog.runner.finished, timeout=60000):
        dialog.stop_button.click()
    assert dialog.result.stopped and len(dialog.result.trials) < 50
    assert "stopped" in dialog.status.text()
    dialog.start()
    qtbot.waitUntil(dialog.runner.running, timeout=5000)
    window.close()  # joins the search thread
    assert not dialog.runner.running()


def test_bad_settings_say_what_to_fix(window):
    dialog = _dialog(window)
    dialog.units.setText("32, lots")
    assert not dialog.start()
    assert "Units per layer" in dialog.status.text() and "lots" in dialog.status.text()
    dialog.units.setText("32")
    for i in range(dialog.optimizers.count()):
        dialog.optimizers.item(i).setCheckState(Qt.CheckState.Unchecked)
    assert not dialog.start()
    assert "Optimizers" in dialog.status.text()
    assert not dialog.runner.running()


def test_stored_search_settings_prefill_the_form(window):
    from graph.edits import SetSection

    window.open_example("mlp_digits")
    section = window.controller.doc.section("training")
    section["search"] = {"hidden_layers": [1, 2], "units": [8, 24], "optimizer": ["adamw"],
                         "trials": 7, "folds": 4}
    window.controller.push(SetSection("training", section))
    dialog = window.workflows.show_search()
    assert dialog.units.text() == "8, 24"
    assert dialog.trials.value() == 7 and dialog.folds.currentData() == 4
    settings = dialog.search_settings()
    assert settings.space.optimizer == ("adamw",) and settings.space.hidden_layers == (1, 2)


def test_a_blocks_repeat_and_width_are_searched_from_the_dialog(window, qtbot):
    from builder.workflows.search_dialog import parse_block_params

    assert parse_block_params("layer1.repeat = 1, 3; x.rate = 0.1, 0.5") == {
        "layer1.repeat": (1, 3), "x.rate": (0.1, 0.5)}
    window.open_example("mlp_digits")  # no blocks: nothing to vary
    dialog = window.workflows.show_search()
    assert not dialog.vary_blocks.isEnabled()
    window.open_example("resnet_blocks_digits")
    section = window.controller.doc.section("training")
    dialog.refresh()
    assert dialog.vary_blocks.isEnabled() and "layer1.repeat" in \
        dialog.block_params.placeholderText()
    for box in (dialog.vary_layers, dialog.vary_units, dialog.vary_lr):
        box.setChecked(False)
    dialog.vary_blocks.setChecked(True)
    dialog.block_params.setText("layer1.depth = 1, 2")
    assert not dialog.start()
    assert "no such parameter" in dialog.status.text()
    dialog.block_params.setText("layer1.repeat = 1, 3; layer2.channels = 8")
    dialog.trials.setValue(2)
    dialog.epochs.setValue(1)
    dialog.prune.setChecked(False)
    with qtbot.waitSignal(dialog.runner.finished, timeout=180000):
        assert dialog.start()
    result = dialog.result
    assert [t.state for t in result.trials] == ["complete", "complete"], \
        [t.message for t in result.trials]
    column = COLUMNS.index("blocks")
    assert not dialog.table.isColumnHidden(column)
    for row in range(2):
        assert "layer2.channels 8" in dialog.table.item(row, column).text()
    dialog.open_button.click()
    doc = window.controller.doc
    best = result.best
    assert doc.attr(doc.find("layer1"), "params")["repeat"] == best.params["layer1.repeat"]
    assert doc.attr(doc.find("layer2"), "params")["channels"] == 8
    assert doc.section("training")["epochs"] == section["epochs"]
    dialog.close()
