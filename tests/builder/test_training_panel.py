"""The training panel: runs in a background thread, live plots, controls, errors, weights.

Every test enables the GUI-thread assertion of the panel's handlers and checks that no handler
ran off the GUI thread; every run's thread is joined before the test ends.
"""

from __future__ import annotations

import os
import time

import pytest

from builder.training.panel import weights_path_for
from graph.edits import SetSection
from tests.builder.training_helpers import DONE_MS, train_to_end

pytestmark = pytest.mark.usefixtures("gui_thread_checks", "training_process")


@pytest.fixture
def trained(window):
    """The window and a helper that runs an example to the end (joined)."""

    def run(example: str, qtbot, **overrides):
        return train_to_end(window, qtbot, example, **overrides)

    yield run
    window.training.shutdown()


def _joined(panel) -> bool:
    return not panel.session.running() and panel.session._thread is None


@pytest.mark.parametrize("example, overrides", [
    ("perceptron_or", {"epochs": 30}),
    ("xor_mlp", {"epochs": 30}),
    ("wide_and_deep", {"epochs": 2}),
])
def test_example_runs_to_the_end_with_points_for_every_output(trained, qtbot, example,
                                                              overrides):
    panel = trained(example, qtbot, **overrides)
    run = panel.run
    assert run.status == "completed", panel.status.text()
    names = [panel.controller.doc.attr(n, "name") for n in panel.controller.doc.outputs()]
    assert set(run.outputs) == set(names)
    epochs = overrides["epochs"]
    for name in names:
        assert panel.plots.points(name, "raw") >= 1
        assert panel.plots.points(name, "smooth") == panel.plots.points(name, "raw")
        assert panel.plots.points(name, "train") == epochs
        assert panel.plots.points(name, "val") == epochs
    assert len(run.lr) == epochs
    assert panel.progress.value() == panel.progress.maximum()
    assert panel.trained_state is not None and _joined(panel)
    assert "completed" in panel.status.text()


def test_multi_output_run_evaluates_on_the_test_split(trained, qtbot):
    panel = trained("wide_and_deep", qtbot, epochs=2)
    ev = panel.run.evaluation
    assert ev is not None and ev.split == "test"
    assert set(ev.metrics) == {"main_output", "aux_output"}
    assert panel.evaluation.metrics.rowCount() == sum(len(v) for v in ev.metrics.values())
    # regression: the predicted-vs-true scatter is shown with one point per test sample
    assert panel.evaluation.chart.currentWidget() is panel.evaluation.scatter
    assert len(panel.evaluation.scatter_points.data) == len(ev.targets["main_output"])
    result = panel.evaluation.predict_now()
    assert set(result) == {"main_output", "aux_output"} and "true" in result["main_output"]


def test_classifier_shows_confusion_matrix_and_wrong_images(trained, qtbot):
    panel = trained("mlp_digits", qtbot, epochs=1)
    ev = panel.run.evaluation
    view = panel.evaluation
    assert view.chart.currentWidget() is view.confusion
    assert view.confusion.matrix.shape == (10, 10)
    assert view.confusion.matrix.sum() == len(ev.targets["digit"])
    wrong = int((ev.predictions["digit"] != ev.targets["digit"]).sum())
    assert view.wrong.count() == min(wrong, 48)
    if view.wrong.count():
        assert not view.wrong.item(0).icon().isNull()  # digits are images: thumbnails
    view.split_box.setCurrentText("validation")
    view.evaluate_now()
    assert view.evaluated.split == "validation"
    assert "predicted" in view.predict_now()["digit"]


def test_pause_resume_then_stop(window, qtbot):
    window.open_example("mlp_digits")
    panel = window.training
    panel.run_overrides = {"epochs": 50, "batch_size": 1}
    with qtbot.waitSignal(panel.session.batchesArrived, timeout=DONE_MS):
        panel.start_run()
    item = panel.plots.run_list.item(panel.plots.run_list.count() - 1)
    assert item.text().endswith("— running")  # not the run folder's "interrupted"
    panel.pause()
    qtbot.waitUntil(lambda: panel.run.status == "paused", timeout=5000)
    step = panel.run.step
    assert panel.pause_button.text() == "Resume"
    qtbot.wait(150)  # paused: no batch may arrive now
    assert panel.run.step == step
    panel.resume()
    qtbot.waitUntil(lambda: panel.run.status == "running" and panel.run.step > step,
                    timeout=10_000)
    with qtbot.waitSignal(panel.session.runDone, timeout=5000):
        panel.stop_run()
    assert panel.run.status == "stopped" and _joined(panel)


def test_stop_mid_epoch_returns_within_two_seconds(window, qtbot):
    window.open_example("mlp_digits")
    panel = window.training
    panel.run_overrides = {"epochs": 50, "batch_size": 1}
    with qtbot.waitSignal(panel.session.batchesArrived, timeout=DONE_MS):
        panel.start_run()
    assert panel.run.batch < panel.run.steps_per_epoch  # mid-epoch
    t0 = time.perf_counter()
    with qtbot.waitSignal(panel.session.runDone, timeout=2000):
        panel.stop_run()
    assert time.perf_counter() - t0 < 2.0
    assert panel.run.status == "stopped" and _joined(panel)
    assert panel.plots.points("digit", "raw") >= 1  # the curves so far stay


