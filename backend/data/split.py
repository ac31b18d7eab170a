"""Split a data set once into train / validation / test index sets (seeded, stratified)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .dataset import Dataset


@dataclass(frozen=True)
class SplitIndices:
    train: torch.Tensor
    validation: torch.Tensor
    test: torch.Tensor


def _take(idx: torch.Tensor, val: float, test: float, gen: torch.Generator
          ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    idx = idx[torch.randperm(len(idx), generator=gen)]
    n_test = int(round(len(idx) * test))
    n_val = int(round(len(idx) * val))
    return idx[n_test + n_val:], idx[n_test:n_test + n_val], idx[:n_test]


def split_indices(ds: Dataset, validation: float, test: float, seed: int = 0,
                  stratify: bool = True) -> SplitIndices:
    """Shuffle with ``seed`` and cut; per class when the first target holds classes, so every
    split keeps the class proportions. A data set's fixed test rows (MNIST) stay the test set."""
    gen = torch.Generator().manual_seed(seed)
    n = len(ds)
    fixed_test = None
    if ds.test_start is not None:
        fixed_test = torch.arange(ds.test_start, n)
        n = ds.test_start
        test = 0.0
    pool = torch.arange(n)
    target = ds.target(None)
    parts: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
    if stratify and target.is_classes:
        labels = target.values[:n]
        for k in range(target.num_classes):
            members = pool[labels == k]
            if len(members):
                parts.append(_take(members, validation, test, gen))
    else:
        parts.append(_take(pool, validation, test, gen))
    train, val, tst = (torch.cat([p[i] for p in parts]) for i in range(3))
    if fixed_test is not None:
        tst = fixed_test
    # Sorted so that the data order (and so a run) does not depend on the class loop.
    return SplitIndices(train.sort().values, val.sort().values, tst.sort().values)
