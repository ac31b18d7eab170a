"""Run folders: what a recorded run holds, checkpoints, resume, the project's runs, the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from backend.cli.main import main
from backend.runs import files
from backend.runs.project import ProjectRuns, Weights
from backend.runs.record import RunHistory, design_versions, parse_run
from backend.runs.store import RunStore, checkpoint_weights, create_run_folder
from backend.runs.writer import MAX_BATCH_POINTS, RunWriter, _halve, recording
from backend.training.control import Control
from backend.training.events import BatchEnd, EpochEnd
from backend.training.trainer import Trainer
from graph import project
from graph.edits import SetParams
from graph.examples import load_example

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
CONFIG = {"epochs": 4, "batch_size": 128, "optimizer": "adam", "lr": 0.01, "seed": 3,
          "report_every": 1, "report_seconds": 0, "device": "cpu"}


def _digits():
    return load_example("mlp_digits")


def _record(folder: Path, doc=None, config=None, *, control=None, extra=None, **options):
    doc = doc or _digits()
    config = dict(CONFIG, **(config or {}))
    if not (folder / files.RUN).exists():
        create_run_folder(folder, doc, doc.section("data"), config)
    trainer = Trainer(doc, config=config)
    events = []
    holder = {}

    def report(event):
        events.append(event)
        if extra is not None:
            extra(event, holder["writer"])

    callback = recording(trainer, folder, report, **options)
    holder["writer"] = callback.writer
    result = trainer.run(callback, control)
    return trainer, result, events, callback.writer


def _trace(events):
    return ([(e.step, round(e.total, 10)) for e in events if isinstance(e, BatchEnd)],
            [(e.epoch, e.train_loss, e.validation_loss) for e in events
             if isinstance(e, EpochEnd)])


def test_a_recorded_run_holds_what_it_made(tmp_path):
    folder = tmp_path / "run-1"
    trainer, result, events, writer = _record(folder, every_epoch=True)
    assert result.reason == "completed"
    names = {p.name for p in folder.iterdir()}
    assert {files.RUN, files.DESIGN, files.HISTORY, files.WEIGHTS, files.BEST,
            files.EVALUATION, files.CHECKPOINT} <= names
    info = parse_run(folder)
    assert info.status == "completed" and info.writer_pid is None and not info.interrupted
    assert info.epochs_done == info.epochs_planned == 4 and info.steps == result.steps
    assert info.device == "cpu" and info.seconds > 0
    assert info.outputs[0].name == "digit" and info.outputs[0].metric == "accuracy"
    assert len(info.outputs[0].classes) == 10
    assert info.summary["digit"]["metric"] == "accuracy"
    assert info.summary["digit"]["best"]["epoch"] in range(1, 5)
    assert info.checkpoint.epoch == 4 and info.preprocessing is not None
    store = RunStore(tmp_path)
    history = store.history("run-1")
    assert [e["epoch"] for e in history.epochs] == [1, 2, 3, 4]
    assert history.epochs == json.loads(json.dumps(trainer.history))  # the Trainer's history
    assert history.batches["step"][-1] == result.steps
    assert history.evaluation["split"] == "test"
    # the final weights load strictly into the design; the design is the one trained
    from backend.export.weights import load_weights
    from backend.model.compiler import compile_document

    module = compile_document(store.design("run-1")).module
    load_weights(module, folder / files.WEIGHTS, strict=True)
    for key, value in trainer.module.state_dict().items():
        assert torch.equal(module.state_dict()[key], value)
    evaluation = store.evaluation("run-1")
    assert evaluation["confusion"]["digit"] and evaluation["predictions"]["digit"].numel() > 0
    assert writer._checkpoints == 5  # at the start and after each of the 4 epochs


def test_a_stopped_run_resumes_exactly_from_its_folder(tmp_path):
    _, _, reference, _ = _record(tmp_path / "ref")
    control = Control()
    folder = tmp_path / "run"

    def stop(event, writer):
        if isinstance(event, BatchEnd) and event.step == 17:  # mid-epoch (10 steps each)
            control.stop()

    _, result, first, _ = _record(folder, control=control, extra=stop)
    assert result.reason == "stopped"
    info = parse_run(folder)
    assert info.status == "stopped" and info.resumable and info.checkpoint.step == 17
    trainer, result, second, _ = _record(folder, resume=True)
    assert result.reason == "completed"
    batches, epochs = _trace(reference)
    a, ea = _trace(first)
    b, eb = _trace(second)
    assert a + b == batches and ea + eb == epochs
    history = RunStore(tmp_path).history("run")
    assert [e["epoch"] for e in history.epochs] == [1, 2, 3, 4]
    assert history.batches["step"] == [s for s, _ in batches]
    assert parse_run(folder).status == "completed"


def test_a_crash_leaves_a_checkpoint_that_resumes_the_same_run(tmp_path):
    """A copy of the folder taken in the middle of an epoch is what a killed process leaves:
    the resumed run continues the uninterrupted one exactly (mid-epoch checkpoints)."""
    _, _, reference, _ = _record(tmp_path / "ref")
    folder, crashed = tmp_path / "run", tmp_path / "crashed"

    def snapshot(event, writer):
        if isinstance(event, BatchEnd) and event.step == 25 and not crashed.exists():
            writer._join_flush()  # its checkpoint is on disk and named (as in a crash after)
            shutil.copytree(folder, crashed)

    _record(folder, extra=snapshot, checkpoint_seconds=0.0, budget=1e9)
    info = parse_run(crashed)
    assert info.status == "running" and info.checkpoint.step == 25
    history = RunStore(tmp_path).history("crashed", at_checkpoint=True)
    assert [e["epoch"] for e in history.epochs] == [1, 2]
    trainer, result, resumed, _ = _record(crashed, resume=True)
    batches, _ = _trace(reference)
    assert _trace(resumed)[0] == batches[25:]
    assert RunStore(tmp_path).history("crashed").batches["step"] == [s for s, _ in batches]


def test_checkpoints_keep_within_their_budget(tmp_path):
    """With a budget no checkpoint fits in, only the first and the last are written."""
    _, _, _, writer = _record(tmp_path / "run", budget=1e-12)
    assert writer._checkpoints == 2
    ckpts = [p.name for p in (tmp_path / "run").iterdir() if p.name.startswith("checkpoint-")]
    assert len(ckpts) == 1  # older checkpoints are removed


def test_early_stopping_state_is_in_the_epoch_checkpoint(tmp_path):
    """The best epoch and the patience count of early stopping are in the checkpoint taken at
    an epoch's end, so a resumed run stops where the uninterrupted one would."""
    config = {"epochs": 30, "early_stopping_patience": 2, "lr": 0.5, "optimizer": "sgd",
              "restore_best_weights": True}
    ref_trainer, ref, _, _ = _record(tmp_path / "ref", config=config)
    assert ref.reason == "early stopping"
    crashed, folder = tmp_path / "crashed", tmp_path / "run"

    def snapshot(event, writer):
        if isinstance(event, EpochEnd) and event.epoch == ref.epochs_completed - 1:
            writer._join_flush()
            shutil.copytree(folder, crashed)

    _record(folder, config=config, extra=snapshot, every_epoch=True)
    trainer, result, _, _ = _record(crashed, config=config, resume=True)
    assert (result.reason, result.epochs_completed) == ("early stopping", ref.epochs_completed)
    for key, value in ref_trainer.module.state_dict().items():  # the best weights restored
        assert torch.equal(trainer.module.state_dict()[key], value)


