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
    _one_step(window, lambda: form.nesterov.setChecked(True), "training",
              lambda t: t["nesterov"] is True)
    assert not form.nesterov.isChecked()  # the form follows undo
    _one_step(window, lambda: form.weight_decay.setValue(5e-4), "training",
              lambda t: t["weight_decay"] == pytest.approx(5e-4))
    assert form.weight_decay.value() == 0
    _one_step(window, lambda: form.warmup.setValue(2.0), "training",
              lambda t: t["schedule"] == {"kind": "constant", "warmup_epochs": 2.0})
    assert form.warmup.value() == 0 and form.warmup.text() == "off"
    assert TrainConfig.from_dict({**_training(window), "schedule": {
        "kind": "constant", "warmup_epochs": 2.0}}).schedule.warmup_epochs == 2.0
    _one_step(window, lambda: form.clip.setValue(1.5), "training",
              lambda t: t["clip_grad_norm"] == 1.5)
    assert form.clip.value() == 0


def test_warmup_keeps_the_schedule_kind_and_clears_to_the_kind(window, form):
    _choose(form.schedule, "cosine")
    assert _training(window)["schedule"] == "cosine"
    form.warmup.setValue(3.0)
    assert _training(window)["schedule"] == {"kind": "cosine", "warmup_epochs": 3.0}
    _choose(form.schedule, "step")
    assert _training(window)["schedule"] == {"kind": "step", "warmup_epochs": 3.0}
    form.warmup.setValue(0.0)
    assert _training(window)["schedule"] == {"kind": "step"}
    window.controller.stack.undo()
    assert form.warmup.value() == 3.0 and form.schedule.currentText() == "step"


def test_nesterov_is_for_sgd_with_momentum_only(window, form):
    assert form.nesterov.isEnabled()
    form.nesterov.setChecked(True)
    _choose(form.optimizer, "adam")
    assert not form.nesterov.isEnabled() and "SGD" in form.nesterov.toolTip()
    train = _training(window)
    assert train["optimizer"] == "adam" and train["nesterov"] is False
    TrainConfig.from_dict(train)  # never a section the backend refuses
    _choose(form.optimizer, "sgd")
    form.momentum.setValue(0.0)
    assert not form.nesterov.isEnabled()
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
    assert not form.sample_weight.isEnabled() and "CSV" in form.sample_weight.toolTip()
    csv = tmp_path / "rows.csv"
    csv.write_text("x,w,y\n1,1,0\n2,3,1\n")
    form.path.setText(str(csv))
    _choose(form.dataset, "csv")
    assert form.sample_weight.isEnabled()

    def set_column() -> None:
        form.sample_weight.setText("w")
        form.sample_weight.editingFinished.emit()

    _one_step(window, set_column, "data", lambda d: d["sample_weight"] == "w")
    assert form.sample_weight.text() == ""
    window.controller.stack.redo()
    assert DataConfig.from_dict(_data(window)).sample_weight == "w"
    _choose(form.dataset, "digits")  # the column means nothing for built-in data
    assert "sample_weight" not in _data(window) and not form.sample_weight.isEnabled()


def test_augmentation_switch_for_image_data(window, form):
    assert form.augment.isEnabled() and not form.augment_shift.isEnabled()
    _one_step(window, lambda: form.augment.setChecked(True), "data",
              lambda d: d["augment"] == {"shift": 2, "rotate": 10, "noise": pytest.approx(0.05)})
    assert not form.augment.isChecked() and not form.augment_shift.isEnabled()
    form.augment.setChecked(True)
    _one_step(window, lambda: form.augment_shift.setValue(3), "data",
              lambda d: d["augment"]["shift"] == 3)
    assert form.augment_shift.value() == 2
    assert DataConfig.from_dict(_data(window)).augment["shift"] == 2
    _choose(form.dataset, "iris")  # tabular: no augmentation
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
    assert stack.index() == index + 1 and form.path.text() == str(answer)
    stack.undo()
    assert form.path.text() == "" and form.dataset.currentText() == "digits"
    # folders for image folders / MNIST; a cancelled dialog changes nothing
    _choose(form.dataset, "images")
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
