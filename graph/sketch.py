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
        for block_id in self.doc.block_ids():
            self.block(block_id).layout()
        return self

    def define(self, name: str, *params: Any, sequential: bool = False) -> BlockSketch:
        """A new, empty block definition with ``params`` (`graph.blocks.param_spec`)."""
        from graph.block_edits import BlockRecord, DefineBlock

        block_id = self.doc.new_block_id()
        self.doc.apply(DefineBlock(BlockRecord(block_id, name, tuple(params), sequential)))
        return BlockSketch(self.doc, block_id)

    def block(self, block_id: str) -> BlockSketch:
        return BlockSketch(self.doc, block_id)


class BlockSketch:
    """`Sketch.add` inside a definition (every edit goes through `InBlock`)."""

    def __init__(self, root: Document, block_id: str) -> None:
        self.root, self.id = root, block_id

    @property
    def doc(self) -> Document:
        return self.root.block(self.id)

    def add(self, type_name: str, *inputs: str, name: str | None = None,
            pos: tuple[float, float] | None = None, trainable: bool = True,
            **params: Any) -> str:
        from graph.block_edits import InBlock

        inner = self.doc
        edit = add_node(inner, type_name, pos or (0.0, 0.0), name=name, params=params,
                        trainable=trainable)
        self.root.apply(InBlock(self.id, edit))
        for port, src in enumerate(inputs):
            self.root.apply(InBlock(self.id, connect(inner, src, edit.node.id, dst_port=port)))
        return edit.node.id

    def layout(self) -> BlockSketch:
        from graph.block_edits import InBlock
        from graph.layout import apply_layout

        self.root.apply(InBlock(self.id, apply_layout(self.doc)))
        return self
