"""Dashboards without a run: curve buffers, redraw, crosshair read-out, overlays, CSV."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from builder.training import guard
from builder.training.history import DECAY, OutputCurves, RunRecord, Series
from builder.training.plots import TrainingPlots
from builder.training.settings_form import parse_features


@pytest.fixture(autouse=True)
def thread_checks():
    guard.enable_thread_checks(True)
    guard.violations.clear()
    yield
    assert guard.violations == []
    guard.enable_thread_checks(False)


def _epoch(e: int, loss: float) -> SimpleNamespace:
    metrics = {"y": {"loss": loss, "accuracy": 1 - loss}}
    return SimpleNamespace(epoch=e, train=metrics, validation=metrics, train_loss=loss,
                           validation_loss=loss, lr=0.1 / e, seconds=0.1)


def _run(number: int = 1, epochs: int = 5) -> RunRecord:
    run = RunRecord(number, f"Run {number}", {"dataset": "xor"}, {"lr": 0.1, "epochs": epochs})
    run.add_batches([SimpleNamespace(step=s, epoch=1, batch=s, losses={"y": 1.0 / s},
                                     total=1.0 / s) for s in range(1, 21)])
    for e in range(1, epochs + 1):
        run.add_epoch(_epoch(e, 1.0 / e))
    return run


def test_series_grows_without_losing_values():
    s = Series(4)
    for i in range(10):
        s.append(i)
    s.extend(np.arange(10, 1000))
    assert np.array_equal(s.view(), np.arange(1000))


def test_smoothed_curve_is_an_ema_of_the_raw_losses():
    run = _run()
    c = run.outputs["y"]
    raw, smooth = c.batch_loss.view(), c.smooth_loss.view()
    assert smooth[0] == raw[0] and len(smooth) == len(raw) == 20
    steps = c.steps.view()
    weight = 1 - DECAY ** (steps[1] - steps[0])
    assert math.isclose(smooth[1], raw[0] + weight * (raw[1] - raw[0]))


def test_sparse_points_are_not_smoothed_into_a_lagging_curve():
    every_batch, sparse = OutputCurves("a"), OutputCurves("b")
    for step in range(1, 201):
        every_batch.add_batch(step, 2.0 if step < 100 else 0.5)
    for step in range(40, 201, 40):
        sparse.add_batch(step, 2.0 if step < 100 else 0.5)
    # One point per 40 batches already averages them: the smoothed curve follows it closely.
    assert abs(sparse.smooth_loss.view()[-1] - 0.5) < 0.01
    # Per-batch points are smoothed over roughly ten batches.
    assert every_batch.smooth_loss.view()[100] > 0.6


def test_plots_feed_curves_on_refresh_and_read_values(qtbot):
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    run = _run()
    plots.begin_run(run, ["y"])
    plots.refresh()
    assert plots.points("y", "raw") == 20 and plots.points("y", "train") == 5
    before = plots.redraws
    plots.refresh()  # nothing new: no redraw
    assert plots.redraws == before
    text = plots.values_at(plots.epoch_plot, 2.2)
    assert text.startswith("epoch 2") and "y train: 0.5" in text
    plots.end_run()
    assert not plots.timer.isActive()


def test_earlier_run_is_overlaid_when_checked(qtbot):
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    first, second = _run(1), _run(2, epochs=3)
    plots.begin_run(first, ["y"])
    plots.end_run()
    plots.begin_run(second, ["y"])
    plots.end_run()
    assert plots.run_list.count() == 2
    n = len(plots.epoch_plot.listDataItems())
    item = plots.run_list.item(0)
    item.setCheckState(item.checkState().__class__.Checked)
    assert len(plots.epoch_plot.listDataItems()) == n + 2  # train and validation of run 1
    item.setCheckState(item.checkState().__class__.Unchecked)
    assert len(plots.epoch_plot.listDataItems()) == n


def test_csv_has_epoch_and_batch_tables(tmp_path):
    run = _run()
    text = run.write_csv(tmp_path / "c.csv").read_text().splitlines()
    assert text[0] == "epoch,lr,y/train_loss,y/val_loss,y/train_accuracy,y/val_accuracy"
    assert text[1].split(",")[:3] == ["1", "0.1", "1"]
    assert "step,y/batch_loss" in text


def test_million_point_curve_redraws_quickly(qtbot):
    import time

    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.resize(1000, 600)
    plots.show()
    run = RunRecord(1, "big", {}, {})
    c = run.output("y")
    n = 1_000_000
    c.steps.extend(np.arange(n))
    c.batch_loss.extend(np.abs(np.sin(np.arange(n) / 1000.0)))
    c.smooth_loss.extend(np.abs(np.sin(np.arange(n) / 1000.0)))
    plots.begin_run(run, ["y"])
    plots.refresh()
    plots.graphics.repaint()
    t0 = time.perf_counter()
    run.dirty = True
    plots.refresh()
    plots.graphics.repaint()
    assert time.perf_counter() - t0 < 0.5  # the benchmark measures the 16 ms goal
    plots.end_run()


def test_feature_lists_parse_indices_and_names():
    assert parse_features("0, 1, bmi ,") == [0, 1, "bmi"]
    assert parse_features("") == []


def test_the_timer_feeds_one_plot_per_tick_each_at_most_redraw_hz(qtbot, monkeypatch):
    from builder.training import plots as plots_module

    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.timer.stop()
    run = _run()
    plots.begin_run(run, ["y"])
    plots.timer.stop()  # ticks by hand
    clock = [100.0]
    monkeypatch.setattr(plots_module.time, "monotonic", lambda: clock[0])
    fed = []
    real_feed = plots._feed
    monkeypatch.setattr(plots, "_feed", lambda group, r: (fed.append(group), real_feed(group, r)))
    for _ in range(4):
        plots._tick()
    assert fed == ["batch", "epoch", "metric", "lr"]  # one per tick, the longest waiting first
    assert plots.points("y", "raw") == 20 and plots.points("y", "val_m") == 5
    run.add_batches([SimpleNamespace(step=21, epoch=1, batch=21, losses={"y": 0.04},
                                     total=0.04)])
    plots._tick()
    assert fed[-1] == "lr"  # the batch plot was fed 0 s ago: it waits (≤ REDRAW_HZ)
    clock[0] += 1.5 / plots_module.REDRAW_HZ
    plots._tick()
    assert fed[-1] == "batch" and plots.points("y", "raw") == 21


def test_ending_a_run_feeds_every_plot_then_paints_them_in_turn(qtbot):
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.show()
    run = _run()
    plots.begin_run(run, ["y"])
    plots.end_run()
    assert plots.points("y", "raw") == 20 and plots.points("y", "train") == 5  # data at once
    assert not plots.timer.isActive()
    assert not any(w.updatesEnabled() for w in plots._widgets)  # paints come one by one
    qtbot.waitUntil(lambda: all(w.updatesEnabled() for w in plots._widgets), timeout=2000)


def test_x_axes_follow_the_data_and_an_early_stopped_run_fills_its_plots(qtbot):
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    run = _run(1, epochs=5)  # 20 steps, 5 epochs so far
    plots.begin_run(run, ["y"])
    plots.set_extent(steps=1000, epochs=50)  # planned: 50 epochs
    plots.refresh()
    plots._follow_x()  # as the timer's feed does while running
    lo, hi = plots.batch_plot.viewRange()[0]
    assert lo <= 0 and 20 <= hi <= 32  # the data and room to grow, not the planned 1000
    lo, hi = plots.epoch_plot.viewRange()[0]
    assert lo <= 1 and 5 <= hi <= 8
    plots.end_run()  # stopped early at epoch 5 of 50: the data fill the plots
    assert 20 <= plots.batch_plot.viewRange()[0][1] <= 21
    assert 5 <= plots.epoch_plot.viewRange()[0][1] <= 5.3
    assert 5 <= plots.metric_plot.viewRange()[0][1] <= 5.3
    earlier = _run(2, epochs=9)
    plots.begin_run(earlier, ["y"])
    plots.end_run()
    plots.begin_run(_run(3, epochs=3), ["y"])
    plots.end_run()
    plots.set_overlay(2, True)  # a longer earlier run: the epoch axes make room for it
    assert plots.epoch_plot.viewRange()[0][1] >= 9
    qtbot.waitUntil(lambda: all(w.updatesEnabled() for w in plots._widgets), timeout=2000)


def test_legend_outside_the_plots_titles_and_run_names_elided_with_tooltips(qtbot):
    from PySide6.QtCore import Qt

    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.resize(900, 500)
    plots.show()
    run = _run()
    run.data_settings["validation_split"] = 0.2
    plots.begin_run(run, ["main_output", "aux_output"])
    assert all(p.legend is None for p in plots.plots())  # nothing drawn over the curves
    text = plots.legend_text()
    assert "main_output" in text and "aux_output" in text and "validation" in text
    assert plots.legend.geometry().bottom() <= plots.graphics.geometry().top()
    plots.set_title(plots.epoch_plot, "A very long title that cannot fit in a narrow plot at all")
    widget = plots._widget_of(plots.epoch_plot)
    plots.resize(300, 500)
    qtbot.waitUntil(lambda: widget.width() < 200, timeout=2000)
    shown = plots.shown_title(plots.epoch_plot)
    assert shown.endswith("…") and widget.toolTip().startswith("A very long title")
    plots.resize(1600, 500)
    qtbot.waitUntil(lambda: not plots.shown_title(plots.epoch_plot).endswith("…"), timeout=2000)
    assert widget.toolTip() == ""
    assert plots.run_list.textElideMode() == Qt.TextElideMode.ElideMiddle
    assert plots.run_list.item(0).toolTip().startswith("Run 1")
    plots.end_run()
    no_val = _run(2)
    no_val.data_settings["validation_split"] = 0.0
    plots.begin_run(no_val, ["y"])
    assert "validation" not in plots.legend_text()
    plots.end_run()


def test_y_ranges_sit_on_round_ticks_and_hold_while_the_data_fill_them():
    from builder.training.plots import nice_step, y_range

    assert [nice_step(s) for s in (1.0, 0.37, 42.0)] == [0.25, 0.1, 20.0]
    first = y_range(0.31, 2.3, None)
    assert first == (0.0, 2.5)  # a loss: from 0, to a round top above the data
    assert y_range(0.2, 2.3, first) == first  # a new low inside the range: no change
    assert y_range(0.2, 2.45, first) == first
    grown = y_range(0.2, 2.9, first)  # outgrown: a new round range
    assert grown == (0.0, 4.0)
    assert y_range(2.0, 2.2, grown)[1] - y_range(2.0, 2.2, grown)[0] < 1.0  # data shrank
    negative = y_range(-0.4, 0.9, None)  # r² may be negative: no floor at 0
    assert negative[0] < -0.4 and negative[1] >= 0.9


def test_a_live_plot_changes_its_y_range_only_when_its_data_leave_it(qtbot):
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    run = _run(1, epochs=2)
    plots.begin_run(run, ["y"])
    plots.timer.stop()
    plots.timer.start(10_000)  # "running", with the feeds done by hand
    plots.refresh()
    shown = plots.batch_plot.viewRange()[1]
    assert shown[0] <= 0.05 and shown[1] >= 1.0  # losses 1/s for s = 1..20
    changes = []
    plots.batch_plot.sigYRangeChanged.connect(lambda *_: changes.append(1))
    run.add_batches([SimpleNamespace(step=s, epoch=2, batch=s, losses={"y": 0.5},
                                     total=0.5) for s in range(21, 30)])
    plots._feed("batch", run)
    assert changes == [] and plots.batch_plot.viewRange()[1] == shown
    run.add_batches([SimpleNamespace(step=30, epoch=2, batch=30, losses={"y": 5.0},
                                     total=5.0)])
    plots._feed("batch", run)  # above the range: it grows, on round ticks
    assert changes and plots.batch_plot.viewRange()[1][1] >= 5.0
    plots.end_run()  # the finished curves fit the plot again
    assert plots.batch_plot.getViewBox().autoRangeEnabled()[1]
    qtbot.waitUntil(lambda: all(w.updatesEnabled() for w in plots._widgets), timeout=2000)


def test_a_grid_is_drawn_opaque_behind_the_curves(qtbot):
    """Translucent unsmoothed lines are Qt's slow path (~20× an opaque one): the grid's lines
    are drawn in the colour they show on the background, under the curves."""
    from PySide6.QtGui import QPainter

    from builder.workflows.plotting import plot_widget

    widget = plot_widget("Loss", "epoch", "loss")
    qtbot.addWidget(widget)
    widget.resize(500, 300)
    widget.show()
    widget.getPlotItem().plot([1, 2, 3], [3, 1, 2])
    axis = widget.getPlotItem().getAxis("left")
    view = widget.getPlotItem().getViewBox()
    assert axis.zValue() < view.zValue()  # behind the view box: lines under the curves
    painter = QPainter()
    _, ticks, _ = axis.generateDrawSpecs(painter)
    assert ticks and all(pen.color().alpha() == 255 for pen, _, _ in ticks)
    background = widget.palette().color(widget.backgroundRole())
    major = ticks[0][0].color()  # a quarter of the axis ink over the background
    ink = axis.pen().color()
    expected = 0.25 * ink.redF() + 0.75 * background.redF()
    assert abs(major.redF() - expected) < 0.02
