"""Built-in data sets, all offline: generated toy sets and scikit-learn's bundled sets."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from .dataset import Dataset, Target
from .errors import DataError

_TRUTH = {"or": (0, 1, 1, 1), "and": (0, 0, 0, 1), "xor": (0, 1, 1, 0)}


def _truth_table(name: str, options: dict[str, Any]) -> Dataset:
    """The 4-row truth table. ``targets``: "01" (classes 0/1) or "pm1" (values −1/+1);
    ``inputs``: "01" or "pm1" for the inputs' encoding."""
    bits = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    out = torch.tensor(_TRUTH[name])
    enc_in, enc_out = options.get("inputs", "01"), options.get("targets", "01")
    for key, value in (("inputs", enc_in), ("targets", enc_out)):
        if value not in ("01", "pm1"):
            raise DataError(f"The {name.upper()} option '{key}' = {value!r} is not allowed; "
                            "use \"01\" or \"pm1\" (−1/+1).")
    x = bits * 2 - 1 if enc_in == "pm1" else bits
    if enc_out == "pm1":
        target = Target("y", out.float() * 2 - 1)
    else:
        target = Target("y", out.long(), ("0", "1"))
    return Dataset(name, x, {"y": target}, ("a", "b"), default_splits=(0.0, 0.0))


def _generator(options: dict[str, Any]) -> tuple[int, float, np.random.Generator]:
    n = options.get("samples", 1000)
    noise = options.get("noise", 0.1)
    if isinstance(n, bool) or not isinstance(n, int) or not 10 <= n <= 10_000_000:
        raise DataError(f"option 'samples' = {n!r}: use a whole number from 10 to 10000000.")
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0 <= noise <= 10:
        raise DataError(f"option 'noise' = {noise!r}: use a number from 0 to 10.")
    return n, float(noise), np.random.default_rng(options.get("seed", 0))


def _classes(name: str, x: np.ndarray, y: np.ndarray, k: int) -> Dataset:
    target = Target("label", torch.as_tensor(y, dtype=torch.long),
                    tuple(str(i) for i in range(k)))
    return Dataset(name, torch.as_tensor(x, dtype=torch.float32), {"label": target},
                   ("x", "y"), tabular=True)


def _moons(options: dict[str, Any]) -> Dataset:
    from sklearn.datasets import make_moons

    n, noise, rng = _generator(options)
    x, y = make_moons(n, noise=noise, random_state=int(rng.integers(2**31)))
    return _classes("moons", x, y, 2)


def _circles(options: dict[str, Any]) -> Dataset:
    from sklearn.datasets import make_circles

    n, noise, rng = _generator(options)
    x, y = make_circles(n, noise=noise, factor=0.5, random_state=int(rng.integers(2**31)))
    return _classes("circles", x, y, 2)


def _spirals(options: dict[str, Any]) -> Dataset:
    """``arms`` interleaved spirals (default 3), the classic hard toy problem."""
    n, noise, rng = _generator(options)
    arms = options.get("arms", 3)
    per = n // arms
    r = np.tile(np.linspace(0.05, 1.0, per), arms)
    y = np.repeat(np.arange(arms), per)
    theta = r * 4.0 + y * (2 * math.pi / arms) + rng.normal(0, noise, arms * per)
    x = np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1)
    return _classes("spirals", x, y, arms)


def _sequences(options: dict[str, Any]) -> Dataset:
    """Noisy sine waves of random phase: which of ``classes`` frequencies is it? (N, T, 1)."""
    n, noise, rng = _generator(options)
    steps = options.get("length", 20)
    k = options.get("classes", 2)
    y = rng.integers(0, k, n)
    freq = (1.0 + y) * (2 * math.pi / steps)
    t = np.arange(steps)
    phase = rng.uniform(0, 2 * math.pi, n)
    x = np.sin(freq[:, None] * t[None, :] + phase[:, None]) + rng.normal(0, noise, (n, steps))
    target = Target("label", torch.as_tensor(y, dtype=torch.long),
                    tuple(f"{i + 1} cycles" for i in range(k)))
    return Dataset("sequences", torch.as_tensor(x[:, :, None], dtype=torch.float32),
                   {"label": target}, notes=[f"{n} sequences of {steps} steps, 1 feature"])


def _sklearn(loader: str, name: str, *, classes: bool) -> Callable[[dict[str, Any]], Dataset]:
    def load(options: dict[str, Any]) -> Dataset:
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, loader)()
        x = torch.as_tensor(np.asarray(bunch.data), dtype=torch.float32)
        names = tuple(str(f) for f in getattr(bunch, "feature_names", ()))
        if classes:
            labels = tuple(str(c) for c in bunch.target_names)
            target = Target("target", torch.as_tensor(bunch.target, dtype=torch.long), labels)
        else:
            target = Target("target", torch.as_tensor(bunch.target, dtype=torch.float32))
        return Dataset(name, x, {"target": target}, names, tabular=True)

    return load


def _digits(flat: bool) -> Callable[[dict[str, Any]], Dataset]:
    def load(options: dict[str, Any]) -> Dataset:
        from sklearn.datasets import load_digits

        bunch = load_digits()
        x = torch.as_tensor(bunch.images, dtype=torch.float32) / 16.0
        x = x.reshape(len(x), 64) if flat else x.unsqueeze(1)
        target = Target("digit", torch.as_tensor(bunch.target, dtype=torch.long),
                        tuple(str(i) for i in range(10)))
        return Dataset("digits_flat" if flat else "digits", x, {"digit": target},
                       notes=["8×8 grey images scaled to [0, 1]"])

    return load


LOADERS: dict[str, Callable[[dict[str, Any]], Dataset]] = {
    "or": lambda o: _truth_table("or", o),
    "and": lambda o: _truth_table("and", o),
    "xor": lambda o: _truth_table("xor", o),
    "moons": _moons,
    "circles": _circles,
    "spirals": _spirals,
    "sequences": _sequences,
    "digits": _digits(flat=False),
    "digits_flat": _digits(flat=True),
    "iris": _sklearn("load_iris", "iris", classes=True),
    "wine": _sklearn("load_wine", "wine", classes=True),
    "breast_cancer": _sklearn("load_breast_cancer", "breast_cancer", classes=True),
    "diabetes": _sklearn("load_diabetes", "diabetes", classes=False),
}


def load_builtin(name: str, options: dict[str, Any] | None = None) -> Dataset:
    """Load a built-in data set by name (no network)."""
    try:
        loader = LOADERS[name]
    except KeyError:
        raise DataError(f"Unknown built-in data set {name!r}; choose one of "
                        + ", ".join(LOADERS) + ".") from None
    return loader(dict(options or {}))
