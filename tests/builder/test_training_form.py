"""The training settings form's tuning and data fields (SCENARIOS §4, §5): each writes the key
the backend configs accept as one undo step, undo restores the form, refusals are not applied,
Browse… takes an injected answer, Find… opens the learning-rate finder."""

from __future__ import annotations

import pytest

from backend.data.config import DataConfig
from backend.training.config import TrainConfig
from builder.training.settings_form import (
    CW_BALANCED,
    CW_HAND,
    CW_NONE,
    class_count,
    parse_class_weights,
)
from graph.edits import SetSection


@pytest.fixture
def form(window):
    """The form of the digits MLP (SGD with momentum 0.9, digits images, 10 classes)."""
    assert window.open_example("mlp_digits")
    form = window.training.form
    form.fill_backend_choices()  # the data set kinds, as once the backend is loaded
    return form


def _training(window) -> dict:
    return window.controller.doc.section("training")


def _data(window) -> dict:
    return window.controller.doc.section("data")


def _one_step(window, change, section: str, check) -> None:
    """``change()`` adds exactly one undo step whose section passes ``check``; undo restores
    the section and the form shows it again."""
    stack = window.controller.stack
    index, before = stack.index(), window.controller.doc.section(section)
    change()
    assert stack.index() == index + 1, stack.undoText()
    after = window.controller.doc.section(section)
    check(after)
    if section == "training":
        TrainConfig.from_dict(after)
    else:
        DataConfig.from_dict(after)
    assert window.files.is_modified()
    stack.undo()
    assert window.controller.doc.section(section) == before


def _choose(combo, text: str) -> None:
    combo.setCurrentText(text)
    combo.activated.emit(combo.currentIndex())


def test_nesterov_weight_decay_warmup_and_clipping_are_one_step_each(window, form):
    _one_step(window, lambda: form.field("training.nesterov").widget.setChecked(True), "training",
              lambda t: t["nesterov"] is True)
    assert not form.field("training.nesterov").widget.isChecked()  # the form follows undo
    _one_step(window, lambda: form.field("training.weight_decay").widget.setValue(5e-4), "training",
              lambda t: t["weight_decay"] == pytest.approx(5e-4))
    assert form.field("training.weight_decay").widget.value() == 0
    _one_step(window, lambda: form.field("training.schedule.warmup_epochs").widget.setValue(2.0), "training",
              lambda t: t["schedule"] == {"kind": "constant", "warmup_epochs": 2.0})
    assert form.field("training.schedule.warmup_epochs").widget.value() == 0 and form.field("training.schedule.warmup_epochs").widget.text() == "off"
    assert TrainConfig.from_dict({**_training(window), "schedule": {
        "kind": "constant", "warmup_epochs": 2.0}}).schedule.warmup_epochs == 2.0
    _one_step(window, lambda: form.field("training.clip_grad_norm").widget.setValue(1.5), "training",
              lambda t: t["clip_grad_norm"] == 1.5)
    assert form.field("training.clip_grad_norm").widget.value() == 0


def test_warmup_keeps_the_schedule_kind_and_clears_to_the_kind(window, form):
    _choose(form.field("training.schedule.kind").widget, "cosine")
    assert _training(window)["schedule"] == "cosine"
    form.field("training.schedule.warmup_epochs").widget.setValue(3.0)
    assert _training(window)["schedule"] == {"kind": "cosine", "warmup_epochs": 3.0}
    _choose(form.field("training.schedule.kind").widget, "step")
    assert _training(window)["schedule"] == {"kind": "step", "warmup_epochs": 3.0}
    form.field("training.schedule.warmup_epochs").widget.setValue(0.0)
    assert _training(window)["schedule"] == "step"  # a schedule that is its kind alone
    window.controller.stack.undo()
    assert form.field("training.schedule.warmup_epochs").widget.value() == 3.0 and form.field("training.schedule.kind").widget.currentText() == "step"


def test_nesterov_is_for_sgd_with_momentum_only(window, form):
    assert form.field("training.nesterov").widget.isEnabled()
    form.field("training.nesterov").widget.setChecked(True)
    _choose(form.field("training.optimizer").widget, "adam")
    assert not form.field("training.nesterov").widget.isEnabled() and "SGD" in form.field("training.nesterov").widget.toolTip()
    train = _training(window)
    assert train["optimizer"] == "adam" and train.get("nesterov", False) is False
    TrainConfig.from_dict(train)  # never a section the backend refuses
    _choose(form.field("training.optimizer").widget, "sgd")
    form.field("training.momentum").widget.setValue(0.0)
    assert not form.field("training.nesterov").widget.isEnabled()
    assert TrainConfig.from_dict(_training(window)).nesterov is False


