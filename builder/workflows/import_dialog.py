"""File → Import PyTorch model: trace an ``nn.Module`` from a .py file with torch.fx in the
background, list the operations no layer expresses, and open the result as a new design with
its weights."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from builder.training.guard import gui_only
from builder.workflows.job_view import JobView

PY_FILTER = ("Models (*.py *.onnx);;Python files (*.py);;ONNX files (*.onnx);;"
             "All files (*)")


def module_classes(path: str | Path) -> list[str]:
    """Names of the classes in a .py file that look like modules (read, never executed)."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return []
    names = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            bases = [ast.unparse(b) for b in node.bases]
            if any(b.endswith("Module") or b.endswith("Sequential") for b in bases):
                names.append(node.name)
    return names


def parse_shapes(text: str) -> list[tuple[int, ...]] | None:
    """``"1,28,28; 10"`` → [(1, 28, 28), (10,)] (one per forward argument); empty → None."""
    parts = [p.strip() for p in text.split(";") if p.strip()]
    if not parts:
        return None
    shapes = []
    for part in parts:
        try:
            dims = tuple(int(d) for d in part.replace("×", ",").split(",") if d.strip())
        except ValueError:
            raise ValueError(f"Input shape {part!r} is not a list of whole numbers: write it "
                             "like 1,28,28 (several inputs: 1,28,28; 10).") from None
        if not dims or any(d < 1 for d in dims):
            raise ValueError(f"Input shape {part!r} needs positive sizes, like 1,28,28.")
        shapes.append(dims)
    return shapes


