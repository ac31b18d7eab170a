"""Shared test material: the example projects, random valid designs, and a runner that executes
exported modules in one fresh Python process (only torch and safetensors imported there)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hypothesis import strategies as st

from graph.project import load
from graph.sketch import Sketch

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "resources" / "examples").glob("*.json"))

_UNARY = ("ReLU", "Tanh", "Sigmoid", "GELU", "ELU", "LeakyReLU", "Softmax", "LogSoftmax",
          "Sign", "Step", "Dropout")
_KINDS = ("Dense", "Dense", "Dense", "unary", "unary", "Flatten", "Concatenate", "Add")
_ACTS = ("none", "relu", "tanh", "sigmoid", "softmax", "log_softmax", "gelu", "elu",
         "leaky_relu", "sign")


def csv_two_outputs(folder: Path, name: str = "CsvTwo") -> Sketch:
    """``folder/rows.csv`` (120 rows: features a, b, c; a regression target y, a binary class z,
    a weight w) and a design reading it: a Huber regression output and a binary
    cross-entropy output whose sigmoid is left to the loss. Data settings: the file, its two
    targets and the feature columns; splits and training are the caller's."""
    rows = ["a,b,c,y,z,w"]
    for i in range(120):
        a, b, c = (i * 37 % 11) / 3.0, (i * 17 % 7) - 3.0, (i % 5) * 1.5
        rows.append(f"{a:.3f},{b:.3f},{c:.3f},{2 * a - b + 0.1 * (i % 3):.3f},"
                    f"{int(a + b > 1)},{1 + i % 4}")
    (folder / "rows.csv").write_text("\n".join(rows) + "\n")
    s = Sketch(name)
    x = s.add("Input", shape=(3,), name="features")
    h = s.add("Dense", x, units=12, activation="tanh", name="hidden")
    s.add("Output", s.add("Dense", h, units=1, name="reg_head"), name="reg", loss="huber")
    s.add("Output", s.add("Dense", h, units=1, activation="sigmoid", name="cls_head"),
          name="cls", loss="binary_cross_entropy")
    s.settings("data", dataset="csv", path="rows.csv", options={"target": ["y", "z"]},
               inputs={"features": {"features": ["a", "b", "c"]}},
               targets={"reg": {"target": "y"}, "cls": {"target": "z"}})
    return s


def example_docs():
    return [(path.stem, load(path)) for path in EXAMPLES]


@st.composite
def random_designs(draw):
    """A valid design of 2–30 nodes: Dense, activations, Dropout, Flatten, Concatenate, Add,
    with one to three inputs (some of rank 3) and one to three outputs."""
    s = Sketch("Random")
    tensors: list[tuple[str, tuple[int, ...]]] = []
    for i in range(draw(st.integers(1, 3))):
        if draw(st.integers(0, 3)) == 0:
            shape = (draw(st.integers(1, 4)), draw(st.integers(1, 5)))
        else:
            shape = (draw(st.integers(1, 8)),)
        tensors.append((s.add("Input", shape=shape, pos=(0.0, float(i))), shape))
    n_inputs = len(tensors)
    n_outputs = draw(st.integers(1, 3))
    for _ in range(draw(st.integers(0, 30 - n_inputs - n_outputs))):
        kind = draw(st.sampled_from(_KINDS))
        src, shape = tensors[draw(st.integers(0, len(tensors) - 1))]
        if kind == "Dense":
            units = draw(st.integers(1, 8))
            node = s.add("Dense", src, units=units, activation=draw(st.sampled_from(_ACTS)),
                         use_bias=draw(st.booleans()))
            out = (*shape[:-1], units)
        elif kind == "unary":
            type_ = draw(st.sampled_from(_UNARY))
            params = {"p": draw(st.floats(0.0, 0.9))} if type_ == "Dropout" else {}
            node, out = s.add(type_, src, **params), shape
        elif kind == "Flatten":
            out = (_prod(shape),)
            node = s.add("Flatten", src)
        else:
            if kind == "Concatenate":
                group = [t for t in tensors if len(t[1]) == len(shape) and t[1][:-1] == shape[:-1]]
            else:
                group = [t for t in tensors if t[1] == shape]
            picks = [src] + [t[0] for t in draw(st.lists(st.sampled_from(group), min_size=1,
                                                         max_size=2))]
            node = s.add(kind, *picks)
            out = shape if kind == "Add" else (
                *shape[:-1], sum(dict(tensors)[p][-1] for p in picks))
        tensors.append((node, out))
    candidates = list(range(n_inputs, len(tensors))) or list(range(len(tensors)))
    chosen = draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=n_outputs,
                           unique=True))
    for j, index in enumerate(chosen):
        loss = draw(st.sampled_from(("mse", "mse", "cross_entropy", "binary_cross_entropy")))
        s.add("Output", tensors[index][0], loss=loss, pos=(1000.0, float(j)))
    return s.doc


