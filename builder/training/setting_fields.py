"""One form field per declared setting (`backend.training.setting.Setting`): the widget for its
kind, bounds, unit and help, with reading and showing a value. The settings form builds its
rows from these, so a setting declared in the config dataclasses appears in the app with no
form code of its own (magicgui's lesson: declare once, derive the widget)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox, QWidget

from backend.training.setting import BOOL, CHOICE, FLOAT, FRACTION, INT, TEXT, Setting

INT32 = 2**31 - 1
#: The widgets' largest number: larger values are valid in a file but not offered by arrows
#: (a spin box is as wide as its largest value).
WIDGET_MAX = 1e6
#: A fraction's spin box shows percent; -1 is the data set's default (None).
DEFAULT_SPLIT = -1


class SettingField(QObject):
    """The editor of one setting; ``edited`` when the person finishes a change."""

    edited = Signal()

    def __init__(self, key: str, spec: Setting, default: Any,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.key, self.spec, self.default = key, spec, default
        self.widget = self._make()
        self.widget.setToolTip(spec.help)

    def _make(self) -> QWidget:
        spec, kind = self.spec, self.spec.kind
        if kind == BOOL:
            box = QCheckBox("on")
            box.toggled.connect(self.edited)
            return box
        if kind == CHOICE:
            combo = QComboBox()
            combo.addItems(list(spec.choices))
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
            combo.activated.connect(self.edited)
            return combo
        if kind == TEXT:
            edit = QLineEdit()
            if spec.optional:
                edit.setPlaceholderText("none")
            edit.editingFinished.connect(self.edited)
            return edit
        if kind == FRACTION:
            spin = QSpinBox()
            spin.setRange(DEFAULT_SPLIT if spec.optional else 0, 90)
            spin.setSuffix(" %")
            if spec.optional:
                spin.setSpecialValueText("default")
        elif kind == INT:
            spin = QSpinBox()
            spin.setRange(int(max(spec.lo, -INT32)), int(min(spec.hi, INT32)))
        elif kind == FLOAT:
            spin = QDoubleSpinBox()
            spin.setDecimals(spec.decimals)
            spin.setSingleStep(spec.step)
            spin.setRange(spec.lo, min(spec.hi, WIDGET_MAX))
        else:
            raise ValueError(f"no field for a setting of kind {kind!r} ({self.key})")
        spin.setKeyboardTracking(False)  # typed digits apply on Enter / focus out
        if spec.off:
            spin.setSpecialValueText(spec.off)
        if spec.unit:
            spin.setSuffix(spec.unit)
        spin.valueChanged.connect(self.edited)
        return spin

    def value(self) -> Any:
        w, kind = self.widget, self.spec.kind
        if kind == BOOL:
            return w.isChecked()
        if kind == CHOICE:
            return w.currentText()
        if kind == TEXT:
            text = w.text().strip()
            return None if self.spec.optional and not text else text
        if kind == FRACTION:
            return None if w.value() == DEFAULT_SPLIT else w.value() / 100
        return w.value()

    def set_value(self, value: Any) -> None:
        """Show ``value`` without reporting an edit."""
        w, kind = self.widget, self.spec.kind
        w.blockSignals(True)
        try:
            if kind == BOOL:
                w.setChecked(bool(value))
            elif kind == CHOICE:
                if w.findText(str(value)) < 0:
                    w.addItem(str(value))
                w.setCurrentText(str(value))
            elif kind == TEXT:
                w.setText("" if value is None else str(value))
            elif kind == FRACTION:
                w.setValue(DEFAULT_SPLIT if value is None else round(100 * value))
            else:
                w.setValue(value)
        finally:
            w.blockSignals(False)

    def set_applies(self, applies: bool) -> None:
        """Enabled when the setting matters; otherwise disabled, its tooltip saying why."""
        self.widget.setEnabled(applies)
        self.widget.setToolTip(self.spec.help if applies or not self.spec.needs
                               else self.spec.needs)
