"""Hyperparameter search in the app: choose what varies and the budget, run optuna trials in
the background, watch a live results table and every trial's validation curve (best
highlighted), stop, and open any completed trial — the best by default — as a new design."""

from __future__ import annotations

import math
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from builder.progress import ProgressBar
from builder.training.guard import gui_only
from builder.workflows.job_view import JobView
from builder.workflows.plotting import BEST_COLOR, SERIES_COLORS, SciSpinBox, pen, plot_widget

#: Losses whose outputs report accuracy (so "auto" scores accuracy, higher is better).
_CLASS_LOSSES = ("cross_entropy", "binary_cross_entropy", "nll")
#: Results table columns (those of parameters that do not vary are hidden).
COLUMNS = ("trial", "layers", "units", "dropout", "lr", "batch", "optimizer", "blocks", "score",
           "state", "time")


def _ints(text: str) -> tuple[int, ...]:
    """``"32, 64 128"`` → (32, 64, 128); ValueError naming the bad entry."""
    out = []
    for part in text.replace(",", " ").split():
        try:
            value = int(part)
        except ValueError:
            raise ValueError(f"{part!r} is not a whole number") from None
        if value < 1:
            raise ValueError(f"{value} must be at least 1")
        out.append(value)
    if not out:
        raise ValueError("give at least one value")
    return tuple(out)


def parse_block_params(text: str) -> dict[str, tuple]:
    """``"layer1.repeat = 1, 2, 3; layer2.channels = 16, 32"`` → {"layer1.repeat": (1, 2, 3),
    …}: whole numbers, numbers or words per entry (a number parameter's two values are its
    [low, high]); ValueError naming the bad entry."""
    out: dict[str, tuple] = {}
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        key, eq, values = part.partition("=")
        key = key.strip()
        if not eq or key.count(".") != 1 or not all(key.split(".")):
            raise ValueError(f"{part!r}: write block.parameter = values, e.g. "
                             "layer2.repeat = 1, 2, 3")
        items = []
        for v in (v.strip() for v in values.replace(" ", ",").split(",")):
            if not v:
                continue
            try:
                items.append(int(v))
            except ValueError:
                try:
                    items.append(float(v))
                except ValueError:
                    items.append(v)
        if not items:
            raise ValueError(f"{key}: give at least one value")
        out[key] = tuple(items)
    if not out:
        raise ValueError("give at least one block parameter, e.g. layer2.repeat = 1, 2, 3")
    return out


def _float_box(value: float, lo: float, hi: float, decimals: int) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setDecimals(decimals)
    box.setRange(lo, hi)
    box.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
    box.setValue(value)
    return box


class _Range(QWidget):
    """Two spin boxes: low … high."""

    def __init__(self, low: QWidget, high: QWidget) -> None:
        super().__init__()
        self.low, self.high = low, high
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(low, 1)
        layout.addWidget(QLabel("to"))
        layout.addWidget(high, 1)

    def values(self) -> tuple[Any, Any]:
        return self.low.value(), self.high.value()


