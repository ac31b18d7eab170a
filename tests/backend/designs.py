"""Shared test material: the example projects, random valid designs, and a runner that executes
exported modules in one fresh Python process (only torch and safetensors imported there)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hypothesis import strategies as st

from graph.catalogue import get_spec
from graph.edits import connect
from graph.errors import ParamError
from graph.project import load
from graph.sketch import Sketch

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "resources" / "examples").glob("*.json"))

_UNARY = ("ReLU", "Tanh", "Sigmoid", "GELU", "ELU", "LeakyReLU", "Softmax", "LogSoftmax",
          "Sign", "Step", "Dropout", "SiLU", "Mish", "Softplus", "SELU", "CELU", "Hardswish",
          "Hardsigmoid", "Softsign", "Abs", "PReLU", "LayerNorm")
_ACTS = ("none", "relu", "tanh", "sigmoid", "softmax", "log_softmax", "gelu", "elu",
         "leaky_relu", "sign")
#: What random designs are drawn from, by the rank of the tensor a layer takes (2: features,
#: 3: sequences, 4: images), most kinds more than once so chains grow.
_ANY = ("Dense", "Dense", "unary", "unary", "Scale", "Shift", "merge", "merge", "Split",
        "Chunk", "Parameter", "Reshape", "Flatten", "BatchNorm", "Sampling")
_SEQ = ("LSTM", "GRU", "SimpleRNN", "MultiheadAttention", "TransformerEncoderLayer",
        "TransformerDecoderLayer", "PositionalEmbedding", "ScaledDotProductAttention", "Select",
        "Slice", "reduce", "Permute", "Transpose", "Conv1d", "ConvTranspose1d", "MaxPool1d",
        "AvgPool1d", "AdaptiveAvgPool1d", "Upsample", "ZeroPad", "ReflectionPad",
        "InstanceNorm", "GroupNorm", "Dropout1d", "MatMul")
_IMG = ("Conv2d", "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "AdaptiveMaxPool2d",
        "GlobalAvgPool", "Upsample", "PixelShuffle", "PixelUnshuffle", "ReplicationPad",
        "ReflectionPad", "Dropout2d", "InstanceNorm", "GroupNorm", "reduce")


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


def _divisor(draw, n: int) -> int:
    return draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0]))


def _layer(draw, kind: str, t: tuple, tensors: list):  # noqa: C901 - one branch per kind
    """(type, params, extra inputs by port) for one drawn layer taking tensor ``t``."""
    shape = t[2]
    rank = len(shape) + 1
    ints = st.integers
    if kind == "Dense":
        return "Dense", {"units": draw(ints(1, 8)), "activation": draw(st.sampled_from(_ACTS)),
                         "use_bias": draw(st.booleans())}, []
    if kind == "unary":
        type_ = draw(st.sampled_from(_UNARY))
        params = {"p": draw(st.floats(0.0, 0.9))} if type_ == "Dropout" else {}
        if type_ == "PReLU":
            params = {"per_channel": draw(st.booleans()), "init": draw(st.floats(-1, 1))}
        return type_, params, []
    if kind == "Scale":
        return "Scale", {"factor": draw(st.floats(-4, 4).filter(lambda f: abs(f) > 0.1)),
                         "op": draw(st.sampled_from(("multiply", "divide")))}, []
    if kind == "Shift":
        return "Shift", {"offset": draw(st.floats(-2, 2))}, []
    if kind == "merge":
        type_ = draw(st.sampled_from(("Concatenate", "Add", "Multiply", "Subtract", "Divide")))
        if type_ == "Concatenate":
            group = [u for u in tensors if len(u[2]) == len(shape) and u[2][:-1] == shape[:-1]]
        else:
            group = [u for u in tensors if u[2] == shape]
        others = draw(st.lists(st.sampled_from(group), min_size=1,
                               max_size=1 if type_ in ("Subtract", "Divide") else 2))
        return type_, {}, others
    if kind in ("Split", "Chunk"):
        size = shape[-1] if shape else 0
        if size < 2:
            return None
        if kind == "Chunk":
            divisors = [d for d in range(2, min(size, 16) + 1) if size % d == 0]
            return ("Chunk", {"chunks": draw(st.sampled_from(divisors))}, []) if divisors \
                else None
        cut = draw(ints(1, size - 1))
        return "Split", {"sizes": (cut, size - cut)}, []
    if kind == "Parameter":
        return "Parameter", {"shape": shape, "init": "normal", "init_scale": 1.0}, []
    if kind == "Reshape":
        if rank != 2:
            return "Reshape", {"shape": (-1,)}, []
        n = shape[0]
        a = _divisor(draw, n)
        return "Reshape", {"shape": (a, n // a)}, []
    if kind == "Flatten":
        return ("Flatten", {}, []) if rank > 2 else None
    if kind == "BatchNorm":
        return "BatchNorm", {"affine": draw(st.booleans())}, []
    if kind == "Sampling":
        same = [u for u in tensors if u[2] == shape]
        return "Sampling", {}, [draw(st.sampled_from(same))]
    if kind in ("LSTM", "GRU", "SimpleRNN"):
        return kind, {"hidden_size": draw(ints(1, 6)), "num_layers": draw(ints(1, 2)),
                      "bidirectional": draw(st.booleans()),
                      "return_sequences": draw(st.booleans())}, []
    if kind == "MultiheadAttention":
        seqs = [u for u in tensors if len(u[2]) == 2 and u[3] == "float32"]
        kv = draw(st.sampled_from(seqs)) if draw(st.booleans()) else None
        causal = kv is None and draw(st.booleans())
        return kind, {"num_heads": _divisor(draw, shape[-1]), "causal": causal}, (
            [kv] if kv is not None else [])
    if kind == "TransformerEncoderLayer":
        return kind, {"nhead": _divisor(draw, shape[-1]), "dim_feedforward": draw(ints(2, 12)),
                      "norm_first": draw(st.booleans()), "causal": draw(st.booleans()),
                      "activation": draw(st.sampled_from(("relu", "gelu")))}, []
    if kind == "TransformerDecoderLayer":
        memory = [u for u in tensors if len(u[2]) == 2 and u[2][-1] == shape[-1]]
        return kind, {"nhead": _divisor(draw, shape[-1]), "dim_feedforward": draw(ints(2, 12)),
                      "causal": draw(st.booleans())}, [draw(st.sampled_from(memory))]
    if kind == "PositionalEmbedding":
        return kind, {}, []
    if kind == "ScaledDotProductAttention":
        return kind, {"causal": draw(st.booleans())}, [t, t]
    if kind in ("Select", "Slice"):
        dim = draw(ints(1, rank - 1))
        size = shape[dim - 1]
        if kind == "Select":
            return kind, {"dim": dim, "index": draw(ints(-size, size - 1))}, []
        start = draw(st.one_of(st.none(), ints(-size, size - 1)))
        return kind, {"dim": dim, "start": start, "step": draw(ints(1, 2))}, []
    if kind == "reduce":
        type_ = draw(st.sampled_from(("Mean", "Sum", "Max")))
        dims = draw(st.lists(ints(1, rank - 1), min_size=1, max_size=rank - 1, unique=True))
        return type_, {"dims": tuple(dims), "keepdim": draw(st.booleans())}, []
    if kind == "Permute":
        rest = draw(st.permutations(list(range(1, rank))))
        return kind, {"dims": (0, *rest)}, []
    if kind == "Transpose":
        return kind, {"dim0": 1, "dim1": -1}, []
    if kind in ("Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"):
        dims = rank - 2
        channels = shape[0]
        groups = _divisor(draw, channels)
        params = {"filters": groups * draw(ints(1, 3)), "groups": groups,
                  "kernel_size": (draw(ints(1, 3)),) * dims, "stride": (draw(ints(1, 2)),) * dims,
                  "dilation": (draw(ints(1, 2)),) * dims,
                  "activation": draw(st.sampled_from(("none", "relu", "tanh")))}
        if kind.startswith("Conv") and "Transpose" not in kind:
            params["padding"] = draw(st.sampled_from(("valid", "same", 0, 1, (1,) * dims)))
            if params["padding"] == "same":
                params["stride"] = (1,) * dims
            params["padding_mode"] = draw(st.sampled_from(("zeros", "reflect", "circular")))
        else:
            params["padding"] = draw(ints(0, 1))
            params["output_padding"] = draw(ints(0, 1))
        return kind, params, []
    if kind in ("MaxPool1d", "AvgPool1d", "MaxPool2d", "AvgPool2d"):
        dims = rank - 2
        return kind, {"kernel_size": (draw(ints(1, 3)),) * dims, "padding": draw(ints(0, 1)),
                      "ceil_mode": draw(st.booleans())}, []
    if kind in ("AdaptiveAvgPool1d", "AdaptiveMaxPool2d"):
        return kind, {"output_size": (draw(ints(1, 3)),) * (rank - 2)}, []
    if kind == "Upsample":
        mode = draw(st.sampled_from(("nearest", "linear" if rank == 3 else "bilinear")))
        return kind, {"mode": mode, "scale_factor": draw(st.sampled_from((2.0, 1.5)))}, []
    if kind in ("ZeroPad", "ReflectionPad", "ReplicationPad"):
        return kind, {"padding": (draw(ints(0, 2)),)}, []
    if kind in ("PixelShuffle", "PixelUnshuffle"):
        return kind, {}, []
    if kind in ("InstanceNorm",):
        return kind, {"affine": draw(st.booleans())}, []
    if kind == "GroupNorm":
        return kind, {"num_groups": _divisor(draw, shape[0])}, []
    if kind in ("Dropout1d", "Dropout2d", "GlobalAvgPool"):
        return kind, {}, []
    if kind == "MatMul":
        rhs = [u for u in tensors if len(u[2]) == 2 and u[2][0] == shape[-1]]
        return (kind, {}, [draw(st.sampled_from(rhs))]) if rhs else None
    raise AssertionError(kind)


@st.composite
def random_designs(draw):
    """A valid design of 2–30 nodes drawn from the whole vocabulary: features, sequences and
    images, layers with several outputs (Split, Chunk, RNN states, attention weights), several
    inputs (merges, attention, Sampling), one to three inputs and one to three outputs. Each
    drawn layer is kept only if shape inference accepts it."""
    from backend.model.shapes import ShapeError, layer_shapes

    s = Sketch("Random")
    #: (node, output port, sample shape, dtype) of every tensor so far.
    tensors: list[tuple[str, int, tuple[int, ...], str]] = []
    for i in range(draw(st.integers(1, 3))):
        kind = draw(st.integers(0, 3))
        if kind == 0:
            shape = (draw(st.integers(1, 5)), draw(st.sampled_from((2, 4, 6, 8))))
        elif kind == 1:
            shape = (draw(st.integers(1, 4)), draw(st.integers(3, 7)), draw(st.integers(3, 7)))
        else:
            shape = (draw(st.integers(1, 8)),)
        tensors.append((s.add("Input", shape=shape, pos=(0.0, float(i))), 0, shape, "float32"))
    n_inputs = len(tensors)
    n_outputs = draw(st.integers(1, 3))
    for _ in range(draw(st.integers(0, 30 - n_inputs - n_outputs))):
        t = tensors[draw(st.integers(0, len(tensors) - 1))]
        rank = len(t[2]) + 1
        kinds = _ANY + (_SEQ * 2 if rank == 3 else _IMG * 3 if rank == 4 else ())
        drawn = _layer(draw, draw(st.sampled_from(kinds)), t, tensors)
        if drawn is None:
            continue
        type_, params, others = drawn
        sources = [t, *others]
        try:
            params = get_spec(type_).validate_params(params)
            outs, dtypes = layer_shapes(
                type_, params, [(("N", *u[2])) for u in sources], [u[3] for u in sources])
        except (ShapeError, ParamError):
            continue
        node = s.add(type_, **params)
        for port, u in enumerate(sources):
            s.doc.apply(connect(s.doc, u[0], node, src_port=u[1], dst_port=port))
        for port, (shape, dtype) in enumerate(zip(outs, dtypes)):
            tensors.append((node, port, tuple(int(d) for d in shape[1:]), dtype))
    candidates = [i for i in range(n_inputs, len(tensors))] or list(range(len(tensors)))
    chosen = draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=n_outputs,
                           unique=True))
    for j, index in enumerate(chosen):
        loss = draw(st.sampled_from(("mse", "mse", "cross_entropy", "binary_cross_entropy")))
        out = s.add("Output", loss=loss, pos=(1000.0, float(j)))
        s.doc.apply(connect(s.doc, tensors[index][0], out, src_port=tensors[index][1]))
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