class ImportDialog(JobView, QDialog):
    """Choose a file, a class and optional input shapes; import; open as a new design."""

    LOG_PREFIX = "import"

    def __init__(self, workflows: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import PyTorch model")
        self.setObjectName("importDialog")
        self._attach(workflows, "import")
        self.result: Any = None
        self.unsupported: list[str] = []

        self.path = QLineEdit()
        self.path.setPlaceholderText("model.py")
        self.path.editingFinished.connect(self._fill_classes)
        browse = QPushButton("Browse…")
        browse.clicked.connect(lambda: self.browse())
        file_row = QHBoxLayout()
        file_row.addWidget(self.path, 1)
        file_row.addWidget(browse)
        self.class_box = QComboBox()
        self.class_box.setEditable(True)
        self.class_box.setToolTip("The nn.Module class (built with no arguments), or a "
                                  "function in the file that returns a module.")
        self.shapes = QLineEdit()
        self.shapes.setPlaceholderText("optional, e.g. 1,28,28 (several inputs: 1,28,28; 10)")
        self.shapes.setToolTip("Each forward argument's shape without the batch. Needed unless "
                               "the first layer is a Linear or the file was exported by "
                               "NetCanvas.")
        self.partial = QCheckBox("Import the supported part when some operations are not")
        self.keep_blocks = QCheckBox("Keep my classes as blocks")
        self.keep_blocks.setChecked(True)
        self.keep_blocks.setToolTip("Your own submodule classes (a BasicBlock, an encoder "
                                    "layer) become block definitions with your state-dict "
                                    "keys; unchecked, the model is flattened into one sheet "
                                    "of layers. An ONNX graph is always flat.")
        form = QFormLayout()
        form.addRow("File", file_row)
        form.addRow("Class", self.class_box)
        form.addRow("Input shapes", self.shapes)
        form.addRow("", self.partial)
        form.addRow("", self.keep_blocks)
        warning = QLabel("Importing runs the file's code (as `python model.py` would): import "
                         "only files you trust.")
        warning.setObjectName("muted")
        warning.setWordWrap(True)
        self.problems = QPlainTextEdit()
        self.problems.setReadOnly(True)
        self.problems.setPlaceholderText("Operations that no NetCanvas layer expresses are "
                                         "listed here by name.")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.import_button = QPushButton("Import")
        self.import_button.setDefault(True)
        close = QPushButton("Close")
        self.import_button.clicked.connect(self.start)
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.import_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(warning)
        layout.addWidget(self.problems, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.resize(640, 420)

    @gui_only
    def browse(self) -> bool:
        start = self.workflows.project_dir() or ""
        path = self.workflows.ask.open_file("Import PyTorch model", start, PY_FILTER)
        if not path:
            return False
        self.path.setText(path)
        self._fill_classes()
        return True

    @Slot()
    def _fill_classes(self) -> None:
        current = self.class_box.currentText()
        names = module_classes(self.path.text().strip()) if self.path.text().strip() else []
        self.class_box.clear()
        self.class_box.addItems(names)
        if current and current in names:
            self.class_box.setCurrentText(current)

    @Slot(bool)
    @gui_only
    def _set_running(self, on: bool) -> None:
        self.import_button.setEnabled(not on)

    @Slot()
    @gui_only
    def start(self) -> bool:
        """Import in the background; the design opens when it succeeds."""
        if self.runner.running():
            return False
        path, name = self.path.text().strip(), self.class_box.currentText().strip()
        onnx = path.lower().endswith(".onnx")
        if not path or not (name or onnx):
            self._say("Choose a .py file and the name of the nn.Module class in it, or an "
                      ".onnx file.", True)
            return False
        try:
            shapes = parse_shapes(self.shapes.text())
        except ValueError as exc:
            self._say(str(exc), True)
            return False
        partial, blocks = self.partial.isChecked(), self.keep_blocks.isChecked()

        def job(report: Any, control: Any) -> Any:
            from backend.importer.convert import ModelImportError
            from backend.importer.files import import_file

            try:
                return import_file(path if onnx else f"{path}:{name}", shapes,
                                   allow_partial=partial, blocks=blocks)
            except ModelImportError as exc:
                return exc  # its list of unsupported operations is shown, not just a message

        self.result, self.unsupported = None, []
        self.problems.clear()
        self._say(f"Importing {name if not onnx else 'the ONNX model'} from {Path(path).name}…")
        return self.runner.start(job)

    @Slot(object)
    @gui_only
    def _on_finished(self, outcome: Any) -> None:
        if isinstance(outcome, Exception) and getattr(outcome, "inputs", ()):
            self._ask_shapes(outcome)
            return
        if isinstance(outcome, Exception):  # ModelImportError
            self.unsupported = list(getattr(outcome, "unsupported", []))
            self.problems.setPlainText("\n".join(self.unsupported) or outcome.message)
            hint = (" Check “Import the supported part” to open the rest."
                    if self.unsupported else "")
            self._say(f"Not imported: {len(self.unsupported)} operation(s) have no NetCanvas "
                      f"layer (listed above).{hint}" if self.unsupported else outcome.message,
                      True)
            return
        self.result = outcome
        self.unsupported = list(outcome.unsupported)
        lines = [f"unsupported: {u}" for u in outcome.unsupported]
        lines += [f"left out (needs an unsupported result): {s}" for s in outcome.skipped]
        lines += [f"note: {n}" for n in outcome.notes]
        self.problems.setPlainText("\n".join(lines))
        doc = outcome.doc
        if not self.workflows.open_as_new_design(doc, doc.name, outcome.state_dict or None):
            self._say("Imported, but the current design was kept open (cancelled).")
            return
        check = (f" Outputs match the module (largest difference "
                 f"{outcome.max_difference:.2g})." if outcome.max_difference is not None else "")
        missing = (f" {len(outcome.unsupported)} operation(s) were left out (listed above)."
                   if outcome.unsupported else "")
        self._say(f"Opened {doc.name}: {len(doc)} layers with their weights.{check}{missing}",
                  bool(outcome.unsupported))

    def _ask_shapes(self, error: Any) -> None:
        """The import needs the inputs' shapes: say so in this dialog's terms and put the
        cursor in the Input shapes field, whose hint names the forward arguments."""
        names = list(error.inputs)
        self.problems.setPlainText(error.message)
        example = "; ".join("1,28,28" if i == 0 else "10" for i in range(len(names)))
        self.shapes.setPlaceholderText(
            f"{', '.join(names)}: e.g. {example}" if len(names) > 1 else f"e.g. {example}")
        which = (f"the shape of {names[0]}" if len(names) == 1 else
                 f"the shapes of {', '.join(names)} in that order, separated by “;”")
        self._say(f"Type {which} without the batch dimension in “Input shapes” (e.g. "
                  f"{example}), then press Import again.", True)
        self.shapes.setFocus()
        self.shapes.selectAll()

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self.runner.shutdown()
        super().closeEvent(event)