class SearchDialog(JobView, QDialog):
    """Configure, run and inspect a hyperparameter search of the current design."""

    LOG_PREFIX = "search"

    def __init__(self, workflows: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Hyperparameter search")
        self.setObjectName("searchDialog")
        self._attach(workflows, "search")
        self.result: Any = None
        self.settings: Any = None
        self.base: Any = None  # the design the running / last search started from
        self.records: dict[int, dict[str, Any]] = {}
        self.maximize = True
        self._build_form()
        self._build_results()
        splitter = QSplitter(Qt.Orientation.Horizontal)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(self.form.sizeHint().width() + 24)
        splitter.addWidget(scroll)
        splitter.addWidget(self.results)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([scroll.minimumWidth(), 760])
        self.progress = ProgressBar()
        self.progress.setFormat("%v / %m trials")
        self.status = QLabel("Choose what varies and the budget, then press Run.")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.run_button = QPushButton("Run")
        self.stop_button = QPushButton("Stop")
        self.open_button = QPushButton("Open as new design")
        self.open_button.setToolTip("Open the selected trial (the best when none is selected) "
                                    "as a new, editable design.")
        close = QPushButton("Close")
        self.run_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.open_button.clicked.connect(lambda: self.open_trial())
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.resize(1150, 700)
        self._set_running(False)

    # --- construction ---------------------------------------------------------------------------
    def _build_form(self) -> None:
        from backend.training.config import OPTIMIZERS  # torch-free

        self.form = QWidget()
        col = QVBoxLayout(self.form)
        arch = QGroupBox("Architecture")
        self.block_label = QLabel("")
        self.block_label.setWordWrap(True)
        self.block_label.setObjectName("muted")
        self.vary_layers = QCheckBox("Hidden layers")
        self.layers = _Range(QSpinBox(), QSpinBox())
        for box, value in ((self.layers.low, 0), (self.layers.high, 3)):
            box.setRange(0, 8)
            box.setValue(value)
        self.vary_units = QCheckBox("Units per layer")
        self.units = QLineEdit("32, 64, 128, 256")
        self.units.setToolTip("Choices for every hidden layer, separated by commas.")
        self.vary_dropout = QCheckBox("Dropout")
        self.dropout = _Range(_float_box(0.0, 0.0, 0.9, 2), _float_box(0.5, 0.0, 0.9, 2))
        self.vary_blocks = QCheckBox("Block parameters")
        self.block_params = QLineEdit()
        self.block_params.setToolTip(
            "A block's repeat (the depth of a stage) and its parameters (a width), each "
            "with its values: layer2.repeat = 1, 2, 3; layer2.channels = 16, 32. A number "
            "parameter's two values are its low and high end.")
        form = QFormLayout(arch)
        form.addRow(self.block_label)
        form.addRow(self.vary_layers, self.layers)
        form.addRow(self.vary_units, self.units)
        form.addRow(self.vary_dropout, self.dropout)
        form.addRow(self.vary_blocks, self.block_params)
        col.addWidget(arch)

        train = QGroupBox("Training")
        self.vary_lr = QCheckBox("Learning rate (log)")
        self.lr = _Range(SciSpinBox(3e-4, 1e-8, 10.0), SciSpinBox(3e-2, 1e-8, 10.0))
        self.vary_batch = QCheckBox("Batch sizes")
        self.batch = QLineEdit("16, 32, 64")
        self.vary_optimizer = QCheckBox("Optimizers")
        self.optimizers = QListWidget()
        self.optimizers.setMaximumHeight(20 * len(OPTIMIZERS) + 6)
        for name in OPTIMIZERS:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name in ("adam", "sgd")
                               else Qt.CheckState.Unchecked)
            self.optimizers.addItem(item)
        form = QFormLayout(train)
        form.addRow(self.vary_lr, self.lr)
        form.addRow(self.vary_batch, self.batch)
        form.addRow(self.vary_optimizer, self.optimizers)
        col.addWidget(train)

        budget = QGroupBox("Budget and method")
        self.trials = QSpinBox()
        self.trials.setRange(1, 1000)
        self.trials.setValue(20)
        self.timeout = QSpinBox()
        self.timeout.setRange(0, 7 * 24 * 3600)
        self.timeout.setSingleStep(60)
        self.timeout.setSpecialValueText("no limit")
        self.timeout.setSuffix(" s")
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 10000)
        self.sampler = QComboBox()
        self.sampler.addItem("TPE (learns from earlier trials)", "tpe")
        self.sampler.addItem("Random", "random")
        self.prune = QCheckBox("Prune poor trials early (median rule)")
        self.prune.setChecked(True)
        self.patience = QSpinBox()
        self.patience.setRange(0, 1000)
        self.patience.setValue(5)
        self.patience.setSpecialValueText("off")
        self.folds = QComboBox()
        self.folds.addItem("off", 0)
        for k in (3, 4, 5):
            self.folds.addItem(f"{k} folds (mean ± std)", k)
        self.score_metric = QComboBox()
        for key in ("auto", "accuracy", "loss", "mae", "r2"):
            self.score_metric.addItem(key, key)
        form = QFormLayout(budget)
        form.addRow("Trials", self.trials)
        form.addRow("Time limit", self.timeout)
        form.addRow("Epochs per trial", self.epochs)
        form.addRow("Sampler", self.sampler)
        form.addRow(self.prune)
        form.addRow("Early stopping patience", self.patience)
        form.addRow("Cross-validation", self.folds)
        form.addRow("Score", self.score_metric)
        col.addWidget(budget)
        col.addStretch(1)
        for box in (self.vary_layers, self.vary_units, self.vary_lr):
            box.setChecked(True)
        for box, widget in ((self.vary_layers, self.layers), (self.vary_units, self.units),
                            (self.vary_dropout, self.dropout), (self.vary_lr, self.lr),
                            (self.vary_blocks, self.block_params),
                            (self.vary_batch, self.batch),
                            (self.vary_optimizer, self.optimizers)):
            box.toggled.connect(widget.setEnabled)
            widget.setEnabled(box.isChecked())

    def _build_results(self) -> None:
        self.results = QSplitter(Qt.Orientation.Vertical)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.plot_widget = plot_widget("Validation score per epoch, every trial", "epoch",
                                       "score")
        self.plot = self.plot_widget.getPlotItem()
        self.plot.legend.hide()  # one curve per trial: the title names the best instead
        self.curves: dict[int, pg.PlotDataItem] = {}
        self.results.addWidget(self.plot_widget)
        self.results.addWidget(self.table)
        self.results.setSizes([380, 260])

    # --- the design ---------------------------------------------------------------------------
    def refresh(self) -> None:
        """Follow the design: its block, epochs and stored search settings."""
        if self.runner.running():
            return
        from backend.workflows.search import SearchError, find_block

        doc = self.controller.doc
        training = doc.section("training")
        self.epochs.setValue(int(training.get("epochs", 10) or 10))
        try:
            block = find_block(doc)
        except SearchError as exc:
            self.block_label.setText(f"No block to search: {exc.message}")
            self._block_ok = False
        else:
            names = [doc.attr(n, "name") for n in block.layers]
            head = doc.attr(block.head, "name")
            entry = doc.attr(block.entry, "name")
            self.block_label.setText(
                f"Block: {entry} → {' → '.join(names) if names else '(none)'} → {head}. "
                "Trials replace it with new Dense layers.")
            self._block_ok = True
        for box in (self.vary_layers, self.vary_units, self.vary_dropout):
            box.setEnabled(self._block_ok)
        blocks = [n for n in doc.node_ids() if doc.attr(n, "type") == "Block"]
        self.vary_blocks.setEnabled(bool(blocks))
        if not blocks:
            self.vary_blocks.setChecked(False)
        example = "; ".join(f"{doc.attr(n, 'name')}.repeat = 1, 2" for n in blocks[:2])
        self.block_params.setPlaceholderText(example or "the design has no blocks")
        self._load_stored(training.get("search"))

    def _load_stored(self, raw: Any) -> None:
        """Pre-fill the form from the design's ``training.search`` settings, if any."""
        if not isinstance(raw, dict):
            return
        from backend.workflows.search import SearchSettings

        try:
            s = SearchSettings.from_dict(raw)
        except (ValueError, TypeError):
            return
        space = s.space
        self.vary_layers.setChecked(space.hidden_layers is not None)
        if space.hidden_layers is not None:
            self.layers.low.setValue(space.hidden_layers[0])
            self.layers.high.setValue(space.hidden_layers[1])
        self.vary_units.setChecked(space.units is not None)
        if space.units:
            self.units.setText(", ".join(str(u) for u in space.units))
        self.vary_lr.setChecked(space.lr is not None)
        if space.lr:
            self.lr.low.setValue(space.lr[0])
            self.lr.high.setValue(space.lr[1])
        self.vary_batch.setChecked(space.batch_size is not None)
        if space.batch_size:
            self.batch.setText(", ".join(str(b) for b in space.batch_size))
        self.vary_dropout.setChecked(space.dropout is not None)
        if space.dropout:
            self.dropout.low.setValue(space.dropout[0])
            self.dropout.high.setValue(space.dropout[1])
        self.vary_blocks.setChecked(space.block_params is not None)
        if space.block_params:
            self.block_params.setText("; ".join(
                f"{k} = {', '.join(str(v) for v in vs)}" for k, vs in space.block_params.items()))
        self.vary_optimizer.setChecked(space.optimizer is not None)
        if space.optimizer:
            for i in range(self.optimizers.count()):
                item = self.optimizers.item(i)
                item.setCheckState(Qt.CheckState.Checked if item.text() in space.optimizer
                                   else Qt.CheckState.Unchecked)
        self.trials.setValue(s.trials)
        self.timeout.setValue(int(s.timeout or 0))
        if s.epochs:
            self.epochs.setValue(int(s.epochs))
        self.sampler.setCurrentIndex(max(0, self.sampler.findData(s.sampler)))
        self.prune.setChecked(bool(s.prune))
        self.patience.setValue(int(s.patience))
        self.folds.setCurrentIndex(max(0, self.folds.findData(s.folds)))
        self.score_metric.setCurrentIndex(max(0, self.score_metric.findData(s.metric)))

    def search_settings(self) -> Any:
        """The form as `SearchSettings`; ValueError with a message naming the field."""
        from backend.workflows.search import SearchSettings, SearchSpace

        space = SearchSpace(hidden_layers=None, units=None, lr=None)
        block_ok = getattr(self, "_block_ok", True)
        if self.vary_layers.isChecked() and block_ok:
            low, high = self.layers.values()
            if low > high:
                raise ValueError("Hidden layers: the low end is above the high end.")
            space.hidden_layers = (low, high)
        if self.vary_units.isChecked() and block_ok:
            try:
                space.units = _ints(self.units.text())
            except ValueError as exc:
                raise ValueError(f"Units per layer: {exc} (write e.g. 32, 64, 128).") from None
        if self.vary_dropout.isChecked() and block_ok:
            space.dropout = self.dropout.values()
        if self.vary_lr.isChecked():
            space.lr = self.lr.values()
            if space.lr[0] > space.lr[1]:
                raise ValueError("Learning rate: the low end is above the high end.")
        if self.vary_batch.isChecked():
            try:
                space.batch_size = _ints(self.batch.text())
            except ValueError as exc:
                raise ValueError(f"Batch sizes: {exc} (write e.g. 16, 32, 64).") from None
        if self.vary_optimizer.isChecked():
            chosen = tuple(self.optimizers.item(i).text() for i in range(self.optimizers.count())
                           if self.optimizers.item(i).checkState() == Qt.CheckState.Checked)
            if not chosen:
                raise ValueError("Optimizers: check at least one.")
            space.optimizer = chosen
        if self.vary_blocks.isChecked() and self.vary_blocks.isEnabled():
            try:
                space.block_params = parse_block_params(self.block_params.text())
            except ValueError as exc:
                raise ValueError(f"Block parameters: {exc}.") from None
        if not any(v is not None for v in (space.hidden_layers, space.units, space.dropout,
                                           space.lr, space.batch_size, space.optimizer,
                                           space.block_params)):
            raise ValueError("Nothing varies: check at least one thing to search.")
        settings = SearchSettings(space=space, trials=self.trials.value(),
                                  timeout=float(self.timeout.value()) or None,
                                  sampler=self.sampler.currentData(),
                                  prune=self.prune.isChecked(), patience=self.patience.value(),
                                  folds=int(self.folds.currentData()),
                                  epochs=self.epochs.value(), metric=self.score_metric.currentData())
        settings.check()
        return settings

    def _higher_is_better(self, metric: str) -> bool:
        """The direction while trials run ("auto" is settled by the result at the end)."""
        if metric in ("accuracy", "r2"):
            return True
        if metric != "auto":
            return False
        doc = self.controller.doc
        outputs = doc.outputs()
        if not outputs:
            return False
        params = doc.attr(outputs[0], "params")
        if params.get("metric") == "accuracy":
            return True
        return params.get("metric", "auto") == "auto" and params.get("loss") in _CLASS_LOSSES

    # --- running --------------------------------------------------------------------------------
    @Slot(bool)
    @gui_only
    def _set_running(self, on: bool) -> None:
        self.run_button.setEnabled(not on)
        self.stop_button.setEnabled(on)
        self.form.setEnabled(not on)
        self._selection_changed()

    @Slot()
    @gui_only
    def start(self) -> bool:
        """Start the search in the background (False when it cannot start; the reason shows)."""
        if self.runner.running():
            return False
        problems = self.workflows.design_problems()
        if problems:
            self._say("Cannot search: fix the design first — " + " ".join(problems[:3]), True)
            return False
        from backend.workflows.search import SearchError, block_dimensions

        try:
            settings = self.search_settings()
            block_dimensions(self.controller.doc, settings.space)  # names the design has
        except ValueError as exc:
            self._say(str(exc), True)
            return False
        except SearchError as exc:
            self._say(f"Block parameters: {exc.message}", True)
            return False
        doc = self.controller.doc.copy()
        base_dir = self.workflows.project_dir()

        def job(report: Any, control: Any) -> Any:
            from backend.workflows.search import search

            return search(doc, settings, callback=report, control=control, base_dir=base_dir)

        self.settings, self.base, self.result = settings, doc, None
        self.maximize = self._higher_is_better(settings.metric)
        self.records.clear()
        for curve in self.curves.values():
            self.plot.removeItem(curve)
        self.curves.clear()
        self.plot.setLabel("left", settings.metric if settings.metric != "auto" else "score")
        self.table.setRowCount(0)
        space = settings.space
        shown = {"layers": space.hidden_layers is not None, "units": space.units is not None,
                 "dropout": space.dropout is not None, "lr": space.lr is not None,
                 "batch": space.batch_size is not None, "optimizer": space.optimizer is not None,
                 "blocks": space.block_params is not None}
        for col, title in enumerate(COLUMNS):
            self.table.setColumnHidden(col, not shown.get(title, True))
        self.progress.setRange(0, settings.trials)
        self.progress.setValue(0)
        cv = f", {settings.folds}-fold cross-validation" if settings.folds else ""
        self._say(f"Searching: {settings.trials} trial(s) of {settings.epochs} epoch(s), "
                  f"{settings.sampler} sampling{cv}…")
        return self.runner.start(job)

    @Slot()
    @gui_only
    def stop(self) -> None:
        """Stop the running trial and the search (the finished trials stay)."""
        if self.runner.running():
            self.runner.stop()
            self._say("Stopping after the current batch…")

    @Slot(list)
    @gui_only
    def _on_progress(self, events: list) -> None:
        touched = set()
        for ev in events:
            kind = type(ev).__name__
            if kind == "TrialStarted":
                self.records[ev.number] = {"params": dict(ev.params), "state": "running",
                                           "score": None, "folds": [], "curves": {},
                                           "seconds": 0.0}
            elif kind == "TrialEpoch":
                rec = self.records.get(ev.number)
                if rec is not None:
                    rec["curves"].setdefault(max(ev.fold, 1), []).append(ev.value)
            elif kind == "TrialDone":
                r = ev.record
                rec = self.records.setdefault(r.number, {"params": dict(r.params), "curves": {}})
                rec.update(state=r.state, score=r.score, folds=list(r.fold_scores),
                           seconds=r.seconds, message=r.message)
                if r.state == "failed" and r.message:
                    self.workflows.log(f"search: trial {r.number} failed: {r.message}")
            touched.add(ev.record.number if kind == "TrialDone" else ev.number)
        for number in sorted(touched):
            self._show_trial(number)
        done = sum(1 for r in self.records.values() if r["state"] != "running")
        self.progress.setValue(done)
        self._highlight_best()

    def _show_trial(self, number: int) -> None:
        rec = self.records[number]
        row = self._row_of(number)
        if row is None:
            row = self.table.rowCount()
            self.table.insertRow(row)
        params = rec["params"]
        units = " · ".join(str(params[k]) for k in sorted(
            (k for k in params if k.startswith("units_")), key=lambda k: int(k.split("_")[1])))
        score = rec["score"]
        score_text = "" if score is None else f"{score:.4g}"
        if rec["folds"]:
            n = len(rec["folds"])
            mean = sum(rec["folds"]) / n
            std = math.sqrt(sum((s - mean) ** 2 for s in rec["folds"]) / n)
            score_text = f"{mean:.4g} ± {std:.2g}"
        values = {"trial": str(number), "layers": str(params.get("hidden_layers", "")),
                  "units": units, "dropout": _fmt(params.get("dropout")),
                  "lr": _fmt(params.get("lr")), "batch": str(params.get("batch_size", "")),
                  "optimizer": str(params.get("optimizer", "")),
                  "blocks": " · ".join(f"{k} {_fmt(v) if isinstance(v, float) else v}"
                                       for k, v in params.items() if "." in k),
                  "score": score_text,
                  "state": rec["state"], "time": f"{rec['seconds']:.1f} s"
                  if rec["seconds"] else ""}
        for col, title in enumerate(COLUMNS):
            item = QTableWidgetItem(values[title])
            item.setData(Qt.ItemDataRole.UserRole, number)
            if rec.get("message"):
                item.setToolTip(rec["message"])
            self.table.setItem(row, col, item)
        curve = self.curves.get(number)
        if curve is None:
            color = SERIES_COLORS[number % len(SERIES_COLORS)]
            curve = self.plot.plot(pen=pen(color, 1.3, 170))
            self.curves[number] = curve
        ys = _mean_curve(rec["curves"])
        curve.setData(list(range(1, len(ys) + 1)), ys)

    def _row_of(self, number: int) -> int | None:
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) == number:
                return row
        return None

    def best_number(self) -> int | None:
        """The best completed trial so far (the search's own answer once it has finished)."""
        if self.result is not None:
            best = self.result.best
            return None if best is None else best.number
        done = [(n, r["score"]) for n, r in self.records.items()
                if r["state"] == "complete" and r["score"] is not None]
        if not done:
            return None
        pick = max if self.maximize else min
        return pick(done, key=lambda t: t[1])[0]

    def _highlight_best(self) -> None:
        best = self.best_number()
        for number, curve in self.curves.items():
            color = SERIES_COLORS[number % len(SERIES_COLORS)]
            if number == best:
                curve.setPen(pen(BEST_COLOR, 3.5))
                curve.setZValue(10)
            else:
                state = self.records.get(number, {}).get("state")
                curve.setPen(pen(color, 1.3, 110 if state in ("pruned", "failed", "stopped")
                                 else 190, dashed=state == "pruned"))
                curve.setZValue(0)
        what = "validation " + (self.result.metric if self.result is not None else
                                ("score" if self.settings is None or self.settings.metric == "auto"
                                 else self.settings.metric))
        self.plot.setTitle(f"{what} per epoch, every trial" + (
            f" — <span style='color:{BEST_COLOR}'><b>best: trial {best}</b></span>"
            if best is not None else ""))
        bold_font = self.table.font()
        bold_font.setBold(True)
        for row in range(self.table.rowCount()):
            is_best = self.table.item(row, 0).data(Qt.ItemDataRole.UserRole) == best
            for col in range(self.table.columnCount()):
                item = self.table.item(row, col)
                font = self.table.font()
                font.setBold(is_best)
                item.setFont(font)
        self._selection_changed()

    @Slot(object)
    @gui_only
    def _on_finished(self, result: Any) -> None:
        self.result = result
        self.maximize = result.direction == "maximize"
        for r in result.trials:  # the final word on every trial
            rec = self.records.setdefault(r.number, {"params": dict(r.params), "curves": {}})
            rec.update(state=r.state, score=r.score, folds=list(r.fold_scores),
                       seconds=r.seconds, message=r.message)
            rec["curves"] = {i + 1: list(c) for i, c in enumerate(r.curves)}
            self._show_trial(r.number)
        self.plot.setLabel("left", f"validation {result.metric}")
        self._highlight_best()
        self.progress.setValue(len(result.trials))
        best = result.best
        states = {}
        for r in result.trials:
            states[r.state] = states.get(r.state, 0) + 1
        counts = ", ".join(f"{n} {s}" for s, n in states.items())
        head = "Search stopped" if result.stopped else "Search finished"
        if best is None:
            self._say(f"{head}: {len(result.trials)} trial(s) ({counts}); none completed, so "
                      "there is no best design. Allow more epochs or fewer pruned trials.")
            return
        cv = ""
        if best.fold_scores:
            n = len(best.fold_scores)
            mean = sum(best.fold_scores) / n
            std = math.sqrt(sum((s - mean) ** 2 for s in best.fold_scores) / n)
            cv = f" ({mean:.4g} ± {std:.2g} over {n} folds)"
        self._say(f"{head}: {len(result.trials)} trial(s) ({counts}). Best: trial "
                  f"{best.number}, {result.metric} {best.score:.4g}{cv} — "
                  f"{_params_text(best.params)}. “Open as new design” opens it.")

    # --- opening a trial ----------------------------------------------------------------------
    def selected_number(self) -> int | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    @Slot()
    def _selection_changed(self) -> None:
        number = self.selected_number()
        if number is None:
            number = self.best_number()
        rec = self.records.get(number) if number is not None else None
        ok = rec is not None and rec.get("state") == "complete" and self.base is not None
        self.open_button.setEnabled(bool(ok))
        if number is not None and number == self.best_number():
            self.open_button.setText("Open best as new design")
        else:
            self.open_button.setText("Open as new design")

    @gui_only
    def open_trial(self, number: int | None = None) -> bool:
        """Open a completed trial (default: the selected one, else the best) as a new design."""
        from backend.workflows.search import trial_document

        if number is None:
            number = self.selected_number()
        if number is None:
            number = self.best_number()
        rec = self.records.get(number) if number is not None else None
        if rec is None or rec.get("state") != "complete" or self.base is None:
            self._say("Only a completed trial can be opened as a design.", True)
            return False
        doc = trial_document(self.base, rec["params"], self.settings)
        title = f"{self.base.name} · trial {number}"
        if not self.workflows.open_as_new_design(doc, title):
            return False
        self._say(f"Opened trial {number} as a new design: {_params_text(rec['params'])}.")
        return True

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self.runner.shutdown()
        super().closeEvent(event)


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _params_text(params: dict[str, Any]) -> str:
    return ", ".join(f"{k} {_fmt(v)}" for k, v in params.items()) or "the design as it is"


def _mean_curve(curves: dict[int, list[float]]) -> list[float]:
    """Per epoch, the mean over the folds that reached it (one curve without CV)."""
    lists = [c for _, c in sorted(curves.items()) if c]
    if not lists:
        return []
    out = []
    for i in range(max(len(c) for c in lists)):
        vals = [c[i] for c in lists if i < len(c) and math.isfinite(c[i])]
        out.append(sum(vals) / len(vals) if vals else math.nan)
    return out
