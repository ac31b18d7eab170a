"""User data from files: NPZ arrays, IDX pairs, image folders, MNIST-style cache folders."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from backend.data.dataset import Dataset, Target
from backend.data.errors import DataError
from backend.data.idx import read_idx

_X_KEYS = ("x", "X", "features", "data", "images", "inputs")
_Y_KEYS = ("y", "Y", "labels", "label", "targets", "target")


def _as_target(name: str, y: np.ndarray, classes: Any = None) -> Target:
    if y.dtype.kind in "iub":
        values = torch.as_tensor(y.astype(np.int64))
        if values.numel() and values.min() < 0:
            raise DataError(f"The labels {name!r} contain negative numbers; class labels must "
                            "be 0, 1, 2, …")
        k = int(values.max()) + 1 if values.numel() else 0
        names = tuple(str(c) for c in classes) if classes is not None else tuple(
            str(i) for i in range(k))
        return Target(name, values, names)
    if y.dtype.kind == "f":
        return Target(name, torch.as_tensor(y.astype(np.float32)))
    raise DataError(f"The target array {name!r} has type {y.dtype}; use integers for classes "
                    "or floats for values.")


def _scaled(x: np.ndarray) -> tuple[torch.Tensor, bool]:
    """Images of bytes are scaled to [0, 1]; other arrays are left as they are."""
    if x.dtype == np.uint8:
        return torch.as_tensor(x.astype(np.float32) / 255.0), False
    if x.dtype.kind not in "iuf":
        raise DataError(f"Feature arrays must hold numbers, not {x.dtype}.")
    return torch.as_tensor(x.astype(np.float32)), x.ndim == 2


def read_npz(path: str | Path, options: dict[str, Any] | None = None,
             sample_weight: str | None = None) -> Dataset:
    """An ``.npz`` file with a features array and one or more target arrays (no pickles)."""
    path = Path(path)
    opts = dict(options or {})
    try:
        arrays = dict(np.load(path, allow_pickle=False))
    except (OSError, ValueError) as exc:
        raise DataError(f"Cannot read the NPZ file {str(path)!r}: {exc}.") from None
    keys = list(arrays)

    def pick(option: str, candidates: tuple[str, ...]) -> list[str]:
        wanted = opts.get(option)
        if wanted is not None:
            wanted = wanted if isinstance(wanted, list) else [wanted]
            for w in wanted:
                if w not in arrays:
                    raise DataError(f"{path.name} has no array {w!r}; it holds: "
                                    + ", ".join(keys) + ".")
            return list(wanted)
        for c in candidates:
            if c in arrays:
                return [c]
        raise DataError(f"{path.name}: name the {option} array in the data option "
                        f"'{option}'; the file holds: " + ", ".join(keys) + ".")

    x_key = pick("x", _X_KEYS)[0]
    x, tabular = _scaled(arrays[x_key])
    targets = {k: _as_target(k, arrays[k]) for k in pick("y", _Y_KEYS)}
    weight = None
    if sample_weight:
        if sample_weight not in arrays:
            raise DataError(f"{path.name} has no sample weight array {sample_weight!r}.")
        weight = torch.as_tensor(arrays[sample_weight].astype(np.float32)).reshape(-1)
    return Dataset(path.stem, x, targets, tabular=tabular, sample_weight=weight)


def _images(x: np.ndarray) -> torch.Tensor:
    t, _ = _scaled(x)
    return t.unsqueeze(1) if t.dim() == 3 else t  # (N, H, W) → (N, 1, H, W)


def read_idx_pair(images: str | Path, labels: str | Path, name: str = "idx") -> Dataset:
    """Images and labels from two IDX files."""
    x = read_idx(images)
    y = read_idx(labels)
    if len(x) != len(y):
        raise DataError(f"{Path(images).name} holds {len(x)} images but {Path(labels).name} "
                        f"holds {len(y)} labels; they must match.")
    return Dataset(name, _images(x), {"label": _as_target("label", y)})


MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")


def cache_folder(name: str, path: str = "") -> Path:
    """Where MNIST-style files are looked for: ``path``, else $NETCANVAS_DATA/<name>, else
    ~/.cache/netcanvas/<name>."""
    if path:
        return Path(path).expanduser()
    root = os.environ.get("NETCANVAS_DATA") or Path.home() / ".cache" / "netcanvas"
    return Path(root) / name


def find_idx_file(folder: Path, stem: str) -> Path | None:
    """The IDX file ``stem`` in ``folder``: plain, gzipped or with a dot before ``idx``."""
    for candidate in (folder / stem, folder / f"{stem}.gz", folder / stem.replace("-idx", ".idx")):
        if candidate.is_file():
            return candidate
    return None


def missing_files_message(name: str, folder: Path, missing: list[str]) -> str:
    """What to do when the files of an MNIST-style set are not in ``folder``."""
    return (f"The {name} files are not in {folder}. Put the four IDX files there "
            f"({', '.join(f + '.gz' for f in MNIST_FILES)}; gzipped or not), or set the "
            f"data 'path' to the folder that holds them. Missing: {', '.join(missing)}.")


def read_mnist(name: str, path: str = "", download: bool = False,
               progress: Callable[[str, int, int | None], None] | None = None) -> Dataset:
    """MNIST or Fashion-MNIST from a folder of the four IDX files.

    With ``download`` (and NETCANVAS_NO_DOWNLOAD unset) missing files are first fetched from the
    public mirrors into that folder (see backend.data.download), reporting ``progress``. The
    official 10,000 test images become the test split.
    """
    folder = cache_folder(name, path)
    if download:
        from backend.data import download as fetch

        if fetch.downloads_allowed() and fetch.missing(name, folder):
            fetch.download_set(name, folder, progress)
    found = [find_idx_file(folder, stem) for stem in MNIST_FILES]
    if not all(found):
        missing = [s for s, f in zip(MNIST_FILES, found) if f is None]
        raise DataError(missing_files_message(name, folder, missing))
    train = read_idx_pair(found[0], found[1], name)
    test = read_idx_pair(found[2], found[3], name)
    classes = FASHION_CLASSES if name == "fashion_mnist" else tuple(str(i) for i in range(10))
    y = torch.cat([train.target(None).values, test.target(None).values])
    return Dataset(name, torch.cat([train.x, test.x]),
                   {"label": Target("label", y, classes)},
                   default_splits=(0.1, 0.0), test_start=len(train))


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm")


def read_image_folder(path: str | Path, options: dict[str, Any] | None = None) -> Dataset:
    """A folder with one sub-folder per class of images (needs Pillow).

    Options: ``size`` [h, w] (default: the first image's size), ``grayscale`` (default true).
    """
    folder = Path(path)
    try:
        from PIL import Image
    except ImportError:
        raise DataError("Reading a folder of images needs the Pillow package, which is not "
                        "installed. Install it (pip install pillow), or convert the images "
                        "to an NPZ file.") from None
    opts = dict(options or {})
    if not folder.is_dir():
        raise DataError(f"The image folder {str(folder)!r} does not exist.")
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir())
    if not classes:
        raise DataError(f"{folder} has no sub-folders; put the images of each class in a "
                        "sub-folder named after the class.")
    gray = opts.get("grayscale", True)
    size = opts.get("size")
    arrays, labels = [], []
    for k, cls in enumerate(classes):
        for file in sorted((folder / cls).iterdir()):
            if file.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                with Image.open(file) as img:
                    img = img.convert("L" if gray else "RGB")
                    if size is None:
                        size = [img.height, img.width]
                    if [img.height, img.width] != list(size):
                        img = img.resize((size[1], size[0]))
                    arrays.append(np.asarray(img, dtype=np.uint8))
            except OSError as exc:
                raise DataError(f"Cannot read the image {file}: {exc}.") from None
            labels.append(k)
    if not arrays:
        raise DataError(f"No images ({', '.join(IMAGE_SUFFIXES)}) found under {folder}.")
    x = torch.as_tensor(np.stack(arrays).astype(np.float32) / 255.0)
    x = x.unsqueeze(1) if gray else x.permute(0, 3, 1, 2).contiguous()
    return Dataset(folder.name, x, {"label": Target("label", torch.tensor(labels),
                                                     tuple(classes))})
