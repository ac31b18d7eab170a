"""The data and training settings form; every change is one undoable edit of the document.

The form reads the document's ``data`` and ``training`` sections and the Output layers' loss
parameters, and writes them back through the editor controller (``SetSection`` / set_params),
so settings changes are undoable and mark the project modified. It refreshes itself after undo.
"""

from __future__ import annotations

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
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from builder.training.guard import gui_only
from graph.edits import SetSection

OPTIMIZERS = ("sgd", "adagrad", "rmsprop", "adam", "adamw")
SCHEDULES = ("constant", "step", "cosine", "exponential", "plateau")
LOSSES = ("mse", "mae", "huber", "cross_entropy", "binary_cross_entropy", "nll", "none")
ENCODINGS = ("auto", "index", "onehot", "value")
#: Class-weight choices: the combo's texts.
CW_NONE, CW_BALANCED, CW_HAND = "none", "balanced", "by hand"
#: Data sets whose loader reads a per-sample weight column (CSV) or array (NPZ).
WEIGHTED_DATASETS = ("csv", "npz")
#: Data sets of images: training batches can be shifted and noised (DataConfig ``augment``).
IMAGE_DATASETS = ("digits", "images", "idx", "mnist", "fashion_mnist", "npz")
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

#: Browse dialog: ``(dataset kind, current path, folder?) -> chosen path or None``.
PathChooser = Callable[[str, str, bool], "str | None"]


