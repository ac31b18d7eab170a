"""Issue 11's "done when", with real gestures: from an empty canvas, a small ResNet for the 8x8
digits with one residual block drawn once (Ctrl+G), used three times from the palette's Blocks
group; trained live; the block opened and changed (every instance follows: the analysis and the
code); the exported .py has a ``BasicBlock`` class used by the model's class."""

from __future__ import annotations

import ast

import pytest
from PySide6.QtCore import Qt

from tests.builder.gestures import Gestures
from tests.builder.training_helpers import DONE_MS

pytestmark = pytest.mark.usefixtures("gui_thread_checks", "training_process")

CTRL = Qt.KeyboardModifier.ControlModifier


def _editor(window, key):
    editor = window.inspector.editors[key]
    return getattr(editor, "edit", None) or editor.box.lineEdit()


def _convs(code: str) -> list[str]:
    """The convolutions the BasicBlock class builds, as written."""
    (cls,) = [c for c in ast.parse(code).body
              if isinstance(c, ast.ClassDef) and c.name == "BasicBlock"]
    return [ast.unparse(n) for n in ast.walk(cls) if isinstance(n, ast.Call)
            and ast.unparse(n.func).endswith("Conv2d")]


def test_build_a_resnet_from_one_block_train_it_change_the_block_export(window, dialogs, qtbot,
                                                                        tmp_path):
    g = Gestures(window)
    c = window.controller
    dialogs.name_answer = "DigitsNet"
    g.shortcut("Ctrl+N")
    doc = c.doc
    assert doc.name == "DigitsNet" and len(doc) == 0
    g.click_tab(window.bottom_tabs, "Training")
    g.choose(window.training.form.field("data.dataset").widget, "digits")
    assert c.doc.section("data").get("dataset") == "digits"
    selected = window.scene.selected_node_ids

    def add(type_name: str, **typed) -> str:
        g.palette_double_click(type_name)
        (node_id,) = selected()
        for key, text in typed.items():
            g.type_into(_editor(window, key), text)
        return node_id

    # the stem
    add("Input", shape="1,8,8")
    add("Conv2d", filters="16", padding="1")
    add("BatchNorm")
    stem = add("ReLU")
    # the residual block, drawn once: conv, norm, relu, conv, norm, + the block's input, relu
    conv1 = add("Conv2d", filters="16", padding="1")
    bn1 = add("BatchNorm")
    relu1 = add("ReLU")
    conv2 = add("Conv2d", filters="16", padding="1")
    bn2 = add("BatchNorm")
    plus = add("Add")
    g.wire(stem, plus, 1)  # the shortcut
    relu2 = add("ReLU")
    assert [e.src for e in doc.in_edges(plus)] == [bn2, stem]
    g.click_node(conv1)
    for node_id in (bn1, relu1, conv2, bn2, plus, relu2):
        g.click_node(node_id, CTRL)
    assert set(selected()) == {conv1, bn1, relu1, conv2, bn2, plus, relu2}
    g.shortcut("Ctrl+G")
    (block_id,) = doc.block_ids()
    (first,) = selected()
    assert doc.attr(first, "type") == "Block"
    # name it: open it (double-click), type the name into the breadcrumb
    g.double_click_node(first)
    assert c.shown is doc.block(block_id)
    g.type_into(window.breadcrumb.name_edit, "BasicBlock")
    assert doc.block(block_id).name == "BasicBlock"
    assert window.breadcrumb.text() == "DigitsNet › BasicBlock"
    window.breadcrumb.back.click()
    g.count += 1
    assert c.shown is doc
    # two more instances from the palette's Blocks group, each after the selected one
    window.analysis.run_now()  # (the palette lists the design's blocks after an analysis)
    assert window.palette.block_item(block_id).text(0) == "BasicBlock"
    g.click_node(first)
    g.palette_block(block_id)
    (second,) = selected()
    g.palette_block(block_id)
    (third,) = selected()
    instances = [n for n in doc.node_ids() if doc.attr(n, "type") == "Block"]
    assert sorted(instances) == sorted([first, second, third])
    assert [e.src for e in doc.in_edges(third)] == [second]
    # pooling, the head, the output
    add("AdaptiveAvgPool2d", output_size="1")
    add("Flatten")
    add("Dense", units="10")
    add("Output")
    report = window.analysis.run_now()
    assert report.problems == [], report.problems
    assert report.code.count("class BasicBlock(nn.Module)") == 1
    params_before, convs_before = report.total_params, _convs(report.code)
    assert len(convs_before) == 2 and convs_before[0] == convs_before[1]
    print(f"small ResNet drawn in {g.count} gestures")

    # train it live a couple of epochs
    panel = window.training
    panel.run_overrides = {"epochs": 2}
    assert window.run_training()
    qtbot.waitUntil(lambda: not panel.running(), timeout=DONE_MS)
    assert panel.run.status == "completed", panel.status.text()
    (name,) = [doc.attr(n, "name") for n in doc.outputs()]
    assert panel.plots.points(name, "train") == 2 and panel.plots.points(name, "val") == 2
    assert panel.plots.points(name, "raw") >= 1
    assert panel.trained_state is not None

    # open the block and change a layer inside: every instance follows
    g.double_click_node(second)
    assert c.shown is doc.block(block_id)
    g.click_node(conv2)
    g.type_into(_editor(window, "kernel_size"), "1, 1")  # a 1×1 convolution, no padding
    g.type_into(_editor(window, "padding"), "0")
    inner = doc.block(block_id)
    assert inner.attr(conv2, "params")["kernel_size"] == (1, 1)
    report = window.analysis.run_now()
    assert report.problems == [], report.problems
    # each instance's conv2 lost 16·16·(9 - 1) weights
    assert params_before - report.total_params == 3 * 16 * 16 * 8
    convs_after = _convs(report.code)
    assert len(convs_after) == 2 and convs_after[0] == convs_before[0]
    assert convs_after[1] != convs_before[1] and "3" not in convs_after[1].split(",")[2]
    window.breadcrumb.back.click()

    # export the code: one BasicBlock class, used by the model's class
    path = tmp_path / "digits_net.py"
    dialogs.save_answer = str(path)
    window.act_exports["py"].trigger()
    source = path.read_text()
    tree = ast.parse(source)
    classes = {cls.name: cls for cls in tree.body if isinstance(cls, ast.ClassDef)}
    assert "BasicBlock" in classes and "DigitsNet" in classes
    assert ast.unparse(classes["BasicBlock"].bases[0]) == "nn.Module"
    used = [n for n in ast.walk(classes["DigitsNet"]) if isinstance(n, ast.Call)
            and ast.unparse(n.func) == "BasicBlock"]
    assert len(used) == 3
    assert source == window.analysis.run_now().code
    panel.shutdown()
