"""Live training dashboards (pyqtgraph): batch loss, epoch loss and metric per output, lr.

Curves are created once per run and then only fed with ``setData`` from a GUI-thread QTimer
(one plot per tick, each plot ≤ 10 Hz) when the run has new points; clip-to-view and peak
downsampling keep a million-point curve cheap. Earlier runs can be overlaid for comparison.

The legend is one line above the plots (a colour per output, a line style per split), never
inside a plot where it covers curves; titles are elided to the plot's width with the whole
title as tooltip. The x axes follow the data while a run trains — they grow in steps of half
again, so the tick text is redrawn a few times per run, not with every point — and fit the
data exactly when it ends (an early-stopped run fills its plots).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Slot
from PySide6.QtGui import QColor, QFontMetrics
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from builder.training.guard import gui_only
from builder.training.history import RunRecord

#: Ticks per second of the redraw timer; each feeds at most one plot with new points.
TICK_HZ = 25
#: Each plot redraws at most this often (10 Hz keeps the GUI thread's CPU share small: at
#: 25 Hz the run in the training process lost 5% of its speed on 2 cores).
REDRAW_HZ = 10
#: One colour per output (train solid, validation dashed); earlier runs are drawn grey.
OUTPUT_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b")
OVERLAY_COLORS = ("#7f7f7f", "#bcbd22", "#e377c2", "#8c564b", "#17becf")
#: Per look: the learning-rate curve, axis lines and tick text (pyqtgraph's grey is too faint
#: on the dark palette for the text, and the lr curve's dark grey vanished there).
PLOT_INK = {"light": {"lr": "#444444", "axis": "#5b6575", "text": "#3c4656"},
            "dark": {"lr": "#c9cfda", "axis": "#8a93a3", "text": "#c9cfda"}}
#: While running, an x axis grows to this multiple of the data's extent when outgrown.
X_GROWTH = 1.5
#: While running, a y range is kept while the data fill at least this share of it.
Y_FILL = 0.6


def nice_step(span: float) -> float:
    """A round tick spacing giving about four steps over ``span`` (1, 2, 2.5 or 5 × 10^k)."""
    raw = max(span, 1e-12) / 4
    power = 10.0 ** np.floor(np.log10(raw))
    return float(next(m for m in (1, 2, 2.5, 5, 10) if m * power >= raw) * power)


def _bounds(arrays: Any) -> tuple[float, float]:
    """(min, max) of the finite values of ``arrays`` ((inf, -inf) when there are none)."""
    lo, hi = np.inf, -np.inf
    for ys in arrays:
        if ys is None or not len(ys):
            continue
        finite = ys[np.isfinite(ys)]
        if len(finite):
            lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
    return lo, hi


def y_range(lo: float, hi: float, have: tuple[float, float] | None
            ) -> tuple[float, float]:
    """The y range to show data from ``lo`` to ``hi`` while a run adds points: ``have`` (the
    range shown) while it holds the data and they fill `Y_FILL` of it, else bounds on round
    ticks around them. A live loss then moves its axis only when it crosses a tick, not at
    every redraw: an axis whose range changed repaints its ticks (~4 ms each, measured)."""
    if have is not None and have[0] <= lo and hi <= have[1] and (
            hi - lo) >= Y_FILL * (have[1] - have[0]):
        return have
    span = hi - lo or abs(hi) or 1.0
    step = nice_step(span)
    bottom = float(np.floor((lo - 0.05 * span) / step) * step)
    if lo >= 0 > bottom:
        bottom = 0.0  # a loss or an accuracy does not go below 0
    return bottom, float(np.ceil((hi + 0.05 * span) / step) * step)


#: Losses of regression outputs (their targets are standardised when the data settings say so).
REGRESSION_LOSSES = ("mse", "mae", "huber")


def units_of(doc: Any) -> dict[str, tuple[str, str]]:
    """Per Output name: the unit of its loss and of its metric, as the axes and the evaluation
    label them. A regression output trains on standardised targets (the loss is in those
    units) while its MAE is reported in the data's original units."""
    standardised = doc.section("data").get("standardize", True) is not False
    out = {}
    for node in doc.outputs():
        params = doc.attr(node, "params")
        regression = params.get("loss", "mse") in REGRESSION_LOSSES
        loss = "standardised" if regression and standardised else ""
        metric = "original units" if regression else ""
        out[doc.attr(node, "name")] = (loss, metric)
    return out


