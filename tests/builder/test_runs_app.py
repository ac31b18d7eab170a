"""What training made belongs to the project: prompts, save and reopen, the runs table, restore,
resume, recovery, and views that never show another design's result."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from backend.runs import files
from backend.runs.record import parse_run
from backend.runs.store import RunStore, checkpoint_weights
from builder.dialogs import CANCEL, DISCARD, SAVE
from graph.recovery import RecoveryStore
from tests.builder.training_helpers import DONE_MS, train_to_end

train = train_to_end


pytestmark = pytest.mark.usefixtures("gui_thread_checks", "training_process")


def start_until_an_epoch(window, qtbot, example: str, **overrides):
    """Start a run and return once its first epoch has ended (the run goes on)."""
    window.open_example(example)
    panel = window.training
    panel.run_overrides = overrides
    with qtbot.waitSignal(panel.session.eventArrived, timeout=DONE_MS,
                          check_params_cb=lambda ev: type(ev).__name__ == "EpochEnd"):
        assert panel.start_run()
    return panel


def _staged(recovery_dir):
    return sorted(p for d in recovery_dir.glob("runs-*") for p in d.iterdir())


def _hidden(doc):
    return next(n for n in doc.node_ids() if doc.attr(n, "type") == "Dense")


# --- prompts ---------------------------------------------------------------------------------

@pytest.mark.parametrize("answer, closes", [(CANCEL, False), (DISCARD, True), (SAVE, True)])
def test_close_after_training_asks_about_the_trained_state(make_window, dialogs, qtbot,
                                                          recovery_dir, tmp_path, answer,
                                                          closes):
    window = make_window()
    panel = train(window, qtbot, "xor_mlp", epochs=5)
    assert window.controller.stack.isClean() and window.files.is_modified()
    assert window.windowTitle().endswith("* — NetCanvas")
    [run] = _staged(recovery_dir)
    autosave = json.loads(next(recovery_dir.glob("recovery-*.json")).read_text())
    assert autosave["trained"]["runs"] == str(run.parent)
    assert autosave["trained"]["weights"] == {"run": run.name, "file": "final"}
    dialogs.unsaved_answer = answer
    dialogs.save_answer = str(tmp_path / "xor.ncproj.json")
    assert window.close() is closes
    kind, text = dialogs.asked[-1] if answer != SAVE else dialogs.asked[-2]
    assert kind == "unsaved" and "trained weights and 1 training run" in text
    if answer == CANCEL:
        assert window.isVisible() and run.is_dir() and panel.trained_state is not None
        window.files.runs.set_dirty(False)
    elif answer == DISCARD:
        assert not run.exists()
    else:
        assert (tmp_path / "xor.runs" / run.name / files.RUN).exists()
        assert files.weights_path_for(tmp_path / "xor.ncproj.json").exists()


def test_new_and_open_after_training_ask(window, dialogs, qtbot, tmp_path):
    train(window, qtbot, "xor_mlp", epochs=3)
    dialogs.unsaved_answer = CANCEL
    assert not window.files.new()
    assert not window.open_example("perceptron_or")
    assert window.training.trained_state is not None
    assert [k for k in dialogs.kinds() if k == "unsaved"] == ["unsaved", "unsaved"]
    dialogs.unsaved_answer = DISCARD
    assert window.files.new()
    assert window.training.trained_state is None and window.files.runs.runs() == []
    assert not window.files.is_modified()


def test_closing_during_a_run_stops_it_and_saves_it(make_window, dialogs, qtbot, tmp_path):
    window = make_window()
    window.open_example("mlp_digits")
    panel = window.training
    panel.run_overrides = {"epochs": 200, "batch_size": 1}
    with qtbot.waitSignal(panel.session.batchesArrived, timeout=DONE_MS):
        assert panel.start_run()
    dialogs.unsaved_answer = SAVE
    dialogs.save_answer = None  # the save dialog is cancelled: nothing stops, nothing closes
    assert not window.close() and panel.running()
    dialogs.save_answer = str(tmp_path / "d.ncproj.json")
    assert window.close()
    assert "A run is in progress" in [t for k, t in dialogs.asked if k == "unsaved"][0]
    [info] = RunStore(tmp_path / "d.runs").runs()
    assert info.status == "stopped" and info.resumable and not panel.running()


# --- save and reopen ---------------------------------------------------------------------------

def test_save_then_reopen_restores_weights_runs_and_curves(make_window, dialogs, qtbot,
                                                           tmp_path):
    window = make_window()
    panel = train(window, qtbot, "mlp_digits", epochs=3)
    state = {k: v.clone() for k, v in panel.trained_state.items()}
    path = tmp_path / "digits.ncproj.json"
    dialogs.save_answer = str(path)
    assert window.files.save_as() and not window.files.is_modified()
    [info] = RunStore(tmp_path / "digits.runs").runs()
    assert info.status == "completed" and info.epochs_done == 3
    assert "digits.runs" in window.log_view.toPlainText()

    other = make_window()
    assert other.files.open(path)
    again = other.training
    assert set(again.trained_state) == set(state)
    assert all(torch.equal(again.trained_state[k], v) for k, v in state.items())
    assert [r.id for r in again.project.runs()] == [info.id]
    assert again.runs_view.model.rowCount() == 1
    assert again.plots.current is not None and again.plots.current.run_id == info.id
    assert again.plots.points("digit", "train") == 3 and again.plots.points("digit", "raw") > 0
    view = again.evaluation  # the run's stored evaluation, then Evaluate with its weights
    assert view.metrics.rowCount() > 0 and view.confusion.matrix.shape == (10, 10)
    assert view.evaluate_button.isEnabled()
    view.split_box.setCurrentText("validation")
    view.evaluate_now()  # the model is built from the weights in the background, then evaluated
    assert view.building() and not view.busy.isHidden()
    qtbot.waitUntil(lambda: not view.building() and view.evaluated.split == "validation",
                    timeout=60000)
    assert view.busy.isHidden() and again.trainer is not None
    assert "predicted" in view.predict_now()["digit"]  # the model is there: at once
    assert not other.files.is_modified()


def test_an_untitled_project_keeps_its_runs_in_the_recovery_folder(window, dialogs, qtbot,
                                                                  recovery_dir, tmp_path):
    train(window, qtbot, "xor_mlp", epochs=2)
    train(window, qtbot, None, epochs=2)
    staged = _staged(recovery_dir)
    assert len(staged) == 2 and all(p.parent.parent == recovery_dir for p in staged)
    dialogs.save_answer = str(tmp_path / "x.ncproj.json")
    assert window.files.save()
    assert _staged(recovery_dir) == []
    assert sorted(p.name for p in (tmp_path / "x.runs").iterdir()) == [p.name for p in staged]


def test_design_edits_keep_the_weights_that_still_fit(window, dialogs, qtbot, tmp_path):
    panel = train(window, qtbot, "mlp_digits", epochs=1)
    state = {k: v.clone() for k, v in panel.trained_state.items()}
    doc = window.controller.doc
    hidden = _hidden(doc)
    name = doc.attr(hidden, "name")
    window.controller.set_params([hidden], {"units": 17})
    dialogs.save_answer = str(tmp_path / "d.ncproj.json")
    assert window.files.save()
    saved = load_file(str(files.weights_path_for(tmp_path / "d.ncproj.json")))
    assert f"{name}.weight" not in saved
    kept = set(saved)
    assert kept and all(torch.equal(saved[k], state[k]) for k in kept)
    window.controller.stack.undo()  # the resized layer's trained weights were kept in memory
    assert set(panel.trained_state) == set(state)


# --- views follow the state ------------------------------------------------------------------

def test_no_stale_evaluation_or_prediction_after_switching_designs(window, qtbot):
    panel = train(window, qtbot, "mlp_digits", epochs=1)
    view = panel.evaluation
    view.sample_box.setValue(3)
    assert "predicted" in view.predict_now()["digit"]
    assert view.sample_image.pixmap() is not None and not view.sample_image.pixmap().isNull()
    assert view.metrics.rowCount() and view.wrong.count() >= 0
    assert window.open_example("wide_and_deep")
    assert view.metrics.rowCount() == 0 and view.output_box.count() == 0
    assert view.prediction.text() == "" and view.sample_image.pixmap().isNull()
    assert view.wrong.count() == 0 and view.confusion.matrix.size == 0
    assert view.predict_now() == {} and not view.predict_button.isEnabled()
    assert panel.plots.current is None and panel.plots.points("digit", "train") == 0
    assert "digits" not in panel.preview.summary.text()
    train(window, qtbot, None, epochs=1)  # the regression design: its own evaluation
    assert view.chart.currentWidget() is view.scatter and view.wrong.count() == 0
    assert set(view.predict_now()) == {"main_output", "aux_output"}


def test_an_edit_clears_the_evaluation_and_undo_brings_it_back(window, qtbot):
    panel = train(window, qtbot, "mlp_digits", epochs=1)
    view, plots = panel.evaluation, panel.plots
    rows, points = view.metrics.rowCount(), plots.points("digit", "train")
    assert rows and points == 1
    doc = window.controller.doc
    window.controller.set_params([_hidden(doc)], {"units": 5})
    qtbot.waitUntil(lambda: view.metrics.rowCount() == 0)
    assert view.trainer is None and plots.current is None and plots.points("digit", "train") == 0
    assert "changed since the last run" in view.status.text()
    window.controller.move({_hidden(doc): (5.0, 5.0)})  # moving a layer changes no model
    window.controller.stack.undo()
    window.controller.stack.undo()
    qtbot.waitUntil(lambda: view.metrics.rowCount() == rows)
    assert view.trainer is panel.trainer and plots.points("digit", "train") == points


# --- the runs table --------------------------------------------------------------------------

def test_restore_a_run_is_one_undoable_step(window, qtbot):
    panel = train(window, qtbot, "xor_mlp", epochs=3)
    first = panel.project.runs()[0]
    first_state = {k: v.clone() for k, v in panel.trained_state.items()}
    doc = window.controller.doc
    window.controller.set_params([_hidden(doc)], {"units": 6})
    train(window, qtbot, None, epochs=3)
    second_state = {k: v.clone() for k, v in panel.trained_state.items()}
    from backend.runs.design import design_key

    second_key = design_key(doc)
    stack = window.controller.stack
    count = stack.count()
    assert panel.restore_run(first.id)
    assert stack.count() == count + 1 and stack.undoText() == f"restore {first.title}"
    assert design_key(window.controller.doc) == first.design_key
    assert all(torch.equal(panel.trained_state[k], v) for k, v in first_state.items())
    qtbot.waitUntil(lambda: panel.plots.current is not None and  # the views follow
                    panel.plots.current.run_id == first.id)
    stack.undo()
    assert design_key(window.controller.doc) == second_key
    assert all(torch.equal(panel.trained_state[k], v) for k, v in second_state.items())
    stack.redo()
    assert design_key(window.controller.doc) == first.design_key
    assert all(torch.equal(panel.trained_state[k], v) for k, v in first_state.items())


def test_rename_annotate_compare_export_and_delete(make_window, dialogs, qtbot, tmp_path):
    window = make_window()
    panel = train(window, qtbot, "xor_mlp", epochs=4)
    train(window, qtbot, None, epochs=2, lr=0.5)
    model = panel.runs_view.model
    first, second = panel.project.runs()
    from builder.training.runs_view import NAME, NOTE

    assert model.setData(model.index(0, NAME), "baseline")
    assert model.setData(model.index(0, NOTE), "the first try\nwith defaults")
    assert model.data(model.index(0, NAME)).startswith("baseline")
    assert panel.plots.run_list.item(0).text().startswith("baseline")
    notes = json.loads((first.folder / files.NOTES).read_text())
    assert notes == {"name": "baseline", "note": "the first try\nwith defaults"}
    panel.runs_view.select([first.id, second.id])
    panel.runs_view.compare_button.click()
    numbers = [panel.records[i].number for i in (first.id, second.id)]
    assert all(panel.plots.is_overlaid(n) for n in numbers)
    assert panel.views.currentWidget() is panel.plots
    dialogs.save_answer = str(tmp_path / "first.csv")
    assert panel.export_run_csv(first.id)
    lines = (tmp_path / "first.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,lr,y/train_loss") and len(lines) > 5
    dialogs.save_answer = str(tmp_path / "first.safetensors")
    assert panel.export_run_weights(first.id)
    from backend.export.weights import load_weights
    from backend.model.compiler import compile_document

    module = compile_document(panel.project.design(first.id)).module
    load_weights(module, tmp_path / "first.safetensors", strict=True)
    dialogs.confirm_answer = False
    assert not panel.delete_runs([first.id]) and first.folder.exists()
    dialogs.confirm_answer = True
    assert panel.delete_runs([first.id])
    assert not first.folder.exists() and model.rowCount() == 1
    assert panel.plots.run_list.count() == 1 and not panel.plots.is_overlaid(numbers[0])
    # names and notes persist with the project
    dialogs.save_answer = str(tmp_path / "x.ncproj.json")
    assert window.files.save()
    panel.project.rename(second.id, "longer lr")
    other = make_window()
    assert other.files.open(tmp_path / "x.ncproj.json")
    assert [r.title for r in other.files.runs.runs()] == ["longer lr"]


def test_a_stopped_run_resumes_in_its_folder(window, qtbot):
    panel = start_until_an_epoch(window, qtbot, "mlp_digits", epochs=6, batch_size=4)
    with qtbot.waitSignal(panel.session.runDone, timeout=DONE_MS):
        panel.stop_run()
    [info] = panel.project.runs()
    assert info.state == "stopped" and info.resumable
    assert window.act_resume.isEnabled()
    with qtbot.waitSignal(panel.session.runDone, timeout=DONE_MS):
        assert window.resume_training()
    [info] = panel.project.runs()
    assert info.status == "completed" and info.epochs_done == 6
    history = panel.project.history(info.id)
    assert [e["epoch"] for e in history.epochs] == [1, 2, 3, 4, 5, 6]
    assert panel.plots.points("digit", "train") == 6
    assert not window.act_resume.isEnabled()


def test_corrupt_run_folders_give_a_message_and_the_project_opens(make_window, dialogs, qtbot,
                                                                  tmp_path):
    window = make_window()
    train(window, qtbot, "xor_mlp", epochs=2)
    train(window, qtbot, None, epochs=2)
    dialogs.save_answer = str(tmp_path / "x.ncproj.json")
    assert window.files.save()
    first, second = RunStore(tmp_path / "x.runs").runs()
    (first.folder / files.RUN).write_text("{ not json")
    (second.folder / files.HISTORY).write_bytes(b"\x00" * 10)
    (tmp_path / "x.runs" / "not a run").mkdir()
    other = make_window()
    assert other.files.open(tmp_path / "x.ncproj.json")
    panel = other.training
    assert [r.id for r in panel.project.runs()] == [second.id]
    log = other.log_view.toPlainText()
    assert "run.json is not readable JSON" in log and "not a run folder" in log
    assert panel.runs_view.problems.isVisible() or panel.runs_view.problems.text()
    assert "history.json" in log  # the curves of the damaged history are not shown
    assert panel.plots.points("y", "train") == 0


# --- crash recovery ------------------------------------------------------------------------------

def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_recovery_offers_the_run_up_to_its_checkpoint_and_resume_finishes_it(
        make_window, dialogs, qtbot, recovery_dir, tmp_path):
    """A crashed session (a dead pid) left its autosave and a run whose writer died after
    epoch 2: the next start offers both, recovers the checkpoint's weights, and resumes."""
    from backend.runs.writer import recording
    from backend.training.events import EpochEnd
    from backend.training.trainer import Trainer
    from graph.examples import load_example

    pid = _dead_pid()
    crashed = RecoveryStore(recovery_dir, pid=pid)
    crashed.acquire()
    doc = load_example("mlp_digits")
    config = dict(doc.section("training"), epochs=5)
    info = RunStore(crashed.runs_path).create(doc, doc.section("data"), config, 1)
    snapshot = tmp_path / "snapshot"

    def copy_at_epoch_2(event):
        if isinstance(event, EpochEnd) and event.epoch == 2:
            callback.writer._join_flush()  # the checkpoint of epoch 2 is on disk and named
            shutil.copytree(info.folder, snapshot)

    trainer = Trainer(doc, config=config)
    callback = recording(trainer, info.folder, copy_at_epoch_2, every_epoch=True)
    trainer.run(callback)
    shutil.rmtree(info.folder)
    shutil.copytree(snapshot, info.folder)  # what the crash left
    record = json.loads((info.folder / files.RUN).read_text())
    record["writer_pid"] = pid
    (info.folder / files.RUN).write_text(json.dumps(record))
    crashed.write(doc, None, {"runs": str(crashed.runs_path), "weights": None})
    expected = checkpoint_weights(info.folder)

    window = make_window()
    window.startup()
    kind, text = dialogs.asked[0]
    assert kind == "restore" and "Run 1: interrupted at epoch 2/5" in text
    panel = window.training
    [recovered] = panel.project.runs()
    assert recovered.id == info.id and recovered.interrupted
    assert not crashed.runs_path.exists()
    assert all(torch.equal(panel.trained_state[k], v) for k, v in expected.items())
    qtbot.waitUntil(lambda: panel.plots.current is not None)
    assert panel.plots.points("digit", "train") == 2
    assert window.act_resume.isEnabled() and window.files.is_modified()
    with qtbot.waitSignal(panel.session.runDone, timeout=DONE_MS):
        assert window.resume_training()
    done = parse_run(recovered.folder)
    assert done.status == "completed" and done.epochs_done == 5
    assert panel.plots.points("digit", "train") == 5


