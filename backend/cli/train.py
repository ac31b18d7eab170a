"""``netcanvas train PROJECT``: train a design headless, with a progress line, and write the run.

Writes ``DIR/history.json`` (per-epoch metrics per output and the final evaluation),
``DIR/weights.safetensors`` with the optimizer state beside it (so ``--resume DIR`` continues),
and a TensorBoard event log when the ``tensorboard`` package is installed. Under
``torchrun --nproc_per_node=K`` every process trains its shard with DistributedDataParallel and
rank 0 alone prints and writes. Ctrl-C stops after the current batch and saves a checkpoint.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from backend.training.metrics_text import format_metrics


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", help="project file (.json) to train")
    parser.add_argument("--epochs", type=int, help="number of epochs (overrides the project)")
    parser.add_argument("--batch-size", type=int, help="batch size (0 = full batch)")
    parser.add_argument("--lr", type=float, help="learning rate (overrides the project)")
    parser.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--threads", type=int, help="CPU threads for PyTorch")
    parser.add_argument("--out", help="folder for history.json, weights and logs "
                                      "(default: runs/<project name>)")
    parser.add_argument("--resume", metavar="DIR", help="continue the run saved in DIR")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object per event instead of a progress line")


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}:{seconds % 60:02d}"


class Progress:
    """A one-line progress bar per epoch with ETA (rewritten in place on a terminal)."""

    WIDTH = 24

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.epochs = self.steps = 0
        self.epoch_start = time.perf_counter()
        self.last_draw = 0.0

    def started(self, epochs: int, steps: int, first_epoch: int) -> None:
        self.epochs, self.steps = epochs, steps
        self.epoch_start = time.perf_counter()
        self.first_epoch = first_epoch

    def batch(self, epoch: int, batch: int, loss: float) -> None:
        now = time.perf_counter()
        if not self.tty or (now - self.last_draw < 0.1 and batch < self.steps):
            return
        self.last_draw = now
        done = batch / max(self.steps, 1)
        elapsed = now - self.epoch_start
        eta = elapsed / done * (1 - done) if done > 0 else 0.0
        filled = int(self.WIDTH * done)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.stream.write(f"\repoch {epoch}/{self.epochs} [{bar}] {done:4.0%} "
                          f"loss {loss:.4g}  ETA {_duration(eta)} ")
        self.stream.flush()

    def download(self, file: str, done: int, total: int | None) -> None:
        """A download's progress: a bar rewritten in place on a terminal, else one line a file."""
        finished = total is not None and done >= total
        if not self.tty:
            if done == 0:
                self.stream.write(f"downloading {file}\n")
                self.stream.flush()
            return
        now = time.perf_counter()
        if not finished and done and now - self.last_draw < 0.1:
            return
        self.last_draw = now
        size = f"{done / 1e6:.1f}" + (f"/{total / 1e6:.1f}" if total else "") + " MB"
        if total:
            filled = int(self.WIDTH * done / total)
            bar = f" [{'#' * filled}{'.' * (self.WIDTH - filled)}] {done / total:4.0%}"
        else:
            bar = ""
        self.stream.write(f"\r\x1b[2Kdownloading {file}{bar} {size}" + ("\n" if finished else ""))
        self.stream.flush()

    def epoch(self, epoch: int, train: dict, val: dict, seconds: float) -> None:
        remaining = (self.epochs - epoch) * seconds
        text = f"epoch {epoch}/{self.epochs}  train {format_metrics(train)}"
        if val:
            text += f"  |  validation {format_metrics(val)}"
        text += f"  ({seconds:.1f}s, ETA {_duration(remaining)})"
        self.stream.write(("\r\x1b[2K" if self.tty else "") + text + "\n")
        self.stream.flush()
        self.epoch_start = time.perf_counter()


def _jsonable(value: Any) -> Any:
    import torch

    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _event_dict(event: Any) -> dict[str, Any]:
    from dataclasses import fields

    out = {"event": type(event).__name__}
    for f in fields(event):
        if f.name in ("detail", "history"):
            continue
        out[f.name] = _jsonable(getattr(event, f.name))
    return out


class _TensorBoard:
    """Scalars per epoch in a TensorBoard event log, when the package is installed."""

    def __init__(self, folder: Path) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            self.writer = None
            return
        self.writer = SummaryWriter(str(folder / "tensorboard"))

    def epoch(self, event: Any) -> None:
        if self.writer is None:
            return
        for split, metrics in (("train", event.train), ("validation", event.validation)):
            for output, values in metrics.items():
                for name, value in values.items():
                    self.writer.add_scalar(f"{output}/{name}/{split}", value, event.epoch)
        self.writer.add_scalar("lr", event.lr, event.epoch)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _fetch_data(section: dict[str, Any], base_dir: Path, progress: Progress,
                as_json: bool) -> None:
    """Download MNIST-style files missing from the cache before training, with a progress line
    (one process under torchrun; the others find the files or fetch them themselves)."""
    import os

    from backend.data import download as fetch
    from backend.data.config import DataConfig
    from backend.data.files import cache_folder
    from backend.data.prepare import data_path, wants_download

    cfg = DataConfig.from_dict(section)
    if cfg.dataset not in fetch.CHECKSUMS or os.environ.get("LOCAL_RANK", "0") != "0":
        return
    path = data_path(cfg, base_dir)
    folder = cache_folder(cfg.dataset, str(path) if path else "")
    if not (wants_download(cfg) and fetch.downloads_allowed() and fetch.missing(cfg.dataset,
                                                                                folder)):
        return

    def report(file: str, done: int, total: int | None) -> None:
        if not as_json:
            progress.download(file, done, total)
        elif done == 0 or done == total:
            print(json.dumps({"event": "Download", "file": file, "done": done, "total": total}),
                  flush=True)

    fetch.download_set(cfg.dataset, folder, report)


