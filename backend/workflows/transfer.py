"""Transfer learning: copy layers with their weights from one design into another, freeze them,
train them slower, and "unfreeze all and fine-tune at lr/10".

Every function returns graph edits (one undoable action each) and, where weights move, a
``state_dict`` keyed by the destination design's module names, ready for
`backend.export.weights.load_state_by_name` (which checks shapes again when it loads).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch

from backend.training.lr_multipliers import KEY as MULTIPLIERS_KEY
from backend.training.lr_multipliers import check_multipliers
from graph.block_files import define_used
from graph.document import Document, Node
from graph.edits import AddNode, Composite, Connect, Edit, SetSection, SetTrainable
from graph.errors import GraphError
from graph.events import Edge


class TransferError(GraphError):
    """Layers that cannot be copied; the message says which and why."""


@dataclass
class TransferReport:
    """What `copy_layers` did, layer by layer."""

    copied: list[str] = field(default_factory=list)  # layers whose weights were taken
    added: list[str] = field(default_factory=list)  # layers added to the destination design
    #: (layer, tensor, shape in the destination, shape in the source)
    shape_mismatch: list[tuple[str, str, tuple[int, ...], tuple[int, ...]]] = field(
        default_factory=list)
    type_mismatch: list[tuple[str, str, str]] = field(default_factory=list)  # (layer, dst, src)
    no_weights: list[str] = field(default_factory=list)  # in the source weights: nothing
    #: (layer, tensor): in the source, not in this design's layer (a block built differently)
    missing: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not (self.shape_mismatch or self.type_mismatch or self.no_weights
                    or self.missing)

    def summary(self) -> str:
        parts = [f"{len(self.copied)} layer(s) copied with weights"]
        if self.added:
            parts.append("added to the design: " + ", ".join(self.added))
        for layer, tensor, dst, src in self.shape_mismatch:
            parts.append(f"{layer}: {tensor} has shape {dst} here but {src} in the source")
        for layer, dst, src in self.type_mismatch:
            parts.append(f"{layer}: a {dst} here but a {src} in the source")
        for layer, tensor in self.missing[:3]:
            parts.append(f"{layer}: the source has {tensor} but this design's layer has not")
        if len(self.missing) > 3:
            parts.append(f"{len(self.missing) - 3} more such tensor(s)")
        if self.no_weights:
            parts.append("no weights in the source for " + ", ".join(self.no_weights))
        return "; ".join(parts + self.notes) + "."


def read_weights(weights: dict[str, torch.Tensor] | str | os.PathLike[str]
                 ) -> dict[str, torch.Tensor]:
    """A state dict, or a safetensors file read into one."""
    if isinstance(weights, dict):
        return weights
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(os.fspath(weights))
    except (OSError, SafetensorError, ValueError) as exc:
        raise TransferError(f"Cannot read the weights file {os.fspath(weights)!r}: {exc}. "
                            "Choose a .safetensors file saved by NetCanvas.") from None


def _attr_names(doc: Document) -> dict[str, str]:
    """Layer name → module attribute of the compiled design."""
    from backend.model.codegen import generate

    code = generate(doc)
    return {doc.attr(n, "name"): a for n, a in code.attr_names.items()}


def kind(doc: Document, node_id: str) -> str:
    """A layer's type as the person reads it: "Dense", or "block BasicBlock" for an instance."""
    node_type = doc.attr(node_id, "type")
    if node_type != "Block":
        return node_type
    block_id = doc.attr(node_id, "params").get("block")
    return f"block {doc.block(block_id).name}" if doc.has_block(block_id) else "block"


