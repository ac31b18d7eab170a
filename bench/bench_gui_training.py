"""GUI responsiveness while the 784-300-100-10 MLP trains in the background (the training panel).

A 2 ms QTimer on the GUI thread records the event-loop gaps while the full main window trains
(live plots), from just before Run is pressed (from the event loop, 3 s after the design was
opened, so the app has gone idle as it has when a person presses Run) until 300 ms after the run
was joined and its results shown; prints p99 and max gap (goals: p99 ≤ 10 ms, max ≤ 50 ms) and,
with ``--gaps N``, the N longest gaps with when they happened and how much of them the GUI thread
spent on the CPU (the rest is waiting: for the GIL, or for a core the machine's load took).

By default the app trains in its persistent training process (started and warmed before the
measurement, as the app does when the training panel is first shown); the headless baseline is
the Trainer in this process with the same torch thread count as that child. With
``NETCANVAS_TRAIN_IN_PROCESS=0`` the app trains in its worker thread instead (the fallback).
Prints the training throughput with the GUI attached vs headless, same data and settings
(goal ≥ 0.95), and the time to redraw a 1,000,000-point curve (goal ≤ 16 ms). The machine's
load average matters on 2 cores: report it with the figures.

    python bench/bench_gui_training.py [--samples 20000] [--epochs 3] [--batch 64] [--gaps 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("NETCANVAS_NO_GALLERY", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

CLASSES = 10


def random_data(n: int):
    """Random 28×28 images and labels, prepared for the mlp_mnist design (no files needed)."""
    import torch

    from backend.data.prepare import OutputTarget, PreparedData, SplitData

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n, 28, 28, generator=gen)
    y = torch.randint(0, CLASSES, (n,), generator=gen)
    # The app sends no data to its training process (the child loads the data set the design
    # names); these tensors travel as shared memory, moved there now rather than inside the
    # press of Run (copying 56 MB there held the GUI thread ~20 ms in the first run only).
    x.share_memory_()
    y.share_memory_()
    nv = n // 10
    info = OutputTarget("digit", "label", "index", tuple(str(i) for i in range(CLASSES)),
                        metric="accuracy")

    def split(a: int, b: int) -> SplitData:
        return SplitData([x[a:b]], [y[a:b]], [y[a:b]])

    return PreparedData(split(nv, n), split(0, nv), split(0, 0), ["image"], [info], "random")


def headless(doc, data, config: dict, threads: int) -> float:
    """Samples per second of the Trainer without Qt (same thread count as the worker)."""
    import torch

    from backend.training.trainer import Trainer

    torch.set_num_threads(threads)
    start = {}
    trainer = Trainer(doc, data=data, config=config)
    result = trainer.run(lambda ev: start.setdefault("t", time.perf_counter())
                         if type(ev).__name__ == "Started" else None)
    seconds = time.perf_counter() - start["t"]
    assert type(result).__name__ == "Finished", result
    return len(data.train) * config["epochs"] / seconds


#: The probe keeps ticking this long after the run was joined: the results are shown then.
TAIL_MS = 300


def gui_run(app, window, data, config: dict) -> tuple[float, list[float], list[tuple]]:
    """Train through the panel; return (samples per second, event-loop gaps in ms, the gaps as
    (ms, ms after Run was pressed, GUI-thread CPU ms during the gap)).

    Run is pressed from the event loop once the probe ticks, and the probe goes on for
    `TAIL_MS` after the run was joined, so starting the run and showing its results count."""
    panel = window.training
    panel.run_data = data
    panel.run_overrides = config
    ticks: list[int] = []
    cpu: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.setInterval(2)

    def tick() -> None:
        ticks.append(clock.nsecsElapsed())
        cpu.append(time.thread_time())

    probe.timeout.connect(tick)
    done: list = []
    pressed: list[int] = []
    loop = QEventLoop()

    def press() -> None:
        pressed.append(clock.nsecsElapsed())
        assert window.run_training()

    def joined(outcome) -> None:
        done.append(outcome)
        QTimer.singleShot(TAIL_MS, loop.quit)

    panel.session.runDone.connect(joined)
    probe.start()
    QTimer.singleShot(50, press)
    loop.exec()  # the event loop runs as in the app, until the run is joined and shown
    probe.stop()
    panel.session.runDone.disconnect(joined)
    outcome = done[0]
    assert type(outcome.result).__name__ == "Finished", outcome.result
    t = np.array(ticks, dtype=np.float64) / 1e6
    gaps = np.diff(t)
    where = [(float(g), float(t[i] - pressed[0] / 1e6), (cpu[i + 1] - cpu[i]) * 1000)
             for i, g in enumerate(gaps)]
    return len(data.train) * config["epochs"] / outcome.seconds, list(gaps), where


def redraw_million(app) -> float:
    """Median ms to feed and repaint a 1,000,000-point batch-loss curve."""
    from builder.training.history import RunRecord
    from builder.training.plots import TrainingPlots

    plots = TrainingPlots()
    plots.resize(1200, 700)
    plots.show()
    run = RunRecord(1, "big", {}, {})
    c = run.output("y")
    n = 1_000_000
    steps = np.arange(n, dtype=np.float64)
    noise = np.random.default_rng(0).random(n)
    c.steps.extend(steps)
    c.batch_loss.extend(np.exp(-steps / 2e5) + 0.1 * noise)
    c.smooth_loss.extend(np.exp(-steps / 2e5))
    plots.begin_run(run, ["y"])
    times = []
    for _ in range(7):
        run.dirty = True
        t0 = time.perf_counter()
        plots.refresh()
        plots.graphics.repaint()
        times.append((time.perf_counter() - t0) * 1000)
    plots.end_run()
    plots.close()
    return statistics.median(times[1:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--gaps", type=int, default=0,
                        help="also list the N longest gaps: when (after Run) and how much of "
                             "them the GUI thread spent on its CPU (the rest: waiting)")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])

    import torch

    from builder.main_window import MainWindow
    from builder.settings import AppSettings
    from builder.training.worker import default_threads, training_server
    from graph.examples import load_example

    threads = default_threads()
    server = training_server()  # None: the run trains in the worker thread (the fallback)
    if server is not None:
        server.wait_ready()  # the app pre-warms it when the training panel is first shown
    config = {"epochs": args.epochs, "batch_size": args.batch, "optimizer": "sgd", "lr": 0.01,
              "device": "cpu"}
    data = random_data(args.samples)
    doc = load_example("mlp_mnist")
    print(f"load average {os.getloadavg()[0]:.2f}; 784-300-100-10 MLP, {len(data.train)} random samples, batch {args.batch}, "
          f"{args.epochs} epochs, torch {torch.__version__}, {threads} training thread(s), "
          f"{os.cpu_count()} cores, training in "
          f"{'the training process' if server else 'the worker thread'}")
    headless(doc, data, dict(config, epochs=1), threads)  # warm-up
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(settings=AppSettings(Path(tmp) / "b.ini"),
                            recovery_dir=Path(tmp) / "rec")
        window.resize(1400, 900)
        window.show()
        window.startup(None)  # as run_app does once the window is shown
        window.open_example("mlp_mnist")
        # A person reads the design before pressing Run: let the app go idle first (analysis
        # done, training panel warmed up), as it would be by the time a hand reaches Ctrl+R.
        idle = QEventLoop()
        QTimer.singleShot(3000, idle.quit)
        idle.exec()
        rates_gui, rates_head, all_gaps, where = [], [], [], []
        for number in range(2):  # interleaved: GUI, headless, GUI, headless
            rate, gaps, at = gui_run(app, window, data, config)
            rates_gui.append(rate)
            all_gaps += gaps
            where += [(*w, number + 1) for w in at]
            rates_head.append(headless(doc, data, config, threads))
        window.training.shutdown()
        window.controller.stack.setClean()
        window.files.runs.discard()  # the benchmark's runs are not kept (no question asked)
        window.close()
    if server is not None:
        server.shutdown()
    gaps = np.array(all_gaps)
    p99, worst = float(np.percentile(gaps, 99)), float(gaps.max())
    gui, head = statistics.median(rates_gui), statistics.median(rates_head)
    print(f"event-loop gaps (2 ms timer, {len(gaps)} ticks): median {np.median(gaps):.2f} ms, "
          f"p99 {p99:.2f} ms (goal ≤ 10), max {worst:.2f} ms (goal ≤ 50)")
    print(f"throughput: GUI attached {gui:,.0f} samples/s, headless Trainer {head:,.0f} "
          f"samples/s, ratio {gui / head:.3f} (goal ≥ 0.95)")
    for gap, after, cpu, number in sorted(where, reverse=True)[:args.gaps]:
        print(f"  gap {gap:6.1f} ms in run {number}, {after:7.0f} ms after Run, "
              f"GUI thread on CPU {cpu:5.1f} ms")
    ms = redraw_million(app)
    print(f"1,000,000-point curve: setData + repaint {ms:.2f} ms (goal ≤ 16)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
