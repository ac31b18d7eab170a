"""One editor widget per parameter kind, built from a `ParamSpec`.

Each editor emits `committed(value)` with a Python value when the user finishes a change and
`invalid(message)` for text it cannot turn into a value; `set_value` updates it silently.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLineEdit, QSpinBox, QWidget

from graph.catalogue import BOOL, CHOICE, FLOAT, INT, INT_OR_TUPLE, INT_TUPLE, ParamSpec

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


class _TextEditor(ParamEditor):
    """A line edit whose text is parsed into a value and checked by the spec on commit; text it
    cannot use is refused with the reason and the shown value restored. An optional spec takes
    empty text as "not set" (None)."""

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.edit = QLineEdit(self)
        if spec.optional:
            self.edit.setPlaceholderText("(not set)")
        self.layout_.addWidget(self.edit)
        self.edit.editingFinished.connect(self._commit)
        self._shown = ""

    def parse(self, text: str) -> Any:  # pragma: no cover - abstract
        """The value written as ``text``; ValueError when it is not one."""
        raise NotImplementedError

    def show_value(self, value: Any) -> str:
        return str(value)

    def hint(self, text: str) -> str:
        return f"'{self.spec.name}': {text!r} is not a valid value."

    def _commit(self) -> None:
        text = self.edit.text().strip()
        if text == self._shown:
            return
        try:
            value = None if (self.spec.optional and not text) else self.parse(text)
            value = self.spec.validate(value)
        except ValueError:
            self.invalid.emit(self.hint(text))
            self.edit.setText(self._shown)
            return
        except Exception as exc:  # noqa: BLE001 - ParamError and friends: refuse, say why
            self.invalid.emit(getattr(exc, "message", str(exc)))
            self.edit.setText(self._shown)
            return
        self._shown = "" if value is None else self.show_value(value)
        self.edit.setText(self._shown)
        self.committed.emit(value)

    def set_value(self, value: Any) -> None:
        self._shown = "" if value is None else self.show_value(value)
        self.edit.setText(self._shown)

    def set_mixed(self) -> None:
        self._shown = ""
        self.edit.setText("")
        self.edit.setPlaceholderText("(mixed)")


class FloatEditor(_TextEditor):
    """Accepts 1e-5 and 0.9 alike; out-of-range text is refused with a reason."""

    def parse(self, text: str) -> float:
        return float(text)

    def show_value(self, value: Any) -> str:
        return f"{float(value):g}"

    def hint(self, text: str) -> str:
        return f"'{self.spec.name}': {text!r} is not a number."


class OptionalIntEditor(_TextEditor):
    """A whole number, or empty for "not set" (``Slice.stop``, ``Embedding.padding_idx``)."""

    def parse(self, text: str) -> int:
        return int(text)

    def hint(self, text: str) -> str:
        return f"'{self.spec.name}': {text!r} is not a whole number (leave it empty for none)."


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


def _numbers(text: str) -> tuple[int, ...]:
    parts = [p for p in text.replace("×", ",").replace("x", ",").split(",") if p.strip()]
    return tuple(int(p.strip()) for p in parts)


class IntTupleEditor(_TextEditor):
    """Comma-separated whole numbers, e.g. ``1, 8, 8``."""

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        n = spec.min_len if spec.min_len == spec.max_len else f"{spec.min_len}–{spec.max_len}"
        example = self.show_value(spec.default) if spec.default is not None else "1, 2"
        self.edit.setPlaceholderText(f"{n} whole numbers, e.g. {example}"
                                     + (" (empty: not set)" if spec.optional else ""))

    def parse(self, text: str) -> tuple[int, ...]:
        return _numbers(text)

    def show_value(self, value: Any) -> str:
        return ", ".join(str(v) for v in value)

    def hint(self, text: str) -> str:
        return (f"'{self.spec.name}': {text!r} is not a list of whole numbers "
                "(write e.g. 1, 8, 8).")


class IntOrTupleEditor(_TextEditor):
    """A number, one number per dimension (``1, 2``) or one of the spec's words (``same``);
    the words are offered in a drop-down beside the field."""

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        words = " or ".join(spec.choices)
        per_dim = ", ".join(["1"] * max(spec.min_len, 2))
        self.edit.setPlaceholderText(f"a number, {per_dim}" + (f", or {words}" if words else ""))
        self.words: QComboBox | None = None
        if spec.choices:
            self.words = QComboBox(self)
            self.words.addItems(list(spec.choices))
            self.words.setToolTip("Choose " + words)
            self.words.setPlaceholderText("or: " + "/".join(spec.choices))
            self.words.setCurrentIndex(-1)
            self.layout_.addWidget(self.words)
            self.words.activated.connect(self._word)

    def _word(self, index: int) -> None:
        assert self.words is not None
        self.edit.setText(self.words.itemText(index))
        self._commit()

    def parse(self, text: str) -> int | str | tuple[int, ...]:
        if text in self.spec.choices:
            return text
        if "," in text or "×" in text:
            return _numbers(text)
        return int(text)

    def show_value(self, value: Any) -> str:
        if isinstance(value, (tuple, list)):
            return ", ".join(str(v) for v in value)
        return str(value)

    def set_value(self, value: Any) -> None:
        super().set_value(value)
        if self.words is not None:
            self.words.blockSignals(True)
            self.words.setCurrentIndex(self.words.findText(value) if isinstance(value, str)
                                       else -1)
            self.words.blockSignals(False)

    def hint(self, text: str) -> str:
        words = ", ".join(self.spec.choices)
        return (f"'{self.spec.name}': {text!r} is not a number, a list of numbers"
                + (f" or one of {words}." if words else "."))


EDITORS = {INT: IntEditor, FLOAT: FloatEditor, BOOL: BoolEditor, CHOICE: ChoiceEditor,
           INT_TUPLE: IntTupleEditor, INT_OR_TUPLE: IntOrTupleEditor}


def editor_for(spec: ParamSpec, parent: QWidget | None = None) -> ParamEditor:
    if spec.kind == INT and spec.optional:
        return OptionalIntEditor(spec, parent)
    return EDITORS[spec.kind](spec, parent)
