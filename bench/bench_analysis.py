"""Shape inference + code generation of a 200-node graph (goal ≤ 100 ms), cold and warm.

"cold" empties the per-layer cache first (every layer is built and run on the meta device);
"warm" re-analyses an unchanged design, as the editor does after a move or a rename. PyTorch's
one-time set-up of the meta device (paid once per process) is reported separately.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.model.codegen import generate  # noqa: E402
from backend.model.shapes import analyse, clear_cache  # noqa: E402
from graph import Sketch  # noqa: E402

GOAL_S = 0.100


def design(n_nodes: int = 200, seed_units: int = 0):
    """A 200-node design: Dense/Dropout chains with residual Adds and a Concatenate."""
    s = Sketch("Big")
    x = s.add("Input", shape=(64,))
    prev, skips = x, []
    i = 0
    while len(s.doc) < n_nodes - 4:
        if i % 10 == 9 and skips:
            prev = s.add("Add", prev, skips.pop())
        elif i % 3 == 0:
            prev = s.add("Dense", prev, units=64 + seed_units + (i % 4), activation="relu")
            prev = s.add("Dense", prev, units=64, activation="tanh")
            skips.append(prev)
        else:
            prev = s.add("Dropout", prev, p=0.1)
        i += 1
    while len(s.doc) < n_nodes - 3:
        prev = s.add("Dropout", prev, p=0.1)
    cat = s.add("Concatenate", prev, x)
    s.add("Output", s.add("Dense", cat, units=10, activation="softmax"), loss="cross_entropy")
    return s.doc


def once(doc) -> float:
    t0 = time.perf_counter()
    analysis = analyse(doc)
    generate(doc, analysis)
    return time.perf_counter() - t0


def main() -> None:
    doc = design()
    print(f"nodes: {len(doc)}, edges: {len(doc.edges())}")
    t0 = time.perf_counter()
    analyse(design(20, seed_units=1000))
    print(f"first analysis in this process (PyTorch meta set-up, 20 nodes): "
          f"{(time.perf_counter() - t0) * 1e3:.1f} ms")
    cold, warm = [], []
    for _ in range(15):
        clear_cache()
        cold.append(once(doc))
        warm.append(min(once(doc) for _ in range(3)))
    c, w = statistics.median(cold), statistics.median(warm)
    print(f"cold (empty layer cache): median {c * 1e3:.1f} ms")
    print(f"warm (cached layers):     median {w * 1e3:.1f} ms")
    print(f"ratio cold/goal: {c / GOAL_S:.2f}, warm/goal: {w / GOAL_S:.2f} (goal 100 ms, ≤ 1.00)")


if __name__ == "__main__":
    main()
