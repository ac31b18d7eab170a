"""Blocks on the canvas: group (Ctrl+G), open with a double-click (breadcrumb), edit inside,
undo, ungroup — the document and the scene's items agree at every step."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from tests.builder.gestures import Gestures


def _counts(window):
    """(layers, connections) of the document on the canvas, checked against the scene."""
    shown, scene = window.controller.shown, window.scene
    assert set(scene.nodes) == set(shown.node_ids())
    assert set(scene.edges) == set(shown.edges())
    return len(shown), len(shown.edges())


def _double_click(window, node_id):
    view, item = window.view, window.scene.nodes[node_id]
    view.ensureVisible(item, 20, 20)
    point = view.mapFromScene(item.mapToScene(QPointF(60, 14)))
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     point)
    QTest.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier, point)
    QTest.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier, point)


def test_group_open_edit_inside_undo_ungroup(window, qtbot):
    g = Gestures(window)
    c = window.controller
    doc = c.doc
    x = c.add_layer("Input", (0, 0), shape=(8,))
    d1 = c.insert_after("Dense", [(x, 0)])
    d2 = c.insert_after("Dense", [(d1, 0)])
    out = c.insert_after("Output", [(d2, 0)])
    assert _counts(window) == (4, 3)
    window.scene.select_nodes([d1, d2])
    g.shortcut("Ctrl+G")
    assert doc.block_ids() == ["b1"]
    assert _counts(window) == (3, 2)
    (block,) = [n for n in doc.node_ids() if doc.attr(n, "type") == "Block"]
    item = window.scene.nodes[block]
    assert item.subtitle.startswith("Block")
    assert len(item.inputs) == 1 and len(item.outputs) == 1
    window.analysis.run_now()
    assert "(N, " in item.toolTip() and "in x" in item.toolTip()
    # double-click: the inside of the block, with a breadcrumb back to the design
    _double_click(window, block)
    assert c.shown is doc.block("b1")
    assert not window.breadcrumb.isHidden()
    assert window.breadcrumb.text() == f"{doc.name} › Block"
    assert _counts(window) == (4, 3)  # x → dense → dense → out
    inner = c.shown
    dense = d2  # grouped layers keep their ids inside the definition
    assert c.set_params([dense], {"units": 5})
    assert inner.attr(dense, "params")["units"] == 5
    report = window.analysis.run_now()
    assert report.nodes[out].input_shapes == ("(N, 5)",)  # the instance follows
    assert window.scene._report is report.view(inner)
    # add a layer inside from the palette: one undo step, in the definition
    window.scene.select_nodes([dense])
    g.palette_double_click("ReLU")
    assert _counts(window) == (5, 4)
    c.stack.undo()
    assert _counts(window) == (4, 3)
    c.stack.undo()  # the parameter change
    assert inner.attr(dense, "params")["units"] == 32
    # back to the design, ungroup (Ctrl+Shift+G), undo and redo
    window.breadcrumb.back.click()
    assert c.shown is doc and _counts(window) == (3, 2) and window.breadcrumb.isHidden()
    window.scene.select_nodes([block])
    g.shortcut("Ctrl+Shift+G")
    assert doc.block_ids() == [] and _counts(window) == (4, 3)
    c.stack.undo()
    assert doc.block_ids() == ["b1"] and _counts(window) == (3, 2)
    c.stack.undo()  # the group itself
    assert doc.block_ids() == [] and _counts(window) == (4, 3)
    assert set(doc.node_ids()) == {x, d1, d2, out}


def test_palette_lists_the_designs_blocks_and_closing_follows_removal(window, qtbot):
    c = window.controller
    x = c.add_layer("Input", (0, 0), shape=(8,))
    d = c.insert_after("Dense", [(x, 0)])
    c.insert_after("Output", [(d, 0)])
    block = c.group_into_block([d], "Hidden")
    palette = window.palette
    window.analysis.run_now()
    assert palette.block_item("b1").text(0) == "Hidden"
    # insert a second instance from the palette after the block
    window.scene.select_nodes([block])
    palette.blockActivated.emit("b1")
    blocks = [n for n in c.doc.node_ids() if c.doc.attr(n, "type") == "Block"]
    assert len(blocks) == 2
    c.open_block("b1")
    assert _counts(window) == (3, 2)
    c.stack.undo()  # the second instance
    c.stack.undo()  # the group: the definition goes, the canvas shows the design again
    assert c.shown is c.doc and _counts(window) == (3, 2)
    assert c.doc.block_ids() == []


def test_an_open_block_shows_references_and_its_first_instance(window, qtbot):
    from graph.examples import load_example

    c = window.controller
    c.set_document(load_example("resnet_blocks_digits"))
    window.analysis.set_document(c.doc)
    window.analysis.run_now()
    layer1 = c.doc.find("layer1")
    assert window.scene.nodes[layer1].subtitle == "BasicBlock ×2 · channels 16"
    basic = c.doc.find_block("BasicBlock")
    c.open_block(basic)
    inner = c.shown
    conv1 = inner.find("conv1")
    assert "$channels" in window.scene.nodes[conv1].subtitle
    # shapes inside are the first instance's (layer1.0: 16 channels, 8 × 8)
    edge = inner.out_edges(conv1)[0]
    assert window.scene.edges[edge].label == "(N, 16, 8, 8)"
    window.scene.select_nodes([conv1])
    assert "$channels" in window.inspector.editors["filters"].toolTip()


def test_from_an_empty_canvas_one_block_used_twice_with_its_own_width(window, qtbot):
    """Draw a conv block, group it, give it a width parameter from the layer's menu, use it
    twice with different widths: the code has one class, the shapes differ per instance."""
    g = Gestures(window)
    c = window.controller
    doc = c.doc
    x = c.add_layer("Input", (0, 0), shape=(1, 8, 8))
    conv = c.insert_after("Conv2d", [(x, 0)])
    assert c.set_params([conv], {"padding": 1, "filters": 8})
    bn = c.insert_after("BatchNorm", [(conv, 0)])
    block = c.group_into_block([conv, bn], "ConvUnit")
    c.open_block("b1")
    item = window.scene.nodes[conv]
    assert g.context_menu(item.mapToScene(item.boundingRect().center()),
                          "Make a Block Parameter", "filters")
    inner = doc.block("b1")
    assert [p.name for p in inner.block_params] == ["filters"]
    assert inner.attr(conv, "params")["filters"] == {"$param": "filters"}
    assert doc.attr(block, "params")["filters"] == 8  # the instance keeps its value
    c.close_block()
    window.scene.select_nodes([block])
    second = c.insert_block("b1", [block])
    assert c.set_params([second], {"filters": 16})
    window.scene.select_nodes([second])
    flatten = c.insert_after("Flatten", [(second, 0)])
    c.insert_after("Output", [(c.insert_after("Dense", [(flatten, 0)]), 0)])
    report = window.analysis.run_now()
    assert report.nodes[block].output_shapes == ("(N, 8, 8, 8)",)
    assert report.nodes[second].output_shapes == ("(N, 16, 8, 8)",)
    assert report.code.count("class ConvUnit(nn.Module)") == 1
    assert "ConvUnit(in_channels=8, filters=16)" in report.code
    for _ in range(5):  # Output, Dense, Flatten, the value, the second instance
        c.stack.undo()
    c.stack.undo()  # the parameter
    assert inner.block_params == () and inner.attr(conv, "params")["filters"] == 8
    assert "filters" not in doc.attr(block, "params")


def test_the_summary_folds_per_block_and_unfolds_to_its_layers(window, qtbot):
    from graph.examples import load_example

    c = window.controller
    c.set_document(load_example("resnet_blocks_digits"))
    window.analysis.set_document(c.doc)
    report = window.analysis.run_now()
    summary = window.summary
    doc = c.doc
    layer1, layer2 = doc.find("layer1"), doc.find("layer2")
    rows = {r[0]: r for r in summary.rows()}
    assert len(rows) == len(doc)  # one row per node of the design: blocks folded
    assert rows["layer1"][1] == "BasicBlock ×2"
    assert rows["layer1"][3] == f"{report.nodes[layer1].params:,}"
    assert rows["layer2"][1] == "Stage"
    item = summary.item_named("layer1")
    assert item.childCount() == 0  # unfolded on demand
    item.setExpanded(True)
    assert [r[0] for r in summary.children(item)] == ["layer1.0", "layer1.1"]
    first = item.child(0)
    first.setExpanded(True)
    inner = summary.children(first)
    assert [r[0] for r in inner] == ["conv1", "bn1", "relu1", "conv2", "bn2", "add", "relu2"]
    assert inner[0][3] == f"{16 * 16 * 9:,}" and inner[0][2] == "(N, 16, 8, 8)"
    # the instance rows add up to the block's row, FLOPs included
    halves = [int(r[3].replace(",", "")) for r in summary.children(item)]
    assert sum(halves) == report.nodes[layer1].params
    assert first.text(4) != "–"
    # a block inside a block unfolds the same way; the layers of layer2 are 32 channels wide
    stage = summary.item_named("layer2")
    stage.setExpanded(True)
    nested = [stage.child(i) for i in range(stage.childCount())
              if stage.child(i).text(1).startswith("BasicBlock")]
    assert nested
    nested[0].setExpanded(True)
    assert summary.children(nested[0])[0][2] == "(N, 32, 4, 4)"
    assert report.nodes[layer2].params == sum(
        int(stage.child(i).text(3).replace(",", "")) for i in range(stage.childCount())
        if stage.child(i).text(3) != "–")
    # what was unfolded stays unfolded after the next analysis
    window.analysis.run_now()
    assert summary.item_named("layer1").isExpanded()
    assert summary.item_named("layer1.0").isExpanded()
    assert summary.item_named("layer1").childCount() == 2


def test_export_a_block_and_insert_it_into_another_design(window, dialogs, qtbot, tmp_path):
    """File ▸ Export Block… writes the open block with the blocks it uses; File ▸ Insert Block
    from File… defines them in another design with one instance (one undo step); the code has
    the classes."""
    from graph.block_files import load_block
    from graph.examples import load_example

    c = window.controller
    c.set_document(load_example("resnet_blocks_digits"))
    window.analysis.set_document(c.doc)
    path = tmp_path / "stage.block.json"
    dialogs.save_answer = str(path)
    assert not window.export_block()  # nothing open or selected: says so, writes nothing
    assert not path.exists()
    c.open_block(c.doc.find_block("Stage"))
    window.act_export_block.trigger()
    holder, block_id = load_block(path)
    assert holder.block(block_id).name == "Stage"
    assert sorted(holder.block(b).name for b in holder.block_ids()) == \
        ["BasicBlock", "DownBlock", "Projection", "Stage"]
    # another design: an input of 16 channels, then the block from the file
    dialogs.name_answer = "Other"
    Gestures(window).shortcut("Ctrl+N")
    doc = c.doc
    assert doc.name == "Other" and doc.block_ids() == []
    x = c.add_layer("Input", (0, 0), shape=(16, 8, 8))
    dialogs.open_answer = str(path)
    window.act_insert_block.trigger()
    assert sorted(doc.block(b).name for b in doc.block_ids()) == \
        ["BasicBlock", "DownBlock", "Projection", "Stage"]
    (stage,) = [n for n in doc.node_ids() if doc.attr(n, "type") == "Block"]
    assert doc.block(doc.attr(stage, "params")["block"]).name == "Stage"
    assert set(window.scene.nodes) == set(doc.node_ids())
    from graph.events import Edge

    assert c.connect_ports(Edge(x, 0, stage, 0))
    flat = c.insert_after("Flatten", [(stage, 0)])
    c.insert_after("Output", [(c.insert_after("Dense", [(flat, 0)]), 0)])
    report = window.analysis.run_now()
    assert report.problems == [], report.problems
    defaults = {p.name: p.default for p in holder.block(block_id).block_params}
    assert doc.attr(stage, "params")["channels"] == defaults["channels"]  # a new instance
    assert report.nodes[stage].output_shapes == (f"(N, {defaults['channels']}, 4, 4)",)
    for cls in ("BasicBlock", "DownBlock", "Projection", "Stage"):
        assert f"class {cls}(nn.Module)" in report.code or f"class {cls}(nn.Sequential)" in \
            report.code
    for _ in range(4):  # Output, Dense, Flatten, the connection
        c.stack.undo()
    c.stack.undo()  # the insertion, with its definitions: one step
    assert doc.block_ids() == [] and list(doc.node_ids()) == [x]
    # a design file is not a block file: a message, nothing changes
    design = tmp_path / "design.json"
    from graph.project import save

    save(load_example("resnet_blocks_digits"), design)
    dialogs.open_answer = str(design)
    assert window.insert_block_file() is None
    assert doc.block_ids() == []
    assert "not a block file" in dialogs.asked[-1][1]
