"""Light and dark looks: a Fusion palette, a few touches on named widgets, the canvas colours.

"system" follows the platform's colour scheme (Qt ≥ 6.5 style hints); the choice is kept in
QSettings by the main window.

No application style sheet: with one (even a single rule), Qt wraps every widget in its
style-sheet style, and building the widgets took twice as long (the training panel: 150–165 ms
instead of 85–95 ms, measured on 2 cores), which froze the window at launch. Instead `ThemeStyle`
(a QProxyStyle of Fusion) gives the named widgets their colour or font when they are polished,
once per widget, and draws check boxes with a frame that shows on the dark palette (Fusion's own
frame is the window colour darkened, which vanishes on a dark base).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QIcon, QPalette, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProxyStyle,
    QStyle,
    QStyleFactory,
    QWidget,
)

THEMES = ("system", "light", "dark")


@dataclass(frozen=True)
class CanvasColors:
    background: QColor
    grid: QColor
    node: QColor
    node_header: QColor
    node_border: QColor
    selected: QColor
    text: QColor
    subtext: QColor
    edge: QColor
    edge_label: QColor
    port: QColor
    valid: QColor
    invalid: QColor
    error: QColor


LIGHT = CanvasColors(
    QColor("#f6f7f9"), QColor("#e3e6eb"), QColor("#ffffff"), QColor("#eef2f8"),
    QColor("#b8c0cc"), QColor("#2f6fde"), QColor("#1d2430"), QColor("#5b6575"),
    QColor("#7d8796"), QColor("#3c4656"), QColor("#8c96a5"), QColor("#1f9d55"),
    QColor("#d64545"), QColor("#d64545"),
)
DARK = CanvasColors(
    QColor("#1e2127"), QColor("#2a2e36"), QColor("#2c313a"), QColor("#353b46"),
    QColor("#4a5260"), QColor("#5c9cff"), QColor("#e6e9ef"), QColor("#a5adbb"),
    QColor("#8a93a3"), QColor("#c9cfda"), QColor("#9aa3b3"), QColor("#3fc37a"),
    QColor("#ff6b6b"), QColor("#ff6b6b"),
)

#: Category → icon file in resources/icons.
CATEGORY_ICONS = {
    "Input / Output": "io.svg", "Core": "core.svg", "Regularization": "regularization.svg",
    "Normalization": "normalization.svg", "Activation": "activation.svg",
    "Convolution": "convolution.svg", "Pooling": "pooling.svg", "Recurrent": "recurrent.svg",
    "Merge": "merge.svg", "Resampling": "resampling.svg", "Attention": "attention.svg",
    "Tensor": "tensor.svg",
}
#: Header accent colour per category (a thin bar on each node).
CATEGORY_COLORS = {
    "Input / Output": "#2f9e6b", "Core": "#2f6fde", "Regularization": "#9a6ad6",
    "Normalization": "#8a6ad6", "Activation": "#e08a2e", "Convolution": "#c2417a",
    "Pooling": "#d0628f", "Recurrent": "#1c9cb0", "Merge": "#6b7a8f",
    "Resampling": "#b5523b", "Attention": "#d4a017", "Tensor": "#4f8f3a",
}


def system_is_dark() -> bool:
    """Whether the platform asks for a dark look."""
    app = QGuiApplication.instance()
    if app is None:
        return False
    hints = QGuiApplication.styleHints()
    scheme = getattr(hints, "colorScheme", None)
    if scheme is not None:
        value = scheme()
        if value == Qt.ColorScheme.Dark:
            return True
        if value == Qt.ColorScheme.Light:
            return False
    return QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128


def resolve(theme: str) -> str:
    """"light" or "dark" for a theme setting ("system" follows the platform)."""
    if theme == "dark" or (theme == "system" and system_is_dark()):
        return "dark"
    return "light"


def palette(kind: str) -> QPalette:
    pal = QPalette()
    if kind == "dark":
        roles = {
            QPalette.ColorRole.Window: "#23262d", QPalette.ColorRole.WindowText: "#e6e9ef",
            QPalette.ColorRole.Base: "#1b1e23", QPalette.ColorRole.AlternateBase: "#262a31",
            QPalette.ColorRole.Text: "#e6e9ef", QPalette.ColorRole.Button: "#2c3038",
            QPalette.ColorRole.ButtonText: "#e6e9ef", QPalette.ColorRole.Highlight: "#3d7be0",
            QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#2c3038",
            QPalette.ColorRole.ToolTipText: "#e6e9ef", QPalette.ColorRole.PlaceholderText: "#8a93a3",
            QPalette.ColorRole.Link: "#7fb0ff", QPalette.ColorRole.Mid: "#3a3f49",
            QPalette.ColorRole.Dark: "#16181c", QPalette.ColorRole.Light: "#3a404b",
        }
    else:
        roles = {
            QPalette.ColorRole.Window: "#f3f4f6", QPalette.ColorRole.WindowText: "#1d2430",
            QPalette.ColorRole.Base: "#ffffff", QPalette.ColorRole.AlternateBase: "#f5f7fa",
            QPalette.ColorRole.Text: "#1d2430", QPalette.ColorRole.Button: "#f7f8fa",
            QPalette.ColorRole.ButtonText: "#1d2430", QPalette.ColorRole.Highlight: "#2f6fde",
            QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#ffffff",
            QPalette.ColorRole.ToolTipText: "#1d2430", QPalette.ColorRole.PlaceholderText: "#8a93a3",
            QPalette.ColorRole.Link: "#2f6fde", QPalette.ColorRole.Mid: "#c9ced6",
            QPalette.ColorRole.Dark: "#a0a7b2", QPalette.ColorRole.Light: "#ffffff",
        }
    for role, colour in roles.items():
        pal.setColor(role, QColor(colour))
    disabled = QColor("#6b7280") if kind == "dark" else QColor("#9aa1ab")
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText,
                 QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return pal


#: Colours of named widgets (``setObjectName``) per look: muted hints, errors.
NAMED_COLOURS = {
    "light": {"muted": "#5b6575", "inspectorError": "#c23b3b", "statusError": "#c23b3b"},
    "dark": {"muted": "#a5adbb", "inspectorError": "#ff7b7b", "statusError": "#ff7b7b"},
}
#: The palette search field: a rounded box (a style sheet on that one widget only).
SEARCH_FIELD = {
    "light": "QLineEdit { padding: 4px 6px; border: 1px solid #c9ced6; border-radius: 4px; "
             "background: #ffffff; }",
    "dark": "QLineEdit { padding: 4px 6px; border: 1px solid #3a3f49; border-radius: 4px; "
            "background: #1b1e23; }",
}
#: The frame drawn round check boxes in the dark look.
DARK_CHECK_FRAME = "#8a93a3"
MONOSPACE = ("DejaVu Sans Mono", "Menlo", "Consolas", "Courier New", "monospace")


class ThemeStyle(QProxyStyle):
    """Fusion with the look's touches on named widgets (applied when a widget is polished)."""

    def __init__(self, kind: str) -> None:
        super().__init__(QStyleFactory.create("Fusion"))
        self.kind = kind
        self._frame = QColor(DARK_CHECK_FRAME)

    def polish(self, arg):  # noqa: D102 - Qt override (widget, palette or application)
        result = super().polish(arg)
        if isinstance(arg, QWidget):
            self._touch(arg)
        return result

    def _touch(self, widget: QWidget) -> None:
        name = widget.objectName()
        colour = NAMED_COLOURS[self.kind].get(name)
        if colour is not None and isinstance(widget, QLabel):
            pal = widget.palette()
            pal.setColor(QPalette.ColorRole.WindowText, QColor(colour))
            widget.setPalette(pal)
        elif name == "inspectorTitle" and isinstance(widget, QLabel):
            font = widget.font()
            font.setWeight(QFont.Weight.DemiBold)
            font.setPointSizeF(11.0)
            widget.setFont(font)
        elif name == "paletteSearch" and isinstance(widget, QLineEdit):
            sheet = SEARCH_FIELD[self.kind]
            if widget.styleSheet() != sheet:
                widget.setStyleSheet(sheet)
        elif name == "codeView" and isinstance(widget, QPlainTextEdit):
            font = widget.font()
            if font.families()[:1] != [MONOSPACE[0]]:
                font.setFamilies(list(MONOSPACE))
                font.setStyleHint(QFont.StyleHint.Monospace)
                widget.setFont(font)

    def drawPrimitive(self, element, option, painter, widget=None) -> None:  # noqa: N802
        super().drawPrimitive(element, option, painter, widget)
        if self.kind == "dark" and element in (
                QStyle.PrimitiveElement.PE_IndicatorCheckBox,
                QStyle.PrimitiveElement.PE_IndicatorItemViewItemCheck):
            painter.save()
            painter.setPen(self._frame)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(option.rect.adjusted(0, 0, -1, -1))
            painter.restore()


