"""``netcanvas train PROJECT``: train a design headless, with a progress bar, and record the run.

The flags and the progress display are the runtime's (`backend.training.console`), which the
exported train.py runs too. The run is recorded in a run folder, as the app records its runs
(``backend.runs``): ``PROJECT.runs/<id>/`` by default, or ``--out DIR``. It holds
``history.json`` (per-epoch metrics per output, the per-batch loss, the final evaluation, the
preprocessing), the design and settings, ``weights.safetensors`` (final) and
``best.safetensors``, a checkpoint written at epoch ends (so ``--resume`` continues an
interrupted or stopped run), and a TensorBoard event log when the ``tensorboard`` package is
installed. Under ``torchrun --nproc_per_node=K`` every process trains its shard with
DistributedDataParallel and rank 0 alone prints and writes. Ctrl-C stops after the current
batch and saves a checkpoint.
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
    add_run_arguments(parser, default_out=None, out_help="a new folder in PROJECT.runs/",
                      resume_help="continue a run: its folder, its id in PROJECT.runs/, or a "
                                  "checkpoint folder")


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
    from backend.training.console import Console, ctrl_c_stops, overrides, run_ended
    from backend.training.control import Control
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
    training = {**training, **overrides(args)}
    try:
        _fetch_data(data, path.parent, args.json)
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
    console = Console(doc.name, as_json=args.json)

    def show(event: Any) -> None:
        if trainer.dist.is_main:
            console.processes = trainer.dist.world_size
            console(event)

    callback = show
    if run_folder is not None and main_rank:
        try:
            callback = recording(trainer, run_folder, show, resume=resume)
        except RunFormatError as exc:
            print(f"error: the run in {run_folder} cannot be resumed: {exc}", file=err)
            return 2
    try:
        with ctrl_c_stops(control, console):
            result = trainer.run(callback, control)
    finally:
        trainer.leave_process_group()
    return run_ended(trainer, result, args.json, f"wrote the run to {run_folder}",
                     f"netcanvas train {args.project} --resume {run_folder}")
