"""Small pyqtgraph helpers shared by the workflow views (pens, a themed plot widget)."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

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
