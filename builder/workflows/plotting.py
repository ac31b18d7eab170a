"""Small helpers shared by the workflow views: pens, a themed plot widget, a spin box for
learning rates."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette, QPen
from PySide6.QtWidgets import QDoubleSpinBox

#: One colour per trial / layer series (matplotlib's tab10, as the training plots).
SERIES_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf",
                 "#bcbd22", "#7f7f7f")
BEST_COLOR = "#d62728"


def pen(color: str, width: float = 1.5, alpha: int = 255, dashed: bool = False) -> Any:
    c = QColor(color)
    c.setAlpha(alpha)
    p = pg.mkPen(c, width=width)
    if dashed:
        p.setStyle(Qt.PenStyle.DashLine)
    return p


class PlainAxis(pg.AxisItem):
    """An axis that shows values in their own unit. pyqtgraph rescales small or large values
    by an SI prefix and writes it beside the label: "validation accuracy" from 0.1 to 0.9
    became "validation accuracy (x0.001)" from 100 to 900, a time in ms "ms (x0.001)".
    (``enableAutoSIPrefix(False)`` is not enough in pyqtgraph 0.14: it still computes a
    prefix, and every ``setLabel`` brings the prefix ranges back.)"""

    def __init__(self, orientation: str, **kwargs: Any) -> None:
        super().__init__(orientation, **kwargs)
        self.autoSIPrefix = False

    def updateAutoSIPrefix(self) -> None:  # noqa: N802 - pyqtgraph override
        self.autoSIPrefixScale = 1.0
        self.labelUnitPrefix = ""
        self._updateLabel()

    def setGrid(self, grid: Any) -> None:  # noqa: N802 - pyqtgraph override
        """With a grid, the axis stacks behind the view box, so that its (opaque) grid lines
        lie under the curves rather than across them; without, where pyqtgraph puts it."""
        super().setGrid(grid)
        self.setZValue(0.5 if grid is False else -200.0)

    def generateDrawSpecs(self, p: Any) -> Any:  # noqa: N802 - pyqtgraph override
        """pyqtgraph's ticks, with the grid's translucent lines drawn in the opaque colour they
        show on the plot's background: Qt's raster engine draws a translucent unsmoothed line
        ~20× slower than an opaque one (51 grid lines: 5 ms against 0.35 ms, measured), and
        an axis redraws its grid whenever its range changes (a live plot: every few redraws)."""
        specs = super().generateDrawSpecs(p)
        if specs is None or self.grid is False:
            return specs
        background = self._background()
        if background is None:
            return specs
        axis, ticks, texts = specs
        pens: dict[int, Any] = {}  # a tick level's ticks share one pen
        out = []
        for pen, a, b in ticks:
            solid = pens.get(id(pen))
            if solid is None:
                solid = pens[id(pen)] = _opaque(pen, background)
            out.append((solid, a, b))
        return axis, out, texts

    def _background(self) -> QColor | None:
        view = self.getViewWidget()
        if view is None:
            return None
        brush = view.backgroundBrush()
        if brush.style() != Qt.BrushStyle.NoBrush and brush.color().alpha() == 255:
            return brush.color()
        return view.palette().color(QPalette.ColorRole.Window)


def _opaque(pen: Any, background: QColor) -> Any:
    """``pen`` in the colour its translucent colour shows over ``background``."""
    color = pen.color()
    alpha = color.alphaF()
    if alpha >= 1.0:
        return pen
    solid = QPen(pen)
    solid.setColor(QColor.fromRgbF(*(alpha * c + (1 - alpha) * b for c, b in zip(
        (color.redF(), color.greenF(), color.blueF()),
        (background.redF(), background.greenF(), background.blueF()), strict=True))))
    return solid


SIDES = ("left", "bottom", "right", "top")


def plain_axes(plot: Any) -> Any:
    """Give a PlotItem (or PlotWidget) axes in real units (`PlainAxis`), keeping their labels.
    Every plot made by `plot_widget` has them; other plots can call this once."""
    item = plot.getPlotItem() if hasattr(plot, "getPlotItem") else plot
    axes = {}
    for side in SIDES:
        old = item.getAxis(side)
        if isinstance(old, PlainAxis):
            continue
        axis = PlainAxis(side)
        axes[side] = (axis, old.labelText, old.labelUnits, old.isVisible())
    if axes:
        item.setAxisItems({side: a for side, (a, *_rest) in axes.items()})
        for side, (axis, text, units, visible) in axes.items():
            if text or units:
                axis.setLabel(text, units=units or None)
            item.showAxis(side, visible)
    return plot


def plain_plot_widget(parent: Any = None, title: str | None = None) -> pg.PlotWidget:
    """A pyqtgraph PlotWidget whose axes are `PlainAxis` (values in their own unit)."""
    return pg.PlotWidget(parent, title=title,  # (an axis given here is shown: two sides)
                         axisItems={side: PlainAxis(side) for side in ("left", "bottom")})


def plot_widget(title: str, xlabel: str, ylabel: str) -> pg.PlotWidget:
    """A plot on the window's background, with a grid, a legend and axes in real units."""
    widget = plain_plot_widget(title=title)
    widget.setBackground(None)
    plot = widget.getPlotItem()
    plot.setLabel("bottom", xlabel)
    plot.setLabel("left", ylabel)
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.addLegend(offset=(-5, 5), labelTextSize="8pt")
    return widget


class SciSpinBox(QDoubleSpinBox):
    """A spin box for rates that span decades: shows ``3e-04``-style values, steps by ×10^0.1
    (so the arrows move evenly on a log scale) and accepts typed ``1e-5`` or ``0.001``."""

    def __init__(self, value: float, lo: float = 1e-8, hi: float = 100.0) -> None:
        super().__init__()
        self.setDecimals(12)
        self.setRange(lo, hi)
        self.setValue(value)

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt override
        return f"{value:.3g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802 - Qt override
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> object:
        from PySide6.QtGui import QValidator

        stripped = text.strip()
        try:
            value = float(stripped)
        except ValueError:
            ok = all(c in "0123456789.eE-+" for c in stripped)
            return (QValidator.State.Intermediate if ok else QValidator.State.Invalid, text, pos)
        state = (QValidator.State.Acceptable if self.minimum() <= value <= self.maximum()
                 else QValidator.State.Intermediate)
        return (state, text, pos)

    def stepBy(self, steps: int) -> None:  # noqa: N802 - Qt override
        self.setValue(self.value() * 10 ** (0.1 * steps))
