"""The learning-rate finder in the app: sweep in the background, plot loss vs lr (log x) with
the suggestion marked, and apply it to the training settings as one undoable step."""

from __future__ import annotations

import math
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from builder.progress import ProgressBar
from builder.training.guard import gui_only
from builder.workflows.job_view import JobView
from builder.workflows.plotting import SciSpinBox, pen, plot_widget


def _lr_text(lr: float) -> str:
    return f"{lr:.3g}"


class LRFinderDialog(JobView, QDialog):
    """Sweep the learning rate on a throw-away copy of the design; "Apply" sets ``lr``."""

    LOG_PREFIX = "lr finder"

    def __init__(self, workflows: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Learning-rate finder")
        self.setObjectName("lrFinderDialog")
        self._attach(workflows, "lr-finder")
        self.result: Any = None
        self._lrs: list[float] = []
        self._losses: list[float] = []
        self._smoothed: list[float] = []

        self.steps = QSpinBox()
        self.steps.setRange(10, 5000)
        self.steps.setValue(200)
        self.steps.setToolTip("One batch per step; the sweep stops early when the loss explodes.")
        self.start_lr = SciSpinBox(1e-5)
        self.end_lr = SciSpinBox(10.0)
        self.use_trained = QCheckBox("Start from the trained weights")
        self.use_trained.setToolTip("Otherwise the sweep starts from freshly initialised weights "
                                    "(the run's seed). The design's weights are never changed.")
        form = QHBoxLayout()
        form.addWidget(QLabel("Steps"))
        form.addWidget(self.steps)
        form.addSpacing(16)
        form.addWidget(QLabel("Learning rate"))
        form.addWidget(self.start_lr)
        form.addWidget(QLabel("→"))
        form.addWidget(self.end_lr)
        form.addSpacing(16)
        form.addWidget(self.use_trained)
        form.addStretch(1)

        self.plot_widget = plot_widget("Loss vs learning rate", "learning rate (log scale)",
                                       "loss")
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setLogMode(x=True, y=False)
        self.plot.legend.setOffset((10, -10))  # bottom left: the curve is high there
        self.raw_curve = self.plot.plot(pen=pen("#1f77b4", 1, 90), name="loss per batch")
        self.smooth_curve = self.plot.plot(pen=pen("#1f77b4", 2.5), name="smoothed loss")
        self.marker = pg.InfiniteLine(angle=90, movable=False, pen=pen("#d62728", 2, dashed=True),
                                      label="suggested", labelOpts={
                                          "position": 0.93, "color": "#d62728",
                                          "fill": (255, 255, 255, 220), "anchors": [(0, 0.5),
                                                                                    (0, 0.5)]})
        self.plot.addItem(self.marker, ignoreBounds=True)
        self.marker.hide()
        self.point = pg.ScatterPlotItem(size=11, brush=pg.mkBrush("#d62728"),
                                        pen=pg.mkPen("#ffffff", width=1.5))
        self.plot.addItem(self.point)

        self.progress = ProgressBar()
        self.progress.setFormat("%v / %m steps")
        self.status = QLabel("Sweeps the learning rate exponentially, one batch per step, on a "
                             "copy of the design. Press Run.")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.run_button = QPushButton("Run")
        self.stop_button = QPushButton("Stop")
        self.apply_button = QPushButton("Apply")
        self.apply_button.setToolTip("Set the training learning rate to the suggestion "
                                     "(one undo step).")
        self.close_button = QPushButton("Close")
        self.run_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.runner.stop)
        self.apply_button.clicked.connect(self.apply)
        self.close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.plot_widget, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.resize(760, 560)
        self._set_running(False)
        self.refresh()

    # --- state ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Follow the design: the current lr and whether trained weights exist."""
        trained = self.workflows.trained_state() is not None
        self.use_trained.setEnabled(trained and not self.runner.running())
        if not trained:
            self.use_trained.setChecked(False)

    @Slot(bool)
    @gui_only
    def _set_running(self, on: bool) -> None:
        self.run_button.setEnabled(not on)
        self.stop_button.setEnabled(on)
        for w in (self.steps, self.start_lr, self.end_lr):
            w.setEnabled(not on)
        self.apply_button.setEnabled(not on and self.suggestion() is not None)
        self.refresh()

    def suggestion(self) -> float | None:
        return None if self.result is None else self.result.suggestion

    # --- running -------------------------------------------------------------------------------
    @Slot()
    @gui_only
    def start(self) -> bool:
        """Start the sweep in the background (False when it is running or cannot start)."""
        if self.runner.running():
            return False
        problems = self.workflows.design_problems()
        if problems:
            self._say("Cannot sweep: fix the design first — " + " ".join(problems[:3]), True)
            return False
        start, end, steps = self.start_lr.value(), self.end_lr.value(), self.steps.value()
        if not start < end:
            self._say("The start learning rate must be below the end one.", True)
            return False
        doc = self.controller.doc.copy()
        state = self.workflows.trained_state() if self.use_trained.isChecked() else None
        base_dir = self.workflows.project_dir()

        def job(report: Any, control: Any) -> Any:
            from backend.workflows.lr_finder import find_lr

            return find_lr(doc, state_dict=state, start_lr=start, end_lr=end, steps=steps,
                           callback=report, control=control, base_dir=base_dir)

        self.result = None
        self._lrs, self._losses, self._smoothed = [], [], []
        self.marker.hide()
        self.point.clear()
        self._redraw()
        self.progress.setRange(0, steps)
        self.progress.setValue(0)
        self._say(f"Sweeping {_lr_text(start)} → {_lr_text(end)} over {steps} steps…")
        return self.runner.start(job)

    @Slot(list)
    @gui_only
    def _on_progress(self, events: list) -> None:
        for ev in events:
            self._lrs.append(ev.lr)
            self._losses.append(ev.loss)
            self._smoothed.append(ev.smoothed)
        if events:
            self.progress.setValue(events[-1].step)
            self._redraw()

    def _redraw(self) -> None:
        self.raw_curve.setData(self._lrs, self._losses)
        self.smooth_curve.setData(self._lrs, self._smoothed)
        self._fit_y()

    def _fit_y(self) -> None:
        """Show the interesting part: from the lowest loss to a little above the start (the
        blow-up at the end would squash the curve otherwise)."""
        values = [v for v in self._smoothed if math.isfinite(v)]
        if len(values) < 2:
            return
        lo = min(values)
        head = values[: max(3, len(values) // 10)]
        hi = max(max(head), lo) + 0.25 * (max(head) - lo) + 1e-9
        raw = [v for v in self._losses if math.isfinite(v)]
        hi = min(hi, max(raw) if raw else hi)
        self.plot.setYRange(max(0.0, lo - 0.1 * (hi - lo)), hi, padding=0.02)

    @Slot(object)
    @gui_only
    def _on_finished(self, result: Any) -> None:
        self.result = result
        self._lrs, self._losses, self._smoothed = result.lrs, result.losses, result.smoothed
        self._redraw()
        how = {"completed": "The sweep reached the end learning rate.",
               "exploded": "The loss shot up, so the sweep stopped there.",
               "stopped": "The sweep was stopped."}.get(result.reason, result.reason)
        if result.suggestion is None:
            self.marker.hide()
            self._say(f"{how} Too few steps to suggest a learning rate: run a longer sweep.")
        else:
            s = result.suggestion
            self.marker.setValue(math.log10(s))
            self.marker.show()
            self.marker.label.setFormat(f" suggested {_lr_text(s)} ")
            self.marker.label.updatePosition()
            y = _interpolate(result.lrs, result.smoothed, s)
            if y is not None:
                self.point.setData([math.log10(s)], [y])
            steep = (f", steepest descent at {_lr_text(result.steepest_lr)}"
                     if result.steepest_lr else "")
            current = self.controller.doc.section("training").get("lr")
            now = f" The design uses {_lr_text(current)}." if current is not None else ""
            self._say(f"{how} Suggested learning rate: {_lr_text(s)} (10× below the lowest "
                      f"loss at {_lr_text(result.min_loss_lr)}{steep}).{now} Apply sets it.")
        self.progress.setValue(len(result.lrs))
        self.apply_button.setEnabled(result.suggestion is not None)

    @Slot()
    @gui_only
    def apply(self) -> bool:
        """Set the training section's learning rate to the suggestion (one undo step)."""
        lr = self.suggestion()
        if lr is None:
            return False
        from graph.edits import SetSection

        section = self.controller.doc.section("training")
        section["lr"] = float(f"{lr:.3g}")
        done = self.controller.push(SetSection("training", section),
                                    f"set learning rate to {_lr_text(lr)}")
        if done:
            self._say(f"The learning rate is now {_lr_text(lr)} (Edit → Undo reverts it).")
        return done

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self.runner.shutdown()
        super().closeEvent(event)


def _interpolate(xs: list[float], ys: list[float], x: float) -> float | None:
    """y at ``x`` on the curve (log x), or None outside it."""
    if not xs or not xs[0] <= x <= xs[-1]:
        return None
    lx = math.log10(x)
    for i in range(1, len(xs)):
        if xs[i] >= x:
            a, b = math.log10(xs[i - 1]), math.log10(xs[i])
            t = 0.0 if b == a else (lx - a) / (b - a)
            return ys[i - 1] + t * (ys[i] - ys[i - 1])
    return ys[-1]


__all__ = ["LRFinderDialog"]
