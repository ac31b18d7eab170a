from graph import History
from graph.clipboard import copy_fragment, paste_edit
from graph.examples import load_example
from graph.project import dumps


def test_copy_paste_keeps_inner_edges_and_makes_unique_names():
    doc = load_example("wide_and_deep")
    h1, h2 = doc.find("hidden1"), doc.find("hidden2")
    fragment = copy_fragment(doc, {h1, h2})
    assert len(fragment["nodes"]) == 2 and len(fragment["edges"]) == 1
    history = History(doc)
    before = dumps(doc)
    assert history.push(paste_edit(doc, fragment, (40, 40)))
    assert len(doc) == 11
    names = doc.names()
    assert len(names) == 11 and {"hidden1", "hidden2"} < names
    new = [n for n in doc.node_ids() if doc.attr(n, "name") not in
           {"input_a", "input_b", "hidden1", "hidden2", "concat", "main_head", "main_output",
            "aux_head", "aux_output"}]
    assert len(doc.in_edges(new[1])) == 1 and doc.in_edges(new[1])[0].src == new[0]
    assert doc.attr(new[0], "pos")[0] == doc.attr(h1, "pos")[0] + 40
    history.undo()
    assert dumps(doc) == before


def test_paste_into_another_document_and_twice():
    src = load_example("mlp_digits")
    fragment = copy_fragment(src, src.node_ids())
    dst = load_example("mlp_digits")
    dst.apply(paste_edit(dst, fragment))
    dst.apply(paste_edit(dst, fragment))
    assert len(dst) == 18 and len(dst.names()) == 18
    assert len(dst.edges()) == 15
