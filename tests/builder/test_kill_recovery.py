"""A killed app loses at most what came after the last checkpoint of its run.

The real app (a process of its own, offscreen, with its real training process) trains a
30-epoch run and is killed with SIGKILL at random moments: every other time the app alone (its
training process then notices, stops after its batch and records the stop), otherwise the app
and its training process together (nothing more is written). After each kill every project and
run file must read back whole; the next start must offer recovery, recover the weights of the
run's last checkpoint and show its curves up to that epoch, and resume the run. After the last
kill, Resume finishes the run: 30 epochs, one unbroken history.

CI runs ``NETCANVAS_KILLS`` kills (default 3); the full test is ``NETCANVAS_KILLS=20``.
"""

from __future__ import annotations

import json
import os
import random
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backend.runs.files import RUN_ID, runs_folder_for
from backend.runs.record import parse_history, parse_run
from backend.runs.store import RunStore, checkpoint_folder, checkpoint_weights, read_state
from graph import project
from graph.examples import example_path

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("kill_driver.py")
KILLS = int(os.environ.get("NETCANVAS_KILLS", "3"))
EPOCHS = 30
LINE_TIMEOUT_S = 120.0  # the app starts, imports torch, starts its training process

pytestmark = pytest.mark.skipif(not hasattr(os, "pidfd_open") or sys.platform != "linux",
                                reason="waits for processes with pidfd (Linux)")


