"""``netcanvas import module.py:ClassName -o design.json``: a PyTorch module becomes a design.

Loading ``module.py`` runs that file's code, as ``python module.py`` would: that is the point (it
is the user's own model), and the help says so.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from backend.importer.files import TargetError, import_file

EPILOG = ("Importing runs module.py's code (as `python module.py` would) and instantiates the "
          "class with no arguments: import only files you trust. The design is traced with "
          "torch.fx; operations no NetCanvas layer expresses are listed by name. An ONNX file "
          "is converted with onnx2fx (pip install 'netcanvas[onnx-import]') and imported the "
          "same way; its input shapes come from the file.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument("target", metavar="FILE.py:NAME|FILE.onnx",
                        help="the Python file and the nn.Module class (or a function returning "
                             "a module) in it, e.g. model.py:Net; or an ONNX file")
    parser.add_argument("-o", "--output", required=True, help="design file to write (.json)")
    parser.add_argument("--input-shape", action="append", default=None, metavar="D1,D2,…",
                        help="shape of one forward argument without the batch, e.g. 1,28,28; "
                             "repeat once per argument (needed unless the first layer is a "
                             "Linear or the file was exported by NetCanvas)")
    parser.add_argument("--weights", "-w", default=None,
                        help="where to write the weights (default: beside the design, "
                             ".safetensors)")
    parser.add_argument("--allow-partial", action="store_true",
                        help="write what can be imported even when some operations cannot")
    parser.add_argument("--name", default=None, help="the design's model name (default: the "
                                                     "class name)")
    parser.add_argument("--flat", action="store_true",
                        help="flatten the model into one sheet of layers (by default its own "
                             "submodule classes become block definitions, with the model's "
                             "state-dict keys, so its checkpoints load strictly; kept flat, "
                             "with a note, where that is not exact)")


def _parse_shape(text: str) -> tuple[int, ...]:
    try:
        dims = tuple(int(d) for d in text.split(",") if d.strip())
    except ValueError:
        raise TargetError(f"--input-shape {text!r} is not a list of whole numbers: write it "
                          "like 1,28,28") from None
    if not dims or any(d < 1 for d in dims):
        raise TargetError(f"--input-shape {text!r} needs positive sizes, like 1,28,28")
    return dims


def run(args: argparse.Namespace) -> int:
    from backend.export.weights import save_state
    from backend.importer.convert import ModelImportError
    from graph.errors import GraphError
    from graph.project import save

    try:
        shapes = [_parse_shape(s) for s in args.input_shape] if args.input_shape else None
        result = import_file(args.target, shapes, args.name, allow_partial=args.allow_partial,
                             blocks=not args.flat)
    except TargetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ModelImportError as exc:
        hint = (f" Pass --input-shape once per forward argument ({', '.join(exc.inputs)}), "
                "e.g. --input-shape 1,28,28." if exc.inputs else "")
        print(f"error: {exc.message}{hint}", file=sys.stderr)
        return 1
    output = Path(args.output)
    stem = output.name.removesuffix(".json").removesuffix(".ncproj")
    weights = Path(args.weights) if args.weights else output.with_name(stem + ".safetensors")
    try:
        save(result.doc, output)
        if result.state_dict:
            save_state(result.state_dict, weights)
    except (OSError, GraphError) as exc:
        print(f"error: cannot write the design: {exc}", file=sys.stderr)
        return 1
    _summary(result, output, weights)
    return 0


def _summary(result: Any, output: Path, weights: Path) -> None:
    doc = result.doc
    counts: dict[str, int] = {}
    for node in doc.nodes():
        counts[node.type] = counts.get(node.type, 0) + 1
    layers = ", ".join(f"{n} {t}" for t, n in counts.items())
    print(f"wrote {output}: {doc.name}, {len(doc)} layers ({layers})")
    if result.state_dict:
        total = sum(t.numel() for t in result.state_dict.values())
        print(f"wrote {weights}: {len(result.state_dict)} tensors, {total:,} values")
    if result.max_difference is not None:
        print(f"checked: the design reproduces the module's outputs "
              f"(largest difference {result.max_difference:.2g})")
    if result.unsupported:
        print(f"{len(result.unsupported)} unsupported operation(s), left out:")
        for item in result.unsupported:
            print(f"  - {item}")
    if result.skipped:
        print(f"{len(result.skipped)} operation(s) left out because they depend on those:")
        for item in result.skipped:
            print(f"  - {item}")
    for note in result.notes:
        print(f"note: {note}")
