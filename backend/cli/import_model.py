"""``netcanvas import module.py:ClassName -o design.json``: a PyTorch module becomes a design.

Loading ``module.py`` runs that file's code, as ``python module.py`` would: that is the point (it
is the user's own model), and the help says so.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from typing import Any

EPILOG = ("Importing runs module.py's code (as `python module.py` would) and instantiates the "
          "class with no arguments: import only files you trust. The design is traced with "
          "torch.fx; operations no NetCanvas layer expresses are listed by name.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument("target", metavar="FILE.py:NAME",
                        help="the Python file and the nn.Module class (or a function returning "
                             "a module) in it, e.g. model.py:Net")
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


class _UsageError(Exception):
    pass


def _parse_shape(text: str) -> tuple[int, ...]:
    try:
        dims = tuple(int(d) for d in text.split(",") if d.strip())
    except ValueError:
        raise _UsageError(f"--input-shape {text!r} is not a list of whole numbers: write it "
                          "like 1,28,28") from None
    if not dims or any(d < 1 for d in dims):
        raise _UsageError(f"--input-shape {text!r} needs positive sizes, like 1,28,28")
    return dims


def load_target(target: str) -> Any:
    """Execute ``FILE.py`` and return an instance of the ``nn.Module`` named after the colon."""
    from torch import nn

    path_text, sep, attr = target.rpartition(":")
    if not sep or not path_text or not attr:
        raise _UsageError(f"{target!r} should be FILE.py:ClassName, e.g. model.py:Net")
    path = Path(path_text)
    if not path.is_file():
        raise _UsageError(f"There is no file {str(path)!r}.")
    module_name = f"netcanvas_import_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise _UsageError(f"{str(path)!r} cannot be loaded as Python: name it *.py.")
    py_module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = py_module  # dataclasses and pickling look modules up here
    sys.path.insert(0, str(path.resolve().parent))  # so the file can import its neighbours
    try:
        spec.loader.exec_module(py_module)
    except Exception as exc:  # the user's file failed: say where, not a traceback
        raise _UsageError(f"Running {str(path)!r} failed: {type(exc).__name__}: {exc}") \
            from None
    finally:
        sys.path.remove(str(path.resolve().parent))
    obj = getattr(py_module, attr, None)
    if obj is None:
        found = [n for n, v in vars(py_module).items()
                 if isinstance(v, type) and issubclass(v, nn.Module) and v.__module__ ==
                 module_name]
        raise _UsageError(f"{str(path)!r} defines no {attr!r}" +
                          (f"; its modules are: {', '.join(found)}" if found else ""))
    if isinstance(obj, nn.Module):
        return obj
    if not callable(obj):
        raise _UsageError(f"{attr!r} in {str(path)!r} is not an nn.Module class.")
    try:
        instance = obj()
    except TypeError as exc:
        raise _UsageError(f"{attr}() cannot be called without arguments ({exc}): give its "
                          "arguments defaults, or add a function that builds the module and "
                          "import that (FILE.py:make_model).") from None
    if not isinstance(instance, nn.Module):
        raise _UsageError(f"{attr}() returned a {type(instance).__name__}, not an nn.Module.")
    return instance


def run(args: argparse.Namespace) -> int:
    from backend.export.weights import save_state
    from backend.importer.convert import ModelImportError, import_module
    from graph.errors import GraphError
    from graph.project import save

    try:
        shapes = [_parse_shape(s) for s in args.input_shape] if args.input_shape else None
        module = load_target(args.target)
        result = import_module(module, shapes, args.name, allow_partial=args.allow_partial)
    except _UsageError as exc:
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
