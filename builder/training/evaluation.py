"""After training: metrics table, confusion matrix, wrong predictions, predicted vs true, predict.

Shows a backend ``Evaluated`` event (sent after a run, or stored with a run: `show_stored`) and
can evaluate again on demand on any split. It shows only what belongs to the design on screen:
`clear` empties every part of it (metrics, charts, wrong predictions, the predicted sample and
its image) when the design or its data change.

Building a model from the current weights (after a project was opened or a run restored: the
data loaded, the design compiled, the weights loaded) takes a second or more, so it runs on the
background runner (`builder.background`, via `runner`) with a busy bar and what it is doing;
the first Evaluate also evaluates there. A model that exists (the last run's) answers on the GUI
thread: the splits of the built-in data are small, and the Predict button runs one sample.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Slot
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from builder.progress import ProgressBar
from builder.training.guard import gui_only
from builder.workflows.plotting import plain_plot_widget

#: Most misclassified samples shown as thumbnails.
MAX_WRONG = 48


def split_data(trainer: Any, split: str) -> Any:
    return {"train": trainer.train_data, "validation": trainer.validation_data,
            "test": trainer.test_data}[split]


SPLITS = ("test", "validation", "train")


def first_split(trainer: Any) -> str:
    """The first split that holds samples (test, then validation, then train)."""
    for split in SPLITS:
        data = split_data(trainer, split)
        if data is not None and len(data):
            return split
    return "train"


def evaluate_split(trainer: Any, split: str) -> Any:
    """An ``Evaluated`` event for ``split`` of a finished trainer (what the run sends at its
    end for the test split), computed by the trainer on its device."""
    return trainer.evaluation(split)


def predict_sample(trainer: Any, split: str, index: int) -> dict[str, str]:
    """The model's prediction and the true value for one sample, as text per output."""
    import torch

    from backend.training.metrics import predicted_classes

    data = split_data(trainer, split)
    if not 0 <= index < len(data):
        raise IndexError(f"Sample {index} does not exist: the {split} split has {len(data)} "
                         f"samples (0–{len(data) - 1}).")
    module = trainer.module
    row = data.rows(slice(index, index + 1)).to(trainer.device)
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            out = module(*row.inputs)
    finally:
        module.train(was_training)
    result = {}
    for i, (info, pred) in enumerate(zip(trainer.prepared.outputs,
                                         trainer.objective.predictions(out))):
        pred = pred.float().cpu()
        if info.num_classes:
            cls = int(predicted_classes(pred, info)[0].reshape(-1)[0])
            names = info.classes or ("0", "1")
            text = f"predicted {names[cls]}"
            if info.classes and pred.shape[-1] == len(info.classes):
                probs = torch.softmax(pred.reshape(-1, pred.shape[-1])[0], 0)
                text += f" ({float(probs[cls]):.0%})"
            label = row.labels[i]
            if label is not None:
                text += f", true {names[int(label.reshape(-1)[0])]}"
        else:
            value = pred.reshape(-1)[:4] * info.scale + info.offset
            text = "predicted " + ", ".join(f"{float(v):.4g}" for v in value)
            if row.targets[i] is not None:
                true = row.targets[i].float().cpu().reshape(-1)[:4] * info.scale + info.offset
                text += ", true " + ", ".join(f"{float(v):.4g}" for v in true)
        result[info.output] = text
    return result


def image_of(sample: np.ndarray, size: int = 56) -> QPixmap:
    """A grey (or RGB) thumbnail of one image sample (C,H,W), (H,W) or (H,W,C)."""
    a = np.asarray(sample, dtype=np.float32)
    if a.ndim == 3 and a.shape[0] in (1, 3):
        a = np.moveaxis(a, 0, -1)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    lo, hi = float(a.min()), float(a.max())
    a = ((a - lo) / (hi - lo if hi > lo else 1.0) * 255).astype(np.uint8)
    a = np.ascontiguousarray(a)
    if a.ndim == 2:
        img = QImage(a.data, a.shape[1], a.shape[0], a.strides[0], QImage.Format.Format_Grayscale8)
    else:
        img = QImage(a.data, a.shape[1], a.shape[0], a.strides[0], QImage.Format.Format_RGB888)
    return QPixmap.fromImage(img.copy()).scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                                               Qt.TransformationMode.FastTransformation)


