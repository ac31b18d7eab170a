"""Record a running Trainer into its run folder, with checkpoints, from its event callback.

The writer is a callback of the Trainer (`recording` chains it before the caller's own), so it
runs in the training thread, between batches, and sees the Trainer exactly as the event left
it. At an epoch's end (and, for long epochs, every `CHECKPOINT_SECONDS` at a batch report) it
writes, in this order: the history so far, the best weights when they improved, a checkpoint
(`Trainer.checkpoint`: weights, optimizer and schedule state, RNG, position, history) into a new
``checkpoint-NNNNNN`` folder, then the pointer ``checkpoint.json`` (atomically) and the record
``run.json``. A process killed at any moment leaves a complete previous checkpoint that the
pointer names; the history may be ahead of it and is cut back to it when the run is read for a
resume. Checkpoints are skipped while they would cost more than `BUDGET` of the training time
(measured: the last checkpoint's cost against the time since it), so short epochs do not pay
for a checkpoint each.

The same writer serves `netcanvas train` and the app's training process.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backend.runs.files import (
    BEST,
    CHECKPOINT,
    CHECKPOINT_DIR,
    EVALUATION,
    HISTORY,
    RUN,
    TENSORBOARD,
    WEIGHTS,
    RunFormatError,
    fsync_files,
    fsync_folder,
    jsonable,
    read_json,
    remove_tree,
    replace_file,
    write_json,
)
from backend.runs.record import RunHistory, parse_history, parse_run, summarize
from backend.runs.tensorboard import TensorBoardLog

#: A long epoch is checkpointed at most this often (at a batch report).
CHECKPOINT_SECONDS = 30.0
#: Checkpoints may take at most this share of the training time.
BUDGET = 0.02
#: The per-batch loss kept in history.json: at most this many points per output (pairs of
#: points are averaged as a run grows, so the whole run stays covered evenly).
MAX_BATCH_POINTS = 4096


class RunWriter:
    """A Trainer callback that records the run in ``folder`` (made by `create_run_folder`).

    ``resume``: continue the run recorded there from its last checkpoint (the Trainer is told
    to resume from it). ``every_epoch``: checkpoint at every epoch's end whatever it costs
    (benchmarks, tests). ``warn`` receives one message if the folder cannot be written (the
    run goes on unrecorded)."""

    def __init__(self, folder: str | os.PathLike[str], trainer: Any, *, resume: bool = False,
                 every_epoch: bool = False, checkpoint_seconds: float = CHECKPOINT_SECONDS,
                 budget: float = BUDGET, warn: Callable[[str], None] | None = None,
                 tensorboard: bool = True) -> None:
        self.folder = Path(folder)
        self.trainer = trainer
        self.every_epoch = every_epoch
        self.checkpoint_seconds = checkpoint_seconds
        self.budget = budget
        self._warn = warn
        self.failed: str | None = None
        info = parse_run(self.folder)  # validated; the raw record is updated below
        self.record: dict[str, Any] = read_json(self.folder, RUN)
        self.outputs = info.outputs
        self.history = RunHistory()
        self._stride = 1
        self._pending: tuple[int, int, dict[str, float], int] | None = None
        self._seconds_before = info.seconds
        self._step = info.steps
        self._checkpoints = 0
        self._last_checkpoint = (info.checkpoint.epoch, info.checkpoint.step) \
            if info.checkpoint else None
        self._ckpt_number = int(info.checkpoint.folder.split("-")[1]) if info.checkpoint else 0
        if resume:
            from backend.runs.store import checkpoint_folder

            ckpt = checkpoint_folder(self.folder)  # RunFormatError without a usable one
            try:
                trainer.resume_from(ckpt)
            except (OSError, ValueError, KeyError) as exc:  # CheckpointError is a ValueError
                raise RunFormatError(f"The checkpoint of run {info.id} cannot be read: {exc}"
                                     ) from None
            try:
                self.history = parse_history(self.folder).truncate(info.checkpoint.epoch,
                                                                  info.checkpoint.step)
            except RunFormatError:
                self.history = RunHistory()
            if len(self.history.epochs) < info.checkpoint.epoch:  # lost: the checkpoint's own
                from backend.training.checkpoints import META

                meta = read_json(ckpt, META)
                self.history.epochs = jsonable(meta.get("history", []))[:info.checkpoint.epoch]
            self._stride = int(self.history.batches.get("every", 1) or 1)
            self.record.setdefault("resumed", []).append(time.time())
        self._best = _best_so_far(self.history.epochs)
        self._best_state: dict[str, Any] | None = None
        self._t0 = time.perf_counter()
        self._last_save = time.perf_counter()
        self._cost = 0.0
        self._board = TensorBoardLog(self.folder / TENSORBOARD) if tensorboard else None
        self._flusher: threading.Thread | None = None
        self._flush_error: OSError | None = None

    # --- the callback --------------------------------------------------------------------------
    def __call__(self, event: Any) -> None:
        if self.failed is not None:
            return
        handler = getattr(self, "_on_" + type(event).__name__, None)
        if handler is None:
            return
        try:
            handler(event)
        except Exception as exc:  # noqa: BLE001 - recording must never stop the training
            detail = str(exc) if isinstance(exc, OSError) else f"{type(exc).__name__}: {exc}"
            self.failed = f"The run is no longer recorded in {self.folder}: {detail}"
            self._close()
            if self._warn is not None:
                self._warn(self.failed)

    def _on_Started(self, ev: Any) -> None:  # noqa: N802 - event names
        trainer = self.trainer
        prepared = trainer.prepared
        outputs = []
        for o in prepared.outputs:
            outputs.append({"name": o.output, "metric": o.metric,
                            "classes": list(o.classes) if o.classes else None})
        self.outputs = tuple(_output_info(o) for o in outputs)
        pre = prepared.preprocessing()
        self.history.preprocessing = pre
        self.record.update(status="running", writer_pid=os.getpid(), device=ev.device,
                           outputs=outputs, preprocessing=pre, message="",
                           samples={"train": ev.train_samples,
                                    "validation": ev.validation_samples,
                                    "test": ev.test_samples})
        self.record["epochs"] = {"planned": ev.epochs, "done": ev.start_epoch}
        self.record.setdefault("settings", {}).setdefault("training", {})["seed"] = \
            trainer.config.seed
        self._t0 = time.perf_counter()
        if self._last_checkpoint is None:
            self._checkpoint()  # a run is resumable from its first step on
        else:
            self._write_record()

    def _on_BatchEnd(self, ev: Any) -> None:  # noqa: N802
        self._step = ev.step
        self._add_point(ev.step, ev.epoch, ev.losses)
        now = time.perf_counter()
        if now - self._last_save >= max(self.checkpoint_seconds, self._cost / self.budget):
            self._checkpoint()

    def _on_EpochEnd(self, ev: Any) -> None:  # noqa: N802
        self._flush_point()
        entry = {"epoch": ev.epoch, "train": ev.train, "validation": ev.validation,
                 "train_loss": ev.train_loss, "validation_loss": ev.validation_loss,
                 "lr": ev.lr, "seconds": ev.seconds}
        self.history.epochs.append(jsonable(entry))
        monitored = ev.validation_loss if ev.validation_loss is not None else ev.train_loss
        if monitored is not None and math.isfinite(monitored) and (
                self._best is None or monitored < self._best[0]):
            self._best = (monitored, ev.epoch)
            self._best_state = {k: v.detach().to("cpu", copy=True)
                                for k, v in self.trainer.module.state_dict().items()}
        if self._board is not None:
            self._board.epoch(ev)
        now = time.perf_counter()
        if self.every_epoch or now - self._last_save >= self._cost / self.budget:
            self._checkpoint()

    def _on_Evaluated(self, ev: Any) -> None:  # noqa: N802
        self.history.evaluation = {"split": ev.split, "metrics": jsonable(ev.metrics),
                                   "confusion": jsonable(ev.confusion)}
        tensors = {f"predictions.{k}": v for k, v in ev.predictions.items()}
        tensors.update({f"targets.{k}": v for k, v in ev.targets.items()})
        if tensors:
            self._save_state(tensors, EVALUATION)
        self.record["evaluation"] = {"split": ev.split, "metrics": jsonable(ev.metrics)}

    def _on_Finished(self, ev: Any) -> None:  # noqa: N802
        self._flush_point()
        trainer = self.trainer
        self.history.status = ev.reason
        self.record.update(status=ev.reason, best_epoch=self._best[1] if self._best else None)
        self._step = ev.steps
        if getattr(trainer, "optimizer", None) is None:  # stopped before it could start
            self._write_history()
            self._write_record(ended=True)
        else:
            self._save_state(trainer.module.state_dict(), WEIGHTS)
            self._checkpoint(ended=True)  # a stopped run resumes from here; any can go on
        self._close()

    def _on_Failed(self, ev: Any) -> None:  # noqa: N802
        self._flush_point()
        self.history.status, self.history.error = "failed", ev.message
        self.record.update(status="failed", message=ev.message)
        self._join_flush()
        if self._best_state is not None:
            self._save_state(self._best_state, BEST)
        self._write_history()  # the last checkpoint stays: the state before the failure
        fsync_files(self.folder, [HISTORY, BEST])
        self._write_record(ended=True)
        self._close()

    # --- writing -------------------------------------------------------------------------------
    def _checkpoint(self, ended: bool = False) -> None:
        """Write the history (and the best weights when they improved) and a checkpoint into a
        new folder, then, off the training thread, flush the checkpoint to disk and point
        ``checkpoint.json`` at it (a crash before that leaves the previous checkpoint named).
        At the end of the run all of it is flushed before the record says the run ended. The
        history and best weights are not flushed at every checkpoint; a resumed run rebuilds
        what a power cut lost of the history from the checkpoint."""
        from backend.training.checkpoints import save_checkpoint

        t0 = time.perf_counter()
        self._join_flush()  # checkpoints reach the disk in order
        self._write_history()
        if self._best_state is not None:
            self._save_state(self._best_state, BEST)
            self._best_state = None
        ckpt = self.trainer.checkpoint()  # references to the live tensors: no copy yet
        meta = ckpt.meta
        position = (meta["epoch"], meta["step"])
        self._step = meta["step"]
        if position != self._last_checkpoint:
            self._ckpt_number += 1
            name = f"checkpoint-{self._ckpt_number:06d}"
            remove_tree(self.folder / name)
            save_checkpoint(self.folder / name, ckpt)
            pointer = {"folder": name, "epoch": meta["epoch"], "step": meta["step"],
                       "batch": meta["batch"], "saved_at": time.time()}
            self._last_checkpoint = position
            self._checkpoints += 1
            if ended:
                self._flush(name, pointer)
            else:
                self._flusher = threading.Thread(target=self._flush_quietly,
                                                 args=(name, pointer), daemon=True,
                                                 name="netcanvas-checkpoint-flush")
                self._flusher.start()
        if ended:  # the run's files are final: on disk before the record says it ended
            fsync_files(self.folder, [HISTORY, WEIGHTS, BEST, EVALUATION])
        self._write_record(ended=ended)
        now = time.perf_counter()
        self._cost = now - t0
        self._last_save = now

    def _flush(self, name: str, pointer: dict[str, Any]) -> None:
        fsync_folder(self.folder / name)
        write_json(self.folder, CHECKPOINT, pointer)  # atomic and flushed
        self._remove_checkpoints(keep=name)

    def _flush_quietly(self, name: str, pointer: dict[str, Any]) -> None:
        try:
            self._flush(name, pointer)
        except OSError as exc:
            self._flush_error = exc

    def _join_flush(self) -> None:
        """Wait for the checkpoint being flushed; its error (a full disk) is raised here."""
        if self._flusher is not None:
            self._flusher.join()
            self._flusher = None
        error, self._flush_error = self._flush_error, None
        if error is not None:
            raise error

    def _write_history(self) -> None:
        batches = dict(self.history.batches, every=self._stride)
        write_json(self.folder, HISTORY, {
            "project": self.record.get("project", ""), "model": self.record.get("model", ""),
            "status": self.history.status or self.record.get("status", ""),
            "epochs": self.history.epochs, "batches": batches,
            "evaluation": self.history.evaluation, "preprocessing": self.history.preprocessing,
            **({"error": self.history.error} if self.history.error else {})}, indent=None,
            sync=False)

    def _write_record(self, ended: bool = False) -> None:
        record = self.record
        record["epochs"]["done"] = len(self.history.epochs)
        record["steps"] = int(self._step)
        record["seconds"] = self._seconds_before + time.perf_counter() - self._t0
        record["summary"] = summarize(self.history.epochs, self.outputs)
        record["best_epoch"] = self._best[1] if self._best else None
        if ended:
            record["writer_pid"] = None
            record["ended"] = time.time()
        write_json(self.folder, RUN, record, sync=ended)

    def _save_state(self, state: dict[str, Any], name: str) -> None:
        from backend.export.weights import save_state

        replace_file(self.folder, name, lambda tmp: save_state(state, tmp,
                                                               self.history.preprocessing))

    def _remove_checkpoints(self, keep: str) -> None:
        """Remove checkpoint folders other than ``keep`` (older ones, or half-written ones of
        a process that was killed)."""
        for entry in os.scandir(self.folder):
            if CHECKPOINT_DIR.match(entry.name) and entry.name != keep:
                remove_tree(Path(entry.path))

    def _close(self) -> None:
        if self._flusher is not None:
            self._flusher.join()
            self._flusher = None
        if self._board is not None:
            self._board.close()
            self._board = None

    # --- the per-batch loss, downsampled -------------------------------------------------------
    def _add_point(self, step: int, epoch: int, losses: dict[str, float]) -> None:
        if self._pending is None:
            self._pending = (step, epoch, dict(losses), 1)
        else:
            _, _, sums, n = self._pending
            for k, v in losses.items():
                sums[k] = sums.get(k, 0.0) + v
            self._pending = (step, epoch, sums, n + 1)
        if self._pending[3] >= self._stride:
            self._flush_point()

    def _flush_point(self) -> None:
        if self._pending is None:
            return
        step, epoch, sums, n = self._pending
        self._pending = None
        b = self.history.batches
        b["step"].append(step)
        b["epoch"].append(epoch)
        for k, v in sums.items():
            b["losses"].setdefault(k, [math.nan] * (len(b["step"]) - 1)).append(v / n)
        for values in b["losses"].values():
            if len(values) < len(b["step"]):
                values.append(math.nan)
        if len(b["step"]) > MAX_BATCH_POINTS:
            _halve(b)
            self._stride *= 2


def _halve(b: dict[str, Any]) -> None:
    """Average neighbouring points (the later step and epoch stand for the pair)."""
    n = len(b["step"]) // 2 * 2
    tail = {k: v[n:] for k, v in b["losses"].items()}
    b["losses"] = {k: [_mean(v[i], v[i + 1]) for i in range(0, n, 2)] + tail[k]
                   for k, v in b["losses"].items()}
    b["step"] = b["step"][1:n:2] + b["step"][n:]
    b["epoch"] = b["epoch"][1:n:2] + b["epoch"][n:]


def _mean(a: float, b: float) -> float:
    if not math.isfinite(a):
        return b
    if not math.isfinite(b):
        return a
    return (a + b) / 2


def _best_so_far(epochs: list[dict[str, Any]]) -> tuple[float, int] | None:
    best = None
    for e in epochs:
        value = e.get("validation_loss")
        value = e.get("train_loss") if value is None else value
        if value is not None and math.isfinite(value) and (best is None or value < best[0]):
            best = (value, e["epoch"])
    return best


def _output_info(item: dict[str, Any]) -> Any:
    from backend.runs.record import OutputInfo

    return OutputInfo(item["name"], item.get("metric", "none"),
                      tuple(item["classes"]) if item.get("classes") else None)


def recording(trainer: Any, folder: str | os.PathLike[str], report: Callable[[Any], None]
              | None = None, *, resume: bool = False, **options: Any) -> Callable[[Any], None]:
    """A callback for ``trainer.run`` that records the run in ``folder``, then passes each
    event on to ``report``; a write problem reaches ``report`` as one `Warned` event."""
    from backend.training.events import Warned

    def warn(message: str) -> None:
        if report is not None:
            report(Warned(message))

    writer = RunWriter(folder, trainer, resume=resume, warn=warn, **options)

    def callback(event: Any) -> None:
        writer(event)
        if report is not None:
            report(event)

    callback.writer = writer  # type: ignore[attr-defined]
    return callback