def apply_theme(app: QApplication, theme: str) -> str:
    """Apply a theme setting to the application; returns the resolved kind."""
    global _STYLE
    kind = resolve(theme)
    app.setPalette(palette(kind))
    _STYLE = ThemeStyle(kind)  # kept referenced: the application does not own it for Python
    app.setStyle(_STYLE)  # every widget is polished again: the touches follow
    return kind


_STYLE: ThemeStyle | None = None


def canvas_colors(kind: str) -> CanvasColors:
    return DARK if kind == "dark" else LIGHT


#: Toolbar glyphs (24-unit SVG paths) and their colour: a role of the look's palette or a
#: fixed colour that reads on both looks.
GLYPHS = {
    "run": ('<path d="M7 4.5v15l12.5-7.5z"/>', "#2e9e5b"),
    "pause": ('<rect x="6" y="5" width="4" height="14" rx="1"/>'
              '<rect x="14" y="5" width="4" height="14" rx="1"/>', "text"),
    "stop": ('<rect x="6" y="6" width="12" height="12" rx="1.5"/>', "#d64545"),
    "undo": ('<path d="M9 5 3.5 10 9 15v-3.2c4.5 0 7.6 1.3 9.8 4.7-.6-5-3.6-8.4-9.8-8.9z"/>',
             "text"),
    "redo": ('<path d="M15 5l5.5 5-5.5 5v-3.2c-4.5 0-7.6 1.3-9.8 4.7.6-5 3.6-8.4 9.8-8.9z"/>',
             "text"),
}


