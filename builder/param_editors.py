"""One editor widget per parameter kind, built from a `ParamSpec`.

Each editor emits `committed(value)` with a Python value when the user finishes a change and
`invalid(message)` for text it cannot turn into a value; `set_value` updates it silently.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLineEdit, QSpinBox, QWidget

from graph.catalogue import BOOL, CHOICE, FLOAT, INT, INT_TUPLE, ParamSpec

INT32 = 2**31 - 1


class ParamEditor(QWidget):
    committed = Signal(object)
    invalid = Signal(str)

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.layout_ = QHBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        if spec.doc:
            self.setToolTip(spec.doc)

    def set_value(self, value: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def set_mixed(self) -> None:
        """Several selected layers disagree on this value."""


class IntEditor(ParamEditor):
    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.box = QSpinBox(self)
        self.box.setRange(int(spec.minimum) if spec.minimum is not None else -INT32,
                          int(min(spec.maximum, INT32)) if spec.maximum is not None else INT32)
        self.box.setKeyboardTracking(False)  # typed digits commit on Enter / focus out
        self.box.setAccelerated(True)
        self.layout_.addWidget(self.box)
        self.box.valueChanged.connect(lambda v: self.committed.emit(int(v)))

    def set_value(self, value: Any) -> None:
        self.box.blockSignals(True)
        self.box.setSpecialValueText("")
        self.box.setValue(int(value))
        self.box.blockSignals(False)


class FloatEditor(ParamEditor):
    """A line edit (accepts 1e-5 and 0.9 alike); out-of-range text is refused with a reason."""

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.edit = QLineEdit(self)
        self.layout_.addWidget(self.edit)
        self.edit.editingFinished.connect(self._commit)
        self._shown = ""

    def _commit(self) -> None:
        text = self.edit.text().strip()
        if text == self._shown:
            return
        try:
            value = float(text)
            value = self.spec.validate(value)
        except ValueError:
            self.invalid.emit(f"'{self.spec.name}': {text!r} is not a number.")
            self.edit.setText(self._shown)
            return
        except Exception as exc:  # noqa: BLE001 - ParamError and friends: refuse, say why
            self.invalid.emit(getattr(exc, "message", str(exc)))
            self.edit.setText(self._shown)
            return
        self._shown = text
        self.committed.emit(value)

    def set_value(self, value: Any) -> None:
        self._shown = f"{float(value):g}"
        self.edit.setText(self._shown)

    def set_mixed(self) -> None:
        self._shown = ""
        self.edit.setText("")
        self.edit.setPlaceholderText("(mixed)")


class BoolEditor(ParamEditor):
    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.box = QCheckBox(self)
        self.layout_.addWidget(self.box)
        self.box.toggled.connect(lambda v: self.committed.emit(bool(v)))

    def set_value(self, value: Any) -> None:
        self.box.blockSignals(True)
        self.box.setChecked(bool(value))
        self.box.blockSignals(False)


class ChoiceEditor(ParamEditor):
    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.box = QComboBox(self)
        self.box.addItems(list(spec.choices))
        self.layout_.addWidget(self.box)
        self.box.activated.connect(lambda i: self.committed.emit(self.box.itemText(i)))

    def set_value(self, value: Any) -> None:
        self.box.blockSignals(True)
        self.box.setCurrentIndex(max(0, self.box.findText(str(value))))
        self.box.blockSignals(False)

    def set_mixed(self) -> None:
        self.box.blockSignals(True)
        self.box.setCurrentIndex(-1)
        self.box.blockSignals(False)


class IntTupleEditor(ParamEditor):
    """Comma-separated whole numbers, e.g. ``1, 8, 8``."""

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.edit = QLineEdit(self)
        n = spec.min_len if spec.min_len == spec.max_len else f"{spec.min_len}–{spec.max_len}"
        self.edit.setPlaceholderText(f"{n} whole numbers, e.g. {self._text(spec.default)}")
        self.layout_.addWidget(self.edit)
        self.edit.editingFinished.connect(self._commit)
        self._shown = ""

    @staticmethod
    def _text(value: Any) -> str:
        return ", ".join(str(v) for v in value)

    def _commit(self) -> None:
        text = self.edit.text().strip()
        if text == self._shown:
            return
        parts = [p for p in text.replace("×", ",").replace("x", ",").split(",") if p.strip()]
        try:
            value = tuple(int(p.strip()) for p in parts)
            value = self.spec.validate(value)
        except ValueError:
            self.invalid.emit(f"'{self.spec.name}': {text!r} is not a list of whole numbers "
                              "(write e.g. 1, 8, 8).")
            self.edit.setText(self._shown)
            return
        except Exception as exc:  # noqa: BLE001 - ParamError: refuse with its reason
            self.invalid.emit(getattr(exc, "message", str(exc)))
            self.edit.setText(self._shown)
            return
        self._shown = self._text(value)
        self.edit.setText(self._shown)
        self.committed.emit(value)

    def set_value(self, value: Any) -> None:
        self._shown = self._text(value)
        self.edit.setText(self._shown)

    def set_mixed(self) -> None:
        self._shown = ""
        self.edit.setText("")


EDITORS = {INT: IntEditor, FLOAT: FloatEditor, BOOL: BoolEditor, CHOICE: ChoiceEditor,
           INT_TUPLE: IntTupleEditor}


def editor_for(spec: ParamSpec, parent: QWidget | None = None) -> ParamEditor:
    return EDITORS[spec.kind](spec, parent)
