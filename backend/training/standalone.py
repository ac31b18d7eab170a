"""The program of an exported ``train.py``: the design's class and the project's settings in,
a trained run out.

``train.py`` holds only its configuration and one call of `main`; everything it runs is this
runtime, the same code the app trains with: the data preparation, the training loop, the
progress, ``history.json`` and the checkpoint (``netcanvas train`` writes the same files).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..data.dataset import Dataset
from .checkpoints import CheckpointError
from .console import add_arguments, overrides, run_in_terminal
from .loop import TrainingLoop


def main(model: type, training: dict[str, Any], data: dict[str, Any], *,
         inputs: list[dict[str, Any]], outputs: list[dict[str, Any]],
         logits: dict[str, str] | None = None, layers: dict[str, str] | None = None,
         frozen: list[str] | None = None, name: str = "the model", project: str | None = None,
         data_file: str | Path | None = None, argv: list[str] | None = None) -> int:
    """Train ``model`` (an nn.Module class) with the ``training`` and ``data`` sections.

    ``inputs`` / ``outputs``: the design's Inputs (name, shape, dtype) and Outputs (name, loss,
    loss weight, metric) in forward order; ``logits``: outputs whose final activation the loss
    applies; ``layers``: layer name → attribute (per-layer learning rates); ``frozen``:
    attributes that do not train; ``data_file``: the user's data as NetCanvas read them (data
    sets from files), else the built-in set ``data`` names is loaded. Returns the exit status.
    """
    parser = argparse.ArgumentParser(description=f"Train {name} exactly as NetCanvas does.")
    add_arguments(parser, default_out="run")
    args = parser.parse_args(argv)
    try:
        dataset = None if data_file is None else Dataset.load(data_file)
        trainer = TrainingLoop(model, data, {**training, **overrides(args)}, inputs=inputs,
                               outputs=outputs, stripped=logits, layer_attrs=layers,
                               frozen=frozen, dataset=dataset)
        if args.resume:
            trainer.resume_from(args.resume)
    except (ValueError, OSError, CheckpointError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return run_in_terminal(trainer, args, name=name, project=project,
                           again=f"python {Path(sys.argv[0]).name}")
