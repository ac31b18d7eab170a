"""Weights as safetensors, keyed by ``state_dict`` names (never pickle).

`load_state_by_name` (in the runtime, `backend.training.checkpoints`) is the base of transfer
learning: tensors whose name and shape match the module load; everything else is reported, so
a changed design keeps what still fits.
"""

from __future__ import annotations

import json
import os
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from backend.training.checkpoints import LoadReport, load_state_by_name
from graph.errors import GraphError


class WeightsError(GraphError):
    """A weights file that cannot be read, or (strict loading) does not fit the model."""


def weights_metadata(preprocessing: dict[str, Any] | None = None,
                     extra: dict[str, str] | None = None) -> dict[str, str]:
    """The text header of a NetCanvas weights file: its format, how the data were
    standardised for the model (`PreparedData.preprocessing`, as JSON) when known, and
    ``extra`` texts (e.g. the run the weights come from)."""
    meta = {"format": "netcanvas-weights", **(extra or {})}
    if preprocessing:
        meta["preprocessing"] = json.dumps(preprocessing)
    return meta


def read_preprocessing(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The standardisation recorded in a weights file (None when it has none): ``features`` =
    per data column (mean, std) to apply to raw inputs, ``inputs`` = the same per Input,
    ``targets`` = per regression output (scale, offset) to turn outputs back into the target's
    units."""
    try:
        with safe_open(os.fspath(path), framework="pt") as fh:
            text = (fh.metadata() or {}).get("preprocessing")
        return json.loads(text) if text else None
    except (OSError, SafetensorError, ValueError) as exc:
        raise _unreadable(path, exc) from None


def _unreadable(path: str | os.PathLike[str], exc: Exception) -> WeightsError:
    return WeightsError(f"Cannot read the weights file {os.fspath(path)!r}: {exc}. "
                        "Choose a .safetensors file saved by NetCanvas.")


def save_state(state: dict[str, torch.Tensor], path: str | os.PathLike[str],
               preprocessing: dict[str, Any] | None = None,
               extra: dict[str, str] | None = None) -> None:
    """Write a state dict as a NetCanvas weights file (safetensors), with the data's
    standardisation (and ``extra`` texts) in the header when given."""
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in state.items()}
    save_file(tensors, os.fspath(path), metadata=weights_metadata(preprocessing, extra))


def save_weights(module: nn.Module, path: str | os.PathLike[str],
                 preprocessing: dict[str, Any] | None = None) -> None:
    """Write the module's ``state_dict`` (parameters and buffers) as a weights file."""
    save_state(module.state_dict(), path, preprocessing)


def load_weights(module: nn.Module, path: str | os.PathLike[str], strict: bool = False
                 ) -> LoadReport:
    """Load a safetensors file into ``module`` by name.

    With ``strict`` every tensor must fit and nothing may be missing, else `WeightsError` and
    the module is left unchanged.
    """
    try:
        state = load_file(os.fspath(path))
    except (OSError, SafetensorError, ValueError) as exc:
        raise _unreadable(path, exc) from None
    if strict:
        probe = LoadReport()
        own = module.state_dict()
        probe.unexpected = [n for n in state if n not in own]
        probe.missing = [n for n in own if n not in state]
        probe.shape_mismatch = [(n, tuple(own[n].shape), tuple(t.shape)) for n, t in state.items()
                                if n in own and tuple(own[n].shape) != tuple(t.shape)]
        if not probe.complete:
            raise WeightsError(f"The weights in {os.fspath(path)!r} do not fit this design: "
                               f"{probe.summary(include_loaded=False)} Load them non-strictly to keep what fits.")
    return load_state_by_name(module, state)