def _pen(color: str, width: float = 1.5, alpha: int = 255, dashed: bool = False) -> Any:
    c = QColor(color)
    c.setAlpha(alpha)
    pen = pg.mkPen(c, width=width)
    if dashed:
        pen.setStyle(Qt.PenStyle.DashLine)
    return pen


def _fast(plot: pg.PlotItem) -> None:
    plot.setClipToView(True)
    plot.setDownsampling(auto=True, mode="peak")
    plot.showGrid(x=True, y=True, alpha=0.25)
    # An axis replays its tick text (a QPicture) on every repaint of its view, ~1.4 ms each
    # (measured: 200 replays, 270 ms of the GUI thread in a 3-epoch run); Qt's pixmap cache
    # blits it instead until the axis changes.
    for name in ("left", "bottom"):
        plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


def new_plot_widget(parent: QWidget | None = None) -> pg.PlotWidget:
    """One of the panel's plot widgets, made ahead of the panel: each takes 8–9 ms of the GUI
    thread (its view box, axes and menus), so a window builds them one per event-loop turn
    (`TrainingPlots.COUNT` of them) instead of all four in the panel's constructor."""
    from builder.workflows.plotting import plain_plot_widget  # axes in real units

    return plain_plot_widget(parent)  # a child of a shown window stays hidden until laid out


