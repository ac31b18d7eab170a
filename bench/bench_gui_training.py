"""GUI responsiveness while the 784-300-100-10 MLP trains in the background (the training panel).

A 2 ms QTimer on the GUI thread records the event-loop gaps while the full main window trains
(live plots at 30 Hz); prints p99 and max gap (goals: p99 ≤ 10 ms, max ≤ 50 ms). Prints the
training throughput with the GUI attached vs the headless Trainer in the same process, same
data, same settings and the same torch thread count (goal ≥ 0.95), and the time to redraw a
1,000,000-point curve (goal ≤ 16 ms).

    python bench/bench_gui_training.py [--samples 20000] [--epochs 3] [--batch 64]
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
    nv = n // 10
    info = OutputTarget("digit", "label", "index", tuple(str(i) for i in range(CLASSES)),
                        metric="accuracy")

    def split(a: int, b: int) -> SplitData:
        return SplitData([x[a:b]], [y[a:b]], [y[a:b]])

    return PreparedData(split(nv, n), split(0, nv), split(0, 0), ["image"], [info], "random")


def headless(doc, data, config: dict, threads: int) -> float:
    """Samples per second of the Trainer without Qt (same thread count as the worker)."""
    import torch

    from backend.training import Trainer

    torch.set_num_threads(threads)
    start = {}
    trainer = Trainer(doc, data=data, config=config)
    result = trainer.run(lambda ev: start.setdefault("t", time.perf_counter())
                         if type(ev).__name__ == "Started" else None)
    seconds = time.perf_counter() - start["t"]
    assert type(result).__name__ == "Finished", result
    return len(data.train) * config["epochs"] / seconds


def gui_run(app, window, data, config: dict) -> tuple[float, list[float]]:
    """Train through the panel; return (samples per second, event-loop gaps in ms)."""
    panel = window.training
    panel.run_data = data
    panel.run_overrides = config
    ticks: list[int] = []
    clock = QElapsedTimer()
    clock.start()
    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.setInterval(2)
    probe.timeout.connect(lambda: ticks.append(clock.nsecsElapsed()))
    done = []
    loop = QEventLoop()
    panel.session.runDone.connect(done.append)
    panel.session.runDone.connect(loop.quit)
    probe.start()
    assert window.run_training()
    loop.exec()  # the event loop runs as in the app, until the run is joined
    probe.stop()
    panel.session.runDone.disconnect(loop.quit)
    outcome = done[0]
    assert type(outcome.result).__name__ == "Finished", outcome.result
    gaps = list(np.diff(np.array(ticks, dtype=np.float64)) / 1e6)
    return len(data.train) * config["epochs"] / outcome.seconds, gaps


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
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])

    import torch

    from builder.main_window import MainWindow
    from builder.settings import AppSettings
    from builder.training.worker import default_threads
    from graph.examples import load_example

    threads = default_threads()
    config = {"epochs": args.epochs, "batch_size": args.batch, "optimizer": "sgd", "lr": 0.01,
              "device": "cpu"}
    data = random_data(args.samples)
    doc = load_example("mlp_mnist")
    print(f"784-300-100-10 MLP, {len(data.train)} random samples, batch {args.batch}, "
          f"{args.epochs} epochs, torch {torch.__version__}, {threads} worker thread(s), "
          f"{os.cpu_count()} cores")
    headless(doc, data, dict(config, epochs=1), threads)  # warm-up
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(settings=AppSettings(Path(tmp) / "b.ini"),
                            recovery_dir=Path(tmp) / "rec")
        window.resize(1400, 900)
        window.show()
        window.open_example("mlp_mnist")
        app.processEvents()
        rates_gui, rates_head, all_gaps = [], [], []
        for _ in range(2):  # interleaved: GUI, headless, GUI, headless
            rate, gaps = gui_run(app, window, data, config)
            rates_gui.append(rate)
            all_gaps += gaps
            rates_head.append(headless(doc, data, config, threads))
        window.training.shutdown()
        window.controller.stack.setClean()
        window.close()
    gaps = np.array(all_gaps)
    p99, worst = float(np.percentile(gaps, 99)), float(gaps.max())
    gui, head = statistics.median(rates_gui), statistics.median(rates_head)
    print(f"event-loop gaps (2 ms timer, {len(gaps)} ticks): median {np.median(gaps):.2f} ms, "
          f"p99 {p99:.2f} ms (goal ≤ 10), max {worst:.2f} ms (goal ≤ 50)")
    print(f"throughput: GUI attached {gui:,.0f} samples/s, headless Trainer {head:,.0f} "
          f"samples/s, ratio {gui / head:.3f} (goal ≥ 0.95)")
    ms = redraw_million(app)
    print(f"1,000,000-point curve: setData + repaint {ms:.2f} ms (goal ≤ 16)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
