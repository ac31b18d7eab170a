"""From a data set to the tensors a design trains on.

Maps feature columns to each Input and targets to each Output, encodes targets for each
Output's loss, standardises with training statistics, and explains data-vs-design mismatches
before any training starts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from .config import DataConfig
from .dataset import Dataset, Target
from .errors import DataError, DataMismatchError
from .split import SplitIndices, split_indices

CLASS_LOSSES = ("cross_entropy", "nll")


@dataclass(frozen=True)
class InputSpec:
    """What a design's Input expects: its name and sample shape (None: take the data's)."""

    name: str
    shape: tuple[int, ...] | None = None
    dtype: str = "float32"


@dataclass(frozen=True)
class OutputSpec:
    """A design Output: its loss and metric (catalogue names)."""

    name: str
    loss: str = "mse"
    loss_weight: float = 1.0
    metric: str = "auto"


@dataclass
class OutputTarget:
    """How one Output's target was encoded, and how to read predictions back."""

    output: str
    target: str
    encoding: str  # index | onehot | value | none
    classes: tuple[str, ...] | None = None
    #: Regression targets were standardised: original = value * scale + offset.
    scale: float = 1.0
    offset: float = 0.0
    #: Single-unit outputs on two-valued targets: predicted class = output > threshold.
    threshold: float | None = None
    #: The two target values (low, high) a thresholded output predicts between.
    levels: tuple[float, float] | None = None
    metric: str = "none"  # the resolved metric: accuracy | mae | r2 | none
    #: Where the target came from: the data set (``data``), an Input (``input``), ``zeros``.
    source: str = "data"

    @property
    def num_classes(self) -> int:
        if self.classes is not None:
            return len(self.classes)
        return 2 if self.threshold is not None else 0


@dataclass
class SplitData:
    """One split's tensors, aligned by row."""

    inputs: list[torch.Tensor]
    targets: list[torch.Tensor | None]
    labels: list[torch.Tensor | None]  # class ids per output, for accuracy and confusion
    weight: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.inputs[0]) if self.inputs else 0

    def map(self, fn) -> SplitData:
        """Apply ``fn`` to every tensor; a tensor used twice (index targets that are also the
        labels) stays one tensor, so the loop can tell it needs no second gather."""
        done: dict[int, torch.Tensor] = {}

        def once(t: torch.Tensor | None) -> torch.Tensor | None:
            if t is None:
                return None
            if id(t) not in done:
                done[id(t)] = fn(t)
            return done[id(t)]

        return SplitData([once(t) for t in self.inputs], [once(t) for t in self.targets],
                         [once(t) for t in self.labels], once(self.weight))

    def to(self, device: torch.device | str, non_blocking: bool = False) -> SplitData:
        return self.map(lambda t: t.to(device, non_blocking=non_blocking))

    def rows(self, idx: torch.Tensor | slice) -> SplitData:
        return self.map(lambda t: t[idx])

    def nbytes(self) -> int:
        tensors = [*self.inputs, *self.targets, *self.labels, self.weight]
        return sum(t.numel() * t.element_size() for t in tensors if t is not None)


