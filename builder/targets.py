"""What the design's data say each Output predicts, known in the background.

The editor sizes a new output head from it (`builder.insertion.suggest_params`): a Dense
feeding an Output gets one unit per class of a classification target, or the width of a
regression target. Loading a data set can take a second (scikit-learn's import, a file), so it
is done by a background job after the data settings change; until it has finished, nothing is
known and the catalogue's defaults are used.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from builder.insertion import TargetShape
from builder.training.guard import gui_only
from graph import events as ev

#: Coalesce bursts of data-setting edits into one load.
RELOAD_MS = 400


def read_target_shapes(data: dict[str, Any], outputs: list[str], base_dir: str | None
                       ) -> dict[str | None, TargetShape]:
    """Load the data set of a ``data`` section and describe each Output's target (key None:
    the data's default target, what an Output without a mapping gets). Runs off the GUI
    thread; never downloads."""
    return read_data(data, outputs, base_dir)[0]


def read_data(data: dict[str, Any], outputs: list[str], base_dir: str | None
              ) -> tuple[dict[str | None, TargetShape], Any]:
    """`read_target_shapes` and the data set's facts (`backend.data.columns.DataFacts`: its
    columns and targets, for the settings form's column picker), from one load."""
    from backend.data.columns import describe
    from backend.data.config import DataConfig
    from backend.data.load import load_dataset

    cfg = DataConfig.from_dict(data)
    ds = load_dataset(cfg, base_dir, download=False)
    return _shapes(ds, cfg, outputs), describe(ds)


def _shapes(ds: Any, cfg: Any, outputs: list[str]) -> dict[str | None, TargetShape]:
    shapes: dict[str | None, TargetShape] = {}
    for name in [None, *outputs]:
        key = cfg.targets.get(name, {}).get("target") if name is not None else None
        target = ds.target(key)
        values = target.values
        width = 1 if values.dim() == 1 else int(values.reshape(len(values), -1).shape[1])
        shapes[name] = TargetShape(target.num_classes if target.is_classes else None, width)
    return shapes


class TargetShapes(QObject):
    """Keeps `shapes` and `facts` in step with the controller's document; `lookup` is what the
    controller's ``targets`` hook calls."""

    #: `facts` (or `error`) changed: the data set's columns and targets, or why they are unknown.
    factsChanged = Signal()

    def __init__(self, controller: Any, runner: Any, base_dir: Any = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.runner = runner  # a builder.workflows.jobs.JobRunner
        self.base_dir = base_dir or (lambda: None)
        self.shapes: dict[str | None, TargetShape] = {}
        #: The loaded data set's `DataFacts`, None while unknown (loading, or not loadable).
        self.facts: Any = None
        #: Why the data cannot be loaded ("" when they can, or while loading).
        self.error = ""
        self._facts_key = ""  # the data set (`_data_set`) the facts describe
        self.enabled = False
        self._closed = False
        self._data_key = ""
        self._pending = ""
        self._unsubscribe = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(RELOAD_MS)
        self._timer.timeout.connect(self.reload)
        runner.finished.connect(self._loaded)
        runner.failed.connect(self._failed)
        controller.documentReplaced.connect(self._document_replaced)
        self._document_replaced()

    def lookup(self, output_name: str | None) -> TargetShape | None:
        if output_name is not None and output_name not in self.shapes:
            output_name = None  # an Output the data settings do not map: the default target
        return self.shapes.get(output_name)

    def start(self) -> None:
        """Begin loading (once the heavy imports are done: the app's warm-up calls this)."""
        if self._closed:
            return
        self.enabled = True
        self._timer.start(0)

    def close(self) -> None:
        """The window closes: load nothing more (its runner is being joined)."""
        self._closed = True
        self.enabled = False
        self._timer.stop()

    @Slot()
    @gui_only
    def _document_replaced(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._unsubscribe = self.controller.doc.subscribe(self._on_event)
        self.shapes = {}
        self._data_key = ""
        self._set_facts(None, "")
        if self.enabled:
            self._timer.start()

    def _set_facts(self, facts: Any, error: str) -> None:
        if facts is not self.facts or error != self.error:
            self.facts, self.error = facts, error
            self.factsChanged.emit()

    def _on_event(self, event: ev.Event) -> None:
        if isinstance(event, ev.SectionChanged) and event.section == "data" and self.enabled:
            self._timer.start()

    @Slot()
    @gui_only
    def reload(self) -> bool:
        """Load the data in the background unless they are the ones already described."""
        if not self.enabled:
            return False
        doc = self.controller.doc
        data = doc.section("data")
        key = json.dumps(data, sort_keys=True, default=str)
        if key == self._data_key:
            return False
        if self.runner.running():
            self._timer.start()  # the previous load first
            return False
        outputs = [doc.attr(n, "name") for n in doc.outputs()]
        base = self.base_dir()
        base = str(base) if base else None
        self._pending = key
        if self.facts is not None and self._facts_key != _data_set(data):
            self._set_facts(None, "")  # another data set: its columns are being read
        return self.runner.start(lambda report, control: (key, *read_data(
            data, outputs, base)))

    @Slot(object)
    @gui_only
    def _loaded(self, result: Any) -> None:
        key, shapes, facts = result
        current = json.dumps(self.controller.doc.section("data"), sort_keys=True, default=str)
        if key != current:  # the settings changed meanwhile: load again
            self._timer.start()
            return
        self._data_key = key
        self.shapes = shapes
        self._facts_key = _data_set(self.controller.doc.section("data"))
        self._set_facts(facts, "")

    @Slot(str)
    @gui_only
    def _failed(self, message: str) -> None:
        self.shapes = {}  # data that cannot be loaded say nothing about sizes
        self._data_key = self._pending  # not again until the settings change
        self._set_facts(None, message)


def _data_set(data: dict[str, Any]) -> str:
    """What decides a data set's columns: its kind, file and reader options (not the split or
    the mapping)."""
    return json.dumps([data.get("dataset", "iris"), data.get("path", ""),
                       data.get("options", {})], sort_keys=True, default=str)
