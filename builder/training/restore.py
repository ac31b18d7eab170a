"""“Restore this run”: the run's design and its weights come back as one undoable step.

The design is replaced through graph edits (every layer of the current design removed, the
run's layers, connections and settings added: one `Composite`), so undo restores the design
exactly; the command also swaps the project's current weights, so undo brings the previous
weights back with the previous design.
"""

from __future__ import annotations

from typing import Any

from builder.commands import EditCommand
from graph.document import SECTIONS, Document
from graph.edits import AddNode, Composite, Connect, Edit, RemoveNode, SetModelName, SetSection


def replace_design(doc: Document, design: Document, text: str) -> Composite:
    """One edit that turns ``doc`` into ``design`` (layers, connections, settings, name)."""
    parts: list[Edit] = [RemoveNode(n) for n in doc.node_ids()]
    parts += [AddNode(node) for node in design.nodes()]
    parts += [Connect(edge) for edge in design.edges()]
    parts += [SetSection(section, design.section(section)) for section in SECTIONS]
    parts.append(SetModelName(design.name))
    return Composite(tuple(parts), text)


class RestoreRunCommand(EditCommand):
    """Replace the design by a run's and make its weights current; undo reverses both."""

    def __init__(self, doc: Document, edit: Edit, inverse: Edit, runs: Any, weights: Any,
                 previous: Any, text: str) -> None:
        super().__init__(doc, edit, inverse, text)  # applied before it was pushed
        self.runs, self.weights, self.previous = runs, weights, previous

    def redo(self) -> None:
        again = not self._applied
        super().redo()
        if again:
            self.runs.set_weights(self.weights, dirty=False)

    def undo(self) -> None:
        super().undo()
        self.runs.set_weights(self.previous, dirty=False)


def restore_run(controller: Any, runs: Any, run_id: str) -> str:
    """Push the restore of run ``run_id``; returns what was done, for the status bar.

    Raises `backend.runs.files.RunFormatError` (the run folder cannot be read) or a
    `graph.errors.GraphError` (its design cannot be built here); nothing changes then."""
    info = runs.get(run_id)
    title = info.title if info is not None else run_id
    design = runs.design(run_id)
    which = runs.best_weights_of(run_id)
    weights = runs.run_weights(run_id, which) if which else None
    doc = controller.doc
    text = f"restore {title}"
    edit = replace_design(doc, design, text)
    inverse = doc.apply(edit)
    previous = runs.weights
    if weights is not None:
        runs.set_weights(weights, dirty=False)
    controller.stack.push(RestoreRunCommand(doc, edit, inverse, runs,
                                            weights if weights is not None else previous,
                                            previous, text))
    if weights is None:
        return f"Restored the design of {title}; it has no weights, so the current ones stay."
    source = {"final": "its final weights", "checkpoint": "the weights of its last checkpoint"}
    return f"Restored the design of {title} and {source[which]} (Undo brings back the previous)."