def test_the_per_batch_loss_is_downsampled_evenly():
    b = {"step": list(range(1, 12)), "epoch": [1] * 11, "losses": {"y": [float(i) for i in
                                                                          range(11)]}}
    _halve(b)
    assert b["step"] == [2, 4, 6, 8, 10, 11] and b["losses"]["y"] == [0.5, 2.5, 4.5, 6.5,
                                                                        8.5, 10.0]


def test_long_runs_keep_at_most_max_points(tmp_path):
    doc = load_example("xor_mlp")
    _, result, _, _ = _record(tmp_path / "run", doc, {"epochs": 1500, "batch_size": 1,
                                                      "optimizer": "sgd", "lr": 0.1})
    steps = RunStore(tmp_path).history("run").batches["step"]
    assert MAX_BATCH_POINTS // 2 <= len(steps) <= MAX_BATCH_POINTS
    assert steps[-1] == result.steps and steps == sorted(steps)


def test_the_tensorboard_log_is_written_when_installed(tmp_path, monkeypatch):
    """TensorBoard is not a dependency: with a SummaryWriter available, scalars per epoch."""
    import sys
    import types

    written = []

    class SummaryWriter:
        def __init__(self, folder):
            written.append(("folder", folder))

        def add_scalar(self, tag, value, step):
            written.append((tag, step))

        def flush(self):
            pass

        def close(self):
            written.append(("closed",))

    module = types.ModuleType("torch.utils.tensorboard")
    module.SummaryWriter = SummaryWriter
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", module)
    _record(tmp_path / "run", config={"epochs": 2})
    assert written[0] == ("folder", str(tmp_path / "run" / files.TENSORBOARD))
    assert ("digit/accuracy/validation", 2) in written and ("lr", 1) in written
    assert written[-1] == ("closed",)


