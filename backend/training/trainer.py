"""The app's Trainer: the runtime's `TrainingLoop` for designs and the user's data files.

The loop itself (`backend.training.loop`) is torch-only and travels with the exported
train.py; this thin layer adds what only the app has: compiling a `graph.Document` (its
``data`` and ``training`` sections are the defaults), the readers of the user's files with
their relative paths, and data set downloads reported as events.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from torch import nn

from backend.data.config import DataConfig
from backend.data.dataset import Dataset
from backend.data.prepare import InputSpec, OutputSpec, PreparedData
from backend.training.config import TrainConfig
from backend.training.control import Control
from backend.training.events import Downloading, Failed, Finished
from backend.training.loop import (
    Callback,
    NonFiniteLossError,
    StoppedWhilePreparing,
    TrainingError,
    TrainingLoop,
)
from backend.training.setup import ModelParts

#: Layers whose gradient is zero: a loss behind them cannot train anything before them.
ZERO_GRADIENT_TYPES = ("Sign", "Step")


def parts_from_document(doc) -> ModelParts:  # doc: graph.Document
    """Compile a design (frozen layers come out with requires_grad False)."""
    import networkx as nx

    from backend.model.compiler import compile_document

    compiled = compile_document(doc)
    inputs = []
    for node_id in doc.inputs():
        params = doc.attr(node_id, "params")
        inputs.append(InputSpec(doc.attr(node_id, "name"), tuple(params.get("shape", (4,))),
                                params.get("dtype", "float32")))
    outputs = []
    blockers = []
    for node_id in doc.outputs():
        params = doc.attr(node_id, "params")
        name = doc.attr(node_id, "name")
        outputs.append(OutputSpec(name, params.get("loss", "mse"),
                                  float(params.get("loss_weight", 1.0)),
                                  params.get("metric", "auto")))
        if params.get("loss", "mse") == "none":
            continue
        for anc in nx.ancestors(doc.graph, node_id):
            type_ = doc.attr(anc, "type")
            act = doc.attr(anc, "params").get("activation")
            if type_ in ZERO_GRADIENT_TYPES or act == "sign":
                what = f"the {type_} layer" if type_ in ZERO_GRADIENT_TYPES else (
                    "the sign activation of")
                blockers.append(f"{what} '{doc.attr(anc, 'name')}' before output '{name}'")
    layer_attrs = {doc.attr(n, "name"): a for n, a in compiled.code.attr_names.items()}
    return ModelParts(compiled.module, inputs, outputs, dict(compiled.code.stripped),
                      sorted(set(blockers)), layer_attrs, list(compiled.frozen))


def _is_document(obj: Any) -> bool:
    from graph.document import Document

    return isinstance(obj, Document)


class Trainer(TrainingLoop):
    """Train a design (a `graph.Document`) or an `nn.Module` on prepared or configured data.

    ``model``: a Document (compiled here; its ``data``/``training`` sections are the defaults),
    or an nn.Module whose forward takes ``inputs`` positionally and returns ``outputs``.
    ``data``: a `DataConfig`, its dict, or `PreparedData`. ``config``: a `TrainConfig` or dict.
    Relative data paths are resolved against ``base_dir`` (the project's folder).
    """

    def __init__(self, model: Any, data: DataConfig | dict | PreparedData | None = None,
                 config: TrainConfig | dict | None = None, **options: Any) -> None:
        self.document = model if _is_document(model) else None
        if self.document is not None:
            data = data if data is not None else self.document.section("data")
            config = config if config is not None else self.document.section("training")
        elif not isinstance(model, nn.Module):
            raise TypeError("Trainer needs a graph.Document or a torch.nn.Module.")
        super().__init__(model, data, config, **options)
        self._download_at = 0.0

    def build_parts(self) -> ModelParts:
        if self.document is not None:
            return parts_from_document(self.document)
        return super().build_parts()

    def load_dataset(self) -> Dataset:
        """Built-in sets, or the user's files (MNIST-style sets downloaded when missing)."""
        if self.dataset is not None:
            return self.dataset
        from backend.data.load import load_dataset

        return load_dataset(self.data_config, self.base_dir, progress=self._download_progress)

    def _download_progress(self, file: str, done: int, total: int | None) -> None:
        """Report a data set download: its start and end, and ≤ 10 times a second between.
        Stop ends the download (its partial file is removed) and the run."""
        if self._control is not None and self._control.stopped:
            raise StoppedWhilePreparing
        now = time.perf_counter()
        if done and (total is None or done < total) and now - self._download_at < 0.1:
            return
        self._download_at = now
        self._emit(Downloading(file, done, total))


def train_document(doc: Any, callback: Callback | None = None, control: Control | None = None,
                   **overrides: Any) -> tuple[Trainer, Finished | Failed]:
    """Train a design with its own data and training sections (``overrides`` patch the
    training section, e.g. ``epochs=3``)."""
    section = copy.deepcopy(doc.section("training"))
    section.update(overrides)
    trainer = Trainer(doc, config=section)
    return trainer, trainer.run(callback, control)


__all__ = ["Trainer", "TrainingError", "NonFiniteLossError", "parts_from_document",
           "train_document"]
