"""Train in a persistent child process: its own interpreter and GIL, reused across runs.

A desktop app that trains in a thread of its own process shares one GIL between the GUI's
Python work (painting plots) and the training loop's per-batch Python work; each stalls the
other. `TrainingServer` starts one child process (``spawn``: a fresh interpreter that imports
torch once, ~1.5–2 s) and reuses it for every run, so a run pays only for its own set-up.

The parent and the child talk over one duplex pipe:

* parent → child: ``("run", id, payload)`` (the design as its project JSON dict, the data, the
  training settings, the torch thread count and the project folder, pickled by the parent so
  that a payload the child cannot read fails that run, not the child), ``("pause" | "resume" |
  "stop", id)`` and ``("quit",)``;
* child → parent: ``("ready", pid)``, ``("event", id, event)`` for each `backend.training.events`
  event, and ``("end", id, result, state, prepared)`` when a run ends.

Tensors (evaluation results, the final weights, the data) travel through
``torch.multiprocessing``'s shared-memory sharing, not as copies in the pipe. In the child a
reader thread applies pause/resume/stop to the run's `Control` while the main thread trains.
When the child dies (a crash, the out-of-memory killer), the run's handle ends with a `Failed`
event saying so and the server starts a new child on the next run. Qt-free.
"""

from __future__ import annotations

import atexit
import os
import pickle
import queue
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.training.control import Control

#: How long a new child may take to import torch and say it is ready.
READY_TIMEOUT_S = 120.0
#: How long `shutdown` waits for the child to leave on its own before terminating it.
JOIN_TIMEOUT_S = 5.0
#: How often a waiting reader checks that the child is still alive.
LIVENESS_S = 1.0


class ServerUnavailable(RuntimeError):
    """The training process could not be started (or the run could not be handed to it)."""


@dataclass
class RunEnd:
    """How a run in the child ended: its last event and what the app keeps from it."""

    result: Any  # Finished | Failed
    state: dict[str, Any] | None = None  # CPU state dict of the trained module (Finished only)
    prepared: Any = None  # PreparedData the child loaded itself (None when data were given)


def _crash_message(code: int | None) -> str:
    text = "The training process ended unexpectedly"
    if code is None:
        text += " (exit code unknown)"
    elif code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        text += f" (exit code {code}: killed by {name})"
    else:
        text += f" (exit code {code})"
    if code == -signal.SIGKILL:
        text += (". The system may have run out of memory: try a smaller batch size, a smaller "
                 "model or less data")
    return text + ". The next run starts a new training process."


