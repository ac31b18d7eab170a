"""Looking inside: time per layer (forward and backward, from torch.profiler) as a bar chart,
the chrome://tracing trace exportable, and weight / gradient histograms per layer per epoch
from a short training run of a throw-away copy. Both run on the background runner."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from builder.training.guard import gui_only
from builder.workflows.job_view import JobView
from builder.workflows.plotting import plot_widget

FORWARD_COLOR, BACKWARD_COLOR = "#1f77b4", "#ff7f0e"
TRACE_FILTER = "Chrome trace (*.json);;All files (*)"


class ProfilingView(JobView, QWidget):
    """A bottom-panel tab: profile the design's layers; record histograms."""

    LOG_PREFIX = "profiling"

    def __init__(self, workflows: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("profilingView")
        self._attach(workflows, "profile")
        self.profile: Any = None
        self.histograms: list[dict[str, dict[str, Any]]] = []
        self._tmp = tempfile.mkdtemp(prefix="netcanvas-profile-")
        self._kind = ""

        self.steps = QSpinBox()
        self.steps.setRange(1, 1000)
        self.steps.setValue(20)
        self.steps.setToolTip("Training steps to time (after 2 untimed warm-up steps).")
        self.profile_button = QPushButton("Profile")
        self.profile_button.setToolTip("Time each layer's forward and backward pass over "
                                       "training steps of a copy of the design.")
        self.trace_button = QPushButton("Export trace…")
        self.trace_button.setToolTip("Save the torch.profiler trace for chrome://tracing, "
                                     "Perfetto or TensorBoard.")
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 200)
        self.epochs.setValue(5)
        self.hist_button = QPushButton("Record histograms")
        self.hist_button.setToolTip("Train a copy of the design for these epochs and keep "
                                    "each layer's weight and gradient histogram per epoch.")
        self.stop_button = QPushButton("Stop")
        self.profile_button.clicked.connect(self.start_profile)
        self.trace_button.clicked.connect(lambda: self.export_trace())
        self.hist_button.clicked.connect(self.start_histograms)
        self.stop_button.clicked.connect(self.runner.stop)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Steps"))
        controls.addWidget(self.steps)
        controls.addWidget(self.profile_button)
        controls.addWidget(self.trace_button)
        controls.addSpacing(24)
        controls.addWidget(QLabel("Epochs"))
        controls.addWidget(self.epochs)
        controls.addWidget(self.hist_button)
        controls.addWidget(self.stop_button)
        controls.addStretch(1)

        self.bars_widget = plot_widget("Time per layer and training step", "", "ms")
        self.bars = self.bars_widget.getPlotItem()
        self.bars.showGrid(x=False, y=True, alpha=0.25)
        self.forward_bars = pg.BarGraphItem(x=[], height=[], width=0.38,
                                            brush=FORWARD_COLOR, name="forward")
        self.backward_bars = pg.BarGraphItem(x=[], height=[], width=0.38,
                                             brush=BACKWARD_COLOR, name="backward")
        self.bars.addItem(self.forward_bars)
        self.bars.addItem(self.backward_bars)

        self.layer_box = QComboBox()
        self.epoch_slider = QSlider(Qt.Orientation.Horizontal)
        self.epoch_slider.setRange(1, 1)
        self.epoch_label = QLabel("")
        self.layer_box.currentIndexChanged.connect(self._show_histograms)
        self.epoch_slider.valueChanged.connect(self._show_histograms)
        pick = QHBoxLayout()
        pick.addWidget(QLabel("Layer"))
        pick.addWidget(self.layer_box, 1)
        pick.addWidget(QLabel("Epoch"))
        pick.addWidget(self.epoch_slider, 1)
        pick.addWidget(self.epoch_label)
        self.weights_widget = plot_widget("Weights", "value", "count")
        self.grads_widget = plot_widget("Gradients (last batch of the epoch)", "value", "count")
        self.weights_curve = self.weights_widget.getPlotItem().plot(
            stepMode="center", fillLevel=0, brush=(31, 119, 180, 120), pen=FORWARD_COLOR)
        self.grads_curve = self.grads_widget.getPlotItem().plot(
            stepMode="center", fillLevel=0, brush=(255, 127, 14, 120), pen=BACKWARD_COLOR)
        hist_plots = QHBoxLayout()
        hist_plots.addWidget(self.weights_widget)
        hist_plots.addWidget(self.grads_widget)
        hist = QWidget()
        hist_layout = QVBoxLayout(hist)
        hist_layout.setContentsMargins(0, 0, 0, 0)
        hist_layout.addLayout(pick)
        hist_layout.addLayout(hist_plots, 1)
        self.block_table = QTableWidget(0, 4)
        self.block_table.setObjectName("blockTimes")
        self.block_table.setHorizontalHeaderLabels(["block instance", "block", "forward ms",
                                                    "backward ms"])
        self.block_table.verticalHeader().hide()
        self.block_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.block_table.setToolTip("Time per block instance (its layers included), per "
                                    "training step; nested instances have their own rows.")
        self.block_table.hide()  # only for a design with blocks
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.bars_widget)
        left.addWidget(self.block_table)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(hist)
        splitter.setSizes([600, 600])

        self.status = QLabel("Profile times each layer; histograms show how the weights and "
                             "gradients of each layer change from epoch to epoch.")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addWidget(splitter, 1)
        self._set_running(False)

    # --- state ---------------------------------------------------------------------------------
    @Slot(bool)
    @gui_only
    def _set_running(self, on: bool) -> None:
        for w in (self.profile_button, self.hist_button, self.steps, self.epochs):
            w.setEnabled(not on)
        self.stop_button.setEnabled(on)
        self.trace_button.setEnabled(not on and self.trace_path() is not None)

    def trace_path(self) -> str | None:
        """The last profile's chrome trace (a temporary file), or None."""
        trace = getattr(self.profile, "trace", None)
        return trace if trace and Path(trace).exists() else None

    def _check(self, what: str) -> bool:
        if self.runner.running():
            return False
        problems = self.workflows.design_problems()
        if problems:
            self._say(f"Cannot {what}: fix the design first — " + " ".join(problems[:3]), True)
            return False
        return True

    # --- profiling -------------------------------------------------------------------------------
    @Slot()
    @gui_only
    def start_profile(self) -> bool:
        """Time ``steps`` training steps per layer in the background."""
        if not self._check("profile"):
            return False
        doc, steps = self.controller.doc.copy(), self.steps.value()
        trace = str(Path(self._tmp) / "trace.json")
        base_dir = self.workflows.project_dir()

        def job(report: Any, control: Any) -> Any:
            from backend.data.config import DataConfig
            from backend.workflows.profiling import profile_layers

            data = DataConfig.from_dict(doc.section("data"))
            if base_dir and data.path and not Path(data.path).is_absolute():
                data.path = str(Path(base_dir) / data.path)
            return profile_layers(doc, steps=steps, data=data, trace_path=trace,
                                  control=control)

        self._kind = "profile"
        self._say(f"Profiling {steps} training step(s)…")
        return self.runner.start(job)

    def _show_profile(self, profile: Any) -> None:
        self.profile = profile
        names = [t.layer for t in profile.layers]
        xs = np.arange(len(names), dtype=float)
        self.forward_bars.setOpts(x=xs - 0.2, height=[t.forward_ms for t in profile.layers],
                                  width=0.38)
        self.backward_bars.setOpts(x=xs + 0.2, height=[t.backward_ms for t in profile.layers],
                                   width=0.38)
        self.bars.getAxis("bottom").setTicks([list(zip(xs.tolist(), names))])
        self.bars.setXRange(-0.7, len(names) - 0.3, padding=0)
        top = max([max(t.forward_ms, t.backward_ms) for t in profile.layers] or [1.0])
        self.bars.setYRange(0, top * 1.15, padding=0)
        legend = self.bars.legend
        if legend is not None and not legend.items:
            legend.addItem(self.forward_bars, "forward")
            legend.addItem(self.backward_bars, "backward")
        blocks = list(getattr(profile, "blocks", []))
        self.block_table.setRowCount(len(blocks))
        for row, b in enumerate(blocks):
            for col, text in enumerate((b.path, b.block, f"{b.forward_ms:.3f}",
                                        f"{b.backward_ms:.3f}")):
                item = QTableWidgetItem(text)
                if col >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.block_table.setItem(row, col, item)
        self.block_table.setVisible(bool(blocks))
        total = sum(t.forward_ms + t.backward_ms for t in profile.layers)
        slowest = max(profile.layers, key=lambda t: t.forward_ms + t.backward_ms, default=None)
        where = (f" The slowest layer is {slowest.layer} "
                 f"({slowest.forward_ms + slowest.backward_ms:.3g} ms)." if slowest else "")
        self._say(f"{profile.steps} step(s): {profile.step_ms:.3g} ms per step (forward, "
                  f"backward and update); the layers take {total:.3g} ms of it — the rest "
                  f"is activations, losses and the optimizer.{where}")

    @gui_only
    def export_trace(self, path: str | None = None) -> bool:
        """Copy the last profile's chrome://tracing trace to ``path`` (asked when None)."""
        source = self.trace_path()
        if source is None:
            self._say("Profile first: there is no trace yet.", True)
            return False
        if path is None:
            base = self.workflows.project_dir() or str(Path.home())
            path = self.workflows.ask.save_file("Export profiler trace",
                                                str(Path(base) / "trace.json"), TRACE_FILTER)
            if not path:
                return False
        try:
            shutil.copyfile(source, path)
        except OSError as exc:
            self._say(f"The trace was not saved: {exc}", True)
            return False
        self._say(f"Saved the trace to {path}: open it in chrome://tracing or "
                  "ui.perfetto.dev.")
        return True

    # --- histograms ------------------------------------------------------------------------------
    @Slot()
    @gui_only
    def start_histograms(self) -> bool:
        """Train a copy for ``epochs`` epochs, recording histograms after every epoch."""
        if not self._check("record histograms"):
            return False
        doc, epochs = self.controller.doc.copy(), self.epochs.value()
        training = doc.section("training")
        training["epochs"] = epochs
        training.pop("early_stopping_patience", None)
        base_dir = self.workflows.project_dir()

        def job(report: Any, control: Any) -> Any:
            from backend.training.events import Failed
            from backend.training.trainer import Trainer
            from backend.workflows.profiling import HistogramRecorder

            trainer = Trainer(doc, config=training, base_dir=base_dir)
            recorder = HistogramRecorder(trainer)
            result = trainer.run(recorder.callback, control)
            if isinstance(result, Failed):
                raise ValueError(result.message)
            return recorder.epochs

        self._kind = "histograms"
        self._say(f"Training a copy of the design for {epochs} epoch(s) to record "
                  "histograms…")
        return self.runner.start(job)

    def _show_histogram_run(self, epochs: list[dict[str, dict[str, Any]]]) -> None:
        self.histograms = epochs
        layers = list(dict.fromkeys(name for e in epochs for name in e))
        current = self.layer_box.currentText()
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        self.layer_box.addItems(layers)
        if current in layers:
            self.layer_box.setCurrentText(current)
        self.layer_box.blockSignals(False)
        self.epoch_slider.blockSignals(True)
        self.epoch_slider.setRange(1, max(1, len(epochs)))
        self.epoch_slider.setValue(max(1, len(epochs)))
        self.epoch_slider.blockSignals(False)
        self._show_histograms()
        self._say(f"Recorded histograms of {len(layers)} layer(s) over {len(epochs)} "
                  "epoch(s): pick a layer and move the epoch slider.")

    @Slot()
    def _show_histograms(self, *_: Any) -> None:
        epoch = self.epoch_slider.value()
        self.epoch_label.setText(f"{epoch}/{len(self.histograms)}" if self.histograms else "")
        layer = self.layer_box.currentText()
        if not self.histograms or not layer:
            return
        entry = self.histograms[epoch - 1].get(layer, {})
        for key, curve, widget in (("weights", self.weights_curve, self.weights_widget),
                                   ("gradients", self.grads_curve, self.grads_widget)):
            h = entry.get(key)
            if h is None:
                curve.setData([], [])
            else:
                curve.setData(h.edges, h.counts)
            title = "Weights" if key == "weights" else "Gradients (last batch of the epoch)"
            widget.getPlotItem().setTitle(f"{title} — {layer}, epoch {epoch}")

    # --- results ---------------------------------------------------------------------------------
    @Slot(object)
    @gui_only
    def _on_finished(self, result: Any) -> None:
        if self._kind == "profile":
            self._show_profile(result)
        else:
            self._show_histogram_run(result)
        self._set_running(False)

    def shutdown(self) -> None:
        """Join the job's thread and remove the temporary trace."""
        self.runner.shutdown()
        shutil.rmtree(self._tmp, ignore_errors=True)