@dataclass
class PreparedData:
    """Train / validation / test tensors for a design, with each Output's target encoding."""

    train: SplitData
    validation: SplitData
    test: SplitData
    input_names: list[str]
    outputs: list[OutputTarget]
    dataset_name: str
    notes: list[str] = field(default_factory=list)
    augment: dict[str, float] = field(default_factory=dict)
    #: Feature standardisation, when applied: {"mean": [...], "std": [...]} per data column.
    features: dict[str, list[float]] | None = None
    #: The same per Input, in the Input's sample shape: {input: {"mean": …, "std": …}}.
    inputs_standardised: dict[str, dict[str, Any]] | None = None

    @property
    def output_names(self) -> list[str]:
        return [o.output for o in self.outputs]

    def to(self, device: torch.device | str) -> PreparedData:
        return PreparedData(self.train.to(device), self.validation.to(device),
                            self.test.to(device), self.input_names, self.outputs,
                            self.dataset_name, self.notes, self.augment, self.features,
                            self.inputs_standardised)

    def preprocessing(self) -> dict[str, Any]:
        """What the model saw instead of the raw data, as JSON: apply it to new data.

        ``features``: model input = (column − mean) / std for each data column (before the
        columns are split between Inputs); ``inputs``: the same per Input, in its sample shape;
        ``targets``: a regression output's original units = output × scale + offset. Exported
        models apply it themselves (`backend.model.raw_data`).
        """
        return {
            "features": self.features,
            "inputs": self.inputs_standardised,
            "targets": {o.output: {"scale": o.scale, "offset": o.offset}
                        for o in self.outputs if o.scale != 1.0 or o.offset != 0.0},
        }


def _feature_columns(ds: Dataset, spec: dict, input_name: str) -> list[int]:
    if ds.x.dim() != 2:
        raise DataError(f"Input '{input_name}': feature columns can only be chosen for tabular "
                        f"data; '{ds.name}' holds samples of shape {ds.sample_shape}.")
    cols = []
    width = ds.x.shape[1]
    for f in spec["features"]:
        if isinstance(f, str):
            if f not in ds.feature_names:
                raise DataError(f"Input '{input_name}': the data set '{ds.name}' has no feature "
                                f"{f!r}; its features are: {', '.join(ds.feature_names)}.")
            cols.append(ds.feature_names.index(f))
        elif not -width <= f < width:
            raise DataError(f"Input '{input_name}': feature index {f} is out of range; "
                            f"'{ds.name}' has {width} features (0–{width - 1}).")
        else:
            cols.append(f % width)
    if not cols:
        raise DataError(f"Input '{input_name}': the feature list is empty.")
    return cols


def _describe(shape: tuple[int, ...]) -> str:
    n = math.prod(shape)
    return f"shape {tuple(shape)} ({n} value{'s' if n != 1 else ''})"


def _map_inputs(ds: Dataset, x: torch.Tensor, cfg: DataConfig, inputs: Sequence[InputSpec],
                problems: list[str], notes: list[str], raw: torch.Tensor | None = None
                ) -> list[torch.Tensor]:
    """Each Input's columns of ``x`` in its shape; int64 Inputs (token ids) take them from
    ``raw``, as they are in the data, not standardised."""
    unknown = set(cfg.inputs) - {i.name for i in inputs}
    if unknown:
        problems.append(f"The data settings map features to {', '.join(sorted(unknown))}, but "
                        f"the design's inputs are {', '.join(i.name for i in inputs)}.")
    if len(inputs) > 1 and not cfg.inputs:
        problems.append(f"The design has {len(inputs)} inputs; say which feature columns feed "
                        "each one in the data settings ('inputs' → name → 'features').")
        return []
    out = []
    for spec in inputs:
        source = raw if spec.dtype == "int64" and raw is not None else x
        if spec.name in cfg.inputs:
            cols = _feature_columns(ds, cfg.inputs[spec.name], spec.name)
            data = source[:, cols]
            what = f"{len(cols)} chosen feature column(s)"
        else:
            data = source
            what = (f"{ds.x.shape[1]} features" if ds.x.dim() == 2
                    else f"samples of {_describe(ds.sample_shape)}")
        got = tuple(data.shape[1:])
        if spec.shape is not None and got != tuple(spec.shape):
            if math.prod(got) == math.prod(spec.shape):
                data = data.reshape(len(data), *spec.shape)
                notes.append(f"Input '{spec.name}': samples of shape {got} reshaped to "
                             f"{tuple(spec.shape)}.")
            else:
                problems.append(
                    f"Input '{spec.name}' expects {_describe(spec.shape)} per sample, but the "
                    f"data set '{ds.name}' gives {what} ({_describe(got)}). Set the Input's "
                    f"shape to {list(got)}"
                    + (" or choose feature columns for it in the data settings." if
                       ds.x.dim() == 2 else "."))
                continue
        if spec.dtype == "int64":
            data = data.round().long()
        out.append(data.contiguous())
    return out


