"""The data and training settings form; every change is one undoable edit of the document.

The rows are derived from the settings' declarations (`TrainConfig`, `ScheduleConfig`,
`DataConfig`, `AugmentConfig`): one `SettingField` per declared setting, in declaration order,
with its label, bounds, unit and help; a setting that does not apply is disabled with the
reason as its tooltip (or hidden, for the schedule's own parameters). Only what no declaration
can say is written here: Browse… beside the path, Find… beside the learning rate, the class
weights typed by hand, the devices this PyTorch sees and the per-design mapping of inputs and
outputs. A change writes just its key through the controller (``SetSection`` / set_params),
after the same validation training uses; the form refreshes itself after undo.

The mapping: each Input's columns are typed as ranges (``0-4, 7``, checked as they are typed
against the loaded data set's columns: a bad text is marked with the reason and never written)
or chosen in the column picker (`ColumnPicker`: the data set's columns with their types and
first values); either writes the mapping and the Input's size in one undo step. Each Output
picks one of the data set's targets. The facts come from `set_facts` (the window's background
load of the data, `builder.targets`); the built-in sets' sizes from
`backend.data.columns.BUILTIN_FACTS`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from backend.data.columns import (
    BUILTIN_FACTS,
    column_indices,
    format_columns,
    parse_columns,
)
from backend.data.config import ENCODINGS, DataConfig
from backend.training.config import TrainConfig
from backend.training.setting import NESTED, declared, default_of, parse, problems
from builder.training.column_picker import ColumnPicker
from builder.training.guard import gui_only
from builder.training.setting_fields import SettingField
from graph.catalogue import LOSSES
from graph.edits import Composite, Edit, SetParams, SetSection

#: Class-weight choices: the combo's texts.
CW_NONE, CW_BALANCED, CW_HAND = "none", "balanced", "by hand"
#: Data sets read from a folder (image class folders, IDX pairs, the MNIST cache).
FOLDER_DATASETS = ("images", "idx", "mnist", "fashion_mnist")
#: File filters of the Browse dialog per data set kind (anything else: all data files).
FILE_FILTERS = {"csv": "CSV files (*.csv *.tsv *.txt);;All files (*)",
                "npz": "NumPy archives (*.npz);;All files (*)"}
#: Data set kinds the form treats as files or folders (a Browse… never switches them).
FILE_DATASETS = ("csv", "npz", "idx", "images", "mnist", "fashion_mnist")
ANY_DATA_FILTER = "Data files (*.csv *.tsv *.txt *.npz);;All files (*)"
#: Losses whose output's last dimension is the number of classes (class weights apply).
CLASS_LOSSES = ("cross_entropy", "nll")
#: The config dataclass of each section the form edits.
SECTIONS = {"data": DataConfig, "training": TrainConfig}

#: Browse dialog: ``(dataset kind, current path, folder?) -> chosen path or None``.
PathChooser = Callable[[str, str, bool], "str | None"]
#: How a typed field the form refuses looks (the reason is its tooltip and the form's message).
BAD_FIELD = "QLineEdit { border: 1px solid #c62828; }"


class DataSetFacts(QStyledItemDelegate):
    """The data set list shows each built-in set's size and target beside its name (the
    combo's own text stays the name, which is the setting's value)."""

    def initStyleOption(self, option: QStyleOptionViewItem,  # noqa: N802 - Qt override
                        index: QModelIndex) -> None:
        super().initStyleOption(option, index)
        facts = BUILTIN_FACTS.get(str(index.data()))
        if facts is not None:
            option.text = f"{option.text}  —  {facts.text()}"


def parse_features(text: str) -> list[int | str]:
    """``"0-4, 7"`` or ``"age, bmi"`` → feature list (indices stay ints); ValueError with the
    reason for text that is not a column list (`backend.data.columns.parse_columns`)."""
    return parse_columns(text)


def parse_class_weights(text: str, classes: int | None = None) -> list[float]:
    """``"1, 2.5, 1"`` → ``[1.0, 2.5, 1.0]``; ValueError with a message for people otherwise.

    ``classes``: the number of classes when known (the list must have one weight per class).
    """
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p.strip()]
    if not parts:
        raise ValueError("Enter one weight per class, e.g. “1, 2.5, 1”.")
    weights = []
    for part in parts:
        try:
            value = float(part)
        except ValueError:
            raise ValueError(f"“{part.strip()}” is not a number; enter weights like "
                             "“1, 2.5, 1”.") from None
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"Class weight {part.strip()} is not allowed; weights are numbers "
                             "of at least 0.")
        weights.append(value)
    if not any(weights):
        raise ValueError("All class weights are 0; at least one class must count.")
    if classes is not None and len(weights) != classes:
        raise ValueError(f"{len(weights)} weights for {classes} classes; enter one weight per "
                         "class, in class order.")
    return weights


def format_class_weights(weights: Any) -> str:
    """``[1.0, 2.5]`` → ``"1, 2.5"`` (what the by-hand field shows)."""
    if not isinstance(weights, list):
        return ""
    return ", ".join(f"{w:g}" if isinstance(w, (int, float)) else str(w) for w in weights)


def class_count(doc: Any) -> int | None:
    """The number of classes of the design's class outputs (cross-entropy / NLL), from the
    inferred shape of what feeds them; None when unknown or when the outputs disagree."""
    outputs = [n for n in doc.outputs()
               if doc.attr(n, "params").get("loss", "mse") in CLASS_LOSSES]
    if not outputs:
        return None
    try:
        from backend.model import shapes  # imports torch: only on a class-weight edit

        analysis = shapes.analyse(doc)
    except Exception:  # noqa: BLE001 - a design the analysis cannot read: count unknown
        return None
    counts = set()
    for node_id in outputs:
        info = analysis.nodes.get(node_id)
        shape = info.input_shapes[0] if info is not None and info.input_shapes else None
        if not shape or not isinstance(shape[-1], int) or shape[-1] < 2:
            return None
        counts.add(shape[-1])
    return counts.pop() if len(counts) == 1 else None


def ask_path(parent: QWidget | None, kind: str, current: str, folder: bool) -> str | None:
    """The real Browse dialog: a folder for folder data sets, else a data file."""
    start = str(Path(current).parent if current and not folder else current or "")
    if folder:
        path = QFileDialog.getExistingDirectory(parent, f"Choose the {kind} folder", start)
        return path or None
    path, _ = QFileDialog.getOpenFileName(parent, "Choose the data file", start,
                                          FILE_FILTERS.get(kind, ANY_DATA_FILTER))
    return path or None


def show_lr_finder(widget: QWidget) -> Any:
    """Open the learning-rate finder (Tools menu) of the window holding ``widget``; walks up
    the parents, since a floating dock is a window of its own. None outside a main window."""
    owner = widget.parentWidget()
    while owner is not None and getattr(owner, "workflows", None) is None:
        owner = owner.parentWidget()
    return owner.workflows.show_lr_finder() if owner is not None else None


def _row(*widgets: QWidget, stretch: int = 0) -> QWidget:
    """Widgets side by side as one form field (``stretch``: the index that takes the room)."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    for i, w in enumerate(widgets):
        row.addWidget(w, 1 if i == stretch else 0)
    return box