def test_closing_the_window_during_training_joins_the_thread(window, qtbot):
    window.open_example("mlp_digits")
    panel = window.training
    panel.run_overrides = {"epochs": 50, "batch_size": 1}
    with qtbot.waitSignal(panel.session.batchesArrived, timeout=DONE_MS):
        panel.start_run()
    thread = panel.session._thread
    assert thread.isRunning()
    window.controller.stack.setClean()
    assert window.close()
    assert thread.isFinished() and _joined(panel)


def test_fifty_start_stop_cycles_no_hang_no_destroyed_thread(window, qtbot, capfd):
    window.open_example("xor_mlp")
    panel = window.training
    panel.run_overrides = {"epochs": 100_000}
    for _ in range(50):
        with qtbot.waitSignal(panel.session.runDone, timeout=10_000):
            assert panel.start_run()
            panel.stop_run()
        assert _joined(panel)
    assert len(panel.runs) == 50
    assert all(r.status in ("stopped", "completed") for r in panel.runs)
    err = capfd.readouterr().err
    assert "QThread: Destroyed" not in err


def test_nan_run_shows_the_error_keeps_curves_and_app_works(window, qtbot):
    window.open_example("wide_and_deep")
    panel = window.training
    panel.run_overrides = {"epochs": 3, "lr": 1000.0, "optimizer": "sgd"}
    with qtbot.waitSignal(panel.session.runDone, timeout=DONE_MS):
        panel.start_run()
    assert panel.run.status == "failed"
    assert "NaN or infinite" in panel.status.text()
    assert "NaN or infinite" in window.log_view.toPlainText()
    assert panel.trained_state is None and _joined(panel)
    assert panel.run_button.isEnabled() and not panel.stop_button.isEnabled()
    panel.run_overrides = {"epochs": 1}  # the app keeps working: the next run trains
    with qtbot.waitSignal(panel.session.runDone, timeout=DONE_MS):
        panel.start_run()
    assert panel.run.status == "completed"


def test_invalid_design_cannot_start_and_says_why(window):
    panel = window.training
    assert not panel.start_run()  # the empty design
    assert "Input" in panel.status.text() and not panel.running()


def test_settings_edits_are_undoable_and_mark_the_project_modified(window):
    window.open_example("mlp_digits")
    form = window.training.form
    stack = window.controller.stack
    assert stack.isClean()
    form.field("training.epochs").widget.setValue(7)
    assert window.controller.doc.section("training")["epochs"] == 7
    assert not stack.isClean() and window.files.is_modified()
    form.field("training.optimizer").widget.setCurrentText("adam")
    form.field("training.optimizer").widget.activated.emit(form.field("training.optimizer").widget.currentIndex())
    assert window.controller.doc.section("training")["optimizer"] == "adam"
    stack.undo()
    assert window.controller.doc.section("training")["optimizer"] == "sgd"
    assert form.field("training.optimizer").widget.currentText() == "sgd"  # the form follows undo
    stack.undo()
    assert window.controller.doc.section("training")["epochs"] == 30
    assert form.field("training.epochs").widget.value() == 30 and stack.isClean()
    form.field("data.validation_split").widget.setValue(30)
    assert window.controller.doc.section("data")["validation_split"] == 0.3
    row = form.output_rows["digit"]
    row["weight"].setValue(2.0)
    node = window.controller.doc.find("digit")
    assert window.controller.doc.attr(node, "params")["loss_weight"] == 2.0
    window.controller.push(SetSection("training", {"epochs": 3}))
    assert form.field("training.epochs").widget.value() == 3


def test_weights_saved_beside_project_reloaded_and_exported(trained, qtbot, tmp_path, dialogs):
    panel = trained("xor_mlp", qtbot, epochs=20)
    window = panel.window()
    project = tmp_path / "xor.ncproj.json"
    dialogs.save_answer = str(project)
    assert window.files.save_as()
    beside = weights_path_for(project)
    assert beside.name == "xor.weights.safetensors" and beside.exists()
    state = {k: v.clone() for k, v in panel.trained_state.items()}
    # exports use the trained weights
    out = tmp_path / "export.safetensors"
    assert window.files.export("safetensors", out, weights_path=panel.weights_file())
    from safetensors.torch import load_file

    exported = load_file(str(out))
    assert all((exported[k] == v).all() for k, v in state.items())
    # reopening the project loads them
    assert window.files.open(project, ask=False)
    assert panel.trained_state is not None
    assert all((panel.trained_state[k] == v).all() for k, v in state.items())


def test_plot_exports_png_and_csv(trained, qtbot, tmp_path, dialogs):
    panel = trained("wide_and_deep", qtbot, epochs=2)
    dialogs.save_answer = str(tmp_path / "plots.png")
    panel.plots.png_button.click()
    assert (tmp_path / "plots.png").stat().st_size > 1000
    dialogs.save_answer = str(tmp_path / "curves.csv")
    panel.plots.csv_button.click()
    text = (tmp_path / "curves.csv").read_text()
    assert text.startswith("epoch,lr,main_output/train_loss")
    assert len(text.splitlines()[1].split(",")) == 2 + 4 * 2


