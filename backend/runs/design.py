"""Which design and which data a result belongs to: short keys that change exactly when the
model or its data change (not when a layer is moved on the canvas or a training setting is
changed). Views show a result only while its keys equal the current design's."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from graph.document import Document
from graph.project import to_dict


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def model_part(obj: dict[str, Any]) -> dict[str, Any]:
    """The part of a project dict that defines the model: layers (without their positions and
    trainable switches, which change neither the module nor its predictions), connections and
    the class name."""
    nodes = [{k: v for k, v in n.items() if k not in ("pos", "trainable")}
             for n in obj.get("nodes", [])]
    return {"name": obj.get("name"), "nodes": sorted(nodes, key=lambda n: str(n.get("id"))),
            "edges": sorted(obj.get("edges", []), key=json.dumps)}


def design_key(doc: Document | dict[str, Any]) -> str:
    """A key of the model a design defines (equal keys: the same module and state dict)."""
    obj = to_dict(doc) if isinstance(doc, Document) else doc
    return _digest(model_part(obj))


def data_key(doc: Document | dict[str, Any]) -> str:
    """A key of the design's data settings (which data, split and preprocessing)."""
    obj = to_dict(doc) if isinstance(doc, Document) else doc
    return _digest(obj.get("data", {}))