def copy_layers(src_doc: Document, src_weights: dict[str, torch.Tensor] | str | os.PathLike[str],
                dst_doc: Document, layer_names: list[str]
                ) -> tuple[Edit | None, dict[str, torch.Tensor], TransferReport]:
    """Copy the layers ``layer_names`` of ``src_doc`` with their weights into ``dst_doc``.

    Layers are matched by name. A layer the destination lacks is added (same type, parameters
    and position) with the connections among the copied layers; a block instance comes with its
    definition and those it uses (an identical definition already here is reused), and its
    weights are every tensor under it (``layer2.0.conv1.weight``). A layer the destination has
    keeps its own parameters, and its weights are taken only when every tensor exists there
    with the same shape (mismatches are listed, never silently loaded). ``dst_doc`` is not
    changed: apply the returned edit (None when nothing is added), then load the state dict
    into the compiled destination.
    """
    unknown = [n for n in layer_names if src_doc.find(n) is None]
    if unknown:
        raise TransferError(f"The source design has no layer called {', '.join(unknown)}; its "
                            f"layers are {', '.join(sorted(src_doc.names()))}.")
    state = read_weights(src_weights)
    report = TransferReport()
    src_attrs = _attr_names(src_doc)
    edits: list[Edit] = []
    new_ids: dict[str, str] = {}  # src node id → dst node id
    preview = dst_doc.copy()
    for name in layer_names:
        sid = src_doc.find(name)
        node = src_doc.node(sid)
        did = dst_doc.find(name)
        if did is None:
            params = node.params
            if node.type == "Block":
                defined, new_id = define_used(preview, src_doc.root, params["block"])
                for edit in defined:
                    preview.apply(edit)
                edits.extend(defined)
                params = {**params, "block": new_id[params["block"]]}
            did = preview.new_node_id()
            edit = AddNode(Node(did, node.type, name, params, node.pos, node.trainable))
            preview.apply(edit)
            edits.append(edit)
            report.added.append(name)
        elif kind(dst_doc, did) != kind(src_doc, sid):
            report.type_mismatch.append((name, kind(dst_doc, did), kind(src_doc, sid)))
            continue
        new_ids[sid] = did
    for edge in src_doc.edges():
        if edge.src in new_ids and edge.dst in new_ids and (
            src_doc.attr(edge.dst, "name") in report.added
        ):
            con = Connect(Edge(new_ids[edge.src], edge.src_port, new_ids[edge.dst],
                               edge.dst_port))
            if preview.edge_into(con.edge.dst, con.edge.dst_port) is None:
                preview.apply(con)
                edits.append(con)
    # Shapes: against the destination as it will be, when it builds; else against nothing.
    try:
        from backend.model.compiler import compile_document

        own = compile_document(preview).module.state_dict()
        dst_attrs = _attr_names(preview)
    except GraphError as exc:
        own, dst_attrs = None, {n: n for n in layer_names}
        report.notes.append("shapes are checked when the weights are loaded: the design does "
                            f"not build yet ({str(exc).splitlines()[0]})")
    out: dict[str, torch.Tensor] = {}
    for name in layer_names:
        if name not in {src_doc.attr(s, "name") for s in new_ids}:
            continue
        src_attr = src_attrs.get(name)
        prefix = f"{src_attr}."
        tensors = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if not tensors:
            if src_attr is not None:
                report.no_weights.append(name)
            continue
        dst_attr = dst_attrs.get(name, name)
        bad = False
        for key, tensor in tensors.items():
            full = f"{dst_attr}.{key}"
            if own is not None and full not in own:
                report.missing.append((name, key))
                bad = True
            elif own is not None and tuple(own[full].shape) != tuple(tensor.shape):
                report.shape_mismatch.append((name, key, tuple(own[full].shape),
                                              tuple(tensor.shape)))
                bad = True
        if not bad:
            out.update({f"{dst_attr}.{k}": v.detach().clone() for k, v in tensors.items()})
            report.copied.append(name)
    edit = Composite(tuple(edits), f"copy {len(report.added)} layer(s)") if edits else None
    return edit, out, report


def freeze(doc: Document, layer_names: list[str], trainable: bool = False) -> Edit | None:
    """Switch ``trainable`` off (or on) for the named layers, as one edit (None: no change)."""
    ids = []
    for name in layer_names:
        node_id = doc.find(name)
        if node_id is None:
            raise TransferError(f"There is no layer called {name!r} in the design.")
        if doc.attr(node_id, "trainable") != trainable:
            ids.append(node_id)
    if not ids:
        return None
    word = "unfreeze" if trainable else "freeze"
    return Composite(tuple(SetTrainable(n, trainable) for n in ids),
                     f"{word} {', '.join(doc.attr(n, 'name') for n in ids)}")


def set_lr_multipliers(doc: Document, multipliers: dict[str, float]) -> Edit | None:
    """Store per-layer learning-rate multipliers in the training section (factor 1 removes a
    layer's entry); the Trainer gives each such layer the scheduled lr × factor."""
    check_multipliers(multipliers)
    for name in multipliers:
        if doc.find(name) is None:
            raise TransferError(f"There is no layer called {name!r} in the design.")
    section = doc.section("training")
    current = dict(section.get(MULTIPLIERS_KEY) or {})
    for name, factor in multipliers.items():
        if float(factor) == 1.0:
            current.pop(name, None)
        else:
            current[name] = float(factor)
    if current:
        section[MULTIPLIERS_KEY] = current
    else:
        section.pop(MULTIPLIERS_KEY, None)
    edit = SetSection("training", section)
    return None if edit.is_noop(doc) else edit


def fine_tune(doc: Document, factor: float = 0.1) -> Edit:
    """"Unfreeze all and fine-tune at lr/10" as one edit: every layer trainable, the learning
    rate × ``factor`` and the per-layer multipliers cleared."""
    if not 0 < factor <= 1:
        raise ValueError(f"The fine-tuning factor must be in (0, 1], got {factor!r}.")
    edits: list[Edit] = [SetTrainable(n, True) for n in doc.node_ids()
                         if not doc.attr(n, "trainable")]
    section = doc.section("training")
    section["lr"] = float(section.get("lr", 1e-3)) * factor
    section.pop(MULTIPLIERS_KEY, None)
    edits.append(SetSection("training", section))
    return Composite(tuple(edits), "unfreeze all and fine-tune")


def frozen_layers(doc: Document) -> list[str]:
    """Names of the layers whose ``trainable`` switch is off."""
    return [doc.attr(n, "name") for n in doc.node_ids() if not doc.attr(n, "trainable")]


__all__ = ["TransferError", "TransferReport", "copy_layers", "kind", "freeze",
           "set_lr_multipliers", "fine_tune", "frozen_layers", "read_weights"]
