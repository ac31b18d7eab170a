"""A look at the data set before training: a table or thumbnails, and the target's balance."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from builder.training.evaluation import image_of, is_image_data
from builder.training.guard import gui_only
from builder.workflows.plotting import plain_plot_widget

PREVIEW_ROWS = 50
PREVIEW_IMAGES = 40


class DataPreview(QWidget):
    """Shows a backend ``Dataset``: the first rows or images, and the first target's balance."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel("Choose a data set to preview it.")
        self.summary.setWordWrap(True)
        self.table = QTableWidget()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.thumbs = QListWidget()
        self.thumbs.setViewMode(QListView.ViewMode.IconMode)
        self.thumbs.setIconSize(QSize(40, 40))
        self.thumbs.setGridSize(QSize(56, 62))
        self.thumbs.setResizeMode(QListView.ResizeMode.Adjust)
        self.thumbs.setMovement(QListView.Movement.Static)
        self.samples = QStackedWidget()
        self.samples.addWidget(self.table)
        self.samples.addWidget(self.thumbs)
        self.balance = plain_plot_widget(title="Target balance")
        self.balance.setBackground(None)
        self.balance.setMaximumWidth(360)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.8, brush="#1f77b4")
        self.balance.addItem(self.bars)
        body = QHBoxLayout()
        body.addWidget(self.samples, 3)
        body.addWidget(self.balance, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addLayout(body, 1)
        #: The data key (`backend.runs.design.data_key`) of the data shown ("" for none).
        self.shown_key = ""

    @gui_only
    def show_error(self, message: str) -> None:
        self.clear(message)

    @gui_only
    def clear(self, message: str = "Choose a data set to preview it.") -> None:
        """Show no data (the data settings changed and the new data are not loaded yet)."""
        self.summary.setText(message)
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        self.thumbs.clear()
        self.bars.setOpts(x=[], height=[])
        self.balance.setTitle("Target balance")
        self.shown_key = ""

    @gui_only
    def show_dataset(self, ds: Any) -> None:
        """Fill the preview from a backend ``Dataset``."""
        x = ds.x
        targets = list(ds.targets.values())
        self.summary.setText(
            f"<b>{ds.name}</b>: {len(ds)} samples of shape {tuple(ds.sample_shape)}; targets: "
            + ", ".join(f"{t.name} ({t.num_classes} classes)" if t.is_classes else
                        f"{t.name} (values)" for t in targets))
        if is_image_data(x):
            self.samples.setCurrentWidget(self.thumbs)
            self.thumbs.clear()
            first = targets[0] if targets else None
            for i in range(min(PREVIEW_IMAGES, len(x))):
                label = ""
                if first is not None and first.is_classes:
                    label = first.classes[int(first.values[i])]
                item = QListWidgetItem(QIcon(image_of(x[i].numpy(), 40)), label)
                self.thumbs.addItem(item)
        else:
            self.samples.setCurrentWidget(self.table)
            flat = x.reshape(len(x), -1)[:PREVIEW_ROWS].numpy()
            names = list(ds.feature_names) if len(ds.feature_names) == flat.shape[1] else [
                f"x{i}" for i in range(flat.shape[1])]
            cols = names[:30] + [t.name for t in targets]
            self.table.setColumnCount(len(cols))
            self.table.setHorizontalHeaderLabels(cols)
            self.table.setRowCount(len(flat))
            for r in range(len(flat)):
                for c in range(min(30, flat.shape[1])):
                    self.table.setItem(r, c, QTableWidgetItem(f"{flat[r, c]:.4g}"))
                for j, t in enumerate(targets):
                    v = t.values[r]
                    text = t.classes[int(v)] if t.is_classes else ", ".join(
                        f"{float(a):.4g}" for a in v.reshape(-1)[:3])
                    self.table.setItem(r, min(30, flat.shape[1]) + j, QTableWidgetItem(text))
        self._balance(targets[0] if targets else None)

    def _balance(self, target: Any) -> None:
        axis = self.balance.getAxis("bottom")
        if target is None:
            self.bars.setOpts(x=[], height=[])
            return
        if target.is_classes:
            counts = np.bincount(target.values.reshape(-1).numpy(),
                                 minlength=target.num_classes)
            self.balance.setTitle(f"Class balance of '{target.name}'")
            self.bars.setOpts(x=np.arange(len(counts)), height=counts, width=0.8)
            axis.setTicks([[(i, c) for i, c in enumerate(target.classes)]]
                          if len(counts) <= 20 else None)
        else:
            values = target.values.reshape(len(target.values), -1)[:, 0].numpy()
            counts, edges = np.histogram(values, bins=20)
            self.balance.setTitle(f"Distribution of '{target.name}'")
            self.bars.setOpts(x=(edges[:-1] + edges[1:]) / 2, height=counts,
                              width=float(edges[1] - edges[0]) * 0.9)
            axis.setTicks(None)
        self.balance.autoRange()
