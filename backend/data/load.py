"""Loading the data set a ``data`` section names: the built-in sets, or the user's files
(CSV, NPZ, IDX, image folders, MNIST with its download). The app's side of the data: the
exported train.py carries built-in loading and the preparation (`backend.data.prepare`), not
these file readers; it gets the user's data as read here, in ``data.safetensors``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from backend.data.builtin import load_builtin
from backend.data.config import DataConfig
from backend.data.dataset import Dataset
from backend.data.errors import DataError


def data_path(cfg: DataConfig, base_dir: str | Path | None = None) -> Path | None:
    """The data 'path' of ``cfg`` (None when empty), relative paths resolved against
    ``base_dir``."""
    path = Path(cfg.path).expanduser() if cfg.path else None
    if path is not None and not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    return path


def wants_download(cfg: DataConfig) -> bool:
    """The data option ``download`` (default true): may MNIST-style sets be fetched?"""
    value = cfg.options.get("download", True)
    if not isinstance(value, bool):
        raise DataError(f"The data option 'download' = {value!r} is not allowed; use true or "
                        "false.")
    return value


def load_dataset(cfg: DataConfig, base_dir: str | Path | None = None, *, download: bool = True,
                 progress: Callable[[str, int, int | None], None] | None = None) -> Dataset:
    """Load the data set named by ``cfg`` (relative paths are resolved against ``base_dir``).

    MNIST and Fashion-MNIST missing from their cache folder are downloaded first when
    ``download`` and the data option ``download`` allow it; pass ``download=False`` where no
    network access may happen (the GUI thread)."""
    from backend.data import csv_file, files

    path = data_path(cfg, base_dir)
    kind = cfg.dataset
    if kind == "csv":
        return csv_file.read_csv(path, cfg.options, cfg.sample_weight)
    if kind == "npz":
        return files.read_npz(path, cfg.options, cfg.sample_weight)
    if kind == "idx":
        images, labels = cfg.options.get("images"), cfg.options.get("labels")
        if not images or not labels:
            raise DataError("IDX data need the options 'images' and 'labels' (file names, "
                            "relative to 'path').")
        return files.read_idx_pair(path / images, path / labels, "idx")
    if kind == "images":
        return files.read_image_folder(path, cfg.options)
    if kind in ("mnist", "fashion_mnist"):
        fetch = wants_download(cfg)
        try:
            return files.read_mnist(kind, str(path) if path else "", download=download and fetch,
                                    progress=progress)
        except DataError as exc:
            if download or not fetch:
                raise
            raise DataError(f"{exc} Training downloads them when a network is there.") from None
    return load_builtin(kind, cfg.options)
