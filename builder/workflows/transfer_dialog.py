"""Transfer learning in the app: copy layers with their weights from another project (or a
safetensors file) into the current design, freeze layers, set per-layer learning-rate
multipliers, and "unfreeze all and fine-tune at lr/10" — each one undoable step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDoubleSpinBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from builder.training.guard import gui_only
from builder.workflows.job_view import JobView

PROJECT_FILTER = "NetCanvas projects (*.ncproj.json *.json);;All files (*)"
WEIGHTS_FILTER = "safetensors weights (*.safetensors);;All files (*)"


def _shape(t: Any) -> str:
    return "×".join(str(d) for d in t.shape) or "scalar"


class TransferDialog(JobView, QDialog):
    """Copy layers with weights into the design; choose what trains and how fast."""

    LOG_PREFIX = "transfer"

    def __init__(self, workflows: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Transfer learning")
        self.setObjectName("transferDialog")
        self._attach(workflows)
        self.source_doc: Any = None
        self.source_state: dict[str, Any] | None = None
        self.source_name = ""
        self.report: Any = None

        # --- copy -----------------------------------------------------------------------------
        copy_box = QGroupBox("Copy layers with weights")
        self.project_button = QPushButton("From a project…")
        self.project_button.setToolTip("A NetCanvas project with its trained weights beside it "
                                       "(<name>.weights.safetensors).")
        self.weights_button = QPushButton("From a weights file…")
        self.weights_button.setToolTip("A .safetensors file: its tensors load into the layers "
                                       "of this design with the same names.")
        self.source_label = QLabel("No source chosen.")
        self.source_label.setObjectName("muted")
        self.source_label.setWordWrap(True)
        self.layers = QTreeWidget()
        self.layers.setColumnCount(4)
        self.layers.setHeaderLabels(["layer", "type", "weights", "in this design"])
        self.layers.setRootIsDecorated(False)
        self.layers.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.layers.header().setStretchLastSection(True)
        self.freeze_copied = QCheckBox("Freeze the copied layers")
        self.freeze_copied.setChecked(True)
        self.copy_button = QPushButton("Copy into this design")
        self.copy_button.setEnabled(False)
        self.report_view = QPlainTextEdit()
        self.report_view.setReadOnly(True)
        self.report_view.setMaximumHeight(90)
        self.report_view.setPlaceholderText("What was copied, and every mismatch, shows here.")
        self.project_button.clicked.connect(lambda: self.choose_project())
        self.weights_button.clicked.connect(lambda: self.choose_weights())
        self.copy_button.clicked.connect(self.copy_selected)
        row = QHBoxLayout()
        row.addWidget(self.project_button)
        row.addWidget(self.weights_button)
        row.addWidget(self.source_label, 1)
        act = QHBoxLayout()
        act.addWidget(self.freeze_copied)
        act.addStretch(1)
        act.addWidget(self.copy_button)
        col = QVBoxLayout(copy_box)
        col.addLayout(row)
        col.addWidget(self.layers, 1)
        col.addLayout(act)
        col.addWidget(self.report_view)

        # --- train which layers, how fast ------------------------------------------------------
        train_box = QGroupBox("Which layers train, and how fast")
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["layer", "type", "trainable", "lr ×"])
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setToolTip("Set the trainable switches and multipliers (one undo "
                                     "step).")
        self.fine_tune_button = QPushButton("Unfreeze all and fine-tune at lr/10")
        self.fine_tune_button.setToolTip("Every layer trainable, the learning rate ÷ 10, the "
                                         "per-layer multipliers cleared — one undo step.")
        self.apply_button.clicked.connect(self.apply_training)
        self.fine_tune_button.clicked.connect(self.fine_tune)
        buttons = QHBoxLayout()
        buttons.addWidget(self.fine_tune_button)
        buttons.addStretch(1)
        buttons.addWidget(self.apply_button)
        col = QVBoxLayout(train_box)
        col.addWidget(self.table, 1)
        col.addLayout(buttons)

        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(copy_box, 3)
        layout.addWidget(train_box, 2)
        layout.addLayout(bottom)
        self.resize(760, 720)
        self.controller.stack.indexChanged.connect(self._document_changed)
        self.controller.documentReplaced.connect(self._document_changed)
        self.refresh()

    # --- the design -----------------------------------------------------------------------------
    @Slot()
    @gui_only
    def _document_changed(self, *_: Any) -> None:
        if self.isVisible():
            self.refresh()

    def refresh(self) -> None:
        """Rebuild both lists from the current design (undo redraws them too)."""
        self._fill_training_table()
        if self.source_doc is not None:
            self._fill_source_layers()

    def _weighted_layers(self) -> list[str]:
        """Node ids of the design's layers that have weights (their spec is trainable; a block
        instance counts as one layer: it freezes and trains slower as a whole)."""
        from graph.errors import GraphError

        doc = self.controller.doc
        out = []
        for node in doc.nodes():
            try:
                if doc.spec(node.id).trainable:
                    out.append(node.id)
            except GraphError:  # an unknown type has no weights to list
                continue
        return out

    def _fill_training_table(self) -> None:
        from backend.workflows.transfer import kind as kind_of

        doc = self.controller.doc
        multipliers = doc.section("training").get("lr_multipliers") or {}
        ids = self._weighted_layers()
        self.table.setRowCount(len(ids))
        for row, node_id in enumerate(ids):
            node = doc.node(node_id)
            name = QTableWidgetItem(node.name)
            name.setData(Qt.ItemDataRole.UserRole, node.name)
            name.setFlags(Qt.ItemFlag.ItemIsEnabled)
            kind = QTableWidgetItem(kind_of(doc, node_id))
            kind.setFlags(Qt.ItemFlag.ItemIsEnabled)
            check = QTableWidgetItem("")
            check.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            check.setCheckState(Qt.CheckState.Checked if node.trainable
                                else Qt.CheckState.Unchecked)
            self.table.setItem(row, 0, name)
            self.table.setItem(row, 1, kind)
            self.table.setItem(row, 2, check)
            spin = QDoubleSpinBox()
            spin.setDecimals(3)
            spin.setRange(0.0, 100.0)
            spin.setSingleStep(0.1)
            spin.setValue(float(multipliers.get(node.name, 1.0)))
            spin.setToolTip("This layer's learning rate = the run's learning rate × this.")
            self.table.setCellWidget(row, 3, spin)
        self.apply_button.setEnabled(bool(ids))
        self.fine_tune_button.setEnabled(bool(ids))

    # --- choosing the source ---------------------------------------------------------------------
    @gui_only
    def choose_project(self, path: str | None = None, weights: str | None = None) -> bool:
        """Use a project (and the weights beside it, or ``weights``) as the source."""
        from builder.training.panel import weights_path_for
        from graph import project
        from graph.errors import ProjectFormatError

        start = self.workflows.project_dir() or ""
        path = path or self.workflows.ask.open_file("Copy layers from a project", start,
                                                    PROJECT_FILTER)
        if not path:
            return False
        try:
            doc = project.load(path)
        except (ProjectFormatError, OSError) as exc:
            self._say(f"{Path(path).name} was not opened: "
                      f"{getattr(exc, 'message', None) or exc}", True)
            return False
        if weights is None:
            beside = weights_path_for(path)
            if beside.exists():
                weights = str(beside)
            else:
                weights = self.workflows.ask.open_file(
                    f"{Path(path).name} has no trained weights beside it: choose its weights",
                    str(Path(path).parent), WEIGHTS_FILTER)
                if not weights:
                    self._say(f"{Path(path).name} has no trained weights beside it (expected "
                              f"{beside.name}). Train it and save it in NetCanvas first, or "
                              "choose its .safetensors file.", True)
                    return False
        return self._set_source(doc, weights, f"{Path(path).name} with {Path(weights).name}")

    @gui_only
    def choose_weights(self, path: str | None = None) -> bool:
        """Use a safetensors file as the source: it loads into this design's layers by name."""
        start = self.workflows.project_dir() or ""
        path = path or self.workflows.ask.open_file("Load weights by layer name", start,
                                                    WEIGHTS_FILTER)
        if not path:
            return False
        return self._set_source(self.controller.doc.copy(), path, Path(path).name)

    def _set_source(self, doc: Any, weights: str, label: str) -> bool:
        from backend.workflows.transfer import read_weights
        from graph.errors import GraphError

        try:
            state = read_weights(weights)
        except GraphError as exc:
            self._say(exc.message, True)
            return False
        self.source_doc, self.source_state, self.source_name = doc, state, label
        self.source_label.setText(f"Source: {label} ({doc.name}, {len(state)} tensors)")
        self._fill_source_layers()
        self._say("Check the layers to copy, then “Copy into this design”.")
        return True

    def _fill_source_layers(self) -> None:
        from backend.model.codegen import generate
        from backend.workflows.transfer import kind
        from graph.errors import GraphError

        src, state = self.source_doc, self.source_state or {}
        try:
            attrs = generate(src).attr_names
        except GraphError as exc:
            self._say(f"The source design does not build: {exc.message}", True)
            self.layers.clear()
            return
        dst = self.controller.doc
        checked = {self.layers.topLevelItem(i).text(0)
                   for i in range(self.layers.topLevelItemCount())
                   if self.layers.topLevelItem(i).checkState(0) == Qt.CheckState.Checked}
        first_fill = self.layers.topLevelItemCount() == 0
        heads = {e.src for o in src.outputs() for e in src.in_edges(o)}
        self.layers.clear()
        for node in src.nodes():
            attr = attrs.get(node.id)
            prefix = f"{attr}."
            tensors = {k[len(prefix):]: v for k, v in state.items() if attr and
                       k.startswith(prefix)}
            if not tensors:
                continue
            here = dst.find(node.name)
            theirs = kind(src, node.id)
            if here is None:
                status = "new layer" if node.type != "Block" else "new block instance"
            elif kind(dst, here) != theirs:
                status = f"a {kind(dst, here)} here: type differs"
            else:
                status = "exists: weights replaced if shapes match"
            item = QTreeWidgetItem([node.name, theirs, _tensors_text(tensors), status])
            item.setToolTip(2, "\n".join(f"{k} {_shape(v)}" for k, v in tensors.items()))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            default = node.id not in heads  # the lower layers; the head is usually new
            on = default if first_fill else node.name in checked
            item.setCheckState(0, Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
            self.layers.addTopLevelItem(item)
        self.copy_button.setEnabled(self.layers.topLevelItemCount() > 0)
        if self.layers.topLevelItemCount() == 0:
            self._say("The source has no weights for any of its layers.", True)

    def checked_layers(self) -> list[str]:
        return [self.layers.topLevelItem(i).text(0)
                for i in range(self.layers.topLevelItemCount())
                if self.layers.topLevelItem(i).checkState(0) == Qt.CheckState.Checked]

    def set_checked(self, names: list[str]) -> None:
        for i in range(self.layers.topLevelItemCount()):
            item = self.layers.topLevelItem(i)
            item.setCheckState(0, Qt.CheckState.Checked if item.text(0) in names
                               else Qt.CheckState.Unchecked)

    # --- copying ----------------------------------------------------------------------------------
    @Slot()
    @gui_only
    def copy_selected(self) -> bool:
        """Copy the checked layers (added where missing, frozen if asked) as one undo step and
        make their weights the design's; list every mismatch."""
        from backend.workflows.transfer import copy_layers
        from graph.document import Node
        from graph.edits import AddNode, Composite, SetTrainable
        from graph.errors import GraphError

        names = self.checked_layers()
        if not names or self.source_doc is None:
            self._say("Check at least one layer to copy.", True)
            return False
        doc = self.controller.doc
        try:
            edit, state, report = copy_layers(self.source_doc, self.source_state, doc, names)
        except GraphError as exc:
            self._say(exc.message, True)
            return False
        self.report = report
        freeze = self.freeze_copied.isChecked()
        edits = []
        for e in (edit.edits if edit is not None else ()):
            if freeze and isinstance(e, AddNode) and e.node.name in report.copied:
                n = e.node
                e = AddNode(Node(n.id, n.type, n.name, n.params, n.pos, False))
            edits.append(e)
        if freeze:
            edits += [SetTrainable(doc.find(n), False) for n in report.copied
                      if doc.find(n) is not None and doc.attr(doc.find(n), "trainable")]
        if edits:
            text = f"copy {len(report.copied)} layer(s) from {self.source_doc.name}"
            if not self.controller.push(Composite(tuple(edits), text), text):
                self._say("The layers could not be copied (see the status bar).", True)
                return False
        if state:
            self._merge_weights(state)
        self.report_view.setPlainText(_report_text(report, freeze))
        unconnected = [n for n in report.added if not self._connected(n)]
        hint = (f" Connect {', '.join(unconnected)} to the rest of the design on the canvas."
                if unconnected else "")
        self._say(f"Copied {len(report.copied)} layer(s) with weights"
                  f"{' and froze them' if freeze and report.copied else ''}.{hint}",
                  not report.complete)
        self.refresh()
        return True

    def _connected(self, name: str) -> bool:
        doc = self.controller.doc
        node_id = doc.find(name)
        return node_id is not None and bool(doc.in_edges(node_id)) and bool(
            doc.out_edges(node_id))

    def _merge_weights(self, copied: dict[str, Any]) -> None:
        """The design's weights become: its own (or fresh ones), with the copied tensors."""
        from backend.export.weights import load_state_by_name
        from backend.model.compiler import compile_document
        from graph.errors import GraphError

        try:
            module = compile_document(self.controller.doc).module
        except GraphError:
            # not buildable yet (copied layers not wired): keep the tensors as they are
            base = dict(self.workflows.trained_state() or {})
            base.update({k: v.detach().clone() for k, v in copied.items()})
            self.workflows.set_trained_state(base)
            return
        old = self.workflows.trained_state()
        if old:
            load_state_by_name(module, old)
        load_state_by_name(module, copied)
        self.workflows.set_trained_state(
            {k: v.detach().clone() for k, v in module.state_dict().items()})

    # --- trainable switches, multipliers, fine-tuning ----------------------------------------------
    def table_values(self) -> dict[str, tuple[bool, float]]:
        out = {}
        for row in range(self.table.rowCount()):
            name = self.table.item(row, 0).data(Qt.ItemDataRole.UserRole)
            on = self.table.item(row, 2).checkState() == Qt.CheckState.Checked
            out[name] = (on, self.table.cellWidget(row, 3).value())
        return out

    @Slot()
    @gui_only
    def apply_training(self) -> bool:
        """The table's trainable switches and multipliers, as one undo step."""
        from backend.workflows.transfer import freeze, set_lr_multipliers
        from graph.edits import Composite
        from graph.errors import GraphError

        doc = self.controller.doc
        values = self.table_values()
        try:
            edits = [freeze(doc, [n for n, (on, _) in values.items() if not on], False),
                     freeze(doc, [n for n, (on, _) in values.items() if on], True),
                     set_lr_multipliers(doc, {n: m for n, (_, m) in values.items()})]
        except (GraphError, ValueError) as exc:
            self._say(getattr(exc, "message", None) or str(exc), True)
            return False
        edits = [e for e in edits if e is not None]
        if not edits:
            self._say("Nothing changed.")
            return False
        frozen = [n for n, (on, _) in values.items() if not on]
        done = self.controller.push(Composite(tuple(edits), "set trainable layers and "
                                              "learning-rate multipliers"))
        if done:
            self._say(f"{len(frozen)} frozen layer(s)"
                      f"{': ' + ', '.join(frozen) if frozen else ''}; multipliers saved in "
                      "the training settings.")
        return done

    @Slot()
    @gui_only
    def fine_tune(self) -> bool:
        """Unfreeze every layer and divide the learning rate by 10 (one undo step)."""
        from backend.workflows.transfer import fine_tune

        doc = self.controller.doc
        before = float(doc.section("training").get("lr", 1e-3))
        done = self.controller.push(fine_tune(doc, 0.1), "unfreeze all and fine-tune at lr/10")
        if done:
            after = self.controller.doc.section("training")["lr"]
            self._say(f"All layers train now; learning rate {before:.3g} → {after:.3g}.")
        return done


def _tensors_text(tensors: dict[str, Any]) -> str:
    """A layer's tensors in a cell: each with its shape, or for a block's many a count."""
    if len(tensors) <= 3:
        return ", ".join(f"{k} {_shape(v)}" for k, v in tensors.items())
    values = sum(int(v.numel()) for v in tensors.values())
    return f"{len(tensors)} tensors, {values:,} values"


def _report_text(report: Any, frozen: bool) -> str:
    lines = []
    if report.copied:
        lines.append(f"Copied with weights{' (frozen)' if frozen else ''}: "
                     + ", ".join(report.copied))
    if report.added:
        lines.append("Added to the design: " + ", ".join(report.added))
    for layer, tensor, here, there in report.shape_mismatch:
        lines.append(f"Not copied — {layer}.{tensor}: shape {tuple(here)} here, "
                     f"{tuple(there)} in the source")
    for layer, here, there in report.type_mismatch:
        lines.append(f"Not copied — {layer}: a {here} here, a {there} in the source")
    missing: dict[str, list[str]] = {}
    for layer, tensor in report.missing:
        missing.setdefault(layer, []).append(tensor)
    for layer, tensors in missing.items():
        lines.append(f"Not copied — {layer}: built differently here (no "
                     f"{', '.join(tensors[:3])}{' …' if len(tensors) > 3 else ''})")
    if report.no_weights:
        lines.append("No weights in the source for: " + ", ".join(report.no_weights))
    lines += report.notes
    return "\n".join(lines) or "Nothing was copied."
