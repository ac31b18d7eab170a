"""``netcanvas train PROJECT``: train a design headless, with a progress bar, and write the run.

The program is the runtime's (`backend.training.console`), which the exported train.py runs
too: the same flags, progress and files. Writes ``DIR/history.json`` (per-epoch metrics per output and the final evaluation),
``DIR/weights.safetensors`` with the optimizer state beside it (so ``--resume DIR`` continues),
and a TensorBoard event log when the ``tensorboard`` package is installed. Under
``torchrun --nproc_per_node=K`` every process trains its shard with DistributedDataParallel and
rank 0 alone prints and writes. Ctrl-C stops after the current batch and saves a checkpoint.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from backend.training.console import add_arguments as add_run_arguments

    parser.add_argument("project", help="project file (.json) to train")
    add_run_arguments(parser, default_out=None, out_help="runs/<project name>")


def download_reporter(stream: TextIO, as_json: bool) -> Any:
    """``report(file, done, total)`` for downloads: a tqdm bar per file on a terminal, one line
    per file otherwise (or JSON events)."""
    from backend.training.console import progress_bar

    bars: dict[str, Any] = {}

    def report(file: str, done: int, total: int | None) -> None:
        if as_json:
            if done == 0 or done == total:
                print(json.dumps({"event": "Download", "file": file, "done": done,
                                  "total": total}), file=stream, flush=True)
            return
        if done == 0:
            bars[file] = progress_bar(stream, total=total, unit="B", unit_scale=True,
                                      desc=f"downloading {file}", leave=True)
            if bars[file] is None:
                print(f"downloading {file}", file=stream, flush=True)
        bar = bars.get(file)
        if bar is not None:
            bar.update(done - bar.n)
            if total is not None and done >= total:
                bar.close()

    return report


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


def _fetch_data(section: dict[str, Any], base_dir: Path, as_json: bool,
                stream: TextIO | None = None) -> None:
    """Download MNIST-style files missing from the cache before training, with a progress line
    (one process under torchrun; the others find the files or fetch them themselves)."""
    import os

    from backend.data import download as fetch
    from backend.data.config import DataConfig
    from backend.data.files import cache_folder
    from backend.data.load import data_path, wants_download

    cfg = DataConfig.from_dict(section)
    if cfg.dataset not in fetch.CHECKSUMS or os.environ.get("LOCAL_RANK", "0") != "0":
        return
    path = data_path(cfg, base_dir)
    folder = cache_folder(cfg.dataset, str(path) if path else "")
    if not (wants_download(cfg) and fetch.downloads_allowed() and fetch.missing(cfg.dataset,
                                                                                folder)):
        return

    fetch.download_set(cfg.dataset, folder, download_reporter(stream or sys.stdout, as_json))


def run(args: argparse.Namespace) -> int:
    from backend.data.errors import DataError
    from backend.training.checkpoints import CheckpointError
    from backend.training.console import overrides, run_in_terminal
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
    training = {**doc.section("training"), **overrides(args)}
    if args.out is None:
        args.out = str(Path("runs") / path.name.split(".")[0])
    try:
        _fetch_data(doc.section("data"), path.parent, args.json)
        trainer = Trainer(doc, config=training, base_dir=path.parent)
        if args.resume:
            trainer.resume_from(args.resume)
    except (ValueError, CheckpointError, DataError) as exc:
        print(f"error: {exc}", file=err)
        return 2
    board: _TensorBoard | None = None

    def to_board(event: Any) -> None:
        nonlocal board
        if board is None:
            board = _TensorBoard(Path(args.out))
        if type(event).__name__ == "EpochEnd":
            board.epoch(event)

    try:
        return run_in_terminal(trainer, args, name=doc.name, project=str(path),
                               again=f"netcanvas train {args.project}", also=to_board)
    finally:
        if board is not None:
            board.close()
