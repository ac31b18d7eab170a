"""The documentation in the app: README.md and docs/*.md rendered as Markdown in a
QTextBrowser, links between the pages followed, screenshots scaled to the window."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QImage, QTextDocument
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

PATH_ROLE = Qt.ItemDataRole.UserRole + 1


def docs_root() -> Path | None:
    """The folder that holds README.md and docs/ (the source tree), or None when this
    installation has no documentation pages."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "docs").is_dir() and (root / "README.md").is_file() else None


def page_title(path: Path) -> str:
    """A page's first heading (README: "Overview")."""
    if path.name == "README.md":
        return "Overview"
    try:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    except OSError:
        pass
    return path.stem.replace("-", " ").replace("_", " ").capitalize()


def pages(root: Path | None = None) -> list[Path]:
    root = root if root is not None else docs_root()
    if root is None:
        return []
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


class DocBrowser(QTextBrowser):
    """A QTextBrowser that shows images no wider than itself (relative to ``base``)."""

    base: Path | None = None

    def loadResource(self, kind: int, url: QUrl):  # noqa: N802 - Qt override
        if kind == QTextDocument.ResourceType.ImageResource.value:
            path = Path(url.toLocalFile()) if url.isLocalFile() else Path(url.path())
            if not path.is_absolute() and self.base is not None:
                path = self.base / path
            image = QImage(str(path))
            if not image.isNull():
                width = max(200, self.viewport().width() - 40)
                if image.width() > width:
                    image = image.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation)
                return image
        return super().loadResource(kind, url)


class DocsViewer(QDialog):
    """Pages on the left, the page on the right; relative .md links open in place."""

    def __init__(self, parent: QWidget | None = None, root: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("NetCanvas documentation")
        self.setObjectName("docsViewer")
        self.resize(1000, 720)
        self.list = QListWidget()
        self.list.setMaximumWidth(260)
        self.browser = DocBrowser()
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._link)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.list)
        splitter.addWidget(self.browser)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        row = QHBoxLayout()
        row.addWidget(splitter)
        layout.addLayout(row)
        self.root = root if root is not None else docs_root()
        for path in pages(self.root):
            item = QListWidgetItem(page_title(path))
            item.setData(PATH_ROLE, str(path))
            item.setToolTip(str(path.relative_to(self.root)) if self.root else str(path))
            self.list.addItem(item)
        self.list.currentItemChanged.connect(
            lambda item, _old: self.show_page(Path(item.data(PATH_ROLE))) if item else None)
        if self.list.count():
            self.list.setCurrentRow(0)
        else:
            self.browser.setMarkdown(
                "# Documentation\n\nThis installation of NetCanvas does not include its "
                "documentation pages. They are in the `docs/` folder and the README of the "
                "project's source.")

    def show_page(self, path: Path, anchor: str = "") -> bool:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            self.browser.setMarkdown(f"# Cannot read {path.name}\n\n{exc}")
            return False
        self.current = path
        self.browser.base = path.parent
        self.browser.setMarkdown(text)
        if anchor:
            self.browser.scrollToAnchor(anchor)
        for i in range(self.list.count()):
            item = self.list.item(i)
            if Path(item.data(PATH_ROLE)) == path and self.list.currentRow() != i:
                self.list.blockSignals(True)
                self.list.setCurrentRow(i)
                self.list.blockSignals(False)
        return True

    def _link(self, url: QUrl) -> None:
        if url.scheme() in ("http", "https", "mailto"):
            QDesktopServices.openUrl(url)
            return
        target = url.toString(QUrl.UrlFormattingOption.RemoveFragment)
        current = getattr(self, "current", None)
        if target and current is not None:
            path = (current.parent / target).resolve()
            if path.suffix == ".md" and path.is_file():
                self.show_page(path, url.fragment())
                return
            if path.is_file():
                QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
                return
        if url.fragment():
            self.browser.scrollToAnchor(url.fragment())
