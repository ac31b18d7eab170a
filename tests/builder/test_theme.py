"""The looks: no application style sheet (it doubled the cost of building widgets), named
widgets touched by the proxy style, check boxes that show on the dark palette."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QCheckBox, QLabel

from builder.theme import NAMED_COLOURS, apply_theme


def _frame_contrast(box: QCheckBox) -> float:
    """Brightest pixel on the indicator's frame minus the window colour's lightness."""
    image = box.grab().toImage()
    h = image.height()
    window = box.palette().window().color().lightness()
    frame = max(QColor(image.pixel(x, y)).lightness() for x in range(0, 8) for y in range(2, h - 2))
    return frame - window


def test_dark_check_boxes_and_named_widgets(qapp):
    app = QApplication.instance()
    try:
        for kind in ("light", "dark"):
            apply_theme(app, kind)
            assert app.styleSheet() == ""
            muted = QLabel("a hint")
            muted.setObjectName("muted")
            box = QCheckBox("unchecked")
            for widget in (muted, box):
                widget.show()
            app.processEvents()
            assert muted.palette().windowText().color() == QColor(NAMED_COLOURS[kind]["muted"])
            if kind == "dark":
                assert _frame_contrast(box) > 60  # the frame stands out from the window
            for widget in (muted, box):
                widget.close()
    finally:
        apply_theme(app, "light")
