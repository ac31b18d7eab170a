import networkx as nx

from graph import Document, History, Sketch
from graph.examples import list_examples, load_example
from graph.layout import COLUMN_GAP, apply_layout, crossing_count, layout_positions


def test_columns_follow_topological_generations_inputs_left_outputs_right():
    doc = load_example("wide_and_deep")
    pos = layout_positions(doc)
    for edge in doc.edges():
        assert pos[edge.src][0] < pos[edge.dst][0]
    xs = {doc.attr(n, "name"): pos[n][0] for n in doc.node_ids()}
    assert xs["input_a"] == xs["input_b"] == 0
    assert xs["main_output"] == xs["aux_output"] == max(xs.values())


def test_layout_is_stable_and_a_no_op_when_already_laid_out():
    for info in list_examples():
        doc = load_example(info.name)
        assert layout_positions(doc) == layout_positions(doc)
        history = History(doc)
        history.push(apply_layout(doc))
        assert not history.push(apply_layout(doc)), info.name


def test_crossings_are_reduced():
    # Two chains whose second column is listed in the crossing order.
    s = Sketch("Cross")
    a, b = s.add("Input", name="a"), s.add("Input", name="b")
    b1 = s.add("Dense", b, name="b1")
    a1 = s.add("Dense", a, name="a1")
    b2, a2 = s.add("Dense", b1, name="b2"), s.add("Dense", a1, name="a2")
    s.add("Output", s.add("Add", a2, b2, name="total"))
    pos = layout_positions(s.doc)
    assert crossing_count(s.doc, pos) == 0
    # The same columns with the rows of column 1 swapped cross: the layout avoided that.
    swapped = dict(pos)
    swapped[a1], swapped[b1] = pos[b1], pos[a1]
    assert crossing_count(s.doc, swapped) == 2
    assert pos[a][0] == pos[b][0] == 0 and pos[a1][0] == COLUMN_GAP


def test_random_dags_lay_out_left_to_right():
    for seed in range(20):
        g = nx.gnp_random_graph(25, 0.15, seed=seed, directed=True)
        doc = Document()
        s = Sketch("R", doc)
        ids = {}
        for n in sorted(g.nodes):
            preds = sorted(p for p in g.predecessors(n) if p < n)
            srcs = [ids[p] for p in preds]
            if not srcs:
                ids[n] = s.add("Input")
            elif len(srcs) == 1:
                ids[n] = s.add("Dense", *srcs)
            else:
                ids[n] = s.add("Add", *srcs)
        pos = layout_positions(doc)
        for e in doc.edges():
            assert pos[e.src][0] < pos[e.dst][0]
        assert len(set(pos.values())) == len(pos)  # no two nodes on one spot


def test_top_to_bottom_layout_puts_ranks_in_rows_and_is_deterministic():
    for info in list_examples():
        doc = load_example(info.name)
        pos = layout_positions(doc, "TB")
        assert pos == layout_positions(doc, "TB")
        for edge in doc.edges():
            assert pos[edge.src][1] < pos[edge.dst][1], info.name
        assert len(set(pos.values())) == len(pos)
        lr = layout_positions(doc)
        # the same ranks and order, turned a quarter: crossings are the same
        assert crossing_count(doc, pos, "TB") == crossing_count(doc, lr)
        history = History(doc)
        history.push(apply_layout(doc, "TB"))
        assert not history.push(apply_layout(doc, "TB")), info.name
