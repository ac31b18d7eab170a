"""Debounced analysis of the design: shapes, errors, parameter counts and generated code.

`analyse_document` adapts the backend (`backend.model.shapes`, `backend.model.codegen`, imported lazily so
the window appears before torch loads) into a plain `Report` the views read. If the backend
cannot be imported, the report carries the structural problems from `graph.validate` only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from graph.document import Document
from graph.events import Edge
from graph.validation import validate

DEBOUNCE_MS = 150


@dataclass(frozen=True)
class QuickFix:
    """A one-click repair the analysis attached to an error (`backend.model.layers.Fix`), for
    the node it concerns; `graph.fixes.fix_edit` makes it one undoable edit."""

    node_id: str
    kind: str
    args: dict[str, Any]
    label: str


@dataclass(frozen=True)
class Problem:
    """One error to show: its message, the nodes it concerns, the connections that bring what
    the layer cannot take (drawn in the error colour) and the quick fixes offered for it."""

    message: str
    node_ids: tuple[str, ...] = ()
    fixes: tuple[QuickFix, ...] = ()
    edges: tuple[Edge, ...] = ()


@dataclass(frozen=True)
class NodeReport:
    input_shapes: tuple[str, ...] = ()
    output_shapes: tuple[str, ...] = ()
    params: int | None = None
    trainable_params: int | None = None
    flops: int | None = None
    error: str = ""


@dataclass
class InstanceReport:
    """One instance of a block as the summary unfolds it: its path (``layer1.0``, as in the
    state-dict keys), its definition and its layers' figures (a nested block: its own
    instances)."""

    path: str
    block_id: str
    order: list[str]
    nodes: dict[str, NodeReport]
    instances: dict[str, list[InstanceReport]] = field(default_factory=dict)


@dataclass
class Report:
    """What the canvas, inspector, summary and code view show after an analysis."""

    nodes: dict[str, NodeReport] = field(default_factory=dict)
    edge_labels: dict[Edge, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    code: str = ""
    code_error: str = ""
    line_of: dict[str, int] = field(default_factory=dict)
    total_params: int | None = None
    seconds: float = 0.0
    backend: bool = False
    blocks: dict[str, Report] = field(default_factory=dict)
    """Block id → what its first instance's analysis shows inside the definition."""
    instances: dict[str, list[InstanceReport]] = field(default_factory=dict)
    """Block node id → its instances (one per repeat), each with its layers' figures."""

    def node_error(self, node_id: str) -> str:
        info = self.nodes.get(node_id)
        return info.error if info else ""

    def error_edges(self) -> set[Edge]:
        """The connections named by a problem (the offending edges)."""
        return {edge for problem in self.problems for edge in problem.edges}

    def fixes_for(self, node_id: str | None = None, edge: Edge | None = None) -> list[QuickFix]:
        """The quick fixes of the problems that concern this node or this connection (an edge
        concerns the problems it is named by, and those of the layer it feeds)."""
        found: list[QuickFix] = []
        for problem in self.problems:
            if (node_id is not None and node_id in problem.node_ids) or (
                    edge is not None and (edge in problem.edges or edge.dst in problem.node_ids)):
                found.extend(f for f in problem.fixes if f not in found)
        return found

    def run_blocker(self) -> str:
        """Why the design cannot train now (the first problem), or "" when it can."""
        if not self.problems:
            return ""
        more = len(self.problems) - 1
        extra = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        return f"Fix the design first: {self.problems[0].message}{extra}"

    def view(self, doc: Document) -> Report:
        """The report for the document on the canvas (a block's: its first instance)."""
        if not doc.is_definition:
            return self
        if doc.block_id in self.blocks:
            return self.blocks[doc.block_id]
        unused = Report(backend=self.backend, problems=_structural(doc))  # no instance yet
        _errors_onto_nodes(unused)
        return unused


def _structural(doc: Document) -> list[Problem]:
    return [Problem(p.message, tuple(p.node_ids)) for p in validate(doc)]


def analyse_document(doc: Document, *, with_code: bool = True) -> Report:
    """Analyse ``doc`` with the backend when it is available (never raises for a bad design)."""
    start = time.perf_counter()
    try:
        from backend.model import shapes
    except ImportError:
        report = Report(problems=_structural(doc))
        _errors_onto_nodes(report)
        report.seconds = time.perf_counter() - start
        return report
    report = Report(backend=True)
    analysis = shapes.analyse(doc)
    _fill(report, doc, analysis, shapes.format_shape)
    report.total_params = analysis.total_params
    _errors_onto_nodes(report)
    _fill_blocks(report, doc, analysis, shapes.format_shape)
    report.instances = _instances(doc, analysis, shapes.format_shape)
    if with_code:
        _add_code(doc, analysis, report)
    report.seconds = time.perf_counter() - start
    return report


