"""The inspector: a form for the selected layer(s), generated from the layer's `ParamSpec`s.

Edits go through the controller (one undo step each, continuous changes merge); refused values
are shown with their reason and nothing is half-applied. The form follows document events, so
undo updates it too.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from builder.analysis import Report
from builder.canvas.scene import format_count
from builder.controller import EditorController
from builder.param_editors import ParamEditor, editor_for
from graph import events as ev
from graph.catalogue import INITIALIZER_DEFAULTS, MODEL_SETTINGS_DOC, ParamSpec
from graph.edits import SetSection, rename_problem

_INITIALIZER_LABELS = {"pytorch": "PyTorch's own", "keras": "Keras (Glorot)"}  # each item's tooltip says the rest


def shared_params(specs: list) -> list[ParamSpec]:
    """Parameters (same name, kind and choices) that every selected layer type has."""
    first, *rest = specs
    out = []
    for p in first.params:
        if all(any(q.name == p.name and q.kind == p.kind and q.choices == p.choices
                   for q in s.params) for s in rest):
            out.append(p)
    return out


class Inspector(QWidget):
    def __init__(self, controller: EditorController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.node_ids: list[str] = []
        self.editors: dict[str, ParamEditor] = {}
        self.name_edit: QLineEdit | None = None
        self.trainable_box: QCheckBox | None = None
        self.initializers_box: QComboBox | None = None
        self._report: Report | None = None
        self._unsubscribe = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(8, 8, 8, 8)
        self.title = QLabel(self)
        self.title.setObjectName("inspectorTitle")
        self.title.setWordWrap(True)
        self.error_label = QLabel(self)
        self.error_label.setObjectName("inspectorError")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.form_host = QWidget(self)
        self.form = QFormLayout(self.form_host)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.info = QLabel(self)
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.doc_label = QLabel(self)
        self.doc_label.setObjectName("muted")
        self.doc_label.setWordWrap(True)
        for w in (self.title, self.error_label, self.form_host, self.info, self.doc_label):
            self._layout.addWidget(w)
        self._layout.addStretch(1)
        controller.documentReplaced.connect(self._resubscribe)
        self._resubscribe()

    # --- selection ---------------------------------------------------------------------------
    def _resubscribe(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._unsubscribe = self.controller.doc.subscribe(self._on_event)
        self.show_nodes([])

    def show_nodes(self, node_ids: list[str]) -> None:
        """Build the form for these nodes (empty: a hint)."""
        doc = self.controller.shown
        self.node_ids = [n for n in node_ids if n in doc]
        self.editors.clear()
        self.name_edit = None
        self.trainable_box = None
        self.initializers_box = None
        while self.form.rowCount():
            self.form.removeRow(0)
        self.error_label.hide()
        if not self.node_ids:
            self.title.setText("Model settings")
            self.info.setText("")
            self.doc_label.setText("Select a layer on the canvas to edit it, or drag one in "
                                   "from the palette. The initializers say how layers left at "
                                   "\"default\" start: PyTorch's own, or Keras's (what the "
                                   "textbooks' numbers assume).")
            self._model_form()
            return
        specs = [doc.spec(n) for n in self.node_ids]
        if len(self.node_ids) == 1:
            node_id = self.node_ids[0]
            spec = specs[0]
            self.title.setText(f"{doc.attr(node_id, 'name')}  ·  {spec.type}")
            self.name_edit = QLineEdit(doc.attr(node_id, "name"), self.form_host)
            self.name_edit.editingFinished.connect(self._commit_name)
            self.form.addRow("Name", self.name_edit)
            if spec.trainable:
                self.trainable_box = QCheckBox(self.form_host)
                self.trainable_box.setToolTip("Training updates this layer's weights; "
                                              "untick to freeze them (transfer learning).")
                self.trainable_box.setChecked(doc.attr(node_id, "trainable"))
                self.trainable_box.toggled.connect(self._commit_trainable)
                self.form.addRow("Trainable", self.trainable_box)
            params = list(spec.params)
            self.doc_label.setText(spec.doc)
        else:
            types = sorted({s.type for s in specs})
            self.title.setText(f"{len(self.node_ids)} layers selected")
            params = shared_params(specs)
            self.doc_label.setText(("Shared parameters of " + ", ".join(types) + ": a change "
                                    "applies to every selected layer.") if params else
                                   "These layers share no parameter.")
        for p in params:
            editor = editor_for(p, self.form_host)
            editor.committed.connect(lambda value, name=p.name: self._commit_param(name, value))
            editor.invalid.connect(self._show_error)
            self.editors[p.name] = editor
            label = QLabel(p.name.replace("_", " "), self.form_host)
            label.setToolTip(p.doc)
            self.form.addRow(label, editor)
        self._load_values()
        self._show_info()

    def _load_values(self) -> None:
        doc = self.controller.shown
        for name, editor in self.editors.items():
            values = [doc.attr(n, "params").get(name) for n in self.node_ids]
            ref = values[0].get("$param") if isinstance(values[0], dict) else None
            editor.setToolTip(f"= ${ref}: this block's parameter (each instance gives its "
                              "value); type a value to fix it here" if ref else "")
            if ref:
                editor.set_mixed()
            elif all(v == values[0] for v in values):
                editor.set_value(values[0])
            else:
                editor.set_mixed()
        if self.name_edit is not None and self.node_ids:
            self.name_edit.setText(doc.attr(self.node_ids[0], "name"))
        if self.trainable_box is not None and self.node_ids:
            self.trainable_box.blockSignals(True)
            self.trainable_box.setChecked(doc.attr(self.node_ids[0], "trainable"))
            self.trainable_box.blockSignals(False)

    def _model_form(self) -> None:
        box = QComboBox(self.form_host)
        box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        box.setMinimumContentsLength(8)
        for value in INITIALIZER_DEFAULTS:
            box.addItem(_INITIALIZER_LABELS[value], value)
            box.setItemData(box.count() - 1, MODEL_SETTINGS_DOC[value],
                            Qt.ItemDataRole.ToolTipRole)
        box.setToolTip("What 'default' kernel and bias initializers mean in this design "
                       "(saved with the project): " + "; ".join(MODEL_SETTINGS_DOC.values()))
        box.activated.connect(self._commit_initializers)
        self.initializers_box = box
        self.form.addRow("Initializers", box)
        self._load_model()

    def _load_model(self) -> None:
        if self.initializers_box is None:
            return
        value = self.controller.doc.section("model").get("initializers", "pytorch")
        self.initializers_box.blockSignals(True)
        self.initializers_box.setCurrentIndex(max(0, self.initializers_box.findData(value)))
        self.initializers_box.blockSignals(False)

    def _commit_initializers(self, index: int) -> None:
        assert self.initializers_box is not None
        value = self.initializers_box.itemData(index)
        section = self.controller.doc.section("model")
        if section.get("initializers", "pytorch") == value:
            return
        name = "Keras" if value == "keras" else "PyTorch"
        self.controller.push(SetSection("model", {**section, "initializers": value}),
                             f"initializers: {name} defaults")

    # --- commits -----------------------------------------------------------------------------
    def _commit_param(self, name: str, value: Any) -> None:
        self.error_label.hide()
        if not self.controller.set_params(self.node_ids, {name: value}):
            self._load_values()  # refused or unchanged: show the document's values again

    def _commit_name(self) -> None:
        if self.name_edit is None or not self.node_ids:
            return
        node_id, name = self.node_ids[0], self.name_edit.text().strip()
        doc = self.controller.shown
        if name == doc.attr(node_id, "name"):
            self.error_label.hide()
            return
        problem = rename_problem(doc, node_id, name)
        if problem:
            self._show_error(f"Name refused: {problem}.")
            self.name_edit.setText(doc.attr(node_id, "name"))
            return
        self.error_label.hide()
        self.controller.rename(node_id, name)

    def _commit_trainable(self, checked: bool) -> None:
        if self.node_ids:
            self.controller.set_trainable(self.node_ids[0], checked)

    def _show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()
        self.controller.message.emit(message)

    # --- following the document and the analysis ----------------------------------------------
    def _on_event(self, event: ev.Event) -> None:
        if isinstance(event, ev.BlockChanged):  # inside a definition: the open one's events
            if event.block_id != self.controller.shown.block_id:
                return
            event = event.event
        if isinstance(event, ev.SectionChanged) and event.section == "model":
            self._load_model()
        if not self.node_ids:
            return
        if isinstance(event, ev.NodeRemoved) and event.node_id in self.node_ids:
            self.show_nodes([n for n in self.node_ids if n != event.node_id])
        elif isinstance(event, (ev.ParamsChanged, ev.NodeRenamed, ev.TrainableChanged)) and (
            event.node_id in self.node_ids
        ):
            self._load_values()
            if isinstance(event, ev.NodeRenamed) and len(self.node_ids) == 1:
                self.title.setText(f"{event.new}  ·  {self.controller.shown.spec(event.node_id).type}")

    def apply_report(self, report: Report) -> None:
        self._report = report
        self._show_info()

    def _show_info(self) -> None:
        report = self._report
        if len(self.node_ids) != 1:
            self.info.setText("")
            return
        info = report.nodes.get(self.node_ids[0]) if report else None
        if info is None:
            self.info.setText("<i>Shapes appear after the analysis.</i>" if report is None
                              else "")
            return
        rows = []
        if info.input_shapes:
            rows.append(f"<b>Input</b> {', '.join(info.input_shapes)}")
        if info.output_shapes:
            rows.append(f"<b>Output</b> {', '.join(info.output_shapes)}")
        if info.params is not None:
            text = format_count(info.params)
            if info.trainable_params is not None and info.trainable_params != info.params:
                text += f" ({info.trainable_params:,} trainable)"
            rows.append(f"<b>Parameters</b> {text}")
        if info.error:
            rows.append(f"<span style='color:#d64545'>{_escape(info.error)}</span>")
        self.info.setText("<br>".join(rows))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
