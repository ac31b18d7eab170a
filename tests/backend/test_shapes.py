"""Shape inference: exact shapes, parameter counts, and errors pinned to the right node."""

from __future__ import annotations

import time

import pytest

from backend.model.shapes import analyse, clear_cache, format_shape
from graph import Sketch
from graph.events import Edge


def _mlp():
    s = Sketch("Mlp")
    x = s.add("Input", shape=(1, 28, 28), name="image")
    f = s.add("Flatten", x, name="flat")
    h1 = s.add("Dense", f, units=300, activation="relu", name="hidden1")
    h2 = s.add("Dense", h1, units=100, activation="relu", name="hidden2", trainable=False)
    out = s.add("Dense", h2, units=10, activation="softmax", name="logits")
    s.add("Output", out, loss="cross_entropy", name="digit")
    return s


def test_mlp_shapes_params_and_flops():
    s = _mlp()
    a = analyse(s.doc)
    assert a.ok, a.errors
    d = s.doc
    info = a.nodes[d.find("hidden1")]
    assert info.input_shapes == [("N", 784)]
    assert info.output_shapes == [("N", 300)]
    assert info.resolved == {"in_features": 784}
    assert info.params == 784 * 300 + 300
    assert info.flops == 2 * 784 * 300
    assert a.nodes[d.find("hidden2")].trainable_params == 0
    assert a.total_params == 266_610
    assert a.trainable_params == 266_610 - (300 * 100 + 100)
    assert format_shape(a.nodes[d.find("digit")].output_shapes[0]) == "(N, 10)"
    edge = d.in_edges(d.find("hidden1"))[0]
    assert a.edge_shape(edge) == ("N", 784)
    assert a.edge_shape(Edge("nope", 0, "x", 0)) is None


def test_conv_rnn_embedding_shapes():
    s = Sketch("Zoo")
    img = s.add("Input", shape=(3, 32, 32))
    c = s.add("Conv2d", img, filters=8, kernel_size=(5, 5), stride=(1, 1), padding="valid")
    p = s.add("MaxPool2d", c, kernel_size=(2, 2))
    b = s.add("BatchNorm", p)
    g = s.add("GlobalAvgPool", b)
    tok = s.add("Input", shape=(12,), dtype="int64")
    e = s.add("Embedding", tok, num_embeddings=100, embedding_dim=16)
    lstm = s.add("LSTM", e, hidden_size=20, bidirectional=True, return_sequences=True)
    gru = s.add("GRU", lstm, hidden_size=7)
    cat = s.add("Concatenate", g, gru)
    s.add("Output", cat)
    a = analyse(s.doc)
    assert a.ok, [x.message for x in a.errors]
    shape = lambda n: a.nodes[n].output_shapes[0]  # noqa: E731
    assert shape(c) == ("N", 8, 28, 28)
    assert shape(p) == ("N", 8, 14, 14)
    assert shape(g) == ("N", 8)
    assert shape(e) == ("N", 12, 16)
    assert shape(lstm) == ("N", 12, 40)
    assert shape(gru) == ("N", 7)
    assert shape(cat) == ("N", 15)
    assert a.nodes[b].resolved == {"num_features": 8}
    assert a.nodes[lstm].resolved == {"input_size": 16}
    assert a.nodes[lstm].params == 2 * 4 * (16 * 20 + 20 * 20 + 2 * 20)
    assert a.nodes[c].flops == 2 * 8 * 28 * 28 * 3 * 25


def _single_error(s, node_id):
    a = analyse(s.doc)
    shape_errors = [e for e in a.errors if node_id in e.node_ids]
    assert len(shape_errors) == 1, [e.message for e in a.errors]
    return a, shape_errors[0].message


def test_dense_on_4d_input_names_node_and_suggests_flatten():
    s = Sketch("Bad")
    x = s.add("Input", shape=(30, 1, 1))
    d = s.add("Dense", x, units=4, name="hidden2")
    s.add("Output", d)
    a, msg = _single_error(s, d)
    assert msg == ("Dense 'hidden2' receives (N, 30, 1, 1) but needs (N, features): "
                   "insert a Flatten.")
    assert a.nodes[d].error is not None and not a.ok


def test_mismatched_concatenate():
    s = Sketch("Bad")
    a_ = s.add("Input", shape=(3, 4))
    b = s.add("Input", shape=(5, 6))
    c = s.add("Concatenate", a_, b, name="join")
    s.add("Output", c)
    _, msg = _single_error(s, c)
    assert "Concatenate 'join' receives (N, 3, 4) and (N, 5, 6)" in msg
    assert "except axis -1" in msg


