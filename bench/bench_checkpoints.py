"""Checkpoint overhead: the Trainer recording its run (history, per-batch loss, best weights and
a checkpoint at every epoch's end, as `backend.runs.writer.RunWriter` does in the app and the
CLI) against the same Trainer with no recording, in one run.

bench_trainer's set-up: a 784-300-100-10 MLP on 60,000×784 random data, batch 128, SGD. Each
measurement trains ``--epochs`` epochs; the two kinds alternate (ABBA, so neither always runs
first) and repeat. Prints the median seconds of each, the ratio of the medians (goal: ≤ 1.02)
and the median of the per-round ratios, the share of each recorded run spent in the recording
callback (the same run's own clock: what recording takes from the training thread), and what
one checkpoint costs.

    python bench/bench_checkpoints.py [--repeats 6] [--epochs 3] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
from bench_trainer import BATCH, CLASSES, FEATURES, LR, N, make_model  # noqa: E402

from backend.data.prepare import OutputSpec, OutputTarget, PreparedData, SplitData  # noqa: E402
from backend.runs.files import HISTORY  # noqa: E402
from backend.runs.store import create_run_folder  # noqa: E402
from backend.runs.writer import recording  # noqa: E402
from backend.training.trainer import Trainer  # noqa: E402
from graph.document import Document  # noqa: E402

#: Per recorded run: the share of its time spent in the recording callback.
SHARES: list[float] = []


def _trainer(x: torch.Tensor, y: torch.Tensor, epochs: int) -> Trainer:
    empty = SplitData([x[:0]], [y[:0]], [y[:0]])
    info = OutputTarget("y", "label", "index", tuple(str(i) for i in range(CLASSES)),
                        metric="accuracy")
    data = PreparedData(SplitData([x], [y], [y]), empty, empty, ["x"], [info], "random")
    return Trainer(make_model(torch.device("cpu")), data,
                   {"epochs": epochs, "batch_size": BATCH, "optimizer": "sgd", "lr": LR,
                    "device": "cpu"},
                   inputs=["x"], outputs=[OutputSpec("y", "cross_entropy", metric="accuracy")])


def plain(x: torch.Tensor, y: torch.Tensor, epochs: int) -> tuple[float, int, float]:
    events: list = []
    trainer = _trainer(x, y, epochs)
    t0 = time.perf_counter()
    result = trainer.run(events.append)
    elapsed = time.perf_counter() - t0
    assert result.reason == "completed", result
    return elapsed, 0, 0.0


def recorded(x: torch.Tensor, y: torch.Tensor, epochs: int) -> tuple[float, int, float]:
    trainer = _trainer(x, y, epochs)
    with tempfile.TemporaryDirectory(prefix="netcanvas-bench-") as tmp:
        folder = Path(tmp) / "run"
        create_run_folder(folder, Document("Bench"), {"dataset": "random"},
                          {"epochs": epochs})
        events: list = []
        callback = recording(trainer, folder, events.append, every_epoch=True)
        writer = callback.writer
        costs: list[float] = []
        save = writer._checkpoint

        def timed(*args, **kwargs):  # what each checkpoint takes (written by the writer)
            t = time.perf_counter()
            save(*args, **kwargs)
            costs.append(time.perf_counter() - t)

        writer._checkpoint = timed
        inside = [0.0]

        def measured(event):  # all the time the recording takes on the training thread
            t = time.perf_counter()
            callback(event)
            inside[0] += time.perf_counter() - t

        t0 = time.perf_counter()
        result = trainer.run(measured)
        elapsed = time.perf_counter() - t0
        assert result.reason == "completed", result
        assert (folder / HISTORY).exists() and writer._checkpoints >= epochs
        SHARES.append(inside[0] / elapsed)
        return elapsed, writer._checkpoints, statistics.median(costs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(N, FEATURES, generator=gen)
    y = torch.randint(0, CLASSES, (N,), generator=gen)
    plain(x[:2048], y[:2048], 1)  # first-call costs
    recorded(x[:2048], y[:2048], 1)
    runs = {"no recording": plain, "checkpoint every epoch": recorded}
    times: dict[str, list[float]] = {name: [] for name in runs}
    checkpoints, costs = 0, []
    for r in range(args.repeats):
        order = list(runs) if r % 2 == 0 else list(runs)[::-1]
        for name in order:
            elapsed, n, cost = runs[name](x, y, args.epochs)
            times[name].append(elapsed)
            if n:
                checkpoints, costs = n, costs + [cost]
    base = times["no recording"]
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, {args.repeats} "
          f"alternating repeats of {args.epochs} epochs ({N // BATCH + 1} steps each)")
    for name, values in times.items():
        med = statistics.median(values)
        paired = statistics.median(v / b for v, b in zip(values, base))
        print(f"{name:>22}: median {med:.3f} s  (min {min(values):.3f}, max {max(values):.3f})"
              f"  ratio {med / statistics.median(base):.4f}  (median of the per-round ratios "
              f"{paired:.4f})")
    print(f"time in the recording callback (history, checkpoints, best weights) per recorded "
          f"run: median {statistics.median(SHARES[1:]) * 100:.2f} % of its time (max "
          f"{max(SHARES[1:]) * 100:.2f} %)")
    print(f"{checkpoints} checkpoints per run (the start, each epoch's end); one checkpoint "
          f"(history, best weights, model and optimizer state, pointer, record; fsync'd) takes "
          f"{statistics.median(costs) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
