"""One-gesture editing on the canvas: palette double-click / Enter inserts after the selection and
wires it; right-click menus on the canvas, a layer, a connection and a port."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRectF

from graph.events import Edge
from tests.builder.gestures import Gestures


def _counts(window):
    doc, scene = window.controller.doc, window.scene
    assert set(scene.nodes) == set(doc.node_ids())
    assert set(scene.edges) == set(doc.edges())
    return len(doc), len(doc.edges())


def test_palette_double_click_and_enter_build_a_wired_chain(window):
    g = Gestures(window)
    doc, stack = window.controller.doc, window.controller.stack
    g.palette_double_click("Input")  # nothing selected: at the centre of the view
    assert _counts(window) == (1, 0)
    (x,) = doc.node_ids()
    g.palette_double_click("Dense")  # after the selected Input, wired, with a ReLU
    assert _counts(window) == (2, 1)
    d1 = window.scene.selected_node_ids()[0]
    assert doc.in_edges(d1) == [Edge(x, 0, d1, 0)]
    assert doc.attr(d1, "params")["activation"] == "relu"
    g.palette_enter()  # Enter repeats the current palette item after the new selection
    d2 = window.scene.selected_node_ids()[0]
    assert d2 != d1 and doc.in_edges(d2) == [Edge(d1, 0, d2, 0)]
    g.palette_enter("Output")
    assert _counts(window) == (4, 3)
    assert doc.attr(d2, "params")["activation"] == "none"  # the head of the Output is linear
    assert g.count == 5
    # each insert was one undo step: node, connection and suggested parameters together
    stack.undo()
    assert _counts(window) == (3, 2) and doc.attr(d2, "params")["activation"] == "relu"
    stack.undo()
    stack.undo()
    assert _counts(window) == (1, 0)
    # the new layers are placed along the flow, never on top of each other
    for _ in range(3):
        stack.redo()
    xs = [doc.attr(n, "pos")[0] for n in (x, d1, d2)]
    assert xs == sorted(xs) and len(set(xs)) == 3


def test_selecting_two_layers_then_a_merge_wires_both_in_drawing_order(window):
    g = Gestures(window)
    c, doc = window.controller, window.controller.doc
    a = c.add_layer("Input", (0, 0))
    b = c.add_layer("Input", (0, 200))
    g.click_node(b)
    from PySide6.QtCore import Qt

    g.click_node(a, Qt.KeyboardModifier.ControlModifier)
    assert sorted(window.scene.selected_node_ids()) == sorted([a, b])
    g.palette_double_click("Concatenate")
    (cat,) = [n for n in doc.node_ids() if doc.attr(n, "type") == "Concatenate"]
    assert [e.src for e in doc.in_edges(cat)] == [a, b]  # the top one is input 1


def test_an_input_double_clicked_with_a_merge_selected_feeds_its_free_port(window):
    g = Gestures(window)
    c, doc = window.controller, window.controller.doc
    b = c.add_layer("Input", (0, 200))
    cat = c.add_layer("Concatenate", (300, 100))
    c.connect_ports(Edge(b, 0, cat, 0))
    g.click_node(cat)
    g.palette_double_click("Input")
    new = window.scene.selected_node_ids()[0]
    assert doc.edge_into(cat, 1) == Edge(new, 0, cat, 1)


def test_right_click_menus_insert_replace_disconnect_and_delete(window):
    g = Gestures(window)
    c, doc, scene = window.controller, window.controller.doc, window.scene
    x = c.add_layer("Input", (0, 0))
    out = c.add_layer("Output", (440, 0))
    c.connect_ports(Edge(x, 0, out, 0))
    scene.clearSelection()
    # on the connection: insert a layer into it
    edge_item = scene.edges[Edge(x, 0, out, 0)]
    assert g.context_menu(edge_item.path().pointAtPercent(0.5), "Insert layer here", "Core",
                          "Dense")
    assert _counts(window) == (3, 2)
    (d,) = [n for n in doc.node_ids() if doc.attr(n, "type") == "Dense"]
    assert doc.attr(d, "params")["activation"] == "none"  # it feeds the Output
    # on the layer: replace its type (connections kept), then disconnect it
    centre = scene.nodes[d].sceneBoundingRect().center()
    assert g.context_menu(centre, "Replace with", "Regularization", "Dropout")
    assert doc.attr(d, "type") == "Dropout" and _counts(window) == (3, 2)
    assert g.context_menu(centre, "Disconnect")
    assert _counts(window) == (3, 0)
    c.stack.undo()
    assert _counts(window) == (3, 2)
    # on a port: insert after this output
    port = scene.nodes[x].port_pos("out", 0)
    assert g.context_menu(port, f"Insert after {doc.label(x)} (output 0)", "Activation", "ReLU")
    assert _counts(window) == (4, 3)
    # on the empty canvas: add a layer where the mouse is
    assert g.context_menu(QPointF(300, 400), "Add layer here", "Core", "Flatten")
    assert _counts(window) == (5, 3)
    flat = window.scene.selected_node_ids()[0]
    assert scene.nodes[flat].sceneBoundingRect().contains(QPointF(300, 400))
    # Delete from the layer's menu
    assert g.context_menu(scene.nodes[flat].sceneBoundingRect().center(), "Delete")
    assert _counts(window) == (4, 3)


def test_the_menu_offers_only_types_that_fit_and_providers_add_entries(window):
    c, scene = window.controller, window.scene
    x = c.add_layer("Input", (0, 0))
    menus = scene.menus
    target = menus.target_at(scene.nodes[x].sceneBoundingRect().center())
    assert target.kind == "node" and target.node_id == x
    menu = menus.menu_for(target)
    texts = [a.text() for a in menu.actions()]
    assert not any(t.startswith("Insert before") for t in texts)  # an Input has no input
    after = next(a.menu() for a in menu.actions() if a.text().startswith("Insert after"))
    offered = {t.text() for cat in after.actions() if cat.menu() for t in cat.menu().actions()}
    assert "Input" not in offered and "Dense" in offered and "Output" in offered
    assert "Quick fixes" not in [a.text() for a in menu.actions()]  # no dead entry
    fixed = []
    menus.add_provider(lambda t: [("Make it better", lambda: fixed.append(t.node_id))]
                       if t.kind == "node" else [])
    menu = menus.menu_for(target)
    texts = [a.text() for a in menu.actions()]
    assert texts[0] == "Quick fixes" and texts[1] == "Make it better"
    menu.actions()[1].trigger()
    assert fixed == [x]


def _card(item):
    r = item.mapRectToScene(item.card_rect())
    return (r.left() + 1, r.top() + 1, r.right() - 1, r.bottom() - 1)


def test_edges_go_around_layers_and_labels_never_overlap(window):
    from builder.canvas.routing import crosses
    from graph.examples import list_examples

    scene = window.scene
    for info in list_examples():
        window.open_example(info.name)
        window.analysis.start()
        window.analysis.run_now()
        scene.flush_routes()
        cards = {n: _card(item) for n, item in scene.nodes.items()}
        for edge, item in scene.edges.items():
            for node_id, box in cards.items():
                if node_id not in (edge.src, edge.dst):
                    assert not crosses(item.points, box), (info.name, edge, node_id)
        shown = [(e, i.label_rect()) for e, i in scene.edges.items() if i.label_visible()]
        assert shown, info.name
        for k, (edge, rect) in enumerate(shown):
            for other, rect2 in shown[k + 1:]:
                assert not rect.intersects(rect2), (info.name, edge, other)
            for box in cards.values():
                assert not rect.intersects(QRectF(box[0], box[1], box[2] - box[0],
                                                  box[3] - box[1])), (info.name, edge)


def test_a_label_without_room_shows_on_hover(window):
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    window.open_example("wide_and_deep")
    window.analysis.start()
    window.analysis.run_now()
    window.scene.flush_routes()
    hidden = [i for i in window.scene.edges.values() if i.label and not i.label_visible()]
    assert hidden  # hidden2 → concat's second input: no straight piece long enough
    item = hidden[0]
    view = window.view
    QApplication.processEvents()  # the open's fit to view, queued
    view.centerOn(item)
    path = item.path()
    point = next(p for p in (view.mapFromScene(path.pointAtPercent(t / 40)) for t in range(40))
                 if view.itemAt(p) is item)
    QTest.mouseMove(view.viewport(), QPoint(2, 2))
    QTest.mouseMove(view.viewport(), point)
    assert view.itemAt(point) is item and item.label_visible()
    QTest.mouseMove(view.viewport(), QPoint(2, 2))
    assert not item.label_visible()


def test_merge_inputs_are_numbered_in_port_order(window):
    window.open_example("wide_and_deep")
    doc = window.controller.doc
    concat = window.scene.nodes[doc.find("concat")]
    assert [p.number for p in concat.inputs] == ["1", "2", "3"]  # the third: the free one
    dense = window.scene.nodes[doc.find("hidden1")]
    assert [p.number for p in dense.inputs] == [""]
    assert "Input 1 of concat" in concat.inputs[0].toolTip()
