"""The data and training settings form; every change is one undoable edit of the document.

The rows are derived from the settings' declarations (`TrainConfig`, `ScheduleConfig`,
`DataConfig`, `AugmentConfig`): one `SettingField` per declared setting, in declaration order,
with its label, bounds, unit and help; a setting that does not apply is disabled with the
reason as its tooltip (or hidden, for the schedule's own parameters). Only what no declaration
can say is written here: Browse… beside the path, Find… beside the learning rate, the class
weights typed by hand, the devices this PyTorch sees and the per-design mapping of inputs and
outputs. A change writes just its key through the controller (``SetSection`` / set_params),
after the same validation training uses; the form refreshes itself after undo.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal, Slot
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
    QVBoxLayout,
    QWidget,
)

from backend.data.config import ENCODINGS, DataConfig
from backend.training.config import TrainConfig
from backend.training.setting import NESTED, declared, default_of, parse, problems
from builder.training.guard import gui_only
from builder.training.setting_fields import SettingField
from graph.catalogue import LOSSES
from graph.edits import SetSection

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


def parse_features(text: str) -> list[int | str]:
    """``"0, 1, 5"`` or ``"age, bmi"`` → feature list (indices stay ints)."""
    out: list[int | str] = []
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(int(part))
        except ValueError:
            out.append(part)
    return out


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
        # --- mapping (rebuilt per design) -------------------------------------------------
        self.mapping_box = QGroupBox("Inputs and outputs")
        self.mapping = QGridLayout(self.mapping_box)
        self.mapping.setHorizontalSpacing(4)
        margins = self.mapping.contentsMargins()  # narrow sides: the outputs row is wide
        self.mapping.setContentsMargins(6, margins.top(), 6, margins.bottom())
        self.input_edits: dict[str, QLineEdit] = {}
        self.output_rows: dict[str, dict[str, QWidget]] = {}
        self._mapping_key: tuple = ()
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
        mapped_inputs = data.get("inputs") if isinstance(data.get("inputs"), dict) else {}
        mapped_targets = data.get("targets") if isinstance(data.get("targets"), dict) else {}
        for name, edit in self.input_edits.items():
            spec = mapped_inputs.get(name)
            feats = spec.get("features", []) if isinstance(spec, dict) else []
            edit.setText(", ".join(str(f) for f in feats))
        for node_id, name in outputs:
            row = self.output_rows[name]
            spec = mapped_targets.get(name)
            spec = spec if isinstance(spec, dict) else {}
            target = spec.get("target")
            row["target"].setText("" if target is None else str(target))
            row["encoding"].setCurrentText(str(spec.get("encoding", "auto")))
            params = doc.attr(node_id, "params")
            row["loss"].setCurrentText(params.get("loss", "mse"))
            row["weight"].setValue(float(params.get("loss_weight", 1.0)))

    def _build_mapping(self, inputs: list, outputs: list) -> None:
        while self.mapping.count():
            item = self.mapping.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.input_edits, self.output_rows = {}, {}
        r = 0
        if not inputs and not outputs:
            self.mapping.addWidget(QLabel("The design has no Input or Output layer yet."), 0, 0)
            return
        for _node, name in inputs:
            edit = QLineEdit()
            edit.setPlaceholderText("all features")
            edit.setToolTip(f"Feature columns (indices or names, comma-separated) feeding "
                            f"Input '{name}'; empty: all of them.")
            edit.editingFinished.connect(self._mapping_edited)
            self.mapping.addWidget(QLabel(f"→ {name}"), r, 0)
            self.mapping.addWidget(edit, r, 1, 1, 4)
            self.input_edits[name] = edit
            r += 1
        for c, head in enumerate(("output", "target", "encoding", "loss", "weight")):
            label = QLabel(head)
            label.setObjectName("muted")
            self.mapping.addWidget(label, r, c)
        r += 1
        for node_id, name in outputs:
            target = QLineEdit()
            target.setPlaceholderText("first")
            target.setToolTip("Target name or index in the data set; empty: the first target.")
            target.editingFinished.connect(self._mapping_edited)
            target.setMinimumWidth(40)
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

    # --- form → document ---------------------------------------------------------------------
    def _field_edited(self, key: str) -> bool:
        section, _, path = key.partition(".")
        return self._edit(section, {path: self.fields[key].value()})

    def _edit(self, section: str, changes: dict[str, Any]) -> bool:
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
        if values == self.controller.doc.section(section):
            self.refresh()  # e.g. a switched-off group written back as it was
            return False
        done = self.controller.push(SetSection(section, values), f"change {section} settings")
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
    def _mapping_edited(self, *_: Any) -> bool:
        """The feature columns, targets and encodings of the design's inputs and outputs."""
        inputs = {n: {"features": parse_features(e.text())}
                  for n, e in self.input_edits.items() if parse_features(e.text())}
        targets = {}
        for name, row in self.output_rows.items():
            spec: dict[str, Any] = {}
            text = row["target"].text().strip()
            if text:
                spec["target"] = int(text) if text.lstrip("-").isdigit() else text
            if row["encoding"].currentText() != "auto":
                spec["encoding"] = row["encoding"].currentText()
            if spec:
                targets[name] = spec
        return self._edit("data", {"inputs": inputs or None, "targets": targets or None})

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
