"""A generic background job: a function run by a QObject worker moved to a QThread.

The job function gets ``(report, control)``: ``report(event)`` queues a progress event (sent to
the GUI at most `PROGRESS_HZ` times a second, in batches), ``control`` is a
`backend.training.Control` whose ``stop()`` the job obeys between steps. What the function
returns arrives in `JobRunner.finished`; an exception arrives in `JobRunner.failed` as a
message a person can act on. Worker signals reach the GUI only through `@Slot` methods of the
runner, which lives in the GUI thread; the thread is always joined (after the job, on
`shutdown`).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from builder import gc_policy
from builder.training.guard import gui_only

#: Upper bound on progress deliveries per second.
PROGRESS_HZ = 30.0

JobFunction = Callable[[Callable[[Any], None], Any], Any]


class JobError(Exception):
    """A job that cannot do what was asked; the message is shown as it is."""


@dataclass
class JobOutcome:
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
    """Runs one job function in the thread it was moved to."""

    progress = Signal(list)
    done = Signal(object)  # JobOutcome

    def __init__(self, fn: JobFunction, job_id: int, threads: int | None) -> None:
        super().__init__()
        from backend.training.control import Control  # Qt-free, torch-free

        self.fn = fn
        self.job_id = job_id
        self.threads = threads
        self.control = Control()
        self._buffer: list[Any] = []
        self._last = 0.0

    def report(self, event: Any) -> None:
        # Runs in the worker thread: buffer, and send a batch at most PROGRESS_HZ times a second.
        self._buffer.append(event)
        now = time.monotonic()
        if now - self._last >= 1.0 / PROGRESS_HZ:
            self._flush(now)

    def _flush(self, now: float) -> None:
        if self._buffer:
            batch, self._buffer = self._buffer, []
            self.progress.emit(batch)
        self._last = now

    @Slot()
    def run(self) -> None:
        outcome = JobOutcome(self.job_id)
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


class JobRunner(QObject):
    """Runs at most one job at a time in a background thread; re-emits on the GUI thread."""

    progress = Signal(list)  # events reported since the last delivery
    finished = Signal(object)  # the job function's return value
    failed = Signal(str)  # a message for a person
    runningChanged = Signal(bool)

    def __init__(self, name: str = "job", parent: QObject | None = None,
                 threads: int | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.threads = threads
        self._worker: _Worker | None = None
        self._thread: QThread | None = None
        self._job_id = 0
        self.last: JobOutcome | None = None
        self.detail = ""  # the traceback of the last unexpected failure (for the log)

    def running(self) -> bool:
        return self._worker is not None

    @gui_only
    def start(self, fn: JobFunction) -> bool:
        """Run ``fn(report, control)`` in a new thread; False if a job is already running."""
        if self._worker is not None:
            return False
        from builder.training.worker import default_threads

        # While the job runs, garbage is collected on the GUI thread only (see gc_policy): in
        # the test suite, a collection of dead Qt widgets that happened in a worker crashed the
        # process (SIGSEGV in "Garbage-collecting"). Released in _release, once joined.
        gc_policy.hold()
        self._job_id += 1
        worker = _Worker(fn, self._job_id, self.threads or default_threads())
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
        """Ask the job to stop at its next check (returns at once)."""
        if self._worker is not None:
            self._worker.control.stop()

    @gui_only
    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Stop the job and join its thread (dialog or window closing); True when joined."""
        if self._worker is None or self._thread is None:
            return True
        self._worker.control.stop()
        joined = self._thread.wait(timeout_ms)
        if joined:
            self._release()
        return joined

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
    def _on_done(self, outcome: JobOutcome) -> None:
        if self._worker is None or outcome.job_id != self._worker.job_id:
            return  # a late signal from a job already shut down and joined
        if self._thread is not None:
            self._thread.wait()  # the worker quit its thread: this returns promptly
        self._release()
        self.last = outcome
        if outcome.error is not None:
            self.detail = outcome.detail
            self.failed.emit(outcome.error)
        else:
            self.finished.emit(outcome.result)
