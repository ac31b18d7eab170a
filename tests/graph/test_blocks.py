"""Block definitions in the document: references, nesting, grouping, events, files."""

import pytest

from graph import Document, History, ParamError, add_node, connect
from graph.block_edits import (
    BlockRecord,
    DefineBlock,
    InBlock,
    RemoveBlock,
    RenameBlock,
    SetBlockParams,
    add_block,
    group,
    ungroup,
)
from graph.blocks import param_spec, ref
from graph.document import Node
from graph.edits import SetParams
from graph.errors import BlockError, BlockInUseError, RecursiveBlockError
from graph.events import BlockChanged, BlockDefined, Edge, ParamsChanged
from graph.project import dumps, loads


def chain(doc, history, types):
    ids = []
    for i, (type_, params) in enumerate(types):
        edit = add_node(doc, type_, (200 * i, 0), params=params)
        history.push(edit)
        ids.append(edit.node.id)
    for a, b in zip(ids, ids[1:]):
        history.push(connect(doc, a, b))
    return ids


def conv_record(block_id="b1", name="ConvBlock"):
    return BlockRecord(block_id, name, (param_spec("channels", "int", 8, minimum=1,
                                                   maximum=512),), False,
                       (Node("i", "BlockInput", "x", {}, (0, 0)),
                        Node("c", "Conv2d", "conv", {"filters": ref("channels"),
                                                      "padding": 1}, (200, 0)),
                        Node("o", "BlockOutput", "out", {}, (400, 0))),
                       (Edge("i", 0, "c", 0), Edge("c", 0, "o", 0)))


def test_references_are_checked_against_the_definition():
    doc = Document()
    doc.apply(DefineBlock(conv_record()))
    inner = doc.block("b1")
    assert inner.attr("c", "params")["filters"] == ref("channels")
    with pytest.raises(ParamError, match="parameter of this block"):
        doc.apply(InBlock("b1", SetParams("c", {"filters": ref("width")})))
    with pytest.raises(ParamError, match="only inside a block"):
        doc.apply(add_node(doc, "Dense", params={"units": ref("channels")}))
    # a float parameter cannot feed a whole-number one
    doc.apply(SetBlockParams("b1", (*inner.block_params, param_spec("rate", "float", 0.5))))
    with pytest.raises(ParamError, match="fits"):
        doc.apply(InBlock("b1", SetParams("c", {"filters": ref("rate")})))


def test_a_definition_cannot_contain_itself():
    doc = Document()
    doc.apply(DefineBlock(conv_record("b1", "A")))
    doc.apply(DefineBlock(conv_record("b2", "B")))
    doc.apply(InBlock("b1", add_block(doc.block("b1"), "b2")))
    with pytest.raises(RecursiveBlockError, match="A → B → A|B → A → B"):
        doc.apply(InBlock("b2", add_block(doc.block("b2"), "b1")))
    with pytest.raises(RecursiveBlockError):
        doc.apply(InBlock("b1", add_block(doc.block("b1"), "b1")))


def test_group_ports_events_and_undo():
    doc = Document("Net")
    history = History(doc)
    ids = chain(doc, history, [("Input", {"shape": (3, 8, 8)}), ("Conv2d", {"padding": 1}),
                               ("ReLU", {}), ("Conv2d", {"padding": 1}), ("Output", {})])
    history.push(add_node(doc, "Add", (700, 0)))
    add = doc.node_ids()[-1]
    history.push(connect(doc, ids[3], add))
    history.push(connect(doc, ids[1], add))
    before = dumps(doc)
    events = []
    doc.subscribe(events.append)
    history.push(group(doc, ids[2:4] + [add], "Residual"))
    assert len(doc) == 4 and doc.block_ids() == ["b1"]
    inner = doc.block("b1")
    # conv_1 feeds relu and the Add: one input port; the Add's result: one output port
    assert [inner.attr(n, "type") for n in inner.inputs()] == ["BlockInput"]
    assert [inner.attr(n, "type") for n in inner.outputs()] == ["BlockOutput"]
    assert len(inner) == 5
    assert any(isinstance(e, BlockDefined) for e in events)
    assert any(isinstance(e, BlockChanged) for e in events)
    history.undo()
    assert dumps(doc) == before and doc.block_ids() == []