class TrainingPlots(QWidget):
    """Four plots for the current run, a crosshair read-out, exports and the run history."""

    #: How many plot widgets the dashboards use (`new_plot_widget`).
    COUNT = 4

    def __init__(self, parent: QWidget | None = None,
                 widgets: list[pg.PlotWidget] | None = None) -> None:
        super().__init__(parent)
        self._made = list(widgets or [])  # plot widgets built ahead (`new_plot_widget`)
        self.runs: list[RunRecord] = []
        self.current: RunRecord | None = None
        self._curves: dict[str, dict[str, pg.PlotDataItem]] = {}
        self._overlays: dict[int, list[tuple[pg.PlotItem, pg.PlotDataItem]]] = {}
        # One PlotWidget (one QGraphicsView) per plot: new batch points repaint one view only.
        self.graphics = QWidget()
        self._grid = QGridLayout(self.graphics)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(2)
        self._widgets: list[pg.PlotWidget] = []
        self.kind = "light"
        self.batch_plot = self._plot(0, 0, "Loss per batch", "step")
        self.epoch_plot = self._plot(0, 1, "Loss per epoch", "epoch")
        self.metric_plot = self._plot(1, 0, "Metric per epoch", "epoch")
        self.lr_plot = self._plot(1, 1, "Learning rate", "epoch")
        self.lr_curve = self.lr_plot.plot(pen=_pen(PLOT_INK["light"]["lr"], 2), symbol="o",
                                          symbolSize=4)
        #: The legend: outputs' colours and the splits' line styles, above the plots.
        self.legend = QLabel("")
        self.legend.setObjectName("plotLegend")
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self._crosshairs = {}
        for plot in self.plots():
            line = pg.InfiniteLine(angle=90, movable=False, pen=_pen("#888888", 1, 150))
            plot.addItem(line, ignoreBounds=True)
            line.hide()
            self._crosshairs[plot] = line
        self.readout = QLabel("Move the mouse over a plot to read its values.")
        self.readout.setObjectName("muted")
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._mouse = [pg.SignalProxy(w.scene().sigMouseMoved, rateLimit=30,
                                      slot=self._mouse_moved) for w in self._widgets]
        self.run_list = QListWidget()
        self.run_list.setObjectName("runList")
        self.run_list.setToolTip("The project's runs: check one to overlay its epoch curves.")
        self.run_list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.run_list.setWordWrap(False)
        # names are elided in the middle (the whole name as tooltip), never scrolled sideways
        self.run_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.run_list.itemChanged.connect(self._run_checked)
        self.png_button = QPushButton("Export PNG…")
        self.csv_button = QPushButton("Export CSV…")
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(QLabel("Runs (check to overlay)"))
        side_layout.addWidget(self.run_list, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.png_button)
        buttons.addWidget(self.csv_button)
        side_layout.addLayout(buttons)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.legend)
        left_layout.addWidget(self.graphics, 1)
        left_layout.addWidget(self.readout)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 5)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([800, 190])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.timer = QTimer(self)
        self.timer.setInterval(int(1000 / TICK_HZ))
        self.timer.timeout.connect(self._tick)
        self._pending: list[str] = []  # plots with new points, oldest first
        self._fed_at: dict[str, float] = {}  # when each plot was last fed (monotonic s)
        self._extent: tuple[int, int] | None = None  # (steps, epochs) of the current run
        #: The x axes' right ends now, per plot group (none: following the data by auto-range).
        self._x_hi: dict[str, float] = {}
        #: The y ranges shown while running (`y_range`), per plot group.
        self._y: dict[str, tuple[float, float]] = {}
        #: Per output: (points seen, min, max) of the current run's batch losses.
        self._batch_seen: dict[str, tuple[int, float, float]] = {}
        self._outputs: list[str] = []
        self._validation = True
        self.redraws = 0  # how many times a plot was fed (tests, benchmark)
        self._metric_title = ""
        #: (loss unit, metric unit) of the current run's outputs (`units_of`)
        self.units: tuple[str, str] = ("", "")
        #: Fills a stored run's curves (from its folder) before it is first overlaid.
        self.load_run: Any = None

    def _plot(self, row: int, col: int, title: str, xlabel: str) -> pg.PlotItem:
        widget = self._made.pop(0) if self._made else new_plot_widget()
        widget.setBackground(None)
        self._grid.addWidget(widget, row, col)
        widget.show()  # one made ahead as a hidden child of the window
        self._widgets.append(widget)
        widget.installEventFilter(self)
        plot = widget.getPlotItem()
        plot.setLabel("bottom", xlabel)
        _fast(plot)
        self.set_title(plot, title)
        return plot

    # --- titles that fit, the legend, the look ------------------------------------------------
    def set_title(self, plot: pg.PlotItem, title: str) -> None:
        """Give ``plot`` its title, elided to its width (the whole title as its tooltip)."""
        widget = self._widget_of(plot)
        widget.setProperty("fullTitle", title)
        self._elide_title(widget)

    def title(self, plot: pg.PlotItem) -> str:
        return str(self._widget_of(plot).property("fullTitle") or "")

    def shown_title(self, plot: pg.PlotItem) -> str:
        return plot.titleLabel.text

    def _widget_of(self, plot: pg.PlotItem) -> pg.PlotWidget:
        return next(w for w in self._widgets if w.getPlotItem() is plot)

    def _elide_title(self, widget: pg.PlotWidget) -> None:
        title = str(widget.property("fullTitle") or "")
        metrics = QFontMetrics(widget.font())
        room = max(40, widget.width() - 24)
        shown = metrics.elidedText(title, Qt.TextElideMode.ElideRight, room)
        if shown != widget.getPlotItem().titleLabel.text:
            widget.setTitle(shown)
        widget.setToolTip(title if shown != title else "")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Resize and watched in self._widgets:
            self._elide_title(watched)  # type: ignore[arg-type]
        return False

    def _show_legend(self) -> None:
        """One line for all four plots: a swatch per output, the line styles of the splits
        (validation only when the run holds samples out for it)."""
        parts = [f'<span style="color:{OUTPUT_COLORS[i % len(OUTPUT_COLORS)]}">&#9632;</span>'
                 f"&nbsp;{name}" for i, name in enumerate(self._outputs)]
        styles = "— train" + ("&nbsp;&nbsp;‐ ‐ validation" if self._validation else "")
        self.legend.setText("&nbsp;&nbsp;&nbsp;".join(parts) + ("&nbsp;&nbsp;&nbsp;&nbsp;" +
                                                               styles if parts else ""))
        self.legend.setToolTip("Colours: the outputs. Solid: training split"
                               + ("; dashed: validation split." if self._validation else
                                  ". (No validation split: the data settings hold none out.)"))

    def legend_text(self) -> str:
        """The legend as plain text (tests)."""
        import re
        from html import unescape

        return unescape(re.sub(r"<[^>]+>", "", self.legend.text())).replace("\xa0", " ")

    def set_kind(self, kind: str) -> None:
        """Draw for the light or the dark look: axes, tick text and the lr curve."""
        self.kind = kind
        ink = PLOT_INK[kind]
        self.lr_curve.setPen(_pen(ink["lr"], 2))
        self.lr_curve.setSymbolBrush(ink["lr"])
        self.lr_curve.setSymbolPen(ink["lr"])
        for widget in self._widgets:
            plot = widget.getPlotItem()
            for name in ("left", "bottom"):
                axis = plot.getAxis(name)
                axis.setPen(ink["axis"])
                axis.setTextPen(ink["text"])
            plot.titleLabel.setAttr("color", ink["text"])
            plot.titleLabel.setText(plot.titleLabel.text)

    def plots(self) -> list[pg.PlotItem]:
        return [self.batch_plot, self.epoch_plot, self.metric_plot, self.lr_plot]

    # --- runs ------------------------------------------------------------------------------
    @gui_only
    def begin_run(self, run: RunRecord, outputs: list[str]) -> None:
        """Show ``run`` live: clear the current curves and create one set per output."""
        self.current = run
        self.add_run(run)
        if list(self._curves) == list(outputs):  # the same outputs: clear and reuse
            for curves in self._curves.values():
                for curve in curves.values():
                    curve.setData([], [])
        else:
            self.prepare_outputs(outputs)
        self.lr_curve.setData([], [])
        self._pending.clear()
        self._extent = None
        self._x_hi = {}
        self._y = {}
        self._batch_seen = {}
        for plot in self.plots():  # until the first points come (`_follow_x`, `_follow_y`)
            plot.enableAutoRange(x=True, y=plot is not self.lr_plot)
        self._outputs = list(outputs)
        split = run.data_settings.get("validation_split")
        self._validation = split is None or float(split) > 0
        self._show_legend()
        run.dirty = run.epoch_dirty = True
        self.timer.start()
        self.paint_in_turn()  # the four cleared plots' axes all changed: one paint each

    @gui_only
    def set_units(self, units: dict[str, tuple[str, str]]) -> None:
        """Label the loss axes and the metric axis with their units (`units_of`): "loss
        (standardised)" when every output's loss is on standardised targets, and so on."""
        losses = {u[0] for u in units.values()}
        metrics = {u[1] for u in units.values()}
        loss = losses.pop() if len(losses) == 1 else ""
        metric = metrics.pop() if len(metrics) == 1 else ""
        if len(units) > 1 and not loss and any(u[0] for u in units.values()):
            loss = "standardised for regression outputs"
        self.units = (loss, metric)
        for plot in (self.batch_plot, self.epoch_plot):
            plot.getAxis("left").setLabel(f"loss ({loss})" if loss else "loss")
        self._label_metric()

    def _label_metric(self) -> None:
        name = self._metric_title or "metric"
        unit = self.units[1] if name == "mae" else ""
        # "original units" is cut on a short plot's axis: "mae (original)" fits
        short = unit.removesuffix(" units")
        self.metric_plot.getAxis("left").setLabel(f"{name} ({short})" if unit else name)

    @gui_only
    def add_run(self, run: RunRecord) -> None:
        """List ``run`` among the runs that can be overlaid (a new or a stored one)."""
        if run in self.runs:
            return
        self.runs.append(run)
        item = QListWidgetItem(f"{run.title} — {run.status}" if run.status != "starting"
                               else run.title)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Unchecked)
        item.setData(Qt.ItemDataRole.UserRole, run.number)
        item.setToolTip(f"{item.text()}\n{run.settings_text()}")
        self.run_list.blockSignals(True)
        self.run_list.addItem(item)
        self.run_list.blockSignals(False)

    @gui_only
    def remove_run(self, number: int) -> None:
        """Forget run ``number`` (deleted): its overlay, its list item, the current curves if
        they are its."""
        self.set_overlay(number, False)
        self.runs = [r for r in self.runs if r.number != number]
        for i in reversed(range(self.run_list.count())):
            if self.run_list.item(i).data(Qt.ItemDataRole.UserRole) == number:
                self.run_list.takeItem(i)
        if self.current is not None and self.current.number == number:
            self.clear_current()

    @gui_only
    def clear_runs(self) -> None:
        """Forget every run (another project was opened)."""
        for number in list(self._overlays):
            self.set_overlay(number, False)
        self.runs = []
        self.run_list.clear()
        self.clear_current()

    @gui_only
    def clear_current(self) -> None:
        """Show no current run (its curves no longer belong to the design shown)."""
        self.current = None
        self.timer.stop()
        self._pending.clear()
        for curves in self._curves.values():
            for curve in curves.values():
                curve.setData([], [])
        self.lr_curve.setData([], [])

    def is_overlaid(self, number: int) -> bool:
        return number in self._overlays

    @gui_only
    def set_extent(self, steps: int, epochs: int) -> None:
        """The run's planned length (its Started event): the most the x axes grow to while it
        trains; they follow the data (`_follow_x`) and fit it when it ends."""
        self._extent = (max(1, steps), max(1, epochs))

    def _data_extent(self, run: RunRecord | None) -> tuple[float, float]:
        """The last step and epoch with points, of the current run and of overlays."""
        steps = epochs = 0.0
        if run is not None:
            for data in run.outputs.values():
                s, e = data.steps.view(), data.epochs.view()
                if len(s):
                    steps = max(steps, float(s[-1]))
                if len(e):
                    epochs = max(epochs, float(np.nanmax(e)))
            e = run.epochs.view()
            if len(e):
                epochs = max(epochs, float(np.nanmax(e)))
        for curves in self._overlays.values():  # earlier runs shown may be longer
            for _, curve in curves:
                xs = curve.xData
                if xs is not None and len(xs):
                    epochs = max(epochs, float(np.nanmax(xs)))
        return steps, epochs

    def _follow_x(self, final: bool = False, group: str | None = None) -> None:
        """Keep the data in view: while running, an axis that the data outgrew grows to half
        again the data (at most the planned length); at the end, it fits the data. ``group``:
        only the plot just fed (each redraw changes one plot's axes, so one plot repaints its
        ticks per event-loop turn)."""
        steps, epochs = self._data_extent(self.current)
        plan = self._extent or (float("inf"), float("inf"))
        for key, plot in (("batch", self.batch_plot), ("epoch", self.epoch_plot),
                          ("metric", self.metric_plot), ("lr", self.lr_plot)):
            if group is not None and key != group:
                continue
            got, cap = (steps, plan[0]) if key == "batch" else (epochs, plan[1])
            if got <= 0:
                continue
            if final:
                hi = got
            elif got > self._x_hi.get(key, 0.0):
                hi = min(max(got * X_GROWTH, got + 1), max(cap, got))
            else:
                continue
            self._x_hi[key] = hi
            if key == "batch":
                plot.setXRange(0, max(hi, 1), padding=0.02)
            else:
                lo, top = (1, hi) if hi > 1 else (0.5, 1.5)
                plot.setXRange(lo, top, padding=0.04)

    def _apply_extent(self) -> None:
        self._follow_x(final=self.current is None or not self.timer.isActive())

    @gui_only
    def prepare_outputs(self, outputs: list[str]) -> None:
        """Create one set of live curves per output (a run's outputs). Creating them takes
        ~25 ms, so the panel's warm-up calls this while the app is idle and the press of Run
        only clears them."""
        if list(self._curves) == list(outputs):
            return
        for curves in self._curves.values():
            for key, curve in curves.items():
                self._plot_of(key).removeItem(curve)
        for plot in (self.batch_plot, self.epoch_plot, self.metric_plot):
            if plot.legend is not None:
                plot.legend.clear()
        self._curves = {}
        for i, name in enumerate(outputs):
            color = OUTPUT_COLORS[i % len(OUTPUT_COLORS)]
            self._curves[name] = {
                "raw": self.batch_plot.plot(pen=_pen(color, 1, 70), skipFiniteCheck=True),
                "smooth": self.batch_plot.plot(pen=_pen(color, 2.5), skipFiniteCheck=True,
                                               name=name),
                "train": self.epoch_plot.plot(pen=_pen(color, 2), name=f"{name} train",
                                              connect="finite"),
                "val": self.epoch_plot.plot(pen=_pen(color, 2, dashed=True),
                                            name=f"{name} validation", connect="finite"),
                "train_m": self.metric_plot.plot(pen=_pen(color, 2), name=f"{name} train",
                                                 connect="finite"),
                "val_m": self.metric_plot.plot(pen=_pen(color, 2, dashed=True),
                                               name=f"{name} validation", connect="finite"),
            }

    @gui_only
    def paint_in_turn(self, interval_ms: int = 16) -> None:
        """Leave the plots out of the window's next paint and paint them one at a time after
        it, ``interval_ms`` apart. For a relayout that resizes them all (the first Run
        enlarges the bottom panel): one paint of the window and four freshly sized plots took
        ~70 ms of the GUI thread; in turns, no paint takes more than ~35 ms."""
        widgets = list(self._widgets)
        for widget in widgets:
            widget.setUpdatesEnabled(False)

        def next_one() -> None:
            if widgets:
                widgets.pop(0).setUpdatesEnabled(True)  # schedules its own paint
                QTimer.singleShot(interval_ms, self, next_one)

        QTimer.singleShot(interval_ms, self, next_one)

    @gui_only
    def end_run(self) -> None:
        """Draw the last points and stop the redraw timer (the curves stay)."""
        before = self.redraws
        self.refresh()
        self.timer.stop()
        self._follow_x(final=True)
        if self._y:
            self._y = {}
            for plot in (self.batch_plot, self.epoch_plot, self.metric_plot):
                plot.enableAutoRange(y=True)  # fit the finished curves
        run = self.current
        if run is not None and self._validation:  # say so when no validation points came
            has_val = any(np.isfinite(d.val_loss.view()).any() for d in run.outputs.values()
                          if len(d.val_loss.view()))
            if not has_val and any(len(d.epochs.view()) for d in run.outputs.values()):
                self._validation = False
                self._show_legend()
        if self.redraws - before > 1:
            self.paint_in_turn()  # several plots changed at once: one paint each
        if self.current is not None:
            self._update_item(self.current)

    def _plot_of(self, key: str) -> pg.PlotItem:
        return {"raw": self.batch_plot, "smooth": self.batch_plot, "train": self.epoch_plot,
                "val": self.epoch_plot}.get(key, self.metric_plot)

    def _update_item(self, run: RunRecord) -> None:
        for i in range(self.run_list.count()):
            item = self.run_list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == run.number:
                self.run_list.blockSignals(True)
                item.setText(f"{run.title} — {run.status}")
                item.setToolTip(f"{item.text()}\n{run.settings_text()}")
                self.run_list.blockSignals(False)

    @Slot()
    @gui_only
    def _tick(self) -> None:
        """The redraw timer: feed one plot that has new points (the longest waiting first).

        One plot per tick, so that each paint is one plot's: at an epoch's end three plots
        get new points and their axes change, and painting them together took 50–65 ms of
        the GUI thread in one go (measured, 784-300-100-10 MLP); one at a time it is ~10 ms.
        """
        self._collect()
        if self.current is None:
            return
        now = time.monotonic()
        for group in self._pending:  # the longest waiting first, each ≤ REDRAW_HZ
            if now - self._fed_at.get(group, 0.0) >= 1.0 / REDRAW_HZ:
                self._pending.remove(group)
                self._fed_at[group] = now
                self._feed(group, self.current)
                return

    @Slot()
    @gui_only
    def refresh(self) -> None:
        """Feed every plot that has new points now (a no-op without new points)."""
        self._collect()
        run = self.current
        while self._pending and run is not None:
            self._feed(self._pending.pop(0), run)

    def _collect(self) -> None:
        """Queue the plots that the run's new points concern."""
        run = self.current
        if run is None:
            return
        groups = []
        if run.dirty:
            groups.append("batch")
        if run.epoch_dirty:
            groups += ["epoch", "metric", "lr"]
        run.dirty = run.epoch_dirty = False
        for group in groups:
            if group not in self._pending:
                self._pending.append(group)

    def _feed(self, group: str, run: RunRecord) -> None:
        self.redraws += 1
        self._feed_curves(group, run)
        if self.timer.isActive():
            self._follow_x(group=group)
            self._follow_y(group)

    def _follow_y(self, group: str) -> None:
        """While running: the y range of the plot fed holds its data on round ticks
        (`y_range`); at the end the plots fit their data again (`end_run`)."""
        plot = {"batch": self.batch_plot, "epoch": self.epoch_plot,
                "metric": self.metric_plot}.get(group)
        if plot is None:
            return
        lo, hi = self._batch_bounds() if group == "batch" else _bounds(
            item.yData for item in plot.listDataItems())
        if lo > hi:
            return
        shown = y_range(lo, hi, self._y.get(group))
        if shown != self._y.get(group):
            self._y[group] = shown
            plot.setYRange(*shown, padding=0)

    def _batch_bounds(self) -> tuple[float, float]:
        """The current run's per-batch losses' extent, from the points added since the last
        call (a long run's million points are not scanned again at each redraw)."""
        lo, hi = np.inf, -np.inf
        for name, data in (self.current.outputs.items() if self.current else ()):
            seen, a, b = self._batch_seen.get(name, (0, np.inf, -np.inf))
            raw, smooth = data.batch_loss.view(), data.smooth_loss.view()
            n = min(len(raw), len(smooth))
            new_lo, new_hi = _bounds((raw[seen:n], smooth[seen:n]))
            a, b = min(a, new_lo), max(b, new_hi)
            self._batch_seen[name] = (n, a, b)
            lo, hi = min(lo, a), max(hi, b)
        return lo, hi

    def _feed_curves(self, group: str, run: RunRecord) -> None:
        if group == "lr":
            lrs = run.lr.view()
            self.lr_curve.setData(run.epochs.view(), lrs)
            finite = lrs[np.isfinite(lrs)]
            if len(finite):
                # From 0, so a constant rate reads as a flat line at its value, not as noise.
                self.lr_plot.setYRange(0.0, float(finite.max()) * 1.15 or 1.0, padding=0)
            return
        for name, curves in self._curves.items():
            data = run.outputs.get(name)
            if data is None:
                continue
            if group == "batch":
                steps = data.steps.view()
                curves["raw"].setData(steps, data.batch_loss.view())
                curves["smooth"].setData(steps, data.smooth_loss.view())
            elif group == "epoch":
                epochs = data.epochs.view()
                curves["train"].setData(epochs, data.train_loss.view())
                curves["val"].setData(epochs, data.val_loss.view())
            else:
                epochs = data.epochs.view()
                curves["train_m"].setData(epochs, data.train_metric.view())
                curves["val_m"].setData(epochs, data.val_metric.view())
                if data.metric and self._metric_title != data.metric:
                    self._metric_title = data.metric
                    shown = data.metric.upper() if data.metric in ("mae", "r2") else \
                        data.metric.capitalize()
                    self.set_title(self.metric_plot, f"{shown} per epoch")
                    self._label_metric()

    def points(self, output: str, curve: str) -> int:
        """How many points a current-run curve holds (tests)."""
        item = self._curves.get(output, {}).get(curve)
        if item is None or item.xData is None:
            return 0
        return len(item.xData)

    # --- overlays ----------------------------------------------------------------------------
    @Slot(QListWidgetItem)
    @gui_only
    def _run_checked(self, item: QListWidgetItem) -> None:
        number = item.data(Qt.ItemDataRole.UserRole)
        self.set_overlay(number, item.checkState() == Qt.CheckState.Checked)

    def set_overlay(self, number: int, on: bool) -> None:
        """Overlay (or remove) the epoch curves of run ``number``."""
        for plot, curve in self._overlays.pop(number, []):
            plot.removeItem(curve)
        run = next((r for r in self.runs if r.number == number), None)
        if not on or run is None:
            return
        if not run.loaded and self.load_run is not None:
            self.load_run(run)  # a stored run: its curves are read now
        color = OVERLAY_COLORS[number % len(OVERLAY_COLORS)]
        curves = []
        for data in run.outputs.values():
            e = data.epochs.view().copy()
            for plot, series, dashed in (
                    (self.epoch_plot, data.train_loss, False),
                    (self.epoch_plot, data.val_loss, True),
                    (self.metric_plot, data.train_metric, False),
                    (self.metric_plot, data.val_metric, True)):
                curve = pg.PlotDataItem(e, series.view().copy(), connect="finite",
                                        pen=_pen(color, 1.5, 170, dashed))
                plot.addItem(curve)
                curves.append((plot, curve))
        self._overlays[number] = curves
        self._apply_extent()

    # --- crosshair ---------------------------------------------------------------------------
    def _mouse_moved(self, args: tuple) -> None:
        pos = args[0]
        for plot in self.plots():
            line = self._crosshairs[plot]
            if plot.scene() is not self.sender_scene(pos) or \
                    not plot.sceneBoundingRect().contains(pos):
                line.hide()
                continue
            x = plot.vb.mapSceneToView(pos).x()
            line.setPos(x)
            line.show()
            self.readout.setText(self.values_at(plot, x))

    def sender_scene(self, pos: Any) -> Any:
        """The scene under the mouse (each plot has its own view and scene)."""
        for w in self._widgets:
            if w.underMouse():
                return w.scene()
        return None

    def values_at(self, plot: pg.PlotItem, x: float) -> str:
        """The values of ``plot``'s curves nearest to ``x`` (the crosshair read-out)."""
        parts = []
        for item in plot.listDataItems():
            xs, ys = item.xData, item.yData
            if xs is None or not len(xs):
                continue
            i = int(np.clip(np.searchsorted(xs, x), 0, len(xs) - 1))
            if i > 0 and abs(xs[i - 1] - x) < abs(xs[i] - x):
                i -= 1
            name = item.name() or "earlier run"
            parts.append(f"{name}: {ys[i]:.4g}")
            at = xs[i]
        if not parts:
            return ""
        label = plot.getAxis("bottom").labelText or "x"
        return f"{label} {at:g} — " + " · ".join(parts[:8])

    # --- export ------------------------------------------------------------------------------
    def export_png(self, path: str | Path) -> Path:
        """Save the four plots as they are shown."""
        path = Path(path)
        if not self.graphics.grab().save(str(path)):
            raise OSError(f"could not write {path}")
        return path

    def export_csv(self, path: str | Path) -> Path:
        """Write the current run's curves (per epoch and per batch) as CSV."""
        if self.current is None:
            raise ValueError("No run to export yet: train first.")
        return self.current.write_csv(path)
