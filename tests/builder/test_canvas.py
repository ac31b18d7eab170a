"""The canvas: palette drops, connecting ports with the mouse, moving, clipboard, layout, zoom."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from builder.canvas.edge_item import EdgeItem
from builder.canvas.node_item import NodeItem
from builder.canvas.port_item import INVALID, NEUTRAL, VALID
from builder.palette import mime_for
from graph.events import Edge
from graph.sketch import Sketch
from tests.builder.conftest import mouse_drag


def _drop(view, mime, point: QPoint) -> QDropEvent:
    viewport = view.viewport()
    actions = Qt.DropAction.CopyAction
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(point, actions, mime, buttons, mods)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    move = QDragMoveEvent(point, actions, mime, buttons, mods)
    QApplication.sendEvent(viewport, move)
    assert move.isAccepted()
    drop = QDropEvent(QPointF(point), actions, mime, buttons, mods)
    QApplication.sendEvent(viewport, drop)
    return drop


def test_palette_drag_places_a_layer_under_the_cursor(window):
    view, doc = window.view, window.controller.doc
    point = QPoint(300, 200)
    drop = _drop(view, mime_for("Dense"), point)
    assert drop.isAccepted()
    assert len(doc) == 1
    node_id = doc.node_ids()[0]
    assert doc.attr(node_id, "type") == "Dense"
    item = window.scene.nodes[node_id]
    assert item.sceneBoundingRect().contains(view.mapToScene(point))
    assert window.scene.selected_node_ids() == [node_id]
    assert window.inspector.node_ids == [node_id]


def test_palette_drop_of_unknown_data_is_refused(window):
    from PySide6.QtCore import QMimeData

    mime = QMimeData()
    mime.setData("application/x-netcanvas-layer", b"NoSuchLayer")
    enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window.view.viewport(), enter)
    assert not enter.isAccepted()
    assert len(window.controller.doc) == 0


def test_palette_search_and_double_click(window):
    shown = window.palette.filter("convtr")
    assert shown == ["ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]
    assert window.palette.visible_types() == shown
    window.palette.filter("")
    tooltip = window.palette.item_for("Dense").toolTip(0)
    assert "Fully connected" in tooltip and "units" in tooltip
    item = window.palette.item_for("Dropout")
    window.palette.tree.itemActivated.emit(item, 0)
    doc = window.controller.doc
    assert [doc.attr(n, "type") for n in doc.node_ids()] == ["Dropout"]
    centre = window.view.mapToScene(window.view.viewport().rect().center())
    assert window.scene.nodes[doc.node_ids()[0]].sceneBoundingRect().contains(centre)


def _two_layers(window):
    c = window.controller
    a = c.add_layer("Input", (0, 0))
    b = c.add_layer("Dense", (300, 0))
    window.scene.clearSelection()
    return a, b


def test_connect_two_ports_with_the_mouse(window):
    a, b = _two_layers(window)
    scene = window.scene
    out_port = scene.nodes[a].port_pos("out", 0)
    in_port = scene.nodes[b].port_pos("in", 0)
    mouse_drag(window.view, out_port, in_port)
    doc = window.controller.doc
    assert doc.edges() == [Edge(a, 0, b, 0)]
    assert set(scene.edges) == {Edge(a, 0, b, 0)}
    assert window.controller.stack.count() == 3
    # the temporary line and the highlights are gone
    assert all(p.state == NEUTRAL for item in scene.nodes.values() for p in item.inputs)
    assert len([i for i in scene.items() if isinstance(i, EdgeItem)]) == 1


def test_valid_targets_are_highlighted_while_dragging(window):
    from builder.canvas.link_gesture import NewLinkGesture

    c = window.controller
    a = c.add_layer("Input", (0, 0))
    b = c.add_layer("Dense", (300, 0))
    d = c.add_layer("Dense", (600, 0))
    c.connect_ports(Edge(a, 0, b, 0))
    c.connect_ports(Edge(b, 0, d, 0))
    scene = window.scene
    gesture = NewLinkGesture(scene, scene.nodes[d].outputs[0])
    gesture.start()
    assert scene.nodes[b].inputs[0].state == INVALID  # occupied and upstream
    assert scene.nodes[d].inputs[0].state == INVALID  # itself
    gesture.cancel()
    gesture = NewLinkGesture(scene, scene.nodes[a].outputs[0])
    e = c.add_layer("Dense", (600, 200))
    gesture.start()
    assert scene.nodes[e].inputs[0].state == VALID
    gesture.cancel()


def test_a_cycle_is_refused_with_the_reason_in_the_status_bar(window):
    c = window.controller
    b = c.add_layer("Dense", (0, 0))
    d = c.add_layer("Dense", (300, 0))
    c.connect_ports(Edge(b, 0, d, 0))
    count = c.stack.count()
    scene = window.scene
    mouse_drag(window.view, scene.nodes[d].port_pos("out", 0), scene.nodes[b].port_pos("in", 0))
    assert c.doc.edges() == [Edge(b, 0, d, 0)]
    assert c.stack.count() == count
    message = window.statusBar().currentMessage()
    assert "cycle" in message and "dense_1" in message


def test_dragging_a_selection_is_one_undo_step(window):
    c = window.controller
    ids = [c.add_layer("Dense", (0, 100.0 * i)) for i in range(3)]
    window.scene.select_nodes(ids)
    before = {n: c.doc.attr(n, "pos") for n in ids}
    count = c.stack.count()
    item = window.scene.nodes[ids[0]]
    start = item.mapToScene(QPointF(80, 30))
    mouse_drag(window.view, start, start + QPointF(200, 60), steps=6)
    assert c.stack.count() == count + 1
    moved = {n: c.doc.attr(n, "pos") for n in ids}
    assert all(moved[n] != before[n] for n in ids)
    dx = moved[ids[0]][0] - before[ids[0]][0]
    assert all(abs(moved[n][0] - before[n][0] - dx) < 1e-6 for n in ids)
    c.stack.undo()
    assert {n: c.doc.attr(n, "pos") for n in ids} == before
    assert all((window.scene.nodes[n].pos().x(), window.scene.nodes[n].pos().y()) == before[n]
               for n in ids)


def test_rubber_band_selects_nodes(window):
    c = window.controller
    a = c.add_layer("Dense", (0, 0))
    b = c.add_layer("Dense", (0, 120))
    far = c.add_layer("Dense", (900, 900))
    window.scene.clearSelection()
    window.view.reset_zoom()
    window.view.centerOn(100, 80)
    mouse_drag(window.view, QPointF(-40, -40), QPointF(200, 200))
    assert set(window.scene.selected_node_ids()) == {a, b}
    assert far not in window.scene.selected_node_ids()


def test_delete_copy_paste_duplicate(window):
    c = window.controller
    s = window.scene
    a = c.add_layer("Input", (0, 0))
    b = c.add_layer("Dense", (250, 0))
    c.connect_ports(Edge(a, 0, b, 0))
    s.select_nodes([a, b])
    window.act_copy.trigger()
    window.act_paste.trigger()
    doc = c.doc
    assert len(doc) == 4 and len(doc.edges()) == 2
    new = s.selected_node_ids()
    assert len(new) == 2 and not set(new) & {a, b}
    assert len(s.nodes) == 4 and len(s.edges) == 2
    assert len(doc.names()) == 4  # unique names
    c.stack.undo()
    assert len(doc) == 2 and len(s.nodes) == 2 and len(s.edges) == 1
    s.select_nodes([b])
    window.act_duplicate.trigger()
    assert len(doc) == 3 and len(s.nodes) == 3
    s.select_nodes([a])
    window.act_delete.trigger()
    assert a not in doc and a not in s.nodes
    assert len(doc.edges()) == 0 and len(s.edges) == 0
    c.stack.undo()
    assert a in doc and len(s.edges) == 1
    s.select_nodes([a, b])
    window.act_cut.trigger()
    assert len(doc) == 1
    window.act_paste.trigger()
    assert len(doc) == 3 and len(doc.edges()) == 1


def test_deleting_a_selected_edge(window):
    c = window.controller
    a = c.add_layer("Input", (0, 0))
    b = c.add_layer("Dense", (250, 0))
    c.connect_ports(Edge(a, 0, b, 0))
    window.scene.clearSelection()
    window.scene.edges[Edge(a, 0, b, 0)].setSelected(True)
    window.act_delete.trigger()
    assert c.doc.edges() == [] and len(c.doc) == 2


def test_auto_layout_is_one_step_and_orders_columns(window):
    c = window.controller
    s = Sketch("Chain")
    x = s.add("Input", shape=(4,), pos=(500, 500))
    h = s.add("Dense", x, units=8, pos=(0, 300))
    s.add("Output", s.add("Dense", h, units=1, pos=(-300, 0)))
    window.files.open_document(s.doc, "Chain")
    count = c.stack.count()
    window.act_layout.trigger()
    assert c.stack.count() == count + 1
    xs = [c.doc.attr(n, "pos")[0] for n in c.doc.topological_order()]
    assert xs == sorted(xs) and len(set(xs)) == 4
    for node_id, item in window.scene.nodes.items():
        assert (item.pos().x(), item.pos().y()) == c.doc.attr(node_id, "pos")
    c.stack.undo()
    assert c.doc.attr(x, "pos") == (500.0, 500.0)


def test_zoom_fit_and_level_of_detail(window, qtbot):
    c = window.controller
    for i in range(6):
        c.add_layer("Dense", (i * 400.0, 0))
    view = window.view
    view.reset_zoom()
    view.zoom_in()
    assert abs(view.zoom() - 1.25) < 1e-9
    view.zoom_out()
    assert abs(view.zoom() - 1.0) < 1e-9
    view.fit_all()
    assert view.zoom() < 1.0
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    for item in window.scene.nodes.values():
        assert visible.contains(item.sceneBoundingRect())
    view.set_zoom(0.1)
    assert view.zoom() == 0.1
    view.grab()  # paints at the far-out level of detail without errors
    from PySide6.QtGui import QWheelEvent

    z = view.zoom()
    pos = QPointF(view.viewport().rect().center())
    wheel = QWheelEvent(pos, view.viewport().mapToGlobal(pos), QPoint(), QPoint(0, 120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), wheel)
    assert view.zoom() > z


def test_snap_to_grid_while_dragging(window):
    c = window.controller
    n = c.add_layer("Dense", (0, 0))
    window.act_snap.setChecked(False)
    window.act_snap.trigger()
    assert window.scene.snap_to_grid and window.settings.snap_to_grid
    item = window.scene.nodes[n]
    start = item.mapToScene(QPointF(60, 30))
    mouse_drag(window.view, start, start + QPointF(47, 33))
    x, y = c.doc.attr(n, "pos")
    assert x % 20 == 0 and y % 20 == 0 and (x, y) != (0.0, 0.0)


def test_parameter_counts_toggle_and_error_badges(window):
    c = window.controller
    a = c.add_layer("Input", (0, 0), shape=(4,))
    b = c.add_layer("Dense", (250, 0), units=3)
    c.connect_ports(Edge(a, 0, b, 0))
    window.analysis.run_now()
    item: NodeItem = window.scene.nodes[b]
    assert item.params_text == "15 params"
    window.act_params.trigger()
    assert item.show_params and window.settings.show_params
    # Dense b feeds nothing and there is no Output: errors are pinned on nodes
    d = c.add_layer("Dense", (500, 0))
    window.analysis.run_now()
    assert window.scene.nodes[d].error
    assert window.scene.nodes[d].badge.isVisible()
    assert window.scene.nodes[d].badge.toolTip() == window.scene.nodes[d].error
