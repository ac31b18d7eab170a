"""The workflow menu entries of the main window and the services the workflow dialogs share.

`WorkflowActions` adds Tools (learning-rate finder, hyperparameter search, transfer learning,
profiling), File → Import PyTorch model… and File → Export → Training script…; it owns every
background `JobRunner` the dialogs create and joins them all in `shutdown` (window close, app
quit).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from builder.training.guard import gui_only
from builder.workflows.ask import Ask
from builder.workflows.jobs import JobRunner
from graph.document import Document


class WorkflowActions(QObject):
    """Menu actions for the textbook workflows, and what their dialogs need from the window."""

    def __init__(self, window: Any, file_menu: QMenu, export_menu: QMenu,
                 ask: Ask | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.controller = window.controller
        self.ask = ask or Ask(window)
        self.runners: list[JobRunner] = []
        self.closed = False  # set by shutdown: no job starts afterwards
        self.lr_finder = None
        self.search = None
        self.transfer = None
        self.importer = None
        self.profiling = None

        self.act_lr_finder = self._action("&Learning-Rate Finder…", self.show_lr_finder,
                                          "Sweep the learning rate and apply the suggestion")
        self.act_search = self._action("Hyperparameter &Search…", self.show_search,
                                       "Search hidden layers, units, lr, batch size, dropout "
                                       "and optimizer with optuna")
        self.act_transfer = self._action("&Transfer Learning…", self.show_transfer,
                                         "Copy layers with weights, freeze them, set per-layer "
                                         "learning rates, fine-tune")
        self.act_profile = self._action("&Profile Layers", self.show_profiling,
                                        "Time each layer's forward and backward pass")
        self.act_import = self._action("&Import PyTorch Model…", self.show_import,
                                       "Trace an nn.Module from a .py file into a new design")
        self.act_script = self._action("&Training Script (train.py)…", self.export_script,
                                       "Write model.py and a train.py that reproduces the run")
        tools = window.menuBar().addMenu("T&ools")
        tools.setObjectName("toolsMenu")
        tools.addActions([self.act_lr_finder, self.act_search])
        tools.addSeparator()
        tools.addActions([self.act_transfer, self.act_profile])
        self.tools_menu = tools
        before = next((a for a in file_menu.actions() if a.menu() is export_menu), None)
        file_menu.insertAction(before, self.act_import)
        export_menu.addSeparator()
        export_menu.addAction(self.act_script)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    def _action(self, text: str, slot: Any, tip: str) -> QAction:
        action = QAction(text, self.window)
        action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())  # not the checked flag
        return action

    # --- services for the dialogs ---------------------------------------------------------------
    def new_runner(self, name: str) -> JobRunner:
        """A background runner that `shutdown` will join."""
        runner = JobRunner(name, self)
        runner.closed = self.closed
        self.runners.append(runner)
        return runner

    def log(self, text: str) -> None:
        self.window.log_view.log(text)

    def message(self, text: str) -> None:
        self.window.show_message(text)

    def project_dir(self) -> str | None:
        path = self.window.files.path
        return str(path.parent) if path is not None else None

    def design_problems(self) -> list[str]:
        return self.window.training.design_problems()

    def trained_state(self) -> dict[str, Any] | None:
        """The design's trained weights (CPU state dict), or None."""
        return self.window.training.trained_state

    def set_trained_state(self, state: dict[str, Any] | None) -> None:
        """Make ``state`` the design's weights (exports use them; Save writes them beside the
        project)."""
        self.window.training.set_weights(state)  # not from a run on this design's data

    def open_as_new_design(self, doc: Document, title: str,
                           state: dict[str, Any] | None = None) -> bool:
        """Open ``doc`` as a new untitled design (asking to save the current one first); data
        paths relative to the current project are made absolute so they still load."""
        if not self.window.files.maybe_save():
            return False
        base = self.project_dir()
        data = doc.section("data")
        if base and data.get("path") and not Path(data["path"]).is_absolute():
            from graph.edits import SetSection

            data["path"] = str(Path(base) / data["path"])
            doc.apply(SetSection("data", data))
        self.window.files.open_document(doc, title, modified=True)
        if state is not None:
            self.set_trained_state(state)
        self.message(f"Opened “{title}” as a new design (not saved yet).")
        return True

    # --- actions --------------------------------------------------------------------------------
    @Slot()
    def show_lr_finder(self) -> Any:
        from builder.workflows.lr_finder_dialog import LRFinderDialog

        if self.lr_finder is None:
            self.lr_finder = LRFinderDialog(self, self.window)
        self.lr_finder.refresh()
        self.lr_finder.show()
        self.lr_finder.raise_()
        return self.lr_finder

    @Slot()
    def show_search(self) -> Any:
        from builder.workflows.search_dialog import SearchDialog

        if self.search is None:
            self.search = SearchDialog(self, self.window)
        self.search.refresh()
        self.search.show()
        self.search.raise_()
        return self.search

    @Slot()
    def show_transfer(self) -> Any:
        from builder.workflows.transfer_dialog import TransferDialog

        if self.transfer is None:
            self.transfer = TransferDialog(self, self.window)
        self.transfer.refresh()
        self.transfer.show()
        self.transfer.raise_()
        return self.transfer

    @Slot()
    def show_profiling(self) -> Any:
        from builder.workflows.profiling_view import ProfilingView

        if self.profiling is None:
            self.profiling = ProfilingView(self)
            self.window.add_panel(self.profiling, "Profiling")
        self.window.bottom_dock.show()
        self.window.bottom_tabs.setCurrentWidget(self.profiling)
        return self.profiling

    @Slot()
    def show_import(self) -> Any:
        from builder.workflows.import_dialog import ImportDialog

        if self.importer is None:
            self.importer = ImportDialog(self, self.window)
        self.importer.show()
        self.importer.raise_()
        return self.importer

    @Slot()
    def export_script(self, folder: str | None = None) -> bool:
        """File → Export → Training script: write model.py and train.py into a folder."""
        from builder.workflows.script_export import export_script

        return export_script(self, folder)

    @Slot()
    @gui_only
    def shutdown(self) -> None:
        """Stop every background job and join its thread (window close, app quit); no job
        starts afterwards."""
        self.closed = True
        for runner in self.runners:
            runner.close()
        if self.profiling is not None:
            self.profiling.shutdown()  # its temporary trace
