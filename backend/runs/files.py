"""Reading and writing inside a run folder, and nowhere else.

A run folder comes from disk and may be corrupt or hostile (a project downloaded with its runs).
So every read names a file of a fixed set inside the folder, refuses symbolic links and other
non-regular files, and refuses files over a size limit before reading them; every problem is one
`RunFormatError` whose message says which file and why. Writes are atomic (a temporary file in
the same folder, fsync, rename: `graph.project.write_atomic`), so a killed process leaves the old
or the new file, never a half-written one.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import stat
from pathlib import Path
from typing import Any

from graph.project import SUFFIX, write_atomic

#: A run id (its folder's name): letters, digits, ``_ . -``; no separators, not ``.``/``..``.
RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
#: The folder of one checkpoint inside a run folder.
CHECKPOINT_DIR = re.compile(r"^checkpoint-\d{6}$")

RUNS_SUFFIX = ".runs"
WEIGHTS_SUFFIX = ".weights.safetensors"

# The files of a run folder (see docs/runs.md) and the most each may hold.
RUN = "run.json"
NOTES = "notes.json"
DESIGN = "design.json"
HISTORY = "history.json"
WEIGHTS = "weights.safetensors"
BEST = "best.safetensors"
EVALUATION = "evaluation.safetensors"
CHECKPOINT = "checkpoint.json"
TENSORBOARD = "tensorboard"

KIB, MIB = 1 << 10, 1 << 20
LIMITS = {RUN: 4 * MIB, NOTES: 256 * KIB, DESIGN: 64 * MIB, HISTORY: 64 * MIB,
          CHECKPOINT: 64 * KIB, "trainer.json": 64 * MIB}


class RunFormatError(ValueError):
    """A run folder (or one of its files) that cannot be used; the message is for people."""


def project_stem(project: str | os.PathLike[str]) -> Path:
    """``model.ncproj.json`` → ``model`` (in the project's folder)."""
    p = Path(project)
    name = p.name
    for suffix in (SUFFIX, ".json"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return p.with_name(name)


def runs_folder_for(project: str | os.PathLike[str]) -> Path:
    """``model.ncproj.json`` → ``model.runs`` beside it: the project's run folders."""
    stem = project_stem(project)
    return stem.with_name(stem.name + RUNS_SUFFIX)


def weights_path_for(project: str | os.PathLike[str]) -> Path:
    """``model.ncproj.json`` → ``model.weights.safetensors`` beside it: the current weights."""
    stem = project_stem(project)
    return stem.with_name(stem.name + WEIGHTS_SUFFIX)


def check_id(run_id: Any) -> str:
    if not isinstance(run_id, str) or not RUN_ID.match(run_id) or run_id in (".", ".."):
        raise RunFormatError(f"{run_id!r} is not a run id (letters, digits, '_', '.', '-'; "
                             "at most 64 characters).")
    return run_id


def is_plain_dir(path: Path) -> bool:
    """A directory that is not a symbolic link."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def is_plain_file(path: Path) -> bool:
    """A regular file that is not a symbolic link."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def read_bytes(folder: Path, name: str, limit: int | None = None) -> bytes:
    """The bytes of ``folder/name``: a regular file (no link followed), at most ``limit``."""
    limit = LIMITS.get(name, 64 * MIB) if limit is None else limit
    path = folder / name
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise RunFormatError(f"{name} is missing.") from None
    except OSError as exc:
        raise RunFormatError(f"{name} cannot be read ({exc.strerror or exc}).") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise RunFormatError(f"{name} is not a regular file.")
        if info.st_size > limit:
            raise RunFormatError(f"{name} is larger than {_size(limit)} "
                                 f"({_size(info.st_size)}).")
        chunks, left = [], limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, MIB))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
    except OSError as exc:
        raise RunFormatError(f"{name} cannot be read ({exc.strerror or exc}).") from None
    finally:
        os.close(fd)
    if len(data) > limit:  # grew while being read
        raise RunFormatError(f"{name} is larger than {_size(limit)}.")
    return data


def read_json(folder: Path, name: str, limit: int | None = None) -> Any:
    """The JSON value of ``folder/name`` (see `read_bytes`); RunFormatError when unreadable."""
    data = read_bytes(folder, name, limit)
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RunFormatError(f"{name} is not readable JSON ({type(exc).__name__}).") from None


def jsonable(value: Any) -> Any:
    """``value`` with tensors as lists, tuples as lists and non-finite floats as None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist") and callable(value.tolist):  # a tensor or numpy value
        return jsonable(value.tolist())
    return value


def write_json(folder: Path, name: str, value: Any, *, indent: int | None = 1,
               sync: bool = True) -> None:
    """Write ``value`` as ``folder/name`` atomically (non-finite floats become null); without
    ``sync`` the file is renamed into place but not flushed to disk yet (`fsync_files`)."""
    text = json.dumps(jsonable(value), indent=indent, ensure_ascii=False, allow_nan=False)
    if sync:
        write_atomic(folder / name, text)
    else:
        replace_file(folder, name, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def replace_file(folder: Path, name: str, write: Any) -> None:
    """``write(tmp)`` a temporary file in ``folder``, then rename it to ``name`` (atomic on a
    crash of the process; `fsync_files` makes it durable)."""
    tmp = folder / f".{name}.{os.getpid()}.tmp"
    try:
        write(tmp)
        os.replace(tmp, folder / name)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def fsync_files(folder: Path, names: Any) -> None:
    """Flush the named files of ``folder`` and the folder itself to disk."""
    for name in names:
        try:
            fd = os.open(folder / name, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    _fsync_dir(folder)


def fsync_folder(folder: Path) -> None:
    """Flush the files directly in ``folder`` and the folder itself to disk."""
    fsync_files(folder, [e.name for e in os.scandir(folder) if e.is_file(follow_symlinks=False)])


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_tree(path: Path) -> None:
    """Delete a folder without following links out of it (a link inside is removed as a link)."""
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.exists():
        shutil.rmtree(path, ignore_errors=True)


def _size(n: int) -> str:
    return f"{n / MIB:.1f} MiB" if n >= MIB else f"{n / KIB:.0f} KiB"
