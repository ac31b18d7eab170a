"""A grid of parameter values for every catalogue layer: the cases the layer tests run.

Each case is (type, params, inputs): ``inputs`` lists, per input port, one sample's shape and
its dtype, or None for an optional port left open. Shared by the per-layer shape test and the
code tests, so every layer type is exercised by both.
"""

from __future__ import annotations

from typing import Any

from graph import Sketch
from graph.edits import connect

F32, I64 = "float32", "int64"
Case = tuple[str, dict[str, Any], list[tuple[tuple[int, ...], str] | None]]


def _f(*shapes: tuple[int, ...]) -> list[tuple[tuple[int, ...], str] | None]:
    return [(s, F32) for s in shapes]


_SIMPLE = ("ReLU", "ReLU6", "Tanh", "Sigmoid", "Sign", "Step", "SiLU", "Mish", "SELU", "Hardswish",
           "Hardsigmoid", "Softsign", "GELU", "Exp", "Log", "Sqrt", "Abs", "Softplus", "CELU",
           "ELU", "LeakyReLU", "PReLU", "Dropout", "Scale", "Shift")


def _conv_cases(dims: int) -> list[Case]:
    spatial = {1: (9,), 2: (7, 6), 3: (5, 6, 4)}[dims]
    t = {1: "Conv1d", 2: "Conv2d", 3: "Conv3d"}[dims]
    x = _f((4, *spatial))
    one = (1,) * dims
    two = (2,) * dims
    cases: list[Case] = [
        (t, {"filters": 3}, x),
        (t, {"filters": 2, "padding": "same", "kernel_size": (3,) * dims}, x),
        (t, {"filters": 6, "padding": 1, "stride": two}, x),
        (t, {"filters": 4, "padding": tuple(range(1, dims + 1)), "dilation": two}, x),
        (t, {"filters": 4, "groups": 2, "padding": "same", "padding_mode": "reflect"}, x),
        (t, {"filters": 4, "groups": 4, "padding": 1, "padding_mode": "circular",
             "use_bias": False}, x),
        (t, {"filters": 2, "kernel_size": one, "padding": 0, "padding_mode": "replicate",
             "activation": "relu"}, x),
        (t, {"filters": 2, "kernel_size": two, "stride": two, "activation": "softmax"}, x),
    ]
    tt = f"ConvTranspose{dims}d"
    cases += [
        (tt, {"filters": 3}, x),
        (tt, {"filters": 2, "stride": two, "padding": 1, "output_padding": 1}, x),
        (tt, {"filters": 4, "groups": 2, "dilation": two, "padding": tuple(range(dims))}, x),
        (tt, {"filters": 2, "kernel_size": two, "stride": two, "use_bias": False,
              "activation": "tanh"}, x),
    ]
    for kind in ("Max", "Avg"):
        pt = f"{kind}Pool{dims}d"
        cases += [
            (pt, {}, x),
            (pt, {"kernel_size": (3,) * dims, "stride": two, "padding": 1}, x),
            (pt, {"kernel_size": two, "stride": one, "ceil_mode": True}, x),
        ]
    cases.append((f"MaxPool{dims}d", {"kernel_size": two, "dilation": two}, x))
    cases.append((f"AvgPool{dims}d", {"kernel_size": (3,) * dims, "padding": 1,
                                        "count_include_pad": False, "stride": one}, x))
    if dims < 3:
        for kind in ("Avg", "Max"):
            cases += [(f"Adaptive{kind}Pool{dims}d", {}, x),
                      (f"Adaptive{kind}Pool{dims}d", {"output_size": (3,) * dims}, x)]
    cases.append((f"Dropout{dims}d", {"p": 0.3}, x))
    return cases


def _recurrent_cases() -> list[Case]:
    x = _f((6, 3))
    cases: list[Case] = []
    for t in ("LSTM", "GRU", "SimpleRNN"):
        cases += [
            (t, {"hidden_size": 4}, x),
            (t, {"hidden_size": 5, "return_sequences": True, "use_bias": False}, x),
            (t, {"hidden_size": 3, "num_layers": 2, "bidirectional": True, "dropout": 0.2}, x),
        ]
        state = ((2, 2), F32)
        ports = [x[0], state, state] if t == "LSTM" else [x[0], state]
        cases.append((t, {"hidden_size": 2, "num_layers": 2, "return_sequences": True}, ports))
    cases.append(("SimpleRNN", {"hidden_size": 4, "nonlinearity": "relu"}, x))
    return cases