def test_runs_in_the_worker_thread_are_recorded_too(window, qtbot, monkeypatch):
    monkeypatch.setenv("NETCANVAS_TRAIN_IN_PROCESS", "0")
    panel = train(window, qtbot, "xor_mlp", epochs=4)
    assert not panel.outcome.in_process
    [info] = panel.project.runs()
    assert info.status == "completed" and info.epochs_done == 4
    assert len(panel.project.history(info.id).epochs) == 4


def test_a_crashed_training_process_leaves_a_run_that_resumes(window, qtbot):
    """The training process dies (the out-of-memory killer, a crash) during a run: the run is
    interrupted, keeps its last checkpoint, and Resume finishes it in a new process."""
    import signal

    from backend.training.process import shared_server

    panel = start_until_an_epoch(window, qtbot, "mlp_digits", epochs=40, batch_size=2)
    with qtbot.waitSignal(panel.session.runDone, timeout=DONE_MS):
        os.kill(shared_server().pid, signal.SIGKILL)
    [info] = panel.project.runs()
    assert info.interrupted and info.resumable and panel.run.status == "interrupted"
    assert "can be resumed from its last checkpoint" in panel.status.text()
    panel.run_overrides = {}
    record = json.loads((info.folder / files.RUN).read_text())
    record["settings"]["training"]["epochs"] = info.checkpoint.epoch + 1  # finish it soon
    record["epochs"]["planned"] = info.checkpoint.epoch + 1
    (info.folder / files.RUN).write_text(json.dumps(record))
    panel.project.refresh(info.id)
    with qtbot.waitSignal(panel.session.runDone, timeout=DONE_MS):
        assert panel.resume_run(info.id)
    done = parse_run(info.folder)
    assert done.status == "completed" and done.epochs_done == info.checkpoint.epoch + 1