def test_a_folder_that_cannot_be_written_warns_once_and_training_goes_on(tmp_path,
                                                                          monkeypatch):
    folder = tmp_path / "run"
    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("backend.runs.writer.write_json", broken)
    _, result, events, writer = _record(folder, config={"epochs": 2})
    assert result.reason == "completed"
    warnings = [e.message for e in events if type(e).__name__ == "Warned"]
    assert len(warnings) == 1 and "No space left" in warnings[0] and len(calls) == 1


# --- the project's runs --------------------------------------------------------------------------

def _finished_run(runs: ProjectRuns, doc, epochs=1):
    info = runs.begin_run(doc, doc.section("data"), dict(CONFIG, epochs=epochs))
    trainer = Trainer(doc, config=dict(CONFIG, epochs=epochs))
    trainer.run(recording(trainer, info.folder))
    runs.run_ended(info.id)
    state = {k: v.detach().clone() for k, v in trainer.module.state_dict().items()}
    runs.set_weights(Weights(state, trainer.prepared.preprocessing(),
                             {"run": info.id, "file": "final"}))
    return info.id, state


def test_save_moves_runs_beside_the_project_and_reopen_finds_them(tmp_path):
    doc = _digits()
    runs = ProjectRuns(tmp_path / "staging")
    runs.reset()
    run_id, state = _finished_run(runs, doc)
    assert runs.dirty and not runs.is_saved(run_id)
    path = tmp_path / "digits.ncproj.json"
    project.save(doc, path)
    runs.save(path, doc)
    assert not runs.dirty and runs.is_saved(run_id)
    assert (tmp_path / "digits.runs" / run_id / files.RUN).exists()
    assert not (tmp_path / "staging" / run_id).exists()
    again = ProjectRuns(tmp_path / "staging2")
    notes = again.open(path, project.load(path))
    assert [r.id for r in again.runs()] == [run_id] and "Loaded the trained weights" in notes[-1]
    for key, value in state.items():
        assert torch.equal(again.weights.state[key], value)
    # Save As copies the runs to the new place; the old ones stay where they were
    other = tmp_path / "sub" / "copy.ncproj.json"
    other.parent.mkdir()
    again.save(other, doc)
    assert (tmp_path / "sub" / "copy.runs" / run_id).is_dir()
    assert (tmp_path / "digits.runs" / run_id).is_dir()


def test_discard_deletes_only_unsaved_runs(tmp_path):
    doc = _digits()
    runs = ProjectRuns(tmp_path / "staging")
    path = tmp_path / "d.ncproj.json"
    project.save(doc, path)
    runs.open(path, doc)
    saved, _ = _finished_run(runs, doc)
    runs.save(path, doc)
    staged, _ = _finished_run(runs, doc)
    runs.discard()
    assert [r.id for r in runs.runs()] == [saved] and not runs.dirty
    assert not (tmp_path / "staging" / staged).exists()


def test_weights_saved_are_those_that_fit_the_edited_design(tmp_path):
    doc = _digits()
    runs = ProjectRuns(tmp_path / "staging")
    runs.reset()
    _, state = _finished_run(runs, doc)
    hidden = next(n for n in doc.node_ids() if doc.attr(n, "type") == "Dense")
    name = doc.attr(hidden, "name")
    doc.apply(SetParams(hidden, {"units": 7}))  # resized: its weights no longer fit
    path = tmp_path / "d.ncproj.json"
    project.save(doc, path)
    runs.save(path, doc)
    assert set(runs.weights.state) == set(state)  # kept whole in memory (undo keeps them)
    from safetensors.torch import load_file

    saved = load_file(str(files.weights_path_for(path)))
    assert f"{name}.weight" not in saved and saved and set(saved) < set(state)
    notes = ProjectRuns(tmp_path / "s2").open(path, doc)
    assert name in notes[-1] and "not trained: new or resized" in notes[-1]


def test_recovery_adopts_a_crashed_sessions_runs(tmp_path):
    doc = _digits()
    crashed = ProjectRuns(tmp_path / "runs-1")
    crashed.reset()
    run_id, state = _finished_run(crashed, doc)
    record = crashed.recovery_record(tmp_path / "weights-1.safetensors")
    assert record["weights"] == {"run": run_id, "file": "final"}
    runs = ProjectRuns(tmp_path / "runs-2")
    runs.reset()
    [adopted] = runs.adopt(tmp_path / "runs-1")
    assert adopted.id == run_id and runs.dirty and not (tmp_path / "runs-1").exists()
    assert runs.recover_weights(record["weights"]) == "Recovered the trained weights."
    assert set(runs.weights.state) == set(state)
    assert all(torch.equal(runs.weights.state[k], v) for k, v in state.items())