class RunHandle:
    """One run in the training process: read its events, pause, resume or stop it.

    Read events from one thread; `pause`, `resume` and `stop` may be called from any thread."""

    def __init__(self, server: TrainingServer, run_id: int) -> None:
        self.run_id = run_id
        self._server = server
        #: Set when the run has ended (its result, weights and data).
        self.end: RunEnd | None = None

    @property
    def done(self) -> bool:
        return self.end is not None

    def pause(self) -> None:
        self._server._command(("pause", self.run_id))

    def resume(self) -> None:
        self._server._command(("resume", self.run_id))

    def stop(self) -> None:
        self._server._command(("stop", self.run_id))

    def next_event(self, timeout: float | None = None) -> Any:
        """The next event, or None after ``timeout`` seconds without one (None: wait).

        The last event is `Finished` or `Failed`; after it `end` is set and this returns None.
        Waiting blocks on the pipe, which releases the GIL."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.end is None:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                msg = self._server._receive(left)
            except _ChildDied as died:
                from backend.training.events import Failed

                self.end = RunEnd(Failed(_crash_message(died.exitcode)))
                return self.end.result
            if msg is None:
                if deadline is not None and time.monotonic() >= deadline:
                    return None
                continue
            kind = msg[0]
            if len(msg) < 2 or msg[1] != self.run_id:
                continue  # a late message of an abandoned run
            if kind == "event":
                return msg[2]
            if kind == "end":
                # Private copies of the weights: a shared tensor holds a file descriptor for its
                # lifetime, and a large model has hundreds of tensors (the data stay shared).
                state = None if msg[3] is None else {k: v.clone() for k, v in msg[3].items()}
                self.end = RunEnd(msg[2], state, msg[4])
                self._server._run_ended(self)
                return self.end.result
        return None

    def close(self, timeout: float = JOIN_TIMEOUT_S) -> None:
        """Stop the run and read it to its end (a reader that gives up early calls this, so
        the next run can start); a child that does not end the run in time is shut down."""
        if self.end is not None:
            return
        self.stop()
        deadline = time.monotonic() + timeout
        while self.end is None and time.monotonic() < deadline:
            self.next_event(max(0.0, deadline - time.monotonic()))
        if self.end is None:
            self._server.shutdown()

    def events(self) -> Iterator[Any]:
        """Every event of the run, the last one being `Finished` or `Failed`."""
        while self.end is None:
            event = self.next_event()
            if event is not None:
                yield event


class _ChildDied(Exception):
    def __init__(self, exitcode: int | None) -> None:
        super().__init__(exitcode)
        self.exitcode = exitcode


class TrainingServer:
    """Owns one training child process, started lazily (or by `start`) and reused by runs.

    One run at a time. `shutdown` ends the child; the next `start_run` starts a new one."""

    def __init__(self, ready_timeout: float = READY_TIMEOUT_S) -> None:
        self.ready_timeout = ready_timeout
        self._lock = threading.Lock()  # the child's lifecycle and the active run
        self._send_lock = threading.Lock()  # whole messages, from any thread
        self._proc: Any = None
        self._conn: Any = None
        self._ready = False
        self._run_id = 0
        self._active: RunHandle | None = None
        #: How many child processes this server has started (reuse is visible here).
        self.starts = 0

    # --- lifecycle ---------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        """The child's process id while it is alive."""
        proc = self._proc
        return proc.pid if proc is not None and proc.is_alive() else None

    def start(self) -> None:
        """Start the child unless one is alive; returns at once (it imports torch meanwhile).

        Raises `ServerUnavailable` when no process can be started."""
        with self._lock:
            self._start_locked()

    def _start_locked(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            return
        self._discard_locked()
        import torch.multiprocessing as tmp  # registers the tensor-sharing reductions

        ctx = tmp.get_context("spawn")
        try:
            parent, child = ctx.Pipe(duplex=True)
            proc = ctx.Process(target=_child_main, args=(child,), name="netcanvas-training",
                               daemon=True)
            with _plain_main():
                proc.start()
        except (OSError, RuntimeError, ValueError) as exc:
            raise ServerUnavailable(f"The training process could not start: {exc}") from exc
        child.close()  # the child holds its end: its death shows here as end-of-file
        self._proc, self._conn, self._ready = proc, parent, False
        self.starts += 1

    def _discard_locked(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._proc is not None:
            self._proc.join(0.1)
            if self._proc.is_alive():
                self._proc.kill()
                self._proc.join(JOIN_TIMEOUT_S)
        self._proc, self._conn, self._ready = None, None, False

    def wait_ready(self) -> None:
        """Start the child if needed and wait until it has imported torch (benchmarks, tests;
        `start_run` does this itself). Raises `ServerUnavailable` when it cannot start."""
        self.start()
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        while not self._ready:
            left = deadline - time.monotonic()
            if left <= 0:
                self.shutdown()
                raise ServerUnavailable("The training process did not start within "
                                        f"{self.ready_timeout:.0f} s.")
            try:
                msg = self._receive(left)
            except _ChildDied as died:
                raise ServerUnavailable(_crash_message(died.exitcode)) from None
            if msg is not None and msg[0] == "ready":
                self._ready = True

    def shutdown(self, timeout: float = JOIN_TIMEOUT_S) -> None:
        """Ask the child to leave (a run in progress stops), join it; terminate it if it hangs.

        Safe to call twice and from any thread; leaves no child process behind."""
        with self._lock:
            proc, conn = self._proc, self._conn
            self._proc, self._conn, self._ready = None, None, False
            active, self._active = self._active, None
        if proc is None:
            return
        try:
            with self._send_lock:
                conn.send(("quit",))
        except (OSError, ValueError):
            pass  # already gone
        proc.join(timeout)
        if proc.is_alive():
            proc.terminate()
            proc.join(1.0)
        if proc.is_alive():
            proc.kill()
            proc.join()
        conn.close()
        proc.close()
        if active is not None and active.end is None:
            from backend.training.events import Failed

            active.end = RunEnd(Failed("The training process was shut down during the run."))

    # --- runs --------------------------------------------------------------------------------
    def start_run(self, doc_json: dict, data: Any = None, config: dict | None = None, *,
                  threads: int = 1, base_dir: str | Path | None = None,
                  initial_weights: dict | None = None, record: dict | None = None
                  ) -> RunHandle:
        """Hand a run to the child (starting it if needed) and return its handle.

        ``doc_json``: the design as `graph.project.to_dict` writes it; ``data``: `PreparedData`
        or None (the design's data section); ``config``: training settings or None (the design's
        training section); ``record``: ``{"folder": run folder, "resume": bool}`` to record the
        run there (`backend.runs.writer`; with resume, continue it from its checkpoint). Raises
        `ServerUnavailable` when the child cannot start or the run cannot be handed over (the
        caller may then train in its own process)."""
        from multiprocessing.reduction import ForkingPickler

        import torch.multiprocessing  # noqa: F401 - tensors below travel as shared memory

        with self._lock:
            if self._active is not None and self._active.end is None:
                raise RuntimeError("A run is already in progress in the training process.")
            self._start_locked()
        self._wait_ready()
        try:
            payload = bytes(ForkingPickler.dumps(
                (doc_json, data, config, int(threads), None if base_dir is None
                 else str(base_dir), initial_weights, record)))
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise ServerUnavailable(f"The run cannot be sent to the training process: {exc}"
                                    ) from exc
        with self._lock:
            self._run_id += 1
            handle = RunHandle(self, self._run_id)
            self._active = handle
        self._command(("run", handle.run_id, payload))  # a dead child shows as its end
        return handle

    def _run_ended(self, handle: RunHandle) -> None:
        with self._lock:
            if self._active is handle:
                self._active = None

    def _command(self, msg: tuple) -> None:
        conn = self._conn
        if conn is None:
            return
        try:
            with self._send_lock:
                conn.send(msg)
        except (OSError, ValueError):
            pass  # the child died: the reader of the run reports it

    def _receive(self, timeout: float | None) -> Any:
        """One message, or None after ``timeout``; raises `_ChildDied` when the child is gone."""
        conn, proc = self._conn, self._proc
        if conn is None or proc is None:
            raise _ChildDied(None)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = LIVENESS_S if deadline is None else min(
                LIVENESS_S, max(0.0, deadline - time.monotonic()))
            try:
                if conn.poll(left):
                    return conn.recv()
                alive = proc.is_alive()
            except (EOFError, OSError, ValueError):  # ValueError: closed by shutdown meanwhile
                raise _ChildDied(self._reap(proc)) from None
            if not alive:
                raise _ChildDied(self._reap(proc))
            if deadline is not None and time.monotonic() >= deadline:
                return None

    def _reap(self, proc: Any) -> int | None:
        """The dead child's exit code; forget it so the next run starts a new one."""
        try:
            proc.join(JOIN_TIMEOUT_S)
            code = proc.exitcode
        except ValueError:  # closed by shutdown meanwhile
            code = None
        with self._lock:
            if self._proc is proc:
                self._discard_locked()
            self._active = None
        return code


@contextmanager
def _plain_main() -> Iterator[None]:
    """Start a spawn child without re-running the parent's ``__main__`` script in it.

    Spawn imports the parent's main script in the child so that functions defined there can be
    unpickled; ours live in this module. Hiding the script keeps the child free of the app's
    imports (Qt, the benchmark's set-up) and quick to start."""
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    with _MAIN_LOCK:
        saved = dict(main.__dict__)
        main.__dict__.pop("__file__", None)
        main.__spec__ = None
        try:
            yield
        finally:
            for key in ("__file__", "__spec__"):
                if key in saved:
                    main.__dict__[key] = saved[key]


_MAIN_LOCK = threading.Lock()


# --- the child -------------------------------------------------------------------------------

def _child_main(conn: Any) -> None:
    """The training process: import once, then train the runs the parent sends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in a terminal is the app's to handle
    import torch.multiprocessing  # noqa: F401 - shares tensors sent back to the parent

    _warm_up()

    jobs: queue.Queue = queue.Queue()
    controls: dict[int, Control] = {}
    lock = threading.Lock()
    reader = threading.Thread(target=_read_commands, args=(conn, jobs, controls, lock),
                              name="netcanvas-training-commands", daemon=True)
    reader.start()
    try:
        conn.send(("ready", os.getpid()))
        while True:
            job = jobs.get()
            if job is None:
                break
            _run_job(conn, job, controls, lock)
    except (OSError, EOFError):
        pass  # the app went away


def _warm_up() -> None:
    """Pay the first-use costs once, before saying "ready": the imports of a run (the shape
    analysis on meta tensors alone imports ~1.5 s of torch) and the first forward/backward."""
    from backend.training.trainer import Trainer

    try:
        from graph.examples import load_example

        Trainer(load_example("xor_mlp"), config={"epochs": 1, "device": "cpu"}).run()
    except Exception:  # noqa: BLE001 - a warm-up only; a real run reports its own errors
        traceback.print_exc()


def _read_commands(conn: Any, jobs: queue.Queue, controls: dict[int, Control],
                   lock: threading.Lock) -> None:
    """Child reader thread: queue runs, steer the running one; stop everything at the end."""
    try:
        while True:
            msg = conn.recv()
            kind = msg[0]
            if kind == "run":
                with lock:
                    controls[msg[1]] = Control()  # before a "stop" for it can arrive
                jobs.put(msg)
            elif kind in ("pause", "resume", "stop"):
                with lock:
                    control = controls.get(msg[1])
                if control is not None:
                    getattr(control, kind)()
            elif kind == "quit":
                break
    except (EOFError, OSError):
        pass  # the parent closed the pipe or died
    finally:
        with lock:
            for control in controls.values():
                control.stop()
        jobs.put(None)


def _run_job(conn: Any, job: tuple, controls: dict[int, Control],
             lock: threading.Lock) -> None:
    import torch

    from backend.training.events import Failed
    from backend.training.trainer import Trainer

    _, run_id, payload = job
    with lock:
        control = controls[run_id]
    result: Any = None
    state = prepared = None

    def report(event: Any) -> None:
        if type(event).__name__ not in ("Finished", "Failed"):  # those end the run below
            try:
                conn.send(("event", run_id, event))
            except (OSError, ValueError):  # the app is gone: the run stops after this batch
                control.stop()  # (and its recording, if any, ends as stopped, not failed)

    try:
        # The payload comes from our own parent over this private pipe (multiprocessing
        # unpickles everything on it anyway); it is unpacked here, in the job thread, so a
        # payload that cannot be rebuilt fails this run rather than the child's reader.
        from multiprocessing.reduction import ForkingPickler

        doc_json, data, config, threads, base_dir, initial, record = ForkingPickler.loads(
            payload)
        torch.set_num_threads(max(1, threads))
        from graph.project import from_dict

        doc = from_dict(doc_json)
        try:
            trainer = Trainer(doc, data=data, config=config, base_dir=base_dir,
                              initial_weights=initial)
            callback = report
            if record is not None:
                from backend.runs.writer import recording

                callback = recording(trainer, record["folder"], report,
                                     resume=bool(record.get("resume")))
        except (ValueError, TypeError) as exc:  # RunFormatError is a ValueError
            result = Failed(str(exc), traceback.format_exc())
        else:
            result = trainer.run(callback, control)
            if type(result).__name__ == "Finished" and trainer.module is not None:
                state = {k: v.detach().to("cpu").clone()
                         for k, v in trainer.module.state_dict().items()}
                if data is None:
                    prepared = trainer.prepared
    except (OSError, EOFError):
        raise  # the pipe is gone
    except BaseException as exc:  # noqa: BLE001 - the run must end and report, always
        result = Failed(f"Training failed: {type(exc).__name__}: {exc}", traceback.format_exc())
    finally:
        with lock:
            controls.pop(run_id, None)
    conn.send(("end", run_id, result, state, prepared))


# --- after a run -----------------------------------------------------------------------------

def restore_trainer(doc: Any, end: RunEnd, data: Any = None, config: dict | None = None,
                    base_dir: str | Path | None = None) -> Any:
    """A `Trainer` in this process that holds the run's final weights, data and history.

    The app evaluates and predicts with it after a run in the child. None when the run kept no
    weights (it failed)."""
    if end.state is None:
        return None
    from backend.training.trainer import Trainer

    trainer = Trainer(doc, data=end.prepared if data is None else data, config=config,
                      base_dir=base_dir)
    trainer.prepare()
    trainer.module.load_state_dict(end.state)
    trainer.history = list(getattr(end.result, "history", []))
    return trainer


# --- one server per process ------------------------------------------------------------------

_shared: TrainingServer | None = None
_shared_lock = threading.Lock()


def shared_server() -> TrainingServer:
    """The process-wide server (created on first use, shut down at exit)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = TrainingServer()
            atexit.register(shutdown_shared_server)
        return _shared


def shutdown_shared_server() -> None:
    """End the shared server's child, if any (app quit, end of a test session)."""
    with _shared_lock:
        server = _shared
    if server is not None:
        server.shutdown()


class RemoteControl(Control):
    """A `Control` that also steers a run in the training process once `attach`-ed.

    Calls made before the handle exists are replayed when it is attached, so a Stop pressed
    while the run is being handed over is not lost."""

    def __init__(self) -> None:
        super().__init__()
        self._handle: RunHandle | None = None
        self._forward = threading.Lock()

    def attach(self, handle: RunHandle) -> None:
        with self._forward:
            self._handle = handle
            if self.stopped:
                handle.stop()
            elif self.paused:
                handle.pause()

    def pause(self) -> None:
        with self._forward:
            super().pause()
            if self._handle is not None:
                self._handle.pause()

    def resume(self) -> None:
        with self._forward:
            super().resume()
            if self._handle is not None:
                self._handle.resume()

    def stop(self) -> None:
        with self._forward:
            super().stop()
            if self._handle is not None:
                self._handle.stop()


__all__ = ["RunEnd", "RunHandle", "ServerUnavailable", "TrainingServer", "restore_trainer",
           "shared_server", "shutdown_shared_server", "RemoteControl"]