def test_concatenate_on_batch_axis_refused():
    s = Sketch("Bad")
    a_ = s.add("Input", shape=(3,))
    c = s.add("Concatenate", a_, a_, axis=0, name="join")
    s.add("Output", c)
    _, msg = _single_error(s, c)
    assert "axis 0" in msg and "join" in msg


def test_add_of_unequal_shapes():
    s = Sketch("Bad")
    a_ = s.add("Input", shape=(30,))
    b = s.add("Input", shape=(10,))
    add = s.add("Add", a_, b, name="residual")
    s.add("Output", add)
    _, msg = _single_error(s, add)
    assert msg.startswith("Add 'residual' receives (N, 30) and (N, 10) but needs inputs of "
                          "one shape")


def test_conv2d_on_2d_input():
    s = Sketch("Bad")
    x = s.add("Input", shape=(64,))
    c = s.add("Conv2d", x, name="conv")
    s.add("Output", c)
    _, msg = _single_error(s, c)
    assert "Conv2d 'conv' receives (N, 64) but needs (N, channels, height, width)" in msg
    assert "Reshape" in msg


@pytest.mark.parametrize("build, fragment", [
    (lambda s, x: s.add("Conv2d", s.add("Reshape", x, shape=(1, 4, 4)), kernel_size=(5, 5)),
     "larger than the input"),
    (lambda s, x: s.add("Conv2d", s.add("Reshape", x, shape=(1, 4, 4)), stride=(2, 2),
                        padding="same"), "stride"),
    (lambda s, x: s.add("Reshape", x, shape=(3, 3)), "holds 9"),
    (lambda s, x: s.add("Embedding", x), "int64"),
    (lambda s, x: s.add("LSTM", x), "(N, steps, features)"),
    (lambda s, x: s.add("Softmax", x, dim=0), "dim 0"),
    (lambda s, x: s.add("Flatten", x, start_dim=2), "start_dim"),
])
def test_other_shape_errors_are_messages_not_exceptions(build, fragment):
    s = Sketch("Bad")
    x = s.add("Input", shape=(16,))
    node = build(s, x)
    s.add("Output", node)
    a = analyse(s.doc)
    messages = [e.message for e in a.errors]
    assert any(fragment in m for m in messages), messages
    assert all(e.node_ids for e in a.errors)


def test_error_in_one_branch_does_not_stop_the_other_and_downstream_is_silent():
    s = Sketch("Branches")
    x = s.add("Input", shape=(8,))
    bad = s.add("Conv1d", x, name="bad")
    after = s.add("Dense", bad, units=3, name="after")
    s.add("Output", after, name="o1")
    good = s.add("Dense", x, units=5, name="good")
    s.add("Output", good, name="o2", pos=(0, 1))
    a = analyse(s.doc)
    assert [e.node_ids for e in a.errors] == [(bad,)]
    assert a.nodes[after].output_shapes == [] and a.nodes[after].error is None
    assert a.nodes[good].output_shapes == [("N", 5)]


def test_structural_errors_are_included_and_cycles_do_not_raise():
    s = Sketch("Incomplete")
    x = s.add("Input", shape=(8,))
    s.add("Dense", x, units=3)
    s.add("Concatenate", x)
    a = analyse(s.doc)
    assert not a.ok
    text = " ".join(e.message for e in a.errors)
    assert "no Output" in text and "at least two inputs" in text
    s.doc.graph.add_edge(x, x, key=(0, 5))  # force a cycle past the edit checks
    assert not analyse(s.doc).ok


def _chain(n_nodes: int):
    s = Sketch("Big")
    prev = s.add("Input", shape=(32,))
    branches = []
    for i in range(n_nodes - 2):
        if i % 10 == 9 and branches:
            prev = s.add("Add", prev, branches.pop())
        elif i % 2:
            prev = s.add("Dense", prev, units=32, activation="relu")
            branches.append(prev)
        else:
            prev = s.add("Dropout", prev, p=0.1)
    s.add("Output", prev)
    return s.doc


def test_200_node_graph_analyses_within_budget():
    doc = _chain(200)
    assert len(doc) == 200
    clear_cache()
    analyse(doc)  # first use of the meta device pays PyTorch's one-time set-up
    clear_cache()
    t0 = time.perf_counter()
    cold = analyse(doc)
    cold_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    analyse(doc)
    warm_s = time.perf_counter() - t0
    assert cold.ok
    # The goal is 100 ms; allow slack for a loaded CI machine.
    assert warm_s < 0.3 and cold_s < 0.6, (cold_s, warm_s)