def glyph(name: str, kind: str) -> QIcon:
    """A toolbar icon drawn for the look (the platform's media icons are black, which
    vanished on the dark toolbar)."""
    shape, colour = GLYPHS[name]
    if colour == "text":
        colour = palette(kind).color(QPalette.ColorRole.WindowText).name()
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" '
           f'viewBox="0 0 24 24" fill="{colour}">{shape}</svg>')
    pixmap = QPixmap()
    pixmap.loadFromData(svg.encode(), "SVG")
    result = QIcon(pixmap)
    disabled = QColor(colour)
    disabled.setAlpha(90)
    faded = QPixmap()
    faded.loadFromData(svg.replace(f'fill="{colour}"', f'fill="{disabled.name()}" '
                                   f'fill-opacity="0.35"').encode(), "SVG")
    result.addPixmap(faded, QIcon.Mode.Disabled)
    return result


_ICON_CACHE: dict[str, QIcon] = {}


def icon(name: str) -> QIcon:
    """An icon from resources/icons (an empty icon if it cannot be read)."""
    if name in _ICON_CACHE:
        return _ICON_CACHE[name]
    result = QIcon()
    source = resources.files("resources") / "icons" / name
    if isinstance(source, Path) and source.is_file():
        result = QIcon(str(source))  # the SVG icon engine scales crisply at any DPI
    else:
        try:
            data = source.read_bytes()
        except OSError:
            data = b""
        pixmap = QPixmap()
        if data and pixmap.loadFromData(data, "SVG"):
            result = QIcon(pixmap)
    _ICON_CACHE[name] = result
    return result
