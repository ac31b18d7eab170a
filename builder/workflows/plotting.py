"""Small helpers shared by the workflow views: pens, a themed plot widget, a spin box for
learning rates."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
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


def plot_widget(title: str, xlabel: str, ylabel: str) -> pg.PlotWidget:
    """A plot on the window's background, with a grid and a legend."""
    widget = pg.PlotWidget(title=title)
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
