"""One declaration per setting: its type, default, bounds, choices and help, on the dataclass
field that holds it.

The config dataclasses (`TrainConfig`, `ScheduleConfig`, `DataConfig`, `AugmentConfig`)
declare each setting once, as ``name: type = setting(default, label, help, ...)``. Everything
else is derived from those declarations: parsing and validating a project section (`parse`,
`problems` for ``netcanvas check``), writing it back (`to_section`), the app's settings form
(builder/training/settings_form.py) and the command-line flags of ``netcanvas train`` and of
the exported ``train.py`` (`add_flags`, `flag_values`). Adding a setting is one field here.

Pure Python, no torch: part of the runtime that the exported ``train.py`` carries.
"""

from __future__ import annotations

import argparse
import copy
import math
from collections.abc import Callable, Iterator
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

INT, FLOAT, BOOL, CHOICE, TEXT, FRACTION, NESTED, CUSTOM = (
    "int", "float", "bool", "choice", "text", "fraction", "nested", "custom")


@dataclass(frozen=True)
class Setting:
    """How one setting is typed, bounded, shown and explained."""

    label: str  # the form's label
    help: str  # tooltip, CLI help
    kind: str
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()
    #: None is allowed (the data set's default split, no sample weights, ...).
    optional: bool = False
    #: Choices compare case-insensitively and are stored lower-case ("SGD" -> "sgd").
    lower: bool = False
    #: How the form shows the lowest value ("off", "full batch"); empty: the number.
    off: str = ""
    unit: str = ""  # the form's suffix, e.g. " epochs"
    decimals: int = 3  # float fields in the form
    step: float = 1.0  # the form's arrow step
    #: What the form proposes when the setting's group is switched on (augmentation).
    suggested: Any = None
    flag: bool = True  # a command-line flag of `netcanvas train` and train.py
    form: bool = True  # a field of the app's settings form (False: edited elsewhere)
    #: When the setting matters, from the parsed config; the form disables it otherwise...
    applies: Callable[[Any], bool] | None = None
    #: ...and says why (its tooltip then); without ``needs`` the form hides it instead.
    needs: str = ""
    #: Back to the default when it stops applying (the form does it in the same edit).
    reset_when_off: bool = False
    #: Validate and normalise a value the standard kinds cannot describe (raise ValueError).
    check: Callable[[str, Any], Any] | None = None
    #: The config dataclass of a nested section (the schedule, augmentation).
    nested: type | None = None
    #: `to_section` writes the key even at its default.
    always: bool = False
    #: A nested group the form switches on and off as a whole (off: every value at default).
    switch: bool = False

    def allowed(self) -> str:
        """What a valid value looks like, for messages."""
        if self.kind == BOOL:
            return "true or false"
        if self.kind == CHOICE:
            return "one of " + ", ".join(self.choices)
        if self.kind == TEXT:
            return "a text" + (" or null" if self.optional else "")
        if self.kind == FRACTION:
            return "a fraction from 0 to below 1 (e.g. 0.2)"
        whole = "a whole number" if self.kind == INT else "a number"
        return f"{whole} from {self.lo:g} to {self.hi:g}"

    def validate(self, key: str, value: Any, section: str) -> Any:
        """The value, normalised (ints stay ints, floats become floats), or ValueError."""
        if value is None and self.optional:
            return None
        if self.check is not None:
            return self.check(key, value)
        if self.kind == NESTED:
            return parse(self.nested, value, section, prefix=f"{key}.")
        if self.kind == BOOL:
            if isinstance(value, bool):
                return value
        elif self.kind == CHOICE:
            if isinstance(value, str):
                text = value.lower() if self.lower else value
                if text in self.choices:
                    return text
        elif self.kind == TEXT:
            if isinstance(value, str):
                return value
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            if self.kind == FRACTION:
                if math.isfinite(value) and 0.0 <= value < 1.0:
                    return float(value)
            elif self.kind == INT:
                if (isinstance(value, int) or float(value).is_integer()) and \
                        self.lo <= value <= self.hi:
                    return int(value)
            elif math.isfinite(value) and self.lo <= value <= self.hi:
                return float(value)
        raise bad(section, key, value, self.allowed())


def bad(section: str, key: str, value: Any, allowed: str) -> ValueError:
    """The one wording of a refused setting."""
    return ValueError(f"{section} settings: '{key}' = {value!r} is not allowed; use {allowed}.")


def setting(default: Any, label: str, help: str, kind: str | None = None, **options: Any
            ) -> Any:
    """A dataclass field declaring a setting (mutable defaults are copied per instance)."""
    if kind is None:
        kind = (BOOL if isinstance(default, bool) else INT if isinstance(default, int) else
                FLOAT if isinstance(default, float) else CHOICE if options.get("choices") else
                TEXT)
    if options.get("nested") is not None:
        kind = NESTED
    spec = Setting(label, help, kind, **options)
    meta = {"setting": spec}
    if options.get("nested") is not None:
        return field(default_factory=options["nested"], metadata=meta)
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    return field(default=default, metadata=meta)


def declared(cls: type) -> Iterator[tuple[str, Setting]]:
    """(field name, Setting) of every declared setting of a config dataclass, in order."""
    for f in fields(cls):
        spec = f.metadata.get("setting")
        if spec is not None:
            yield f.name, spec


