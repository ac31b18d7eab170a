"""One-gesture inserts: after, before and into connections, with context defaults (no Qt)."""

from __future__ import annotations

import pytest

from builder import insertion
from builder.insertion import TargetShape
from graph.document import Document
from graph.edits import SetParams
from graph.errors import GraphError
from graph.events import Edge
from graph.history import History
from graph.layout import COLUMN_GAP
from graph.sketch import Sketch


def _apply(doc: Document, result: insertion.Insertion) -> str:
    assert doc.apply(result.edit) is not None
    return result.node_id


def test_a_dense_after_an_input_is_wired_and_gets_relu():
    s = Sketch("T")
    x = s.add("Input", shape=(4,), pos=(0, 0))
    doc = s.doc
    d = _apply(doc, insertion.insert_after(doc, "Dense", [(x, 0)]))
    assert doc.in_edges(d) == [Edge(x, 0, d, 0)]
    assert doc.attr(d, "params")["activation"] == "relu"
    assert doc.attr(d, "pos")[0] > doc.attr(x, "pos")[0]


def test_a_dense_after_a_dense_repeats_it_and_a_head_takes_the_target_size():
    s = Sketch("T")
    x = s.add("Input", shape=(4,), pos=(0, 0))
    h = s.add("Dense", x, units=300, activation="tanh", pos=(220, 0))
    doc = s.doc
    h2 = _apply(doc, insertion.insert_after(doc, "Dense", [(h, 0)]))
    assert doc.attr(h2, "params")["units"] == 300
    assert doc.attr(h2, "params")["activation"] == "tanh"
    h3 = _apply(doc, insertion.insert_after(doc, "Dense", [(h2, 0)]))
    doc.apply(SetParams(h3, {"activation": "relu"}))

    def targets(name):
        return TargetShape(classes=10) if name is None else None

    out = _apply(doc, insertion.insert_after(doc, "Output", [(h3, 0)], targets=targets))
    assert doc.attr(out, "params")["loss"] == "cross_entropy"  # class data
    assert doc.attr(h3, "params")["units"] == 10  # one unit per class
    assert doc.attr(h3, "params")["activation"] == "none"  # the head is linear
    assert doc.attr(h2, "params")["activation"] == "tanh"  # a chosen activation stays


def test_inserting_an_output_leaves_a_layer_that_feeds_others_alone():
    s = Sketch("T")
    x = s.add("Input", shape=(4,))
    h = s.add("Dense", x, units=30, activation="relu")
    s.add("Dense", h, units=30, activation="relu")
    doc = s.doc
    _apply(doc, insertion.insert_after(doc, "Output", [(h, 0)],
                                       targets=lambda _n: TargetShape(None, 1)))
    assert doc.attr(h, "params")["units"] == 30 and doc.attr(h, "params")["activation"] == "relu"


def test_a_regression_head_inserted_before_an_output():
    s = Sketch("T")
    x = s.add("Input", shape=(4,), pos=(0, 0))
    out = s.add("Output", x, loss="mse", pos=(220, 0))
    doc = s.doc
    d = _apply(doc, insertion.insert_before(doc, "Dense", out,
                                            targets=lambda n: TargetShape(None, 3)))
    # the connection Input → Output was split, and the Output's neighbours moved on
    assert [e.src for e in doc.in_edges(out)] == [d] and [e.dst for e in doc.out_edges(x)] == [d]
    assert doc.attr(d, "params")["units"] == 3 and doc.attr(d, "params")["activation"] == "none"
    xs = [doc.attr(n, "pos")[0] for n in (x, d, out)]
    assert xs == sorted(xs) and len(set(xs)) == 3


