"""The training panel: settings form, Run / Pause / Stop / Resume with progress and ETA, live
curves, the project's runs, evaluation and data preview.

What training makes belongs to the project (`backend.runs.project.ProjectRuns`, owned by
`builder.files.ProjectFiles`): every run is recorded in its run folder by the training process
(with checkpoints), and the trained weights are the project's current weights. The panel only
shows that state: its views follow the design on the canvas (`_follow_design`), so curves and
evaluation belong to the design shown, or are cleared.
"""

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

from backend.runs.design import data_key, design_key
from backend.runs.files import RunFormatError, weights_path_for
from backend.runs.project import ProjectRuns, Weights, session_staging
from backend.runs.record import duration_text
from backend.training.metrics_text import format_metrics
from builder.progress import ProgressBar
from builder.training.evaluation import EvaluationView
from builder.training.guard import gui_only
from builder.training.history import RunRecord
from builder.training.plots import TrainingPlots, units_of
from builder.training.preview import DataPreview
from builder.training.runs_view import RunsView
from builder.training.settings_form import SettingsForm, show_lr_finder
from builder.training.worker import RunOutcome, TrainingSession, prewarm

__all__ = ["TrainingPanel", "weights_path_for"]

#: At most this many epoch lines go to the log per run (long runs log every n-th epoch).
LOG_EPOCH_LINES = 40


