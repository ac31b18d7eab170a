"""The example gallery: one project file per scenario, shipped in ``resources/examples``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from graph import project
from graph.document import Document


@dataclass(frozen=True)
class ExampleInfo:
    name: str
    title: str
    description: str
    path: Path


def _folder() -> Path:
    return Path(str(resources.files("resources") / "examples"))


def list_examples() -> list[ExampleInfo]:
    """Every bundled example, in gallery order (the ``gallery_order`` key, then name)."""
    items = []
    for path in sorted(_folder().glob("*.json")):
        meta = json.loads(path.read_text(encoding="utf-8"))
        items.append((meta.get("gallery_order", 999), ExampleInfo(
            path.stem, meta.get("title", path.stem), meta.get("description", ""), path)))
    return [info for _, info in sorted(items, key=lambda t: (t[0], t[1].name))]


def example_path(name: str) -> Path:
    for info in list_examples():
        if info.name == name:
            return info.path
    known = ", ".join(i.name for i in list_examples())
    raise KeyError(f"No example called {name!r}. Examples: {known}")


def load_example(name: str) -> Document:
    return project.load(example_path(name))