def run(args: argparse.Namespace) -> int:
    from backend.data.errors import DataError
    from backend.training.checkpoints import CheckpointError
    from backend.training.control import Control
    from backend.training.events import (
        BatchEnd,
        EpochEnd,
        Evaluated,
        Failed,
        Finished,
        Started,
        Warned,
    )
    from backend.training.trainer import Trainer
    from graph.errors import GraphError
    from graph.project import load

    err = sys.stderr
    path = Path(args.project)
    try:
        doc = load(path)
    except GraphError as exc:
        print(f"error: {exc}", file=err)
        return 2
    training = doc.section("training")
    for key, value in (("epochs", args.epochs), ("batch_size", args.batch_size),
                       ("lr", args.lr), ("device", args.device), ("threads", args.threads)):
        if value is not None:
            training[key] = value
    out = Path(args.out) if args.out else Path("runs") / path.name.split(".")[0]
    progress = Progress(sys.stdout)
    try:
        _fetch_data(doc.section("data"), path.parent, progress, args.json)
        trainer = Trainer(doc, config=training, base_dir=path.parent)
        if args.resume:
            trainer.resume_from(args.resume)
    except (ValueError, CheckpointError, DataError) as exc:
        print(f"error: {exc}", file=err)
        return 2

    control = Control()
    interrupted = []

    def on_sigint(signum: int, frame: Any) -> None:
        if interrupted:
            raise KeyboardInterrupt
        interrupted.append(True)
        control.stop()
        print("\nstopping after this batch (Ctrl-C again to abort)…", file=err)

    previous = signal.signal(signal.SIGINT, on_sigint)
    evaluation: dict[str, Any] = {}
    board: _TensorBoard | None = None

    def callback(event: Any) -> None:
        nonlocal board
        if not trainer.dist.is_main:
            return
        if board is None:
            out.mkdir(parents=True, exist_ok=True)
            board = _TensorBoard(out)
        if isinstance(event, EpochEnd):
            board.epoch(event)
        if isinstance(event, Evaluated):
            evaluation.update(split=event.split, metrics=event.metrics,
                              confusion=event.confusion)
        if args.json:
            print(json.dumps(_event_dict(event)), flush=True)
            return
        if isinstance(event, Started):
            where = f"{event.device}" + (f", {trainer.dist.world_size} processes"
                                         if trainer.dist.enabled else "")
            print(f"training {doc.name} on {where}: {event.train_samples} training / "
                  f"{event.validation_samples} validation / {event.test_samples} test samples, "
                  f"{event.steps_per_epoch} batches per epoch")
            for note in event.notes:
                print(f"  note: {note}")
            progress.started(event.epochs, event.steps_per_epoch, event.start_epoch)
        elif isinstance(event, Warned):
            print(f"warning: {event.message}", file=err)
        elif isinstance(event, BatchEnd):
            progress.batch(event.epoch, event.batch, event.total)
        elif isinstance(event, EpochEnd):
            progress.epoch(event.epoch, event.train, event.validation, event.seconds)
        elif isinstance(event, Evaluated):
            print(f"{event.split}: {format_metrics(event.metrics)}")

    try:
        result = trainer.run(callback, control)
    finally:
        signal.signal(signal.SIGINT, previous)
        if board is not None:
            board.close()
    try:
        if trainer.dist.is_main and trainer.module is not None:
            out.mkdir(parents=True, exist_ok=True)
            trainer.save_checkpoint(out)
            history = {"project": str(path), "model": doc.name,
                       "status": "failed" if isinstance(result, Failed) else result.reason,
                       "epochs": _jsonable(trainer.history),
                       "evaluation": _jsonable(evaluation)}
            if trainer.prepared is not None:
                # The exported model expects standardised features and predicts standardised
                # regression targets: this is how to apply and undo that on new data.
                history["preprocessing"] = trainer.prepared.preprocessing()
            if isinstance(result, Failed):
                history["error"] = result.message
            (out / "history.json").write_text(json.dumps(history, indent=1))
    finally:
        trainer.leave_process_group()
    if not trainer.dist.is_main:
        return 0 if isinstance(result, Finished) else 1
    if isinstance(result, Failed):
        print(f"error: {result.message}", file=err)
        return 1
    if not args.json:
        if trainer.history:
            last = trainer.history[-1]
            print(f"final (epoch {last['epoch']}): train {format_metrics(last['train'])}"
                  + (f" | validation {format_metrics(last['validation'])}" if last["validation"] else ""))
        print(f"wrote {out / 'history.json'} and {out / 'weights.safetensors'}")
    if result.reason == "stopped":
        print(f"stopped; continue with: netcanvas train {args.project} --resume {out}", file=err)
        return 130
    return 0
