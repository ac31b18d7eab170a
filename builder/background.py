"""The app's one background runner: a function run by a QObject worker moved to a QThread.

Training runs (`builder.training.worker.TrainingSession`) and the workflow jobs
(`builder.workflows.jobs.JobRunner`: learning-rate finder, search, transfer, profiling) are
both this runner:

* the function gets ``(report, control)``: ``report(event)`` buffers progress events and
  sends them to the GUI thread in batches, at most `PROGRESS_HZ` times a second (an event for
  which the runner's ``urgent(event)`` is true goes at once, with what is buffered before it);
  ``control`` (a `backend.training.control.Control`) is what the function obeys between steps;
* while the function runs, garbage is collected on the GUI thread only (`gc_policy`): a
  collection of dead Qt wrappers in a worker thread crashed the test suite (SIGSEGV in
  "Garbage-collecting");
* worker signals reach the GUI only through `@Slot` methods of the runner, which lives in the
  GUI thread; the thread is always joined (after the run, on `shutdown`), and a late signal
  of a run already shut down is ignored;
* `done` carries the `Outcome` (the function's result, or an error worded for a person) once
  the thread has been joined.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from builder import gc_policy
from builder.training.guard import gui_only

#: Upper bound on progress deliveries per second (the plots redraw at the same rate).
PROGRESS_HZ = 30.0

#: ``fn(report, control) -> result``
JobFunction = Callable[[Callable[[Any], None], Any], Any]


def default_threads() -> int:
    """Torch threads for background work: all cores but one, so the GUI thread keeps one."""
    return max(1, (os.cpu_count() or 2) - 1)


class JobError(Exception):
    """A job that cannot do what was asked; the message is shown as it is."""


@dataclass
class Outcome:
    """What the worker hands back: the function's result, or an error message."""

    job_id: int
    result: Any = None
    error: str | None = None
    detail: str = ""
    seconds: float = 0.0


def user_message(exc: BaseException) -> tuple[str, str]:
    """(message for a person, traceback for the log) of an exception raised by a job."""
    from graph.errors import GraphError

    if isinstance(exc, GraphError):
        return exc.message, ""
    if isinstance(exc, (JobError, ValueError, OSError)):
        return str(exc), ""
    if type(exc).__name__ in ("_UsageError", "ModelImportError"):  # backend CLI helpers
        return getattr(exc, "message", None) or str(exc), ""
    return (f"Unexpected error: {type(exc).__name__}: {exc}",
            "".join(traceback.format_exception(exc)))


class _Worker(QObject):
    """Runs one function in the thread it was moved to."""

    progress = Signal(list)
    done = Signal(object)  # Outcome

    def __init__(self, fn: JobFunction, job_id: int, control: Any, threads: int | None,
                 urgent: Callable[[Any], bool] | None) -> None:
        super().__init__()
        self.fn = fn
        self.job_id = job_id
        self.threads = threads
        self.control = control
        self._urgent = urgent
        self._buffer: list[Any] = []
        self._last = 0.0
        self._interval = 1.0 / PROGRESS_HZ

    def report(self, event: Any) -> None:
        # Runs in the worker thread, maybe once per batch: keep it tiny (the GIL is shared).
        self._buffer.append(event)
        now = time.monotonic()
        if now - self._last >= self._interval or (self._urgent is not None
                                                   and self._urgent(event)):
            self._flush(now)

    def _flush(self, now: float) -> None:
        if self._buffer:
            batch, self._buffer = self._buffer, []
            self.progress.emit(batch)
        self._last = now

    @Slot()
    def run(self) -> None:
        outcome = Outcome(self.job_id)
        start = time.perf_counter()
        try:
            if self.threads:
                from builder.warmup import preload_torch  # its big library without the GIL

                preload_torch()
                import torch

                torch.set_num_threads(self.threads)
            outcome.result = self.fn(self.report, self.control)
        except BaseException as exc:  # noqa: BLE001 - the thread must end and report, always
            outcome.error, outcome.detail = user_message(exc)
        finally:
            outcome.seconds = time.perf_counter() - start
            self._flush(time.monotonic())
            self.done.emit(outcome)
            app = QCoreApplication.instance()
            if app is not None:  # hand the worker back so the GUI can delete it safely
                self.moveToThread(app.thread())
            QThread.currentThread().quit()


class BackgroundRunner(QObject):
    """Runs at most one function at a time in a background thread; re-emits on the GUI
    thread. ``threads``: torch threads set in the worker (None: leave them); ``urgent``:
    which reported events skip the buffer."""

    progress = Signal(list)  # events reported since the last delivery, in order
    done = Signal(object)  # Outcome, after the thread was joined
    runningChanged = Signal(bool)

    def __init__(self, name: str = "job", parent: QObject | None = None,
                 threads: int | None = None,
                 urgent: Callable[[Any], bool] | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.threads = threads
        self.urgent = urgent
        self._worker: _Worker | None = None
        self._thread: QThread | None = None
        self._job_id = 0
        #: Closed with its window or dialog: it starts nothing more (a timer firing after the
        #: close would otherwise start a thread nobody joins).
        self.closed = False

    def running(self) -> bool:
        return self._worker is not None

    @property
    def control(self) -> Any:
        """The running function's control (None when idle)."""
        return None if self._worker is None else self._worker.control

    @gui_only
    def start(self, fn: JobFunction, control: Any = None) -> bool:
        """Run ``fn(report, control)`` in a new thread; False if one is already running.
        ``control``: a `Control` (default: a new one)."""
        if self._worker is not None or self.closed:
            return False
        if control is None:
            from backend.training.control import Control  # Qt-free, torch-free

            control = Control()
        gc_policy.hold()  # released in _release, once the thread is joined
        self._job_id += 1
        worker = _Worker(fn, self._job_id, control, self.threads, self.urgent)
        thread = QThread()
        thread.setObjectName(f"netcanvas-{self.name}")
        worker.moveToThread(thread)
        worker.progress.connect(self._on_progress)
        worker.done.connect(self._on_done)
        thread.started.connect(worker.run)
        self._worker, self._thread = worker, thread
        thread.start()
        self.runningChanged.emit(True)
        return True

    def stop(self) -> None:
        """Ask the function to stop at its next check (returns at once)."""
        if self._worker is not None:
            self._worker.control.stop()

    @gui_only
    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Stop and join the thread (dialog or window closing, app quit); True when joined."""
        if self._worker is None or self._thread is None:
            return True
        self._worker.control.stop()
        joined = self._thread.wait(timeout_ms)
        if joined:
            self._release()
        return joined

    @gui_only
    def close(self, timeout_ms: int = 30000) -> bool:
        """`shutdown`, and refuse every later `start` (the owner is going away)."""
        self.closed = True
        return self.shutdown(timeout_ms)

    def _release(self) -> None:
        self._worker = None
        self._thread = None
        gc_policy.release()
        self.runningChanged.emit(False)

    @Slot(list)
    @gui_only
    def _on_progress(self, events: list) -> None:
        if self._worker is not None:
            self.progress.emit(events)

    @Slot(object)
    @gui_only
    def _on_done(self, outcome: Outcome) -> None:
        if self._worker is None or outcome.job_id != self._worker.job_id:
            return  # a late signal from a run already shut down and joined
        if self._thread is not None:
            self._thread.wait()  # the worker quit its thread: this returns promptly
        self._release()
        self.done.emit(outcome)
