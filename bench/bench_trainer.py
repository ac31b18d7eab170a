"""Trainer overhead: one epoch of a 784-300-100-10 MLP on 60,000×784 random data, batch 128, SGD.

Compares the Trainer (with accuracy metrics and an event callback) against a minimal raw PyTorch
loop (randperm + index slicing), a DataLoader(TensorDataset) loop and, when they are
installed, PyTorch Lightning and Keras 3 on its torch backend (neither is a NetCanvas
dependency). Runs are interleaved, cycling
through orders in which each kind follows each other equally often, and repeated; prints the median seconds per epoch, the ratio of the medians to
the raw loop's (goal: ≤ 1.05) and the median of the per-repeat ratios (each run against the raw
run of the same round, which cancels slow drifts of a noisy machine).

    python bench/bench_trainer.py [--repeats 12] [--device cpu] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from backend.data.prepare import OutputSpec, OutputTarget, PreparedData, SplitData  # noqa: E402
from backend.training.trainer import Trainer

N, FEATURES, CLASSES, BATCH, LR = 60_000, 784, 10, 128, 0.01


def make_model(device: torch.device) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(FEATURES, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(),
                         nn.Linear(100, CLASSES)).to(device)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def raw_loop(x: torch.Tensor, y: torch.Tensor, device: torch.device) -> float:
    model = make_model(device)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()
    sync(device)
    t0 = time.perf_counter()
    perm = torch.randperm(N, device=device)
    for start in range(0, N, BATCH):
        idx = perm[start:start + BATCH]
        loss = loss_fn(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    sync(device)
    return time.perf_counter() - t0


def dataloader_loop(x: torch.Tensor, y: torch.Tensor, device: torch.device) -> float:
    from torch.utils.data import DataLoader, TensorDataset

    model = make_model(device)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(x, y), batch_size=BATCH, shuffle=True)
    sync(device)
    t0 = time.perf_counter()
    for xb, yb in loader:
        loss = loss_fn(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    sync(device)
    return time.perf_counter() - t0


def trainer_loop(x: torch.Tensor, y: torch.Tensor, device: torch.device) -> float:
    empty = SplitData([x[:0]], [y[:0]], [y[:0]])
    info = OutputTarget("y", "label", "index", tuple(str(i) for i in range(CLASSES)),
                        metric="accuracy")
    data = PreparedData(SplitData([x], [y], [y]), empty, empty, ["x"], [info], "random")
    events = []
    trainer = Trainer(make_model(device), data,
                      {"epochs": 1, "batch_size": BATCH, "optimizer": "sgd", "lr": LR,
                       "device": str(device)},
                      inputs=["x"], outputs=[OutputSpec("y", "cross_entropy", metric="accuracy")])
    sync(device)
    t0 = time.perf_counter()
    result = trainer.run(events.append)
    sync(device)
    elapsed = time.perf_counter() - t0
    assert result.reason == "completed", result
    assert sum(type(e).__name__ == "BatchEnd" for e in events) >= 1  # the callback ran
    return elapsed


def lightning_loop(x: torch.Tensor, y: torch.Tensor, device: torch.device) -> float:
    """The same epoch with PyTorch Lightning, as its documentation sets it up: a
    LightningModule, a shuffled DataLoader, a Trainer with logging, checkpoints, progress bar and
    summary turned off (so that only its loop is measured)."""
    import lightning as L
    from torch.utils.data import DataLoader, TensorDataset

    class Module(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.model = make_model(torch.device("cpu"))
            self.loss_fn = nn.CrossEntropyLoss()

        def training_step(self, batch, _index):
            xb, yb = batch
            return self.loss_fn(self.model(xb), yb)

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=LR)

    module = Module()
    loader = DataLoader(TensorDataset(x.cpu(), y.cpu()), batch_size=BATCH, shuffle=True)
    trainer = L.Trainer(max_epochs=1, accelerator="gpu" if device.type == "cuda" else "cpu",
                        devices=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False,
                        num_sanity_val_steps=0)
    sync(device)
    t0 = time.perf_counter()
    trainer.fit(module, loader)
    sync(device)
    return time.perf_counter() - t0


def keras_loop(x: torch.Tensor, y: torch.Tensor, device: torch.device) -> float:
    """The same epoch with Keras 3 on its torch backend: ``model.fit`` on the tensors (as NumPy
    arrays, what ``fit`` takes), shuffled, no output."""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((FEATURES,)), keras.layers.Dense(300, "relu"),
                              keras.layers.Dense(100, "relu"), keras.layers.Dense(CLASSES)])
    model.compile(optimizer=keras.optimizers.SGD(LR),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    xs, ys = x.cpu().numpy(), y.cpu().numpy()
    sync(device)
    t0 = time.perf_counter()
    model.fit(xs, ys, batch_size=BATCH, epochs=1, shuffle=True, verbose=0)
    sync(device)
    return time.perf_counter() - t0


def williams_orders(names: list[str]) -> list[list[str]]:
    """Orders in which every name follows every other name equally often (a Williams design:
    n orders for an even count, 2n for an odd one)."""
    n = len(names)
    first, lo, hi = [0], 1, n - 1
    while len(first) < n:
        first.append(lo)
        lo += 1
        if len(first) < n:
            first.append(hi)
            hi -= 1
    rows = [[(i + r) % n for i in first] for r in range(n)]
    if n % 2:
        rows += [row[::-1] for row in rows]
    return [[names[i] for i in row] for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=12)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(N, FEATURES, generator=gen).to(device)
    y = torch.randint(0, CLASSES, (N,), generator=gen).to(device)
    runs = {"raw loop": raw_loop, "DataLoader": dataloader_loop, "Trainer": trainer_loop}
    try:
        import logging

        import lightning  # noqa: F401 - measured when installed (not a NetCanvas dependency)

        logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
        lightning_loop(x[:2048], y[:2048], device)  # its first-call costs
        runs["Lightning"] = lightning_loop
    except ImportError:
        print("PyTorch Lightning is not installed: not measured")
    os.environ.setdefault("KERAS_BACKEND", "torch")  # read when keras is first imported
    try:
        import keras

        if keras.backend.backend() != "torch":
            print(f"Keras runs on {keras.backend.backend()} here, not torch: not measured")
        else:
            keras_loop(x[:2048], y[:2048], device)
            runs["Keras"] = keras_loop
    except ImportError:
        print("Keras is not installed: not measured")
    times: dict[str, list[float]] = {name: [] for name in runs}
    trainer_loop(x[:2048], y[:2048], device)  # warm-up (first-call costs)
    raw_loop(x, y, device)
    # Interleaved, cycling through balanced orders: a run is slowed by the one before it
    # (measured: after the DataLoader loop, whose collation churns memory, by about 1.5%), so
    # each kind must follow each other kind equally often; slow drifts hit all alike.
    orders = williams_orders(list(runs))
    repeats = -(-args.repeats // len(orders)) * len(orders)  # whole cycles only
    for r in range(repeats):
        for name in orders[r % len(orders)]:
            times[name].append(runs[name](x, y, device))
    print(f"device {device}, torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"{repeats} interleaved repeats, one epoch = {N // BATCH + 1} steps")
    raw = statistics.median(times["raw loop"])
    for name, values in times.items():
        med = statistics.median(values)
        paired = statistics.median(v / b for v, b in zip(values, times["raw loop"]))
        print(f"{name:>11}: median {med:.3f} s/epoch  (min {min(values):.3f}, "
              f"max {max(values):.3f})  ratio to raw {med / raw:.3f}  "
              f"(median of the per-repeat ratios {paired:.3f})")


if __name__ == "__main__":
    main()
