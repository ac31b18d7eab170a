"""Shape errors with an obvious repair carry it as data; applying it (graph.fixes) clears the
error, in one undoable step."""

from __future__ import annotations

import json

import pytest

from backend.model.shapes import analyse
from graph import Sketch, project
from graph.fixes import fix_edit


def _bad(build):
    s = Sketch("Bad")
    node = build(s)
    s.add("Output", node, name="out")
    return s.doc


CASES = {
    "flatten before dense": (lambda s: s.add("Dense", s.add("Input", shape=(2, 3, 4)),
                                             name="dense"), "insert_before", "Flatten"),
    "reshape before dense": (lambda s: s.add("Dense", s.add("Select", s.add("Input", shape=(3,)),
                                                            index=0), name="dense"),
                             "insert_before", "Reshape"),
    "projection into add": (lambda s: s.add("Add", s.add("Input", shape=(30,)),
                                            s.add("Input", shape=(10,), pos=(0, 1)),
                                            name="add"), "insert_before", "Dense"),
    "reshape before conv": (lambda s: s.add("Conv2d", s.add("Input", shape=(64,)), name="conv"),
                            "insert_before", "Reshape"),
    "reshape before lstm": (lambda s: s.add("LSTM", s.add("Input", shape=(20,)), name="lstm"),
                            "insert_before", "Reshape"),
    "same padding with stride": (lambda s: s.add("Conv2d", s.add("Input", shape=(1, 8, 8)),
                                                 stride=(2, 2), padding="same", name="conv"),
                                 "set_params", None),
    "softmax over the batch": (lambda s: s.add("Softmax", s.add("Input", shape=(4,)), dim=0,
                                               name="soft"), "set_params", None),
    "groups": (lambda s: s.add("GroupNorm", s.add("Input", shape=(6, 4)), num_groups=4,
                               name="norm"), "set_params", None),
    "heads": (lambda s: s.add("MultiheadAttention", s.add("Input", shape=(5, 6)), num_heads=4,
                              name="attn"), "set_params", None),
    "chunks": (lambda s: s.add("Chunk", s.add("Input", shape=(6,)), chunks=4, name="chunk"),
               "set_params", None),
    "concatenate ranks": (lambda s: s.add("Concatenate", s.add("Input", shape=(3,)),
                                          s.add("Input", shape=(2, 3), pos=(0, 1)),
                                          name="cat"), "insert_before", "Flatten"),
    "transpose before matmul": (lambda s: s.add("MatMul", s.add("Input", shape=(4, 3)),
                                                s.add("Input", shape=(5, 3), pos=(0, 1)),
                                                name="mm"), "insert_before", "Transpose"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_first_fix_clears_the_error_and_undoes_exactly(name):
    build, kind, type_ = CASES[name]
    doc = _bad(build)
    before = project.dumps(doc)
    errors = [e for e in analyse(doc).errors if getattr(e, "fixes", ())]
    assert len(errors) == 1, [e.message for e in analyse(doc).errors]
    error = errors[0]
    fix = error.fixes[0]
    assert fix.kind == kind and fix.label
    if type_:
        assert fix.args["type"] == type_
    json.dumps({"kind": fix.kind, "args": fix.args})  # machine-readable: plain JSON values
    node_id = error.node_ids[0]
    inverse = doc.apply(fix_edit(doc, node_id, fix.kind, fix.args, fix.label))
    after = analyse(doc)
    assert after.ok, [e.message for e in after.errors]
    doc.apply(inverse)
    assert project.dumps(doc) == before


def test_add_offers_a_concatenate_too():
    doc = _bad(CASES["projection into add"][0])
    (error,) = analyse(doc).errors
    kinds = [(f.kind, f.args.get("type")) for f in error.fixes]
    assert kinds == [("insert_before", "Dense"), ("replace_type", "Concatenate")]
    node_id = error.node_ids[0]
    doc.apply(fix_edit(doc, node_id, "replace_type", error.fixes[1].args))
    assert analyse(doc).ok and doc.attr(node_id, "type") == "Concatenate"
    assert doc.attr(node_id, "name") == "add"
