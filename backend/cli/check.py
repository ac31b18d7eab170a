"""``netcanvas check PROJECT``: the design's summary table, totals, memory and errors:
those of the design and those of its data and training settings.

Exit 1 if anything is invalid or the design's weights cannot be allocated on this machine."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", help="a NetCanvas project file (.ncproj.json)")


def summary_rows(doc, analysis, memory=None) -> list[tuple[str, ...]]:
    """(layer, type, output shape, params) for every node, in topological order, plus its
    parameter and per-sample activation memory when ``memory`` (a `MemoryReport`) is given."""
    from backend.model.memory import human_bytes
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
        type_ = doc.attr(node_id, "type")
        if type_ == "Block":  # the definition it instantiates, and how many times
            node_params = doc.attr(node_id, "params")
            repeat = node_params.get("repeat", 1)
            type_ = f"{doc.block(node_params['block']).name}" + (f" ×{repeat}" if repeat > 1
                                                                 else "")
        row = (doc.attr(node_id, "name"), type_, shape, params)
        if memory is not None:
            weights, acts = memory.per_node.get(node_id, (0, 0))
            row += (human_bytes(weights) if weights else "", human_bytes(acts) if acts else "")
        rows.append(row)
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
    from backend.model.memory import DesignTooLargeError, check_fits, human_bytes, memory_report
    from backend.model.shapes import analyse

    analysis = analyse(doc)
    memory = memory_report(doc, analysis)
    print(f"{doc.name} ({args.project})")
    print(format_table(summary_rows(doc, analysis, memory),
                       ("Layer", "Type", "Output shape", "Params", "Weights", "Activations")))
    frozen = analysis.total_params - analysis.trainable_params
    print(f"Total params: {analysis.total_params:,}  trainable: {analysis.trainable_params:,}"
          f"  frozen: {frozen:,}")
    batch = doc.section("training").get("batch_size", 32)
    batch = batch if isinstance(batch, int) and batch > 0 else 32
    print(f"Memory: weights {human_bytes(memory.parameter_bytes)} (float32); activations "
          f"{human_bytes(memory.activation_bytes)} per sample, "
          f"{human_bytes(memory.batch_activation_bytes(batch))} for a batch of {batch}; "
          f"training needs about {human_bytes(memory.training_bytes(batch))} (weights, "
          "gradients, two optimizer moments, one batch's activations)")
    problems = [e.message for e in analysis.errors] + settings_problems(doc)
    try:
        check_fits(doc, analysis)
    except DesignTooLargeError as exc:
        problems.append(exc.message)
    if not problems:
        print("No errors.")
        return 0
    print(f"{len(problems)} error(s):")
    for message in problems:
        print(f"  - {message}")
    return 1
