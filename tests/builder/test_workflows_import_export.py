"""File → Import PyTorch model (a .py file's nn.Module opens as a new design with its weights;
unsupported operations listed) and File → Export → Training script (model.py + train.py; a
clear message for data that cannot be scripted)."""

from __future__ import annotations

import pytest
import torch

from builder.workflows.import_dialog import module_classes, parse_shapes
from graph.edits import SetSection

GOOD = '''
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class Conv(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)

    def forward(self, image):
        return self.conv(image).flatten(1)


class Step(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.fc = nn.Linear(n, n)

    def forward(self, x):
        return x + torch.relu(self.fc(x))


class Stacked(nn.Module):
    def __init__(self):
        super().__init__()
        self.one = Step(6)
        self.two = Step(6)

    def forward(self, x):
        return self.two(self.one(x))


class Odd(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        h = self.fc(x)
        return torch.fft.fft(h).real, torch.relu(h)
'''


pytestmark = pytest.mark.usefixtures("gui_thread_checks")


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "model.py"
    path.write_text(GOOD)
    return path


class FakeAsk:
    def __init__(self, answer=None):
        self.answer = answer
        self.asked = []

    def open_file(self, title, folder="", file_filter=""):
        self.asked.append(("open", title))
        return self.answer

    def folder(self, title, folder=""):
        self.asked.append(("folder", title))
        return self.answer

    def save_file(self, title, suggestion="", file_filter=""):
        self.asked.append(("save", title))
        return self.answer


def test_helpers_read_classes_and_shapes(model_file):
    assert module_classes(model_file) == ["Net", "Conv", "Step", "Stacked", "Odd"]
    assert parse_shapes("1,28,28; 10") == [(1, 28, 28), (10,)]
    assert parse_shapes("  ") is None
    with pytest.raises(ValueError, match="whole numbers"):
        parse_shapes("1,x")


def test_import_opens_a_new_design_with_its_weights(window, qtbot, model_file):
    window.workflows.ask = FakeAsk(str(model_file))
    dialog = window.workflows.show_import()
    assert dialog.browse()
    assert [dialog.class_box.itemText(i) for i in range(dialog.class_box.count())] == \
        ["Net", "Conv", "Step", "Stacked", "Odd"]
    dialog.class_box.setCurrentText("Net")
    with qtbot.waitSignal(dialog.runner.finished, timeout=60000):
        assert dialog.start()
    doc = window.controller.doc
    assert doc.name == "Net" and window.files.path is None and window.files.is_modified()
    assert sorted(n.type for n in doc.nodes()) == ["Dense", "Dense", "Input", "Output"]
    assert doc.node(doc.find("fc1")).params["activation"] == "relu"  # relu folded in
    weights = window.training.trained_state
    assert torch.equal(weights["fc1.weight"], dialog.result.state_dict["fc1.weight"])
    assert "Opened Net" in dialog.status.text() and "with their weights" in dialog.status.text()
    dialog.close()


def test_own_classes_import_as_blocks_unless_unchecked(window, qtbot, model_file):
    dialog = window.workflows.show_import()
    assert dialog.keep_blocks.isChecked()  # the default
    dialog.path.setText(str(model_file))
    dialog.class_box.setEditText("Stacked")
    dialog.shapes.setText("6")
    with qtbot.waitSignal(dialog.runner.finished, timeout=60000):
        assert dialog.start()
    doc = window.controller.doc
    assert [doc.block(b).name for b in doc.block_ids()] == ["Step"]
    assert "one.fc.weight" in window.training.trained_state
    dialog.keep_blocks.setChecked(False)
    with qtbot.waitSignal(dialog.runner.finished, timeout=60000):
        assert dialog.start()
    doc = window.controller.doc
    assert doc.block_ids() == [] and [n.type for n in doc.nodes()].count("Dense") == 2
    dialog.close()


def test_unsupported_operations_are_listed_and_partial_opens_the_rest(window, qtbot,
                                                                      model_file):
    window.open_example("xor_mlp")
    dialog = window.workflows.show_import()
    dialog.path.setText(str(model_file))
    dialog.class_box.setEditText("Odd")
    with qtbot.waitSignal(dialog.runner.finished, timeout=60000):
        dialog.start()
    assert window.controller.doc.name != "Odd"  # nothing opened
    assert any("torch.fft.fft" in u for u in dialog.unsupported)
    assert "torch.fft.fft" in dialog.problems.toPlainText()
    assert "supported part" in dialog.status.text()
    dialog.partial.setChecked(True)
    with qtbot.waitSignal(dialog.runner.finished, timeout=60000):
        dialog.start()
    assert window.controller.doc.name == "Odd"
    assert "left out" in dialog.status.text()


