"""Every edit: apply, check its events, apply the inverse, and the document is as before."""

import pytest

from graph import (
    Composite,
    Document,
    Edge,
    GraphError,
    History,
    MoveNodes,
    ParamError,
    PortOccupiedError,
    Rename,
    SetParams,
    SetSection,
    SetTrainable,
    Sketch,
    add_node,
    connect,
    delete,
)
from graph import events as ev
from graph.edits import RemoveNode, SetModelName, rename_problem, set_params
from graph.errors import CycleError, NameError_
from graph.project import dumps


@pytest.fixture
def sketch():
    s = Sketch("Net")
    s.x = s.add("Input", name="x", shape=(4,))
    s.h = s.add("Dense", s.x, name="hidden", units=8, activation="relu")
    s.o = s.add("Output", s.h, name="y")
    return s


def _recorded(doc):
    seen = []
    doc.subscribe(seen.append)
    return seen


def _roundtrip(doc, edit, expected_events):
    before = dumps(doc)
    seen = _recorded(doc)
    inverse = doc.apply(edit)
    assert inverse is not None
    assert [type(e) for e in seen] == expected_events
    assert dumps(doc) != before
    seen.clear()
    again = doc.apply(inverse)
    assert dumps(doc) == before
    assert seen, "undo must publish events too"
    doc.apply(again)  # redo through the inverse of the inverse
    return inverse


def test_add_node(sketch):
    doc = sketch.doc
    edit = add_node(doc, "Dense", (10, 20))
    _roundtrip(doc, edit, [ev.NodeAdded])
    assert doc.node(edit.node.id).name == "dense_1"
    assert doc.node(edit.node.id).params["units"] == 32


def test_remove_node_restores_its_edges(sketch):
    doc = sketch.doc
    _roundtrip(doc, RemoveNode(sketch.h), [ev.EdgeRemoved, ev.EdgeRemoved, ev.NodeRemoved])


def test_connect_and_disconnect(sketch):
    doc = sketch.doc
    extra = doc.apply(add_node(doc, "Output", name="z")).node_id
    edit = connect(doc, sketch.h, extra)
    _roundtrip(doc, edit, [ev.EdgeAdded])
    from graph import Disconnect
    _roundtrip(doc, Disconnect(Edge(sketch.h, 0, sketch.o, 0)), [ev.EdgeRemoved])


def test_set_params_move_rename_trainable_section_model_name(sketch):
    doc = sketch.doc
    _roundtrip(doc, SetParams(sketch.h, {"units": 16}), [ev.ParamsChanged])
    _roundtrip(doc, MoveNodes({sketch.h: (5.0, 6.0), sketch.x: (1.0, 2.0)}),
               [ev.NodeMoved, ev.NodeMoved])
    _roundtrip(doc, Rename(sketch.h, "encoder"), [ev.NodeRenamed])
    _roundtrip(doc, SetTrainable(sketch.h, False), [ev.TrainableChanged])
    _roundtrip(doc, SetSection("training", {"epochs": 3}), [ev.SectionChanged])
    _roundtrip(doc, SetModelName("my net"), [ev.SectionChanged])
    assert doc.name == "MyNet"


def test_composite_delete_selection(sketch):
    doc = sketch.doc
    _roundtrip(doc, delete(doc, [sketch.h, sketch.o]),
               [ev.EdgeRemoved, ev.EdgeRemoved, ev.NodeRemoved, ev.NodeRemoved])


def test_no_op_edits_produce_nothing(sketch):
    doc = sketch.doc
    history = History(doc)
    seen = _recorded(doc)
    assert not history.push(SetParams(sketch.h, {"units": 8}))
    assert not history.push(Rename(sketch.h, "hidden"))
    assert not history.push(SetTrainable(sketch.h, True))
    assert not history.push(MoveNodes({sketch.h: doc.attr(sketch.h, "pos")}))
    assert not history.push(SetSection("data", {}))
    assert not history.push(Composite(()))
    assert history.index == 0 and not seen


def test_failed_composite_rolls_back(sketch):
    doc = sketch.doc
    before = dumps(doc)
    bad = Composite((SetParams(sketch.h, {"units": 3}), Rename(sketch.h, "class")))
    with pytest.raises(NameError_):
        doc.apply(bad)
    assert dumps(doc) == before


@pytest.mark.parametrize("name", ["class", "print", "1abc", "a b", "__x", "", "self", "torch",
                                  "x"])
