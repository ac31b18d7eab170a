"""The background run: a QObject worker moved to a QThread, and its GUI-thread owner.

Events cross threads only through the worker's signals, connected to `@Slot` methods of
`TrainingSession`, a QObject that lives in the GUI thread (so Qt queues them). Batch events
are buffered in the worker and sent at most `BATCH_HZ` times a second; every other event is
sent as it happens. The thread is always joined: after a run, on stop, and in `shutdown`.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from builder.training.guard import gui_only

#: Upper bound on batch-event deliveries per second (the plots redraw at the same rate).
BATCH_HZ = 30.0
#: The GIL switch interval while a run is on (Python's default is 5 ms). The GUI thread and the
#: worker hand the GIL back and forth many times per paint and per batch; with 5 ms each hand-over
#: can stall the other thread that long (the "convoy effect"), which shows as GUI freezes and a
#: slower run. A short interval keeps both moving.
SWITCH_INTERVAL_S = 0.0005


def default_threads() -> int:
    """Torch threads for the worker: all cores but one, so the GUI thread keeps a core."""
    return max(1, (os.cpu_count() or 2) - 1)


@dataclass
class RunOutcome:
    """What a finished run hands to the GUI: its last event, the trainer and CPU weights."""

    result: Any  # Finished | Failed
    trainer: Any = None  # backend Trainer (its module is on the CPU copy below's device)
    state: dict[str, Any] | None = None  # CPU state_dict of the trained module
    seconds: float = 0.0  # from the start of the loop to its end
    run_id: int = 0


class TrainingWorker(QObject):
    """Runs one `backend.training.Trainer` in the thread it was moved to."""

    started = Signal(object)  # Started
    batches = Signal(list)  # [BatchEnd, …], at most BATCH_HZ per second
    event = Signal(object)  # EpochEnd, Warned, Paused, Resumed, Evaluated
    done = Signal(object)  # RunOutcome

    def __init__(self, doc: Any, *, data: Any = None, config: dict | None = None,
                 base_dir: str | None = None, threads: int | None = None,
                 run_id: int = 0) -> None:
        super().__init__()
        self.run_id = run_id
        from backend.training.control import Control  # Qt-free and torch-free

        self.doc = doc
        self.data = data
        self.config = config
        self.base_dir = base_dir
        self._threads = threads or default_threads()
        self.control = Control()
        self._buffer: list[Any] = []
        self._last_flush = 0.0
        self._interval = 1.0 / BATCH_HZ
        self._t0: float | None = None

    def _callback(self, event: Any) -> None:
        # Runs in the worker thread once per BatchEnd: keep it tiny (the GIL is shared).
        if type(event).__name__ == "BatchEnd":
            self._buffer.append(event)
            now = time.monotonic()
            if now - self._last_flush >= self._interval:
                self._flush(now)
            return
        self._flush(time.monotonic())
        if type(event).__name__ == "Started":
            self._t0 = time.perf_counter()
            self.started.emit(event)
        elif type(event).__name__ not in ("Finished", "Failed"):
            self.event.emit(event)

    def _flush(self, now: float) -> None:
        if self._buffer:
            batch, self._buffer = self._buffer, []
            self.batches.emit(batch)
        self._last_flush = now

    @Slot()
    def run(self) -> None:
        """Train (in the worker thread), then hand the result over and end the thread."""
        outcome = RunOutcome(None, run_id=self.run_id)
        try:
            import torch

            from backend.training import Failed, Trainer

            torch.set_num_threads(self._threads)
            try:
                trainer = Trainer(self.doc, data=self.data, config=self.config,
                                  base_dir=self.base_dir)
            except (ValueError, TypeError) as exc:
                outcome.result = Failed(str(exc), traceback.format_exc())
            else:
                outcome.trainer = trainer
                outcome.result = trainer.run(self._callback, self.control)
                if trainer.module is not None and type(outcome.result).__name__ == "Finished":
                    outcome.state = {k: v.detach().to("cpu").clone()
                                     for k, v in trainer.module.state_dict().items()}
        except BaseException as exc:  # noqa: BLE001 - the thread must end and report, always
            from backend.training import Failed

            outcome.result = Failed(f"Training failed: {type(exc).__name__}: {exc}",
                                    traceback.format_exc())
        finally:
            if self._t0 is not None:
                outcome.seconds = time.perf_counter() - self._t0
            self._flush(time.monotonic())
            self.done.emit(outcome)
            app = QCoreApplication.instance()
            if app is not None:  # hand the worker back so the GUI can delete it safely
                self.moveToThread(app.thread())
            QThread.currentThread().quit()


class TrainingSession(QObject):
    """Owns at most one running worker and its thread; re-emits events on the GUI thread."""

    runStarted = Signal(object)  # Started
    batchesArrived = Signal(list)
    eventArrived = Signal(object)
    runDone = Signal(object)  # RunOutcome, after the thread was joined

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self.worker: TrainingWorker | None = None
        self._run_id = 0
        self._switch_interval = sys.getswitchinterval()

    # --- control (GUI thread) ------------------------------------------------------------------
    def running(self) -> bool:
        return self.worker is not None

    @gui_only
    def start(self, doc: Any, *, data: Any = None, config: dict | None = None,
              base_dir: str | None = None, threads: int | None = None) -> None:
        """Train ``doc`` (a snapshot: the live document may change meanwhile) in a new thread."""
        if self.worker is not None:
            raise RuntimeError("A run is already in progress; stop it first.")
        self._run_id += 1
        worker = TrainingWorker(doc, data=data, config=config, base_dir=base_dir,
                                threads=threads, run_id=self._run_id)
        thread = QThread()
        thread.setObjectName("netcanvas-training")
        worker.moveToThread(thread)
        worker.started.connect(self._on_started)
        worker.batches.connect(self._on_batches)
        worker.event.connect(self._on_event)
        worker.done.connect(self._on_done)
        thread.started.connect(worker.run)
        self.worker, self._thread = worker, thread
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(SWITCH_INTERVAL_S, self._switch_interval))
        thread.start()

    def pause(self) -> None:
        if self.worker is not None:
            self.worker.control.pause()

    def resume(self) -> None:
        if self.worker is not None:
            self.worker.control.resume()

    def stop(self) -> None:
        """Ask the run to stop after the current batch (returns at once)."""
        if self.worker is not None:
            self.worker.control.stop()

    @gui_only
    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Stop the run and join its thread (window close, app quit); True when joined."""
        if self.worker is None or self._thread is None:
            return True
        self.worker.control.stop()
        joined = self._thread.wait(timeout_ms)
        if joined:
            self._release()
        return joined

    def _release(self) -> None:
        self.worker = None
        self._thread = None
        sys.setswitchinterval(self._switch_interval)

    # --- worker signals (queued onto the GUI thread) ----------------------------------------
    @Slot(object)
    @gui_only
    def _on_started(self, event: Any) -> None:
        self.runStarted.emit(event)

    @Slot(list)
    @gui_only
    def _on_batches(self, events: list) -> None:
        self.batchesArrived.emit(events)

    @Slot(object)
    @gui_only
    def _on_event(self, event: Any) -> None:
        self.eventArrived.emit(event)

    @Slot(object)
    @gui_only
    def _on_done(self, outcome: RunOutcome) -> None:
        if self.worker is None or outcome.run_id != self.worker.run_id:
            return  # a late signal from a run already shut down and joined
        if self._thread is not None:
            self._thread.wait()  # the worker quit its thread: this returns promptly
        self._release()
        self.runDone.emit(outcome)