def test_an_onnx_file_imports_through_the_same_dialog(window, qtbot, tmp_path):
    pytest.importorskip("onnx2fx")
    pytest.importorskip("onnxscript")
    from backend.export.formats import export
    from builder.workflows.import_dialog import PY_FILTER
    from graph.examples import load_example

    assert "*.onnx" in PY_FILTER
    path = export(load_example("mlp_digits"), "onnx", tmp_path / "digits.onnx")
    dialog = window.workflows.show_import()
    dialog.path.setText(str(path))
    with qtbot.waitSignal(dialog.runner.finished, timeout=60000):
        assert dialog.start()  # no class to choose: the file is the model
    doc = window.controller.doc
    assert doc.name == "Digits" and [n.type for n in doc.nodes()].count("Dense") == 3
    assert "Opened Digits" in dialog.status.text()
    dialog.close()


def test_bad_input_says_what_to_fix(window, qtbot, model_file):
    dialog = window.workflows.show_import()
    assert not dialog.start()
    assert "Choose a .py file" in dialog.status.text()
    dialog.path.setText(str(model_file))
    dialog.class_box.setEditText("Missing")
    with qtbot.waitSignal(dialog.runner.failed, timeout=60000):
        dialog.start()
    assert "defines no 'Missing'" in dialog.status.text() and "Net" in dialog.status.text()
    dialog.class_box.setEditText("Net")
    dialog.shapes.setText("6, six")
    assert not dialog.start()
    assert "whole numbers" in dialog.status.text()


def test_training_script_export(window, dialogs, tmp_path):
    window.open_example("xor_mlp")
    window.workflows.ask = FakeAsk(str(tmp_path))
    window.workflows.act_script.trigger()
    assert (tmp_path / "model.py").exists() and (tmp_path / "train.py").exists()
    assert "train.py" in window.statusBar().currentMessage()
    compile((tmp_path / "train.py").read_text(), "train.py", "exec")
    # data from the user's files: a file that is not there is a clear message, nothing written
    out = tmp_path / "csv"
    out.mkdir()
    data = window.controller.doc.section("data")
    data.update({"dataset": "csv", "path": str(tmp_path / "rows.csv")})
    window.controller.push(SetSection("data", data))
    assert not window.workflows.export_script(str(out))
    assert dialogs.kinds()[-1] == "error"
    assert "rows.csv" in dialogs.asked[-1][1] and "Nothing was written" in dialogs.asked[-1][1]
    assert list(out.iterdir()) == []
    # …and once it is there, the data set goes beside the script, with the runtime
    rows = ["a,b,y"] + [f"{a},{b},{a ^ b}" for _ in range(5) for a in (0, 1) for b in (0, 1)]
    (tmp_path / "rows.csv").write_text("\n".join(rows) + "\n")
    assert window.workflows.export_script(str(out))
    assert sorted(p.name for p in out.iterdir()) == ["data.safetensors", "model.py",
                                                     "netcanvas_runtime", "train.py"]
    assert "data.safetensors" in window.statusBar().currentMessage()
    # cancelling the folder question writes nothing and says nothing
    window.workflows.ask = FakeAsk(None)
    n = len(dialogs.asked)
    assert not window.workflows.export_script()
    assert len(dialogs.asked) == n


def test_menus_hold_the_workflow_actions(window):
    bar = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert "Tools" in bar
    tools = window.workflows.tools_menu
    assert [a.text().replace("&", "") for a in tools.actions() if not a.isSeparator()] == [
        "Learning-Rate Finder…", "Hyperparameter Search…", "Transfer Learning…",
        "Profile Layers"]
    file_texts = [a.text().replace("&", "") for a in window.file_menu.actions()]
    assert file_texts.index("Import PyTorch Model…") < file_texts.index("Export")
    assert window.workflows.act_script in window.export_menu.actions()


def test_a_missing_input_shape_is_asked_for_in_the_dialog_not_the_command_line(window, qtbot,
                                                                             model_file):
    dialog = window.workflows.show_import()
    dialog.path.setText(str(model_file))
    dialog.class_box.setEditText("Conv")
    with qtbot.waitSignal(dialog.runner.finished, timeout=60000):
        dialog.start()
    text = dialog.status.text()
    assert "--input-shape" not in text + dialog.problems.toPlainText()
    assert "Input shapes" in text and "image" in text
    assert dialog.shapes.hasFocus() or dialog.focusWidget() is dialog.shapes
    dialog.shapes.setText("1,8,8")
    with qtbot.waitSignal(dialog.runner.finished, timeout=60000):
        dialog.start()
    assert window.controller.doc.name == "Conv"
    dialog.close()
