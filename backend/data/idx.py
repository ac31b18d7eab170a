"""IDX files (the MNIST format), gzipped or not: read and write."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from backend.data.errors import DataError

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
           0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i2"): 0x0B,
          np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}


def read_idx(path: str | Path) -> np.ndarray:
    """The array stored in an IDX file (``.gz`` or plain, detected from the content)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"Cannot read the IDX file {str(path)!r}: {exc.strerror or exc}.") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DataError(f"{path.name} is a damaged gzip file ({exc}).") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        raise DataError(f"{path.name} is not an IDX file (wrong magic number).")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path.name} is truncated (incomplete header).")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_DTYPES[raw[2]])
    count = int(np.prod(dims)) if dims else 1
    if len(raw) - header < count * dtype.itemsize:
        raise DataError(f"{path.name} is truncated: the header announces shape {dims}, "
                        f"but the file holds fewer values.")
    data = np.frombuffer(raw, dtype=dtype, count=count, offset=header)
    return data.reshape(dims).astype(dtype.newbyteorder("="))


def write_idx(path: str | Path, array: np.ndarray, *, compress: bool | None = None) -> None:
    """Write ``array`` as IDX (gzipped when ``compress`` or the name ends in ``.gz``)."""
    path = Path(path)
    arr = np.asarray(array)
    if arr.dtype.kind in "f":
        arr = arr.astype(">f4" if arr.dtype.itemsize <= 4 else ">f8")
    elif arr.dtype not in (np.uint8, np.int8):
        arr = arr.astype(">i4" if arr.dtype.itemsize > 2 else ">i2")
    blob = bytes([0, 0, _CODES[arr.dtype], arr.ndim]) + struct.pack(
        f">{arr.ndim}I", *arr.shape) + arr.tobytes()
    if compress or (compress is None and path.suffix == ".gz"):
        blob = gzip.compress(blob)
    path.write_bytes(blob)
