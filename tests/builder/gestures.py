"""Real user gestures for the app tests (palette, canvas, context menus), each counted.

`Gestures` sends Qt events the way a person's mouse and keyboard do and counts them, so a test
can say how many gestures a task takes (a click, a double-click, a drag, one key or shortcut,
or a value typed into a field and confirmed with Enter each count one).
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu

from tests.builder.conftest import mouse_drag

LEFT, NONE = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier


class Gestures:
    def __init__(self, window) -> None:
        self.window = window
        self.count = 0
        self.log: list[str] = []

    def _note(self, what: str) -> None:
        self.count += 1
        self.log.append(what)

    # --- palette ---------------------------------------------------------------------------
    def palette_double_click(self, type_name: str) -> None:
        tree = self.window.palette.tree
        item = self.window.palette.item_for(type_name)
        tree.scrollToItem(item)
        point = tree.visualItemRect(item).center()
        # a double-click is press, release, double-click, release (QTest's mouseDClick
        # sends only the second half)
        QTest.mouseClick(tree.viewport(), LEFT, NONE, point)
        QTest.mouseDClick(tree.viewport(), LEFT, NONE, point)
        QTest.mouseRelease(tree.viewport(), LEFT, NONE, point)  # the button is up again
        self._note(f"double-click {type_name} in the palette")

    def palette_block(self, block_id: str) -> None:
        """Double-click a block of the design in the palette's Blocks group."""
        tree = self.window.palette.tree
        item = self.window.palette.block_item(block_id)
        tree.scrollToItem(item)
        point = tree.visualItemRect(item).center()
        QTest.mouseClick(tree.viewport(), LEFT, NONE, point)
        QTest.mouseDClick(tree.viewport(), LEFT, NONE, point)
        QTest.mouseRelease(tree.viewport(), LEFT, NONE, point)
        self._note(f"double-click block {item.text(0)} in the palette")

    def double_click_node(self, node_id: str) -> None:
        view = self.window.view
        item = self.window.scene.nodes[node_id]
        view.ensureVisible(item, 20, 20)
        point = view.mapFromScene(item.mapToScene(QPointF(60, 14)))
        QTest.mouseClick(view.viewport(), LEFT, NONE, point)
        QTest.mouseDClick(view.viewport(), LEFT, NONE, point)
        QTest.mouseRelease(view.viewport(), LEFT, NONE, point)
        self._note(f"double-click {node_id}")

    def palette_enter(self, type_name: str | None = None) -> None:
        """Enter on the palette's current item (``type_name``: click it first, one more)."""
        tree = self.window.palette.tree
        if type_name is None and not tree.hasFocus():
            type_name = tree.currentItem().data(0, Qt.ItemDataRole.UserRole + 1)
        if type_name is not None:  # click it first (it also gives the palette the focus)
            item = self.window.palette.item_for(type_name)
            tree.scrollToItem(item)
            QTest.mouseClick(tree.viewport(), LEFT, NONE, tree.visualItemRect(item).center())
            self._note(f"click {type_name} in the palette")
        QTest.keyClick(tree, Qt.Key.Key_Return)
        self._note("Enter in the palette")

    # --- canvas ----------------------------------------------------------------------------
    def click_node(self, node_id: str, modifier=NONE) -> None:
        view = self.window.view
        item = self.window.scene.nodes[node_id]
        view.ensureVisible(item, 20, 20)
        point = view.mapFromScene(item.mapToScene(QPointF(60, 14)))
        QTest.mouseClick(view.viewport(), LEFT, modifier, point)
        self._note(f"click {node_id}")

    def wire(self, src: str, dst: str, port: int = 0) -> None:
        scene = self.window.scene
        mouse_drag(self.window.view, scene.nodes[src].port_pos("out", 0),
                   scene.nodes[dst].port_pos("in", port))
        self._note(f"drag {src} → {dst}")

    def key(self, widget, key, modifier=NONE) -> None:
        QTest.keyClick(widget, key, modifier)
        self._note(f"key {key}")

    def context_menu(self, scene_pos: QPointF, *path: str) -> bool:
        """Right-click at ``scene_pos`` and choose the entry ``path`` (through submenus)."""
        view = self.window.view
        point = view.mapFromScene(scene_pos)
        chosen: list[bool] = []

        def pick() -> None:
            menu = QApplication.activePopupWidget()
            if not isinstance(menu, QMenu):
                QTimer.singleShot(10, pick)
                return
            top, current = menu, menu
            for i, text in enumerate(path):
                action = next((a for a in current.actions()
                               if a.text().replace("&", "") == text), None)
                if action is None:
                    break
                if i == len(path) - 1:
                    top.close()
                    action.trigger()
                    chosen.append(True)
                    return
                current = action.menu()
                if current is None:
                    break
            top.close()

        QTimer.singleShot(0, pick)
        event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, point,
                                  view.viewport().mapToGlobal(point))
        QApplication.sendEvent(view.viewport(), event)
        # right-click, then one click per menu level
        self.count += 1 + len(path)
        self.log.append(f"right-click, {' ▸ '.join(path)}")
        return bool(chosen)

    def click_tab(self, tabs, title: str) -> None:
        bar = tabs.tabBar()
        index = next(i for i in range(bar.count()) if bar.tabText(i).startswith(title))
        QTest.mouseClick(bar, LEFT, NONE, bar.tabRect(index).center())
        self._note(f"click the {title} tab")

    def choose(self, combo, text: str) -> None:
        """Pick an entry of a combo box: click it, type the entry's first letters (two
        gestures; the list's own popup ignores clicks for a moment after it opens)."""
        assert combo.findText(text) >= 0, [combo.itemText(i) for i in range(combo.count())]
        QTest.mouseClick(combo, LEFT, NONE, combo.rect().center())
        popup = combo.view()
        if popup.isVisible():
            combo.hidePopup()
        combo.setFocus()
        QTest.keyClicks(combo, text[:4])
        assert combo.currentText() == text
        self.count += 2
        self.log.append(f"choose {text}")

    def shortcut(self, sequence: str) -> None:
        """A keyboard shortcut on the window (one gesture)."""
        from PySide6.QtGui import QKeySequence

        combo = QKeySequence(sequence)[0]
        # keys go to the active window (offscreen, a closed popup can leave none active)
        self.window.activateWindow()
        QApplication.processEvents()
        QTest.keyClick(self.window, combo.key(), combo.keyboardModifiers())
        self._note(sequence)

    def toolbar(self, action) -> None:
        """Click an action's toolbar button."""
        button = self.window.toolbar.widgetForAction(action)
        assert button is not None and button.isVisible() and button.isEnabled(), action.text()
        QTest.mouseClick(button, LEFT, NONE, button.rect().center())
        self._note(f"toolbar {action.iconText()}")

    def scroll_to(self, scroll_area, widget) -> None:
        """Scroll ``scroll_area`` until ``widget`` is in view (one wheel gesture)."""
        scroll_area.ensureWidgetVisible(widget, 0, 0)
        self._note(f"scroll to {widget.objectName() or type(widget).__name__}")

    def drag_columns(self, picker, input_name: str, first: int, last: int) -> None:
        """Drag down an Input's check column of the column picker, rows ``first``–``last``."""
        viewport = picker.viewport()
        a = picker.visualRect(picker.check_cell(first, input_name)).center()
        b = picker.visualRect(picker.check_cell(last, input_name)).center()
        assert viewport.rect().contains(a) and viewport.rect().contains(b), "rows not in view"
        QTest.mousePress(viewport, LEFT, NONE, a)
        for i in range(1, 5):
            QTest.mouseMove(viewport, a + (b - a) * (i / 4))
        QTest.mouseRelease(viewport, LEFT, NONE, b)
        self._note(f"drag columns {first}-{last} to {input_name}")

    # --- fields ----------------------------------------------------------------------------
    def type_into(self, line_edit, text: str) -> None:
        """Click into a field, replace its text, press Enter (two gestures)."""
        QTest.mouseClick(line_edit, LEFT, NONE, QPoint(5, line_edit.height() // 2))
        line_edit.selectAll()
        QTest.keyClicks(line_edit, text)
        QTest.keyClick(line_edit, Qt.Key.Key_Return)
        self.count += 2
        self.log.append(f"type {text!r}")
