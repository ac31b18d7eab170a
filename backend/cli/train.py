"""``netcanvas train PROJECT``: train a design headless, with a progress line, and write the run.

The run is recorded in a run folder, as the app records its runs (``backend.runs``):
``PROJECT.runs/<id>/`` by default, or ``--out DIR``. It holds ``history.json`` (per-epoch
metrics per output, the per-batch loss, the final evaluation, the preprocessing), the design and
settings, ``weights.safetensors`` (final) and ``best.safetensors``, a checkpoint written at
epoch ends (so ``--resume`` continues an interrupted or stopped run), and a TensorBoard event log
when the ``tensorboard`` package is installed. Under ``torchrun --nproc_per_node=K`` every
process trains its shard with DistributedDataParallel and rank 0 alone prints and writes.
Ctrl-C stops after the current batch and saves a checkpoint.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from backend.runs.record import duration_text as _duration
from backend.training.metrics_text import format_metrics


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", help="project file (.json) to train")
    parser.add_argument("--epochs", type=int, help="number of epochs (overrides the project)")
    parser.add_argument("--batch-size", type=int, help="batch size (0 = full batch)")
    parser.add_argument("--lr", type=float, help="learning rate (overrides the project)")
    parser.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--threads", type=int, help="CPU threads for PyTorch")
    parser.add_argument("--out", help="the run folder to write (default: a new folder in "
                                      "PROJECT.runs/)")
    parser.add_argument("--resume", metavar="RUN",
                        help="continue a run: its folder, its id in PROJECT.runs/, or a "
                             "checkpoint folder")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object per event instead of a progress line")


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


def _event_dict(event: Any) -> dict[str, Any]:
    from dataclasses import fields

    from backend.runs.files import jsonable

    out = {"event": type(event).__name__}
    for f in fields(event):
        if f.name in ("detail", "history"):
            continue
        out[f.name] = jsonable(getattr(event, f.name))
    return out


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


def _resume_target(arg: str, project: Path) -> tuple[Path | None, Path | None]:
    """(run folder, checkpoint folder) that ``--resume`` names: a run folder (or a run id in
    the project's runs), else a bare checkpoint folder."""
    from backend.runs.files import RUN, RunFormatError, check_id, is_plain_file, runs_folder_for

    candidate = Path(arg)
    if not candidate.exists():
        try:
            candidate = runs_folder_for(project) / check_id(arg)
        except RunFormatError:
            return None, Path(arg)
    if is_plain_file(candidate / RUN):
        return candidate, None
    return None, Path(arg)


def run(args: argparse.Namespace) -> int:
    import os

    from backend.data.errors import DataError
    from backend.runs.files import RUN, RunFormatError, is_plain_file, runs_folder_for
    from backend.runs.record import parse_run
    from backend.runs.store import RunStore, create_run_folder
    from backend.runs.writer import recording
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
    main_rank = os.environ.get("RANK", "0") == "0"
    run_folder, checkpoint = (None, None)
    if args.resume:
        run_folder, checkpoint = _resume_target(args.resume, path)
    data, training = doc.section("data"), doc.section("training")
    if run_folder is not None:
        try:
            settings = parse_run(run_folder).settings
        except RunFormatError as exc:
            print(f"error: the run in {run_folder} cannot be resumed: {exc}", file=err)
            return 2
        data = settings.get("data", data)
        training = settings.get("training", training)
        if args.out and Path(args.out).resolve() != run_folder.resolve():
            print("error: a resumed run is written into its own folder; leave out --out",
                  file=err)
            return 2
    for key, value in (("epochs", args.epochs), ("batch_size", args.batch_size),
                       ("lr", args.lr), ("device", args.device), ("threads", args.threads)):
        if value is not None:
            training[key] = value
    progress = Progress(sys.stdout)
    try:
        _fetch_data(data, path.parent, progress, args.json)
        trainer = Trainer(doc, data=data, config=training, base_dir=path.parent)
        if checkpoint is not None:
            trainer.resume_from(checkpoint)
    except (ValueError, CheckpointError, DataError) as exc:
        print(f"error: {exc}", file=err)
        return 2
    resume = run_folder is not None
    if run_folder is None and main_rank:
        try:
            if args.out:
                run_folder = Path(args.out)
                if is_plain_file(run_folder / RUN):
                    print(f"error: {run_folder} already holds a run; resume it with --resume "
                          f"{run_folder}, or choose another --out", file=err)
                    return 2
                create_run_folder(run_folder, doc, data, training, 1, str(path))
            else:
                store = RunStore(runs_folder_for(path))
                number = max((r.number for r in store.runs()), default=0) + 1
                run_folder = store.create(doc, data, training, number, str(path)).folder
        except (OSError, RunFormatError) as exc:
            print(f"error: the run folder cannot be written: {exc}", file=err)
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

    def show(event: Any) -> None:
        if not trainer.dist.is_main:
            return
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

    callback = show
    if run_folder is not None and main_rank:
        try:
            callback = recording(trainer, run_folder, show, resume=resume)
        except RunFormatError as exc:
            signal.signal(signal.SIGINT, previous)
            print(f"error: the run in {run_folder} cannot be resumed: {exc}", file=err)
            return 2
    try:
        result = trainer.run(callback, control)
    finally:
        signal.signal(signal.SIGINT, previous)
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
        print(f"wrote the run to {run_folder}")
    if result.reason == "stopped":
        print(f"stopped; continue with: netcanvas train {args.project} --resume {run_folder}",
              file=err)
        return 130
    return 0
