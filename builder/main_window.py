"""The main window: composes the panels and wires signals; owns no editing logic itself.

Palette (left) · canvas (centre) · inspector and undo history (right) · summary, code,
problems and log tabs (bottom; `add_panel` is where the training panel goes).
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, QTimer, Slot
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QProgressBar,
    QScrollArea,
    QSizePolicy,
    QTabWidget,
    QToolBar,
    QUndoView,
    QVBoxLayout,
    QWidget,
)

from backend.runs.project import ProjectRuns
from builder.analysis import AnalysisRunner, Report
from builder.analysis_panel import CodeView, LogView, ProblemList, SummaryTable
from builder.autosave import Autosaver, default_recovery_dir
from builder.canvas.breadcrumb import Breadcrumb
from builder.canvas.scene import CanvasScene
from builder.canvas.view import CanvasView
from builder.controller import EditorController
from builder.dialogs import Dialogs
from builder.files import EXPORTS, ProjectFiles
from builder.inspector import Inspector
from builder.palette import Palette
from builder.settings import AppSettings
from builder.theme import THEMES, apply_theme, canvas_colors, icon, resolve
from graph.document import Document
from graph.edits import SetSection
from graph.errors import GraphError
from graph.recovery import RecoveryStore

#: The validation split of a new design (File ▸ New).
NEW_DESIGN_VALIDATION = 0.2


class MainWindow(QMainWindow):
    def __init__(self, *, settings: AppSettings | None = None, dialogs: Dialogs | None = None,
                 recovery_dir: str | Path | None = None, doc: Document | None = None) -> None:
        super().__init__()
        self.setObjectName("NetCanvasMainWindow")
        self.setWindowIcon(icon("netcanvas.svg"))
        self.settings = settings or AppSettings()
        self.dialogs = dialogs or Dialogs(self)
        self.controller = EditorController(doc, self)
        self.kind = resolve(self.settings.theme)
        self.scene = CanvasScene(self.controller, canvas_colors(self.kind))
        self.scene.snap_to_grid = self.settings.snap_to_grid
        self.scene.show_params = self.settings.show_params
        self.view = CanvasView(self.scene, self)
        self.breadcrumb = Breadcrumb(self.controller, self)
        central = QWidget(self)
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.breadcrumb)
        column.addWidget(self.view, 1)
        self.setCentralWidget(central)
        recovery_dir = Path(recovery_dir or default_recovery_dir())
        # What training makes is the project's; its runs train into this session's staging
        # folder (beside the autosave) until the project is saved.
        runs = ProjectRuns(RecoveryStore(recovery_dir).runs_path)
        self.files = ProjectFiles(self.controller, self.dialogs, self.settings, self, runs)
        self._training_warm = False
        self._run_blocked = ""  # why Run is disabled (the design's first problem), or ""
        self.analysis = AnalysisRunner(self)
        self.analysis.set_document(self.controller.doc)
        self.autosaver = Autosaver(self.files, recovery_dir, self)
        self.gallery = None
        self._blocks_listed: list[tuple[str, str, str]] | None = None
        self._build_docks()
        self._build_actions()
        self._build_menus()
        self._build_workflows()
        self._build_canvas_tools()
        self._build_toolbar()
        self._build_help()
        self._build_status()
        self._connect()
        self._restore_layout()
        self.update_title()
        self.resize(1280, 800) if not self.settings.window_state()[0] else None

    # --- construction ----------------------------------------------------------------------
    def _dock(self, title: str, name: str, widget: QWidget,
              area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_docks(self) -> None:
        self.palette = Palette(self)
        self.palette_dock = self._dock("Layers", "paletteDock", self.palette,
                                       Qt.DockWidgetArea.LeftDockWidgetArea)
        self.inspector = Inspector(self.controller, self)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.inspector)
        self.inspector_dock = self._dock("Inspector", "inspectorDock", scroll,
                                         Qt.DockWidgetArea.RightDockWidgetArea)
        self.undo_view = QUndoView(self.controller.stack, self)
        self.undo_view.setEmptyLabel("<opened>")
        self.history_dock = self._dock("History", "historyDock", self.undo_view,
                                       Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(self.inspector_dock, self.history_dock)
        self.inspector_dock.raise_()
        self.summary = SummaryTable(self)
        self.code_view = CodeView(self)
        self.problems = ProblemList(self)
        self.log_view = LogView(self)
        self.bottom_tabs = QTabWidget(self)
        self.bottom_tabs.setDocumentMode(True)
        self.bottom_tabs.addTab(self.summary, "Summary")
        self.bottom_tabs.addTab(self.code_view, "Code")
        self.bottom_tabs.addTab(self.problems, "Problems")
        self.bottom_tabs.addTab(self.log_view, "Log")
        self._build_training()
        self.bottom_dock = self._dock("Model", "bottomDock", self.bottom_tabs,
                                      Qt.DockWidgetArea.BottomDockWidgetArea)
        self.resizeDocks([self.palette_dock, self.inspector_dock], [200, 290],
                         Qt.Orientation.Horizontal)
        self.resizeDocks([self.bottom_dock], [230], Qt.Orientation.Vertical)

    def _build_training(self) -> None:
        """A placeholder tab; the panel itself is built after the window is shown."""
        self._training = None
        self._plot_widgets: list = []  # the panel's plots, made ahead (`_ensure_training`)
        self._training_placeholder = QLabel("Preparing the training panel…", self)
        self._training_placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._training_index = self.add_panel(self._training_placeholder, "Training")

    @property
    def training(self):
        """The training panel, built on first use.

        Building it imports pyqtgraph and numpy and creates its plots (~0.4 s measured), so the
        window is shown first; `startup` builds it right after the first paint.
        """
        if self._training is None:
            from builder.training.panel import TrainingPanel  # pyqtgraph, not torch

            panel = TrainingPanel(
                self.controller, self.dialogs, self.log_view.log,
                lambda: self.files.path.parent if self.files.path else None, self,
                plot_widgets=self._plot_widgets)
            self._plot_widgets = []
            panel.attach_files(self.files)
            panel.run_gate = self.run_blocker
            panel.set_run_blocked(self._run_blocked)
            panel.form.set_facts(self.target_shapes.facts, self.target_shapes.error)
            panel.set_kind(self.kind)
            panel.runningChanged.connect(self._training_running)
            panel.pause_button.toggled.connect(self._pause_shown)
            current = self.bottom_tabs.currentIndex() == self._training_index
            self.bottom_tabs.removeTab(self._training_index)
            # In a scroll area: the panel's minimum size (~890 × 250 at 200 %) must not make
            # the window wider than the screen or take the canvas's height.
            from builder.fit_scroll import FitScrollArea

            holder = FitScrollArea(self)  # fills the tab; scrolls only below the minimum
            holder.setObjectName("trainingHolder")
            holder.setFrameShape(QScrollArea.Shape.NoFrame)
            holder.setWidget(panel)
            self.bottom_tabs.insertTab(self._training_index, holder, "Training")
            self._training_placeholder.deleteLater()
            if current:
                self.bottom_tabs.setCurrentIndex(self._training_index)
            self._training = panel
        return self._training

    @Slot()
    def _ensure_training(self) -> None:
        """Build the training panel after the launch, in event-loop turns: first its plot
        widgets one per turn (8–9 ms each), then the rest (~15 ms). Built in one go it held
        the GUI thread for 45–110 ms."""
        if self._training is None:
            from builder.training.plots import TrainingPlots, new_plot_widget

            if len(self._plot_widgets) < TrainingPlots.COUNT:
                self._plot_widgets.append(new_plot_widget(self))
                QTimer.singleShot(0, self, self._ensure_training)
                return
        self.training  # noqa: B018 - the property builds the panel
        self._warm_training_soon()

    def _training_running(self, on: bool) -> None:
        self._update_run_action()
        self.act_stop.setEnabled(on)
        self.act_pause.setEnabled(on)
        if not on:
            self._pause_shown(False)
        self._update_resume()

    def run_blocker(self) -> str:
        """Why the design cannot train now ("" when it can): the first problem of an analysis
        of the design as it is (a pending one is run first, so an edit just made counts)."""
        if self.analysis.enabled and (self.analysis.pending() or self.analysis.last is None):
            self.analysis.run_now()  # apply_report updates the blocked state
        return self._run_blocked

    def _set_run_blocked(self, reason: str) -> None:
        self._run_blocked = reason
        self._update_run_action()
        if self._training is not None:
            self._training.set_run_blocked(reason)

    def _update_run_action(self) -> None:
        running = self._training is not None and self._training.running()
        self.act_run.setEnabled(not running and not self._run_blocked)
        tip = self._run_blocked or "Train the design in the background"
        self.act_run.setStatusTip(tip)
        keys = self.act_run.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        self.act_run.setToolTip(f"{tip} ({keys})" if not self._run_blocked else tip)

    def _update_resume(self, _what: str = "") -> None:
        resumable = any(r.resumable for r in self.files.runs.runs())
        running = self._training is not None and self._training.running()
        self.act_resume.setEnabled(resumable and not running)

    def resume_training(self) -> bool:
        """Continue the latest interrupted or stopped run from its last checkpoint."""
        run_id = self.training.resumable_run()
        if run_id is None:
            self.show_message("No run to resume: none was interrupted or stopped.")
            return False
        self.show_training()
        return self.training.resume_run(run_id)

    def show_runs(self) -> None:
        """The training panel's Runs tab: every run of the project."""
        self.show_training()
        self.training.views.setCurrentWidget(self.training.runs_view)

    def _build_workflows(self) -> None:
        from builder.workflows import WorkflowActions  # Tools menu, import, training script

        self.workflows = WorkflowActions(self, self.file_menu, self.export_menu)

    def show_training(self, in_turns: bool = False) -> None:
        """Raise the training tab in the Training view (the bottom panel takes most of the
        window's height; `leave_training_view` gives the canvas its height back).
        ``in_turns``: the panel grows in the next event-loop turn, so that the tab's own
        layout and the window's relayout are not one long stall (Run: ~80 ms in one go)."""
        self.bottom_dock.show()
        self.training  # noqa: B018 - built (in its tab) if it was not yet
        self.bottom_tabs.setCurrentIndex(self._training_index)
        if in_turns:
            QTimer.singleShot(self.TURN_MS, self, self.enter_training_view)
        else:
            self.enter_training_view()

    # --- the Training view (issue 14) -------------------------------------------------------------
    #: The bottom panel's share of the window's height in the Training view.
    TRAINING_SHARE = 0.62

    def training_view(self) -> bool:
        return self.act_training_view.isChecked()

    def enter_training_view(self) -> None:
        """Give the dashboards room: the bottom panel grows to `TRAINING_SHARE` of the
        window; the height it had is kept to go back to."""
        if not self.act_training_view.isChecked():
            self.act_training_view.blockSignals(True)
            self.act_training_view.setChecked(True)
            self.act_training_view.blockSignals(False)
        if self._design_height is None:
            self._design_height = self.bottom_dock.height()
        self.bottom_dock.show()
        self.bottom_tabs.setCurrentIndex(self._training_index)
        wanted = int(self.height() * self.TRAINING_SHARE)
        if self.bottom_dock.height() < wanted - 8:
            if self._training is not None:
                self.training.plots.paint_in_turn()  # the whole window repaints: spread it out
            self.resizeDocks([self.bottom_dock], [wanted], Qt.Orientation.Vertical)

    def leave_training_view(self) -> None:
        """Back to the design: the bottom panel's height from before the Training view."""
        if self.act_training_view.isChecked():
            self.act_training_view.blockSignals(True)
            self.act_training_view.setChecked(False)
            self.act_training_view.blockSignals(False)
        height, self._design_height = self._design_height, None
        if height is not None:
            self.resizeDocks([self.bottom_dock], [height], Qt.Orientation.Vertical)
        self.view.setFocus()

    def _training_view_toggled(self, on: bool) -> None:
        if on:
            self.show_training()
        else:
            self.leave_training_view()

    #: Between the steps of a long change on screen (Run: start, raise the tab, grow the
    #: panel): a frame, so that input and timers are served in between (a zero-delay timer
    #: runs in the same pass of the event loop as the layout and paint it follows).
    TURN_MS = 16

    def run_training(self) -> bool:
        """Run: start the run, then raise the training tab and give the plots room, one step
        per `TURN_MS`. Together (the run started, the tab laid out, the whole window relaid
        and four plots resized and painted) they held the GUI thread ~60–80 ms (measured)."""
        started = self.training.start_run()
        QTimer.singleShot(self.TURN_MS, self, lambda: self.show_training(in_turns=True))
        return started

    def add_panel(self, widget: QWidget, title: str) -> int:
        """Add a tab to the bottom panel (e.g. the training panel); returns its index."""
        return self.bottom_tabs.addTab(widget, title)

    def _action(self, text: str, slot, shortcut=None, checkable: bool = False,
                tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            if isinstance(shortcut, list):
                action.setShortcuts(shortcut)
            else:
                action.setShortcut(QKeySequence(shortcut))
        action.setCheckable(checkable)
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        std = QKeySequence.StandardKey
        c, s = self.controller, self.scene
        self.act_new = self._action("&New…", self.new_design, std.New,
                                    tip="Start an empty design (its name is asked)")
        self.act_open = self._action("&Open…", lambda: self.files.open(), std.Open)
        self.act_gallery = self._action("&Examples…", self.show_gallery, "Ctrl+Shift+E")
        self.act_save = self._action("&Save", self.files.save, std.Save)
        self.act_save_as = self._action("Save &As…", self.files.save_as, std.SaveAs)
        self.act_quit = self._action("&Quit", self.close, std.Quit)
        self.act_undo = c.stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcuts(QKeySequence.keyBindings(std.Undo))
        self.act_redo = c.stack.createRedoAction(self, "&Redo")
        self.act_redo.setShortcuts(QKeySequence.keyBindings(std.Redo))
        self.act_cut = self._action("Cu&t", lambda: c.cut(s.selected_node_ids()), std.Cut)
        self.act_copy = self._action("&Copy", lambda: c.copy(s.selected_node_ids()), std.Copy)
        self.act_paste = self._action("&Paste", lambda: c.paste(), std.Paste)
        self.act_duplicate = self._action("D&uplicate",
                                          lambda: c.duplicate(s.selected_node_ids()), "Ctrl+D")
        self.act_delete = self._action("&Delete", self.delete_selection,
                                       QKeySequence.keyBindings(std.Delete)
                                       + [QKeySequence(Qt.Key.Key_Backspace)])
        self.act_select_all = self._action("Select &All", self.select_all, std.SelectAll)
        self.act_group = self._action("&Group into Block", lambda: c.group_into_block(
            s.selected_node_ids()), "Ctrl+G", tip="The selected layers become one block")
        self.act_ungroup = self._action("U&ngroup Block", self._ungroup_selection,
                                        "Ctrl+Shift+G", tip="Put a block's layers in its place")
        self.act_export_block = self._action(
            "Export &Block…", lambda: self.export_block(),
            tip="Save the open block (or the selected one) to a file, with the blocks it uses")
        self.act_insert_block = self._action(
            "&Insert Block from File…", lambda: self.insert_block_file(),
            tip="Add a block saved with Export Block to this design, and one instance of it")
        self.act_layout = self._action("Auto-&layout", c.auto_layout, "Ctrl+L",
                                       tip="Arrange the layers left to right by depth")
        self.act_zoom_in = self._action("Zoom &In", self.view.zoom_in,
                                        QKeySequence.keyBindings(std.ZoomIn)
                                        + [QKeySequence("Ctrl+=")])
        self.act_zoom_out = self._action("Zoom &Out", self.view.zoom_out, std.ZoomOut)
        self.act_zoom_reset = self._action("Actual &Size", self.view.reset_zoom, "Ctrl+1")
        self.act_fit = self._action("&Fit to View", self.view.fit_all, "Ctrl+0")
        self.act_snap = self._action("Snap to &Grid", self._toggle_snap, checkable=True)
        self.act_snap.setChecked(self.scene.snap_to_grid)
        self.act_params = self._action("Show &Parameter Counts", self._toggle_params,
                                       "Ctrl+Shift+P", checkable=True)
        self.act_params.setChecked(self.scene.show_params)
        self.act_run = self._action("&Run Training", self.run_training, "Ctrl+R",
                                    tip="Train the design in the background")
        self.act_stop = self._action("&Stop Training", lambda: self.training.stop_run(),
                                     "Ctrl+Shift+R", tip="Stop after this batch")
        self.act_stop.setEnabled(False)
        self.act_pause = self._action("&Pause Training", self._pause_toggled, "Ctrl+Alt+R",
                                      checkable=True, tip="Pause the run after this batch "
                                      "(again: resume)")
        self.act_pause.setEnabled(False)
        self.act_resume = self._action("Resu&me Interrupted Run", self.resume_training,
                                       tip="Continue the latest interrupted or stopped run "
                                           "from its last checkpoint")
        self.act_resume.setEnabled(False)
        self._design_height: int | None = None  # the bottom panel's before the Training view
        self.act_training_view = self._action(
            "&Training View", self._training_view_toggled, "Ctrl+T", checkable=True,
            tip="The training dashboards with room (again: back to the design)")
        self.act_runs = self._action("Show R&uns", self.show_runs, "Ctrl+Shift+U",
                                     tip="The project's runs: compare, restore, resume, export")
        self.act_exports = {fmt: self._action(text, lambda _=False, f=fmt: self.export_design(f))
                            for fmt, (text, _suffix, _filter) in EXPORTS.items()}
        self.act_exports["py"].setShortcut(QKeySequence("Ctrl+Alt+E"))  # Ctrl+E: a field's End
        self.act_exports["py"].setStatusTip("Export the design as PyTorch code (with the "
                                            "trained weights when there are some)")
        self.theme_group = QActionGroup(self)
        self.act_themes = {}
        for theme in THEMES:
            action = self._action(theme.capitalize(), lambda _=False, t=theme: self.set_theme(t),
                                  checkable=True)
            action.setChecked(theme == self.settings.theme)
            self.theme_group.addAction(action)
            self.act_themes[theme] = action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.act_new, self.act_open])
        self.recent_menu = file_menu.addMenu("Open &Recent")
        file_menu.addAction(self.act_gallery)
        file_menu.addSeparator()
        file_menu.addActions([self.act_save, self.act_save_as])
        export_menu = file_menu.addMenu("&Export")
        export_menu.addActions(list(self.act_exports.values()))
        self.file_menu, self.export_menu = file_menu, export_menu
        file_menu.addActions([self.act_export_block, self.act_insert_block])
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        edit = bar.addMenu("&Edit")
        edit.addActions([self.act_undo, self.act_redo])
        edit.addSeparator()
        edit.addActions([self.act_cut, self.act_copy, self.act_paste, self.act_duplicate,
                         self.act_delete])
        edit.addSeparator()
        edit.addActions([self.act_select_all, self.act_layout])
        edit.addSeparator()
        edit.addActions([self.act_group, self.act_ungroup])
        view = bar.addMenu("&View")
        view.addActions([self.act_zoom_in, self.act_zoom_out, self.act_zoom_reset, self.act_fit])
        view.addSeparator()
        view.addActions([self.act_snap, self.act_params])
        train_menu = bar.addMenu("&Train")
        train_menu.addActions([self.act_run, self.act_pause, self.act_stop, self.act_resume])
        train_menu.addSeparator()
        train_menu.addAction(self.act_training_view)
        train_menu.addAction(self.act_runs)
        self.view_menu = view
        theme_menu = view.addMenu("&Theme")
        theme_menu.addActions(list(self.act_themes.values()))
        view.addSeparator()
        for dock in (self.palette_dock, self.inspector_dock, self.history_dock,
                     self.bottom_dock):
            view.addAction(dock.toggleViewAction())
        self._fill_recent()

    def _fill_recent(self) -> None:
        menu: QMenu = self.recent_menu
        menu.clear()
        for path in self.settings.recent_files():
            menu.addAction(path, lambda p=path: self.files.open(p))
        if menu.isEmpty():
            empty = menu.addAction("No recent files")
            empty.setEnabled(False)
        else:
            menu.addSeparator()
            menu.addAction("Clear", self._clear_recent)

    def _clear_recent(self) -> None:
        self.settings.clear_recent()
        self._fill_recent()

    def _build_status(self) -> None:
        self.export_progress = QProgressBar(self)
        self.export_progress.setRange(0, 0)  # busy: the exporter reports no steps
        self.export_progress.setMaximumWidth(160)
        self.export_progress.setTextVisible(False)
        self.export_progress.hide()
        self.statusBar().addPermanentWidget(self.export_progress)
        self.zoom_label = QLabel("100 %", self)
        self.statusBar().addPermanentWidget(self.zoom_label)
        self.analysis_label = QLabel("", self)
        self.analysis_label.setObjectName("muted")
        self.statusBar().addPermanentWidget(self.analysis_label)

    def _connect(self) -> None:
        c = self.controller
        c.message.connect(self.show_message)
        self.files.message.connect(self.show_message)
        c.stack.cleanChanged.connect(self.update_title)
        c.stack.indexChanged.connect(self._edited)
        c.documentReplaced.connect(self._document_replaced)
        self.files.pathChanged.connect(self.update_title)
        self.files.trainedChanged.connect(self._trained_changed)
        self.files.recentChanged.connect(self._fill_recent)
        self.scene.nodeSelectionChanged.connect(self.inspector.show_nodes)
        self.palette.layerActivated.connect(self.place_layer)
        self.palette.blockActivated.connect(
            lambda b: c.insert_block(b, self.scene.selected_node_ids(), self._view_centre()))
        c.shownChanged.connect(self._shown_changed)
        c.documentReplaced.connect(self._list_blocks)
        self._list_blocks()
        self.analysis.finished.connect(self.apply_report)
        self.problems.nodesRequested.connect(self.reveal_nodes)
        self.problems.fixRequested.connect(self.apply_fix)
        self.scene.menus.add_provider(self._fix_entries)
        self.view.zoomChanged.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f} %"))
        self.setAcceptDrops(True)
        self.view.viewport().installEventFilter(self)

    def _restore_layout(self) -> None:
        geometry, state = self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        self._sized_docks = state is not None  # else: sized to the window when first shown
        self._clamped = False

    # --- window chrome that fits the window (issue 14) ---------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._sized_docks:
            self._sized_docks = True
            QTimer.singleShot(0, self, self.fit_docks)  # once the window has its size
        elif not self._clamped:
            self._clamped = True
            QTimer.singleShot(0, self, self._clamp_bottom)

    def _clamp_bottom(self) -> None:
        """A layout saved with the bottom panel enlarged (a Training view of an older
        version) gives the canvas its height back at launch."""
        if not self.training_view() and self.bottom_dock.height() > 0.45 * self.height():
            self.resizeDocks([self.bottom_dock],
                             [int(min(260, max(130, 0.28 * self.height())))],
                             Qt.Orientation.Vertical)

    def fit_docks(self) -> None:
        """Dock sizes in proportion to the window, so the canvas keeps most of it in a small
        window (at 200 % a 1600 × 1000 screen is 800 × 500: fixed sizes left the canvas a
        third of the width and a quarter of the height)."""
        w, h = max(self.width(), 1), max(self.height(), 1)

        def clamp(value: float, lo: int, hi: int) -> int:
            return int(min(hi, max(lo, value)))

        self.resizeDocks([self.palette_dock, self.inspector_dock],
                         [clamp(0.14 * w, 140, 220), clamp(0.2 * w, 190, 300)],
                         Qt.Orientation.Horizontal)
        self.resizeDocks([self.bottom_dock], [clamp(0.28 * h, 130, 260)],
                         Qt.Orientation.Vertical)
        self._fit_toolbar()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if hasattr(self, "toolbar"):
            self._fit_toolbar()

    def _fit_toolbar(self) -> None:
        """Icons with their names when there is room, icons alone when the window is narrow
        (the actions without an icon keep their short names)."""
        style = (Qt.ToolButtonStyle.ToolButtonTextBesideIcon if self.width() >= 1100 else
                 Qt.ToolButtonStyle.ToolButtonIconOnly)
        if self.toolbar.toolButtonStyle() != style:
            self.toolbar.setToolButtonStyle(style)

    # --- canvas tools: find, layout direction, diagram export, target sizes (issue 14) -------
    def _build_canvas_tools(self) -> None:
        from builder.canvas.find import LayerFinder
        from builder.targets import TargetShapes

        self.finder = LayerFinder(lambda: self.controller.doc, self)
        self.finder.setMaximumWidth(240)
        self.finder.found.connect(self.reveal_nodes_one)
        self.finder.done.connect(self.view.setFocus)
        self.act_find = self._action("&Find Layer…", self.find_layer, QKeySequence.StandardKey.Find,
                                     tip="Find a layer by name (Enter: the next match)")
        self.act_top_down = self._action("Lay Out &Top to Bottom", self.set_top_down,
                                         checkable=True,
                                         tip="Ranks from top to bottom (deep networks) instead "
                                         "of left to right")
        self.act_top_down.setChecked(self.settings.layout_direction == "TB")
        self.controller.direction = self.settings.layout_direction
        self.scene.set_direction(self.settings.layout_direction)
        self.act_diagram = {
            fmt: self._action(text, lambda _=False, f=fmt: self.export_diagram(f),
                              tip="The diagram as an image file")
            for fmt, text in (("png", "Diagram as &PNG…"), ("svg", "Diagram as S&VG…"))}
        self.export_menu.addSeparator()
        self.export_menu.addActions(list(self.act_diagram.values()))
        self.view_menu.insertAction(self.act_snap, self.act_top_down)
        edit = next(a.menu() for a in self.menuBar().actions() if a.text() == "&Edit")
        edit.addAction(self.act_find)
        self.target_shapes = TargetShapes(
            self.controller, self.workflows.new_runner("targets"),
            lambda: self.files.path.parent if self.files.path else None, self)
        self.controller.targets = self.target_shapes.lookup
        self.target_shapes.factsChanged.connect(self._data_facts_changed)

    @Slot()
    def _data_facts_changed(self) -> None:
        """The data set's columns and targets are known (or not): the column picker shows them."""
        if self._training is not None:
            self._training.form.set_facts(self.target_shapes.facts, self.target_shapes.error)

    def find_layer(self) -> None:
        self.finder.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.finder.selectAll()

    def reveal_nodes_one(self, node_id: str) -> None:
        self.reveal_nodes([node_id])

    def set_top_down(self, on: bool) -> None:
        """Lay the design out top to bottom (ports on top and bottom) or left to right; the
        new layout is one undo step."""
        direction = "TB" if on else "LR"
        self.settings.layout_direction = direction
        self.controller.direction = direction
        self.scene.set_direction(direction)
        if self.controller.auto_layout():
            QTimer.singleShot(0, self, self.view.fit_all)

    def export_diagram(self, fmt: str, path: str | None = None) -> bool:
        """File ▸ Export ▸ Diagram as PNG / SVG."""
        from builder.canvas.export import export_png, export_svg

        if not self.scene.nodes:
            self.show_message("Nothing to export: the design is empty.")
            return False
        if path is None:
            base = (self.files.path.parent if self.files.path else
                    Path(self.settings.last_folder() or Path.home()))
            path = self.dialogs.save_path(str(base / f"{self.files.title()}.{fmt}"),
                                          f"Export diagram as {fmt.upper()}",
                                          f"{fmt.upper()} images (*.{fmt})")
            if not path:
                return False
        try:
            out = (export_png if fmt == "png" else export_svg)(self.scene, path)
        except OSError as exc:
            self.dialogs.error("Cannot export the diagram", str(exc))
            return False
        self.show_message(f"Exported the diagram to {out}")
        return True

    # --- the toolbar and the design's name (issue 14) ------------------------------------------
    def _build_toolbar(self) -> None:
        self._set_glyphs()
        bar = QToolBar("Main toolbar", self)
        bar.setObjectName("mainToolBar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        label = QLabel(" Design ", bar)
        label.setObjectName("muted")
        self.name_edit = QLineEdit(bar)
        self.name_edit.setObjectName("designName")
        self.name_edit.setToolTip("The design's name: the class name of the exported PyTorch "
                                  "module (renaming is undoable)")
        self.name_edit.setMaximumWidth(220)
        self.name_edit.editingFinished.connect(self._commit_design_name)
        bar.addWidget(label)
        bar.addWidget(self.name_edit)
        bar.addSeparator()
        self.act_undo.setIconText("Undo")
        self.act_redo.setIconText("Redo")
        self.act_fit.setIconText("Fit")
        self.act_layout.setIconText("Layout")
        bar.addActions([self.act_undo, self.act_redo])
        bar.addSeparator()
        bar.addActions([self.act_fit, self.act_layout])
        bar.addSeparator()
        self.act_run.setIconText("Run")
        self.act_pause.setIconText("Pause")
        self.act_stop.setIconText("Stop")
        bar.addActions([self.act_run, self.act_pause, self.act_stop])
        self.act_training_view.setIconText("Training")
        bar.addAction(self.act_training_view)
        spacer = QWidget(bar)
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        bar.addWidget(self.finder)
        for action in bar.actions():
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            if keys and action.toolTip() and keys not in action.toolTip():
                action.setToolTip(f"{action.toolTip()} ({keys})")
        self.toolbar = bar
        self.controller.documentReplaced.connect(self._show_design_name)
        self.controller.stack.indexChanged.connect(self._show_design_name)
        self._show_design_name()

    def _set_glyphs(self) -> None:
        from builder.theme import glyph

        for action, name in ((self.act_run, "run"), (self.act_pause, "pause"),
                             (self.act_stop, "stop"), (self.act_undo, "undo"),
                             (self.act_redo, "redo")):
            action.setIcon(glyph(name, self.kind))

    def _show_design_name(self, *_args) -> None:
        if not self.name_edit.hasFocus() or not self.name_edit.isModified():
            self.name_edit.setText(self.controller.doc.name)
            self.name_edit.setModified(False)

    def _commit_design_name(self) -> None:
        text = self.name_edit.text().strip()
        if text != self.controller.doc.name:
            self.controller.rename_model(text)
        self.name_edit.setModified(False)
        self._show_design_name()

    def new_design(self) -> bool:
        """File ▸ New: ask to save the current design, then the new one's name."""
        from graph.names import class_name

        if not self.files.maybe_save():
            return False
        name = self.dialogs.design_name("Model")
        if name is None:
            return False
        doc = Document(class_name(name))
        # a fifth of the samples held out, so the validation curves show from the first run
        doc.apply(SetSection("data", {"validation_split": NEW_DESIGN_VALIDATION}))
        self.files.open_document(doc, name)
        return True

    def _pause_toggled(self, on: bool) -> None:
        if self._training is None or not self._training.running():
            self._pause_shown(False)
            return
        if on:
            self._training.pause()
        else:
            self._training.resume()

    def _pause_shown(self, on: bool) -> None:
        self.act_pause.blockSignals(True)
        self.act_pause.setChecked(on)
        self.act_pause.blockSignals(False)

    # --- exports in the background (issue 14) ---------------------------------------------------
    #: Formats that take seconds (tracing, the ONNX exporter): written by a background job.
    BACKGROUND_EXPORTS = ("onnx", "torchscript")

    def export_design(self, fmt: str, path: str | None = None) -> bool:
        """File ▸ Export: the code and weights at once; ONNX and TorchScript by a child process
        (`builder.export_process`) with a busy indicator: the window keeps working."""
        weights = self.training.weights_file()
        if fmt not in self.BACKGROUND_EXPORTS:
            return self.files.export(fmt, path, weights_path=weights)
        runner = self._export_runner()
        if runner.running():
            self.show_message("An export is still being written.")
            return False
        path = path or self.files.export_path(fmt)
        if not path:
            return False
        doc = self.controller.doc.copy()
        text = EXPORTS[fmt][0].rstrip("…")

        def job(report, control):
            from builder.export_process import export_in_child

            return path, export_in_child(doc, fmt, path, weights, control)

        if not runner.start(job):
            return False
        self.export_progress.setToolTip(f"Writing {text} to {path}")
        self.export_progress.show()
        self.statusBar().showMessage(f"Exporting {text}…")
        return True

    def _export_runner(self):
        if getattr(self, "_exports_job", None) is None:
            self._exports_job = self.workflows.new_runner("export")
            self._exports_job.finished.connect(self._export_finished)
            self._exports_job.failed.connect(self._export_failed)
            self._exports_job.runningChanged.connect(self._export_running)
        return self._exports_job

    @Slot(bool)
    def _export_running(self, on: bool) -> None:
        self.export_progress.setVisible(on)
        for fmt in self.BACKGROUND_EXPORTS:
            self.act_exports[fmt].setEnabled(not on)

    @Slot(object)
    def _export_finished(self, result: object) -> None:
        path, problem = result  # type: ignore[misc]
        self.files.export_done(path, problem)

    @Slot(str)
    def _export_failed(self, message: str) -> None:
        self.dialogs.error("Cannot export", message)

    def _build_help(self) -> None:
        from builder.help.menu import HelpMenu

        self.help = HelpMenu(self)

    # --- behaviour -------------------------------------------------------------------------
    def startup(self, path: str | None = None) -> None:
        """After the window is shown: offer recovery, open ``path`` or the gallery, analyse."""
        restored = self.autosaver.offer_recovery(self.dialogs)
        if restored and any(r.resumable for r in self.files.runs.runs()):
            QTimer.singleShot(0, self.show_runs)  # where Resume is
        if path and not restored:
            self.files.open(path, ask=False)
        elif not restored and self.settings.first_launch and not os.environ.get(
                "NETCANVAS_NO_GALLERY"):
            # in later turns: building the gallery (its examples read and the first one
            # drawn) and its first paint took the GUI thread 30–100 ms in one go
            QTimer.singleShot(0, self, self._build_gallery)
            QTimer.singleShot(0, self, self.show_gallery)
        self.settings.mark_launched()
        self._start_warm_up()

    # --- launch without freezing (issue 14) ------------------------------------------------------
    def _start_warm_up(self) -> None:
        """Load torch, the backend and the plotting library in the background, with a first
        analysis of this design and the examples (`builder.warmup`); the window's own analysis
        and the training panel follow as their parts are ready, without stalling the GUI."""
        from builder.warmup import warm_up

        runner = self.workflows.new_runner("warm-up")
        runner.progress.connect(self._warm_up_step)
        runner.finished.connect(self._warmed_up)
        runner.failed.connect(self._warm_up_failed)
        self.analysis_label.setText("loading PyTorch…")
        current = self.controller.doc.copy()
        self._warm_runner = runner
        if not runner.start(lambda report, control: warm_up([current], report, control)):
            self._warmed_up()

    @Slot(list)
    def _warm_up_step(self, steps: list) -> None:
        from builder.warmup import ANALYSIS_READY

        if ANALYSIS_READY in steps and not self.analysis.enabled:
            self.analysis.start()

    @Slot(str)
    def _warm_up_failed(self, message: str) -> None:
        self.log_view.log(f"warm-up: {message}")
        self._warmed_up()

    @Slot(object)
    def _warmed_up(self, _result: object = None) -> None:
        from builder.warmup import early_done

        early_done()
        self._after_warm_up()

    def _after_warm_up(self) -> None:
        """Everything is loaded and the background thread has ended: build the training panel
        now, with no thread taking turns on the interpreter; its warm-up and the data's target
        sizes follow (`_warm_training_soon`)."""
        if not self.analysis.enabled:
            self.analysis.start()
        QTimer.singleShot(0, self, self._ensure_training)

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)
        self.log_view.log(text)

    def _trained_changed(self, what: str) -> None:
        self.update_title()
        self._update_resume()

    def update_title(self) -> None:
        modified = self.files.is_modified()
        self.setWindowTitle(f"{self.files.title()}{'*' if modified else ''} — NetCanvas")

    def _edited(self) -> None:
        self.update_title()
        self.analysis.schedule()

    def _document_replaced(self) -> None:
        self.analysis.set_document(self.controller.doc)
        self.update_title()
        QTimer.singleShot(0, self.view.fit_all)

    def _shown_changed(self) -> None:
        """A block opened or closed: the canvas shows what its analysis says inside it."""
        if self.analysis.last is not None:
            self.scene.apply_report(self.analysis.last.view(self.controller.shown))
        self.inspector.show_nodes([])
        QTimer.singleShot(0, self.view.fit_all)

    def _list_blocks(self) -> None:
        doc = self.controller.doc
        blocks = [(b, doc.block(b).name, f"<b>{doc.block(b).name}</b>: a block of this design "
                   "(Enter / double-click inserts it; double-click it on the canvas to open it)")
                  for b in doc.block_ids()]
        if blocks != self._blocks_listed:  # the palette only when they changed
            self._blocks_listed = blocks
            self.palette.set_blocks(blocks)

    def _view_centre(self) -> tuple[float, float]:
        centre = self.view.mapToScene(self.view.viewport().rect().center())
        return (centre.x(), centre.y())

    def apply_report(self, report: Report) -> None:
        doc = self.controller.doc
        self._list_blocks()
        self.scene.apply_report(report.view(self.controller.shown))
        self.inspector.apply_report(report.view(self.controller.shown))
        self.summary.show_report(doc, report)
        self.code_view.show_report(report)
        self.problems.show_report(doc, report)
        n = len(report.problems)
        self.bottom_tabs.setTabText(2, f"Problems ({n})" if n else "Problems")
        self.analysis_label.setText(f"{n} problem(s)" if n else "design OK")
        self.analysis_label.setToolTip(report.run_blocker())
        self._set_run_blocked(report.run_blocker())
        self._warm_training_soon()

    # --- quick fixes (issue 14) ------------------------------------------------------------------
    def apply_fix(self, fix) -> bool:
        """Apply a quick fix of the last analysis (`builder.analysis.QuickFix`): one undo step."""
        done = self.controller.apply_fix(fix.node_id, fix.kind, fix.args, fix.label)
        if done:
            self.show_message(f"Applied: {fix.label}")
        return done

    def _fix_entries(self, target) -> list:
        """The canvas menu's quick fixes for a layer, a port of it, or a connection."""
        if self.analysis.enabled and self.analysis.pending():
            self.analysis.run_now()  # the design changed since: fixes of the design as it is
        if self.analysis.last is None:
            return []
        report = self.analysis.last.view(self.controller.shown)  # inside a block: its own
        if target.kind == "edge":
            fixes = report.fixes_for(edge=target.edge)
        elif target.kind in ("node", "port"):
            fixes = report.fixes_for(node_id=target.node_id)
        else:
            fixes = []
        return [(fix.label, lambda f=fix: self.apply_fix(f)) for fix in fixes]

    def _warm_training_soon(self) -> None:
        """Once the panel is built and the first analysis is in: prepare the first run while
        the app is idle (never builds the panel itself: that waits for its modules)."""
        if not self._training_warm and self._training is not None and \
                self.analysis.last is not None:
            self._training_warm = True
            QTimer.singleShot(300, self, self._warm_training)

    @Slot()
    def _warm_training(self) -> None:
        self.training.warm_up()
        # then the data's target sizes (a background load that would compete for the CPU)
        QTimer.singleShot(300, self, self.target_shapes.start)

    def add_at_center(self, type_name: str) -> str | None:
        return self.controller.add_layer(type_name, self.view.center_pos())

    def place_layer(self, type_name: str) -> str | None:
        """The palette's double-click / Enter: insert after the selection and wire it (or at
        the centre of the view when nothing is selected); the new layer is shown."""
        node_id = self.controller.place_layer(type_name, self.scene.selected_node_ids(),
                                              self.view.center_pos())
        if node_id is not None and node_id in self.scene.nodes:
            self.view.ensureVisible(self.scene.nodes[node_id], 40, 40)
        return node_id

    def _block_to_export(self) -> str | None:
        shown = self.controller.shown
        if shown.is_definition:
            return shown.block_id
        blocks = [n for n in self.scene.selected_node_ids() if shown.attr(n, "type") == "Block"]
        return shown.attr(blocks[0], "params")["block"] if len(blocks) == 1 else None

    def export_block(self, path: str | None = None) -> bool:
        """File ▸ Export Block…: the open or selected block, in a file of its own."""
        from graph.block_files import save_block

        block_id = self._block_to_export()
        if block_id is None:
            self.show_message("Open a block, or select one, to export it.")
            return False
        name = self.controller.doc.block(block_id).name
        path = path or self.dialogs.save_path(f"{name}.block.json", "Export block",
                                              "NetCanvas blocks (*.block.json *.json)")
        if not path:
            return False
        try:
            save_block(self.controller.doc, block_id, path)
        except (OSError, GraphError) as exc:
            self.dialogs.error("Export block", f"Could not write {path}: {exc}")
            return False
        self.show_message(f"Block {name} written to {path}.")
        return True

    def insert_block_file(self, path: str | None = None) -> str | None:
        """File ▸ Insert Block from File…: define the file's block here, add one instance."""
        from graph.block_files import load_block

        folder = str(Path(self.files.path).parent) if self.files.path else ""
        path = path or self.dialogs.open_path(folder)
        if not path:
            return None
        try:
            holder, block_id = load_block(path)
        except (OSError, GraphError) as exc:
            self.dialogs.error("Insert block", str(getattr(exc, "message", exc)))
            return None
        return self.controller.insert_block_from(holder, block_id, self._view_centre())

    def _ungroup_selection(self) -> bool:
        doc = self.controller.shown
        blocks = [n for n in self.scene.selected_node_ids() if doc.attr(n, "type") == "Block"]
        if len(blocks) != 1:
            self.show_message("Select one block to ungroup.")
            return False
        return self.controller.ungroup(blocks[0])

    def delete_selection(self) -> bool:
        return self.controller.delete(self.scene.selected_node_ids(),
                                      self.scene.selected_edges())

    def select_all(self) -> None:
        self.scene.select_nodes(list(self.scene.nodes))

    def reveal_nodes(self, node_ids: list[str]) -> None:
        ids = [n for n in node_ids if n in self.scene.nodes]
        self.scene.select_nodes(ids)
        if ids:
            self.view.centerOn(self.scene.nodes[ids[0]])

    def _toggle_snap(self, on: bool) -> None:
        self.scene.snap_to_grid = on
        self.settings.snap_to_grid = on

    def _toggle_params(self, on: bool) -> None:
        self.scene.set_show_params(on)
        self.settings.show_params = on

    def set_theme(self, theme: str) -> None:
        self.settings.theme = theme
        app = QApplication.instance()
        if isinstance(app, QApplication):
            self.kind = apply_theme(app, theme)
        else:
            self.kind = resolve(theme)
        self.scene.colors = canvas_colors(self.kind)
        self.code_view.highlighter.set_kind(self.kind)
        if self._training is not None:
            self._training.set_kind(self.kind)
        self._set_glyphs()
        for item in self.scene.items():
            item.update()
        self.scene.update()

    @Slot()
    def _build_gallery(self):
        from builder.gallery import GalleryDialog

        if self.gallery is None:
            self.gallery = GalleryDialog(self)
            self.gallery.exampleChosen.connect(self.open_example)
        return self.gallery

    @Slot()
    def show_gallery(self):
        """Open the example gallery without blocking (a window-modal sheet)."""
        gallery = self._build_gallery()
        gallery.open()
        return gallery

    def open_example(self, name: str) -> bool:
        from graph.examples import list_examples, load_example

        if not self.files.maybe_save():
            return False
        titles = {i.name: i.title for i in list_examples()}
        self.files.open_document(load_example(name), titles.get(name, name))
        return True

    # --- files dropped on the window ---------------------------------------------------------
    @staticmethod
    def _dropped_file(event) -> str | None:
        mime = event.mimeData()
        if mime is None or not mime.hasUrls():
            return None
        for url in mime.urls():
            if url.isLocalFile() and url.toLocalFile().endswith(".json"):
                return url.toLocalFile()
        return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if self._dropped_file(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        path = self._dropped_file(event)
        if path:
            event.acceptProposedAction()
            self.files.open(path)
        else:
            event.ignore()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt override
        # Project files dragged over the canvas go to the window (the view takes layer drags).
        if event.type() in (QEvent.Type.DragEnter, QEvent.Type.DragMove) and \
                self._dropped_file(event):
            event.acceptProposedAction()
            return True
        if event.type() == QEvent.Type.Drop and self._dropped_file(event):
            self.dropEvent(event)
            return True
        return super().eventFilter(watched, event)

    # --- closing -------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if not self.files.maybe_save():
            event.ignore()
            return
        if self._training is not None:
            self._training.shutdown()  # joins the training thread
        self.target_shapes.close()  # its timer starts no job once the runners are joined
        self.workflows.shutdown()  # joins the workflow jobs' threads
        if self.training_view():  # the next launch opens on the design, its canvas full height
            self.leave_training_view()
        self.settings.save_window_state(self.saveGeometry(), self.saveState())
        self.settings.sync()
        self.autosaver.release()
        event.accept()