def is_image_data(x: Any) -> bool:
    """Samples that look like images: (N,H,W) or (N,C,H,W) with C in 1 or 3."""
    shape = tuple(getattr(x, "shape", ()))
    return (len(shape) == 3 and min(shape[1:]) >= 4) or (
        len(shape) == 4 and shape[1] in (1, 3) and min(shape[2:]) >= 4)


class CountsItem(pg.GraphicsObject):
    """The count in every cell of a k×k matrix, painted by one item.

    One item instead of k² TextItems: creating a hundred TextItems at the end of every run kept
    the GUI thread busy for ~60 ms (measured), a visible stall. Text is drawn in device
    coordinates, so it keeps its pixel size however the plot is zoomed.
    """

    def __init__(self) -> None:
        super().__init__()
        self.matrix = np.zeros((0, 0), dtype=np.int64)
        self.dark = np.zeros((0, 0), dtype=bool)
        #: Text on cells of few counts and on cells of many (the colour map's two ends).
        self.inks = (QColor("#202020"), QColor("#ffffff"))

    def set_counts(self, matrix: np.ndarray, dark: np.ndarray) -> None:
        self.prepareGeometryChange()
        self.matrix, self.dark = matrix, dark
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        k = len(self.matrix)
        return QRectF(0, 0, k, k)

    def paint(self, painter: QPainter, *_args: Any) -> None:
        k = len(self.matrix)
        if not k:
            return
        transform = painter.transform()
        cell = transform.map(QPointF(1, 1)) - transform.map(QPointF(0, 0))
        width, height = abs(cell.x()), abs(cell.y())
        painter.save()
        painter.resetTransform()
        font = painter.font()
        font.setPixelSize(max(6, min(12, int(min(width, height) * 0.45))))
        painter.setFont(font)
        light, dark = self.inks
        for r in range(k):
            for c in range(k):
                value = int(self.matrix[r, c])
                if value == 0 and k > 10:
                    continue
                centre = transform.map(QPointF(c + 0.5, r + 0.5))
                painter.setPen(dark if self.dark[r, c] else light)
                painter.drawText(QRectF(centre.x() - width / 2, centre.y() - height / 2,
                                        width, height), Qt.AlignmentFlag.AlignCenter, str(value))
        painter.restore()


#: Per look: the heat map's colours from no counts to all of a row's, and the text on each end.
CONFUSION_LOOKS = {
    "light": (("#ffffff", "#08306b"), ("#202020", "#ffffff")),
    "dark": (("#1b1e23", "#7fb0ff"), ("#e6e9ef", "#101215")),
}


