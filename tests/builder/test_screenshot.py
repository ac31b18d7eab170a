"""The main window renders the Wide & Deep example with every panel filled."""

from __future__ import annotations

from PySide6.QtGui import QImage

from builder.screenshot import save_screenshot


def test_screenshot_of_wide_and_deep_is_not_blank(qapp, tmp_path):
    path = save_screenshot(tmp_path / "main.png", size=(1200, 760))
    image = QImage(str(path))
    assert image.width() >= 1200 and image.height() >= 760
    # many distinct colours: nodes, edges, text, panels (a blank window has a handful)
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7)
               for y in range(0, image.height(), 7)}
    assert len(colours) > 50
