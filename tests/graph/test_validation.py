from graph import (
    Document,
    MissingInputError,
    MissingLossError,
    MissingOutputError,
    Sketch,
    UnreachableNodeError,
    can_connect,
    validate,
)
from graph.events import Edge
from graph.examples import list_examples, load_example


def test_every_example_is_valid():
    for info in list_examples():
        assert validate(load_example(info.name)) == [], info.name


def test_empty_design_lacks_input_and_output():
    kinds = {type(e) for e in validate(Document())}
    assert kinds == {MissingInputError, MissingOutputError}


def test_problems_are_typed_and_pinned_to_nodes():
    s = Sketch("Broken")
    x = s.add("Input", name="x")
    lone = s.add("Dense", name="lonely")
    out = s.add("Output", s.add("Dense", x, name="head"), name="y", loss="none")
    cat = s.add("Concatenate", x, name="cat")
    problems = validate(s.doc)
    by_type = {type(p): p for p in problems}
    assert by_type[MissingLossError].node_ids == (out,)
    assert "no loss" in by_type[MissingLossError].message
    unreachable = [p for p in problems if isinstance(p, UnreachableNodeError)]
    assert [p.node_ids for p in unreachable] == [(lone,)]
    assert "not connected to any Input" in unreachable[0].message
    missing = [p for p in problems if isinstance(p, MissingInputError)]
    assert {p.node_ids for p in missing} == {(lone,), (cat,)}
    assert any("at least two inputs" in p.message for p in missing)


def test_can_connect_gives_reasons():
    doc = load_example("wide_and_deep")
    a, concat = doc.find("input_a"), doc.find("concat")
    ok, reason = can_connect(doc, Edge(concat, 0, a, 0))
    assert not ok and "takes no input" in reason
    ok, reason = can_connect(doc, Edge(a, 0, concat, 2))
    assert ok and reason == ""


def test_optional_ports_may_stay_open_and_required_ones_are_named():
    from graph import Sketch
    from graph.edits import SetParams, connect

    s = Sketch("Ports")
    q = s.add("Input", shape=(5, 8))
    attn = s.add("MultiheadAttention", q)
    s.add("Output", attn)
    assert validate(s.doc) == []
    sub = s.add("Subtract", q)
    s.add("Output", sub, pos=(0, 1))
    (problem,) = validate(s.doc)
    assert "Subtract 'subtract_1' has no input 'b'" in problem.message
    chunk = s.add("Chunk", q, chunks=3)
    s.doc.apply(connect(s.doc, chunk, sub, src_port=2, dst_port=1))
    assert validate(s.doc) == []
    s.doc.apply(SetParams(chunk, {"chunks": 2}))  # output 2 is gone but still feeds 'sub'
    problems = validate(s.doc)
    assert len(problems) == 1 and "output 2 still feeds 'subtract_1'" in problems[0].message
