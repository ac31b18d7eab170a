"""Corrupt and hostile run folders: reading them gives a message (RunFormatError), never a
traceback, and nothing outside the runs folder is opened, written, renamed or removed.

Python's audit hooks see every ``open``, ``os.rename``, ``os.remove``, ``shutil.rmtree`` … of
the process; while a case runs, each path they name must lie inside the runs folder, and the
files outside (the targets of the planted links) must be unchanged afterwards."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.runs import files
from backend.runs.files import RunFormatError
from backend.runs.project import ProjectRuns
from backend.runs.store import RunStore, checkpoint_folder
from backend.runs.writer import recording
from backend.training.trainer import Trainer
from graph import project
from graph.examples import load_example

_watch: list[Path] = []  # the folder the current case may touch ([] = not watching)
_seen: list[tuple[str, str]] = []
_EVENTS = {"open", "os.rename", "os.replace", "os.remove", "os.unlink", "os.rmdir",
           "shutil.rmtree", "os.mkdir", "shutil.copytree", "os.truncate", "os.symlink",
           "os.link", "os.chmod"}


def _hook(event: str, args: tuple) -> None:
    if not _watch or event not in _EVENTS or not args:
        return
    for arg in args[:1] if event == "open" else args[:2]:
        if isinstance(arg, (str, bytes, os.PathLike)) and not isinstance(arg, int):
            path = os.fsdecode(arg)
            if path and not path.startswith(("/proc", "/dev", sys.prefix, sys.base_prefix)) \
                    and ".py" not in path[-4:]:
                _seen.append((event, path))


sys.addaudithook(_hook)


@pytest.fixture(scope="module")
def valid_run(tmp_path_factory) -> Path:
    """One complete recorded run (xor, a few epochs), copied for every case."""
    root = tmp_path_factory.mktemp("valid")
    doc = load_example("mlp_digits")
    config = {"epochs": 2, "batch_size": 256, "device": "cpu"}
    info = RunStore(root / "p.runs").create(doc, doc.section("data"), config, 1)
    trainer = Trainer(doc, config=config)
    trainer.run(recording(trainer, info.folder))
    project.save(doc, root / "p.ncproj.json")
    return info.folder


def _read_everything(runs_dir: Path, project_file: Path) -> list[str]:
    """Every way the app and the CLI read runs; the messages they gave."""
    messages = []
    store = RunStore(runs_dir)
    found, problems = store.scan()
    messages += problems
    names = {r.id for r in found} | {p.name for p in runs_dir.iterdir()
                                      if files.RUN_ID.match(p.name)}
    for run_id in sorted(names):
        for read in (store.get, store.history, store.design, store.evaluation,
                     lambda i: store.history(i, at_checkpoint=True),
                     lambda i: store.weights(i, "final"), lambda i: store.weights(i, "best"),
                     lambda i: store.weights(i, "checkpoint"),
                     lambda i: checkpoint_folder(store.path(i))):
            try:
                read(run_id)
            except RunFormatError as exc:
                messages.append(str(exc))
    runs = ProjectRuns(runs_dir.parent / "staging")
    messages += runs.open(project_file, project.load(project_file))
    return messages


def _case(tmp_path: Path, valid_run: Path) -> tuple[Path, Path, Path]:
    """A project with one run folder (a copy of the valid one) and a file outside."""
    base = tmp_path / "case"
    if base.exists():
        shutil.rmtree(base)
    runs_dir = base / "p.runs"
    shutil.copytree(valid_run, runs_dir / valid_run.name, symlinks=True)
    project_file = base / "p.ncproj.json"
    shutil.copy(valid_run.parent.parent / "p.ncproj.json", project_file)
    shutil.copy(valid_run / files.WEIGHTS, files.weights_path_for(project_file))
    outside = tmp_path / "outside"
    outside.mkdir(exist_ok=True)
    secret = outside / "secret.json"
    secret.write_text(json.dumps({"format": "netcanvas-run", "version": 1, "id": "secret",
                                  "created": 1.0, "status": "completed"}))
    return runs_dir, project_file, outside


def _check(runs_dir: Path, project_file: Path, outside: Path) -> list[str]:
    before = {p: p.read_bytes() for p in outside.rglob("*") if p.is_file()}
    _seen.clear()
    _watch.append(runs_dir.parent)
    try:
        messages = _read_everything(runs_dir, project_file)
    finally:
        _watch.clear()
    inside = str(runs_dir.parent)
    assert any(p.startswith(inside) for _, p in _seen)  # the hook sees our reads
    strays = [(e, p) for e, p in _seen if not os.path.abspath(p).startswith(inside)
              and not p.startswith(str(Path(__file__).parents[2]))]
    assert not strays, strays
    after = {p: p.read_bytes() for p in outside.rglob("*") if p.is_file()}
    assert after == before
    assert all(isinstance(m, str) and "Traceback" not in m for m in messages)
    return messages


def _run_files(run: Path) -> list[Path]:
    return sorted(p for p in run.rglob("*") if p.is_file() and not p.is_symlink()) + [
        files.weights_path_for(run.parent.parent / "p.ncproj.json")]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaged_files_give_only_messages(tmp_path, valid_run, data):
    runs_dir, project_file, outside = _case(tmp_path, valid_run)
    run = runs_dir / valid_run.name
    target = data.draw(st.sampled_from(_run_files(run)), label="file")
    blob = target.read_bytes()
    how = data.draw(st.sampled_from(["truncate", "flip", "garbage", "empty"]), label="how")
    if how == "truncate":
        blob = blob[:data.draw(st.integers(0, max(0, len(blob) - 1)), label="at")]
    elif how == "flip" and blob:
        i = data.draw(st.integers(0, len(blob) - 1), label="at")
        blob = blob[:i] + bytes([blob[i] ^ data.draw(st.integers(1, 255))]) + blob[i + 1:]
    elif how == "garbage":
        blob = data.draw(st.binary(max_size=300), label="garbage")
    else:
        blob = b""
    target.write_bytes(blob)
    _check(runs_dir, project_file, outside)


JSON_FILES = [files.RUN, files.HISTORY, files.NOTES, files.CHECKPOINT]


@pytest.mark.parametrize("name", JSON_FILES)
@pytest.mark.parametrize("value", [
    [], "text", 1e308, None, {"format": "netcanvas-run"},
    {"format": "netcanvas-run", "version": 1, "id": "../../outside", "created": 0,
     "status": "completed"},
    {"format": "netcanvas-run", "version": 99, "id": "x", "created": 0, "status": "done"},
    {"folder": "../../outside", "epoch": 1, "step": 1},
    {"folder": "/etc", "epoch": -1, "step": "x"},
    {"epochs": [{"epoch": "1"}], "batches": {"step": [1], "epoch": [], "losses": {}}},
    {"epochs": [{"epoch": 2}, {"epoch": 1}]},
    {"name": {"nested": 1}, "note": 5},
    {"evaluation": {"split": "test", "confusion": {"y": [[1, 2], [3]]}}},
    {"summary": {"y": {"best": {"value": "high"}}}},
])
def test_hostile_json_values_give_only_messages(tmp_path, valid_run, name, value):
    runs_dir, project_file, outside = _case(tmp_path, valid_run)
    run = runs_dir / valid_run.name
    if name == files.RUN and isinstance(value, dict):
        value = dict(json.loads((run / files.RUN).read_text()), **value)
    (run / name).write_text(json.dumps(value))
    _check(runs_dir, project_file, outside)


def test_deeply_nested_json_is_refused(tmp_path, valid_run):
    runs_dir, project_file, outside = _case(tmp_path, valid_run)
    (runs_dir / valid_run.name / files.HISTORY).write_text("[" * 100_000 + "]" * 100_000)
    messages = _check(runs_dir, project_file, outside)
    assert any("history.json is not readable JSON" in m for m in messages)


def test_huge_files_are_refused_without_reading_them(tmp_path, valid_run):
    runs_dir, project_file, outside = _case(tmp_path, valid_run)
    run = runs_dir / valid_run.name
    for name in (files.HISTORY, files.RUN, files.WEIGHTS):
        with open(run / name, "r+b") as fh:
            fh.truncate(8 << 30)  # 8 GiB, sparse: refused by size (or header) at once
    messages = _check(runs_dir, project_file, outside)
    assert any("run.json is larger than" in m for m in messages)
    assert any("history.json is larger than" in m for m in messages)
    assert any("weights.safetensors is not a readable safetensors file" in m
               for m in messages)


def test_links_out_of_the_folder_are_not_followed(tmp_path, valid_run):
    runs_dir, project_file, outside = _case(tmp_path, valid_run)
    run = runs_dir / valid_run.name
    for name in (files.RUN, files.WEIGHTS, files.DESIGN):
        (run / name).unlink()
        (run / name).symlink_to(outside / "secret.json")
    (runs_dir / "secret").symlink_to(outside, target_is_directory=True)  # a linked run
    shutil.copytree(run, outside / "copy")
    (runs_dir / "copied").symlink_to(outside / "copy", target_is_directory=True)
    messages = _check(runs_dir, project_file, outside)
    assert any("run.json cannot be read" in m or "not a regular file" in m for m in messages)
    assert any("secret in p.runs is not a folder" in m for m in messages)
    assert RunStore(runs_dir).runs() == []


def test_a_linked_runs_folder_is_not_read(tmp_path, valid_run):
    runs_dir, project_file, outside = _case(tmp_path, valid_run)
    shutil.move(str(runs_dir), str(outside / "elsewhere"))
    runs_dir.symlink_to(outside / "elsewhere", target_is_directory=True)
    runs, problems = RunStore(runs_dir).scan()
    assert runs == [] and "is a link" in problems[0]


@pytest.mark.parametrize("name", ["..", ".hidden", "a b", "x\ny", "a\\b", "é", "-x", "a" * 65])
def test_folders_whose_names_are_not_run_ids_are_ignored(tmp_path, valid_run, name):
    runs_dir, project_file, outside = _case(tmp_path, valid_run)
    if name != "..":
        shutil.copytree(runs_dir / valid_run.name, runs_dir / name)
    runs, _ = RunStore(runs_dir).scan()
    assert [r.id for r in runs] == [valid_run.name]
    with pytest.raises(RunFormatError, match="is not a run id"):
        RunStore(runs_dir).path(name)
    _check(runs_dir, project_file, outside)


def test_a_checkpoint_pointer_out_of_the_folder_is_refused(tmp_path, valid_run):
    runs_dir, project_file, outside = _case(tmp_path, valid_run)
    run = runs_dir / valid_run.name
    (run / files.CHECKPOINT).write_text(json.dumps({"folder": "../../outside", "epoch": 1,
                                                    "step": 1}))
    messages = _check(runs_dir, project_file, outside)
    assert any("is not a checkpoint folder name" in m for m in messages)
