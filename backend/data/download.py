"""MNIST and Fashion-MNIST fetched once from their public mirrors into the cache folder.

Each of the four ``.gz`` files is streamed into a temporary file beside its final name, checked
against the published MD5 checksum and only then renamed into place (``os.replace``), so a
half-finished or corrupted download never looks like a cached file. Mirrors are tried in order.
Without a network the error names the folder and the files to put there by hand.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from backend.data.errors import DataError
from backend.data.files import MNIST_FILES, find_idx_file, missing_files_message

#: ``progress(file name, bytes done, total bytes or None when the server does not say)``.
ProgressCallback = Callable[[str, int, int | None], None]

# File names, MD5 checksums and mirrors as in torchvision's datasets/mnist.py (classes MNIST and
# FashionMNIST, pytorch/vision). torchvision lists yann.lecun.com first; the HTTPS mirror comes
# first here because it is the one that serves anonymous downloads reliably.
CHECKSUMS: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion_mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
}
MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": ("https://ossci-datasets.s3.amazonaws.com/mnist/",
              "http://yann.lecun.com/exdb/mnist/"),
    "fashion_mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
}

#: Seconds to wait for a connection (and for each read); short so offline machines fail fast.
TIMEOUT = 10.0
CHUNK = 1 << 16
NO_DOWNLOAD_ENV = "NETCANVAS_NO_DOWNLOAD"


def downloads_allowed() -> bool:
    """False when the environment switch NETCANVAS_NO_DOWNLOAD is set (to anything but 0/no)."""
    value = os.environ.get(NO_DOWNLOAD_ENV, "").strip().lower()
    return value in ("", "0", "no", "false", "off")


def missing(name: str, folder: str | Path) -> list[str]:
    """The ``.gz`` names of the set's files that are not in ``folder`` in any readable form.

    A file already there (gzipped or not) is used as it is: it was either verified when it was
    downloaded (only verified files get their final name) or put there by the person."""
    folder = Path(folder)
    return [f"{stem}.gz" for stem in MNIST_FILES if find_idx_file(folder, stem) is None]


def _fetch(url: str, target: Path, md5: str, progress: ProgressCallback | None,
           timeout: float) -> str | None:
    """Stream ``url`` into a temporary file beside ``target``; return None on success or why it
    failed (the temporary file is removed then). Errors writing the folder raise DataError."""
    try:
        handle = tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.",
                                             suffix=".part", delete=False)
    except OSError as exc:
        raise DataError(f"Cannot write into the data folder {target.parent}: {exc.strerror or exc}."
                        " Choose a writable folder with the data 'path' or NETCANVAS_DATA."
                        ) from None
    part = Path(handle.name)
    digest = hashlib.md5(usedforsecurity=False)  # integrity against the published sums only
    try:
        with handle:
            request = urllib.request.Request(url, headers={"User-Agent": "NetCanvas"})
            with urllib.request.urlopen(request, timeout=timeout) as response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                done = 0
                if progress:
                    progress(target.name, 0, total)
                while chunk := response.read(CHUNK):
                    handle.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(target.name, done, total)
        if digest.hexdigest() != md5:
            part.unlink(missing_ok=True)
            return f"{url}: wrong checksum (the file is damaged or not the expected one)"
        os.replace(part, target)
        return None
    except urllib.error.HTTPError as exc:
        reason = f"{url}: HTTP {exc.code} {exc.reason}"
    except urllib.error.URLError as exc:
        reason = f"{url}: {exc.reason}"
    except (OSError, http.client.HTTPException) as exc:
        reason = f"{url}: {type(exc).__name__}: {exc}"
    except BaseException:  # e.g. the progress callback stopping the download
        part.unlink(missing_ok=True)
        raise
    part.unlink(missing_ok=True)
    return reason


def download_set(name: str, folder: str | Path, progress: ProgressCallback | None = None,
                 timeout: float = TIMEOUT) -> list[Path]:
    """Download the missing files of ``name`` (mnist or fashion_mnist) into ``folder``.

    Returns the paths of the four files (already present or just downloaded), in the order of
    ``MNIST_FILES``. Raises DataError when a file cannot be had from any mirror; the message
    says where to put the files by hand.
    """
    if name not in CHECKSUMS:
        raise DataError(f"There is no download for {name!r}; only "
                        + " and ".join(CHECKSUMS) + " can be downloaded.")
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"Cannot create the data folder {folder}: {exc.strerror or exc}. "
                        "Choose a writable folder with the data 'path' or NETCANVAS_DATA."
                        ) from None
    for file in missing(name, folder):
        failures = []
        for mirror in MIRRORS[name]:
            why = _fetch(mirror + file, folder / file, CHECKSUMS[name][file], progress, timeout)
            if why is None:
                break
            failures.append(why)
        else:
            raise DataError(f"Could not download {file} of {name} ("
                            + "; ".join(failures) + "). "
                            + missing_files_message(name, folder, [m[:-3] for m in missing(name, folder)]))
    paths = [find_idx_file(folder, stem) for stem in MNIST_FILES]
    return [p for p in paths if p is not None]
