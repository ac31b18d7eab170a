"""Errors about data, worded for the person who chose the data."""

from __future__ import annotations


class DataError(ValueError):
    """Data that cannot be read or used as configured; the message says what to change."""


class DataMismatchError(DataError):
    """The data do not fit the design (feature count vs Input shape, classes vs output units).

    ``problems`` lists one sentence per mismatch; the message joins them.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("The data do not fit the design:\n- " + "\n- ".join(self.problems))
