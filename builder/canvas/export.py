"""The diagram as an image file: PNG (at twice the scene's resolution) or SVG (Qt's
QSvgGenerator), drawn from the scene without the grid or the selection."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter

from builder.canvas.scene import CanvasScene

MARGIN = 30.0
PNG_SCALE = 2.0


def diagram_rect(scene: CanvasScene) -> QRectF:
    """The layers and connections, with a margin."""
    rect = QRectF()
    for node in scene.nodes.values():
        rect = rect.united(node.mapRectToScene(node.card_rect()))
    for edge in scene.edges.values():
        rect = rect.united(edge.sceneBoundingRect())
    return rect.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)


def _render(scene: CanvasScene, painter: QPainter, source: QRectF, target: QRectF) -> None:
    selected = scene.selectedItems()
    scene.flush_routes()
    scene.exporting = True
    scene.blockSignals(True)
    cached = [(item, item.cacheMode()) for item in scene.nodes.values()]
    for item, _mode in cached:  # drawn afresh: vector shapes and text, not cached pixmaps
        item.setCacheMode(item.CacheMode.NoCache)
    try:
        scene.clearSelection()
        painter.setRenderHints(QPainter.RenderHint.Antialiasing
                               | QPainter.RenderHint.TextAntialiasing)
        scene.render(painter, target, source, Qt.AspectRatioMode.KeepAspectRatio)
    finally:
        for item, mode in cached:
            item.setCacheMode(mode)
        for item in selected:
            item.setSelected(True)
        scene.blockSignals(False)
        scene.exporting = False


def export_png(scene: CanvasScene, path: str | Path, scale: float = PNG_SCALE) -> Path:
    """Write the diagram as a PNG; raises OSError when it cannot be written."""
    source = diagram_rect(scene)
    size = QSize(max(1, round(source.width() * scale)), max(1, round(source.height() * scale)))
    image = QImage(size, QImage.Format.Format_ARGB32)
    image.fill(scene.colors.background)
    painter = QPainter(image)
    try:
        _render(scene, painter, source, QRectF(0, 0, size.width(), size.height()))
    finally:
        painter.end()
    out = Path(path)
    if not image.save(str(out), "PNG"):
        raise OSError(f"{out} could not be written")
    return out


def export_svg(scene: CanvasScene, path: str | Path, title: str = "") -> Path:
    """Write the diagram as SVG (vector shapes and text)."""
    from PySide6.QtSvg import QSvgGenerator

    source = diagram_rect(scene)
    out = Path(path)
    generator = QSvgGenerator()
    generator.setFileName(str(out))
    generator.setSize(QSize(round(source.width()), round(source.height())))
    generator.setViewBox(QRectF(0, 0, source.width(), source.height()))
    generator.setTitle(title or "NetCanvas diagram")
    generator.setDescription("A neural network design drawn by NetCanvas")
    painter = QPainter()
    if not painter.begin(generator):
        raise OSError(f"{out} could not be written")
    try:
        painter.fillRect(QRectF(0, 0, source.width(), source.height()), scene.colors.background)
        _render(scene, painter, source, QRectF(0, 0, source.width(), source.height()))
    finally:
        painter.end()
    if not out.is_file():
        raise OSError(f"{out} could not be written")
    return out