def test_an_input_goes_before_the_first_free_port_of_a_merge():
    s = Sketch("T")
    b = s.add("Input", shape=(6,), pos=(0, 200))
    h = s.add("Dense", b, units=30, pos=(220, 200))
    cat = s.add("Concatenate", h, pos=(440, 100))
    doc = s.doc
    a = _apply(doc, insertion.insert_before(doc, "Input", cat))
    assert doc.edge_into(cat, 1) == Edge(a, 0, cat, 1)
    assert doc.attr(a, "pos")[0] < doc.attr(cat, "pos")[0]


def test_a_merge_after_several_layers_takes_them_in_drawing_order():
    s = Sketch("T")
    a = s.add("Input", shape=(5,), pos=(0, 0))
    b = s.add("Input", shape=(6,), pos=(0, 200))
    doc = s.doc
    order = insertion.flow_order(doc, [b, a])
    assert order == [a, b]
    cat = _apply(doc, insertion.insert_after(doc, "Concatenate", [(n, 0) for n in order]))
    assert [e.src for e in doc.in_edges(cat)] == [a, b]


def test_new_layers_never_land_on_another():
    s = Sketch("T")
    x = s.add("Input", shape=(4,), pos=(0, 0))
    s.add("Dense", x, pos=(220, 0))
    doc = s.doc
    d2 = _apply(doc, insertion.insert_after(doc, "Dense", [(x, 0)]))
    positions = [doc.attr(n, "pos") for n in doc.node_ids()]
    assert len(set(positions)) == len(positions)
    assert doc.attr(d2, "pos")[0] == COLUMN_GAP


def test_top_to_bottom_inserts_go_down():
    s = Sketch("T")
    x = s.add("Input", shape=(4,), pos=(0, 0))
    doc = s.doc
    d = _apply(doc, insertion.insert_after(doc, "Dense", [(x, 0)], direction="TB"))
    assert doc.attr(d, "pos")[0] == 0 and doc.attr(d, "pos")[1] > 0


def test_each_insert_is_one_undo_step_and_undoes_exactly():
    s = Sketch("T")
    x = s.add("Input", shape=(4,), pos=(0, 0))
    out = s.add("Output", x, pos=(220, 0))
    doc = s.doc
    before = (sorted(doc.node_ids()), doc.edges(), {n: doc.attr(n, "pos") for n in doc.node_ids()})
    history = History(doc)
    assert history.push(insertion.insert_on_edge(doc, "Dense", doc.in_edges(out)[0]).edit)
    assert len(doc) == 3
    history.undo()
    assert (sorted(doc.node_ids()), doc.edges(),
            {n: doc.attr(n, "pos") for n in doc.node_ids()}) == before


def test_refusals_say_why():
    s = Sketch("T")
    x = s.add("Input", shape=(4,))
    d = s.add("Dense", x)
    doc = s.doc
    with pytest.raises(GraphError, match="takes no input"):
        insertion.insert_after(doc, "Input", [(x, 0)])
    with pytest.raises(GraphError, match="cannot go into a connection"):
        insertion.insert_on_edge(doc, "Output", doc.in_edges(d)[0])
    with pytest.raises(GraphError, match="Every input"):
        insertion.insert_before(doc, "Input", d)


def test_replace_type_keeps_place_name_and_fitting_connections():
    s = Sketch("T")
    x = s.add("Input", shape=(4,), pos=(0, 0))
    d = s.add("Dense", x, name="hidden", units=8, activation="tanh", pos=(220, 0))
    auto = s.add("Dense", d, pos=(440, 0))
    out = s.add("Output", auto, pos=(660, 0))
    doc = s.doc
    assert doc.apply(insertion.replace_type(doc, d, "Dropout")) is not None
    assert doc.attr(d, "type") == "Dropout" and doc.attr(d, "name") == "hidden"
    assert doc.attr(d, "pos") == (220.0, 0.0)
    assert doc.in_edges(d) and doc.out_edges(d)
    assert doc.apply(insertion.replace_type(doc, auto, "Conv1d")) is not None
    assert doc.attr(auto, "name") == "conv1d_1"  # an automatic name follows the type
    assert doc.in_edges(out)