def default_of(cls: type, name: str) -> Any:
    for f in fields(cls):
        if f.name == name:
            if f.default is not MISSING:
                return f.default
            return f.default_factory()
    raise KeyError(name)


def parse(cls: type, raw: Any, section: str, prefix: str = "") -> Any:
    """A config dataclass from a project section; ValueError names the first bad key."""
    found = problems(cls, raw, section, prefix, cross=True)
    if found:
        raise ValueError(found[0])
    return _build(cls, raw, section, prefix)


def problems(cls: type, raw: Any, section: str, prefix: str = "", cross: bool = True
             ) -> list[str]:
    """Every problem of a section, one sentence each (empty: valid). ``cross=False`` leaves out
    the checks across settings (a section the app's form is still filling in)."""
    if hasattr(cls, "coerce"):
        raw = cls.coerce(raw)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        what = prefix[:-1] if prefix else section
        return [f"{section} settings must be a JSON object." if not prefix
                else str(bad(section, what, raw, "an object"))]
    out = []
    values = {}
    for name, spec in declared(cls):
        if name in raw:
            try:
                values[name] = spec.validate(prefix + name, raw[name], section)
            except ValueError as exc:
                out.append(str(exc))
    known = {f.name for f in fields(cls)}
    if "extra" not in known:  # nested sections keep no unknown keys
        for key in raw:
            if key not in known:
                out.append(str(bad(section, prefix + key, raw[key], "the keys " + ", ".join(
                    f"'{n}'" for n, _ in declared(cls)))))
    if cross and not out and hasattr(cls, "cross_check"):
        out += cls(**values).cross_check()
    return out


def _build(cls: type, raw: Any, section: str, prefix: str) -> Any:
    if hasattr(cls, "coerce"):
        raw = cls.coerce(raw)
    raw = copy.deepcopy(raw or {})
    values = {name: spec.validate(prefix + name, raw[name], section)
              for name, spec in declared(cls) if name in raw}
    obj = cls(**values)
    if hasattr(obj, "extra"):
        known = {f.name for f in fields(cls)}
        obj.extra = {k: v for k, v in raw.items() if k not in known}
    return obj


def to_section(obj: Any) -> dict[str, Any]:
    """The JSON section of a config: the settings that differ from their defaults (and those
    declared ``always``), nested configs as their own sections, unknown keys kept."""
    out: dict[str, Any] = {}
    for name, spec in declared(type(obj)):
        value = getattr(obj, name)
        if spec.kind == NESTED:
            section = to_section(value)
            if section:
                out[name] = value.to_value() if hasattr(value, "to_value") else section
        elif spec.always or value != default_of(type(obj), name):
            out[name] = copy.deepcopy(value)
    out.update(copy.deepcopy(getattr(obj, "extra", {})))
    return out


def full_section(obj: Any) -> dict[str, Any]:
    """Every setting of a config with its value (nested configs in full), unknown keys kept:
    what an exported train.py shows."""
    out: dict[str, Any] = {}
    for name, spec in declared(type(obj)):
        value = getattr(obj, name)
        out[name] = full_section(value) if spec.kind == NESTED else copy.deepcopy(value)
    out.update(copy.deepcopy(getattr(obj, "extra", {})))
    return out


class Section:
    """A project section's config dataclass (``SECTION`` names it: "training", "data")."""

    SECTION = ""

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> Any:
        """Parse and validate the section; unknown keys are kept in ``extra``."""
        return parse(cls, raw, cls.SECTION)

    @classmethod
    def problems(cls, raw: Any) -> list[str]:
        """Every problem of the section (empty: valid)."""
        return problems(cls, raw, cls.SECTION)

    def to_dict(self) -> dict[str, Any]:
        """The JSON section: the settings that differ from their defaults, unknown keys kept."""
        return to_section(self)


# --- command-line flags ----------------------------------------------------------------------

_TYPES = {INT: int, FLOAT: float, FRACTION: float, TEXT: str, CHOICE: str}


_METAVARS = {INT: "N", FLOAT: "X", FRACTION: "X"}


def add_flags(parser: argparse.ArgumentParser, cls: type, section: str) -> None:
    """``--name`` flags for the declared settings of ``cls`` (``flag`` true)."""
    group = parser.add_argument_group(f"{section} settings (they override the project's)")
    for name, spec in declared(cls):
        if not spec.flag or spec.kind == NESTED:
            continue
        flag = "--" + name.replace("_", "-")
        text = spec.help.replace("%", "%%")
        if spec.kind == BOOL:
            group.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction,
                               default=None, help=text)
            continue
        if spec.kind == CHOICE:
            group.add_argument(flag, dest=name, default=None, choices=spec.choices,
                               type=str.lower if spec.lower else str, help=text)
            continue
        group.add_argument(flag, dest=name, default=None, type=_TYPES.get(spec.kind, str),
                           metavar=_METAVARS.get(spec.kind, name.upper()), help=text)


def flag_values(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The settings given on the command line (validated later, with the section)."""
    return {name: getattr(args, name) for name, spec in declared(cls)
            if spec.flag and getattr(args, name, None) is not None}