def test_edit_inside_changes_every_instance_and_ungroup_restores():
    doc = Document("Net")
    history = History(doc)
    history.push(DefineBlock(conv_record()))
    ids = chain(doc, history, [("Input", {"shape": (3, 8, 8)})])
    a = add_block(doc, "b1", (200, 0), values={"channels": 4})
    b = add_block(doc, "b1", (400, 0), name="second")
    history.push(a)
    history.push(b)
    history.push(connect(doc, ids[0], a.node.id))
    history.push(connect(doc, a.node.id, b.node.id))
    seen = []
    doc.block("b1").subscribe(seen.append)
    history.push(InBlock("b1", SetParams("c", {"kernel_size": (5, 5)})))
    assert isinstance(seen[-1], ParamsChanged)
    with pytest.raises(BlockInUseError):
        doc.apply(RemoveBlock("b1"))
    history.push(RenameBlock("b1", "conv unit"))
    assert doc.block("b1").name == "ConvUnit"
    history.push(ungroup(doc, a.node.id))
    conv = doc.find("conv")
    assert doc.attr(conv, "params")["filters"] == 4
    assert doc.attr(conv, "params")["kernel_size"] == (5, 5)
    assert doc.block_ids() == ["b1"]  # still used by "second"
    history.push(ungroup(doc, b.node.id))
    assert doc.block_ids() == []
    assert doc.attr(doc.find("conv_1"), "params")["filters"] == 8  # the default
    for _ in range(3):
        history.undo()
    assert doc.block("b1").name == "ConvBlock"


def test_files_round_trip_and_bad_blocks_name_the_field():
    doc = Document("Net")
    doc.apply(DefineBlock(conv_record()))
    doc.apply(add_block(doc, "b1", values={"channels": 16}))
    text = dumps(doc)
    assert '"blocks"' in text
    again = loads(text)
    assert dumps(again) == text
    assert again.attr(again.node_ids()[0], "params")["channels"] == 16
    broken = text.replace('"filters": {"$param": "channels"}', '"filters": {"$param": "nope"}')
    with pytest.raises(Exception, match=r"\$\.blocks\[0\]\.nodes\[0\]\.params\.filters"):
        loads(broken)
    with pytest.raises(BlockError):
        Document().apply(DefineBlock(BlockRecord("b1", "X", (param_spec("repeat", "int", 1),))))


def test_a_block_file_inserts_with_new_ids_and_free_names(tmp_path):
    from graph.block_edits import InBlock
    from graph.block_files import insert_block, load_block, save_block
    from graph.edits import SetParams
    from graph.examples import load_example

    doc = load_example("resnet_blocks_digits")
    basic = doc.find_block("BasicBlock")
    path = tmp_path / "basic.block.json"
    save_block(doc, basic, path)
    holder, block_id = load_block(path)
    assert [holder.block(b).name for b in holder.block_ids()] == ["BasicBlock"]
    before = len(doc.block_ids())
    edit, node_id = insert_block(doc, holder, block_id, (10.0, 20.0))
    doc.apply(edit)  # the design has this very BasicBlock: it is used, not defined twice
    assert doc.attr(node_id, "params")["block"] == basic and len(doc.block_ids()) == before
    assert doc.attr(node_id, "pos") == (10.0, 20.0)
    # once the design's BasicBlock differs, the file's one comes in as BasicBlock2, a new id
    inner = doc.block(basic)
    conv = next(n for n in inner.node_ids() if inner.attr(n, "type") == "Conv2d")
    doc.apply(InBlock(basic, SetParams(conv, {"use_bias": True})))
    edit, node_id = insert_block(doc, holder, block_id, (10.0, 20.0))
    doc.apply(edit)
    new = doc.attr(node_id, "params")["block"]
    assert len(doc.block_ids()) == before + 1 and doc.block(new).name == "BasicBlock2"
    inner = doc.block(new)
    assert sorted(inner.attr(n, "name") for n in inner.node_ids()) == sorted(
        holder.block(block_id).attr(n, "name") for n in holder.block(block_id).node_ids())