def _prod(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


RUNNER = r'''
import importlib.util, json, sys
from pathlib import Path
import torch
from safetensors.torch import load_file

results = []
for i, case in enumerate(sys.argv[1:]):
    case = Path(case)
    meta = json.loads((case / "meta.json").read_text())
    spec = importlib.util.spec_from_file_location(f"exported_{i}", case / "model.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    model = getattr(mod, meta["class_name"])()
    model.load_state_dict(load_file(str(case / "weights.safetensors")), strict=True)
    model.eval()
    inputs = load_file(str(case / "inputs.safetensors"))
    expected = load_file(str(case / "expected.safetensors"))
    with torch.no_grad():
        out = model(*[inputs[n] for n in meta["input_names"]])
    if len(meta["output_names"]) == 1:
        out = (out,)
    problems = []
    for k, (tensor, shape) in enumerate(zip(out, meta["shapes"])):
        if list(tensor.shape) != shape:
            problems.append(f"output {k}: shape {list(tensor.shape)} != predicted {shape}")
        elif not torch.allclose(tensor, expected[f"out{k}"], atol=1e-6, equal_nan=True):
            diff = (tensor - expected[f"out{k}"]).abs().max().item()
            problems.append(f"output {k}: differs by {diff}")
    if len(out) != len(meta["shapes"]):
        problems.append(f"{len(out)} outputs, expected {len(meta['shapes'])}")
    results.append({"case": str(case), "problems": problems})
leaked = [m for m in ("graph", "backend", "networkx") if m in sys.modules]
print(json.dumps({"results": results, "leaked": leaked}))
'''


def write_case(folder: Path, doc, seed: int, batch: int = 4) -> dict:
    """Compile ``doc`` in-app, run it in eval mode, and write what the subprocess needs."""
    import torch
    from safetensors.torch import save_file

    from backend.export.weights import save_weights
    from backend.model.compiler import compile_document

    folder.mkdir(parents=True)
    torch.manual_seed(seed)
    compiled = compile_document(doc)
    module = compiled.module.eval()
    gen = torch.Generator().manual_seed(seed)
    inputs = {}
    for node_id, name in zip(compiled.code.input_ids, compiled.code.input_names):
        info = compiled.analysis.nodes[node_id]
        dims = (batch, *info.output_shapes[0][1:])
        if info.dtypes[0] == "int64":
            inputs[name] = torch.randint(0, 2, dims, generator=gen)
        else:
            inputs[name] = torch.randn(dims, generator=gen)
    with torch.no_grad():
        out = module(*[inputs[n] for n in compiled.code.input_names])
    if len(compiled.code.output_names) == 1:
        out = (out,)
    shapes = [[batch, *compiled.analysis.nodes[o].output_shapes[0][1:]]
              for o in compiled.code.output_ids]
    for tensor, shape in zip(out, shapes):
        assert list(tensor.shape) == shape, (tensor.shape, shape)
    (folder / "model.py").write_text(compiled.code.source)
    save_weights(module, folder / "weights.safetensors")
    save_file({k: v.clone() for k, v in inputs.items()}, str(folder / "inputs.safetensors"))
    save_file({f"out{k}": t.clone().contiguous() for k, t in enumerate(out)},
              str(folder / "expected.safetensors"))
    meta = {"class_name": compiled.code.class_name, "input_names": compiled.code.input_names,
            "output_names": compiled.code.output_names, "shapes": shapes}
    (folder / "meta.json").write_text(json.dumps(meta))
    return meta


def run_cases(folders: list[Path], workdir: Path) -> dict:
    """Run every case in one subprocess (torch's import is paid once)."""
    script = workdir / "run_exported.py"
    script.write_text(RUNNER)
    proc = subprocess.run([sys.executable, "-I", str(script), *map(str, folders)],
                          cwd=workdir, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])
