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

from PySide6.QtCore import QObject, QTimer, Slot

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
    from backend.data.config import DataConfig
    from backend.data.load import load_dataset

    cfg = DataConfig.from_dict(data)
    ds = load_dataset(cfg, base_dir, download=False)
    shapes: dict[str | None, TargetShape] = {}
    for name in [None, *outputs]:
        key = cfg.targets.get(name, {}).get("target") if name is not None else None
        target = ds.target(key)
        values = target.values
        width = 1 if values.dim() == 1 else int(values.reshape(len(values), -1).shape[1])
        shapes[name] = TargetShape(target.num_classes if target.is_classes else None, width)
    return shapes


class TargetShapes(QObject):
    """Keeps `shapes` in step with the controller's document; `lookup` is what the controller's
    ``targets`` hook calls."""

    def __init__(self, controller: Any, runner: Any, base_dir: Any = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.runner = runner  # a builder.workflows.jobs.JobRunner
        self.base_dir = base_dir or (lambda: None)
        self.shapes: dict[str | None, TargetShape] = {}
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
        if self.enabled:
            self._timer.start()

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
        return self.runner.start(lambda report, control: (key, read_target_shapes(
            data, outputs, base)))

    @Slot(object)
    @gui_only
    def _loaded(self, result: Any) -> None:
        key, shapes = result
        current = json.dumps(self.controller.doc.section("data"), sort_keys=True, default=str)
        if key != current:  # the settings changed meanwhile: load again
            self._timer.start()
            return
        self._data_key = key
        self.shapes = shapes

    @Slot(str)
    @gui_only
    def _failed(self, message: str) -> None:
        self.shapes = {}  # data that cannot be loaded say nothing about sizes
        self._data_key = self._pending  # not again until the settings change

