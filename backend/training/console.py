"""Training from a terminal: the flags, the progress display and the run's files.

``netcanvas train`` and the exported ``train.py`` are the same program here: the same flags
(derived from the settings' declarations), the same progress (a tqdm bar per epoch when tqdm
is installed and the output is a terminal; one line per epoch otherwise), Ctrl-C stopping after
the current batch with a checkpoint to resume from, and the same ``history.json``. Under
``torchrun`` every process trains its shard and rank 0 alone prints and writes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from .config import TrainConfig
from .control import Control
from .metrics_text import format_metrics
from .record import HISTORY, event_dict, write_run
from .setting import add_flags, flag_values


def add_arguments(parser: argparse.ArgumentParser, default_out: str | None,
                  out_help: str = "", resume_help: str = "continue the run saved in DIR"
                  ) -> None:
    """The run's flags (``--out``, ``--resume``, ``--json``) and one per training setting."""
    parser.add_argument("--out", default=default_out,
                        help="folder for history.json, the weights and the checkpoint "
                        f"(default: {out_help or default_out})")
    parser.add_argument("--resume", metavar="DIR", help=resume_help)
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object per event instead of progress")
    add_flags(parser, TrainConfig, "training")


def overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The training settings given as flags (they patch the project's training section)."""
    return flag_values(args, TrainConfig)


def duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}:{seconds % 60:02d}"


def progress_bar(stream: TextIO, **options: Any) -> Any:
    """A tqdm bar on a terminal; None without one or without tqdm (lines are printed then)."""
    if not stream.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(**{"file": stream, "dynamic_ncols": True, "leave": False, **options})


class Console:
    """Prints a run's events for people (or as JSON lines), rank 0 only."""

    def __init__(self, name: str, stream: TextIO | None = None, err: TextIO | None = None,
                 as_json: bool = False) -> None:
        self.name = name
        self.stream = stream or sys.stdout
        self.err = err or sys.stderr
        self.as_json = as_json
        self.epochs = self.steps = 0
        self.bar: Any = None
        self.processes = 1
        #: The held-out evaluation at the end of the run (for history.json).
        self.evaluation: dict[str, Any] = {}

    def __call__(self, event: Any) -> None:
        kind = type(event).__name__
        if kind == "Evaluated":
            self.evaluation.update(split=event.split, metrics=event.metrics,
                                   confusion=event.confusion)
        if self.as_json:
            print(json.dumps(event_dict(event)), file=self.stream, flush=True)
            return
        handler = getattr(self, f"on_{kind.lower()}", None)
        if handler is not None:
            handler(event)

    def write(self, text: str) -> None:
        if self.bar is not None:
            self.bar.clear()
        print(text, file=self.stream, flush=True)
        if self.bar is not None:
            self.bar.refresh()

    def on_started(self, event: Any) -> None:
        where = event.device + (f", {self.processes} processes" if self.processes > 1 else "")
        self.write(f"training {self.name} on {where}: {event.train_samples} training / "
                   f"{event.validation_samples} validation / {event.test_samples} test samples, "
                   f"{event.steps_per_epoch} batches per epoch")
        for note in event.notes:
            self.write(f"  note: {note}")
        self.epochs, self.steps = event.epochs, event.steps_per_epoch
        self.started = time.perf_counter()
        self._new_bar(event.start_epoch + 1)

    def _new_bar(self, epoch: int) -> None:
        self.close()
        if epoch <= self.epochs:
            self.bar = progress_bar(self.stream, total=self.steps, unit="batch",
                                    desc=f"epoch {epoch}/{self.epochs}")

    def on_warned(self, event: Any) -> None:
        if self.bar is not None:
            self.bar.clear()
        print(f"warning: {event.message}", file=self.err, flush=True)

    def on_batchend(self, event: Any) -> None:
        if self.bar is not None:
            self.bar.update(event.batch - self.bar.n)
            self.bar.set_postfix_str(f"loss {event.total:.4g}", refresh=False)

    def on_epochend(self, event: Any) -> None:
        remaining = (self.epochs - event.epoch) * event.seconds
        text = f"epoch {event.epoch}/{self.epochs}  train {format_metrics(event.train)}"
        if event.validation:
            text += f"  |  validation {format_metrics(event.validation)}"
        self.close()
        print(text + f"  ({event.seconds:.1f}s, ETA {duration(remaining)})", file=self.stream,
              flush=True)
        self._new_bar(event.epoch + 1)

    def on_evaluated(self, event: Any) -> None:
        self.close()
        print(f"{event.split}: {format_metrics(event.metrics)}", file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@contextlib.contextmanager
def ctrl_c_stops(control: Control, console: Console):
    """While training: the first Ctrl-C stops after the current batch (a checkpoint to resume
    from), a second one aborts; the previous handler and the console come back after."""
    def on_sigint(signum: int, frame: Any) -> None:
        if control.stopped:
            raise KeyboardInterrupt
        control.stop()
        console.close()
        print("\nstopping after this batch (Ctrl-C again to abort)…", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        console.close()


def final_line(history: list[dict[str, Any]]) -> str | None:
    """The last epoch's metrics, as printed when a run ends (None before the first epoch)."""
    if not history:
        return None
    last = history[-1]
    return (f"final (epoch {last['epoch']}): train {format_metrics(last['train'])}"
            + (f" | validation {format_metrics(last['validation'])}"
               if last["validation"] else ""))


def run_in_terminal(trainer: Any, args: argparse.Namespace, *, name: str,
                    project: str | None, again: str,
                    also: Callable[[Any], None] | None = None) -> int:
    """Train, print progress, write the run into ``args.out``; the exit status.

    ``again``: the command that continues a stopped run (``--resume`` is appended); ``also``
    gets every event too (rank 0), e.g. a TensorBoard writer."""
    console = Console(name, as_json=args.json)
    control = Control()

    def callback(event: Any) -> None:
        if not trainer.dist.is_main:
            return
        console.processes = trainer.dist.world_size
        if also is not None:
            also(event)
        console(event)

    with ctrl_c_stops(control, console):
        result = trainer.run(callback, control)
    out = Path(args.out)
    weights = None
    try:
        if trainer.dist.is_main:
            weights = write_run(out, trainer, result, console.evaluation, project=project,
                                model=name)
    finally:
        trainer.leave_process_group()
    return run_ended(trainer, result, args.json, f"wrote {out / HISTORY} and {weights}",
                     f"{again} --resume {out}")


def run_ended(trainer: Any, result: Any, as_json: bool, wrote: str, resume: str) -> int:
    """What a terminal run prints when it ends (rank 0), and its exit status: 0 done, 1
    failed, 130 stopped (``resume``: the command that continues it)."""
    failed = type(result).__name__ == "Failed"
    if not trainer.dist.is_main:
        return 1 if failed else 0
    if failed:
        print(f"error: {result.message}", file=sys.stderr)
        return 1
    if not as_json:
        line = final_line(trainer.history)
        if line:
            print(line)
        print(wrote)
    if result.reason == "stopped":
        print(f"stopped; continue with: {resume}", file=sys.stderr)
        return 130
    return 0
