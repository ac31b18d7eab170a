"""The learning-rate finder in the app: a background sweep on the digits MLP, the curve and the
suggestion on the plot, "Apply" as one undo step, Stop, and the thread joined on close."""

from __future__ import annotations

import math

import pytest

pytestmark = pytest.mark.usefixtures("gui_thread_checks")


def _dialog(window, steps=60):
    window.open_example("mlp_digits")
    dialog = window.workflows.show_lr_finder()
    dialog.steps.setValue(steps)
    return dialog


def test_sweep_plots_and_apply_is_one_undo_step(window, qtbot):
    dialog = _dialog(window)
    weights_before = window.training.trained_state
    with qtbot.waitSignal(dialog.runner.finished, timeout=60000):
        assert dialog.start()
    assert not dialog.runner.running()
    result = dialog.result
    assert len(result.lrs) >= 20 and result.lrs[0] == pytest.approx(1e-5)
    # the plot shows the whole sweep (log x) and marks the suggestion
    xs, ys = dialog.smooth_curve.getData()
    assert len(xs) == len(result.lrs)
    assert dialog.plot.ctrl.logXCheck.isChecked()
    s = result.suggestion
    assert s is not None and 1e-4 < s < 1
    assert dialog.marker.isVisible()
    assert dialog.marker.value() == pytest.approx(math.log10(s))
    assert "suggested" in dialog.marker.label.format
    assert dialog.apply_button.isEnabled()
    assert window.training.trained_state is weights_before  # the design's weights untouched
    # apply: one undoable step that sets the training lr
    stack = window.controller.stack
    index, lr_before = stack.index(), window.controller.doc.section("training")["lr"]
    assert dialog.apply()
    assert stack.index() == index + 1
    assert window.controller.doc.section("training")["lr"] == pytest.approx(s, rel=1e-2)
    stack.undo()
    assert window.controller.doc.section("training")["lr"] == lr_before
    dialog.close()


def test_stop_ends_the_sweep_and_close_joins(window, qtbot):
    dialog = _dialog(window, steps=4000)
    seen = []
    dialog.runner.progress.connect(seen.extend)
    dialog.start()
    qtbot.waitUntil(lambda: len(seen) >= 3, timeout=30000)
    with qtbot.waitSignal(dialog.runner.finished, timeout=30000):
        dialog.stop_button.click()
    assert dialog.result.reason in ("stopped", "exploded")
    assert len(dialog.result.lrs) < 4000
    # a second sweep, then the window closes mid-run: the thread is joined
    dialog.start()
    qtbot.waitUntil(lambda: dialog.runner.running(), timeout=5000)
    window.controller.stack.setClean()
    window.close()
    assert not dialog.runner.running()


def test_a_design_that_cannot_train_says_why(window, qtbot):
    dialog = window.workflows.show_lr_finder()  # an empty design
    assert not dialog.start()
    assert "no Input" in dialog.status.text()
    assert not dialog.runner.running()