def _combo(items: tuple[str, ...] | list[str], tip: str = "") -> QComboBox:
    box = QComboBox()
    box.addItems(list(items))
    box.setToolTip(tip)
    return box


def _get(section: dict[str, Any], path: str) -> Any:
    """The raw value at ``path`` (``"lr"``, ``"schedule.kind"``) of a section, or a KeyError."""
    head, _, rest = path.partition(".")
    if not rest:
        return section[head]
    nested = section[head]
    if head == "schedule" and isinstance(nested, str):
        nested = {"kind": nested}
    if not isinstance(nested, dict):
        raise KeyError(path)
    return nested[rest]


class SettingsForm(QWidget):
    """Data set, split, mapping and training settings of the current document."""

    #: The data section changed (the preview reloads).
    dataChanged = Signal()
    #: "Find…" beside the learning rate: open the learning-rate finder (the panel connects it).
    findLearningRateRequested = Signal()

    def __init__(self, controller: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self._loading = False
        self._devices_filled = False
        #: The Browse dialog; tests put a function answering without a dialog here.
        self.choose_path: PathChooser = lambda kind, current, folder: ask_path(
            self, kind, current, folder)
        #: One field per declared setting shown here, by "section.path" ("training.lr").
        self.fields: dict[str, SettingField] = {}
        self._rows: dict[str, tuple[QFormLayout, QWidget]] = {}
        self.browse = QPushButton("Browse…")
        self.browse.setToolTip("Choose the data file, or the folder for images, IDX and MNIST.")
        self.find_lr = QPushButton("Find…")
        self.find_lr.setToolTip("Open the learning-rate finder: sweep the learning rate, "
                                "then apply its suggestion.")
        self.augment = QCheckBox("on")  # the augmentation group's switch
        self.message = QLabel("")
        self.message.setObjectName("formMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c62828;")
        self.message.hide()
        beside = {"data.path": self.browse, "training.lr": self.find_lr}
        data_box, self._data_form = QGroupBox("Data"), QFormLayout()
        data_box.setLayout(self._data_form)
        self._add_fields(self._data_form, "data", DataConfig, beside)
        dataset = self.field("data.dataset").widget
        dataset.setItemDelegate(DataSetFacts(dataset))
        for i in range(dataset.count()):
            facts = BUILTIN_FACTS.get(dataset.itemText(i))
            if facts is not None:
                dataset.setItemData(i, facts.text(), Qt.ItemDataRole.ToolTipRole)
        dataset.view().setMinimumWidth(dataset.view().sizeHintForColumn(0) + 24)
        self.data_facts = QLabel("")
        self.data_facts.setObjectName("muted")
        self.data_facts.setWordWrap(True)
        row, _role = self._data_form.getWidgetPosition(self._rows["data.dataset"][1])
        self._data_form.insertRow(row + 1, "", self.data_facts)
        # --- mapping (rebuilt per design) -------------------------------------------------
        self.mapping_box = QGroupBox("Inputs and outputs")
        self.mapping = QGridLayout(self.mapping_box)
        self.mapping.setHorizontalSpacing(4)
        margins = self.mapping.contentsMargins()  # narrow sides: the outputs row is wide
        self.mapping.setContentsMargins(6, margins.top(), 6, margins.bottom())
        self.input_edits: dict[str, QLineEdit] = {}
        self.output_rows: dict[str, dict[str, QWidget]] = {}
        self._mapping_key: tuple = ()
        #: The data set's columns and targets (`backend.data.columns.DataFacts`), when loaded.
        self.facts: Any = None
        self.facts_error = ""
        self.picker = ColumnPicker()
        self.picker.columnsChosen.connect(self._columns_chosen)
        self.picker_note = QLabel("")
        self.picker_note.setObjectName("muted")
        self.picker_note.setWordWrap(True)
        self.mapping_message = QLabel("")
        self.mapping_message.setObjectName("formMessage")
        self.mapping_message.setWordWrap(True)
        self.mapping_message.setStyleSheet("color: #c62828;")
        self.mapping_message.hide()
        train_box, self._train_form = QGroupBox("Training"), QFormLayout()
        train_box.setLayout(self._train_form)
        self._add_fields(self._train_form, "training", TrainConfig, beside)
        self._train_form.addRow(self.message)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(data_box)
        layout.addWidget(self.mapping_box)
        layout.addWidget(train_box)
        layout.addStretch(1)
        self.browse.clicked.connect(self.browse_path)
        self.augment.toggled.connect(self._augment_switched)
        self.find_lr.clicked.connect(lambda _checked=False: self.findLearningRateRequested.emit())
        self.refresh()

    # --- rows from the declarations ----------------------------------------------------------
    def _add_fields(self, form: QFormLayout, section: str, cls: type,
                    beside: dict[str, QWidget], prefix: str = "") -> None:
        for name, spec in declared(cls):
            if not spec.form:
                continue
            key = f"{section}.{prefix}{name}"
            if spec.kind == NESTED:
                if spec.switch:
                    self.augment.setToolTip(spec.help)
                    form.addRow(spec.label, self.augment)
                    self._rows[key] = (form, self.augment)
                self._add_fields(form, section, spec.nested, beside, f"{prefix}{name}.")
                continue
            builder = getattr(self, f"_row_{name}", None) if not prefix else None
            if builder is not None:
                widget = builder(key, spec)
            else:
                field = SettingField(key, spec, default_of(cls, name), self)
                field.edited.connect(lambda key=key: self._field_edited(key))
                self.fields[key] = field
                widget = field.widget
                if key in beside:
                    widget = _row(widget, beside[key])
            form.addRow(spec.label, widget)
            self._rows[key] = (form, widget)

    def _row_class_weights(self, key: str, spec: Any) -> QWidget:
        self.class_weights = _combo((CW_NONE, CW_BALANCED, CW_HAND), spec.help)
        self.class_weight_edit = QLineEdit()
        self.class_weight_edit.setPlaceholderText("1, 2.5, 1")
        self.class_weight_edit.setToolTip("One weight (≥ 0) per class, in class order, "
                                          "comma-separated; Enter applies them.")
        self.class_weights.activated.connect(self._class_weights_chosen)
        self.class_weight_edit.editingFinished.connect(self._class_weights_typed)
        return _row(self.class_weights, self.class_weight_edit, stretch=1)

    def _row_device(self, key: str, spec: Any) -> QWidget:
        self.device = _combo(["auto", "cpu"], spec.help + " CUDA and MPS devices appear when "
                             "this PyTorch sees them.")
        self.device.activated.connect(
            lambda _i: self._edit("training", {"device": self.device.currentText()}))
        return self.device

    def field(self, key: str) -> SettingField:
        """The field of a setting: ``"training.lr"``, ``"data.augment.shift"``."""
        return self.fields[key]

    # --- document → form ---------------------------------------------------------------------
    def fill_backend_choices(self) -> None:
        """The devices this PyTorch sees (imports torch: call after start-up)."""
        if self._devices_filled:
            return
        import torch

        self._devices_filled = True
        devices = ["auto", "cpu"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            devices.append("mps")
        current = self.device.currentText()
        self._loading = True
        self.device.clear()
        self.device.addItems(devices)
        self.device.setCurrentText(current)
        self._loading = False

    @gui_only
    def refresh(self) -> None:
        """Show the document's current settings (after open, undo, redo). A value the
        declarations refuse shows the default, and the form says what is wrong."""
        doc = self.controller.doc
        sections = {name: doc.section(name) for name in SECTIONS}
        refused = [p for name, cls in SECTIONS.items()
                   for p in problems(cls, sections[name], name, cross=False)]
        self._loading = True
        try:
            for key, field in self.fields.items():
                section, _, path = key.partition(".")
                try:
                    value = field.spec.validate(path, _get(sections[section], path), section)
                except (KeyError, ValueError):
                    value = field.default
                field.set_value(value)
            train = sections["training"]
            weights = train.get("class_weights")
            self.class_weights.setCurrentText(
                CW_BALANCED if weights == "balanced" else CW_HAND if isinstance(weights, list)
                else CW_NONE)
            self.class_weight_edit.setText(format_class_weights(weights))
            device = str(train.get("device", "auto"))
            if self.device.findText(device) < 0:
                self.device.addItem(device)
            self.device.setCurrentText(device)
            self.augment.setChecked(bool(sections["data"].get("augment")))
            self._refresh_mapping(sections["data"])
            self._update_enabled()
        finally:
            self._loading = False
        self._say("The project's settings are not valid: " + " ".join(refused)
                  if refused else "")

    def _config(self, section: str) -> Any:
        """The section as the form shows it, as its config dataclass (for ``applies``)."""
        cls = SECTIONS[section]
        values: dict[str, Any] = {}
        for key, field in self.fields.items():
            owner, _, path = key.partition(".")
            if owner == section:
                head, _, rest = path.partition(".")
                if rest:
                    values.setdefault(head, {})[rest] = field.value()
                else:
                    values[head] = field.value()
        nested = {name: spec.nested for name, spec in declared(cls) if spec.kind == NESTED}
        for name, sub in values.items():
            if name in nested:
                values[name] = nested[name](**sub)
        return cls(**values)

    def _update_enabled(self) -> None:
        """Settings that do not apply are disabled (saying why) or hidden."""
        configs = {name: self._config(name) for name in SECTIONS}
        for key, (form, widget) in self._rows.items():
            section, _, path = key.partition(".")
            head, _, rest = path.partition(".")
            spec = dict(declared(SECTIONS[section]))[head]
            cfg = configs[section]
            if rest and spec.switch:  # a group switched off shows none of its values
                form.setRowVisible(widget, self.augment.isEnabled() and self.augment.isChecked())
                continue
            if rest:
                spec = dict(declared(spec.nested))[rest]
                cfg = getattr(cfg, head)
            applies = spec.applies is None or spec.applies(cfg)
            if spec.applies is not None and not spec.needs:
                form.setRowVisible(widget, applies)
            elif key in self.fields:
                self.fields[key].set_applies(applies)
            else:
                widget.setEnabled(applies)
                widget.setToolTip(spec.help if applies else spec.needs)
        self.class_weight_edit.setEnabled(self.class_weights.currentText() == CW_HAND)

    def _say(self, text: str) -> None:
        """Show (or clear) a refusal in the form."""
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _refresh_mapping(self, data: dict) -> None:
        doc = self.controller.doc
        inputs = [(n, doc.attr(n, "name")) for n in doc.inputs()]
        outputs = [(n, doc.attr(n, "name")) for n in doc.outputs()]
        key = (tuple(inputs), tuple(outputs))
        if key != self._mapping_key:
            self._build_mapping(inputs, outputs)
            self._mapping_key = key
        for name, edit in self.input_edits.items():
            edit.setText(format_columns(self._features(data, name)))
            self._mark(edit, "")
        for node_id, name in outputs:
            row = self.output_rows[name]
            spec = self._targets(data).get(name, {})
            target = spec.get("target")
            row["target"].setCurrentText("" if target is None else str(target))
            self._mark(row["target"].lineEdit(), "")
            row["encoding"].setCurrentText(str(spec.get("encoding", "auto")))
            params = doc.attr(node_id, "params")
            row["loss"].setCurrentText(params.get("loss", "mse"))
            row["weight"].setValue(float(params.get("loss_weight", 1.0)))
        self._say_mapping("")
        self._show_facts()

    @staticmethod
    def _inputs(data: dict) -> dict[str, Any]:
        return data.get("inputs") if isinstance(data.get("inputs"), dict) else {}

    @staticmethod
    def _targets(data: dict) -> dict[str, Any]:
        found = data.get("targets") if isinstance(data.get("targets"), dict) else {}
        return {k: v for k, v in found.items() if isinstance(v, dict)}

    def _features(self, data: dict, name: str) -> list[int | str]:
        spec = self._inputs(data).get(name)
        return list(spec.get("features", [])) if isinstance(spec, dict) else []

    # --- the data set's facts: the column picker, the targets, the data set's size ------------
    @gui_only
    def set_facts(self, facts: Any, error: str = "") -> None:
        """The loaded data set's columns and targets (`DataFacts`), or None with why not."""
        self.facts, self.facts_error = facts, error
        self._show_facts()

    def _names(self) -> list[str] | None:
        """The data set's column names when it is loaded and tabular (typed text is checked
        against them), else None (only the syntax is checked)."""
        facts = self.facts
        return list(facts.column_names()) if facts is not None and facts.tabular else None

    def _show_facts(self) -> None:
        facts, data = self.facts, self.controller.doc.section("data")
        kind = str(data.get("dataset", "iris"))
        builtin = BUILTIN_FACTS.get(kind)
        if facts is not None:
            self.data_facts.setText(facts.summary())
        elif self.facts_error:
            self.data_facts.setText(f"Cannot read the data: {self.facts_error}")
        else:
            self.data_facts.setText(builtin.text() if builtin else "")
        names = [n for n in self.input_edits]
        if facts is not None and facts.tabular and names:
            self.picker.set_columns(facts.columns, names)
            cols = facts.column_names()
            self.picker.set_chosen({n: column_indices(self._features(data, n), cols)
                                    for n in names})
            self.picker.show()
            self.picker_note.setText("Click a cell to add or remove a column for an Input; "
                                     "drag down its column to choose a range.")
        else:
            self.picker.hide()
            if not names:
                note = ""
            elif facts is not None:
                shape = " × ".join(str(s) for s in facts.sample_shape)
                note = (f"'{facts.name}' holds samples of shape {shape}: each Input takes the "
                        "whole sample (columns are chosen for tabular data).")
            elif self.facts_error:
                note = "The columns are shown once the data can be read."
            else:
                note = f"Reading the columns of '{kind}'…"
            self.picker_note.setText(note)
        self.picker_note.setVisible(bool(self.picker_note.text()))
        targets = [t for t in facts.targets] if facts is not None else []
        for row in self.output_rows.values():
            box: QComboBox = row["target"]
            text = box.currentText()
            box.blockSignals(True)
            box.clear()
            for t in targets:
                box.addItem(t.name)
                box.setItemData(box.count() - 1, f"{t.kind}; first values "
                                f"{', '.join(t.preview)}", Qt.ItemDataRole.ToolTipRole)
            box.setCurrentText(text)
            box.blockSignals(False)
            box.lineEdit().setPlaceholderText(targets[0].name if targets else "first")

    def _build_mapping(self, inputs: list, outputs: list) -> None:
        for keep in (self.picker, self.picker_note, self.mapping_message):
            self.mapping.removeWidget(keep)
        while self.mapping.count():
            item = self.mapping.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.input_edits, self.output_rows = {}, {}
        r = 0
        if not inputs and not outputs:
            self.mapping.addWidget(QLabel("The design has no Input or Output layer yet."), 0, 0)
            self.picker.hide()
            self.picker_note.hide()
            return
        for _node, name in inputs:
            edit = QLineEdit()
            edit.setPlaceholderText("all columns")
            edit.setToolTip(f"The columns feeding Input '{name}': indices, ranges or names, "
                            f"e.g. “0-4, 7”; empty: all of them. Enter applies.")
            edit.textEdited.connect(lambda _t, n=name: self._check_typed(n))
            edit.editingFinished.connect(lambda n=name: self._columns_typed(n))
            self.mapping.addWidget(QLabel(f"→ {name}"), r, 0)
            self.mapping.addWidget(edit, r, 1, 1, 4)
            self.input_edits[name] = edit
            r += 1
        self.mapping.addWidget(self.mapping_message, r, 0, 1, 5)
        r += 1
        self.mapping.addWidget(self.picker, r, 0, 1, 5)
        r += 1
        self.mapping.addWidget(self.picker_note, r, 0, 1, 5)
        r += 1
        for c, head in enumerate(("output", "target", "encoding", "loss", "weight")):
            label = QLabel(head)
            label.setObjectName("muted")
            self.mapping.addWidget(label, r, c)
        r += 1
        for node_id, name in outputs:
            target = QComboBox()
            target.setEditable(True)
            target.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            target.setToolTip("The data set's target this Output learns (its name or index); "
                              "empty: the first target.")
            target.lineEdit().setPlaceholderText("first")
            target.activated.connect(self._mapping_edited)
            target.lineEdit().editingFinished.connect(self._mapping_edited)
            target.lineEdit().textEdited.connect(lambda _t, n=name: self._check_target(n))
            target.setMinimumWidth(40)
            target.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            target.setMinimumContentsLength(4)
            encoding = _combo(ENCODINGS, "How the target is encoded for the loss.")
            encoding.activated.connect(self._mapping_edited)
            loss = _combo(LOSSES, f"Loss of output '{name}'.")
            loss.activated.connect(lambda _i, n=node_id: self._output_edited(n))
            for box, chars in ((encoding, 4), (loss, 8)):  # narrow; the list opens wide
                box.setSizeAdjustPolicy(
                    QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
                box.setMinimumContentsLength(chars)
                box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
                box.view().setMinimumWidth(box.view().sizeHintForColumn(0) + 24)
            weight = QDoubleSpinBox()
            weight.setRange(0.0, 1000.0)
            weight.setDecimals(3)
            weight.setSingleStep(0.1)
            weight.setKeyboardTracking(False)
            weight.setToolTip(f"Weight of the loss of '{name}' in the total.")
            weight.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.NoButtons)
            weight.setMinimumWidth(weight.fontMetrics().horizontalAdvance("00.000") + 6)
            weight.valueChanged.connect(lambda _v, n=node_id: self._output_edited(n))
            for c, w in enumerate((QLabel(name), target, encoding, loss, weight)):
                self.mapping.addWidget(w, r, c)
            self.output_rows[name] = {"target": target, "encoding": encoding, "loss": loss,
                                      "weight": weight, "node": node_id}
            r += 1
        self.mapping.setColumnStretch(1, 1)  # the target (and input features) take the room
        self.mapping.setColumnStretch(3, 1)

    # --- typed text, checked as it is typed -----------------------------------------------------
    @staticmethod
    def _mark(edit: QLineEdit, reason: str) -> None:
        edit.setStyleSheet(BAD_FIELD if reason else "")
        edit.setProperty("problem", reason)
        if reason:
            edit.setToolTip(reason)

    def _say_mapping(self, text: str) -> None:
        self.mapping_message.setText(text)
        self.mapping_message.setVisible(bool(text))

    def _check_typed(self, name: str) -> list[int | str] | None:
        """Parse an Input's typed columns; mark the field and say why when they are refused."""
        edit = self.input_edits[name]
        try:
            features = parse_columns(edit.text(), self._names())
        except ValueError as exc:
            reason = f"Input '{name}': {exc}"
            self._mark(edit, reason)
            self._say_mapping(reason)
            return None
        self._mark(edit, "")
        edit.setToolTip(f"The columns feeding Input '{name}': indices, ranges or names, "
                        "e.g. “0-4, 7”; empty: all of them. Enter applies.")
        self._say_mapping(self._first_problem())
        return features

    def _check_target(self, name: str) -> str | int | None:
        """An Output's typed target: a target of the data set (when known), or its index."""
        edit = self.output_rows[name]["target"].lineEdit()
        text = edit.text().strip()
        value: str | int | None = (int(text) if text.lstrip("-").isdigit() else text) or None
        facts = self.facts
        reason = ""
        if value is not None and facts is not None:
            names = [t.name for t in facts.targets]
            if isinstance(value, int) and not 0 <= value < len(names):
                reason = (f"Output '{name}': target {value} does not exist; the data set has "
                          f"{len(names)} target(s): {', '.join(names)}.")
            elif isinstance(value, str) and value not in names:
                reason = (f"Output '{name}': there is no target “{value}”; the targets are: "
                          f"{', '.join(names)}.")
        self._mark(edit, reason)
        self._say_mapping(reason or self._first_problem())
        return None if reason else value

    def _first_problem(self) -> str:
        for edit in [*self.input_edits.values(),
                     *(r["target"].lineEdit() for r in self.output_rows.values())]:
            if edit.property("problem"):
                return str(edit.property("problem"))
        return ""

    # --- form → document ---------------------------------------------------------------------
    def _field_edited(self, key: str) -> bool:
        section, _, path = key.partition(".")
        return self._edit(section, {path: self.fields[key].value()})

    def _edit(self, section: str, changes: dict[str, Any], extra: tuple[Edit, ...] = (),
              label: str = "") -> bool:
        """One undoable edit setting ``changes`` ({path: value}) in ``section``. In the same
        edit, values of the file the declarations refuse become what the form shows (their
        defaults), and settings that stop applying and are declared ``reset_when_off`` go back
        to their defaults. Refused (and said why) when the declarations refuse the result."""
        if self._loading:
            return False
        self._update_enabled()
        cls = SECTIONS[section]
        values = self.controller.doc.section(section)
        for key, field in self.fields.items():  # what the file had wrong, the form shows right
            owner, _, path = key.partition(".")
            if owner == section and path not in changes:
                try:
                    field.spec.validate(path, _get(values, path), section)
                except KeyError:
                    pass
                except ValueError:
                    self._put(values, cls, path, field.value())
        for path, value in changes.items():
            self._put(values, cls, path, value)
        cfg = self._config(section)
        for name, spec in declared(cls):
            if spec.reset_when_off and spec.applies is not None and not spec.applies(cfg):
                values.pop(name, None)
        found = problems(cls, values, section, cross=section == "training")
        if found:
            self.refresh()
            self._say(f"Not applied: {found[0]}")
            return False
        self._say("")
        if values == self.controller.doc.section(section) and not extra:
            self.refresh()  # e.g. a switched-off group written back as it was
            return False
        edit: Edit = SetSection(section, values)
        if extra:
            edit = Composite((edit, *extra), label or f"change {section} settings")
        done = self.controller.push(edit, label or f"change {section} settings")
        if not done:
            self.refresh()
        if done and section == "data":
            self.dataChanged.emit()
        return done

    @staticmethod
    def _put(values: dict[str, Any], cls: type, path: str, value: Any) -> None:
        """Set ``path`` in a section dict, keeping the file's diff small: a default is written
        only where the key was, None removes it, a nested group is rewritten compactly
        (``"cosine"`` for a schedule that is its kind alone)."""
        head, _, rest = path.partition(".")
        if rest:
            nested = dict(declared(cls))[head].nested
            old = values.get(head)
            group = nested.coerce(old) if hasattr(nested, "coerce") else old
            group = {**(group if isinstance(group, dict) else {}), rest: value}
            try:
                cfg = parse(nested, group, "")
            except ValueError:  # a value the file had wrong: the edit's check says so
                value = group
            else:
                value = cfg.to_value() if hasattr(cfg, "to_value") else cfg.to_dict() or None
            default = nested()
            if head not in values and value == (default.to_value() if hasattr(
                    default, "to_value") else None):
                return
        if value is None:
            values.pop(head, None)
        elif head in values or value != default_of(cls, head):
            values[head] = copy.deepcopy(value)

    @Slot(bool)
    @gui_only
    def _augment_switched(self, on: bool) -> None:
        """On: the augmentation values shown (their suggestions when all are 0); off: none."""
        if self._loading:
            return
        keys = [k for k in self.fields if k.startswith("data.augment.")]
        if on and not any(self.fields[k].value() for k in keys):
            for key in keys:
                self.fields[key].set_value(self.fields[key].spec.suggested)
        group = {k.rsplit(".", 1)[1]: self.fields[k].value() for k in keys} if on else {}
        values = {k: v for k, v in group.items() if v}
        self._edit("data", {"augment": values or None})

    @Slot()
    @gui_only
    def browse_path(self) -> bool:
        """Browse… beside Path: choose the data file (or folder) and set it as one edit; a
        .csv / .npz file chosen for a built-in data set switches the data set to that kind."""
        kind = self.field("data.dataset").value()
        current = self.field("data.path").value()
        path = self.choose_path(kind, current, kind in FOLDER_DATASETS)
        if not path:
            return False
        changes: dict[str, Any] = {"path": path}
        suffix = Path(path).suffix.lower()
        if kind not in FILE_DATASETS:
            new_kind = "npz" if suffix == ".npz" else "csv" if suffix in (".csv", ".tsv",
                                                                             ".txt") else ""
            if new_kind:
                changes["dataset"] = new_kind
        self.field("data.path").set_value(path)
        if "dataset" in changes:
            self.field("data.dataset").set_value(changes["dataset"])
        return self._edit("data", changes)

    @Slot()
    @gui_only
    def _columns_typed(self, name: str) -> bool:
        """Enter in an Input's columns field: apply them when they are valid."""
        if self._loading or name not in self.input_edits:
            return False
        features = self._check_typed(name)
        if features is None:
            return False
        return self.set_input_columns(name, features)

    @Slot(str, list)
    @gui_only
    def _columns_chosen(self, name: str, indices: list) -> None:
        self.set_input_columns(name, [int(i) for i in indices])

    def set_input_columns(self, name: str, features: list[int | str]) -> bool:
        """Feed Input ``name`` from these columns (empty: all of them), in one undo step with
        the Input's shape when it is a row of values (it takes the number of columns)."""
        doc = self.controller.doc
        data = doc.section("data")
        if self._features(data, name) == list(features):
            return False
        inputs = dict(self._inputs(data))
        if features:
            inputs[name] = {"features": list(features)}
        else:
            inputs.pop(name, None)
        extra: tuple[Edit, ...] = ()
        node = doc.find(name)
        names = self._names()
        width = len(features) or (len(names) if names is not None else 0)
        if node is not None and width:
            shape = list(doc.attr(node, "params").get("shape", []))
            if len(shape) == 1 and shape[0] != width:
                extra = (SetParams(node, {"shape": [width]}),)
        count = f"{len(features)} column{'s' if len(features) != 1 else ''}" if features else \
            "all columns"
        return self._edit("data", {"inputs": inputs or None}, extra, f"map {count} to {name}")

    @Slot()
    @gui_only
    def _mapping_edited(self, *_: Any) -> bool:
        """The targets and encodings of the design's outputs (a refused target is not written)."""
        if self._loading:
            return False
        targets = {}
        for name, row in self.output_rows.items():
            spec: dict[str, Any] = {}
            text = row["target"].currentText().strip()
            if text:
                value = self._check_target(name)
                if value is None:
                    return False
                spec["target"] = value
            if row["encoding"].currentText() != "auto":
                spec["encoding"] = row["encoding"].currentText()
            if spec:
                targets[name] = spec
        data = self.controller.doc.section("data")
        old = data.get("targets") or None
        if (targets or None) == old:
            return False
        return self._edit("data", {"targets": targets or None})

    @Slot(int)
    @gui_only
    def _class_weights_chosen(self, _index: int = 0) -> None:
        """None / balanced apply at once; by hand applies the typed list once it is valid."""
        if self._loading:
            return
        self._update_enabled()
        choice = self.class_weights.currentText()
        if choice != CW_HAND:
            self._edit("training", {"class_weights": "balanced" if choice == CW_BALANCED
                                    else None})
            return
        if self.class_weight_edit.text().strip():
            self._class_weights_typed()
        else:
            self._say("Enter one weight per class, e.g. “1, 2.5, 1”, and press Enter.")
            self.class_weight_edit.setFocus()

    @Slot()
    @gui_only
    def _class_weights_typed(self) -> bool:
        """Apply the typed class weights as one edit, or refuse them with a message."""
        if self._loading or self.class_weights.currentText() != CW_HAND:
            return False
        try:
            weights = parse_class_weights(self.class_weight_edit.text(),
                                          class_count(self.controller.doc))
        except ValueError as exc:
            self._say(f"Class weights not applied: {exc}")
            return False
        if self.controller.doc.section("training").get("class_weights") == weights:
            self._say("")
            return False
        return self._edit("training", {"class_weights": weights})

    @gui_only
    def _output_edited(self, node_id: str) -> None:
        if self._loading:
            return
        name = self.controller.doc.attr(node_id, "name")
        row = self.output_rows.get(name)
        if row is None:
            return
        self.controller.set_params([node_id], {"loss": row["loss"].currentText(),
                                               "loss_weight": row["weight"].value()})
