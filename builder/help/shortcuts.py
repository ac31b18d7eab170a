"""The shortcut sheet, generated from the window's actual QActions (menus and toolbar), plus the
canvas gestures that are not actions."""

from __future__ import annotations

import html
from collections.abc import Iterator

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QMenu, QMenuBar, QTextBrowser, QVBoxLayout, QWidget

#: Mouse and keyboard gestures of the canvas and palette that no menu holds.
GESTURES = (
    ("Double-click or Enter on a palette layer", "insert it after the selected layer, wired"),
    ("Drag from an output port to an input port", "connect"),
    ("Right-click a layer, connection, port or the canvas", "what can be done there"),
    ("Ctrl + click", "add a layer to the selection (several feed a merge layer in order)"),
    ("Wheel / Ctrl + wheel", "zoom; Shift + wheel scrolls"),
    ("Space + drag, or middle-button drag", "pan"),
    ("Esc", "cancel a connection being drawn"),
)


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").strip()


def menu_shortcuts(bar: QMenuBar) -> Iterator[tuple[str, str, str]]:
    """(menu path, action text, shortcuts) for every action with a shortcut, in menu order."""
    seen: set[int] = set()

    def walk(menu: QMenu, path: str) -> Iterator[tuple[str, str, str]]:
        for action in menu.actions():
            sub = action.menu()
            if sub is not None:
                yield from walk(sub, f"{path} ▸ {_plain(action.text())}")
                continue
            keys = [k.toString(QKeySequence.SequenceFormat.NativeText)
                    for k in action.shortcuts() if not k.isEmpty()]
            if keys and id(action) not in seen:
                seen.add(id(action))
                yield path, _plain(action.text()), ", ".join(keys)

    for top in bar.actions():
        if top.menu() is not None:
            yield from walk(top.menu(), _plain(top.text()))


def sheet_html(window: QWidget) -> str:
    rows = []
    current = None
    for path, text, keys in menu_shortcuts(window.menuBar()):
        if path != current:
            rows.append(f"<tr><td colspan=2><h3>{html.escape(path)}</h3></td></tr>")
            current = path
        rows.append(f"<tr><td>{html.escape(text)}</td><td><b>{html.escape(keys)}</b></td></tr>")
    others = [a for a in window.findChildren(QAction) if a.shortcuts() and not a.menu()
              and not any(w.__class__.__name__ in ("QMenu", "QMenuBar")
                          for w in a.associatedObjects())]
    if others:
        rows.append("<tr><td colspan=2><h3>Other</h3></td></tr>")
        for action in others:
            keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText)
                             for k in action.shortcuts())
            rows.append(f"<tr><td>{html.escape(_plain(action.text()))}</td>"
                        f"<td><b>{html.escape(keys)}</b></td></tr>")
    rows.append("<tr><td colspan=2><h3>Canvas and palette</h3></td></tr>")
    for gesture, what in GESTURES:
        rows.append(f"<tr><td><b>{html.escape(gesture)}</b></td><td>{html.escape(what)}</td></tr>")
    return ("<table cellspacing=0 cellpadding=4 width='100%'>" + "".join(rows) + "</table>")


class ShortcutSheet(QDialog):
    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        self.setObjectName("shortcutSheet")
        self.resize(620, 720)
        self.browser = QTextBrowser(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        self.refresh(window)

    def refresh(self, window: QWidget) -> None:
        self.browser.setHtml(sheet_html(window))
