"""``netcanvas check PROJECT``: the design's summary table, totals and errors (exit 1 if invalid):
those of the design and those of its data and training settings."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", help="a NetCanvas project file (.ncproj.json)")


def summary_rows(doc, analysis) -> list[tuple[str, str, str, str]]:
    """(layer, type, output shape, params) for every node, in topological order."""
    from backend.model.shapes import format_shape

    order = analysis.order or list(doc.graph.nodes)
    rows = []
    for node_id in order:
        info = analysis.nodes[node_id]
        shape = ", ".join(format_shape(s) for s in info.output_shapes) or (
            "error" if info.error else "?")
        params = f"{info.params:,}"
        if info.params and info.trainable_params == 0:
            params += " (frozen)"
        rows.append((doc.attr(node_id, "name"), doc.attr(node_id, "type"), shape, params))
    return rows


def format_table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    def fmt(r: tuple[str, ...]) -> str:
        cells = [c.ljust(w) if i < len(r) - 1 else c.rjust(w)
                 for i, (c, w) in enumerate(zip(r, widths))]
        return "  ".join(cells).rstrip()
    return "\n".join([fmt(header), line, *(fmt(r) for r in rows)])


def settings_problems(doc) -> list[str]:
    """Every problem of the project's data and training sections, one sentence each, from
    the same declarations that training, the app's form and the export use."""
    from backend.data.config import DataConfig
    from backend.training.config import TrainConfig

    return DataConfig.problems(doc.section("data")) + TrainConfig.problems(
        doc.section("training"))


def run(args: argparse.Namespace) -> int:
    from graph.errors import GraphError
    from graph.project import load

    try:
        doc = load(args.project)
    except GraphError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    from backend.model.shapes import analyse

    analysis = analyse(doc)
    print(f"{doc.name} ({args.project})")
    print(format_table(summary_rows(doc, analysis), ("Layer", "Type", "Output shape", "Params")))
    frozen = analysis.total_params - analysis.trainable_params
    print(f"Total params: {analysis.total_params:,}  trainable: {analysis.trainable_params:,}"
          f"  frozen: {frozen:,}")
    errors = [e.message for e in analysis.errors] + settings_problems(doc)
    if not errors:
        print("No errors.")
        return 0
    print(f"{len(errors)} error(s):")
    for message in errors:
        print(f"  - {message}")
    return 1
