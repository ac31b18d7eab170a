"""The classic MLP on digits with the textbook's settings, under PyTorch's and Keras's
initializer defaults (issue 10, item 4): validation accuracy after the run, per training seed.

    python bench/bench_textbook_defaults.py [--seeds 3]

The design is the gallery's ``mlp_digits`` (Flatten → Dense 300 relu → Dense 100 relu →
Dense 10 softmax, cross-entropy); the settings are Géron's (plain SGD, lr 0.01, 30 epochs,
batch 32); the data split is the example's (seed 0). PyTorch's defaults are the baseline.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.training.events import EpochEnd  # noqa: E402
from backend.training.trainer import Trainer  # noqa: E402
from graph.edits import SetSection  # noqa: E402
from graph.examples import load_example  # noqa: E402

BOOK = {"epochs": 30, "batch_size": 32, "optimizer": "sgd", "lr": 0.01, "momentum": 0.0,
        "device": "cpu", "threads": 1}


def accuracy(initializers: str, seed: int) -> float:
    doc = load_example("mlp_digits")
    doc.apply(SetSection("model", {"initializers": initializers}))
    events: list = []
    Trainer(doc, config={**BOOK, "seed": seed}).run(events.append)
    last = [e for e in events if isinstance(e, EpochEnd)][-1]
    return float(last.validation["digit"]["accuracy"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[float]] = {"pytorch": [], "keras": []}
    for seed in range(args.seeds):
        for init in results:
            results[init].append(accuracy(init, seed))
        print(f"seed {seed}: pytorch {results['pytorch'][-1]:.4f}  "
              f"keras {results['keras'][-1]:.4f}", flush=True)
    p, k = statistics.median(results["pytorch"]), statistics.median(results["keras"])
    print(f"median validation accuracy: pytorch {p:.4f}, keras {k:.4f}; "
          f"ratio keras/pytorch {k / p:.3f}")


if __name__ == "__main__":
    main()
