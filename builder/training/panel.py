"""The training panel: settings form, Run / Pause / Stop with progress and ETA, live curves,
evaluation and data preview; keeps the trained weights with the project."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from backend.training.metrics_text import format_metrics
from builder.progress import ProgressBar
from builder.training.evaluation import EvaluationView
from builder.training.guard import gui_only
from builder.training.history import RunRecord
from builder.training.plots import TrainingPlots
from builder.training.preview import DataPreview
from builder.training.settings_form import SettingsForm, show_lr_finder
from builder.training.worker import RunOutcome, TrainingSession, prewarm

WEIGHTS_SUFFIX = ".weights.safetensors"
#: At most this many epoch lines go to the log per run (long runs log every n-th epoch).
LOG_EPOCH_LINES = 40


def weights_path_for(project: str | Path) -> Path:
    """``model.ncproj.json`` → ``model.weights.safetensors`` beside it."""
    from graph.project import SUFFIX

    p = Path(project)
    name = p.name
    for suffix in (SUFFIX, ".json"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return p.with_name(name + WEIGHTS_SUFFIX)


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds >= 3600:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}:{seconds % 60:02d}"


class TrainingPanel(QWidget):
    """Train the current design in the background and show what happens."""

    #: The trained weights changed (a run finished, or weights were loaded with a project).
    weightsChanged = Signal()
    #: A run started / ended (the window's Run action follows it).
    runningChanged = Signal(bool)

    def __init__(self, controller: Any, dialogs: Any = None,
                 log: Callable[[str], None] | None = None,
                 project_dir: Callable[[], Path | None] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.dialogs = dialogs
        self._log = log or (lambda text: None)
        self._project_dir = project_dir or (lambda: None)
        self.session = TrainingSession(self)
        self.session.runStarted.connect(self._on_started)
        self.session.batchesArrived.connect(self._on_batches)
        self.session.eventArrived.connect(self._on_event)
        self.session.runDone.connect(self._on_done)
        self.runs: list[RunRecord] = []
        self.run: RunRecord | None = None
        self.trainer: Any = None
        self.trained_state: dict[str, Any] | None = None
        #: How the data were standardised for the trained weights (written into weight files).
        self.preprocessing: dict[str, Any] | None = None
        self.outcome: RunOutcome | None = None
        self._tmp: str | None = None
        self._started_at = 0.0
        self._log_every = 1
        self._backend_ready = False
        self.run_overrides: dict[str, Any] = {}  # tests and benchmarks: patch the settings
        self.run_data: Any = None  # tests and benchmarks: PreparedData instead of the section

        # --- controls ---------------------------------------------------------------------
        self.run_button = QPushButton("Run")
        self.run_button.setToolTip("Train the design with these settings (Ctrl+R).")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.stop_button = QPushButton("Stop")
        self.progress = ProgressBar()
        self.progress.setFormat("%p %")
        self.progress.setTextVisible(True)
        self.eta = QLabel("")
        self.eta.setMinimumWidth(190)
        self.status = QLabel("Ready to train.")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.run_button.clicked.connect(self.start_run)
        self.pause_button.toggled.connect(self._pause_toggled)
        self.stop_button.clicked.connect(self.stop_run)
        self.continue_box = QCheckBox("Continue from current weights")
        self.continue_box.setToolTip(
            "On: start from the weights the design has now (trained, copied or imported) — "
            "fine-tuning and transfer learning.\nOff: start from fresh initial weights.")
        self.continue_box.setChecked(True)
        self.continue_box.setEnabled(False)
        self.weightsChanged.connect(self._weights_changed)
        controls = QHBoxLayout()
        controls.addWidget(self.run_button)
        controls.addWidget(self.pause_button)
        controls.addWidget(self.stop_button)
        controls.addWidget(self.continue_box)
        controls.addWidget(self.progress, 1)
        controls.addWidget(self.eta)

        # --- settings (left) and views (right) ----------------------------------------------
        self.form = SettingsForm(controller)
        self.form.dataChanged.connect(self._schedule_preview)
        self.form.findLearningRateRequested.connect(lambda: show_lr_finder(self))
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        scroll.setMinimumWidth(390)
        self.plots = TrainingPlots()
        self.plots.png_button.clicked.connect(self._export_png)
        self.plots.csv_button.clicked.connect(self._export_csv)
        self._evaluation: EvaluationView | None = None
        self._preview: DataPreview | None = None
        self.views = QTabWidget()
        self.views.setDocumentMode(True)
        self.views.addTab(self.plots, "Curves")
        # Evaluation and Data are built when first shown or needed (`evaluation`, `preview`):
        # their three plots made the panel's construction at launch a 120-180 ms stall.
        self.views.addTab(QWidget(), "Evaluation")
        self.views.addTab(QWidget(), "Data")
        self.views.currentChanged.connect(self._view_changed)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(scroll)
        splitter.addWidget(self.views)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([400, 900])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addWidget(splitter, 1)
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(0)
        self._preview_timer.timeout.connect(self.load_preview)
        controller.stack.indexChanged.connect(self._document_edited)
        controller.documentReplaced.connect(self._document_replaced)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._set_running(False)

    @property
    def evaluation(self) -> EvaluationView:
        if self._evaluation is None:
            self._evaluation = self._fill_tab(1, EvaluationView(), "Evaluation")
        return self._evaluation

    @property
    def preview(self) -> DataPreview:
        if self._preview is None:
            self._preview = self._fill_tab(2, DataPreview(), "Data")
        return self._preview

    def _fill_tab(self, index: int, widget: Any, title: str) -> Any:
        current = self.views.currentIndex()
        self.views.blockSignals(True)
        placeholder = self.views.widget(index)
        self.views.removeTab(index)
        self.views.insertTab(index, widget, title)
        self.views.setCurrentIndex(current)
        self.views.blockSignals(False)
        placeholder.deleteLater()
        return widget

    # --- state ---------------------------------------------------------------------------------
    def running(self) -> bool:
        return self.session.running()

    def _set_running(self, on: bool) -> None:
        self.run_button.setEnabled(not on)
        self.pause_button.setEnabled(on)
        self.stop_button.setEnabled(on)
        self.continue_box.setEnabled(not on and self.trained_state is not None)
        self.form.setEnabled(not on)
        if not on:
            self.pause_button.blockSignals(True)
            self.pause_button.setChecked(False)
            self.pause_button.setText("Pause")
            self.pause_button.blockSignals(False)
        self.runningChanged.emit(on)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #c62828;" if error else "")
        self._log(("training error: " if error else "training: ") + text)

    # --- document ------------------------------------------------------------------------------
    @Slot(int)
    @gui_only
    def _document_edited(self, _index: int = 0) -> None:
        if not self.running():
            self.form.refresh()

    def attach_files(self, files: Any) -> None:
        """Follow the project file: save weights beside it, load them when it is opened."""
        self._fresh_document = False
        files.saved.connect(self._project_saved)
        files.pathChanged.connect(lambda: self._project_path_changed(files))

    @Slot(str)
    @gui_only
    def _project_saved(self, path: str) -> None:
        self.save_weights_beside(path)

    @gui_only
    def _project_path_changed(self, files: Any) -> None:
        fresh, self._fresh_document = getattr(self, "_fresh_document", False), False
        if fresh and files.path is not None:
            self.load_weights_beside(files.path)

    @Slot()
    @gui_only
    def _weights_changed(self) -> None:
        self.continue_box.setEnabled(self.trained_state is not None and not self.running())

    @Slot()
    @gui_only
    def _document_replaced(self) -> None:
        if self.running():  # the run belongs to the design that was closed
            self.shutdown()
            self._say("The run was stopped: another design was opened.")
        self._fresh_document = True
        self.trained_state = None
        self.preprocessing = None
        self.trainer = None
        if self._evaluation is not None:
            self._evaluation.set_trainer(None)
        self.form.refresh()
        self._schedule_preview()
        self.weightsChanged.emit()

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._backend_ready:
            QTimer.singleShot(0, self._init_backend)

    @Slot()
    @gui_only
    def _init_backend(self) -> None:
        """Data sets and devices come from the backend (torch), loaded after start-up."""
        if self._backend_ready:
            return
        self._backend_ready = True
        self.form.fill_backend_choices()
        self._schedule_preview()
        prewarm()  # torch is imported now: start the training process in the background

    @Slot()
    @gui_only
    def warm_up(self) -> None:
        """Do the one-off work of a first run while the app is idle, not when Run is pressed.

        Measured on the first Run press: importing the training modules (~35 ms), the first
        paint of the four plots (fonts, axis pictures: ~80 ms) and of the progress bar
        (~20 ms) stalled the GUI thread, and so did creating the design's live curves
        (~25 ms); paid here, after start-up, they are gone from it.
        """
        self._init_backend()
        import backend.training.trainer  # noqa: F401 - the worker imports it on the GUI thread

        doc = self.controller.doc
        self.plots.prepare_outputs([doc.attr(n, "name") for n in doc.outputs()])  # ~25 ms
        # one plot per event-loop turn: the four in one grab were a 70 ms stall at launch
        for i, widget in enumerate([*self.plots._widgets, self.progress]):
            QTimer.singleShot(25 * i, self, widget.grab)

    def _schedule_preview(self) -> None:
        if self._backend_ready and self.views.currentIndex() == 2:
            self._preview_timer.start()

    @Slot(int)
    @gui_only
    def _view_changed(self, index: int) -> None:
        if index == 1:
            self.evaluation  # noqa: B018 - the property builds the tab
        elif index == 2:
            self.preview  # noqa: B018
        self._schedule_preview()

    @Slot()
    @gui_only
    def load_preview(self) -> bool:
        """Load the configured data set and show it in the Data tab (False on an error)."""
        from backend.data.config import DataConfig
        from backend.data.errors import DataError
        from backend.data.prepare import load_dataset

        try:
            cfg = DataConfig.from_dict(self.controller.doc.section("data"))
            ds = load_dataset(cfg, self._project_dir(), download=False)  # no network here
        except (DataError, ValueError, OSError) as exc:
            self.preview.show_error(f"Cannot preview the data: {exc}")
            return False
        self.preview.show_dataset(ds)
        return True

    # --- run control ---------------------------------------------------------------------------
    def design_problems(self) -> list[str]:
        """Why the design cannot train (empty when it can try)."""
        from graph.validation import validate

        doc = self.controller.doc
        problems = [getattr(e, "message", str(e)) for e in validate(doc)]
        if not doc.inputs():
            problems.append("The design has no Input layer.")
        if not doc.outputs():
            problems.append("The design has no Output layer.")
        return problems

    @Slot()
    @gui_only
    def start_run(self) -> bool:
        """Start training the current design in the background (False if it cannot start)."""
        if self.running():
            return False
        problems = self.design_problems()
        if problems:
            self._say("Cannot train: fix the design first — " + " ".join(problems[:3]),
                      error=True)
            return False
        doc = self.controller.doc
        data, training = doc.section("data"), doc.section("training")
        training.update(self.run_overrides)
        number = len(self.runs) + 1
        run = RunRecord(number, f"Run {number} · {doc.name} · {data.get('dataset', '?')}",
                        data, training)
        self.runs.append(run)
        self.run = run
        self.outcome = None
        outputs = [doc.attr(n, "name") for n in doc.outputs()]
        self.plots.begin_run(run, outputs)
        self.progress.setValue(0)
        self.eta.setText("preparing…")
        self._say(f"Preparing run {number}: compiling the design and loading "
                  f"'{data.get('dataset', '?')}'…")
        self._started_at = time.perf_counter()
        base = self._project_dir()
        initial = self.trained_state if (self.continue_box.isChecked() and
                                         self.trained_state) else None
        if initial is not None:
            self._log(f"Run {number} continues from the current weights.")
        self.session.start(doc.copy(), data=self.run_data, config=training,
                           base_dir=str(base) if base else None, initial_weights=initial)
        self._set_running(True)
        self.views.setCurrentWidget(self.plots)
        return True

    @Slot(bool)
    @gui_only
    def _pause_toggled(self, on: bool) -> None:
        if on:
            self.session.pause()
            self.pause_button.setText("Resume")
            self.status.setText("Pausing after this batch…")
        else:
            self.session.resume()
            self.pause_button.setText("Pause")

    def pause(self) -> None:
        self.pause_button.setChecked(True)

    def resume(self) -> None:
        self.pause_button.setChecked(False)

    @Slot()
    @gui_only
    def stop_run(self) -> None:
        """Stop after the current batch (the curves and the weights so far stay)."""
        if self.running():
            self.session.stop()
            self.status.setText("Stopping after this batch…")

    @Slot()
    @gui_only
    def shutdown(self) -> None:
        """Stop a run and join its thread (window close, app quit); remove temporary files."""
        if self.running():
            self.session.shutdown()
            if self.run is not None:
                self.run.status = "stopped"
            self.plots.end_run()
            self._set_running(False)
        self.plots.timer.stop()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    # --- events from the worker (queued onto the GUI thread by the session) ----------------
    @Slot(object)
    @gui_only
    def _on_started(self, ev: Any) -> None:
        run = self.run
        if run is None:
            return
        run.status = "running"
        run.total_epochs, run.steps_per_epoch = ev.epochs, ev.steps_per_epoch
        self.progress.setRange(0, max(1, (ev.epochs - ev.start_epoch) * ev.steps_per_epoch))
        self.plots.set_extent(ev.epochs * ev.steps_per_epoch, ev.epochs)
        self._log_every = max(1, ev.epochs // LOG_EPOCH_LINES)
        self._started_at = time.perf_counter()
        self._say(f"Training on {ev.device}: {ev.train_samples} training / "
                  f"{ev.validation_samples} validation / {ev.test_samples} test samples, "
                  f"{ev.steps_per_epoch} batches per epoch, {ev.epochs} epochs.")
        for note in ev.notes:
            self._log(f"training note: {note}")

    def _progress(self, epoch_done: int, batch: int) -> None:
        run = self.run
        if run is None or not run.steps_per_epoch:
            return
        done = epoch_done * run.steps_per_epoch + batch
        total = self.progress.maximum()
        self.progress.setValue(min(done, total))
        elapsed = time.perf_counter() - self._started_at
        if done > 0:
            eta = elapsed / done * (total - done)
            self.eta.setText(f"epoch {min(epoch_done + 1, run.total_epochs)}/{run.total_epochs}"
                             f" · ETA {_duration(eta)}")

    def _show_download(self, ev: Any) -> None:
        """A data set file is being fetched before the run starts: bytes in the progress bar."""
        if ev.done == 0:
            self._log(f"downloading {ev.file}")
        size = f"{ev.done / 1e6:.1f}" + (f" of {ev.total / 1e6:.1f}" if ev.total else "") + " MB"
        if ev.total:
            self.progress.setRange(0, max(1, ev.total // 1024))  # KiB: any size fits an int
            self.progress.setValue(min(ev.done, ev.total) // 1024)
        else:
            self.progress.setRange(0, 0)  # the size is unknown: a busy bar
        self.eta.setText(f"downloading · {size}")
        self.status.setText(f"Downloading {ev.file} for the data set ({size}); it is kept in "
                            "the cache folder for the next runs.")

    @Slot(list)
    @gui_only
    def _on_batches(self, events: list) -> None:
        if self.run is None or not events:
            return
        self.run.add_batches(events)
        last = events[-1]
        self._progress(last.epoch - 1, last.batch)

    @Slot(object)
    @gui_only
    def _on_event(self, ev: Any) -> None:
        run = self.run
        if run is None:
            return
        kind = type(ev).__name__
        if kind == "EpochEnd":
            run.add_epoch(ev)
            self._progress(ev.epoch, 0)
            if ev.epoch % self._log_every == 0 or ev.epoch == run.total_epochs:
                text = f"epoch {ev.epoch}/{run.total_epochs}: train {format_metrics(ev.train)}"
                if ev.validation:
                    text += f" | validation {format_metrics(ev.validation)}"
                self._log(text)
        elif kind == "Warned":
            self._say(ev.message)
        elif kind == "Downloading":
            self._show_download(ev)
        elif kind == "Paused":
            run.status = "paused"
            self.status.setText(f"Paused at step {ev.step}. Resume or stop.")
        elif kind == "Resumed":
            run.status = "running"
            self.status.setText(f"Training resumed at step {ev.step}.")
        elif kind == "Evaluated":
            run.evaluation = ev
            self._log(f"{ev.split}: {format_metrics(ev.metrics)}")

    @Slot(object)
    @gui_only
    def _on_done(self, outcome: RunOutcome) -> None:
        """The thread was joined: show the result; keep curves, weights and evaluation."""
        self.outcome = outcome
        run = self.run
        result = outcome.result
        self.plots.end_run()
        self._set_running(False)
        if type(result).__name__ == "Failed":
            if run is not None:
                run.status, run.message = "failed", result.message
                self.plots._update_item(run)
            self._say(result.message, error=True)
            if result.detail:
                self._log(result.detail.strip().splitlines()[-1])
            self.eta.setText("failed")
            return
        if run is not None:
            run.status = result.reason
            self.plots._update_item(run)
        self.trainer = outcome.trainer
        if outcome.state is not None:
            self.trained_state = outcome.state
            prepared = getattr(outcome.trainer, "prepared", None)
            self.preprocessing = prepared.preprocessing() if prepared is not None else None
            self.weightsChanged.emit()
        self.evaluation.set_trainer(outcome.trainer)
        if run is not None and run.evaluation is not None:
            self.evaluation.show_evaluation(run.evaluation)
        if result.reason == "completed" or result.reason == "early stopping":
            self.progress.setValue(self.progress.maximum())
        rate = f" in {outcome.seconds:.1f} s" if outcome.seconds else ""
        self.eta.setText(result.reason)
        last = outcome.trainer.history[-1] if outcome.trainer and outcome.trainer.history else None
        summary = f" Last epoch: {format_metrics(last['validation'] or last['train'])}." if last else ""
        self._say(f"Run {run.number if run else ''} {result.reason} after "
                  f"{result.epochs_completed} epoch(s){rate}.{summary}")

    # --- weights kept with the project -----------------------------------------------------------
    def weights_file(self) -> str | None:
        """A safetensors file with the trained weights (for exports), or None if untrained."""
        if self.trained_state is None:
            return None
        from backend.export.weights import save_state

        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix="netcanvas-weights-")
        path = Path(self._tmp) / "trained.safetensors"
        save_state(self.trained_state, path, self.preprocessing)
        return str(path)

    @gui_only
    def save_weights_beside(self, project: str | Path) -> Path | None:
        """Write the trained weights beside the saved project (None when there are none)."""
        if self.trained_state is None:
            return None
        from graph.project import write_atomic

        target = weights_path_for(project)
        source = self.weights_file()
        write_atomic(target, Path(source).read_bytes())
        self._log(f"Saved the trained weights to {target}")
        return target

    @gui_only
    def load_weights_beside(self, project: str | Path) -> bool:
        """Load ``<project>.weights.safetensors`` if present and matching the design."""
        path = weights_path_for(project)
        if not path.exists():
            return False
        from backend.export.weights import load_weights, read_preprocessing
        from backend.model.compiler import compile_document
        from graph.errors import GraphError

        try:
            module = compile_document(self.controller.doc).module
            load_weights(module, path, strict=True)
        except GraphError as exc:
            self._log(f"The weights beside the project were not loaded: "
                      f"{getattr(exc, 'message', exc)}")
            return False
        self.trained_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
        self.preprocessing = read_preprocessing(path)
        self._log(f"Loaded the trained weights from {path}")
        self.weightsChanged.emit()
        return True

    # --- exports of the plots ---------------------------------------------------------------
    def _ask_path(self, suggestion: str, title: str, file_filter: str) -> str | None:
        if self.dialogs is None:
            return None
        base = self._project_dir() or Path.home()
        return self.dialogs.save_path(str(Path(base) / suggestion), title, file_filter)

    @Slot()
    @gui_only
    def _export_png(self) -> None:
        path = self._ask_path("training.png", "Export plots as PNG", "PNG images (*.png)")
        if path:
            try:
                self.plots.export_png(path)
                self._log(f"Exported the plots to {path}")
            except OSError as exc:
                self._say(f"The plots were not exported: {exc}", error=True)

    @Slot()
    @gui_only
    def _export_csv(self) -> None:
        path = self._ask_path("training.csv", "Export curves as CSV", "CSV files (*.csv)")
        if path:
            try:
                self.plots.export_csv(path)
                self._log(f"Exported the curves to {path}")
            except (OSError, ValueError) as exc:
                self._say(f"The curves were not exported: {exc}", error=True)
