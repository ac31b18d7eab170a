"""CSV files: pick feature and target columns, encode text columns, report bad cells by place.

Options (``data.options``): ``target`` (column name or index, or a list; default the last
column), ``features`` (default: every other column), ``header`` (true, false or "auto"),
``delimiter`` (default ","), ``categorical`` ("onehot" or "index" for text feature columns),
``missing`` ("error" or "drop"), ``target_type`` ("auto", "classes" or "values").
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import torch

from backend.data.dataset import Dataset, Target
from backend.data.errors import DataError

MAX_CLASS_VALUES = 20
"""An integer target column with at most this many distinct values is read as classes."""


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _read_rows(path: Path, delimiter: str) -> list[list[str]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            rows = [row for row in csv.reader(fh, delimiter=delimiter)]
    except OSError as exc:
        raise DataError(f"Cannot read the CSV file {str(path)!r}: {exc.strerror or exc}.") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise DataError(f"{path.name} is not a readable CSV file ({exc}).") from None
    return rows


def _resolve(key: Any, header: list[str], path: Path) -> int:
    if isinstance(key, int) and not isinstance(key, bool):
        if -len(header) <= key < len(header):
            return key % len(header)
    elif isinstance(key, str) and key in header:
        return header.index(key)
    raise DataError(f"{path.name} has no column {key!r}; its columns are: "
                    + ", ".join(header) + ".")


def read_csv(path: str | Path, options: dict[str, Any] | None = None,
             sample_weight: str | None = None) -> Dataset:
    """Read a CSV file into a `Dataset` (see the module doc for the options)."""
    path = Path(path)
    opts = dict(options or {})
    delimiter = opts.get("delimiter", ",")
    rows = [r for r in _read_rows(path, delimiter) if any(cell.strip() for cell in r)]
    if not rows:
        raise DataError(f"{path.name} is empty.")
    header_opt = opts.get("header", "auto")
    if header_opt == "auto":
        # A header when the first row has text in a column whose second-row cell is a number.
        has_header = len(rows) > 1 and any(
            _number(a) is None and _number(b) is not None for a, b in zip(rows[0], rows[1]))
    else:
        has_header = bool(header_opt)
    width = len(rows[0])
    header = [c.strip() for c in rows[0]] if has_header else [f"column_{i}" for i in
                                                               range(width)]
    body = rows[1:] if has_header else rows
    first_line = 2 if has_header else 1
    for i, row in enumerate(body):
        if len(row) != width:
            raise DataError(f"{path.name}, line {first_line + i}: {len(row)} cells, but the "
                            f"first row has {width}. Check for a missing or extra delimiter "
                            "(text containing a comma must be in double quotes).")
    if not body:
        raise DataError(f"{path.name} has a header but no data rows.")

    target_opt = opts.get("target", -1)
    target_keys = target_opt if isinstance(target_opt, list) else [target_opt]
    target_cols = [_resolve(k, header, path) for k in target_keys]
    weight_col = _resolve(sample_weight, header, path) if sample_weight else None
    if "features" in opts:
        feature_cols = [_resolve(k, header, path) for k in opts["features"]]
    else:
        feature_cols = [i for i in range(width) if i not in target_cols and i != weight_col]
    used = sorted(set(feature_cols + target_cols + ([weight_col] if weight_col is not None
                                                    else [])))

    # Missing cells: an error naming the place, or drop the row.
    missing = opts.get("missing", "error")
    kept: list[list[str]] = []
    line_of: list[int] = []
    for i, row in enumerate(body):
        empty = [c for c in used if not row[c].strip() or row[c].strip().upper() in ("NA", "NAN")]
        if empty:
            if missing == "drop":
                continue
            raise DataError(f"{path.name}, line {first_line + i}, column '{header[empty[0]]}': "
                            "missing value. Fill it in, or set the data option "
                            "\"missing\": \"drop\" to skip incomplete rows.")
        kept.append(row)
        line_of.append(first_line + i)
    if not kept:
        raise DataError(f"{path.name}: every row has a missing value.")

    def column(c: int, *, numeric_only: bool) -> tuple[list[float] | None, list[str]]:
        cells = [row[c].strip() for row in kept]
        numbers = [_number(x) for x in cells]
        bad = [i for i, v in enumerate(numbers) if v is None]
        if not bad:
            return [float(v) for v in numbers], cells
        if numeric_only or len(bad) * 2 < len(cells):
            i = bad[0]
            raise DataError(f"{path.name}, line {line_of[i]}, column '{header[c]}': cannot read "
                            f"{cells[i]!r} as a number. Correct the cell, or remove the column "
                            "from the features.")
        return None, cells

    categorical = opts.get("categorical", "onehot")
    if categorical not in ("onehot", "index"):
        raise DataError(f"CSV option 'categorical' = {categorical!r}: use \"onehot\" or \"index\".")
    parts: list[torch.Tensor] = []
    names: list[str] = []
    for c in feature_cols:
        numbers, cells = column(c, numeric_only=False)
        if numbers is not None:
            parts.append(torch.tensor(numbers, dtype=torch.float32)[:, None])
            names.append(header[c])
            continue
        levels = sorted(set(cells))
        index = torch.tensor([levels.index(x) for x in cells])
        if categorical == "index":
            parts.append(index.float()[:, None])
            names.append(header[c])
        else:
            parts.append(torch.nn.functional.one_hot(index, len(levels)).float())
            names.extend(f"{header[c]}={level}" for level in levels)
    if not parts:
        raise DataError(f"{path.name}: no feature columns left; list them in the option "
                        "'features'.")
    x = torch.cat(parts, dim=1)

    target_type = opts.get("target_type", "auto")
    targets: dict[str, Target] = {}
    for c in target_cols:
        numbers, cells = column(c, numeric_only=target_type == "values")
        if numbers is not None and target_type != "classes":
            distinct = sorted(set(numbers))
            if target_type == "auto" and all(v.is_integer() for v in distinct) and len(
                    distinct) <= MAX_CLASS_VALUES and len(numbers) > 2 * len(distinct):
                numbers = None
            else:
                targets[header[c]] = Target(header[c], torch.tensor(numbers))
                continue
        if numbers is None:
            levels = sorted(set(cells), key=lambda s: (_number(s) is None, _number(s) or 0, s))
            targets[header[c]] = Target(header[c], torch.tensor([levels.index(v) for v in cells]),
                                        tuple(levels))
    weight = None
    if weight_col is not None:
        numbers, _ = column(weight_col, numeric_only=True)
        weight = torch.tensor(numbers, dtype=torch.float32)
        if (weight < 0).any():
            raise DataError(f"{path.name}: the sample weight column '{header[weight_col]}' has "
                            "negative values; weights must be 0 or more.")
    return Dataset(path.stem, x, targets, tuple(names), tabular=True, sample_weight=weight)