def _spin(lo: int, hi: int, tip: str = "", special: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setKeyboardTracking(False)
    box.setToolTip(tip)
    if special:
        box.setSpecialValueText(special)
    return box


def _dspin(lo: float, hi: float, decimals: int, step: float, tip: str = "") -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(lo, hi)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setKeyboardTracking(False)
    box.setToolTip(tip)
    return box


def _combo(items: tuple[str, ...] | list[str], tip: str = "") -> QComboBox:
    box = QComboBox()
    box.addItems(list(items))
    box.setToolTip(tip)
    return box


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
        self._datasets_filled = False
        #: The Browse dialog; tests put a function answering without a dialog here.
        self.choose_path: PathChooser = lambda kind, current, folder: ask_path(
            self, kind, current, folder)
        # --- data -------------------------------------------------------------------------
        self.dataset = _combo([], "The data set to train on (built-in sets need no files).")
        self.dataset.setEditable(False)
        self.path = QLineEdit()
        self.path.setPlaceholderText("file or folder (csv, npz, idx, images, mnist)")
        self.path.setToolTip("The data file (csv, npz) or folder (image class folders, IDX "
                             "files, the MNIST cache); relative to the project's folder.")
        self.browse = QPushButton("Browse…")
        self.browse.setToolTip("Choose the data file, or the folder for images, IDX and MNIST.")
        self.val_split = _spin(0, 90, "Share of the samples held out for validation.")
        self.val_split.setSuffix(" %")
        self.test_split = _spin(0, 90, "Share held out for the final test evaluation.")
        self.test_split.setSuffix(" %")
        self.data_seed = _spin(0, 2**31 - 1, "Seed of the split.")
        self.sample_weight = QLineEdit()
        self.sample_weight.setPlaceholderText("none")
        self.augment = QCheckBox("on")
        self.augment_shift = _spin(0, 8, "Shift each training image by up to this many pixels "
                                   "(zero fill).")
        self.augment_shift.setSuffix(" px")
        self.augment_shift.setValue(2)
        self.augment_rotate = _spin(0, 45, "Rotate each training image by a random angle of "
                                    "up to ± this many degrees (zero fill).")
        self.augment_rotate.setPrefix("±")
        self.augment_rotate.setSuffix("°")
        self.augment_rotate.setValue(10)
        self.augment_noise = _dspin(0.0, 1.0, 2, 0.01, "Add Gaussian noise of this standard "
                                    "deviation to each training image.")
        self.augment_noise.setValue(0.05)
        self.augment_noise.setPrefix("noise ")
        data_box = QGroupBox("Data")
        form = QFormLayout(data_box)
        form.addRow("Data set", self.dataset)
        form.addRow("Path", _row(self.path, self.browse))
        form.addRow("Validation", self.val_split)
        form.addRow("Test", self.test_split)
        form.addRow("Split seed", self.data_seed)
        form.addRow("Sample weights", self.sample_weight)
        form.addRow("Augment", _row(self.augment, self.augment_shift, self.augment_rotate,
                                    stretch=2))
        form.addRow("", _row(self.augment_noise, QWidget(), stretch=1))
        # --- mapping (rebuilt per design) -------------------------------------------------
        self.mapping_box = QGroupBox("Inputs and outputs")
        self.mapping = QGridLayout(self.mapping_box)
        self.mapping.setHorizontalSpacing(4)
        margins = self.mapping.contentsMargins()  # narrow sides: the outputs row is wide
        self.mapping.setContentsMargins(6, margins.top(), 6, margins.bottom())
        self.input_edits: dict[str, QLineEdit] = {}
        self.output_rows: dict[str, dict[str, QWidget]] = {}
        self._mapping_key: tuple = ()
        # --- training ---------------------------------------------------------------------
        self.optimizer = _combo(OPTIMIZERS, "Optimizer.")
        self.lr = _dspin(1e-6, 10.0, 6, 0.001, "Learning rate.")
        self.find_lr = QPushButton("Find…")
        self.find_lr.setToolTip("Open the learning-rate finder: sweep the learning rate, "
                                "then apply its suggestion.")
        self.momentum = _dspin(0.0, 0.999, 3, 0.05, "Momentum (SGD, RMSprop).")
        self.nesterov = QCheckBox("Nesterov")
        self.weight_decay = _dspin(0.0, 1000.0, 6, 1e-4, "L2 penalty on the weights "
                                   "(decoupled for AdamW); 0 = off.")
        self.weight_decay.setSpecialValueText("off")
        self.batch_size = _spin(0, 1_000_000, "Samples per step; 0 = the whole training set.",
                                "full batch")
        self.epochs = _spin(1, 1_000_000, "Passes over the training data.")
        self.schedule = _combo(SCHEDULES, "Learning-rate schedule.")
        self.warmup = _dspin(0.0, 10_000.0, 1, 1.0, "Raise the learning rate linearly from 0 "
                             "over this many epochs (per step) before the schedule; 0 = off.")
        self.warmup.setSpecialValueText("off")
        self.warmup.setSuffix(" epochs")
        self.clip = _dspin(0.0, 1e6, 3, 0.5, "Clip the gradients' total norm to this value "
                           "before each step (stops exploding updates); 0 = off.")
        self.clip.setSpecialValueText("off")
        self.patience = _spin(0, 10_000, "Stop after this many epochs without validation "
                              "improvement; 0 = off.", "off")
        self.class_weights = _combo((CW_NONE, CW_BALANCED, CW_HAND),
                                    "Weigh classes in the loss: balanced weighs rare classes "
                                    "up (n / (k · count)); by hand: one weight per class.")
        self.class_weight_edit = QLineEdit()
        self.class_weight_edit.setPlaceholderText("1, 2.5, 1")
        self.class_weight_edit.setToolTip("One weight (≥ 0) per class, in class order, "
                                          "comma-separated; Enter applies them.")
        self.message = QLabel("")
        self.message.setObjectName("formMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c62828;")
        self.message.hide()
        self.seed = _spin(0, 2**31 - 1, "Seed of the initial weights and shuffling.")
        self.device = _combo(["auto", "cpu"], "Where to train (CUDA and MPS appear when "
                             "available).")
        train_box = QGroupBox("Training")
        tform = QFormLayout(train_box)
        tform.addRow("Optimizer", self.optimizer)
        tform.addRow("Learning rate", _row(self.lr, self.find_lr))
        tform.addRow("Momentum", _row(self.momentum, self.nesterov))
        tform.addRow("Weight decay", self.weight_decay)
        tform.addRow("Batch size", self.batch_size)
        tform.addRow("Epochs", self.epochs)
        tform.addRow("Schedule", self.schedule)
        tform.addRow("Warm-up", self.warmup)
        tform.addRow("Clip gradients", self.clip)
        tform.addRow("Early stopping", self.patience)
        tform.addRow("Class weights", _row(self.class_weights, self.class_weight_edit,
                                           stretch=1))
        tform.addRow(self.message)
        tform.addRow("Seed", self.seed)
        tform.addRow("Device", self.device)
        for field in (self.dataset, self.optimizer, self.schedule, self.class_weights,
                      self.device):
            field.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            field.setMinimumContentsLength(8)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(data_box)
        layout.addWidget(self.mapping_box)
        layout.addWidget(train_box)
        layout.addStretch(1)
        for box in (self.dataset,):
            box.activated.connect(self._data_edited)
        self.path.editingFinished.connect(self._data_edited)
        self.sample_weight.editingFinished.connect(self._data_edited)
        self.browse.clicked.connect(self.browse_path)
        self.augment.toggled.connect(self._data_edited)
        for spin in (self.val_split, self.test_split, self.data_seed, self.augment_shift,
                     self.augment_rotate, self.augment_noise):
            spin.valueChanged.connect(self._data_edited)
        for box in (self.optimizer, self.schedule, self.device):
            box.activated.connect(self._training_edited)
        self.class_weights.activated.connect(self._class_weights_chosen)
        self.class_weight_edit.editingFinished.connect(self._class_weights_typed)
        self.nesterov.toggled.connect(self._training_edited)
        for spin in (self.lr, self.momentum, self.weight_decay, self.batch_size, self.epochs,
                     self.warmup, self.clip, self.patience, self.seed):
            spin.valueChanged.connect(self._training_edited)
        self.find_lr.clicked.connect(lambda _checked=False: self.findLearningRateRequested.emit())
        self.refresh()

    # --- document → form ---------------------------------------------------------------------
    def fill_backend_choices(self) -> None:
        """Data sets and devices from the backend (imports torch: call after start-up)."""
        if self._datasets_filled:
            return
        import torch

        from backend.data.config import BUILTIN, FILE_KINDS

        self._datasets_filled = True
        self._loading = True
        current = self.dataset.currentText()
        self.dataset.clear()
        self.dataset.addItems(list(BUILTIN + FILE_KINDS))
        self.dataset.setCurrentText(current)
        devices = ["auto", "cpu"]
        devices += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            devices.append("mps")
        device = self.device.currentText()
        self.device.clear()
        self.device.addItems(devices)
        self.device.setCurrentText(device)
        self._loading = False

    @gui_only
    def refresh(self) -> None:
        """Show the document's current settings (after open, undo, redo)."""
        doc = self.controller.doc
        data, train = doc.section("data"), doc.section("training")
        self._loading = True
        try:
            name = str(data.get("dataset", "iris"))
            if self.dataset.findText(name) < 0:
                self.dataset.addItem(name)
            self.dataset.setCurrentText(name)
            self.path.setText(str(data.get("path", "")))
            self.val_split.setValue(round(100 * (data.get("validation_split") or 0.0)))
            self.test_split.setValue(round(100 * (data.get("test_split") or 0.0)))
            self.data_seed.setValue(int(data.get("seed", 0)))
            self.sample_weight.setText(str(data.get("sample_weight") or ""))
            augment = data.get("augment") or {}
            self.augment.setChecked(bool(augment))
            if augment:
                self.augment_shift.setValue(int(augment.get("shift", 0)))
                self.augment_rotate.setValue(round(float(augment.get("rotate", 0.0))))
                self.augment_noise.setValue(float(augment.get("noise", 0.0)))
            self.optimizer.setCurrentText(str(train.get("optimizer", "adam")))
            self.lr.setValue(float(train.get("lr", 1e-3)))
            self.momentum.setValue(float(train.get("momentum", 0.0)))
            self.nesterov.setChecked(bool(train.get("nesterov", False)))
            self.weight_decay.setValue(float(train.get("weight_decay", 0.0)))
            self.batch_size.setValue(int(train.get("batch_size", 32)))
            self.epochs.setValue(int(train.get("epochs", 20)))
            schedule = train.get("schedule", "constant")
            self.schedule.setCurrentText(schedule.get("kind", "constant")
                                         if isinstance(schedule, dict) else str(schedule))
            self.warmup.setValue(float(schedule.get("warmup_epochs", 0.0))
                                 if isinstance(schedule, dict) else 0.0)
            self.clip.setValue(float(train.get("clip_grad_norm", 0.0)))
            self.patience.setValue(int(train.get("early_stopping_patience", 0)))
            weights = train.get("class_weights")
            self.class_weights.setCurrentText(
                CW_BALANCED if weights == "balanced" else CW_HAND if isinstance(weights, list)
                else CW_NONE)
            self.class_weight_edit.setText(format_class_weights(weights))
            self._say("")
            self.seed.setValue(int(train.get("seed", 0)))
            device = str(train.get("device", "auto"))
            if self.device.findText(device) < 0:
                self.device.addItem(device)
            self.device.setCurrentText(device)
            self._refresh_mapping(data)
            self._update_enabled()
        finally:
            self._loading = False

    def _update_enabled(self) -> None:
        """Fields that apply only to some data sets or optimizers are disabled otherwise."""
        kind = self.dataset.currentText()
        weighted = kind in WEIGHTED_DATASETS
        self.sample_weight.setEnabled(weighted)
        self.sample_weight.setToolTip(
            "Name of the CSV column (or NPZ array) holding one loss weight per sample, e.g. "
            "expert-labelled rows weighing more; empty: all samples weigh 1." if weighted else
            "Per-sample weights come from a column of a CSV file (or an array of an NPZ "
            "file): choose csv or npz data to use them.")
        image = kind in IMAGE_DATASETS
        self.augment.setEnabled(image)
        self.augment.setToolTip(
            "Shift, rotate and noise the training images anew in every epoch (not validation or "
            "test)." if image else "Augmentation applies to image data (digits, images, idx, "
            "mnist, npz images); this data set is not images.")
        on = image and self.augment.isChecked()
        self.augment_shift.setEnabled(on)
        self.augment_rotate.setEnabled(on)
        self.augment_noise.setEnabled(on)
        sgd = self.optimizer.currentText() == "sgd"
        self.nesterov.setEnabled(sgd and self.momentum.value() > 0)
        self.nesterov.setToolTip(
            "Nesterov momentum: look ahead along the momentum before taking the gradient."
            if sgd and self.momentum.value() > 0 else
            "Nesterov momentum applies to SGD with a momentum above 0.")
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
            feats = data.get("inputs", {}).get(name, {}).get("features", [])
            edit.setText(", ".join(str(f) for f in feats))
        for node_id, name in outputs:
            row = self.output_rows[name]
            spec = data.get("targets", {}).get(name, {})
            target = spec.get("target")
            row["target"].setText("" if target is None else str(target))
            row["encoding"].setCurrentText(spec.get("encoding", "auto"))
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
            edit.editingFinished.connect(self._data_edited)
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
            target.editingFinished.connect(self._data_edited)
            target.setMinimumWidth(40)
            encoding = _combo(ENCODINGS, "How the target is encoded for the loss.")
            encoding.activated.connect(self._data_edited)
            loss = _combo(LOSSES, f"Loss of output '{name}'.")
            loss.activated.connect(lambda _i, n=node_id: self._output_edited(n))
            for box, chars in ((encoding, 4), (loss, 8)):  # narrow; the list opens wide
                box.setSizeAdjustPolicy(
                    QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
                box.setMinimumContentsLength(chars)
                box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
                box.view().setMinimumWidth(box.view().sizeHintForColumn(0) + 24)
            weight = _dspin(0.0, 1000.0, 3, 0.1, f"Weight of the loss of '{name}' in the total.")
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
    def data_section(self) -> dict[str, Any]:
        """The data section the form shows (unknown keys of the document kept)."""
        data = self.controller.doc.section("data")
        data["dataset"] = self.dataset.currentText()
        if self.path.text().strip():
            data["path"] = self.path.text().strip()
        else:
            data.pop("path", None)
        data["validation_split"] = self.val_split.value() / 100
        data["test_split"] = self.test_split.value() / 100
        data["seed"] = self.data_seed.value()
        inputs = {n: {"features": parse_features(e.text())}
                  for n, e in self.input_edits.items() if parse_features(e.text())}
        if inputs:
            data["inputs"] = inputs
        else:
            data.pop("inputs", None)
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
        if targets:
            data["targets"] = targets
        else:
            data.pop("targets", None)
        kind = data["dataset"]
        column = self.sample_weight.text().strip()
        if column and kind in WEIGHTED_DATASETS:
            data["sample_weight"] = column
        else:
            data.pop("sample_weight", None)
        augment = {"shift": self.augment_shift.value(), "rotate": self.augment_rotate.value(),
                   "noise": self.augment_noise.value()}
        augment = {k: v for k, v in augment.items() if v}
        if self.augment.isChecked() and kind in IMAGE_DATASETS and augment:
            data["augment"] = augment
        else:
            data.pop("augment", None)
        return data

    def training_section(self) -> dict[str, Any]:
        """The training section the form shows (unknown keys of the document kept; the
        class weights typed by hand are written by `_class_weights_typed`, once valid)."""
        train = self.controller.doc.section("training")
        train.update(optimizer=self.optimizer.currentText(), lr=self.lr.value(),
                     batch_size=self.batch_size.value(), epochs=self.epochs.value(),
                     early_stopping_patience=self.patience.value(), seed=self.seed.value(),
                     device=self.device.currentText())
        for key, value in (("momentum", self.momentum.value()),
                           ("weight_decay", self.weight_decay.value()),
                           ("clip_grad_norm", self.clip.value())):
            if value or key in train:
                train[key] = value
        nesterov = (self.nesterov.isChecked() and self.optimizer.currentText() == "sgd"
                    and self.momentum.value() > 0)
        if nesterov or "nesterov" in train:
            train["nesterov"] = nesterov
        kind = self.schedule.currentText()
        old = train.get("schedule")
        warmup = self.warmup.value()
        if isinstance(old, dict) or warmup:
            schedule = {**old} if isinstance(old, dict) else {}
            schedule["kind"] = kind
            if warmup:
                schedule["warmup_epochs"] = warmup
            else:
                schedule.pop("warmup_epochs", None)
            train["schedule"] = schedule
        elif kind != "constant" or old is not None:
            train["schedule"] = kind
        choice = self.class_weights.currentText()
        if choice == CW_BALANCED:
            train["class_weights"] = "balanced"
        elif choice == CW_NONE:
            train.pop("class_weights", None)
        return train

    @Slot()
    @gui_only
    def browse_path(self) -> bool:
        """Browse… beside Path: choose the data file (or folder) and set it as one edit; a
        .csv / .npz file chosen for a built-in data set switches the data set to that kind."""
        kind = self.dataset.currentText()
        path = self.choose_path(kind, self.path.text().strip(), kind in FOLDER_DATASETS)
        if not path:
            return False
        suffix = Path(path).suffix.lower()
        if kind not in FILE_DATASETS:
            new_kind = "npz" if suffix == ".npz" else "csv" if suffix in (".csv", ".tsv",
                                                                             ".txt") else ""
            if new_kind:
                if self.dataset.findText(new_kind) < 0:
                    self.dataset.addItem(new_kind)
                self.dataset.setCurrentText(new_kind)
        self.path.setText(path)
        return self._data_edited()

    @Slot(int)
    @gui_only
    def _class_weights_chosen(self, _index: int = 0) -> None:
        """None / balanced apply at once; by hand applies the typed list once it is valid."""
        if self._loading:
            return
        self._update_enabled()
        if self.class_weights.currentText() != CW_HAND:
            self._training_edited()
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
        train = self.training_section()
        if train.get("class_weights") == weights:
            self._say("")
            return False
        train["class_weights"] = weights
        return self._push_training(train)

    @Slot()
    @gui_only
    def _data_edited(self, *_: Any) -> bool:
        if self._loading:
            return False
        self._update_enabled()
        if self.controller.push(SetSection("data", self.data_section()),
                                "change data settings"):
            self.dataChanged.emit()
            return True
        return False

    @Slot()
    @gui_only
    def _training_edited(self, *_: Any) -> bool:
        if self._loading:
            return False
        self._update_enabled()
        return self._push_training(self.training_section())

    def _push_training(self, train: dict[str, Any]) -> bool:
        """One undoable edit of the training section, after the backend's validation; a
        section it refuses is not applied (the form shows the document again and says why)."""
        from backend.training.config import TrainConfig  # torch is loaded by then

        try:
            TrainConfig.from_dict(train)
        except ValueError as exc:
            self.refresh()
            self._say(f"Not applied: {exc}")
            return False
        self._say("")
        return self.controller.push(SetSection("training", train), "change training settings")

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