def _encode_target(ds: Dataset, target: Target, out: OutputSpec, units: tuple[int, ...] | None,
                   encoding: str, train_idx: torch.Tensor, standardize: bool,
                   problems: list[str]) -> tuple[OutputTarget, torch.Tensor | None,
                                                 torch.Tensor | None]:
    """Encode one target for one output; returns (info, encoded target, class labels)."""
    n_units = units[-1] if units else None
    width = math.prod(units) if units else None
    where = f"Output '{out.name}'"
    info = OutputTarget(out.name, target.name, "none", target.classes)
    if out.loss == "none":
        return info, None, None
    if encoding == "auto":
        if out.loss in CLASS_LOSSES:
            encoding = "index"
        elif target.is_classes:
            encoding = "onehot" if (n_units or 1) > 1 else "value"
        else:
            encoding = "value"
    info.encoding = encoding
    labels: torch.Tensor | None = target.values if target.is_classes else None
    if target.is_classes:
        k = target.num_classes
        if encoding == "index":
            if out.loss not in CLASS_LOSSES:
                problems.append(f"{where}: the 'index' target encoding needs a cross-entropy or "
                                f"NLL loss, not {out.loss}; use 'onehot' or 'value'.")
            if n_units is not None and n_units != k:
                problems.append(
                    f"{where} has {n_units} unit(s), but the target '{target.name}' has {k} "
                    f"classes ({', '.join(target.classes[:10])}{'…' if k > 10 else ''}). Give "
                    f"the layer before it {k} units"
                    + (", or use binary cross-entropy with 1 unit." if k == 2 else "."))
            encoded = target.values
        elif encoding == "onehot":
            if out.loss == "nll":
                problems.append(f"{where}: NLL loss needs class indices; use the encoding "
                                "'index'.")
            if n_units is not None and n_units != k:
                problems.append(f"{where} has {n_units} unit(s), but one-hot targets of "
                                f"'{target.name}' have {k} classes; give the layer before it "
                                f"{k} units.")
            encoded = torch.nn.functional.one_hot(target.values, k).float()
        else:  # value: class ids as numbers (two classes → 0 / 1)
            if out.loss in CLASS_LOSSES:
                problems.append(f"{where}: {out.loss} needs class indices; use the encoding "
                                "'index'.")
            if k != 2 and out.metric in ("accuracy",):
                problems.append(f"{where}: a single value cannot predict {k} classes; use "
                                f"{k} units with one-hot targets or cross-entropy.")
            encoded = target.values.float()[:, None]
            if width is not None and width != 1:
                problems.append(f"{where} has {width} values per sample, but the target "
                                f"'{target.name}' is one class id; use 1 unit or 'onehot'.")
            if k == 2:
                info.threshold = 0.0 if out.loss == "binary_cross_entropy" else 0.5
                info.levels = (0.0, 1.0)
    else:
        if out.loss in CLASS_LOSSES or encoding in ("index", "onehot"):
            problems.append(f"{where} uses {out.loss.replace('_', ' ')} with "
                            f"'{encoding}' targets, which need classes, but the target "
                            f"'{target.name}' of '{ds.name}' holds continuous values. Use the "
                            "MSE, MAE or Huber loss.")
            return info, None, None
        info.encoding = "value"
        values = target.values.float()
        values = values[:, None] if values.dim() == 1 else values
        if width is not None and values.shape[1] != width:
            problems.append(f"{where} gives {width} value(s) per sample, but the target "
                            f"'{target.name}' has {values.shape[1]}. Give the layer before it "
                            f"{values.shape[1]} unit(s).")
        distinct = torch.unique(values)
        if values.shape[1] == 1 and len(distinct) == 2:
            lo, hi = float(distinct[0]), float(distinct[1])
            info.levels = (lo, hi)
            info.threshold = 0.0 if out.loss == "binary_cross_entropy" else (lo + hi) / 2
            labels = (values[:, 0] > (lo + hi) / 2).long()
        elif standardize and ds.tabular and len(train_idx) > 1:
            mean = values[train_idx].mean(0)
            std = values[train_idx].std(0).clamp_min(1e-12)
            if values.shape[1] == 1:
                info.offset, info.scale = float(mean), float(std)
                values = (values - mean) / std
        encoded = values
        if out.loss == "binary_cross_entropy" and ((values < 0) | (values > 1)).any():
            problems.append(f"{where}: binary cross-entropy needs targets between 0 and 1, but "
                            f"'{target.name}' has values outside; use MSE or 0/1 targets.")
    if encoded is not None and units and encoded.dim() == 2 and len(units) > 1 and \
            encoded.shape[1] == width:
        encoded = encoded.reshape(len(encoded), *units)
    metric = out.metric
    if metric == "auto":
        metric = "accuracy" if labels is not None and target.is_classes else "mae"
    if metric == "accuracy" and labels is None:
        problems.append(f"{where}: the accuracy metric needs class targets, but "
                        f"'{target.name}' holds continuous values; use MAE or R².")
    if metric in ("mae", "r2") and encoding == "index":
        metric = "accuracy"
    info.metric = metric
    return info, encoded, labels