def test_class_weights_balanced_and_by_hand(window, form):
    assert class_count(window.controller.doc) == 10
    _one_step(window, lambda: _choose(form.class_weights, CW_BALANCED), "training",
              lambda t: t["class_weights"] == "balanced")
    assert form.class_weights.currentText() == CW_NONE
    assert not form.class_weight_edit.isEnabled()
    weights = [1, 2.5, 1, 1, 1, 1, 1, 1, 1, 3]

    def by_hand() -> None:
        _choose(form.class_weights, CW_HAND)
        assert form.class_weight_edit.isEnabled()
        form.class_weight_edit.setText("1, 2.5, 1, 1, 1, 1, 1, 1, 1, 3")
        form.class_weight_edit.editingFinished.emit()

    _one_step(window, by_hand, "training", lambda t: t["class_weights"] == weights)
    window.controller.stack.redo()
    assert form.class_weights.currentText() == CW_HAND
    assert form.class_weight_edit.text() == "1, 2.5, 1, 1, 1, 1, 1, 1, 1, 3"
    assert TrainConfig.from_dict(_training(window)).class_weights == weights
    _one_step(window, lambda: _choose(form.class_weights, CW_NONE), "training",
              lambda t: "class_weights" not in t)


@pytest.mark.parametrize("text, why", [
    ("1, 2.5, 1", "3 weights for 10 classes"),
    ("1, two, 1", "not a number"),
    ("1, -1" + ", 1" * 8, "at least 0"),
    ("", "one weight per class"),
])
def test_invalid_class_weights_are_refused_with_a_message(window, form, text, why):
    stack = window.controller.stack
    index, before = stack.index(), _training(window)
    _choose(form.class_weights, CW_HAND)
    form.class_weight_edit.setText(text)
    form.class_weight_edit.editingFinished.emit()
    assert stack.index() == index and _training(window) == before  # nothing half-applied
    assert form.message.isVisibleTo(form) and why in form.message.text()
    # a valid list afterwards applies and clears the message
    form.class_weight_edit.setText(", ".join(["1"] * 10))
    form.class_weight_edit.editingFinished.emit()
    assert stack.index() == index + 1 and _training(window)["class_weights"] == [1.0] * 10
    assert not form.message.isVisibleTo(form)


def test_parse_class_weights():
    assert parse_class_weights("1; 2.5 1") == [1.0, 2.5, 1.0]
    assert parse_class_weights("1, 2", None) == [1.0, 2.0]
    for bad in ("0, 0", "nan, 1", "inf", "1,,x"):
        with pytest.raises(ValueError):
            parse_class_weights(bad)


def test_sample_weight_column_for_csv_only(window, form, tmp_path):
    assert not form.field("data.sample_weight").widget.isEnabled() and "CSV" in form.field("data.sample_weight").widget.toolTip()
    csv = tmp_path / "rows.csv"
    csv.write_text("x,w,y\n1,1,0\n2,3,1\n")
    form.field("data.path").widget.setText(str(csv))
    form.field("data.path").widget.editingFinished.emit()
    _choose(form.field("data.dataset").widget, "csv")
    assert form.field("data.sample_weight").widget.isEnabled()

    def set_column() -> None:
        form.field("data.sample_weight").widget.setText("w")
        form.field("data.sample_weight").widget.editingFinished.emit()

    _one_step(window, set_column, "data", lambda d: d["sample_weight"] == "w")
    assert form.field("data.sample_weight").widget.text() == ""
    window.controller.stack.redo()
    assert DataConfig.from_dict(_data(window)).sample_weight == "w"
    _choose(form.field("data.dataset").widget, "digits")  # the column means nothing for built-in data
    assert "sample_weight" not in _data(window) and not form.field("data.sample_weight").widget.isEnabled()


def test_augmentation_switch_for_image_data(window, form):
    shift = form.field("data.augment.shift").widget
    assert form.augment.isEnabled() and not shift.isVisibleTo(form)  # shown once switched on
    _one_step(window, lambda: form.augment.setChecked(True), "data",
              lambda d: d["augment"] == {"shift": 2, "rotate": 10, "noise": pytest.approx(0.05)})
    assert not form.augment.isChecked() and not shift.isVisibleTo(form)
    form.augment.setChecked(True)
    assert shift.isVisibleTo(form)
    _one_step(window, lambda: form.field("data.augment.shift").widget.setValue(3), "data",
              lambda d: d["augment"]["shift"] == 3)
    assert form.field("data.augment.shift").widget.value() == 2
    assert DataConfig.from_dict(_data(window)).augment.shift == 2
    _choose(form.field("data.dataset").widget, "iris")  # tabular: no augmentation
    assert "augment" not in _data(window)
    assert not form.augment.isEnabled() and "image" in form.augment.toolTip()


