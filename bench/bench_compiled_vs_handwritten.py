"""Training step of the compiled 784-300-100-10 MLP vs the same model written by hand.

One step = zero_grad + forward + cross-entropy + backward + SGD step, batch 128, CPU. Runs are
interleaved (AB BA AB…) and compared two ways: ratio of the medians, and the median of per-round
ratios (robust to load from other processes drifting over the run).
Goal: ratio compiled / handwritten ≤ 1.02.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from backend.model.compiler import compile_document  # noqa: E402
from graph import Sketch  # noqa: E402


class HandwrittenMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden1 = nn.Linear(784, 300)
        self.hidden2 = nn.Linear(300, 100)
        self.logits = nn.Linear(100, 10)

    def forward(self, x):
        x = torch.relu(self.hidden1(x))
        x = torch.relu(self.hidden2(x))
        return self.logits(x)


def compiled_mlp() -> nn.Module:
    s = Sketch("SeedMLP")
    x = s.add("Input", shape=(784,), name="image")
    h1 = s.add("Dense", x, units=300, activation="relu", name="hidden1")
    h2 = s.add("Dense", h1, units=100, activation="relu", name="hidden2")
    out = s.add("Dense", h2, units=10, activation="softmax", name="logits")
    s.add("Output", out, loss="cross_entropy", name="digit")
    return compile_document(s.doc).module


def steps(model: nn.Module, opt: torch.optim.Optimizer, x, y, n: int) -> float:
    loss_fn = nn.CrossEntropyLoss()
    t0 = time.perf_counter()
    for _ in range(n):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return (time.perf_counter() - t0) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    compiled = compiled_mlp()
    hand = HandwrittenMLP()
    hand.load_state_dict(compiled.state_dict())
    x = torch.randn(128, 784)
    y = torch.randint(0, 10, (128,))
    opts = {m: torch.optim.SGD(m.parameters(), lr=0.01) for m in (compiled, hand)}
    for m in (compiled, hand):  # warm-up
        steps(m, opts[m], x, y, 10)
    times: dict[str, list[float]] = {"compiled": [], "handwritten": []}
    for r in range(args.rounds):
        order = [("compiled", compiled), ("handwritten", hand)]
        for name, m in (order if r % 2 == 0 else order[::-1]):
            times[name].append(steps(m, opts[m], x, y, args.steps))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"threads={args.threads} batch=128 rounds={args.rounds} steps/round={args.steps}")
    for k in ("compiled", "handwritten"):
        print(f"{k:12s} median {med[k] * 1e3:.3f} ms/step")
    paired = statistics.median(c / h for c, h in zip(times["compiled"], times["handwritten"]))
    print(f"ratio of medians compiled/handwritten: {med['compiled'] / med['handwritten']:.3f}")
    print(f"median of paired per-round ratios:     {paired:.3f} (goal ≤ 1.02)")


if __name__ == "__main__":
    main()