class TrainingPanel(QWidget):
    """Train the current design in the background and show what happens."""

    #: The project's current weights changed (a run ended, a run was restored, a project
    #: was opened, weights were copied in).
    weightsChanged = Signal()
    #: A run started / ended (the window's Run action follows it).
    runningChanged = Signal(bool)

    def __init__(self, controller: Any, dialogs: Any = None,
                 log: Callable[[str], None] | None = None,
                 project_dir: Callable[[], Path | None] | None = None,
                 parent: QWidget | None = None, plot_widgets: list | None = None) -> None:
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
        #: The project's trained state; `attach_files` gives the one the project owns.
        self.project = ProjectRuns(session_staging())
        self.files: Any = None
        #: Curves per run (run id, or a key of its own for a run that is not recorded).
        self.records: dict[str, RunRecord] = {}
        self.run: RunRecord | None = None  # the run in training, or the last one trained
        self.trainer: Any = None  # the last run's Trainer in this process (evaluate, predict)
        self._trainer_keys: tuple[str, str] | None = None  # the design and data it trained
        self._trainer_run = ""
        self.outcome: RunOutcome | None = None
        self._tmp: str | None = None
        self._started_at = 0.0
        self._start_epoch = 0
        self._log_every = 1
        self._backend_ready = False
        self._shown_keys: tuple[str, str] | None = None
        self._numbers = 0
        self.run_overrides: dict[str, Any] = {}  # tests and benchmarks: patch the settings
        self.run_data: Any = None  # tests and benchmarks: PreparedData instead of the section
        #: The look ("light" / "dark") the plots are drawn for (`set_kind`).
        self.kind = "light"
        #: Why the design cannot train ("" when it can): the window's analysis says so.
        self.run_blocked = ""
        #: Asked on Run: the reason the design cannot train now, or "" (the window's analysis).
        self.run_gate: Callable[[], str] | None = None

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
        self.form.dataChanged.connect(self._schedule_follow)
        self.form.findLearningRateRequested.connect(lambda: show_lr_finder(self))
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        scroll.setMinimumWidth(390)
        self.plots = TrainingPlots(widgets=plot_widgets)
        self.plots.png_button.clicked.connect(self._export_png)
        self.plots.csv_button.clicked.connect(self._export_csv)
        self.plots.load_run = self._fill_record
        self.runs_view = RunsView()
        self.runs_view.model.live = self._live_status
        self.runs_view.model.message.connect(self._log)
        self.runs_view.compareRequested.connect(self.compare_runs)
        self.runs_view.evaluationRequested.connect(self.show_run_evaluation)
        self.runs_view.restoreRequested.connect(self.restore_run)
        self.runs_view.resumeRequested.connect(self.resume_run)
        self.runs_view.deleteRequested.connect(self.delete_runs)
        self.runs_view.exportCsvRequested.connect(self.export_run_csv)
        self.runs_view.exportWeightsRequested.connect(self.export_run_weights)
        self._evaluation: EvaluationView | None = None
        #: The evaluation's plot widgets, made ahead while idle (`_make_evaluation_plots`).
        self._eval_widgets: dict[str, Any] = {}
        from builder.workflows.jobs import JobRunner

        #: Builds a model from the current weights for the evaluation, off the GUI thread.
        self._model_runner = JobRunner("evaluation-model", self)
        self._preview: DataPreview | None = None
        self.views = QTabWidget()
        self.views.setDocumentMode(True)
        self.views.addTab(self.plots, "Curves")
        self.views.addTab(self.runs_view, "Runs")
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
        self._follow_timer = QTimer(self)  # the design changed: views follow (debounced)
        self._follow_timer.setSingleShot(True)
        self._follow_timer.setInterval(0)
        self._follow_timer.timeout.connect(self._follow_design)
        controller.stack.indexChanged.connect(self._document_edited)
        controller.documentReplaced.connect(self._document_replaced)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self.runs_view.set_project(self.project)
        self._set_running(False)
        self._follow_design()

    _EVALUATION_TAB, _DATA_TAB = 2, 3

    @property
    def evaluation(self) -> EvaluationView:
        if self._evaluation is None:
            view = EvaluationView(confusion=self._eval_widgets.get("confusion"),
                                  scatter=self._eval_widgets.get("scatter"))
            self._eval_widgets = {}
            view.set_kind(self.kind)
            view.trainer_source = self._trainer_builder
            view.trainer_built = self._trainer_built
            view.attach_runner(self._model_runner)
            self._evaluation = self._fill_tab(self._EVALUATION_TAB, view, "Evaluation")
            if self._shown_keys is not None and not self.running():
                self._sync_evaluation(self._shown_keys, self._latest_run(self._shown_keys))
            else:
                view.set_buildable(self.trained_state is not None)
        return self._evaluation

    @property
    def preview(self) -> DataPreview:
        if self._preview is None:
            self._preview = self._fill_tab(self._DATA_TAB, DataPreview(), "Data")
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

    @property
    def runs(self) -> list[RunRecord]:
        """The runs the panel knows (the project's, and this session's), oldest first."""
        return list(self.records.values())

    @property
    def trained_state(self) -> dict[str, Any] | None:
        """The project's current weights (a CPU state dict), or None."""
        weights = self.project.weights
        return weights.state if weights is not None else None

    @property
    def preprocessing(self) -> dict[str, Any] | None:
        """How the data were standardised for the current weights (written into weight files)."""
        weights = self.project.weights
        return weights.preprocessing if weights is not None else None

    def set_weights(self, state: dict[str, Any] | None,
                    preprocessing: dict[str, Any] | None = None) -> None:
        """Make ``state`` the design's weights (copied or imported ones: not from a run)."""
        self.project.set_weights(None if state is None else Weights(state, preprocessing))

    def set_kind(self, kind: str) -> None:
        """Draw the plots, the confusion matrix and the charts for the light or dark look."""
        self.kind = kind
        self.plots.set_kind(kind)
        if self._evaluation is not None:
            self._evaluation.set_kind(kind)

    def set_run_blocked(self, reason: str) -> None:
        """Disable Run while the design has errors, with the reason as tooltip and status."""
        was = self.run_blocked
        self.run_blocked = reason
        self.run_button.setEnabled(not self.running() and not reason)
        self.run_button.setToolTip(reason or "Train the design with these settings (Ctrl+R).")
        if self.running() or reason == was:
            return
        # the status line only (the log would get a line per analysis)
        self.status.setText(f"Cannot train yet. {reason}" if reason else "Ready to train.")
        self.status.setStyleSheet("color: #c62828;" if reason else "")

    def _set_running(self, on: bool) -> None:
        self.run_button.setEnabled(not on and not self.run_blocked)
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
        self.runs_view._selection_changed()

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #c62828;" if error else "")
        self._log(("training error: " if error else "training: ") + text)

    # --- the project ---------------------------------------------------------------------------
    def attach_files(self, files: Any) -> None:
        """Show the trained state of the project that ``files`` keeps (and follow it)."""
        self.files = files
        self.project = files.runs
        files.trainedChanged.connect(self._trained_changed)
        files.before_drop.append(self.shutdown)
        self.runs_view.set_project(self.project)
        self._document_replaced()

    @Slot(str)
    @gui_only
    def _trained_changed(self, what: str) -> None:
        if what == "weights":
            self.weightsChanged.emit()
            self.runs_view.model.refresh_all()  # the ● of the run the weights came from
        elif what == "runs":
            self._sync_records()
            self.runs_view.reload()

    def _sync_records(self) -> None:
        """Keep one RunRecord (curves) per run of the project, in the plots' list too."""
        infos = {info.id: info for info in self.project.runs()}
        changed = False
        for run_id, record in list(self.records.items()):
            if record.run_id and record.run_id not in infos:
                self.plots.remove_run(record.number)
                del self.records[run_id]
                changed = True
        for info in infos.values():
            record = self.records.get(info.id)
            if record is None:
                changed = True
                record = RunRecord.from_info(info)
                record.number = self._next_number()
                self.records[info.id] = record
                self.plots.add_run(record)
            elif record is not self.run or not self.running():
                record.status, record.message = info.state, info.message
            record.title = self._title(info)
            self.plots._update_item(record)
        if changed:  # runs came or went (recovered, deleted): the views follow again
            self._shown_keys = None
            self._schedule_follow()

    def _next_number(self) -> int:
        self._numbers += 1
        return self._numbers

    @staticmethod
    def _title(info: Any) -> str:
        dataset = info.settings.get("data", {}).get("dataset", "?")
        return f"{info.title} · {info.model} · {dataset}"

    @Slot()
    @gui_only
    def _weights_changed(self) -> None:
        self.continue_box.setEnabled(self.trained_state is not None and not self.running())
        if self._evaluation is not None:
            self._evaluation.set_buildable(self.trained_state is not None)

    @Slot(int)
    @gui_only
    def _document_edited(self, _index: int = 0) -> None:
        if not self.running():
            self.form.refresh()
        self._schedule_follow()

    @Slot()
    @gui_only
    def _document_replaced(self) -> None:
        """Another design (and project) is shown: nothing of the previous one stays."""
        if self.running():  # the run belongs to the design that was closed
            self.shutdown()
            self._say("The run was stopped: another design was opened.")
        self.trainer, self._trainer_keys, self._trainer_run = None, None, ""
        self.run = None
        self.records = {}
        self.plots.clear_runs()
        if self._evaluation is not None:
            self._evaluation.clear()
        if self._preview is not None:
            self._preview.clear()
        self._shown_keys = None
        self._sync_records()
        self.runs_view.reload()
        self.form.refresh()
        self._follow_design()
        self._schedule_preview()
        self.weightsChanged.emit()

    def _schedule_follow(self) -> None:
        self._follow_timer.start()

    @Slot()
    @gui_only
    def _follow_design(self) -> None:
        """Show what belongs to the design on the canvas, nothing else: the curves and
        evaluation of its latest run (or none), its data."""
        doc = self.controller.doc
        keys = (design_key(doc), data_key(doc))
        if keys == self._shown_keys:
            return
        data_changed = self._shown_keys is None or keys[1] != self._shown_keys[1]
        self._shown_keys = keys
        self.runs_view.model.set_current_design(keys[0])
        preview = self._preview  # built when first shown: until then it has nothing to clear
        if data_changed and preview is not None and preview.shown_key != keys[1]:
            if self.views.currentWidget() is preview:
                self._schedule_preview()
            else:
                preview.clear("The data settings changed: open this tab to see the data.")
        if self.running():
            return  # the live run trains a snapshot; it stays on screen until it ends
        record = self._latest_run(keys)
        if record is not None:
            self._show_curves(record)
        else:
            self.plots.clear_current()
        self._sync_evaluation(keys, record)

    def _sync_evaluation(self, keys: tuple[str, str], record: RunRecord | None) -> None:
        """The evaluation tab shows this design's trained model or latest run, or nothing;
        not built yet, it is brought up to date when it is (`evaluation`)."""
        if self._evaluation is None:
            return
        self.evaluation.units = units_of(self.controller.doc)
        if self.trainer is not None and self._trainer_keys == keys:
            self.evaluation.set_trainer(self.trainer)
            last = self.records.get(self._trainer_run)
            if last is not None and last.evaluation is not None:
                self.evaluation.show_evaluation(last.evaluation)
            else:
                self.evaluation.clear("Evaluate the trained model on a split.")
                self.evaluation.set_trainer(self.trainer)
        elif record is not None and record.run_id and self._show_stored_evaluation(record):
            pass
        else:
            self.evaluation.clear("Train this design to see its evaluation here." if
                                  self.trainer is None and record is None else
                                  "The design or its data changed since the last run: train "
                                  "it to see its evaluation here.")
        self.evaluation.set_buildable(self.trained_state is not None)

    def _latest_run(self, keys: tuple[str, str]) -> RunRecord | None:
        """The latest run that trained this design on these data (with curves to show)."""
        infos = {i.id: i for i in self.project.runs()}

        def has_curves(r: RunRecord) -> bool:
            if r.loaded:
                return bool(len(r.epochs) or any(len(c.steps) for c in r.outputs.values()))
            return r.run_id in infos and infos[r.run_id].steps > 0

        candidates = [r for r in self.records.values() if (r.design_key, r.data_key) == keys
                      and has_curves(r)]
        if not candidates:
            return None

        def when(record: RunRecord) -> float:
            info = infos.get(record.run_id)
            return info.created if info is not None else time.time() + record.number

        return max(candidates, key=when)

    def _show_curves(self, record: RunRecord) -> None:
        """Show a run (not live) as the current curves."""
        if not record.loaded:
            self._fill_record(record)
        outputs = list(record.outputs) or [self.controller.doc.attr(n, "name")
                                           for n in self.controller.doc.outputs()]
        self.plots.set_units(units_of(self.controller.doc))
        self.plots.begin_run(record, outputs)
        epochs = max(record.total_epochs, len(record.epochs), 1)
        steps = max(record.step, record.steps_per_epoch * epochs, 1)
        self.plots.set_extent(steps, epochs)
        self.plots.end_run()

    def _fill_record(self, record: RunRecord) -> None:
        """Read a stored run's curves from its folder (plots call this before an overlay)."""
        record.loaded = True
        info = self.project.get(record.run_id) if record.run_id else None
        if info is None:
            return
        try:  # an interrupted run is shown as far as its last checkpoint (what Resume has)
            record.fill(self.project.history(record.run_id, at_checkpoint=info.interrupted))
        except RunFormatError as exc:
            self._log(f"The curves of {record.title} were not loaded: {exc}")

    def _show_stored_evaluation(self, record: RunRecord) -> bool:
        info = self.project.get(record.run_id)
        if info is None or info.evaluation is None:
            return False
        try:
            stored = self.project.evaluation(record.run_id)
        except RunFormatError as exc:
            self._log(f"The evaluation of {record.title} was not loaded: {exc}")
            return False
        if stored is None:
            return False
        from backend.training.events import Evaluated

        ev = Evaluated(stored["split"], stored["metrics"], stored["confusion"],
                       stored["predictions"], stored["targets"])
        weights = self.project.weights
        current = weights is not None and (weights.source or {}).get("run") == info.id and \
            info.design_key == design_key(self.controller.doc)
        self.evaluation.show_stored(ev, {o.name: o.classes for o in info.outputs}, info.title,
                                    current)
        return True

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
        widgets = [*self.plots._widgets, self.progress]
        for i, widget in enumerate(widgets):
            QTimer.singleShot(25 * i, self, widget.grab)
        # then the evaluation's two plot widgets, one per turn: built when the tab was first
        # opened, they made it a 45 ms stall (with its first paint and Evaluate: 76 ms)
        for i, key in enumerate(("confusion", "scatter")):
            QTimer.singleShot(25 * (len(widgets) + i), self,
                              lambda k=key: self._make_evaluation_plot(k))

    def _make_evaluation_plot(self, key: str) -> None:
        if self._evaluation is not None or key in self._eval_widgets:
            return
        from builder.training.evaluation import ConfusionView
        from builder.workflows.plotting import plain_plot_widget

        self._eval_widgets[key] = ConfusionView(self) if key == "confusion" else \
            plain_plot_widget(self)
        self._eval_widgets[key].hide()

    def _schedule_preview(self) -> None:
        if self._backend_ready and self.views.currentIndex() == self._DATA_TAB:
            self._preview_timer.start()

    @Slot(int)
    @gui_only
    def _view_changed(self, index: int) -> None:
        if index == self._EVALUATION_TAB:
            self.evaluation  # noqa: B018 - the property builds the tab
        elif index == self._DATA_TAB:
            self.preview  # noqa: B018
        if self._preview is None or self._preview.shown_key != data_key(self.controller.doc):
            self._schedule_preview()

    @Slot()
    @gui_only
    def load_preview(self) -> bool:
        """Load the configured data set and show it in the Data tab (False on an error)."""
        from backend.data.config import DataConfig
        from backend.data.errors import DataError
        from backend.data.load import load_dataset

        doc = self.controller.doc
        try:
            cfg = DataConfig.from_dict(doc.section("data"))
            ds = load_dataset(cfg, self._project_dir(), download=False)  # no network here
        except (DataError, ValueError, OSError) as exc:
            self.preview.show_error(f"Cannot preview the data: {exc}")
            return False
        self.preview.show_dataset(ds)
        self.preview.shown_key = data_key(doc)
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
        """Start training the current design in the background (False if it cannot start).

        The run is recorded in a new run folder of the project (staged until Save) and the
        project counts as modified from now on."""
        if self.running():
            return False
        reason = self.run_gate() if self.run_gate is not None else ""
        if reason:
            self._say(f"Cannot train: {reason}", error=True)
            return False
        problems = self.design_problems()
        if problems:
            self._say("Cannot train: fix the design first — " + " ".join(problems[:3]),
                      error=True)
            return False
        doc = self.controller.doc
        data, training = doc.section("data"), doc.section("training")
        training.update(self.run_overrides)
        try:
            info = self.project.begin_run(doc, data, training)
        except (OSError, RunFormatError) as exc:
            info = None
            self._log(f"training: this run is not recorded (its folder cannot be written: "
                      f"{exc}); its weights are kept until the app closes.")
        if info is not None:
            run = self.records[info.id]  # made when the project listed the new run
            run.loaded, run.status = True, "starting"
        else:
            number = self._next_number()
            run = RunRecord(number, f"Run {number} · {doc.name} · {data.get('dataset', '?')}",
                            data, training, design_key=design_key(doc), data_key=data_key(doc))
            self.records[f"unrecorded-{number}"] = run
        title = run.title
        self.run = run
        self.outcome = None
        outputs = [doc.attr(n, "name") for n in doc.outputs()]
        self.plots.set_units(units_of(doc))
        self.plots.begin_run(run, outputs)
        self.progress.setValue(0)
        self.eta.setText("preparing…")
        self._say(f"Preparing {title.split(' · ')[0].lower()}: compiling the design and "
                  f"loading '{data.get('dataset', '?')}'…")
        self._started_at = time.perf_counter()
        base = self._project_dir()
        initial = self.trained_state if (self.continue_box.isChecked() and
                                         self.trained_state) else None
        if initial is not None:
            self._log(f"{title.split(' · ')[0]} continues from the current weights.")
        record = {"folder": str(info.folder), "resume": False} if info else None
        self.session.start(doc.copy(), data=self.run_data, config=training,
                           base_dir=str(base) if base else None, initial_weights=initial,
                           record=record)
        self._set_running(True)
        self.runs_view.reload()
        self.views.setCurrentWidget(self.plots)
        return True

    @Slot(str)
    @gui_only
    def resume_run(self, run_id: str) -> bool:
        """Continue an interrupted or stopped run from its last checkpoint, in its folder."""
        if self.running():
            self._say("A run is in progress; stop it before resuming another.", error=True)
            return False
        info = self.project.get(run_id)
        if info is None or not info.resumable:
            self._say("This run cannot be resumed: it has no checkpoint, or it has ended.",
                      error=True)
            return False
        try:
            design = self.project.design(run_id)
            history = self.project.history(run_id, at_checkpoint=True)
        except RunFormatError as exc:
            self._say(f"{info.title} cannot be resumed: {exc}", error=True)
            return False
        record = self.records.get(run_id)
        if record is None:
            record = RunRecord.from_info(info)
            record.number = self._next_number()
            self.records[run_id] = record
            self.plots.add_run(record)
        record.fill(history)
        record.status = "running"
        self.run = record
        self.outcome = None
        self.project.resume_run(run_id)
        self.plots.set_units(units_of(design))
        self.plots.begin_run(record, list(record.outputs) or
                             [design.attr(n, "name") for n in design.outputs()])
        self.progress.setValue(0)
        self.eta.setText("preparing…")
        self._say(f"Resuming {info.title} from epoch {info.checkpoint.epoch} of "
                  f"{info.epochs_planned}…")
        if info.design_key != design_key(self.controller.doc):
            self._log(f"{info.title} trained another version of the design; it resumes with "
                      "its own, and its weights then apply where the layers still match.")
        base = self._project_dir()
        self._started_at = time.perf_counter()
        self.session.start(design, config=dict(info.settings.get("training", {})),
                           base_dir=str(base) if base else None,
                           record={"folder": str(info.folder), "resume": True})
        self._set_running(True)
        self.runs_view.reload()
        self.views.setCurrentWidget(self.plots)
        return True

    def resumable_run(self) -> str | None:
        """The latest run that Resume would continue (interrupted or stopped), or None."""
        runs = [r for r in self.project.runs() if r.resumable]
        return runs[-1].id if runs else None

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
        """Stop a run and join its thread (closing, another project, app quit); the stopped
        run's weights become the current ones, as after Stop. Removes temporary files."""
        if self.running():
            self.session.shutdown()
            run = self.run
            if run is not None:
                run.status = "stopped"
            self.plots.end_run()
            self._set_running(False)
            if run is not None and run.run_id:
                info = self.project.run_ended(run.run_id)
                if info is not None and self.project.store_of(run.run_id).has_weights(
                        run.run_id, "final"):
                    try:
                        self.project.set_weights(self.project.run_weights(run.run_id))
                    except RunFormatError as exc:
                        self._log(f"The weights of the stopped run were not kept: {exc}")
        self.plots.timer.stop()
        self._model_runner.shutdown()  # a model being built for the evaluation: joined
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
        self.plots._update_item(run)  # the run list said what the run folder said: interrupted
        run.total_epochs, run.steps_per_epoch = ev.epochs, ev.steps_per_epoch
        self._start_epoch = ev.start_epoch
        self.progress.setRange(0, max(1, (ev.epochs - ev.start_epoch) * ev.steps_per_epoch))
        self.plots.set_extent(ev.epochs * ev.steps_per_epoch, ev.epochs)
        self._log_every = max(1, ev.epochs // LOG_EPOCH_LINES)
        self._started_at = time.perf_counter()
        self._say(f"Training on {ev.device}: {ev.train_samples} training / "
                  f"{ev.validation_samples} validation / {ev.test_samples} test samples, "
                  f"{ev.steps_per_epoch} batches per epoch, {ev.epochs} epochs.")
        for note in ev.notes:
            self._log(f"training note: {note}")
        self._refresh_live()

    def _progress(self, epoch_done: int, batch: int) -> None:
        run = self.run
        if run is None or not run.steps_per_epoch:
            return
        done = max(0, (epoch_done - self._start_epoch) * run.steps_per_epoch + batch)
        total = self.progress.maximum()
        self.progress.setValue(min(done, total))
        elapsed = time.perf_counter() - self._started_at
        if done > 0:
            eta = elapsed / done * (total - done)
            self.eta.setText(f"epoch {min(epoch_done + 1, run.total_epochs)}/{run.total_epochs}"
                             f" · ETA {duration_text(eta)}")

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
            self._refresh_live()
        elif kind == "Warned":
            self._say(ev.message)
        elif kind == "Downloading":
            self._show_download(ev)
        elif kind == "Paused":
            run.status = "paused"
            self.status.setText(f"Paused at step {ev.step}. Resume or stop.")
            self._refresh_live()
        elif kind == "Resumed":
            run.status = "running"
            self.status.setText(f"Training resumed at step {ev.step}.")
            self._refresh_live()
        elif kind == "Evaluated":
            run.evaluation = ev
            self._log(f"{ev.split}: {format_metrics(ev.metrics)}")

    def _live_status(self, run_id: str) -> str | None:
        run = self.run
        if run is None or not self.running() or run.run_id != run_id:
            return None
        return f"{run.status} · epoch {run.epoch}/{run.total_epochs or '?'}"

    def _refresh_live(self) -> None:
        if self.run is not None and self.run.run_id:
            self.runs_view.model.refresh_row(self.run.run_id)

    @Slot(object)
    @gui_only
    def _on_done(self, outcome: RunOutcome) -> None:
        """The thread was joined: show the result; the run's record and weights go to the
        project; the trainer stays for evaluation and prediction."""
        self.outcome = outcome
        run = self.run
        result = outcome.result
        self.plots.end_run()
        info = self.project.run_ended(run.run_id) if run is not None and run.run_id else None
        self._set_running(False)
        if type(result).__name__ == "Failed":
            if run is not None:
                run.status, run.message = "failed", result.message
                if info is not None and info.interrupted:  # the training process died
                    run.status = "interrupted"
                self.plots._update_item(run)
            message = result.message
            if info is not None and info.resumable:
                message += (f" {info.title} can be resumed from its last checkpoint (epoch "
                            f"{info.checkpoint.epoch}).")
            self._say(message, error=True)
            if result.detail:
                self._log(result.detail.strip().splitlines()[-1])
            self.eta.setText("failed")
            self.runs_view.reload()
            return
        if run is not None:
            run.status = result.reason
            self.plots._update_item(run)
        self.trainer = outcome.trainer
        self._trainer_keys = (run.design_key, run.data_key) if run is not None else None
        self._trainer_run = next((k for k, r in self.records.items() if r is run), "")
        if outcome.state is not None:
            prepared = getattr(outcome.trainer, "prepared", None)
            source = {"run": run.run_id, "file": "final"} if run is not None and run.run_id \
                else None
            self.project.set_weights(Weights(
                outcome.state, prepared.preprocessing() if prepared is not None else None,
                source))
        self._shown_keys = None  # show this run's evaluation if the design is still its own
        self._follow_design()
        if result.reason == "completed" or result.reason == "early stopping":
            self.progress.setValue(self.progress.maximum())
        rate = f" in {outcome.seconds:.1f} s" if outcome.seconds else ""
        self.eta.setText(result.reason)
        last = outcome.trainer.history[-1] if outcome.trainer and outcome.trainer.history else None
        summary = f" Last epoch: {format_metrics(last['validation'] or last['train'])}." if last else ""
        name = run.title.split(" · ")[0] if run is not None else "The run"
        self._say(f"{name} {result.reason} after {result.epochs_completed} epoch(s){rate}."
                  f"{summary}")
        self.runs_view.reload()

    # --- the runs table's actions ------------------------------------------------------------
    @Slot(list)
    @gui_only
    def compare_runs(self, run_ids: list[str]) -> None:
        """Overlay exactly these runs' epoch curves on the current ones."""
        from PySide6.QtCore import Qt as _Qt

        wanted = {self.records[i].number for i in run_ids if i in self.records}
        plots = self.plots
        for i in range(plots.run_list.count()):
            item = plots.run_list.item(i)
            on = item.data(_Qt.ItemDataRole.UserRole) in wanted
            item.setCheckState(_Qt.CheckState.Checked if on else _Qt.CheckState.Unchecked)
        self.views.setCurrentWidget(self.plots)

    @Slot(str)
    @gui_only
    def show_run_evaluation(self, run_id: str) -> None:
        """The run's evaluation: live (its model is here) or as stored with the run."""
        record = self.records.get(run_id)
        if record is None:
            return
        if run_id == self._trainer_run and self.trainer is not None and \
                record.evaluation is not None:
            self.evaluation.set_trainer(self.trainer)
            self.evaluation.show_evaluation(record.evaluation)
        elif not self._show_stored_evaluation(record):
            self._say(f"{record.title.split(' · ')[0]} has no evaluation.", error=True)
            return
        self.views.setCurrentWidget(self.evaluation)

    @Slot(str)
    @gui_only
    def restore_run(self, run_id: str) -> bool:
        """Bring back the run's design and weights as one undoable step."""
        from builder.training.restore import restore_run
        from graph.errors import GraphError

        if self.running():
            self._say("Stop the run in progress before restoring another.", error=True)
            return False
        try:
            text = restore_run(self.controller, self.project, run_id)
        except RunFormatError as exc:
            self._say(f"The run cannot be restored: {exc}", error=True)
            return False
        except GraphError as exc:
            self._say(f"The run's design cannot be built here: {exc.message}", error=True)
            return False
        self._say(text)
        return True

    @Slot(list)
    @gui_only
    def delete_runs(self, run_ids: list[str]) -> bool:
        infos = [self.project.get(i) for i in run_ids]
        infos = [i for i in infos if i is not None and i.id != self.project.active]
        if not infos:
            return False
        names = ", ".join(i.title for i in infos[:5]) + ("…" if len(infos) > 5 else "")
        if self.dialogs is not None and not self.dialogs.confirm(
                "Delete runs", f"Delete {names}? Their folders (curves, weights, "
                               "checkpoints) are removed from the disk; this cannot be undone.",
                "Delete"):
            return False
        for info in infos:
            try:
                self.project.delete(info.id)
            except (OSError, RunFormatError) as exc:
                self._say(f"{info.title} was not deleted: {exc}", error=True)
        self._log(f"Deleted {names}.")
        return True

    @Slot(str)
    @gui_only
    def export_run_csv(self, run_id: str) -> bool:
        record = self.records.get(run_id)
        if record is None:
            return False
        name = record.title.split(" · ")[0]
        path = self._ask_path(f"{name}.csv", f"Export the history of {name} as CSV",
                              "CSV files (*.csv)")
        if not path:
            return False
        if not record.loaded:
            self._fill_record(record)
        try:
            record.write_csv(path)
        except OSError as exc:
            self._say(f"The history was not exported: {exc}", error=True)
            return False
        self._log(f"Exported the history of {name} to {path}")
        return True

    @Slot(str)
    @gui_only
    def export_run_weights(self, run_id: str) -> bool:
        info = self.project.get(run_id)
        which = self.project.best_weights_of(run_id) if info is not None else None
        if which is None:
            self._say("This run has no weights to export.", error=True)
            return False
        path = self._ask_path(f"{info.title}.safetensors", f"Export the weights of "
                              f"{info.title}", "safetensors (*.safetensors)")
        if not path:
            return False
        from backend.export.weights import save_state

        try:
            weights = self.project.run_weights(run_id, which)
            save_state(weights.state, path, weights.preprocessing)
        except (OSError, RunFormatError) as exc:
            self._say(f"The weights were not exported: {exc}", error=True)
            return False
        self._log(f"Exported the {which} weights of {info.title} to {path}")
        return True

    # --- weights kept with the project -----------------------------------------------------------
    def weights_file(self) -> str | None:
        """A safetensors file with the current weights fitted to the design (for exports):
        layers whose name and shape still match keep their trained values, new or resized
        ones their initial values (named in the log). None if untrained."""
        weights = self.project.weights
        if weights is None:
            return None
        from backend.export.weights import save_state
        from backend.runs.project import fit
        from graph.errors import GraphError

        try:
            state, report = fit(self.controller.doc, weights.state)
        except GraphError:
            state, report = weights.state, None
        if report is not None and (report.missing or report.shape_mismatch):
            fresh = sorted({n.rsplit(".", 1)[0] for n in report.missing +
                            [name for name, *_ in report.shape_mismatch]})
            self._log("These layers have no trained weights (new or resized since training) "
                      "and are exported with their initial values: " + ", ".join(fresh))
        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix="netcanvas-weights-")
        path = Path(self._tmp) / "trained.safetensors"
        save_state(state, path, weights.preprocessing)
        return str(path)

    def _trainer_builder(self) -> Any:
        """``build() -> Trainer`` on the design as it is, holding the current weights (run off
        the GUI thread by the evaluation); None without weights or with design problems."""
        weights = self.project.weights
        if weights is None or self.design_problems():
            return None
        doc = self.controller.doc.copy()
        base = self._project_dir()
        state = weights.state

        def build() -> Any:
            from backend.export.weights import load_state_by_name
            from backend.training.trainer import Trainer

            trainer = Trainer(doc, config=doc.section("training"), base_dir=base)
            trainer.prepare()
            load_state_by_name(trainer.module, state)
            return trainer

        build.keys = (design_key(doc), data_key(doc))  # type: ignore[attr-defined]
        return build

    def _trainer_built(self, trainer: Any, keys: tuple[str, str] | None) -> None:
        """A model the evaluation built: the panel's, while the design is the one it built."""
        doc = self.controller.doc
        if keys == (design_key(doc), data_key(doc)):
            self.trainer, self._trainer_keys, self._trainer_run = trainer, keys, ""

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
