"""The example gallery: the scenarios of SCENARIOS.md, one click from a working design."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from builder.theme import CATEGORY_COLORS
from graph.catalogue import get_spec
from graph.document import Document
from graph.errors import GraphError
from graph.examples import ExampleInfo, list_examples, load_example


class DesignPreview(QWidget):
    """A thumbnail of a design: its layers as boxes coloured by category, its connections."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(300, 170)
        self._doc: Document | None = None

    def set_document(self, doc: Document | None) -> None:
        self._doc = doc
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        painter.fillRect(self.rect(), pal.base())
        doc = self._doc
        if doc is None or not len(doc):
            painter.end()
            return
        pos = {n: doc.attr(n, "pos") for n in doc.node_ids()}
        xs = [p[0] for p in pos.values()]
        ys = [p[1] for p in pos.values()]
        box_w, box_h, margin = 150.0, 56.0, 12.0
        span_w = max(xs) - min(xs) + box_w
        span_h = max(ys) - min(ys) + box_h
        scale = min((self.width() - 2 * margin) / span_w,
                    (self.height() - 2 * margin) / span_h, 0.6)
        off_x = (self.width() - span_w * scale) / 2 - min(xs) * scale
        off_y = (self.height() - span_h * scale) / 2 - min(ys) * scale

        def rect(node: str) -> QRectF:
            x, y = pos[node]
            return QRectF(off_x + x * scale, off_y + y * scale, box_w * scale, box_h * scale)

        edge_pen = QPen(pal.text().color())
        edge_pen.setWidthF(1.2)
        edge_color = QColor(edge_pen.color())
        edge_color.setAlpha(140)
        edge_pen.setColor(edge_color)
        painter.setPen(edge_pen)
        for edge in doc.edges():
            a, b = rect(edge.src), rect(edge.dst)
            start, end = QPointF(a.right(), a.center().y()), QPointF(b.left(), b.center().y())
            path = QPainterPath(start)
            dx = (end.x() - start.x()) / 2
            path.cubicTo(start + QPointF(dx, 0), end - QPointF(dx, 0), end)
            painter.drawPath(path)
        for node in doc.node_ids():
            r = rect(node)
            color = QColor(CATEGORY_COLORS.get(get_spec(doc.attr(node, "type")).category,
                                               "#888888"))
            fill = QColor(color)
            fill.setAlpha(60)
            painter.setPen(QPen(color, 1.2))
            painter.setBrush(fill)
            painter.drawRoundedRect(r, 3, 3)
        if box_w * scale >= 48:
            font = painter.font()
            font.setPointSizeF(max(6.5, min(9.0, 11 * scale)))
            painter.setFont(font)
            painter.setPen(pal.text().color())
            for node in doc.node_ids():
                r = rect(node).adjusted(3, 0, -3, 0)
                text = painter.fontMetrics().elidedText(doc.attr(node, "name"),
                                                        Qt.TextElideMode.ElideRight, int(r.width()))
                painter.drawText(r, Qt.AlignmentFlag.AlignCenter, text)
        painter.end()

NAME_ROLE = Qt.ItemDataRole.UserRole + 3


class GalleryDialog(QDialog):
    """Pick an example (or an empty canvas); emits `exampleChosen(name)` / `emptyChosen()`."""

    exampleChosen = Signal(str)
    emptyChosen = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Examples — NetCanvas")
        self.resize(860, 540)
        intro = QLabel("Start from an example of the textbook scenarios, or from an empty "
                       "canvas. The gallery stays in File ▸ Examples.", self)
        intro.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setWordWrap(True)
        self.list.setSpacing(3)
        self.list.setIconSize(QSize(0, 0))
        self._infos: dict[str, ExampleInfo] = {}
        for info in list_examples():
            self._infos[info.name] = info
            item = QListWidgetItem(info.title)
            item.setData(NAME_ROLE, info.name)
            item.setToolTip(info.description)
            font = item.font()
            font.setBold(True)
            item.setFont(font)
            item.setSizeHint(QSize(0, 30))
            self.list.addItem(item)
        self.list.setMinimumWidth(290)
        self.preview = DesignPreview(self)
        self.title = QLabel(self)
        self.title.setObjectName("galleryTitle")
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.title.setFont(font)
        self.details = QLabel(self)
        self.details.setWordWrap(True)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.list.currentItemChanged.connect(self._show_current)
        if self.list.count():
            self.list.setCurrentRow(0)
        buttons = QDialogButtonBox(self)
        self.open_button = QPushButton("Open example", self)
        self.open_button.setDefault(True)
        self.empty_button = QPushButton("Empty canvas", self)
        buttons.addButton(self.open_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.empty_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.open_button.clicked.connect(self.choose_current)
        self.empty_button.clicked.connect(self._choose_empty)
        self.list.itemActivated.connect(lambda _item: self.choose_current())
        side = QVBoxLayout()
        side.addWidget(self.title)
        side.addWidget(self.preview, 3)
        side.addWidget(self.details, 2)
        body = QHBoxLayout()
        body.addWidget(self.list, 2)
        body.addLayout(side, 3)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(body, 1)
        layout.addWidget(buttons)

    def _show_current(self, item: QListWidgetItem | None, _previous=None) -> None:
        if item is None:
            return
        info = self._infos[item.data(NAME_ROLE)]
        self.title.setText(info.title)
        try:
            doc = load_example(info.name)
        except GraphError as exc:
            self.preview.set_document(None)
            self.details.setText(exc.message)
            return
        self.preview.set_document(doc)
        data = doc.section("data")
        training = doc.section("training")
        layers = sum(1 for n in doc.node_ids() if doc.attr(n, "type") not in ("Input", "Output"))
        facts = [_count(layers, "layer"), _count(len(doc.inputs()), "input"),
                 _count(len(doc.outputs()), "output")]
        if data.get("dataset"):
            facts.append(f"data: {data['dataset']}")
        if training.get("optimizer"):
            facts.append(f"{training['optimizer']} lr {training.get('lr', '?')}, "
                         f"{training.get('epochs', '?')} epochs")
        self.details.setText(f"<p>{_escape(info.description)}</p>"
                             f"<p style='color: gray'>{_escape(' · '.join(facts))}</p>")

    def names(self) -> list[str]:
        return [self.list.item(i).data(NAME_ROLE) for i in range(self.list.count())]

    def choose(self, name: str) -> None:
        self.accept()
        self.exampleChosen.emit(name)

    def choose_current(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.choose(item.data(NAME_ROLE))

    def _choose_empty(self) -> None:
        self.reject()
        self.emptyChosen.emit()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