class App:
    """One run of the app process; its stdout read line by line with deadlines."""

    def __init__(self, tmp: Path, project_file: Path) -> None:
        env = dict(os.environ, HOME=str(tmp / "home"), XDG_CONFIG_HOME=str(tmp / "config"),
                   XDG_DATA_HOME=str(tmp / "data"), QT_QPA_PLATFORM="offscreen",
                   NETCANVAS_NO_GALLERY="1", PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
        self.errors = open(tmp / "app-stderr.txt", "ab")  # closed in close()
        self.proc = subprocess.Popen(
            [sys.executable, str(DRIVER), str(project_file), str(tmp / "recovery"),
             str(tmp / "settings.ini"), str(EPOCHS)], stdout=subprocess.PIPE,
            stderr=self.errors, env=env, start_new_session=True, bufsize=0)
        self.lines: list[dict] = []
        self._buffer = b""
        self._stderr = tmp / "app-stderr.txt"

    def next(self, timeout: float = LINE_TIMEOUT_S) -> dict | None:
        """The next message, or None when ``timeout`` passes first (the app keeps running).

        The pipe is read without a buffer of Python's own (os.read), so select() sees every
        line that has not been taken yet."""
        deadline = time.monotonic() + max(0.0, timeout)
        while b"\n" not in self._buffer:
            ready, _, _ = select.select([self.proc.stdout], [], [],
                                        max(0.0, deadline - time.monotonic()))
            if not ready:
                return None
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                raise AssertionError("the app ended: " + self._stderr.read_text()[-3000:])
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        if not line.startswith(b"{"):
            return self.next(max(0.0, deadline - time.monotonic()))
        message = json.loads(line)
        message["at"] = time.monotonic()
        self.lines.append(message)
        return message

    def epoch_seconds(self) -> float:
        """How long the last epoch took (0.3 s before two epochs were seen)."""
        times = [m["at"] for m in self.lines if m["kind"] == "epoch"]
        return times[-1] - times[-2] if len(times) >= 2 else 0.3

    def wait_for(self, kind: str) -> dict:
        while True:
            message = self.next()
            assert message is not None, f"no {kind!r} within {LINE_TIMEOUT_S} s: {self.lines}"
            if message["kind"] == kind:
                return message
            assert message["kind"] != "error", message

    def kill(self, whole_group: bool) -> None:
        if whole_group:
            os.killpg(self.proc.pid, signal.SIGKILL)
        else:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.close()

    def close(self) -> None:
        self.proc.wait(30)
        self.proc.stdout.close()
        self.errors.close()


def _wait_gone(pid: int | None, timeout: float = 60.0) -> None:
    """Wait (without polling) until process ``pid`` has exited."""
    if not pid:
        return
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    except OSError as exc:  # a kernel older than 5.3
        pytest.skip(f"pidfd_open is not available here: {exc}")
    try:
        ready, _, _ = select.select([fd], [], [], timeout)
        assert ready, f"process {pid} did not end within {timeout} s"
    finally:
        os.close(fd)


def _staged_runs(recovery: Path) -> list[Path]:
    return [run for folder in sorted(recovery.glob("runs-*")) for run in sorted(folder.iterdir())
            if RUN_ID.match(run.name)]


def _check_files(tmp: Path, project_file: Path) -> Path:
    """Every project and run file reads back whole; returns the run folder."""
    project.load(project_file)
    for autosave in (tmp / "recovery").glob("recovery-*.json"):
        payload = json.loads(autosave.read_text())
        project.from_dict(payload["project"])
    runs = _staged_runs(tmp / "recovery")
    assert len(runs) == 1, runs
    run = runs[0]
    info = parse_run(run)
    parse_history(run)
    RunStore(run.parent).design(run.name)
    from backend.training.checkpoints import load_checkpoint

    load_checkpoint(checkpoint_folder(run))
    for name in ("weights.safetensors", "best.safetensors"):
        if (run / name).exists():
            read_state(run, name)
    assert info.checkpoint is not None
    return run


def test_a_killed_app_recovers_its_run_and_resume_finishes_it(tmp_path):
    from tests.builder.kill_driver import digest

    rng = random.Random(int(os.environ.get("NETCANVAS_KILL_SEED", time.time())))
    project_file = tmp_path / "digits.ncproj.json"
    doc = project.load(example_path("mlp_digits"))
    training = doc.section("training")
    training.update(batch_size=1, epochs=EPOCHS)  # ~0.5 s per epoch here
    from graph.edits import SetSection

    doc.apply(SetSection("training", training))
    project.save(doc, project_file)
    counts = {"kills": 0, "app only": 0, "with its training process": 0, "offered": 0,
              "weights equal": 0, "curves reach the checkpoint": 0}
    expected = None  # (digest, epoch) of the last checkpoint after the previous kill
    run_id = None
    reached: list[int] = []
    for k in range(KILLS + 1):
        app = App(tmp_path, project_file)
        try:
            if k > 0:
                app.wait_for("offered")
                counts["offered"] += 1
                recovered = app.wait_for("recovered")
                if recovered["run"] != run_id:
                    print(json.dumps(app.lines, indent=1))
                assert recovered["run"] == run_id
                assert (recovered["weights"], recovered["checkpoint"]) == expected
                counts["weights equal"] += 1
                assert recovered["curves"] == expected[1] and recovered["curve_run"] == run_id
                counts["curves reach the checkpoint"] += 1
            started = app.wait_for("started")
            assert started["epochs"] == EPOCHS
            if k == KILLS:  # the last start: Resume finishes the run
                done = app.wait_for("done")
                assert done["status"] == "completed"
                assert app.proc.wait(60) == 0
                app.close()
                break
            # a random moment: after 0–1 more epochs (the first kill after one at least) and
            # a random part of the next one
            epochs = rng.randint(1 if k == 0 else 0, 1)
            while epochs:
                message = app.next()
                assert message is not None and message["kind"] != "done", app.lines
                epochs -= message["kind"] == "epoch"
            deadline = time.monotonic() + rng.uniform(0.0, 1.0) * app.epoch_seconds()
            while app.next(deadline - time.monotonic()) is not None:
                assert app.lines[-1]["kind"] != "done", f"the run ended first: {reached}"
            whole = k % 2 == 1
            writer = None
            runs = _staged_runs(tmp_path / "recovery")
            if runs and not whole:
                writer = parse_run(runs[0]).writer_pid
            app.kill(whole)
        finally:
            if app.proc.poll() is None:
                os.killpg(app.proc.pid, signal.SIGKILL)
                app.close()
        counts["kills"] += 1
        counts["with its training process" if whole else "app only"] += 1
        _wait_gone(writer)  # the app alone: its training process records the stop, then ends
        run = _check_files(tmp_path, project_file)
        run_id = run.name
        info = parse_run(run)
        expected = (digest(checkpoint_weights(run)), info.checkpoint.epoch)
        reached.append(info.checkpoint.epoch)
    print(f"\nkill test: {counts}; the checkpoint after each kill was at epoch {reached}")
    assert counts["offered"] == counts["weights equal"] == KILLS
    final = RunStore(runs_folder_for(project_file)).get(run_id)
    assert final.status == "completed" and final.epochs_done == EPOCHS
    history = RunStore(runs_folder_for(project_file)).history(run_id)
    assert [e["epoch"] for e in history.epochs] == list(range(1, EPOCHS + 1))
    steps = history.batches["step"]
    assert steps == sorted(set(steps)) and steps[-1] == final.steps
    assert not list((tmp_path / "recovery").glob("recovery-*.json"))
    shutil.rmtree(tmp_path / "recovery", ignore_errors=True)
