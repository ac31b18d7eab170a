"""The background run: a QObject worker moved to a QThread, and its GUI-thread owner.

The Trainer runs in the persistent training process (`backend.training.process`: its own
interpreter, so its per-batch Python work never waits for the GUI thread's GIL, nor the GUI
for it); the worker thread relays its events, blocked on the pipe (without the GIL) in between.
With ``NETCANVAS_TRAIN_IN_PROCESS=0``, or when that process cannot start, the worker trains in
its own thread instead; both paths report through the same callback.

Events cross threads only through the worker's signals, connected to `@Slot` methods of
`TrainingSession`, a QObject that lives in the GUI thread (so Qt queues them). Batch events
are buffered in the worker and sent at most `BATCH_HZ` times a second; every other event is
sent as it happens. The thread is always joined: after a run, on stop, and in `shutdown`.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from builder import gc_policy
from builder.training.guard import gui_only

#: Upper bound on batch-event deliveries per second (the plots redraw at the same rate).
BATCH_HZ = 30.0
#: The GIL switch interval while a run trains in the worker thread (Python's default is 5 ms).
#: The GUI thread and the worker hand the GIL back and forth many times per paint and per batch;
#: with 5 ms each hand-over can stall the other thread that long (the "convoy effect"), which
#: shows as GUI freezes and a slower run. A short interval keeps both moving.
SWITCH_INTERVAL_S = 0.0005
#: "0" trains in the worker thread of the app's own process instead of the training process.
PROCESS_ENV = "NETCANVAS_TRAIN_IN_PROCESS"


def default_threads() -> int:
    """Torch threads for the worker: all cores but one, so the GUI thread keeps a core."""
    return max(1, (os.cpu_count() or 2) - 1)


def process_enabled() -> bool:
    """Whether runs go to the training process (the default) or stay in the worker thread."""
    return os.environ.get(PROCESS_ENV, "1").strip() != "0"


_quit_hooked = False


def training_server() -> Any:
    """The app's shared `TrainingServer`, or None when runs stay in the worker thread.

    The server's child is shut down when the application quits (and at interpreter exit)."""
    global _quit_hooked
    if not process_enabled():
        return None
    from backend.training.process import shared_server, shutdown_shared_server

    server = shared_server()
    app = QCoreApplication.instance()
    if app is not None and not _quit_hooked and QThread.currentThread() is app.thread():
        _quit_hooked = True  # connected from the GUI thread, so it runs there on quit
        app.aboutToQuit.connect(shutdown_shared_server)
    return server


def prewarm() -> None:
    """Start the training process now, so that the first run does not wait for it to import
    torch. Call it once torch is imported in the app (the child is started from a short
    background thread; the GUI does not wait)."""
    server = training_server()
    if server is None or server.pid is not None:
        return

    def start() -> None:
        from backend.training.process import ServerUnavailable

        try:
            server.start()
        except ServerUnavailable:
            pass  # the first run says so and trains in the worker thread
        finally:
            gc_policy.release()

    gc_policy.hold()  # this thread runs Python: collect garbage on the GUI thread meanwhile

    threading.Thread(target=start, name="netcanvas-training-prewarm", daemon=True).start()


@dataclass
class RunOutcome:
    """What a finished run hands to the GUI: its last event, the trainer and CPU weights."""

    result: Any  # Finished | Failed
    trainer: Any = None  # backend Trainer (its module is on the CPU copy below's device)
    state: dict[str, Any] | None = None  # CPU state_dict of the trained module
    seconds: float = 0.0  # from the start of the loop to its end
    run_id: int = 0
    in_process: bool = False  # trained in the training process (not in the worker thread)