def _attention_cases() -> list[Case]:
    seq = ((6, 8), F32)
    return [
        ("MultiheadAttention", {"num_heads": 2}, [seq]),
        ("MultiheadAttention", {"num_heads": 4, "causal": True, "use_bias": False}, [seq]),
        ("MultiheadAttention", {"num_heads": 2}, [((5, 8), F32), ((6, 4), F32), ((6, 3), F32)]),
        ("MultiheadAttention", {"num_heads": 1}, [seq, ((7, 8), F32), None, ((7,), I64)]),
        ("MultiheadAttention", {"num_heads": 2, "dropout": 0.1}, [seq, None, None,
                                                                  ((6,), F32)]),
        ("ScaledDotProductAttention", {}, _f((2, 5, 4), (2, 5, 4), (2, 5, 4))),
        ("ScaledDotProductAttention", {"causal": True, "scale": 0.5},
         _f((2, 5, 4), (2, 5, 4), (2, 5, 3))),
        ("ScaledDotProductAttention", {}, _f((5, 4), (6, 4), (6, 3))),
        ("TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 16}, [seq]),
        ("TransformerEncoderLayer", {"nhead": 4, "dim_feedforward": 12, "norm_first": True,
                                     "activation": "gelu", "causal": True, "use_bias": False,
                                     "layer_norm_eps": 1e-6, "dropout": 0.0}, [seq]),
        ("TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 8}, [seq, ((6,), I64)]),
        ("TransformerDecoderLayer", {"nhead": 2, "dim_feedforward": 16},
         [seq, ((4, 8), F32)]),
        ("TransformerDecoderLayer", {"nhead": 2, "dim_feedforward": 16, "causal": False,
                                     "norm_first": True},
         [seq, ((4, 8), F32), ((6,), I64), ((4,), I64)]),
        ("PositionalEmbedding", {}, [seq]),
        ("PositionalEmbedding", {"max_length": 10}, [seq]),
    ]


def _tensor_cases() -> list[Case]:
    return [
        ("Permute", {}, _f((3, 4))),
        ("Permute", {"dims": (0, 3, 1, 2)}, _f((2, 3, 4))),
        ("Transpose", {}, _f((3, 4))),
        ("Transpose", {"dim0": -1, "dim1": 1}, _f((2, 3, 4))),
        ("Select", {}, _f((5, 3))),
        ("Select", {"dim": 2, "index": 0}, _f((2, 3, 4))),
        ("Select", {"dim": -1, "index": 1}, _f((2, 3))),
        ("Slice", {"start": -2}, _f((6, 3))),
        ("Slice", {"start": 1, "stop": 5, "step": 2}, _f((6, 3))),
        ("Slice", {"dim": 2, "stop": 2}, _f((2, 3, 4))),
        ("Split", {"sizes": (2, 3)}, _f((4, 5))),
        ("Split", {"sizes": (1, 1, 2), "dim": 1}, _f((4, 3))),
        ("Chunk", {}, _f((4, 6))),
        ("Chunk", {"chunks": 3, "dim": 1}, _f((3, 2))),
        *((t, {}, _f((3, 4, 5))) for t in ("Mean", "Sum", "Max")),
        *((t, {"dims": (1, 2), "keepdim": True}, _f((3, 4, 5))) for t in ("Mean", "Sum", "Max")),
        *((t, {"dims": (-1,)}, _f((3, 4))) for t in ("Mean", "Sum", "Max")),
        ("Scale", {"factor": 0.5}, _f((3,))),
        ("Scale", {"factor": 8.0, "op": "divide"}, _f((3,))),
        ("Shift", {"offset": -1.5}, _f((3,))),
        ("Shift", {"offset": 1e-4}, _f((3,))),
        ("Parameter", {"shape": (1, 4)}, _f((5,))),
        ("Parameter", {"shape": (3,), "init": "normal"}, _f((2, 3))),
        ("Sampling", {}, _f((4,), (4,))),
        ("Sampling", {}, _f((2, 3), (2, 3))),
        ("Sampling", {"sample_in_eval": True}, _f((4,), (4,))),
    ]


def _other_cases() -> list[Case]:
    cases: list[Case] = [(t, {}, _f((3, 4))) for t in _SIMPLE]
    cases += [
        ("GELU", {"approximate": "tanh"}, _f((3, 4))),
        ("LeakyReLU", {"negative_slope": 0.2}, _f((3,))),
        ("ELU", {"alpha": 0.5}, _f((3,))),
        ("CELU", {"alpha": 2.0}, _f((3,))),
        ("Softplus", {"beta": 2.0, "threshold": 10.0}, _f((3,))),
        ("PReLU", {"per_channel": True, "init": 0.1}, _f((3, 4))),
        ("Softmax", {"dim": 1}, _f((3, 4))),
        ("LogSoftmax", {}, _f((3, 4))),
        ("Dense", {"units": 3}, _f((5,))),
        ("Dense", {"units": 2, "use_bias": False, "activation": "gelu"}, _f((4, 5))),
        ("Flatten", {}, _f((2, 3, 4))),
        ("Flatten", {"start_dim": 2, "end_dim": 3}, _f((2, 3, 4, 5))),
        ("Reshape", {"shape": (2, -1)}, _f((4, 3))),
        ("Reshape", {"shape": (12,)}, _f((4, 3))),
        ("BatchNorm", {}, _f((5,))),
        ("BatchNorm", {"affine": False}, _f((3, 6))),
        ("BatchNorm", {"track_running_stats": False, "eps": 1e-3}, _f((3, 4, 4))),
        ("BatchNorm", {"momentum": 0.2}, _f((2, 3, 4, 4))),
        ("LayerNorm", {}, _f((5,))),
        ("LayerNorm", {"elementwise_affine": False}, _f((3, 5))),
        ("LayerNorm", {"use_bias": False}, _f((3, 5))),
        ("InstanceNorm", {}, _f((3, 8))),
        ("InstanceNorm", {"affine": True, "track_running_stats": True}, _f((3, 4, 4))),
        ("InstanceNorm", {"eps": 1e-3}, _f((2, 3, 4, 4))),
        ("GroupNorm", {"num_groups": 2}, _f((4, 6))),
        ("GroupNorm", {"num_groups": 3, "affine": False}, _f((3, 3, 3))),
        ("GlobalAvgPool", {}, _f((3, 4, 4))),
        ("Upsample", {}, _f((3, 4, 4))),
        ("Upsample", {"size": (5, 7), "mode": "bilinear", "align_corners": True}, _f((3, 4, 4))),
        ("Upsample", {"mode": "linear", "scale_factor": 1.5}, _f((3, 8))),
        ("Upsample", {"mode": "trilinear"}, _f((2, 3, 3, 3))),
        ("Upsample", {"mode": "nearest-exact", "scale_factor": 3.0}, _f((2, 3))),
        ("Upsample", {"mode": "bicubic"}, _f((1, 4, 4))),
        ("PixelShuffle", {}, _f((8, 3, 3))),
        ("PixelUnshuffle", {}, _f((2, 4, 6))),
        ("ZeroPad", {}, _f((3, 4, 4))),
        ("ZeroPad", {"padding": (1, 2)}, _f((3, 8))),
        ("ZeroPad", {"padding": (1, 2, 0, 1)}, _f((3, 4, 4))),
        ("ReflectionPad", {"padding": (2,)}, _f((3, 5, 5))),
        ("ReflectionPad", {"padding": (1, 2)}, _f((3, 5))),
        ("ReplicationPad", {"padding": (1, 1, 1, 1, 1, 1)}, _f((2, 3, 3, 3))),
        ("ReplicationPad", {}, _f((3, 4, 4))),
        ("Embedding", {"num_embeddings": 10, "embedding_dim": 4}, [((6,), I64)]),
        ("Embedding", {"num_embeddings": 10, "embedding_dim": 3, "padding_idx": 0,
                       "max_norm": 1.0, "scale_grad_by_freq": True}, [((2, 3), I64)]),
        ("Concatenate", {}, _f((3,), (4,))),
        ("Concatenate", {"axis": 1}, _f((2, 3), (4, 3), (1, 3))),
        ("Add", {}, _f((3, 4), (3, 4))),
        ("Add", {}, _f((3, 4), (1, 4), (3, 1))),
        ("Multiply", {}, _f((3, 4), (3, 4))),
        ("Subtract", {}, _f((3, 4), (3, 1))),
        ("Divide", {}, _f((3, 4), (3, 4))),
        ("MatMul", {}, _f((2, 3, 4), (2, 4, 5))),
        ("MatMul", {}, _f((3, 4), (4, 2))),
    ]
    return cases


CASES: list[Case] = (_other_cases() + _conv_cases(1) + _conv_cases(2) + _conv_cases(3)
                     + _recurrent_cases() + _attention_cases() + _tensor_cases())


def case_id(case: Case) -> str:
    type_, params, inputs = case
    shapes = "+".join("-" if i is None else "x".join(map(str, i[0])) for i in inputs)
    extra = ",".join(f"{k}={v}" for k, v in params.items())
    return f"{type_}[{shapes}]({extra})"


def case_design(case: Case, name: str = "Case"):
    """A design: an Input per connected port → the layer → an Output per output port."""
    type_, params, inputs = case
    s = Sketch(name)
    sources = {}
    for port, spec in enumerate(inputs):
        if spec is not None:
            shape, dtype = spec
            sources[port] = s.add("Input", shape=shape, dtype=dtype, pos=(0.0, float(port)),
                                  name=f"in{port}")
    node = s.add(type_, name="layer", **params)
    for port, src in sources.items():
        s.doc.apply(connect(s.doc, src, node, dst_port=port))
    spec = s.doc.spec(node)
    for port in range(spec.output_count(s.doc.attr(node, "params"))):
        out = s.add("Output", name=f"out{port}", pos=(1000.0, float(port)))
        s.doc.apply(connect(s.doc, node, out, src_port=port))
    return s.doc
