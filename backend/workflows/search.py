"""Hyperparameter search with optuna: each trial edits a copy of the design (the hidden Dense
block, dropout) and its training settings (learning rate, batch size, optimizer), trains it with
the `Trainer` (or k-fold cross-validation), reports per-epoch validation values for pruning, and
ends in a results table; the best trial becomes an editable `graph.Document`.

The searched block: a chain of Dense (and Dropout) layers, each with one input and one
consumer, ending at the head — the Dense layer that feeds the first Output. By default it is
found by walking back from the head (e.g. ``hidden1 → hidden2`` in Flatten → hidden1 → hidden2
→ logits); ``SearchSpace.block`` names it explicitly. A trial replaces the block by 0–3 new
Dense layers (``hidden_1``…), each followed by Dropout when dropout is searched.

Block parameters (``SearchSpace.block_params``): a Block node's ``repeat`` (the depth of a
stage) and its whole-number, number and choice parameters (a width) are dimensions too, named
``layer.param`` (``layer2.repeat``, ``layer2.channels``): whole numbers and choices are picked
among the values listed, numbers uniformly between ``[low, high]``.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from backend.training.config import OPTIMIZERS
from backend.training.control import Control
from backend.workflows.crossval import HIGHER_IS_BETTER, crossval, resolve_metric
from graph.document import Document
from graph.edits import Composite, Connect, Edit, SetParams, SetSection, add_node, delete
from graph.errors import GraphError
from graph.events import Edge
from graph.names import unique_name

SAMPLERS = ("tpe", "random")
_SPACE_KEYS = ("hidden_layers", "units", "lr", "batch_size", "dropout", "optimizer", "block",
               "activation", "block_params")


class SearchError(GraphError):
    """A search that cannot run as configured; the message says what to change."""


@dataclass
class SearchSpace:
    """What varies (None: fixed as in the design)."""

    hidden_layers: tuple[int, int] | None = (0, 3)  # inclusive range of block layers
    units: tuple[int, ...] | None = (32, 64, 128, 256)  # choices, per layer
    lr: tuple[float, float] | None = (3e-4, 3e-2)  # log-uniform
    batch_size: tuple[int, ...] | None = None  # choices
    dropout: tuple[float, float] | None = None  # uniform; one rate for the block
    optimizer: tuple[str, ...] | None = None  # choices among TrainConfig's optimizers
    block: tuple[str, ...] | None = None  # layer names; None: found from the head
    activation: str | None = None  # of new layers; None: the block's first layer's, or relu
    #: "layer.param" → choices (whole numbers, choices) or [low, high] (numbers) of a Block
    #: node's parameter or its repeat; None: none searched
    block_params: dict[str, tuple[Any, ...]] | None = None

    @property
    def edits_block(self) -> bool:
        return any(v is not None for v in (self.hidden_layers, self.units, self.dropout))

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> SearchSpace:
        """From a JSON object (e.g. the training section's ``search`` key); bad values raise
        ValueError naming the key."""
        raw = dict(raw or {})
        unknown = set(raw) - set(_SPACE_KEYS) - {"trials", "timeout", "sampler", "prune",
                                                 "patience", "folds", "epochs", "metric", "seed"}
        if unknown:
            raise ValueError(f"search settings: unknown key(s) {', '.join(sorted(unknown))}; "
                             f"use {', '.join(_SPACE_KEYS)}.")
        space = cls()
        for key in _SPACE_KEYS:
            if key in raw:
                if key == "block_params" and isinstance(raw[key], dict):
                    space.block_params = {str(k): tuple(v) if isinstance(v, (list, tuple))
                                          else v for k, v in raw[key].items()} or None
                    continue
                setattr(space, key, raw[key] if raw[key] is None or key == "activation"
                        else tuple(raw[key]))
        space.check()
        return space

    def check(self) -> None:
        def bad(key: str, allowed: str) -> ValueError:
            return ValueError(f"search settings: '{key}' = {getattr(self, key)!r} is not "
                              f"allowed; use {allowed}.")

        if self.hidden_layers is not None and not (
            len(self.hidden_layers) == 2 and 0 <= self.hidden_layers[0] <= self.hidden_layers[1]
            <= 8 and all(isinstance(v, int) for v in self.hidden_layers)):
            raise bad("hidden_layers", "[low, high] with 0 ≤ low ≤ high ≤ 8")
        if self.units is not None and not (self.units and all(
                isinstance(u, int) and u >= 1 for u in self.units)):
            raise bad("units", "a list of unit counts, e.g. [32, 64, 128]")
        for key in ("lr", "dropout"):
            value = getattr(self, key)
            hi = 1e3 if key == "lr" else 0.99
            lo = 0 if key == "dropout" else 1e-12
            if value is not None and not (len(value) == 2 and lo <= value[0] <= value[1] <= hi):
                raise bad(key, f"[low, high] with {lo:g} ≤ low ≤ high ≤ {hi:g}")
        if self.batch_size is not None and not (self.batch_size and all(
                isinstance(b, int) and b >= 0 for b in self.batch_size)):
            raise bad("batch_size", "a list of batch sizes, e.g. [16, 32, 64]")
        if self.optimizer is not None and not (self.optimizer and all(
                o in OPTIMIZERS for o in self.optimizer)):
            raise bad("optimizer", "a list among " + ", ".join(OPTIMIZERS))
        if self.block_params is not None:
            if not isinstance(self.block_params, dict):
                raise bad("block_params", 'an object such as {"layer2.repeat": [1, 2, 3]}')
            for key, values in self.block_params.items():
                if key.count(".") != 1 or not all(key.split(".")) or not isinstance(
                        values, tuple) or not values:
                    raise ValueError(f"search settings: block_params {key!r}: write "
                                     "'layer.param' with a non-empty list of values, e.g. "
                                     '"layer2.repeat": [1, 2, 3].')


@dataclass
class SearchSettings:
    """The budget and method of a search."""

    space: SearchSpace = field(default_factory=SearchSpace)
    trials: int = 20
    timeout: float | None = None  # seconds for the whole search
    sampler: str = "tpe"  # tpe | random
    prune: bool = True  # median pruning on per-epoch validation values
    patience: int = 5  # early stopping inside a trial (0: off)
    folds: int = 0  # ≥ 2: k-fold cross-validation per trial
    epochs: int | None = None  # None: the design's
    metric: str = "auto"  # auto | loss | accuracy | mae | r2 (see crossval.resolve_metric)
    seed: int = 0

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> SearchSettings:
        raw = dict(raw or {})
        SearchSpace.from_dict(raw)  # checks for unknown keys
        settings = cls(space=SearchSpace.from_dict(
            {k: v for k, v in raw.items() if k in _SPACE_KEYS}))
        for key in ("trials", "timeout", "sampler", "prune", "patience", "folds", "epochs",
                    "metric", "seed"):
            if key in raw:
                setattr(settings, key, raw[key])
        settings.check()
        return settings

    def check(self) -> None:
        if self.sampler not in SAMPLERS:
            raise ValueError(f"search settings: sampler {self.sampler!r}: use tpe or random.")
        if not isinstance(self.trials, int) or self.trials < 1:
            raise ValueError(f"search settings: trials = {self.trials!r}: use 1 or more.")
        if self.folds and not 2 <= self.folds <= 10:
            raise ValueError(f"search settings: folds = {self.folds!r}: use 0 (off) or 2–10.")
        self.space.check()


# --- events --------------------------------------------------------------------------------

@dataclass(frozen=True)
class TrialStarted:
    number: int
    params: dict[str, Any]


@dataclass(frozen=True)
class TrialEpoch:
    """A validation value of the searched metric after one epoch (fold from 1; 0 without CV)."""

    number: int
    fold: int
    epoch: int
    value: float


@dataclass
class TrialRecord:
    number: int
    params: dict[str, Any]
    state: str = "running"  # complete | pruned | failed | stopped
    score: float | None = None
    fold_scores: list[float] = field(default_factory=list)
    #: Validation values of the metric per epoch, one list per fold (one list without CV).
    curves: list[list[float]] = field(default_factory=list)
    seconds: float = 0.0
    message: str = ""


@dataclass(frozen=True)
class TrialDone:
    record: TrialRecord


SearchEvent = TrialStarted | TrialEpoch | TrialDone


# --- the block ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Block:
    """The searched chain: ``entry`` → layers → ``head`` (node ids)."""

    entry: str
    layers: tuple[str, ...]
    head: str


def _single_link(doc: Document, node_id: str) -> bool:
    return len(doc.in_edges(node_id)) == 1 and len(doc.out_edges(node_id)) == 1


def find_block(doc: Document, names: tuple[str, ...] | None = None) -> Block:
    """The searched block (see the module doc); `SearchError` when there is none."""
    outputs = doc.outputs()
    if not outputs:
        raise SearchError("The design has no Output, so there is no head to search in front "
                          "of.")
    head = doc.in_edges(outputs[0])[0].src if doc.in_edges(outputs[0]) else None
    if names:
        ids = []
        for name in names:
            node_id = doc.find(name)
            if node_id is None:
                raise SearchError(f"The search block names the layer {name!r}, which is not in "
                                  "the design.")
            ids.append(node_id)
        for a, b in zip(ids, ids[1:]):
            if [e.dst for e in doc.out_edges(a)] != [b]:
                raise SearchError(f"The search block must be a chain: {doc.label(a)} does not "
                                  f"feed only {doc.label(b)}.")
        if not all(_single_link(doc, n) for n in ids):
            raise SearchError("Every layer of the search block needs exactly one input and one "
                              "consumer.")
        return Block(doc.in_edges(ids[0])[0].src, tuple(ids), doc.out_edges(ids[-1])[0].dst)
    if head is None or doc.attr(head, "type") != "Dense":
        raise SearchError("The search needs a Dense layer feeding the first Output (the head) "
                          "to find the hidden block; name the block's layers in the search "
                          "settings ('block'), or fix the layer counts.")
    if len(doc.in_edges(head)) != 1:
        raise SearchError("The head has no input.")
    chain: list[str] = []
    node = doc.in_edges(head)[0].src
    while doc.attr(node, "type") in ("Dense", "Dropout") and _single_link(doc, node):
        chain.insert(0, node)
        node = doc.in_edges(node)[0].src
    return Block(node, tuple(chain), head)


def block_dimensions(doc: Document, space: SearchSpace) -> dict[str, tuple[str, str, str]]:
    """``layer.param`` → (Block node id, parameter, kind) for every searched block parameter,
    checked against the design (`SearchError` naming what is wrong)."""
    from graph.catalogue import CHOICE, FLOAT, INT

    found: dict[str, tuple[str, str, str]] = {}
    for key, values in (space.block_params or {}).items():
        layer, param = key.split(".")
        node_id = doc.find(layer)
        if node_id is None or doc.attr(node_id, "type") != "Block":
            raise SearchError(f"The search varies {key!r}, but the design has no block "
                              f"named {layer!r}.")
        spec = next((p for p in doc.spec(node_id).params if p.name == param), None)
        if spec is None or param == "block" or spec.kind not in (INT, FLOAT, CHOICE):
            block = doc.root.block(doc.attr(node_id, "params")["block"])
            names = ", ".join(["repeat", *(p.name for p in block.block_params)])
            raise SearchError(f"The search varies {key!r}, but block {layer} "
                              f"({block.name}) has no such parameter; it has {names}.")
        if spec.kind == FLOAT:
            ok = len(values) == 2 and all(isinstance(v, (int, float)) for v in values) \
                and values[0] <= values[1]
            want = "[low, high]"
        elif spec.kind == INT:
            ok = all(isinstance(v, int) and not isinstance(v, bool) for v in values)
            want = "a list of whole numbers"
        else:
            ok = all(v in spec.choices for v in values)
            want = "a list among " + ", ".join(spec.choices)
        for v in values if ok and spec.kind != FLOAT else ():
            try:
                spec.validate(v)
            except Exception as exc:  # noqa: BLE001 - the spec's own message
                raise SearchError(f"The search varies {key!r}: {exc}") from None
        if not ok:
            raise SearchError(f"The search varies {key!r}: give {want}.")
        found[key] = (node_id, param, spec.kind)
    return found


def _block_units(doc: Document, block: Block) -> list[int]:
    return [doc.attr(n, "params")["units"] for n in block.layers
            if doc.attr(n, "type") == "Dense"]


def suggest_params(trial: Any, space: SearchSpace, doc: Document, block: Block | None
                   ) -> dict[str, Any]:
    """Ask optuna's ``trial`` for one point of ``space``."""
    params: dict[str, Any] = {}
    if space.hidden_layers is not None:
        params["hidden_layers"] = trial.suggest_int("hidden_layers", *space.hidden_layers)
    if space.units is not None and block is not None:
        n = params.get("hidden_layers", len(_block_units(doc, block)))
        for i in range(n):
            params[f"units_{i + 1}"] = trial.suggest_categorical(f"units_{i + 1}",
                                                                  list(space.units))
    if space.dropout is not None:
        params["dropout"] = trial.suggest_float("dropout", *space.dropout)
    if space.lr is not None:
        params["lr"] = trial.suggest_float("lr", *space.lr, log=True)
    if space.batch_size is not None:
        params["batch_size"] = trial.suggest_categorical("batch_size", list(space.batch_size))
    if space.optimizer is not None:
        params["optimizer"] = trial.suggest_categorical("optimizer", list(space.optimizer))
    for key, (_node, _param, kind) in block_dimensions(doc, space).items():
        values = space.block_params[key]
        params[key] = (trial.suggest_float(key, float(values[0]), float(values[1]))
                       if kind == "float" else trial.suggest_categorical(key, list(values)))
    return params


def rebuild_block(doc: Document, block: Block, units: list[int], activation: str,
                  dropout: float = 0.0) -> Edit:
    """One edit: delete the block's layers and chain ``len(units)`` Dense layers (each with
    Dropout when ``dropout`` > 0) from the entry to the head."""
    preview = doc.copy()
    edits: list[Edit] = []
    if block.layers:
        gone = delete(preview, block.layers)
        preview.apply(gone)
        edits.append(gone)
    else:
        old = [e for e in preview.in_edges(block.head) if e.src == block.entry]
        gone = delete(preview, edges=old)
        preview.apply(gone)
        edits.append(gone)
    (x0, y0), (x1, y1) = preview.attr(block.entry, "pos"), preview.attr(block.head, "pos")
    count = len(units) * (2 if dropout > 0 else 1)
    prev, k = block.entry, 0

    def chain(type_name: str, params: dict[str, Any], prefix: str) -> None:
        nonlocal prev, k
        k += 1
        t = k / (count + 1)
        edit = add_node(preview, type_name, (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t),
                        name=unique_name(prefix, preview.names()), params=params)
        preview.apply(edit)
        con = Connect(Edge(prev, 0, edit.node.id, 0))
        preview.apply(con)
        edits.extend([edit, con])
        prev = edit.node.id

    for u in units:
        chain("Dense", {"units": int(u), "activation": activation}, "hidden")
        if dropout > 0:
            chain("Dropout", {"p": round(float(dropout), 4)}, "dropout")
    con = Connect(Edge(prev, 0, block.head, 0))
    edits.append(con)
    return Composite(tuple(edits), f"search block: {len(units)} hidden layer(s)")


def trial_document(doc: Document, params: dict[str, Any], settings: SearchSettings
                   ) -> Document:
    """A new, editable design: ``doc`` with a trial's architecture and training settings."""
    space = settings.space
    out = doc.copy()
    if space.edits_block and any(k == "hidden_layers" or k.startswith("units_") or
                                 k == "dropout" for k in params):
        block = find_block(out, space.block)
        current = _block_units(out, block)
        n = params.get("hidden_layers", len(current))
        units = [params.get(f"units_{i + 1}", current[i] if i < len(current) else
                            (current[-1] if current else 64)) for i in range(n)]
        first_dense = [b for b in block.layers if out.attr(b, "type") == "Dense"]
        activation = space.activation or (out.attr(first_dense[0], "params")["activation"]
                                          if first_dense else "relu")
        out.apply(rebuild_block(out, block, units, activation, params.get("dropout", 0.0)))
    for key, (node_id, param, _kind) in block_dimensions(out, space).items():
        if key in params:
            out.apply(SetParams(node_id, {param: params[key]}))
    training = out.section("training")
    for key in ("lr", "batch_size", "optimizer"):
        if key in params:
            training[key] = params[key]
    if training.get("optimizer") != "sgd":
        training.pop("nesterov", None)
    out.apply(SetSection("training", training))
    return out


# --- the search -----------------------------------------------------------------------------

class _TrialControl(Control):
    """The user's Control, plus this trial's own stop (pruning)."""

    def __init__(self, outer: Control) -> None:
        super().__init__()
        self.outer = outer

    @property
    def stopped(self) -> bool:
        return self._stopped or self.outer.stopped

    def should_continue(self, on_pause: Any = None, on_resume: Any = None) -> bool:
        return self.outer.should_continue(on_pause, on_resume) and super().should_continue()


@dataclass
class SearchResult:
    metric: str
    direction: str  # minimize | maximize
    trials: list[TrialRecord]
    settings: SearchSettings
    base: Document
    stopped: bool = False

    @property
    def best(self) -> TrialRecord | None:
        done = [t for t in self.trials if t.state == "complete" and t.score is not None]
        if not done:
            return None
        pick = max if self.direction == "maximize" else min
        return pick(done, key=lambda t: t.score)

    def best_document(self) -> Document:
        """The best trial as a new design (raises `SearchError` when no trial completed)."""
        best = self.best
        if best is None:
            raise SearchError("No trial completed, so there is no best design yet.")
        return trial_document(self.base, best.params, self.settings)

    def rows(self) -> list[dict[str, Any]]:
        """One plain dict per trial: number, params, score, state, seconds."""
        return [{"trial": t.number, "params": dict(t.params), "score": t.score,
                 "state": t.state, "seconds": round(t.seconds, 3)} for t in self.trials]

    def table(self) -> str:
        keys = list(dict.fromkeys(k for t in self.trials for k in t.params))
        head = ["trial", *keys, self.metric, "state"]
        rows = []
        best = self.best
        for t in self.trials:
            cells = [f"{t.number}{'*' if t is best else ''}"]
            for k in keys:
                v = t.params.get(k, "")
                cells.append(f"{v:.3g}" if isinstance(v, float) else str(v))
            cells.append("" if t.score is None else f"{t.score:.4g}")
            cells.append(t.state)
            rows.append(cells)
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
                  for i, h in enumerate(head)]
        fmt = "  ".join(f"{{:>{w}}}" for w in widths)
        return "\n".join([fmt.format(*head)] + [fmt.format(*r) for r in rows])

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "direction": self.direction,
                "trials": [asdict(t) for t in self.trials],
                "best": self.best.number if self.best else None, "stopped": self.stopped}