class TrainingWorker(QObject):
    """Runs one `backend.training.trainer.Trainer` in the thread it was moved to."""

    started = Signal(object)  # Started
    batches = Signal(list)  # [BatchEnd, …], at most BATCH_HZ per second
    event = Signal(object)  # EpochEnd, Warned, Paused, Resumed, Evaluated
    done = Signal(object)  # RunOutcome

    def __init__(self, doc: Any, *, data: Any = None, config: dict | None = None,
                 base_dir: str | None = None, threads: int | None = None,
                 run_id: int = 0, initial_weights: dict | None = None,
                 record: dict | None = None) -> None:
        super().__init__()
        self.run_id = run_id
        self.initial_weights = initial_weights
        #: {"folder": run folder, "resume": bool}: record the run there (backend.runs.writer).
        self.record = record
        from backend.training.process import RemoteControl  # Qt-free and torch-free

        self.doc = doc
        self.data = data
        self.config = config
        self.base_dir = base_dir
        self._threads = threads or default_threads()
        #: Pause/resume/stop: steers the Trainer here, or the run in the training process.
        self.control = RemoteControl()
        self._buffer: list[Any] = []
        self._last_flush = 0.0
        self._interval = 1.0 / BATCH_HZ
        self._t0: float | None = None
        self._t1: float | None = None

    def _callback(self, event: Any) -> None:
        # Runs in the worker thread once per BatchEnd: keep it tiny (the GIL is shared).
        if type(event).__name__ == "BatchEnd":
            self._buffer.append(event)
            now = time.monotonic()
            if now - self._last_flush >= self._interval:
                self._flush(now)
            return
        self._flush(time.monotonic())
        kind = type(event).__name__
        if kind == "Started":
            self._t0 = time.perf_counter()
            self.started.emit(event)
        elif kind in ("Finished", "Failed"):
            self._t1 = time.perf_counter()
        else:
            self.event.emit(event)

    def _flush(self, now: float) -> None:
        if self._buffer:
            batch, self._buffer = self._buffer, []
            self.batches.emit(batch)
        self._last_flush = now

    @Slot()
    def run(self) -> None:
        """Train (in the training process, or here), then hand the result over and end the
        thread."""
        outcome = RunOutcome(None, run_id=self.run_id)
        try:
            handle = self._hand_over()
            if handle is not None:
                self._relay(handle, outcome)
            else:
                self._train_here(outcome)
        except BaseException as exc:  # noqa: BLE001 - the thread must end and report, always
            from backend.training.events import Failed

            outcome.result = Failed(f"Training failed: {type(exc).__name__}: {exc}",
                                    traceback.format_exc())
        finally:
            if self._t0 is not None:
                outcome.seconds = (self._t1 or time.perf_counter()) - self._t0
            self._flush(time.monotonic())
            self.done.emit(outcome)
            app = QCoreApplication.instance()
            if app is not None:  # hand the worker back so the GUI can delete it safely
                self.moveToThread(app.thread())
            QThread.currentThread().quit()

    def _hand_over(self) -> Any:
        """Start the run in the training process; None to train in this thread instead."""
        server = training_server()
        if server is None:
            return None
        from backend.training.events import Warned
        from backend.training.process import ServerUnavailable
        from graph.project import to_dict

        try:
            handle = server.start_run(to_dict(self.doc), self.data, self.config,
                                      threads=self._threads, base_dir=self.base_dir,
                                      initial_weights=self.initial_weights,
                                      record=self.record)
        except ServerUnavailable as exc:
            self.event.emit(Warned(f"{exc} Training in the app's own process instead."))
            return None
        self.control.attach(handle)
        return handle

    def _relay(self, handle: Any, outcome: RunOutcome) -> None:
        """Re-emit the child's events; keep its weights and a Trainer holding them."""
        from backend.training.process import restore_trainer

        try:
            for event in handle.events():  # blocks on the pipe, without the GIL
                self._callback(event)
        finally:
            handle.close()  # an early exit still ends the run, so the next one can start
        end = handle.end
        outcome.result, outcome.state, outcome.in_process = end.result, end.state, True
        if end.state is not None:
            try:
                outcome.trainer = restore_trainer(self.doc, end, self.data, self.config,
                                                  self.base_dir)
            except Exception:  # noqa: BLE001 - the weights stay; evaluation is unavailable
                traceback.print_exc()

    def _train_here(self, outcome: RunOutcome) -> None:
        """The fallback: the Trainer in this thread (shares the GIL with the GUI)."""
        import torch

        from backend.training.events import Failed
        from backend.training.trainer import Trainer

        torch.set_num_threads(self._threads)
        sys.setswitchinterval(min(SWITCH_INTERVAL_S, sys.getswitchinterval()))  # restored on join
        try:
            trainer = Trainer(self.doc, data=self.data, config=self.config,
                              base_dir=self.base_dir, initial_weights=self.initial_weights)
            callback = self._callback
            if self.record is not None:
                from backend.runs.writer import recording

                callback = recording(trainer, self.record["folder"], self._callback,
                                     resume=bool(self.record.get("resume")))
        except (ValueError, TypeError) as exc:  # RunFormatError is a ValueError
            outcome.result = Failed(str(exc), traceback.format_exc())
            return
        outcome.trainer = trainer
        outcome.result = trainer.run(callback, self.control)
        if trainer.module is not None and type(outcome.result).__name__ == "Finished":
            outcome.state = {k: v.detach().to("cpu").clone()
                             for k, v in trainer.module.state_dict().items()}


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
              base_dir: str | None = None, threads: int | None = None,
              initial_weights: dict | None = None, record: dict | None = None) -> None:
        """Train ``doc`` (a snapshot: the live document may change meanwhile) in a new thread;
        ``record``: the run folder to record it in (see `TrainingWorker`)."""
        if self.worker is not None:
            raise RuntimeError("A run is already in progress; stop it first.")
        self._run_id += 1
        worker = TrainingWorker(doc, data=data, config=config, base_dir=base_dir,
                                threads=threads, run_id=self._run_id,
                                initial_weights=initial_weights, record=record)
        thread = QThread()
        thread.setObjectName("netcanvas-training")
        worker.moveToThread(thread)
        worker.started.connect(self._on_started)
        worker.batches.connect(self._on_batches)
        worker.event.connect(self._on_event)
        worker.done.connect(self._on_done)
        thread.started.connect(worker.run)
        self.worker, self._thread = worker, thread
        gc_policy.hold()  # released in _release, once the thread is joined
        training_server()  # on the GUI thread: hooks the process's shutdown to app quit
        self._switch_interval = sys.getswitchinterval()  # _train_here lowers it; _release
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
        gc_policy.release()

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
