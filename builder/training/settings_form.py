"""The data and training settings form; every change is one undoable edit of the document.

The form reads the document's ``data`` and ``training`` sections and the Output layers' loss
parameters, and writes them back through the editor controller (``SetSection`` / set_params),
so settings changes are undoable and mark the project modified. It refreshes itself after undo.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
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


class SettingsForm(QWidget):
    """Data set, split, mapping and training settings of the current document."""

    #: The data section changed (the preview reloads).
    dataChanged = Signal()

    def __init__(self, controller: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self._loading = False
        self._datasets_filled = False
        # --- data -------------------------------------------------------------------------
        self.dataset = _combo([], "The data set to train on (built-in sets need no files).")
        self.dataset.setEditable(False)
        self.path = QLineEdit()
        self.path.setPlaceholderText("file or folder (csv, npz, idx, images, mnist)")
        self.val_split = _spin(0, 90, "Share of the samples held out for validation.")
        self.val_split.setSuffix(" %")
        self.test_split = _spin(0, 90, "Share held out for the final test evaluation.")
        self.test_split.setSuffix(" %")
        self.data_seed = _spin(0, 2**31 - 1, "Seed of the split.")
        data_box = QGroupBox("Data")
        form = QFormLayout(data_box)
        form.addRow("Data set", self.dataset)
        form.addRow("Path", self.path)
        form.addRow("Validation", self.val_split)
        form.addRow("Test", self.test_split)
        form.addRow("Split seed", self.data_seed)
        # --- mapping (rebuilt per design) -------------------------------------------------
        self.mapping_box = QGroupBox("Inputs and outputs")
        self.mapping = QGridLayout(self.mapping_box)
        self.input_edits: dict[str, QLineEdit] = {}
        self.output_rows: dict[str, dict[str, QWidget]] = {}
        self._mapping_key: tuple = ()
        # --- training ---------------------------------------------------------------------
        self.optimizer = _combo(OPTIMIZERS, "Optimizer.")
        self.lr = _dspin(1e-6, 10.0, 6, 0.001, "Learning rate.")
        self.momentum = _dspin(0.0, 0.999, 3, 0.05, "Momentum (SGD, RMSprop).")
        self.batch_size = _spin(0, 1_000_000, "Samples per step; 0 = the whole training set.",
                                "full batch")
        self.epochs = _spin(1, 1_000_000, "Passes over the training data.")
        self.schedule = _combo(SCHEDULES, "Learning-rate schedule.")
        self.patience = _spin(0, 10_000, "Stop after this many epochs without validation "
                              "improvement; 0 = off.", "off")
        self.class_weights = _combo(("none", "balanced"), "Weigh rare classes up.")
        self.seed = _spin(0, 2**31 - 1, "Seed of the initial weights and shuffling.")
        self.device = _combo(["auto", "cpu"], "Where to train (CUDA and MPS appear when "
                             "available).")
        train_box = QGroupBox("Training")
        tform = QFormLayout(train_box)
        tform.addRow("Optimizer", self.optimizer)
        tform.addRow("Learning rate", self.lr)
        tform.addRow("Momentum", self.momentum)
        tform.addRow("Batch size", self.batch_size)
        tform.addRow("Epochs", self.epochs)
        tform.addRow("Schedule", self.schedule)
        tform.addRow("Early stopping", self.patience)
        tform.addRow("Class weights", self.class_weights)
        tform.addRow("Seed", self.seed)
        tform.addRow("Device", self.device)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(data_box)
        layout.addWidget(self.mapping_box)
        layout.addWidget(train_box)
        layout.addStretch(1)
        for box in (self.dataset,):
            box.activated.connect(self._data_edited)
        self.path.editingFinished.connect(self._data_edited)
        for spin in (self.val_split, self.test_split, self.data_seed):
            spin.valueChanged.connect(self._data_edited)
        for box in (self.optimizer, self.schedule, self.class_weights, self.device):
            box.activated.connect(self._training_edited)
        for spin in (self.lr, self.momentum, self.batch_size, self.epochs, self.patience,
                     self.seed):
            spin.valueChanged.connect(self._training_edited)
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
            self.optimizer.setCurrentText(str(train.get("optimizer", "adam")))
            self.lr.setValue(float(train.get("lr", 1e-3)))
            self.momentum.setValue(float(train.get("momentum", 0.0)))
            self.batch_size.setValue(int(train.get("batch_size", 32)))
            self.epochs.setValue(int(train.get("epochs", 20)))
            schedule = train.get("schedule", "constant")
            self.schedule.setCurrentText(schedule.get("kind", "constant")
                                         if isinstance(schedule, dict) else str(schedule))
            self.patience.setValue(int(train.get("early_stopping_patience", 0)))
            self.class_weights.setCurrentText("balanced" if train.get("class_weights") ==
                                              "balanced" else "none")
            self.seed.setValue(int(train.get("seed", 0)))
            device = str(train.get("device", "auto"))
            if self.device.findText(device) < 0:
                self.device.addItem(device)
            self.device.setCurrentText(device)
            self._refresh_mapping(data)
        finally:
            self._loading = False

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
            self.mapping.addWidget(edit, r, 1, 1, 3)
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
            encoding = _combo(ENCODINGS, "How the target is encoded for the loss.")
            encoding.activated.connect(self._data_edited)
            loss = _combo(LOSSES, f"Loss of output '{name}'.")
            loss.activated.connect(lambda _i, n=node_id: self._output_edited(n))
            weight = _dspin(0.0, 1000.0, 3, 0.1, f"Weight of the loss of '{name}' in the total.")
            weight.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.NoButtons)
            weight.valueChanged.connect(lambda _v, n=node_id: self._output_edited(n))
            for c, w in enumerate((QLabel(name), target, encoding, loss, weight)):
                self.mapping.addWidget(w, r, c)
            self.output_rows[name] = {"target": target, "encoding": encoding, "loss": loss,
                                      "weight": weight, "node": node_id}
            r += 1

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
        return data

    def training_section(self) -> dict[str, Any]:
        train = self.controller.doc.section("training")
        train.update(optimizer=self.optimizer.currentText(), lr=self.lr.value(),
                     batch_size=self.batch_size.value(), epochs=self.epochs.value(),
                     early_stopping_patience=self.patience.value(), seed=self.seed.value(),
                     device=self.device.currentText())
        if self.momentum.value() or "momentum" in train:
            train["momentum"] = self.momentum.value()
        kind = self.schedule.currentText()
        old = train.get("schedule")
        if isinstance(old, dict):
            train["schedule"] = {**old, "kind": kind}
        elif kind != "constant" or old is not None:
            train["schedule"] = kind
        if self.class_weights.currentText() == "balanced":
            train["class_weights"] = "balanced"
        elif train.get("class_weights") == "balanced":
            train.pop("class_weights")
        return train

    @Slot()
    @gui_only
    def _data_edited(self, *_: Any) -> None:
        if self._loading:
            return
        if self.controller.push(SetSection("data", self.data_section()),
                                "change data settings"):
            self.dataChanged.emit()

    @Slot()
    @gui_only
    def _training_edited(self, *_: Any) -> None:
        if self._loading:
            return
        self.controller.push(SetSection("training", self.training_section()),
                             "change training settings")

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
