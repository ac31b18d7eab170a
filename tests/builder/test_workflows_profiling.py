"""The profiling tab: per-layer forward/backward bars from a background profile, the trace
exported, weight and gradient histograms per layer per epoch."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.usefixtures("gui_thread_checks")


def test_profile_bars_and_trace_export(window, qtbot, tmp_path):
    window.open_example("mlp_digits")
    view = window.workflows.show_profiling()
    assert window.bottom_tabs.currentWidget() is view
    view.steps.setValue(3)
    assert not view.trace_button.isEnabled()
    with qtbot.waitSignal(view.runner.finished, timeout=60000):
        assert view.start_profile()
    layers = [t.layer for t in view.profile.layers]
    assert layers == ["hidden1", "hidden2", "logits"]
    heights = view.forward_bars.opts["height"]
    assert len(heights) == 3 and all(h > 0 for h in heights)
    assert list(view.backward_bars.opts["height"]) == [t.backward_ms
                                                       for t in view.profile.layers]
    ticks = view.bars.getAxis("bottom")._tickLevels[0]
    assert [name for _, name in ticks] == layers
    assert "ms per step" in view.status.text()
    assert view.trace_button.isEnabled()
    out = tmp_path / "trace.json"
    assert view.export_trace(str(out))
    events = json.loads(out.read_text())["traceEvents"]
    assert any(e.get("name") == "forward:hidden1" for e in events)


def test_histograms_per_layer_per_epoch(window, qtbot):
    window.open_example("xor_mlp")
    view = window.workflows.show_profiling()
    view.epochs.setValue(3)
    with qtbot.waitSignal(view.runner.finished, timeout=60000):
        assert view.start_histograms()
    assert len(view.histograms) == 3
    assert view.layer_box.count() >= 2
    assert view.epoch_slider.maximum() == 3
    first = view.layer_box.itemText(0)
    view.layer_box.setCurrentIndex(0)
    view.epoch_slider.setValue(1)
    xs, ys = view.weights_curve.getData()
    h = view.histograms[0][first]["weights"]
    assert list(ys) == h.counts and len(xs) == len(h.edges)
    assert sum(view.grads_curve.getData()[1]) > 0
    assert f"{first}, epoch 1" in view.weights_widget.getPlotItem().titleLabel.text


def test_stop_and_close_join_the_profile_thread(window, qtbot):
    window.open_example("mlp_digits")
    view = window.workflows.show_profiling()
    view.epochs.setValue(200)
    assert view.start_histograms()
    assert view.runner.running()
    window.close()
    assert not view.runner.running()


def test_a_design_with_blocks_shows_time_per_block_instance(window, qtbot):
    window.open_example("mlp_digits")
    view = window.workflows.show_profiling()
    view.steps.setValue(2)
    with qtbot.waitSignal(view.runner.finished, timeout=60000):
        assert view.start_profile()
    assert view.block_table.isHidden()  # no blocks, no table
    window.open_example("resnet_blocks_digits")
    with qtbot.waitSignal(view.runner.finished, timeout=60000):
        assert view.start_profile()
    assert not view.block_table.isHidden()
    rows = [(view.block_table.item(r, 0).text(), view.block_table.item(r, 1).text())
            for r in range(view.block_table.rowCount())]
    assert rows == [(b.path, b.block) for b in view.profile.blocks]
    assert ("layer1.0", "BasicBlock") in rows
    assert float(view.block_table.item(0, 2).text()) == pytest.approx(
        view.profile.blocks[0].forward_ms, abs=1e-3)