def _self_target(spec: dict[str, Any], out: OutputSpec, shape: tuple[int, ...] | None,
                 mapped: list[torch.Tensor], inputs: Sequence[InputSpec], rows: int,
                 problems: list[str]) -> tuple[OutputTarget, torch.Tensor | None]:
    """A target that is not in the data set: an Input's own data (source ``input``: an
    autoencoder reconstructs it) or zeros of the output's shape (source ``zeros``)."""
    where = f"Output '{out.name}'"
    source = spec["source"]
    if out.loss in CLASS_LOSSES:
        problems.append(f"{where} takes its target from '{source}', which holds values, not "
                        f"classes: use the MSE, MAE or Huber loss (or binary cross-entropy "
                        "for values in [0, 1]).")
        return OutputTarget(out.name, source, "none", source=source), None
    metric = "mae" if out.metric == "auto" else out.metric
    if source == "zeros":
        if shape is None:
            problems.append(f"{where}: zero targets need the output's shape; NetCanvas reads "
                            "it by running the model (an internal error: please report it).")
            return OutputTarget(out.name, "zeros", "none", source=source), None
        info = OutputTarget(out.name, "zeros", "value", metric=metric, source=source)
        return info, torch.zeros(rows, *shape)
    names = [i.name for i in inputs]
    name = spec.get("input") or (names[0] if len(names) == 1 else "")
    if name not in names:
        problems.append(f"{where} reconstructs an input, but "
                        + (f"the design has no Input '{name}'" if name else
                           f"the design has {len(names)} inputs")
                        + f": name one of {', '.join(names)} in the data settings "
                        "('targets' → output → 'input').")
        return OutputTarget(out.name, "input", "none", source=source), None
    data = mapped[names.index(name)].float()
    if shape is not None and tuple(data.shape[1:]) != tuple(shape):
        if math.prod(shape) != math.prod(data.shape[1:]):
            problems.append(f"{where} gives {_describe(shape)} per sample but reconstructs the "
                            f"input '{name}' of {_describe(tuple(data.shape[1:]))}: make the "
                            "decoder end with the input's shape.")
            return OutputTarget(out.name, f"input {name}", "none", source=source), None
        data = data.reshape(len(data), *shape)
    info = OutputTarget(out.name, f"input {name}", "value", metric=metric, source=source)
    return info, data


