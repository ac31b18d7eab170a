"""How much memory a design needs, and the one refusal of designs whose weights cannot exist.

Shape inference runs on the ``meta`` device, so a design whose Input is 100000×100000×100000
analyses happily — and building it would ask the allocator for petabytes. `check_fits` is the
single place that refuses such a design, with the figure; `backend.model.compiler` calls it
before it instantiates a module (export and training both compile), and ``netcanvas check``
calls it with the report.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass, field
from typing import Any

from backend.model.codegen import CompileError
from backend.model.shapes import Analysis
from graph.document import Document

_DTYPE_BYTES = {"float32": 4, "int64": 8}
PARAM_BYTES = 4
"""Parameters are float32."""


class DesignTooLargeError(CompileError):
    """A design whose weights cannot be allocated on this machine."""


@dataclass
class MemoryReport:
    """A design's parameter and activation memory."""

    parameters: int
    parameter_bytes: int
    activation_bytes: int
    """Every layer's output for one sample (what a forward pass keeps for the backward pass)."""
    per_node: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Node id → (parameter bytes, activation bytes per sample)."""

    def batch_activation_bytes(self, batch: int) -> int:
        return self.activation_bytes * batch

    def training_bytes(self, batch: int) -> int:
        """A rough training footprint: weights, gradients and two optimizer moments (Adam),
        plus the activations of one batch."""
        return 4 * self.parameter_bytes + self.batch_activation_bytes(batch)

    def largest(self, count: int = 3) -> list[tuple[str, int]]:
        """The nodes holding the most parameter memory, largest first."""
        ranked = sorted(((n, p) for n, (p, _) in self.per_node.items() if p), key=lambda t: -t[1])
        return ranked[:count]


def _numel(shape: tuple) -> int:
    n = 1
    for d in shape[1:]:
        n *= int(d)
    return n


def _activations(doc: Document, node_id: str, info: Any) -> int:
    """Bytes per sample a node's forward keeps: a block, every layer inside each instance."""
    if doc.attr(node_id, "type") == "Block" and info.instances:
        block = doc.root.block(doc.attr(node_id, "params")["block"])
        return sum(_activations(block, n, inner.nodes[n]) for inner in info.instances
                   for n in inner.nodes if block.attr(n, "type") not in ("BlockInput",
                                                                         "BlockOutput"))
    return sum(_numel(s) * _DTYPE_BYTES.get(d, 4)
               for s, d in zip(info.output_shapes, info.dtypes))


def memory_report(doc: Document, analysis: Analysis) -> MemoryReport:
    """Parameter memory (float32) and per-sample activation memory of every analysed node."""
    per_node: dict[str, tuple[int, int]] = {}
    for node_id, info in analysis.nodes.items():
        if doc.attr(node_id, "type") == "Output":
            continue  # a pass-through: its tensor is the layer's before it
        per_node[node_id] = (info.params * PARAM_BYTES, _activations(doc, node_id, info))
    return MemoryReport(analysis.total_params, sum(p for p, _ in per_node.values()),
                        sum(a for _, a in per_node.values()), per_node)


def physical_memory() -> int | None:
    """This machine's physical memory in bytes (None when the platform will not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        pass
    if os.name == "nt":  # pragma: no cover - Windows
        class _Status(ctypes.Structure):
            _fields_ = [("length", ctypes.c_ulong), ("load", ctypes.c_ulong),
                        ("total", ctypes.c_ulonglong), ("avail", ctypes.c_ulonglong),
                        ("page_total", ctypes.c_ulonglong), ("page_avail", ctypes.c_ulonglong),
                        ("virtual_total", ctypes.c_ulonglong),
                        ("virtual_avail", ctypes.c_ulonglong), ("extended", ctypes.c_ulonglong)]

        status = _Status()
        status.length = ctypes.sizeof(_Status)
        if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):
            return int(status.total)
    return None


def human_bytes(n: int) -> str:
    """``1.5 GiB``."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if value < 1024 or unit == "EiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def check_fits(doc: Document, analysis: Analysis, available: int | None = None) -> MemoryReport:
    """The design's memory report; `DesignTooLargeError` when its weights alone exceed this
    machine's memory (``available``: physical memory by default), naming the largest layers."""
    report = memory_report(doc, analysis)
    limit = physical_memory() if available is None else available
    if limit is not None and report.parameter_bytes > limit:
        big = report.largest()
        names = ", ".join(f"{doc.attr(n, 'type')} '{doc.attr(n, 'name')}' "
                          f"({human_bytes(b)})" for n, b in big)
        raise DesignTooLargeError(
            f"The design's weights need {human_bytes(report.parameter_bytes)} "
            f"({report.parameters:,} float32 parameters), more than this machine's "
            f"{human_bytes(limit)} of memory, so they cannot be allocated. Most of it is in "
            f"{names}: shrink the input feeding it (a pooling or strided convolution in front), "
            "or use fewer units.", [n for n, _ in big])
    return report
