"""The facts the data mapping shows: columns, targets, the built-in sets' table, typed ranges."""

from __future__ import annotations

import re

import pytest

from backend.data.builtin import LOADERS, load_builtin
from backend.data.columns import BUILTIN_FACTS, describe, format_columns, parse_columns
from backend.data.config import BUILTIN


def test_the_builtin_table_is_what_the_loaders_give():
    assert set(BUILTIN_FACTS) == set(BUILTIN) == set(LOADERS)
    for name, facts in BUILTIN_FACTS.items():
        ds = load_builtin(name)
        described = describe(ds)
        assert facts.samples == len(ds), name
        if ds.x.dim() == 2:
            assert facts.features == f"{ds.x.shape[1]} features", name
        else:
            numbers = [int(s) for s in facts.features.replace("×", " ").split() if s.isdigit()]
            assert [n for n in numbers if n != 1] == [s for s in ds.x.shape[1:] if s != 1], name
        (target,) = described.targets
        if target.classes:
            assert facts.target == f"{target.classes} classes", name
        else:
            assert facts.target.startswith("values"), name


def test_columns_have_names_kinds_and_preview_values():
    facts = describe(load_builtin("diabetes"))
    assert facts.tabular and len(facts.columns) == 10
    assert facts.columns[0].name == "age" and facts.columns[0].kind == "number"
    assert len(facts.columns[0].preview) == 3
    assert facts.summary() == "442 samples · 10 features · target 'target': values"
    iris = describe(load_builtin("iris"))
    assert iris.targets[0].classes == 3 and iris.targets[0].preview[0] == "setosa"
    xor = describe(load_builtin("xor"))
    assert xor.columns[0].kind == "0/1"
    assert not describe(load_builtin("digits")).columns  # images: no columns to pick


@pytest.mark.parametrize("text, names, expected", [
    ("0-4, 7", None, [0, 1, 2, 3, 4, 7]),
    ("4-9", [f"c{i}" for i in range(10)], [4, 5, 6, 7, 8, 9]),
    ("age, bmi", ["age", "sex", "bmi"], ["age", "bmi"]),
    ("-1", ["a", "b"], [-1]),
    (" 2 ;3 ,", None, [2, 3]),
    ("", None, []),
])
def test_typed_columns(text, names, expected):
    assert parse_columns(text, names) == expected


@pytest.mark.parametrize("text, names, reason", [
    ("0-4", ["a", "b"], "column 4 does not exist: the data set has 2 columns (0–1)"),
    ("5-2", None, "runs backwards"),
    ("0-", None, "is not a range"),
    ("agee", ["age", "bmi"], "there is no column “agee”"),
    ("0, age", ["age", "bmi"], "listed twice"),
])
def test_bad_columns_say_why(text, names, reason):
    with pytest.raises(ValueError, match=re.escape(reason)):
        parse_columns(text, names)


def test_ranges_are_shown_back_as_typed():
    assert format_columns([0, 1, 2, 3, 4, 7]) == "0-4, 7"
    assert format_columns([4, 5]) == "4, 5"
    assert format_columns(["age", 3, 4, 5, -1]) == "age, 3-5, -1"
    for text in ("0-4, 7", "age, 3-5"):
        assert format_columns(parse_columns(text)) == text
