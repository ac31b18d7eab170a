"""Axes of the workflow plots read in real units, never pyqtgraph's "(x0.001)" rescaling."""

from __future__ import annotations

import numpy as np

from builder.workflows.plotting import plot_widget


def test_small_values_keep_their_unit_on_the_axis(qapp):
    widget = plot_widget("Validation score per epoch", "epoch", "validation accuracy")
    widget.resize(500, 300)
    widget.plot(np.arange(10), np.linspace(0.1, 0.9, 10))
    widget.getPlotItem().setLabel("left", "time", units="ms")
    widget.plot(np.arange(10), np.linspace(0.001, 0.004, 10))
    widget.show()
    qapp.processEvents()
    left = widget.getPlotItem().getAxis("left")
    left.updateAutoSIPrefix()
    assert left.autoSIPrefixScale == 1.0
    assert "x0.001" not in left.labelString() and "(ms)" in left.labelString()
    assert "mms" not in left.labelString() and "(µms)" not in left.labelString()
    ticks = left.tickStrings([0.1, 0.5], 1.0, 0.1)
    assert ticks == ["0.1", "0.5"]
    widget.close()


def test_the_search_and_profiling_plots_are_made_by_the_shared_helper():
    import inspect

    from builder.workflows import profiling_view, search_dialog

    for module in (search_dialog, profiling_view):
        assert "plot_widget(" in inspect.getsource(module)


def test_plain_axes_replace_the_axes_of_any_plot_keeping_labels(qapp):
    import pyqtgraph as pg

    from builder.workflows.plotting import PlainAxis, plain_axes

    widget = pg.PlotWidget()
    widget.setLabel("left", "loss")
    plain_axes(widget)
    axis = widget.getPlotItem().getAxis("left")
    assert isinstance(axis, PlainAxis) and axis.labelText == "loss"
    widget.plot([0, 1], [0.0001, 0.0004])
    axis.setLabel("loss again")  # a later label brings no prefix back
    qapp.processEvents()
    assert axis.autoSIPrefixScale == 1.0 and "x0.0001" not in axis.labelString()


def test_training_and_evaluation_plots_read_in_real_units(qapp):
    """The training dashboards, the evaluation scatter and the data preview: losses of 0.05–0.8
    read "loss", not "loss (x0.001)" over 50–800."""
    from builder.training.evaluation import EvaluationView
    from builder.training.plots import TrainingPlots
    from builder.training.preview import DataPreview
    from builder.workflows.plotting import PlainAxis

    plots = TrainingPlots()
    evaluation = EvaluationView()
    preview = DataPreview()
    items = [p for p in plots.plots()] + [evaluation.scatter.getPlotItem(),
                                         preview.balance.getPlotItem()]
    for item in items:
        for side in ("left", "bottom"):
            assert isinstance(item.getAxis(side), PlainAxis), (item, side)
    plots.epoch_plot.plot(np.arange(10), np.linspace(0.05, 0.8, 10))
    plots.resize(900, 600)
    plots.show()
    qapp.processEvents()
    left = plots.epoch_plot.getAxis("left")
    left.updateAutoSIPrefix()
    assert "x0.001" not in left.labelString()
    for widget in (plots, evaluation, preview):
        widget.close()
        widget.deleteLater()
    qapp.processEvents()