class ConfusionView(pg.PlotWidget):
    """A confusion matrix as a heat map with the count written in each cell."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground(None)
        self.image = pg.ImageItem()
        self.kind = "light"
        self.addItem(self.image)
        self.getPlotItem().invertY(True)
        self.setAspectLocked(True)
        self.setLabel("left", "true class")
        self.setLabel("bottom", "predicted class")
        self.counts = CountsItem()
        self.addItem(self.counts)
        self.matrix = np.zeros((0, 0), dtype=np.int64)
        self.set_kind("light")

    def set_kind(self, kind: str) -> None:
        """Light: white to dark blue; dark: the dark base to light blue (a white grid glared
        on the dark palette), the counts in the colour that reads on each cell."""
        self.kind = kind
        (low, high), (ink_low, ink_high) = CONFUSION_LOOKS[kind]
        self.image.setColorMap(pg.ColorMap([0.0, 1.0], [QColor(low), QColor(high)]))
        self.counts.inks = (QColor(ink_low), QColor(ink_high))
        self.counts.update()

    def show_matrix(self, matrix: list[list[int]], classes: tuple[str, ...] | None) -> None:
        m = np.asarray(matrix, dtype=np.int64).reshape(len(matrix), len(matrix))
        self.matrix = m
        k = len(m)
        if k == 0:  # nothing to show
            self.image.clear()
            self.counts.set_counts(m, np.zeros((0, 0), dtype=bool))
            self.getAxis("bottom").setTicks(None)
            self.getAxis("left").setTicks(None)
            return
        norm = m / np.maximum(m.sum(1, keepdims=True), 1)
        self.image.setImage(norm.T, levels=(0.0, 1.0))  # ImageItem is column-major: (x, y)
        self.image.setRect(0, 0, k, k)
        names = list(classes or [str(i) for i in range(k)])[:k]
        ticks = [[(i + 0.5, names[i]) for i in range(k)]]
        self.getAxis("bottom").setTicks(ticks)
        self.getAxis("left").setTicks(ticks)
        self.counts.set_counts(m, norm > 0.55)
        self.setRange(xRange=(0, k), yRange=(0, k), padding=0.02)


class EvaluationView(QWidget):
    """The evaluation tab: pick an output and a split; see metrics, errors, predictions.

    ``confusion`` and ``scatter``: its two plot widgets made ahead (`ConfusionView()`,
    `pg.PlotWidget()`, ~17 ms each), so that the tab's first opening does not build them."""

    def __init__(self, parent: QWidget | None = None, confusion: ConfusionView | None = None,
                 scatter: pg.PlotWidget | None = None) -> None:
        super().__init__(parent)
        self.trainer: Any = None
        self.evaluated: Any = None
        #: Class names per output of a stored evaluation (no trainer to ask).
        self._classes: dict[str, tuple[str, ...] | None] = {}
        #: ``() -> build or None``: how to build a trainer holding the current weights when
        #: there is none (Evaluate, Predict after the project was opened or a run restored);
        #: ``build()`` runs in the background and returns the trainer; None: train first.
        self.trainer_source: Any = None
        #: Told of a trainer built here (the panel keeps it for the design it belongs to).
        self.trainer_built: Any = None
        #: The background runner building the model (`builder.workflows.jobs.JobRunner`).
        self.runner: Any = None
        self._after_build: Any = None  # what to do with the built trainer (GUI thread)
        self._build_keys: Any = None  # the design and data the model is built for
        self._buildable = False
        #: A stored evaluation of a run whose weights are not the current ones is shown:
        #: Evaluate and Predict (which use the current weights) are off.
        self._foreign = False
        self.output_box = QComboBox()
        self.output_box.currentTextChanged.connect(self._output_changed)
        self.split_box = QComboBox()
        self.split_box.addItems(list(SPLITS))
        #: (loss unit, metric unit) per output (`builder.training.plots.units_of`).
        self.units: dict[str, tuple[str, str]] = {}
        self.evaluate_button = QPushButton("Evaluate")
        self.evaluate_button.setToolTip("Evaluate the trained model on the chosen split.")
        self.evaluate_button.clicked.connect(self.evaluate_now)
        self.status = QLabel("Train the design to see its evaluation here.")
        self.status.setObjectName("muted")
        self.status.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(QLabel("Output"))
        top.addWidget(self.output_box)
        top.addWidget(QLabel("Split"))
        top.addWidget(self.split_box)
        top.addWidget(self.evaluate_button)
        self.busy = ProgressBar()
        self.busy.setRange(0, 0)  # building: no steps to count
        self.busy.setMaximumWidth(120)
        self.busy.setTextVisible(False)
        self.busy.hide()
        top.addWidget(self.busy)
        top.addWidget(self.status, 1)

        self.metrics = QTableWidget(0, 3)
        self.metrics.setHorizontalHeaderLabels(["output", "metric", "value"])
        self.metrics.verticalHeader().hide()
        self.metrics.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.metrics.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.sample_box = QSpinBox()
        self.sample_box.setRange(0, 0)
        self.predict_button = QPushButton("Predict")
        self.predict_button.clicked.connect(self.predict_now)
        self.prediction = QLabel("")
        self.prediction.setWordWrap(True)
        self.prediction.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.sample_image = QLabel()
        predict = QGroupBox("Predict one sample")
        grid = QGridLayout(predict)
        grid.addWidget(QLabel("Sample #"), 0, 0)
        grid.addWidget(self.sample_box, 0, 1)
        grid.addWidget(self.predict_button, 0, 2)
        grid.addWidget(self.sample_image, 1, 0)
        grid.addWidget(self.prediction, 1, 1, 1, 2)
        left = QVBoxLayout()
        left.addWidget(self.metrics, 1)
        left.addWidget(predict)

        self.confusion = confusion or ConfusionView()
        self.scatter = scatter or plain_plot_widget()
        self.scatter.setBackground(None)
        self.scatter.setLabel("bottom", "true value (original units)")
        self.scatter.setLabel("left", "predicted value (original units)")
        self.scatter.showGrid(x=True, y=True, alpha=0.25)
        self.scatter_points = pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush(31, 119, 180,
                                                                                   150))
        self.kind = "light"
        self.diagonal = pg.PlotDataItem(pen=pg.mkPen("#d62728", width=1.5,
                                                     style=Qt.PenStyle.DashLine))
        self.scatter.addItem(self.scatter_points)
        self.scatter.addItem(self.diagonal)
        self.no_chart = QLabel("The chart of the chosen output shows here after an evaluation: "
                               "a confusion matrix for classes, predicted against true values "
                               "for regression.")
        self.no_chart.setObjectName("muted")
        self.no_chart.setWordWrap(True)
        self.no_chart.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.chart = QStackedWidget()
        self.chart.addWidget(self.no_chart)
        self.chart.addWidget(self.confusion)
        self.chart.addWidget(self.scatter)
        self.wrong = QListWidget()
        self.wrong.setViewMode(QListView.ViewMode.IconMode)
        self.wrong.setIconSize(QSize(48, 48))
        self.wrong.setGridSize(QSize(78, 80))
        self.wrong.setResizeMode(QListView.ResizeMode.Adjust)
        self.wrong.setMovement(QListView.Movement.Static)
        self.wrong.itemActivated.connect(self._wrong_activated)
        self.wrong_box = QGroupBox("Wrong predictions (true → predicted)")
        QVBoxLayout(self.wrong_box).addWidget(self.wrong)

        body = QHBoxLayout()
        body.addLayout(left, 3)
        body.addWidget(self.chart, 4)
        body.addWidget(self.wrong_box, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addLayout(body, 1)
        self._set_enabled(False)

    def set_kind(self, kind: str) -> None:
        """Draw the charts for the light or the dark look."""
        self.kind = kind
        self.confusion.set_kind(kind)
        brush = (31, 119, 180, 150) if kind == "light" else (127, 176, 255, 170)
        self.scatter_points.setBrush(pg.mkBrush(*brush))

    def _set_enabled(self, on: bool) -> None:
        on = on or (self._buildable and self.trainer_source is not None and not self._foreign)
        for w in (self.evaluate_button, self.predict_button, self.sample_box):
            w.setEnabled(on)

    def set_buildable(self, on: bool) -> None:
        """Whether Evaluate and Predict may build a trainer from the current weights."""
        self._buildable = on
        self._set_enabled(self.trainer is not None and self.trainer.module is not None)

    def building(self) -> bool:
        """Whether a model is being built in the background."""
        return self.runner is not None and self.runner.running()

    def _build_then(self, then: Any, what: str) -> bool:
        """Build a trainer holding the current weights in the background, then ``then`` it on
        the GUI thread; False when none can be built (nothing to build from)."""
        if not self._buildable or self.trainer_source is None or self._foreign or \
                self.runner is None:
            return False
        if self.building():
            self.status.setText("The model is still being built…")
            return True
        build = self.trainer_source()
        if build is None:
            return False
        split = self.split_box.currentText()

        def job(report: Any, control: Any) -> Any:
            report("Loading the data and building the model from the current weights…")
            trainer = build()
            result = None
            if then == "evaluate":
                if not len(split_data(trainer, split)):
                    split_now = first_split(trainer)
                else:
                    split_now = split
                report(f"Evaluating on the {split_now} split…")
                result = evaluate_split(trainer, split_now)
            return trainer, result

        self._after_build = then
        self._build_keys = getattr(build, "keys", None)
        if not self.runner.start(job):
            return False
        self._set_enabled(False)
        self.busy.show()
        self.status.setText(what)
        return True

    @Slot(list)
    @gui_only
    def _build_progress(self, events: list) -> None:
        if events:
            self.status.setText(str(events[-1]))

    @Slot(object)
    @gui_only
    def _built(self, result: Any) -> None:
        self.busy.hide()
        trainer, evaluated = result
        then, self._after_build = self._after_build, None
        if then is None or not self._buildable or self._foreign:
            return  # cleared meanwhile (another design): the model is not this design's
        self.set_trainer(trainer)
        if self.trainer_built is not None:
            self.trainer_built(trainer, self._build_keys)
        if evaluated is not None:
            self.show_evaluation(evaluated)
        elif then == "predict":
            self.predict_now()
        else:
            self.status.setText("The model is ready: Evaluate or Predict.")

    @Slot(str)
    @gui_only
    def _build_failed(self, message: str) -> None:
        self.busy.hide()
        self._after_build = None
        self._set_enabled(False)
        self.status.setText(f"The model cannot be evaluated here: {message}")

    def attach_runner(self, runner: Any) -> None:
        """The background runner that builds models (`builder.workflows.jobs.JobRunner`)."""
        self.runner = runner
        runner.progress.connect(self._build_progress)
        runner.finished.connect(self._built)
        runner.failed.connect(self._build_failed)

    # --- input -------------------------------------------------------------------------------
    @gui_only
    def set_trainer(self, trainer: Any) -> None:
        """The trainer of the last run (its model answers Evaluate and Predict)."""
        self.trainer = trainer
        self._set_enabled(trainer is not None and trainer.module is not None)
        if trainer is not None and trainer.prepared is not None:
            self.output_box.blockSignals(True)
            self.output_box.clear()
            self.output_box.addItems(trainer.prepared.output_names)
            self.output_box.blockSignals(False)
            chosen = split_data(trainer, self.split_box.currentText())
            if chosen is None or not len(chosen):  # an empty split: the first that has samples
                self.split_box.setCurrentText(first_split(trainer))

    @gui_only
    def clear(self, message: str = "Train the design to see its evaluation here.") -> None:
        """Show nothing but ``message``: no trainer, metrics, charts, predictions or images."""
        self.trainer = None
        self.evaluated = None
        self._classes = {}
        self._foreign = False
        self._after_build = None  # a model still being built is not shown
        self.busy.hide()
        self._set_enabled(False)
        self.output_box.blockSignals(True)
        self.output_box.clear()
        self.output_box.blockSignals(False)
        self.metrics.setRowCount(0)
        self.confusion.show_matrix([], None)
        self.scatter_points.setData([], [])
        self.diagonal.setData([], [])
        self.wrong.clear()
        self.wrong_box.setTitle("Wrong predictions (true → predicted)")
        self.chart.setCurrentWidget(self.no_chart)
        self.sample_box.setRange(0, 0)
        self.prediction.clear()
        self.sample_image.clear()
        self.status.setText(message)

    @gui_only
    def show_stored(self, evaluated: Any, classes: dict[str, tuple[str, ...] | None],
                    title: str, current: bool = True) -> None:
        """Show an evaluation stored with a run; ``current``: the design's current weights are
        that run's (Evaluate and Predict may use them), else they stay off."""
        self.clear()
        self._foreign = not current
        self._set_enabled(False)
        self._classes = dict(classes)
        self.output_box.blockSignals(True)
        self.output_box.addItems(list(evaluated.metrics))
        self.output_box.blockSignals(False)
        self.show_evaluation(evaluated)
        self.status.setText(f"{title}: its evaluation on the {evaluated.split} split, as "
                            "recorded with the run." + ("" if current else " (The design's "
                                                        "current weights are another run's.)"))

    @gui_only
    def show_evaluation(self, evaluated: Any) -> None:
        """Show an ``Evaluated`` event: metrics for all outputs, charts for the chosen one."""
        self.evaluated = evaluated
        self.prediction.clear()
        self.sample_image.clear()
        self.split_box.setCurrentText(evaluated.split)
        names = list(evaluated.metrics)
        if self.output_box.count() == 0:
            self.output_box.addItems(names)
        rows = [(o, k, v) for o, values in evaluated.metrics.items() for k, v in values.items()]
        self.metrics.setRowCount(len(rows))
        for r, (o, k, v) in enumerate(rows):
            unit = self._unit(o, k)
            metric = f"{k} ({unit})" if unit else k
            for c, text in enumerate((o, metric, f"{v:.4g}" if math.isfinite(v) else "—")):
                self.metrics.setItem(r, c, QTableWidgetItem(text))
        data = split_data(self.trainer, evaluated.split) if self.trainer is not None else None
        self.sample_box.setRange(0, max(0, (len(data) if data is not None else 1) - 1))
        self.status.setText(f"Evaluated on the {evaluated.split} split.")
        self._output_changed(self.output_box.currentText())

    @Slot(str)
    @gui_only
    def _output_changed(self, output: str) -> None:
        ev = self.evaluated
        if ev is None or not output:
            return
        self.wrong.clear()
        info = self._info(output)
        if output in ev.confusion:
            self.chart.setCurrentWidget(self.confusion)
            self.confusion.show_matrix(ev.confusion[output], info.classes if info else None)
            self._fill_wrong(output, info)
            self.wrong_box.setVisible(True)
        elif output in ev.predictions and ev.predictions[output].numel():
            self.chart.setCurrentWidget(self.scatter)
            pred = ev.predictions[output].reshape(-1).numpy()
            true = ev.targets[output].reshape(-1).numpy()
            n = min(len(pred), len(true))
            self.scatter_points.setData(true[:n], pred[:n])
            lo, hi = float(min(true.min(), pred.min())), float(max(true.max(), pred.max()))
            self.diagonal.setData([lo, hi], [lo, hi])
            self.wrong_box.setVisible(False)
        else:  # an output without targets (a penalty): nothing to chart
            self.chart.setCurrentWidget(self.no_chart)
            self.wrong_box.setVisible(False)

    def _unit(self, output: str, metric: str) -> str:
        """The unit a metric of ``output`` is in: the loss on standardised targets, the MAE
        in the data's units (`units`)."""
        loss, value = self.units.get(output, ("", ""))
        return loss if metric == "loss" else value if metric == "mae" else ""

    def _info(self, output: str) -> Any:
        if self.trainer is None or self.trainer.prepared is None:
            if output in self._classes:
                from types import SimpleNamespace

                return SimpleNamespace(output=output, classes=self._classes[output])
            return None
        return next((o for o in self.trainer.prepared.outputs if o.output == output), None)

    def _fill_wrong(self, output: str, info: Any) -> None:
        ev = self.evaluated
        pred = ev.predictions[output].reshape(len(ev.predictions[output]), -1)[:, 0]
        true = ev.targets[output].reshape(len(ev.targets[output]), -1)[:, 0]
        wrong = np.nonzero((pred != true).numpy())[0]
        names = (info.classes if info is not None and info.classes else None)
        data = split_data(self.trainer, ev.split) if self.trainer is not None else None
        x = data.inputs[0] if data is not None and data.inputs else None
        images = x is not None and is_image_data(x)
        self.wrong_box.setTitle(f"Wrong predictions: {len(wrong)} of {len(pred)} "
                                "(true → predicted)")
        for i in wrong[:MAX_WRONG]:
            t, p = int(true[i]), int(pred[i])
            text = f"{names[t] if names else t} → {names[p] if names else p}"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, int(i))
            item.setToolTip(f"sample #{int(i)} of the {ev.split} split")
            if images:
                item.setIcon(QIcon(image_of(x[int(i)].cpu().numpy())))
            self.wrong.addItem(item)

    # --- actions -----------------------------------------------------------------------------
    @Slot()
    @gui_only
    def evaluate_now(self) -> None:
        """Evaluate the trained model on the chosen split (on demand); without a model here,
        one is built from the current weights in the background first."""
        if self.trainer is None:
            if not self._build_then("evaluate", "Building the model from the current "
                                                "weights…"):
                self.status.setText("Train the design first.")
            return
        try:
            ev = evaluate_split(self.trainer, self.split_box.currentText())
        except (ValueError, RuntimeError) as exc:
            self.status.setText(str(exc))
            return
        self.show_evaluation(ev)

    @Slot(QListWidgetItem)
    @gui_only
    def _wrong_activated(self, item: QListWidgetItem) -> None:
        self.sample_box.setValue(int(item.data(Qt.ItemDataRole.UserRole)))
        self.predict_now()

    @Slot()
    @gui_only
    def predict_now(self) -> dict[str, str]:
        """Predict the chosen sample of the chosen split and show it (with its image); without
        a model here, one is built in the background first (and {} is returned now)."""
        if self.trainer is None:
            self._build_then("predict", "Building the model from the current weights…")
            return {}
        split = self.evaluated.split if self.evaluated is not None else \
            self.split_box.currentText()
        index = self.sample_box.value()
        try:
            result = predict_sample(self.trainer, split, index)
        except (IndexError, RuntimeError) as exc:
            self.prediction.setText(str(exc))
            return {}
        self.prediction.setText("\n".join(f"{o}: {t}" if len(result) > 1 else t
                                          for o, t in result.items()))
        x = split_data(self.trainer, split).inputs[0]
        if is_image_data(x):
            self.sample_image.setPixmap(image_of(x[index].cpu().numpy(), 64))
        else:
            self.sample_image.clear()
        return result
