"""The background training run: `TrainingSession`, the app's one background runner
(`builder.background`) with a training job.

The Trainer runs in the persistent training process (`backend.training.process`: its own
interpreter, so its per-batch Python work never waits for the GUI thread's GIL, nor the GUI
for it); the worker thread relays its events, blocked on the pipe (without the GIL) in between.
With ``NETCANVAS_TRAIN_IN_PROCESS=0``, or when that process cannot start, the worker trains in
its own thread instead; both paths report through the same callback.

Batch events are buffered and sent at most `PROGRESS_HZ` times a second; every other event is
sent as it happens (with the batches before it). The thread is always joined: after a run, on
stop, and in `shutdown`.
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
from builder.background import BackgroundRunner, Outcome, default_threads
from builder.training.guard import gui_only

#: The GIL switch interval while a run trains in the worker thread (Python's default is 5 ms).
#: The GUI thread and the worker hand the GIL back and forth many times per paint and per batch;
#: with 5 ms each hand-over can stall the other thread that long (the "convoy effect"), which
#: shows as GUI freezes and a slower run. A short interval keeps both moving.
SWITCH_INTERVAL_S = 0.0005
#: "0" trains in the worker thread of the app's own process instead of the training process.
PROCESS_ENV = "NETCANVAS_TRAIN_IN_PROCESS"


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


class TrainingJob:
    """The function the runner calls in its thread: train one design (in the training
    process, or here), relay its events, return a `RunOutcome`."""

    def __init__(self, doc: Any, *, data: Any = None, config: dict | None = None,
                 base_dir: str | None = None, threads: int | None = None,
                 initial_weights: dict | None = None, record: dict | None = None) -> None:
        self.doc = doc
        self.data = data
        self.config = config
        self.base_dir = base_dir
        self.initial_weights = initial_weights
        #: {"folder": run folder, "resume": bool}: record the run there (backend.runs.writer).
        self.record = record
        self.threads = threads or default_threads()
        self._report: Any = None
        self._t0: float | None = None
        self._t1: float | None = None

    def _callback(self, event: Any) -> None:
        # Runs in the worker thread once per BatchEnd: keep it tiny (the GIL is shared).
        kind = type(event).__name__
        if kind == "Started":
            self._t0 = time.perf_counter()
        elif kind in ("Finished", "Failed"):
            self._t1 = time.perf_counter()
            return  # the run's end arrives as the outcome
        self._report(event)

    def __call__(self, report: Any, control: Any) -> RunOutcome:
        self._report = report
        outcome = RunOutcome(None)
        try:
            handle = self._hand_over(control)
            if handle is not None:
                self._relay(handle, outcome)
            else:
                self._train_here(outcome, control)
        except BaseException as exc:  # noqa: BLE001 - the run must end and report, always
            from backend.training.events import Failed

            outcome.result = Failed(f"Training failed: {type(exc).__name__}: {exc}",
                                    traceback.format_exc())
        if self._t0 is not None:
            outcome.seconds = (self._t1 or time.perf_counter()) - self._t0
        return outcome

    def _hand_over(self, control: Any) -> Any:
        """Start the run in the training process; None to train in this thread instead."""
        server = training_server()
        if server is None:
            return None
        from backend.training.events import Warned
        from backend.training.process import ServerUnavailable
        from graph.project import to_dict

        try:
            handle = server.start_run(to_dict(self.doc), self.data, self.config,
                                      threads=self.threads, base_dir=self.base_dir,
                                      initial_weights=self.initial_weights,
                                      record=self.record)
        except ServerUnavailable as exc:
            self._report(Warned(f"{exc} Training in the app's own process instead."))
            return None
        control.attach(handle)
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

    def _train_here(self, outcome: RunOutcome, control: Any) -> None:
        """The fallback: the Trainer in this thread (shares the GIL with the GUI)."""
        import torch

        from backend.training.events import Failed
        from backend.training.trainer import Trainer

        torch.set_num_threads(self.threads)
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
        outcome.result = trainer.run(callback, control)
        if trainer.module is not None and type(outcome.result).__name__ == "Finished":
            outcome.state = {k: v.detach().to("cpu").clone()
                             for k, v in trainer.module.state_dict().items()}


def _urgent(event: Any) -> bool:
    """Batch events wait in the buffer; every other event goes at once."""
    return type(event).__name__ != "BatchEnd"


class TrainingSession(BackgroundRunner):
    """Trains at most one design at a time in the background; re-emits its events on the GUI
    thread: `runStarted`, `batchesArrived` (batch events), `eventArrived` (epochs, warnings,
    pause/resume, evaluation) and `runDone` (the `RunOutcome`, after the thread was joined)."""

    runStarted = Signal(object)  # Started
    batchesArrived = Signal(list)
    eventArrived = Signal(object)
    runDone = Signal(object)  # RunOutcome, after the thread was joined

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__("training", parent, urgent=_urgent)
        self._switch_interval = sys.getswitchinterval()
        self.progress.connect(self._dispatch)
        self.done.connect(self._finished)

    @gui_only
    def start(self, doc: Any, *, data: Any = None, config: dict | None = None,
              base_dir: str | None = None, threads: int | None = None,
              initial_weights: dict | None = None, record: dict | None = None) -> None:
        """Train ``doc`` (a snapshot: the live document may change meanwhile) in a new thread;
        ``record``: the run folder to record it in (see `TrainingJob`)."""
        if self.running():
            raise RuntimeError("A run is already in progress; stop it first.")
        from backend.training.process import RemoteControl  # Qt-free and torch-free

        job = TrainingJob(doc, data=data, config=config, base_dir=base_dir, threads=threads,
                          initial_weights=initial_weights, record=record)
        training_server()  # on the GUI thread: hooks the process's shutdown to app quit
        self._switch_interval = sys.getswitchinterval()  # _train_here lowers it; _release
        #: Pause/resume/stop: steers the Trainer here, or the run in the training process.
        super().start(job, RemoteControl())

    def pause(self) -> None:
        if self.control is not None:
            self.control.pause()

    def resume(self) -> None:
        if self.control is not None:
            self.control.resume()

    def _release(self) -> None:
        sys.setswitchinterval(self._switch_interval)
        super()._release()

    @Slot(list)
    @gui_only
    def _dispatch(self, events: list) -> None:
        batches: list[Any] = []
        for event in events:
            if type(event).__name__ == "BatchEnd":
                batches.append(event)
                continue
            if batches:
                self.batchesArrived.emit(batches)
                batches = []
            if type(event).__name__ == "Started":
                self.runStarted.emit(event)
            else:
                self.eventArrived.emit(event)
        if batches:
            self.batchesArrived.emit(batches)

    @Slot(object)
    @gui_only
    def _finished(self, outcome: Outcome) -> None:
        result = outcome.result
        if outcome.error is not None:  # a bug outside the job's own guard
            from backend.training.events import Failed

            result = RunOutcome(Failed(outcome.error, outcome.detail))
        result.run_id = outcome.job_id
        self.runDone.emit(result)