def test_runs_train_in_one_reused_training_process(trained, qtbot):
    from backend.training.process import shared_server

    panel = trained("xor_mlp", qtbot, epochs=5)
    assert panel.outcome.in_process and panel.run.status == "completed"
    server = shared_server()
    pid, starts = server.pid, server.starts
    assert pid is not None and pid != os.getpid()
    panel = trained("xor_mlp", qtbot, epochs=5)
    assert panel.outcome.in_process and (server.pid, server.starts) == (pid, starts)
    # the app holds a Trainer with the trained weights: evaluate and predict work here
    assert panel.trainer is not None and len(panel.trainer.history) == 5
    for key, value in panel.trainer.module.state_dict().items():
        assert (value == panel.trained_state[key]).all()


def test_fallback_trains_in_the_worker_thread(trained, qtbot, monkeypatch):
    monkeypatch.setenv("NETCANVAS_TRAIN_IN_PROCESS", "0")
    panel = trained("xor_mlp", qtbot, epochs=5)
    assert not panel.outcome.in_process and panel.run.status == "completed"
    assert panel.plots.points("y", "train") == 5 and panel.trained_state is not None
    assert panel.trainer is not None and len(panel.trainer.history) == 5


def test_first_run_enlarges_the_panel_and_every_plot_paints_again(window, qtbot):
    from PySide6.QtCore import Qt

    window.resizeDocks([window.bottom_dock], [120], Qt.Orientation.Vertical)
    assert window.open_example("perceptron_or")
    panel = window.training
    panel.run_overrides = {"epochs": 3}
    qtbot.wait(20)  # the dock's new height lands in the next layout pass
    small = window.bottom_dock.height()
    with qtbot.waitSignal(panel.session.runDone, timeout=DONE_MS):
        assert window.run_training()
    # room for the dashboards: the run starts at once, the panel grows a frame or two later
    qtbot.waitUntil(lambda: window.bottom_dock.height() > small, timeout=2000)
    assert window.training_view()
    qtbot.waitUntil(lambda: all(w.updatesEnabled() for w in panel.plots._widgets),
                    timeout=5000)
    panel.shutdown()


def test_a_data_set_download_shows_its_bytes_before_the_run(window, qtbot, monkeypatch, tmp_path):
    """MNIST missing from the cache is fetched by the run, with the bytes in the progress bar
    (served locally; the in-thread path, so that the test's mirror applies)."""
    import hashlib

    from backend.data import download as fetch
    from tests.backend.test_data_download import _gz_files, _Server, _tiny_mnist_design

    files = _gz_files(tmp_path)
    monkeypatch.setitem(fetch.CHECKSUMS, "mnist",
                        {name: hashlib.md5(body).hexdigest() for name, body in files.items()})
    monkeypatch.delenv(fetch.NO_DOWNLOAD_ENV, raising=False)
    monkeypatch.setenv("NETCANVAS_TRAIN_IN_PROCESS", "0")
    server = _Server()
    try:
        server.routes = {f"/a/{name}": body for name, body in files.items()}
        monkeypatch.setitem(fetch.MIRRORS, "mnist", (server.url + "/a/",))
        window.files.open_document(_tiny_mnist_design(tmp_path / "data").doc, "Tiny MNIST")
        panel = window.training
        shown: list[tuple[str, int, int]] = []
        panel.session.eventArrived.connect(
            lambda ev: shown.append((panel.eta.text(), panel.progress.value(),
                                     panel.progress.maximum()))
            if type(ev).__name__ == "Downloading" else None)
        with qtbot.waitSignal(panel.session.runDone, timeout=DONE_MS):
            assert window.run_training()
    finally:
        server.close()
    assert panel.run.status == "completed", panel.status.text()
    assert shown and all(text.startswith("downloading · ") for text, _, _ in shown)
    log = window.log_view.toPlainText()
    assert all(f"downloading {name}" in log for name in files)
    assert fetch.missing("mnist", tmp_path / "data") == []


def test_weight_files_carry_the_standardisation_of_the_data(trained, qtbot, tmp_path):
    """New data must be standardised as the training data were: the weights file says how, and
    an export of the weights keeps it."""
    from backend.export.formats import export
    from backend.export.weights import read_preprocessing

    panel = trained("wide_and_deep", qtbot, epochs=1)
    recorded = read_preprocessing(panel.weights_file())
    assert recorded == panel.trainer.prepared.preprocessing()
    assert len(recorded["features"]["mean"]) == len(recorded["features"]["std"]) > 1
    assert set(recorded["targets"]) >= {"main_output"}  # a regression output: scale, offset
    out = export(panel.controller.doc, "safetensors", tmp_path / "w.safetensors",
                 weights_path=panel.weights_file())
    assert read_preprocessing(out) == recorded
