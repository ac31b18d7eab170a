"""Random editing sessions: the scene always mirrors the document and nothing raises."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.events import Edge

TYPES = ["Input", "Dense", "Concatenate", "Output", "ReLU", "Add"]
OPS = st.lists(st.tuples(st.sampled_from(["add", "connect", "delete", "undo", "redo", "copy",
                                          "paste", "move", "params", "layout", "select"]),
                         st.integers(0, 50), st.integers(0, 50), st.integers(0, 3)),
               min_size=1, max_size=25)


def _check(window):
    doc, scene = window.controller.doc, window.scene
    assert set(scene.nodes) == set(doc.node_ids())
    assert set(scene.edges) == set(doc.edges())
    for node_id, item in scene.nodes.items():
        assert (item.pos().x(), item.pos().y()) == doc.attr(node_id, "pos")
        assert item.title == doc.attr(node_id, "name")
        spec = doc.spec(node_id)
        assert len(item.inputs) == spec.input_ports(len(doc.in_edges(node_id)))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_random_sessions_keep_scene_and_document_in_step(window, ops):
    c = window.controller
    c.set_document(type(c.doc)())
    for op, i, j, k in ops:
        ids = c.doc.node_ids()
        pick = (lambda n, ids=ids: ids[n % len(ids)]) if ids else (lambda n: None)
        if op == "add":
            c.add_layer(TYPES[i % len(TYPES)], (float(i * 10), float(j * 10)))
        elif op == "connect" and ids:
            c.connect_ports(Edge(pick(i), 0, pick(j), k))
        elif op == "delete" and ids:
            c.delete([pick(i)])
        elif op == "undo":
            c.stack.undo()
        elif op == "redo":
            c.stack.redo()
        elif op == "copy" and ids:
            c.copy([pick(i), pick(j)])
        elif op == "paste":
            c.paste()
        elif op == "move" and ids:
            c.move({pick(i): (float(j), float(k))})
        elif op == "params" and ids:
            c.set_params([pick(i)], {"units": j})  # refused for most types and for 0
        elif op == "layout":
            c.auto_layout()
        elif op == "select" and ids:
            window.scene.select_nodes([pick(i)])
        _check(window)
    window.analysis.run_now()
    while c.stack.canUndo():
        c.stack.undo()
    _check(window)
    assert len(c.doc) == 0