def test_browse_sets_the_path_with_an_injected_answer(window, form, tmp_path):
    asked = []
    answer = tmp_path / "table.csv"

    def choose(kind: str, current: str, folder: bool) -> str | None:
        asked.append((kind, folder))
        return str(answer)

    form.choose_path = choose
    stack = window.controller.stack
    index = stack.index()
    assert form.browse_path()
    assert asked == [("digits", False)]
    data = _data(window)  # a .csv chosen for a built-in set switches it to csv
    assert data["path"] == str(answer) and data["dataset"] == "csv"
    assert stack.index() == index + 1 and form.field("data.path").widget.text() == str(answer)
    stack.undo()
    assert form.field("data.path").widget.text() == "" and form.field("data.dataset").widget.currentText() == "digits"
    # folders for image folders / MNIST; a cancelled dialog changes nothing
    _choose(form.field("data.dataset").widget, "images")
    form.choose_path = lambda kind, current, folder: asked.append((kind, folder)) or None
    index = stack.index()
    form.browse.click()
    assert asked[-1] == ("images", True) and stack.index() == index


def test_find_opens_the_learning_rate_finder(window, form, qtbot):
    with qtbot.waitSignal(form.findLearningRateRequested, timeout=1000):
        form.find_lr.click()
    dialog = window.workflows.lr_finder
    assert dialog is not None and dialog.isVisible()
    dialog.close()


def test_output_columns_fit_the_form(window, form, qtbot):
    """At the panel's narrowest settings column nothing scrolls sideways and the weight field
    shows its value (it was clipped in the docs screenshot)."""
    window.show_training()
    scroll = form.parentWidget().parentWidget()  # the panel's scroll area
    narrowest = (scroll.minimumWidth() - scroll.verticalScrollBar().sizeHint().width()
                 - 2 * scroll.frameWidth())
    assert form.minimumSizeHint().width() <= narrowest
    weight = form.output_rows["digit"]["weight"]
    qtbot.waitUntil(weight.isVisible)
    assert not scroll.horizontalScrollBar().isVisible()
    assert weight.width() >= weight.fontMetrics().horizontalAdvance(weight.text()) + 8
    assert weight.mapTo(form, weight.rect().topRight()).x() <= form.width()


def test_every_declared_setting_has_its_field(form):
    """The rows come from the declarations: a setting declared for the form is in it, with
    the declaration's label, help and bounds."""
    from backend.data.config import DataConfig
    from backend.training.setting import NESTED, declared

    custom = {"training.class_weights": form.class_weights, "training.device": form.device}
    for section, cls in (("data", DataConfig), ("training", TrainConfig)):
        for name, spec in declared(cls):
            if not spec.form:
                continue
            subs = declared(spec.nested) if spec.kind == NESTED else [(None, spec)]
            for sub, sub_spec in subs:
                key = f"{section}.{name}" + (f".{sub}" if sub else "")
                if key in custom:
                    continue
                field = form.field(key)
                assert field.spec is sub_spec
                form_layout, widget = form._rows[key]
                assert form_layout.labelForField(widget).text() == sub_spec.label
    lr = form.field("training.lr").widget
    assert lr.maximum() == 1000 and lr.decimals() == 6
    assert form.field("training.batch_size").widget.specialValueText() == "full batch"


def test_schedule_parameters_show_for_their_kind(window, form):
    def shown(key):
        return form.field(key).widget.isVisibleTo(form)

    assert not shown("training.schedule.step_size") and not shown("training.schedule.min_lr")
    _choose(form.field("training.schedule.kind").widget, "step")
    assert shown("training.schedule.step_size") and shown("training.schedule.gamma")
    assert not shown("training.schedule.min_lr") and not shown("training.schedule.patience")
    _one_step(window, lambda: form.field("training.schedule.step_size").widget.setValue(3),
              "training", lambda t: t["schedule"] == {"kind": "step", "step_size": 3})
    _choose(form.field("training.schedule.kind").widget, "plateau")
    assert shown("training.schedule.patience") and not shown("training.schedule.gamma")


def test_a_project_with_refused_settings_opens_and_says_why(window, form):
    window.controller.push(SetSection("training", {"batch_size": -1, "lr": "fast"}))
    assert form.field("training.lr").widget.value() == pytest.approx(1e-3)  # the default
    assert form.message.isVisibleTo(form)
    assert "'batch_size' = -1" in form.message.text() and "'lr' = 'fast'" in form.message.text()
    # the next edit applies what the form shows: the defaults in place of the refused values
    form.field("training.epochs").widget.setValue(4)
    train = _training(window)
    assert train["epochs"] == 4 and train["batch_size"] == 32 and train["lr"] == 1e-3
    assert not form.message.isVisibleTo(form)
