"""A short way to build designs in code (examples, tests, benchmarks, model import).

    s = Sketch("Classifier")
    x = s.add("Input", shape=(784,))
    h = s.add("Dense", x, units=300, activation="relu")
    s.add("Output", s.add("Dense", h, units=10), loss="cross_entropy")
    doc = s.doc
"""

from __future__ import annotations

from typing import Any

from graph.document import Document
from graph.edits import SetModelName, SetSection, add_node, connect


class Sketch:
    def __init__(self, name: str = "Model", doc: Document | None = None) -> None:
        self.doc = doc or Document()
        self.doc.apply(SetModelName(name))

    def add(self, type_name: str, *inputs: str, name: str | None = None,
            pos: tuple[float, float] | None = None, trainable: bool = True,
            **params: Any) -> str:
        """Add a layer fed by ``inputs`` (in port order); return its node id."""
        edit = add_node(self.doc, type_name, pos or (0.0, 0.0), name=name, params=params,
                        trainable=trainable)
        self.doc.apply(edit)
        for port, src in enumerate(inputs):
            self.doc.apply(connect(self.doc, src, edit.node.id, dst_port=port))
        return edit.node.id

    def settings(self, section: str, **values: Any) -> Sketch:
        merged = self.doc.section(section)
        merged.update(values)
        self.doc.apply(SetSection(section, merged))
        return self

    def layout(self) -> Sketch:
        from graph.layout import apply_layout

        self.doc.apply(apply_layout(self.doc))
        return self
