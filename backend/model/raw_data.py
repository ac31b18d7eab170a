"""Exported models on raw data: the data's standardisation as layers with buffers.

NetCanvas trains on standardised tabular features (and standardised regression targets), with
the training split's statistics. An exported model should not make a person apply those by
hand: `OnRawData` puts the design's module between a `Standardize` layer per Input and a
`ToUnits` layer per regression Output, so it takes the features as they are in the user's file
and returns the targets' own units. The ONNX and TorchScript exports are traced from this
module; the ``.py`` export writes these very classes (their source, verbatim) after the design's
class, and a function that builds the module with the statistics written as values.
"""

from __future__ import annotations

import inspect
import math
import pprint
from typing import Any

import torch
from torch import nn

from backend.model.codegen import GeneratedCode
from graph.errors import GraphError


class RawDataError(GraphError):
    """Standardisation statistics that do not fit the design (another design's weights)."""


class Standardize(nn.Module):
    """Raw values in, what the model was trained on out: (x - mean) / std, with the training
    split's mean and standard deviation of each value."""

    def __init__(self, mean: list, std: list) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32))

    def forward(self, x):
        return (x - self.mean) / self.std


class ToUnits(nn.Module):
    """A standardised prediction in, the target's own units out: y * scale + offset (the
    training split's standard deviation and mean of the target)."""

    def __init__(self, scale: float, offset: float) -> None:
        super().__init__()
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32))
        self.register_buffer("offset", torch.tensor(offset, dtype=torch.float32))

    def forward(self, y):
        return y * self.scale + self.offset


class OnRawData(nn.Module):
    """``model`` for data as they are in the data file: each input goes through its layer in
    ``inputs`` first, each output through its layer in ``outputs`` (nn.Identity where nothing
    changes). Load trained weights into ``.model``."""

    def __init__(self, model: nn.Module, inputs: list, outputs: list) -> None:
        super().__init__()
        self.model = model
        self.inputs = nn.ModuleList(inputs)
        self.outputs = nn.ModuleList(outputs)

    def forward(self, *xs):
        out = self.model(*[layer(x) for layer, x in zip(self.inputs, xs)])
        if isinstance(out, tuple):
            return tuple(layer(y) for layer, y in zip(self.outputs, out))
        return self.outputs[0](out)


def _numbers(value: Any, shape: tuple[int, ...], what: str, positive: bool = False) -> list:
    """``value`` checked to be nested lists of finite numbers of ``shape``."""
    tensor = torch.tensor(value, dtype=torch.float64) if isinstance(value, list) else None
    if tensor is None or tuple(tensor.shape) != tuple(shape) or not bool(
            torch.isfinite(tensor).all()) or (positive and not bool((tensor > 0).all())):
        raise RawDataError(f"The standardisation recorded with the weights does not fit this "
                           f"design ({what} should be {'positive ' if positive else ''}numbers "
                           f"of shape {tuple(shape)}); export the weights of this design.")
    return tensor.tolist()


def layers_for(code: GeneratedCode, input_shapes: list[tuple[int, ...]],
               preprocessing: dict[str, Any] | None) -> tuple[list, list] | None:
    """([(mean, std) or None per Input], [(scale, offset) or None per Output]) from the
    standardisation recorded with the weights; None when nothing was standardised."""
    if not preprocessing:
        return None
    per_input = preprocessing.get("inputs") or {}
    targets = preprocessing.get("targets") or {}
    if not isinstance(per_input, dict) or not isinstance(targets, dict):
        raise RawDataError("The standardisation recorded with the weights cannot be read.")
    inputs = []
    for name, shape in zip(code.input_names, input_shapes):
        stats = per_input.get(name)
        if stats is None:
            inputs.append(None)
            continue
        if not isinstance(stats, dict):
            raise RawDataError(f"The standardisation of input {name!r} cannot be read.")
        inputs.append((_numbers(stats.get("mean"), shape, f"the mean of {name!r}"),
                       _numbers(stats.get("std"), shape, f"the deviation of {name!r}",
                                positive=True)))
    outputs = []
    for name in code.output_names:
        unit = targets.get(name)
        if unit is None:
            outputs.append(None)
            continue
        scale, offset = (unit.get("scale"), unit.get("offset")) if isinstance(unit, dict) else (
            None, None)
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                   for v in (scale, offset)) or scale <= 0:
            raise RawDataError(f"The target units of output {name!r} cannot be read.")
        outputs.append((float(scale), float(offset)))
    if not any(inputs) and not any(outputs):
        return None
    return inputs, outputs


def on_raw_data(model: nn.Module, layers: tuple[list, list]) -> OnRawData:
    """The design's ``model`` wrapped for raw data (`layers_for` gives ``layers``)."""
    inputs, outputs = layers
    return OnRawData(model, [nn.Identity() if s is None else Standardize(*s) for s in inputs],
                     [nn.Identity() if u is None else ToUnits(*u) for u in outputs])


def _call(name: str, args: tuple, width: int) -> str:
    text = pprint.pformat(args, width=width, compact=True)[1:-1].rstrip(",")
    return f"{name}({text})".replace("\n", "\n" + " " * (len(name) + 1))


def raw_data_source(code: GeneratedCode, layers: tuple[list, list]) -> str:
    """The ``.py`` export on raw data: the design's class, the layers above, and
    ``on_raw_data()`` building the module with the statistics as values."""
    inputs, outputs = layers
    source = code.source.rstrip()
    if "\nimport torch\n" not in source + "\n":  # the layers below need it
        source = source.replace("\nfrom torch import nn", "\nimport torch\nfrom torch import nn", 1)
    lines = [source, "", "",
             "# --- Your data as they are in the file: the standardisation NetCanvas trained "
             "with ---", ""]
    for cls in (Standardize, ToUnits, OnRawData):
        lines += ["", inspect.getsource(cls).rstrip(), ""]
    lines += ["", "def on_raw_data():",
              f'    """{code.class_name} for data as they are in the data file: features in, '
              "regression outputs in the",
              "    targets' units. Load the trained weights into its .model:",
              "",
              "        model = on_raw_data()",
              "        model.model.load_state_dict(safetensors.torch.load_file(WEIGHTS))",
              '    """',
              "    return OnRawData(",
              f"        {code.class_name}(),",
              "        inputs=["]
    pad = " " * 12
    for name, stats in zip(code.input_names, inputs):
        call = "nn.Identity()" if stats is None else _call("Standardize", stats, 96 - len(pad))
        lines.append(f"{pad}{call.replace(chr(10), chr(10) + pad)},  # {name}")
    lines.append("        ],")
    lines.append("        outputs=[")
    for name, unit in zip(code.output_names, outputs):
        call = "nn.Identity()" if unit is None else f"ToUnits({unit[0]!r}, {unit[1]!r})"
        lines.append(f"{pad}{call},  # {name}" + ("" if unit is None else ": the target's units"))
    lines += ["        ],", "    )"]
    return "\n".join(lines) + "\n"
