"""Scenario 3 built through the UI from an empty canvas, saved, reopened and exported."""

from __future__ import annotations

import ast

from builder.palette import mime_for
from graph import project
from tests.builder.conftest import mouse_drag
from tests.builder.test_canvas import _drop


def test_build_wide_and_deep_save_reopen_export(window, make_window, dialogs, tmp_path):
    view, scene, c = window.view, window.scene, window.controller
    view.reset_zoom()
    view.centerOn(500, 200)

    def place(type_name: str, x: float, y: float, **params) -> str:
        """Drop a layer from the palette at scene (x, y) and set parameters in the inspector."""
        _drop(view, mime_for(type_name), view.mapFromScene(x, y))
        node_id = scene.selected_node_ids()[0]
        for key, value in params.items():
            editor = window.inspector.editors[key]
            if key in ("shape",):
                editor.edit.setText(", ".join(map(str, value)))
                editor.edit.editingFinished.emit()
            elif key in ("units",):
                editor.box.setValue(value)
            elif key == "loss_weight":
                editor.edit.setText(str(value))
                editor.edit.editingFinished.emit()
            else:
                editor.committed.emit(value)
        return node_id

    def wire(src: str, dst: str, port: int = 0) -> None:
        mouse_drag(view, scene.nodes[src].port_pos("out", 0), scene.nodes[dst].port_pos("in", port))

    def name(node_id: str, text: str) -> None:
        scene.select_nodes([node_id])
        window.inspector.name_edit.setText(text)
        window.inspector.name_edit.editingFinished.emit()

    a = place("Input", 100, 60, shape=(5,))
    b = place("Input", 100, 300, shape=(6,))
    h1 = place("Dense", 330, 300, units=30, activation="relu")
    h2 = place("Dense", 560, 300, units=30, activation="relu")
    cat = place("Concatenate", 790, 100)
    main = place("Dense", 1000, 100, units=1)
    aux = place("Dense", 790, 400, units=1)
    out_main = place("Output", 1200, 100, loss="mse", loss_weight=0.9)
    out_aux = place("Output", 1200, 400, loss="mse", loss_weight=0.1)
    for node_id, text in ((a, "input_a"), (b, "input_b"), (h1, "hidden1"), (h2, "hidden2"),
                          (main, "main_head"), (aux, "aux_head"), (out_main, "main_output"),
                          (out_aux, "aux_output")):
        name(node_id, text)
    wire(b, h1)
    wire(h1, h2)
    wire(a, cat, 0)
    wire(h2, cat, 1)
    wire(cat, main)
    wire(main, out_main)
    wire(h2, aux)
    wire(aux, out_aux)
    doc = c.doc
    assert len(doc) == 9 and len(doc.edges()) == 8 and len(scene.edges) == 8
    assert [doc.attr(n, "name") for n in doc.inputs()] == ["input_a", "input_b"]
    report = window.analysis.run_now()
    assert report.problems == []
    assert report.edge_labels[doc.in_edges(main)[0]] == "(N, 35)"
    assert scene.edges[doc.in_edges(main)[0]].label == "(N, 35)"
    assert report.total_params == 6 * 30 + 30 + 30 * 30 + 30 + 35 + 1 + 31
    window.act_layout.trigger()

    path = tmp_path / "wide_deep.ncproj.json"
    dialogs.save_answer = str(path)
    assert window.files.save_as()
    assert "*" not in window.windowTitle()

    again = make_window()
    assert again.files.open(str(path))
    assert project.to_dict(again.controller.doc) == project.to_dict(doc)
    assert len(again.scene.nodes) == 9 and len(again.scene.edges) == 8
    code_path = tmp_path / "wide_deep.py"
    dialogs.save_answer = str(code_path)
    again.act_exports["py"].trigger()
    source = code_path.read_text()
    tree = ast.parse(source)
    forward = [f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)
               and f.name == "forward"][0]
    assert [arg.arg for arg in forward.args.args] == ["self", "input_a", "input_b"]
    assert again.analysis.run_now().code == source
    assert again.code_view.source() == source