def test_design_versions_number_the_designs_in_order(tmp_path):
    store = RunStore(tmp_path)
    doc = _digits()
    a = store.create(doc, {}, {}, 1)
    hidden = next(n for n in doc.node_ids() if doc.attr(n, "type") == "Dense")
    doc.apply(SetParams(hidden, {"units": 9}))
    b = store.create(doc, {}, {}, 2)
    moved = load_example("mlp_digits")
    node = moved.node_ids()[0]
    from graph.edits import MoveNodes

    moved.apply(MoveNodes({node: (999.0, 999.0)}))  # moving a layer is the same design
    c = store.create(moved, {}, {}, 3)
    versions = design_versions(store.runs())
    assert versions[a.design_key] == 1 and versions[b.design_key] == 2
    assert c.design_key == a.design_key


# --- the command line -----------------------------------------------------------------------------

def test_cli_writes_run_folders_beside_the_project_and_lists_them(tmp_path, capsys):
    path = tmp_path / "xor.ncproj.json"
    shutil.copy(EXAMPLES / "xor_mlp.json", path)
    assert main(["train", str(path), "--epochs", "3"]) == 0
    assert main(["train", str(path), "--epochs", "2", "--lr", "0.5"]) == 0
    [first, second] = RunStore(tmp_path / "xor.runs").runs()
    assert (first.number, second.number) == (1, 2) and second.settings["training"]["lr"] == 0.5
    capsys.readouterr()
    assert main(["runs", str(path)]) == 0
    text = capsys.readouterr().out
    assert first.id in text and second.id in text and "Run 2" in text
    assert "design v1" in text and "lr 0.5" in text and "completed" in text
    assert main(["runs", str(path), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == [first.id, second.id]


def test_cli_resumes_a_run_by_id_and_refuses_to_overwrite_one(tmp_path, capsys):
    path = tmp_path / "xor.ncproj.json"
    shutil.copy(EXAMPLES / "xor_mlp.json", path)
    assert main(["train", str(path), "--epochs", "2", "--out", str(tmp_path / "r")]) == 0
    assert main(["train", str(path), "--out", str(tmp_path / "r")]) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert main(["train", str(path), "--epochs", "2"]) == 0
    [info] = RunStore(tmp_path / "xor.runs").runs()
    capsys.readouterr()
    assert main(["train", str(path), "--epochs", "4", "--resume", info.id, "--json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert events[0]["event"] == "Started" and events[0]["start_epoch"] == 2
    info = RunStore(tmp_path / "xor.runs").get(info.id)
    assert info.epochs_done == 4 and info.status == "completed"
    assert len(RunStore(tmp_path / "xor.runs").history(info.id).epochs) == 4


def test_checkpoint_weights_are_those_of_the_last_checkpoint(tmp_path):
    trainer, _, _, _ = _record(tmp_path / "run", config={"epochs": 2})
    weights = checkpoint_weights(tmp_path / "run")
    for key, value in trainer.module.state_dict().items():
        assert torch.equal(weights[key], value)


def test_history_truncates_to_a_checkpoint():
    h = RunHistory([{"epoch": 1}, {"epoch": 2}], {"step": [5, 10, 15], "epoch": [1, 1, 2],
                                                 "losses": {"y": [1.0, 2.0, 3.0]}})
    t = h.truncate(1, 10)
    assert t.epochs == [{"epoch": 1}] and t.batches["losses"]["y"] == [1.0, 2.0]


@pytest.mark.parametrize("budget", [0.02])
def test_the_writer_starts_from_a_created_folder_only(tmp_path, budget):
    trainer = Trainer(_digits(), config=CONFIG)
    with pytest.raises(files.RunFormatError, match="run.json is missing"):
        RunWriter(tmp_path, trainer, budget=budget)


def test_a_resumed_run_rebuilds_a_lost_history_from_its_checkpoint(tmp_path):
    """After a power cut the history may be older than the checkpoint (it is not flushed at
    every checkpoint): the resumed run takes the epochs from the checkpoint itself."""
    control = Control()

    def stop(event, writer):
        if isinstance(event, EpochEnd) and event.epoch == 2:
            control.stop()

    _record(tmp_path / "run", control=control, extra=stop)
    (tmp_path / "run" / files.HISTORY).write_text("{}")
    _, result, _, _ = _record(tmp_path / "run", resume=True)
    assert result.reason == "completed"
    assert [e["epoch"] for e in RunStore(tmp_path).history("run").epochs] == [1, 2, 3, 4]