def test_rename_refuses_keywords_builtins_non_identifiers_and_clashes(sketch, name):
    with pytest.raises(NameError_):
        sketch.doc.apply(Rename(sketch.h, name))
    assert rename_problem(sketch.doc, sketch.h, name)


def test_connect_refuses_cycles_with_the_loop_named(sketch):
    doc = sketch.doc
    h2 = doc.apply(add_node(doc, "Dense", name="h2")).node_id
    doc.apply(connect(doc, sketch.h, h2))
    add = doc.apply(add_node(doc, "Add", name="merge")).node_id
    doc.apply(connect(doc, h2, add))
    doc.apply(connect(doc, sketch.x, add))
    before = dumps(doc)
    h3 = doc.apply(add_node(doc, "Dense", name="h3")).node_id
    doc.apply(connect(doc, add, h3))
    with pytest.raises(CycleError) as info:
        doc.apply(connect(doc, h3, add, dst_port=2))
    assert "merge → h3 → merge" in str(info.value)
    assert set(info.value.node_ids) == {add, h3}
    with pytest.raises(CycleError):
        doc.apply(connect(doc, h3, h3, dst_port=0))
    doc.apply(connect(doc, h3, doc.apply(add_node(doc, "Output")).node_id))
    assert dumps(doc) != before


def test_input_port_takes_one_edge(sketch):
    doc = sketch.doc
    x2 = doc.apply(add_node(doc, "Input", name="x2")).node_id
    with pytest.raises(PortOccupiedError, match="already fed by 'x'"):
        doc.apply(connect(doc, x2, sketch.h, dst_port=0))


def test_concatenate_takes_ordered_inputs(sketch):
    doc = sketch.doc
    cat = doc.apply(add_node(doc, "Concatenate", name="cat")).node_id
    doc.apply(connect(doc, sketch.h, cat))
    doc.apply(connect(doc, sketch.x, cat))
    assert [e.src for e in doc.in_edges(cat)] == [sketch.h, sketch.x]
    assert doc.free_input_port(cat) == 2


def test_bad_params_are_never_half_applied(sketch):
    doc = sketch.doc
    before = dumps(doc)
    with pytest.raises(ParamError, match="hidden: 'activation'"):
        doc.apply(SetParams(sketch.h, {"units": 5, "activation": "nope"}))
    assert dumps(doc) == before


def test_multi_selection_set_params_is_one_edit(sketch):
    doc = sketch.doc
    h2 = doc.apply(add_node(doc, "Dense", name="h2")).node_id
    history = History(doc)
    assert history.push(set_params(doc, [sketch.h, h2], {"activation": "tanh"}))
    assert history.index == 1
    assert {doc.attr(n, "params")["activation"] for n in (sketch.h, h2)} == {"tanh"}
    history.undo()
    assert doc.attr(h2, "params")["activation"] == "none"


def test_history_clean_state():
    doc = Document()
    history = History(doc)
    assert history.is_clean()
    history.push(add_node(doc, "Input"))
    assert not history.is_clean()
    history.set_clean()
    history.push(add_node(doc, "Dense"))
    history.undo()
    assert history.is_clean()
    history.undo()
    history.push(add_node(doc, "Flatten"))  # the clean state is now unreachable
    assert not history.is_clean()


def test_unknown_node_and_bad_edges_raise_graph_errors(sketch):
    doc = sketch.doc
    for edit in (SetParams("nope", {"units": 1}), Rename("nope", "a"),
                 connect(doc, "nope", sketch.h, dst_port=0),
                 connect(doc, sketch.o, sketch.h, dst_port=0)):
        with pytest.raises(GraphError):
            doc.apply(edit)


@pytest.mark.parametrize("value, where", [
    ({"lr": float("nan")}, "training.lr"),
    ({"schedule": {"gamma": float("inf")}}, "training.schedule.gamma"),
    ({"columns": [1, float("-inf")]}, "training.columns[1]"),
    ({"weights": {1: 2.0}}, "key 1 is not text"),
    ({"path": object()}, "not a JSON value"),
])
def test_settings_that_a_file_cannot_hold_are_refused(sketch, value, where):
    doc = sketch.doc
    before = dumps(doc)
    with pytest.raises(GraphError, match="Cannot store the training settings") as info:
        doc.apply(SetSection("training", value))
    assert where in info.value.message
    assert dumps(doc) == before