def _fill_blocks(report: Report, doc: Document, analysis: Any, fmt: Any) -> None:
    """A report for the inside of every definition, from the first instance met."""
    for node_id in analysis.order:
        info = analysis.nodes[node_id]
        if doc.attr(node_id, "type") != "Block" or not info.instances:
            continue
        block = doc.root.block(doc.attr(node_id, "params")["block"])
        if block.block_id in report.blocks:
            continue
        inner = Report(backend=True)
        _fill(inner, block, info.instances[0], fmt)
        inner.total_params = info.instances[0].total_params
        _errors_onto_nodes(inner)
        report.blocks[block.block_id] = inner
        _fill_blocks(report, block, info.instances[0], fmt)


def _instances(doc: Document, analysis: Any, fmt: Any) -> dict[str, list[InstanceReport]]:
    """Every Block node's instances with their layers' figures (nested blocks within)."""
    found: dict[str, list[InstanceReport]] = {}
    for node_id in analysis.order:
        info = analysis.nodes[node_id]
        if doc.attr(node_id, "type") != "Block" or not info.instances:
            continue
        block = doc.root.block(doc.attr(node_id, "params")["block"])
        found[node_id] = [
            InstanceReport(inner.prefix.rstrip("."), block.block_id, list(inner.order),
                           {n: _node_report(i, fmt) for n, i in inner.nodes.items()},
                           _instances(block, inner, fmt))
            for inner in info.instances]
    return found


def _node_report(info: Any, fmt: Any) -> NodeReport:
    error = getattr(info, "error", None)
    return NodeReport(
        tuple(fmt(s) for s in (info.input_shapes or ()) if s is not None),
        tuple(fmt(s) for s in (info.output_shapes or ()) if s is not None),
        info.params, info.trainable_params, info.flops,
        error.message if error is not None else "",
    )


def _fill(report: Report, doc: Document, analysis: Any, fmt: Any) -> None:
    for node_id, info in analysis.nodes.items():
        report.nodes[node_id] = _node_report(info, fmt)
    for edge in doc.edges():
        shape = analysis.edge_shape(edge)
        if shape is not None:
            report.edge_labels[edge] = fmt(shape)
    seen: set[tuple[str, tuple[str, ...]]] = set()
    for err in analysis.errors:
        key = (err.message, tuple(err.node_ids))
        if key not in seen:
            seen.add(key)
            report.problems.append(_problem(doc, err))


def _problem(doc: Document, err: Any) -> Problem:
    """A backend error as a `Problem`: a shape error of one layer names the connections into it
    (only the input a fix inserts in front of, when there is one) and carries its fixes."""
    node_ids = tuple(err.node_ids)
    raw = tuple(getattr(err, "fixes", ()) or ())
    if len(node_ids) != 1 or node_ids[0] not in doc or not hasattr(err, "fixes"):
        return Problem(err.message, node_ids)
    node_id = node_ids[0]
    fixes = tuple(QuickFix(node_id, f.kind, dict(f.args), f.label or f.kind) for f in raw)
    ports = {int(f.args["port"]) for f in raw if f.kind == "insert_before" and "port" in f.args}
    edges = tuple(e for e in doc.in_edges(node_id) if not ports or e.dst_port in ports)
    return Problem(err.message, node_ids, fixes, edges)


def _errors_onto_nodes(report: Report) -> None:
    """Give every node named by a problem an error message (for its badge)."""
    for problem in report.problems:
        for node_id in problem.node_ids:
            info = report.nodes.get(node_id, NodeReport())
            if not info.error:
                report.nodes[node_id] = NodeReport(info.input_shapes, info.output_shapes,
                                                   info.params, info.trainable_params,
                                                   info.flops, problem.message)


def _add_code(doc: Document, analysis: Any, report: Report) -> None:
    if not analysis.ok:
        report.code_error = "Fix the problems listed to see the generated PyTorch code."
        return
    try:
        from backend.model import codegen
    except ImportError:
        report.code_error = "Code generation is not available in this build."
        return
    try:
        generated = codegen.generate(doc, analysis)
    except Exception as exc:  # noqa: BLE001 - a generator bug must not break editing
        report.code_error = f"Code generation failed: {exc}"
        return
    report.code = generated.source
    report.line_of = dict(getattr(generated, "line_of", {}) or {})


class AnalysisRunner(QObject):
    """Re-analyses the design `DEBOUNCE_MS` after the last change, in the GUI thread."""

    finished = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._doc: Document | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.run_now)
        self.enabled = False
        self.last: Report | None = None

    def set_document(self, doc: Document) -> None:
        self._doc = doc
        self.schedule()

    def schedule(self) -> None:
        """Ask for an analysis soon (restarts the debounce timer)."""
        if self.enabled:
            self._timer.start()

    def pending(self) -> bool:
        """Whether the design changed since the last analysis (one is scheduled)."""
        return self._timer.isActive()

    def start(self) -> None:
        """Enable analysis (after the window is shown: the first one imports torch)."""
        self.enabled = True
        self._timer.start()

    @Slot()
    def run_now(self) -> Report | None:
        """Analyse immediately (tests and the timer)."""
        self._timer.stop()
        if self._doc is None:
            return None
        self.last = analyse_document(self._doc)
        self.finished.emit(self.last)
        return self.last