def prepare_data(ds: Dataset, cfg: DataConfig, inputs: Sequence[InputSpec],
                 outputs: Sequence[OutputSpec],
                 probe: Callable[[list[torch.Tensor]], list[tuple[int, ...]]] | None = None,
                 splits: SplitIndices | None = None) -> PreparedData:
    """Split ``ds`` and encode it for a design; raise `DataMismatchError` listing every
    mismatch. ``probe(inputs)`` runs the model on two samples and returns each output's
    sample shape, so targets can be checked against output units."""
    default_val, default_test = ds.default_splits
    val = default_val if cfg.validation_split is None else cfg.validation_split
    test = default_test if cfg.test_split is None else cfg.test_split
    if splits is None:
        splits = split_indices(ds, val, test, cfg.seed, cfg.stratify)
    if len(splits.train) == 0:
        raise DataError(f"No training samples are left: '{ds.name}' has {len(ds)} rows and "
                        f"the splits take {val:.0%} + {test:.0%}.")
    problems: list[str] = []
    notes = list(ds.notes)
    x = ds.x
    features = None
    if cfg.standardize and ds.tabular and len(splits.train) > 1:
        mean = x[splits.train].mean(0)
        std = x[splits.train].std(0)
        std = torch.where(std > 1e-12, std, torch.ones_like(std))
        x = (x - mean) / std
        features = {"mean": mean.tolist(), "std": std.tolist()}
        notes.append("features standardised with training-split mean and deviation")
    mapped = _map_inputs(ds, x, cfg, inputs, problems, notes, raw=ds.x)
    if problems:
        raise DataMismatchError(problems)
    per_input = None
    if features is not None:  # the statistics go where the columns go (token ids: none)
        stats = [_map_inputs(ds, t[None], cfg, inputs, [], []) for t in (mean, std)]
        per_input = {spec.name: {"mean": m[0].tolist(), "std": d[0].tolist()}
                     for spec, m, d in zip(inputs, *stats) if spec.dtype != "int64"}

    shapes: list[tuple[int, ...] | None] = [None] * len(outputs)
    if probe is not None:
        try:
            shapes = list(probe([t[splits.train[:2]] for t in mapped]))
        except DataError:
            raise
        except Exception as exc:  # the model refused the data: say which shapes it got
            got = ", ".join(f"{spec.name}: {tuple(t.shape[1:])}" for spec, t in
                            zip(inputs, mapped))
            raise DataMismatchError([f"The model fails on samples of the data ({got}): "
                                     f"{type(exc).__name__}: {exc}"]) from exc
    unknown = set(cfg.targets) - {o.name for o in outputs}
    if unknown:
        problems.append(f"The data settings name targets for {', '.join(sorted(unknown))}, but "
                        f"the design's outputs are {', '.join(o.name for o in outputs)}.")
    infos, encoded, labels = [], [], []
    for out, shape in zip(outputs, shapes):
        spec = cfg.targets.get(out.name, {})
        if spec.get("source", "data") != "data":
            info, enc = _self_target(spec, out, shape, mapped, inputs, len(ds), problems)
            infos.append(info)
            encoded.append(enc)
            labels.append(None)
            continue
        target = ds.target(spec.get("target"))
        info, enc, lab = _encode_target(ds, target, out, shape, spec.get("encoding", "auto"),
                                        splits.train, cfg.standardize, problems)
        infos.append(info)
        encoded.append(enc)
        labels.append(lab)
    if problems:
        raise DataMismatchError(problems)
    weight = ds.sample_weight

    def split(idx: torch.Tensor) -> SplitData:
        return SplitData(mapped, encoded, labels, weight).rows(idx)

    names = [i.name for i in inputs]
    return PreparedData(split(splits.train), split(splits.validation), split(splits.test),
                        names, infos, ds.name, notes, cfg.augment.to_dict(), features,
                        per_input)
