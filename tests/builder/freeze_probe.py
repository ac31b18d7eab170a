"""The stall watchdog of test_no_freeze, run in a fresh interpreter (torch not imported yet, as
at a real launch): a 2 ms GUI-thread QTimer records the gaps between its ticks while the app
goes through each phase; prints one JSON line per phase.

    python -m tests.builder.freeze_probe [phase …]

A phase starts from the event loop and ends when its work is done and the app has gone idle
(`SETTLE_MS` without pending work). What is *not* measured, and why: the interpreter's start
and the imports before the window exists, and the window's first paint (the window is not on
screen before it; `bench/bench_canvas.py` measures the time until it is shown, torch loading
meanwhile as the launcher starts it). Everything after — the launch's deferred work, opening an
example, an ONNX export — is.

To add a phase, write ``def phase_x(app, window) -> done`` where ``done()`` says when its work
has finished, and list it in `PHASES`; what it needs set up first, unmeasured (the weights a
project would bring), goes in `PREPARE`.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

TICK_MS = 2
#: A phase ends this long after its work is done, so what it left queued counts too.
SETTLE_MS = 400
PHASE_TIMEOUT_S = 240.0


class Watchdog:
    """Records the gaps between ticks of a 2 ms GUI-thread timer (ms), with when they ended."""

    def __init__(self) -> None:
        self.clock = QElapsedTimer()
        self.clock.start()
        self.ticks: list[float] = []
        self.cpu: list[float] = []  # this process's CPU time (all its threads), ms
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        self.ticks.append(self.clock.nsecsElapsed() / 1e6)
        self.cpu.append(time.process_time() * 1000)

    def run(self, start: Callable[[], Callable[[], bool]]) -> dict:
        """Start the phase from the event loop, wait until it is done and settled."""
        self.ticks = []
        self.cpu = []
        loop = QEventLoop()
        state: dict = {}

        def begin() -> None:
            state["t0"] = time.perf_counter()
            state["done"] = start()
            poll()

        def poll() -> None:
            if time.perf_counter() - state["t0"] > PHASE_TIMEOUT_S:
                state["timeout"] = True
                loop.quit()
            elif state["done"]():
                QTimer.singleShot(SETTLE_MS, loop.quit)
            else:
                QTimer.singleShot(20, poll)

        self.timer.start()
        QTimer.singleShot(TICK_MS * 5, begin)  # a few ticks first: the phase starts in the loop
        loop.exec()
        self.timer.stop()
        gaps = sorted(((b - a, b - self.ticks[0]) for a, b in zip(self.ticks, self.ticks[1:])),
                      reverse=True)
        values = sorted(g for g, _ in gaps)
        # The part of each gap this process was on a CPU (any of its threads): a gap that the
        # app's own work caused (its GUI thread busy, or a thread of it holding the GIL) is on
        # the CPU throughout; the rest is the machine's other processes taking the cores.
        own = sorted(min(b - a, cb - ca) for a, b, ca, cb in
                     zip(self.ticks, self.ticks[1:], self.cpu, self.cpu[1:]))
        return {"max_ms": round(values[-1], 1) if values else None,
                "max_own_ms": round(own[-1], 1) if own else None,
                "load": round(os.getloadavg()[0], 2),
                "p99_ms": round(values[int(0.99 * (len(values) - 1))], 1) if values else None,
                "ticks": len(self.ticks), "seconds": round(time.perf_counter() - state["t0"], 2),
                "worst": [(round(g, 1), round(at)) for g, at in gaps[:5]],
                "timeout": bool(state.get("timeout"))}


class Answers:
    """The app's questions answered without a modal dialog (as the tests' FakeDialogs)."""

    def __init__(self) -> None:
        self.save_answer: str | None = None
        self.errors: list[str] = []

    def save_path(self, suggestion: str = "", title: str = "", file_filter: str = ""):
        return self.save_answer

    def error(self, title: str, text: str) -> None:
        self.errors.append(text)

    def info(self, title: str, text: str) -> None:
        pass

    def unsaved_changes(self, title: str, detail: str = "") -> str:
        return "discard"

    def restore_recovery(self, description: str) -> bool:
        return False

    def open_path(self, folder: str = ""):
        return None

    def design_name(self, suggestion: str = "Model"):
        return suggestion


def _idle(window) -> bool:
    """No deferred work left: warm-up joined, analysis done, panel built and warmed."""
    runner = getattr(window, "_warm_runner", None)
    return (runner is not None and not runner.running() and window.analysis.last is not None
            and not window.analysis._timer.isActive() and window._training is not None
            and window._training_warm and not window.scene.routing_pending)


# --- the phases --------------------------------------------------------------------------------

def phase_launch(app, window) -> Callable[[], bool]:
    """What follows the first paint of a launch: startup (recovery, gallery), loading torch,
    the first analysis, building and warming the training panel."""
    window.startup(None)
    return lambda: _idle(window) and time.perf_counter() - _STARTED[0] > 1.0


def phase_first_example(app, window) -> Callable[[], bool]:
    """Opening the first example (the CNN: the heaviest first analysis) from the gallery."""
    if window.gallery is not None and window.gallery.isVisible():
        window.gallery.choose("cnn_residual")
    else:
        window.open_example("cnn_residual")
    before = window.analysis.last
    return lambda: window.analysis.last is not before and _idle(window)


def phase_onnx_export(app, window) -> Callable[[], bool]:
    """File ▸ Export ▸ ONNX of the open design (the first: its libraries load too)."""
    out = Path(_FOLDER[0]) / "model.onnx"
    window.dialogs.save_answer = str(out)
    window.act_exports["onnx"].trigger()
    runner = window._export_runner()
    return lambda: not runner.running() and (out.exists() or window.dialogs.errors)


def prepare_first_evaluation(app, window) -> None:
    """Unmeasured: the design gets weights, as an opened project's or a restored run's (the
    state of a freshly compiled module), and the training tab is shown."""
    from backend.model.compiler import compile_document

    if not window.controller.doc.outputs():
        window.open_example("mlp_digits")
    panel = window.training
    module = compile_document(window.controller.doc).module
    panel.set_weights({k: v.detach().clone() for k, v in module.state_dict().items()})
    window.show_training()
    _wait(app, lambda: _idle(window), 60)


def phase_first_evaluation(app, window) -> Callable[[], bool]:
    """The Evaluation tab opened for the first time (its view is built) and Evaluate pressed:
    the model is built from the current weights in the background, then evaluated."""
    panel = window.training
    panel.views.setCurrentIndex(panel._EVALUATION_TAB)
    view = panel.evaluation
    view.evaluate_now()
    return lambda: not view.building() and view.evaluated is not None and _idle(window)


def _wait(app, done: Callable[[], bool], seconds: float) -> None:
    """Run the event loop until ``done()`` (checked every 20 ms) or ``seconds`` have passed."""
    end = time.perf_counter() + seconds
    loop = QEventLoop()

    def poll() -> None:
        if done() or time.perf_counter() >= end:
            loop.quit()
        else:
            QTimer.singleShot(20, poll)

    QTimer.singleShot(0, poll)
    loop.exec()
    QTest.qWait(SETTLE_MS)


PHASES: dict[str, Callable] = {
    "launch": phase_launch,
    "first example": phase_first_example,
    "ONNX export": phase_onnx_export,
    "first evaluation": phase_first_evaluation,
}
#: Set-up before a phase, not measured.
PREPARE: dict[str, Callable] = {"first evaluation": prepare_first_evaluation}
_STARTED = [0.0]
_FOLDER = [""]


def main(names: list[str]) -> int:
    from builder.warmup import let_torch_load, start_loading_torch

    start_loading_torch()  # as the launcher does, before the app and its window are built
    app = QApplication.instance() or QApplication([])
    from builder.main_window import MainWindow
    from builder.settings import AppSettings
    from builder.theme import apply_theme

    with tempfile.TemporaryDirectory() as folder:
        _FOLDER[0] = folder
        settings = AppSettings(Path(folder) / "settings.ini")  # a first launch: the gallery
        apply_theme(app, settings.theme)
        window = MainWindow(settings=settings, dialogs=Answers(),
                            recovery_dir=Path(folder) / "recovery")
        window.resize(1400, 900)
        let_torch_load()  # as run_app does
        window.show()
        QTest.qWaitForWindowExposed(window)
        app.processEvents()  # the first paint: the window is on screen from here on
        watchdog = Watchdog()
        _STARTED[0] = time.perf_counter()
        for name in names or list(PHASES):
            if name in PREPARE:
                PREPARE[name](app, window)
            result = watchdog.run(lambda n=name: PHASES[n](app, window))
            result["phase"] = name
            result["errors"] = list(window.dialogs.errors)
            print("PHASE " + json.dumps(result), flush=True)
        window.controller.stack.setClean()
        window.close()
        app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