def search(doc: Document, settings: SearchSettings | dict | None = None, *,
           callback: Callable[[SearchEvent], None] | None = None,
           control: Control | None = None, base_dir: Any = None) -> SearchResult:
    """Run the search; report `TrialStarted`, `TrialEpoch`, `TrialDone` to ``callback``.

    ``control`` stops the running trial (recorded as "stopped") and the search; pausing it
    pauses training. The design ``doc`` is never changed.
    """
    import optuna

    settings = settings if isinstance(settings, SearchSettings) else \
        SearchSettings.from_dict(settings)
    settings.check()
    control = control or Control()
    space = settings.space
    block = find_block(doc, space.block) if space.edits_block else None
    block_dimensions(doc, space)  # a wrong name is said before the first trial
    emit = callback or (lambda e: None)
    metric = settings.metric
    direction = "maximize" if metric in HIGHER_IS_BETTER else "minimize"
    if metric == "auto":  # decided by the first trial's validation metrics
        direction = "maximize"
    records: list[TrialRecord] = []
    state = {"metric": metric, "direction": direction}

    base_training = doc.section("training")
    if settings.epochs is not None:
        base_training["epochs"] = settings.epochs
    if settings.patience:
        base_training["early_stopping_patience"] = settings.patience

    def better(a: float, b: float) -> bool:
        return a > b if state["direction"] == "maximize" else a < b

    def objective(trial: Any) -> float:
        params = suggest_params(trial, space, doc, block)
        record = TrialRecord(trial.number, params)
        records.append(record)
        emit(TrialStarted(trial.number, dict(params)))
        start = time.perf_counter()
        try:
            return _run_trial(trial, record, params)
        finally:
            record.seconds = time.perf_counter() - start
            emit(TrialDone(record))

    def value_of(validation: dict, total: float | None) -> float:
        name, value = resolve_metric(metric, validation, total)
        if state["metric"] == "auto":
            state["metric"] = name
            state["direction"] = "maximize" if name in HIGHER_IS_BETTER else "minimize"
        return value

    def _run_trial(trial: Any, record: TrialRecord, params: dict[str, Any]) -> float:
        from backend.training.events import EpochEnd, Failed
        from backend.training.trainer import Trainer

        trial_doc = trial_document(doc, params, settings)
        training = trial_doc.section("training")
        training.update({k: v for k, v in base_training.items()
                         if k in ("epochs", "early_stopping_patience")})
        inner = _TrialControl(control)
        pruned = []

        def on_epoch(fold: int, event: Any) -> None:
            if not isinstance(event, EpochEnd):
                return
            value = value_of(event.validation, event.validation_loss)
            while len(record.curves) < max(fold, 1):
                record.curves.append([])
            record.curves[max(fold, 1) - 1].append(value)
            emit(TrialEpoch(record.number, fold, event.epoch, value))
            if fold == 0 and settings.prune:
                trial.report(_signed(value), event.epoch)
                if trial.should_prune():
                    pruned.append(event.epoch)
                    inner.stop()

        try:
            if settings.folds >= 2:
                cv = crossval(trial_doc, None, training, settings.folds, metric=metric,
                              callback=lambda fe: on_epoch(fe.fold, fe.event), control=inner,
                              base_dir=base_dir)
                record.fold_scores = cv.scores
                if cv.stopped:
                    record.state = "stopped"
                    raise optuna.TrialPruned()
                score = cv.mean
            else:
                trainer = Trainer(trial_doc, config=training, base_dir=base_dir)
                result = trainer.run(lambda e: on_epoch(0, e), inner)
                if isinstance(result, Failed):
                    record.state, record.message = "failed", result.message
                    raise optuna.TrialPruned()  # a failed trial must not stop the search
                if pruned:
                    record.state = "pruned"
                    raise optuna.TrialPruned()
                if result.reason == "stopped":
                    record.state = "stopped"
                    raise optuna.TrialPruned()
                curve = record.curves[0] if record.curves else []
                if not curve:
                    raise SearchError("The trial reported no validation value; the search "
                                      "needs a validation split.")
                score = curve[-1]
                if training.get("early_stopping_patience"):
                    score = curve[0]
                    for v in curve[1:]:
                        score = v if better(v, score) else score
        except (ValueError, GraphError) as exc:
            record.state, record.message = "failed", str(exc)
            raise optuna.TrialPruned() from None
        record.score = score
        record.state = "complete"
        return _signed(score)

    def _signed(value: float) -> float:
        # the study always minimises, so "auto" can settle its direction after trial 0
        return -value if state["direction"] == "maximize" else value

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = (optuna.samplers.TPESampler(seed=settings.seed) if settings.sampler == "tpe"
               else optuna.samplers.RandomSampler(seed=settings.seed))
    pruner = (optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=2)
              if settings.prune else optuna.pruners.NopPruner())
    study = optuna.create_study(direction="minimize", sampler=sampler, pruner=pruner)

    def stop_if_asked(study: Any, trial: Any) -> None:
        if control.stopped:
            study.stop()

    study.optimize(objective, n_trials=settings.trials, timeout=settings.timeout,
                   callbacks=[stop_if_asked], catch=())
    return SearchResult(state["metric"], state["direction"], records, settings, doc.copy(),
                        stopped=control.stopped)


def settings_from_section(training: dict[str, Any]) -> SearchSettings:
    """Search settings stored in a design's training section (``"search": {…}``)."""
    return SearchSettings.from_dict(copy.deepcopy(training.get("search") or {}))


__all__ = ["SearchError", "SearchSpace", "SearchSettings", "TrialStarted", "TrialEpoch",
           "TrialDone", "TrialRecord", "SearchResult", "Block", "find_block", "rebuild_block",
           "block_dimensions",
           "trial_document", "search", "settings_from_section"]

