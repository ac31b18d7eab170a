"""Every command undoes and redoes with the document and the scene in step."""

from __future__ import annotations

from graph.events import Edge


def _counts(window):
    doc, scene = window.controller.doc, window.scene
    assert len(scene.nodes) == len(doc)
    assert set(scene.edges) == set(doc.edges())
    return len(doc), len(doc.edges())


def test_undo_redo_each_command(window):
    c = window.controller
    stack = c.stack
    states = [_counts(window)]
    a = c.add_layer("Input", (0, 0))
    states.append(_counts(window))
    b = c.add_layer("Dense", (250, 0))
    states.append(_counts(window))
    d = c.add_layer("Output", (500, 0))
    states.append(_counts(window))
    c.connect_ports(Edge(a, 0, b, 0))
    states.append(_counts(window))
    c.connect_ports(Edge(b, 0, d, 0))
    states.append(_counts(window))
    c.set_params([b], {"units": 5})
    states.append(_counts(window))
    c.rename(b, "hidden")
    states.append(_counts(window))
    c.set_trainable(b, False)
    states.append(_counts(window))
    c.move({b: (260.0, 40.0)})
    states.append(_counts(window))
    c.delete([b])
    states.append(_counts(window))
    assert states[-1] == (2, 0)
    assert stack.count() == len(states) - 1
    assert window.windowTitle().startswith("Untitled*")
    for expected in reversed(states[:-1]):
        stack.undo()
        assert _counts(window) == expected
    assert len(c.doc) == 0 and stack.isClean()
    assert window.windowTitle() == "Untitled — NetCanvas"
    for expected in states[1:]:
        stack.redo()
        assert _counts(window) == expected
    assert c.doc.attr(d, "name") == "output_1"
    stack.undo()  # the delete
    assert c.doc.attr(b, "name") == "hidden" and c.doc.attr(b, "params")["units"] == 5
    assert c.doc.attr(b, "pos") == (260.0, 40.0) and c.doc.attr(b, "trainable") is False
    assert window.scene.nodes[b].title == "hidden"


def test_refused_and_noop_edits_make_no_undo_step(window):
    c = window.controller
    a = c.add_layer("Input", (0, 0))
    count = c.stack.count()
    assert not c.connect_ports(Edge(a, 0, a, 0))
    assert not c.set_params([a], {"shape": (0,)})  # out of bounds
    assert "shape" in window.statusBar().currentMessage()
    assert not c.rename(a, c.doc.attr(a, "name"))
    assert not c.move({a: (0.0, 0.0)})
    assert c.stack.count() == count


def test_history_view_lists_readable_steps(window):
    c = window.controller
    a = c.add_layer("Input", (0, 0))
    b = c.add_layer("Dense", (250, 0))
    c.connect_ports(Edge(a, 0, b, 0))
    texts = [c.stack.text(i) for i in range(c.stack.count())]
    assert texts == ["add input_1", "add dense_1", "connect input_1 → dense_1"]
    assert window.undo_view.model().rowCount() == 4  # "<opened>" + 3 steps
