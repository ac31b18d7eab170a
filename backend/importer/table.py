"""The table behind model import: which PyTorch modules and functions are which catalogue layers.

`map_module` turns a leaf ``nn`` module into a catalogue type and parameters; `activation_of`
recognises activations in their three spellings (``nn.ReLU()``, ``torch.relu`` / ``F.relu``,
``x.relu()``). Anything that a catalogue layer cannot express exactly raises `Unsupported` with
the reason, so the importer lists it instead of approximating it. Messages name modules and
functions the way people write them (`module_name`: ``nn.Dropout2d``; `op_name`: ``F.pad``).

Parameters are canonical: a per-dimension value that is the same in every dimension is one
number (``padding=(1, 1)`` → ``1``), zero convolution padding is ``'valid'``, and a pooling
stride equal to its window is the catalogue's 0.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from backend.model.layers import ACTIVATED_TYPES

Shape = tuple[int, ...]


class Unsupported(Exception):
    """An operation (or a setting of one) that no catalogue layer expresses; text says which."""


def module_name(cls: type) -> str:
    """``nn.Dropout2d`` for torch's modules, ``mypkg.Block`` for a user's class."""
    module = cls.__module__
    if module.startswith("torch.nn.modules") or module == "torch.nn":
        return f"nn.{cls.__name__}"
    if module.startswith("torch."):
        return f"{module}.{cls.__qualname__}"
    return cls.__qualname__


# --- activations ---------------------------------------------------------------------------------

#: Activations a Dense/Conv layer can apply itself (its ``activation`` parameter).
FOLDABLE = ("relu", "tanh", "sigmoid", "softmax", "log_softmax", "gelu", "elu", "leaky_relu",
            "sign")
_ACT_LAYER = {"relu": "ReLU", "relu6": "ReLU6", "tanh": "Tanh", "sigmoid": "Sigmoid",
              "gelu": "GELU", "elu": "ELU", "leaky_relu": "LeakyReLU", "softmax": "Softmax",
              "log_softmax": "LogSoftmax", "sign": "Sign", "silu": "SiLU", "mish": "Mish",
              "softplus": "Softplus", "selu": "SELU", "celu": "CELU", "hardswish": "Hardswish",
              "hardsigmoid": "Hardsigmoid", "softsign": "Softsign"}


@dataclass(frozen=True)
class Activation:
    """An activation as the catalogue knows it: its kind plus its layer's parameters."""

    kind: str
    params: dict[str, Any] = field(default_factory=dict)

    def as_layer(self) -> tuple[str, dict[str, Any]]:
        """The stand-alone activation layer (type, params)."""
        return _ACT_LAYER[self.kind], dict(self.params)

    def foldable(self, layer_type: str, rank: int) -> bool:
        """Whether a Dense/Conv layer's ``activation`` parameter writes exactly this call."""
        if self.kind not in FOLDABLE or layer_type not in ACTIVATED_TYPES:
            return False
        if self.kind == "gelu":
            return self.params.get("approximate", "none") == "none"
        if self.kind == "elu":
            return self.params.get("alpha") == 1.0
        if self.kind == "leaky_relu":
            return self.params.get("negative_slope") == 0.01
        if self.kind in ("softmax", "log_softmax"):
            want = rank - 1 if layer_type == "Dense" else 1  # codegen: dim=-1 / dim=1
            return self.params["dim"] % rank == want
        return True


_PLAIN = {"relu", "relu6", "tanh", "sigmoid", "sign", "silu", "mish", "selu", "hardswish",
          "hardsigmoid", "softsign"}
_FUNCS: dict[Any, str] = {
    torch.relu: "relu", F.relu: "relu", torch.relu_: "relu", F.relu_: "relu", F.relu6: "relu6",
    torch.tanh: "tanh", F.tanh: "tanh", torch.sigmoid: "sigmoid", F.sigmoid: "sigmoid",
    torch.sign: "sign", F.gelu: "gelu", F.elu: "elu", F.leaky_relu: "leaky_relu",
    torch.softmax: "softmax", F.softmax: "softmax", torch.log_softmax: "log_softmax",
    F.log_softmax: "log_softmax", F.silu: "silu", F.mish: "mish", F.softplus: "softplus",
    F.selu: "selu", torch.selu: "selu", F.celu: "celu", torch.celu: "celu",
    F.hardswish: "hardswish", F.hardsigmoid: "hardsigmoid", F.softsign: "softsign"}
_METHODS = {"relu": "relu", "relu_": "relu", "tanh": "tanh", "tanh_": "tanh",
            "sigmoid": "sigmoid", "sigmoid_": "sigmoid", "sign": "sign", "softmax": "softmax",
            "log_softmax": "log_softmax"}
_MODULES = {nn.ReLU: "relu", nn.ReLU6: "relu6", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid",
            nn.GELU: "gelu", nn.ELU: "elu", nn.LeakyReLU: "leaky_relu", nn.Softmax: "softmax",
            nn.LogSoftmax: "log_softmax", nn.SiLU: "silu", nn.Mish: "mish",
            nn.Softplus: "softplus", nn.SELU: "selu", nn.CELU: "celu",
            nn.Hardswish: "hardswish", nn.Hardsigmoid: "hardsigmoid", nn.Softsign: "softsign"}


def arg(node: fx.Node, pos: int, name: str, default: Any = None) -> Any:
    """Argument ``name`` of a call node, given by position ``pos`` or by keyword."""
    if len(node.args) > pos:
        return node.args[pos]
    return node.kwargs.get(name, default)


def hashable(target: Any) -> bool:
    try:
        hash(target)
    except TypeError:
        return False
    return True


def activation_of(node: fx.Node, module: nn.Module | None = None) -> Activation | None:
    """The activation ``node`` computes, or None when it is not an activation.

    Raises `Unsupported` for an activation with a setting the catalogue cannot express.
    """
    if node.op == "call_module":
        return _module_activation(module) if module is not None else None
    if node.op == "call_function" and hashable(node.target) and node.target in _FUNCS:
        kind = _FUNCS[node.target]
    elif node.op == "call_method" and node.target in _METHODS:
        kind = _METHODS[node.target]
    else:
        return None
    if kind in _PLAIN:
        return Activation(kind)
    if kind == "gelu":
        approximate = arg(node, 1, "approximate", "none")
        return Activation("gelu", {"approximate": approximate})
    if kind in ("elu", "celu"):
        return Activation(kind, {"alpha": float(arg(node, 1, "alpha", 1.0))})
    if kind == "leaky_relu":
        return Activation("leaky_relu",
                          {"negative_slope": float(arg(node, 1, "negative_slope", 0.01))})
    if kind == "softplus":
        return Activation("softplus", {"beta": float(arg(node, 1, "beta", 1.0)),
                                       "threshold": float(arg(node, 2, "threshold", 20.0))})
    dim = arg(node, 1, "dim")
    if not isinstance(dim, int):
        raise Unsupported(f"{kind} without an explicit dim (write dim=-1)")
    if arg(node, 3 if node.op == "call_function" else 2, "dtype") is not None:
        raise Unsupported(f"{kind} with a dtype")
    return Activation(kind, {"dim": dim})


def _module_activation(module: nn.Module) -> Activation | None:
    kind = _MODULES.get(type(module))
    if kind is None:
        return None
    if kind in _PLAIN:
        return Activation(kind)
    if kind == "gelu":
        return Activation("gelu", {"approximate": module.approximate})
    if kind in ("elu", "celu"):
        return Activation(kind, {"alpha": float(module.alpha)})
    if kind == "leaky_relu":
        return Activation("leaky_relu", {"negative_slope": float(module.negative_slope)})
    if kind == "softplus":
        return Activation("softplus", {"beta": float(module.beta),
                                       "threshold": float(module.threshold)})
    if module.dim is None:
        raise Unsupported(f"{module_name(type(module))}() without an explicit dim (write "
                          "dim=-1)")
    return Activation(kind, {"dim": int(module.dim)})


# --- functions -----------------------------------------------------------------------------------

ADD = frozenset({operator.add, operator.iadd, torch.add})
SUB = frozenset({operator.sub, operator.isub, torch.sub, torch.subtract})
MUL = frozenset({operator.mul, operator.imul, torch.mul, torch.multiply})
DIV = frozenset({operator.truediv, operator.itruediv, torch.div, torch.divide,
                 torch.true_divide})
ARITH_METHODS = {"add": "add", "add_": "add", "sub": "sub", "sub_": "sub", "mul": "mul",
                 "mul_": "mul", "div": "div", "div_": "div", "__radd__": "add",
                 "__rmul__": "mul"}
IN_PLACE = frozenset({operator.iadd, operator.isub, operator.imul, operator.itruediv})
UNARY = {torch.exp: "Exp", torch.log: "Log", torch.sqrt: "Sqrt", torch.abs: "Abs",
         "exp": "Exp", "exp_": "Exp", "log": "Log", "log_": "Log", "sqrt": "Sqrt",
         "sqrt_": "Sqrt", "abs": "Abs", "abs_": "Abs"}
CAT = frozenset({torch.cat, torch.concat, torch.concatenate})
MATMUL = frozenset({operator.matmul, torch.matmul, torch.bmm, torch.mm})
REDUCE = {torch.mean: "Mean", torch.sum: "Sum", torch.amax: "Max", torch.max: "Max",
          "mean": "Mean", "sum": "Sum", "amax": "Max", "max": "Max"}
DROPOUT = {F.dropout: "Dropout", F.dropout1d: "Dropout1d", F.dropout2d: "Dropout2d",
           F.dropout3d: "Dropout3d", torch.dropout: "Dropout"}
POOL = {F.max_pool1d: "MaxPool1d", F.max_pool2d: "MaxPool2d", F.max_pool3d: "MaxPool3d",
        F.avg_pool1d: "AvgPool1d", F.avg_pool2d: "AvgPool2d", F.avg_pool3d: "AvgPool3d",
        torch.max_pool1d: "MaxPool1d", torch.max_pool2d: "MaxPool2d",
        torch.max_pool3d: "MaxPool3d", torch.avg_pool1d: "AvgPool1d"}
ADAPTIVE = {F.adaptive_avg_pool1d: "AdaptiveAvgPool1d", F.adaptive_avg_pool2d: "AdaptiveAvgPool2d",
            F.adaptive_max_pool1d: "AdaptiveMaxPool1d", F.adaptive_max_pool2d: "AdaptiveMaxPool2d",
            torch.adaptive_avg_pool1d: "AdaptiveAvgPool1d"}
CONV_FUNCS = {F.conv1d: "Conv1d", F.conv2d: "Conv2d", F.conv3d: "Conv3d",
              F.conv_transpose1d: "ConvTranspose1d", F.conv_transpose2d: "ConvTranspose2d",
              F.conv_transpose3d: "ConvTranspose3d"}
PLUMBING_ATTRS = frozenset({"shape", "dtype", "device", "ndim", "is_cuda", "requires_grad"})
PLUMBING_METHODS = frozenset({"size", "dim", "numel", "get_device"})
#: Calls that change nothing the design computes (on a tensor whose dtype they keep).
NO_OPS = frozenset({"contiguous", "to", "float", "cpu", "cuda", "type_as", "clone"})


def lookup(table: dict, target: Any) -> Any:
    return table.get(target) if hashable(target) else None


# --- modules -------------------------------------------------------------------------------------

def per_dim(value: Any, dims: int) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * dims
    out = tuple(int(v) for v in value)
    return out * dims if len(out) == 1 else out


def one_or_tuple(value: Any, dims: int) -> int | tuple[int, ...]:
    """The catalogue's spelling of a per-dimension number: one number when all are equal."""
    values = per_dim(value, dims)
    return values[0] if len(set(values)) == 1 else values


def pool_params(type_: str, kernel: Any, stride: Any, padding: Any, dilation: Any = 1,
                ceil_mode: bool = False, count_include_pad: bool = True) -> dict[str, Any]:
    """Pooling parameters; a stride equal to the window is written as the catalogue's 0."""
    dims = int(type_[-2])
    kernel = per_dim(kernel, dims)
    stride = kernel if stride is None or stride == () or stride == [] else per_dim(stride, dims)
    params: dict[str, Any] = {
        "kernel_size": kernel, "stride": (0,) * dims if stride == kernel else stride,
        "padding": one_or_tuple(padding, dims), "ceil_mode": bool(ceil_mode)}
    if type_.startswith("Max"):
        params["dilation"] = per_dim(dilation, dims)
    else:
        params["count_include_pad"] = bool(count_include_pad)
    return params


def conv_params(type_: str, out_channels: int, kernel: Any, stride: Any, padding: Any,
                dilation: Any, groups: int, bias: bool, padding_mode: str = "zeros",
                output_padding: Any = 0) -> dict[str, Any]:
    dims = int(type_[-2])
    params: dict[str, Any] = {"filters": int(out_channels), "kernel_size": per_dim(kernel, dims),
                              "stride": per_dim(stride, dims), "dilation": per_dim(dilation, dims),
                              "groups": int(groups), "use_bias": bool(bias)}
    if type_.startswith("ConvTranspose"):
        if padding_mode != "zeros":
            raise Unsupported(f"nn.{type_}(padding_mode={padding_mode!r}) (only zeros)")
        params["padding"] = one_or_tuple(padding, dims)
        params["output_padding"] = one_or_tuple(output_padding, dims)
        return params
    if isinstance(padding, str):
        params["padding"] = padding
    else:
        pad = one_or_tuple(padding, dims)
        params["padding"] = "valid" if pad == 0 else pad
    params["padding_mode"] = padding_mode
    return params


def _norm_dims(module: nn.Module, in_shape: Shape | None, ranks: tuple[int, ...]) -> None:
    if in_shape is not None and len(in_shape) not in ranks:
        raise Unsupported(f"{module_name(type(module))} on a {len(in_shape)}-D input")


_PADS = {nn.ZeroPad1d: "ZeroPad", nn.ZeroPad2d: "ZeroPad", nn.ZeroPad3d: "ZeroPad",
         nn.ConstantPad1d: "ZeroPad", nn.ConstantPad2d: "ZeroPad", nn.ConstantPad3d: "ZeroPad",
         nn.ReflectionPad1d: "ReflectionPad", nn.ReflectionPad2d: "ReflectionPad",
         nn.ReflectionPad3d: "ReflectionPad", nn.ReplicationPad1d: "ReplicationPad",
         nn.ReplicationPad2d: "ReplicationPad", nn.ReplicationPad3d: "ReplicationPad"}
_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
          nn.ConvTranspose3d)
_POOLS = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)
_ADAPTIVE = (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool1d,
             nn.AdaptiveMaxPool2d)
_UPSAMPLE = (nn.Upsample, nn.UpsamplingNearest2d, nn.UpsamplingBilinear2d)


def pad_params(pad: Any) -> tuple[int, ...]:
    pad = tuple(int(p) for p in pad)
    return pad[:1] if len(set(pad)) == 1 else pad


def map_module(module: nn.Module, in_shape: Shape | None) -> tuple[str, dict[str, Any]]:
    """Catalogue (type, params) for a leaf module that is not an activation, recurrent or
    attention layer. ``in_shape`` is the (batch-first) shape the module received."""
    cls = type(module)
    name = module_name(cls)
    if cls is nn.Linear:
        return "Dense", {"units": module.out_features, "use_bias": module.bias is not None}
    if cls in _CONVS:
        return cls.__name__, conv_params(
            cls.__name__, module.out_channels, module.kernel_size, module.stride,
            module.padding, module.dilation, module.groups, module.bias is not None,
            module.padding_mode, getattr(module, "output_padding", 0))
    if cls in (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d):
        if module.momentum is None:
            raise Unsupported(f"{name}(momentum=None) (a cumulative average; the BatchNorm "
                              "layer takes a momentum)")
        return "BatchNorm", {"momentum": float(module.momentum), "eps": float(module.eps),
                             "affine": bool(module.affine),
                             "track_running_stats": bool(module.track_running_stats)}
    if cls is nn.LayerNorm:
        if len(module.normalized_shape) != 1:
            raise Unsupported(f"nn.LayerNorm({tuple(module.normalized_shape)}) (only the last "
                              "dimension)")
        if in_shape is not None and in_shape[-1] != module.normalized_shape[0]:
            raise Unsupported("nn.LayerNorm whose size differs from its input's last dimension")
        return "LayerNorm", {"eps": float(module.eps),
                             "elementwise_affine": bool(module.elementwise_affine),
                             "use_bias": module.bias is not None or not module.elementwise_affine}
    if cls in (nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d):
        if module.momentum is None:
            raise Unsupported(f"{name}(momentum=None)")
        dims = int(cls.__name__[-2])
        _norm_dims(module, in_shape, (dims + 2,))
        return "InstanceNorm", {"eps": float(module.eps), "momentum": float(module.momentum),
                                "affine": bool(module.affine),
                                "track_running_stats": bool(module.track_running_stats)}
    if cls is nn.GroupNorm:
        return "GroupNorm", {"num_groups": module.num_groups, "eps": float(module.eps),
                             "affine": bool(module.affine)}
    if cls in (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d):
        return cls.__name__, {"p": float(module.p)}
    if cls is nn.Flatten:
        return flatten_params(module.start_dim, module.end_dim, in_shape)
    if cls is nn.Embedding:
        return "Embedding", embedding_params(module.num_embeddings, module.embedding_dim,
                                             module.padding_idx, module.max_norm,
                                             module.norm_type, module.scale_grad_by_freq)
    if cls in _POOLS:
        type_ = cls.__name__
        if type_.startswith("Max"):
            if module.return_indices:
                raise Unsupported(f"{name}(return_indices=True)")
            return type_, pool_params(type_, module.kernel_size, module.stride, module.padding,
                                      module.dilation, module.ceil_mode)
        if getattr(module, "divisor_override", None) is not None:
            raise Unsupported(f"{name}(divisor_override=…)")
        return type_, pool_params(type_, module.kernel_size, module.stride, module.padding,
                                  1, module.ceil_mode, module.count_include_pad)
    if cls in _ADAPTIVE:
        if getattr(module, "return_indices", False):
            raise Unsupported(f"{name}(return_indices=True)")
        return cls.__name__, {"output_size": adaptive_size(module.output_size,
                                                           int(cls.__name__[-2]), in_shape)}
    if cls in _UPSAMPLE:
        align = module.align_corners
        if cls is nn.UpsamplingBilinear2d:
            align = True
        return "Upsample", upsample_params(module.size, module.scale_factor, module.mode,
                                           align, getattr(module, "recompute_scale_factor", None),
                                           in_shape)
    if cls is nn.PixelShuffle:
        return "PixelShuffle", {"upscale_factor": module.upscale_factor}
    if cls is nn.PixelUnshuffle:
        return "PixelUnshuffle", {"downscale_factor": module.downscale_factor}
    if cls in _PADS:
        if getattr(module, "value", 0.0) != 0.0:
            raise Unsupported(f"{name} with value {module.value!r} (only zeros: ZeroPad)")
        return _PADS[cls], {"padding": pad_params(module.padding)}
    if cls is nn.Unflatten:
        raise Unsupported("nn.Unflatten")  # handled by the walk as a Reshape
    raise Unsupported(name)


def embedding_params(num: int, dim: int, padding_idx: Any, max_norm: Any, norm_type: float,
                     scale_grad_by_freq: bool) -> dict[str, Any]:
    if max_norm is not None and norm_type != 2.0:
        raise Unsupported(f"nn.Embedding(norm_type={norm_type!r}) (only the 2-norm)")
    return {"num_embeddings": int(num), "embedding_dim": int(dim),
            "padding_idx": None if padding_idx is None else int(padding_idx),
            "max_norm": None if max_norm is None else float(max_norm),
            "scale_grad_by_freq": bool(scale_grad_by_freq)}


def adaptive_size(size: Any, dims: int, in_shape: Shape | None) -> tuple[int, ...]:
    sizes = (size,) * dims if not isinstance(size, (tuple, list)) else tuple(size)
    if len(sizes) == 1:
        sizes = sizes * dims
    out = []
    for i, s in enumerate(sizes):
        if s is None:  # None keeps the input's size
            if in_shape is None:
                raise Unsupported("adaptive pooling to None with an unknown input size")
            s = in_shape[2 + i]
        out.append(int(s))
    return tuple(out)


_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear")


def upsample_params(size: Any, scale: Any, mode: str, align_corners: Any, recompute: Any,
                    in_shape: Shape | None, antialias: bool = False) -> dict[str, Any]:
    if mode not in _MODES:
        raise Unsupported(f"interpolation mode {mode!r} (only {', '.join(_MODES)})")
    if antialias:
        raise Unsupported("interpolation with antialias=True")
    params: dict[str, Any] = {"mode": mode, "align_corners": bool(align_corners)}
    if size is not None:
        spatial = len(in_shape) - 2 if in_shape is not None else 1
        params["size"] = per_dim(size, spatial) if not isinstance(size, int) else (size,) * spatial
        return params
    scales = tuple(scale) if isinstance(scale, (tuple, list)) else (scale,)
    if len(set(float(s) for s in scales)) != 1:
        raise Unsupported(f"interpolation with different scale factors {tuple(scales)!r} per "
                          "dimension (give a size instead)")
    if recompute:
        raise Unsupported("interpolation with recompute_scale_factor=True")
    params["scale_factor"] = float(scales[0])
    return params


def flatten_params(start: int, end: int, in_shape: Shape | None) -> tuple[str, dict[str, Any]]:
    rank = len(in_shape) if in_shape is not None else None
    if rank is not None:
        start = start % rank if start < 0 else start
        end = -1 if end % rank == rank - 1 else end % rank
    if start < 1:
        raise Unsupported(f"flatten with start_dim={start} (the batch dimension stays)")
    return "Flatten", {"start_dim": start, "end_dim": end}


def rnn_params(module: nn.Module) -> tuple[str, dict[str, Any]]:
    cls = type(module).__name__
    type_ = {"LSTM": "LSTM", "GRU": "GRU", "RNN": "SimpleRNN"}[cls]
    if getattr(module, "proj_size", 0):
        raise Unsupported(f"nn.{cls}(proj_size={module.proj_size})")
    params = {"hidden_size": module.hidden_size, "num_layers": module.num_layers,
              "bidirectional": bool(module.bidirectional), "return_sequences": True,
              "dropout": float(module.dropout), "use_bias": bool(module.bias)}
    if cls == "RNN":
        params["nonlinearity"] = module.nonlinearity
    return type_, params


def transformer_params(layer: nn.Module) -> dict[str, Any]:
    """A TransformerEncoderLayer / DecoderLayer's parameters (d_model is inferred)."""
    name = module_name(type(layer))
    flag = getattr(layer, "activation_relu_or_gelu", None)
    activation = layer.activation
    if activation is F.relu or isinstance(activation, nn.ReLU) or flag == 1:
        act = "relu"
    elif activation is F.gelu or (isinstance(activation, nn.GELU) and
                                  activation.approximate == "none") or flag == 2:
        act = "gelu"
    else:
        raise Unsupported(f"{name} with the activation {activation!r} (only relu or gelu)")
    attn = layer.self_attn
    eps = {float(m.eps) for m in layer.modules() if isinstance(m, nn.LayerNorm)}
    if len(eps) != 1:
        raise Unsupported(f"{name} whose layer norms have different eps")
    return {"nhead": attn.num_heads, "dim_feedforward": layer.linear1.out_features,
            "dropout": float(layer.dropout.p), "activation": act,
            "layer_norm_eps": eps.pop(), "norm_first": bool(layer.norm_first),
            "use_bias": layer.linear1.bias is not None}


def check_attention(mha: nn.MultiheadAttention) -> None:
    if mha.bias_k is not None or mha.add_zero_attn:
        raise Unsupported("nn.MultiheadAttention with add_bias_kv or add_zero_attn")


# --- names ---------------------------------------------------------------------------------------

def op_name(node: fx.Node, root: nn.Module | None = None) -> str:
    """A person's name for what ``node`` calls: ``torch.fft.fft``, ``Tensor.sum()``, ``nn.Conv3d``."""
    if node.meta.get("nc_onnx_op"):
        return f"ONNX {node.meta['nc_onnx_op']}"
    if node.op == "call_method":
        return f"Tensor.{node.target}()"
    if node.op == "call_module":
        if root is not None:
            return module_name(type(root.get_submodule(node.target)))
        return str(node.target)
    if node.op == "get_attr":
        return f"self.{node.target}"
    target = node.target
    if target is getattr and len(node.args) > 1:
        return f"attribute Tensor.{node.args[1]}"
    public = _public_names().get(id(target))
    if public:
        return public
    module = getattr(target, "__module__", None) or ""
    name = getattr(target, "__qualname__", None) or getattr(target, "__name__", None) or str(target)
    if module in ("_operator", "operator"):
        return f"operator.{name}"
    return f"{module}.{name}" if module else name


_PUBLIC: dict[int, str] = {}


def _public_names() -> dict[int, str]:
    """id(function) → public dotted name for torch's user-facing namespaces (built once)."""
    if not _PUBLIC:
        import torch.fft
        import torch.linalg
        import torch.special

        spaces = (("torch.fft", torch.fft), ("torch.linalg", torch.linalg),
                  ("torch.special", torch.special), ("F", F), ("torch", torch))
        for prefix, space in spaces:
            for attr in dir(space):
                if attr.startswith("_"):
                    continue
                obj = getattr(space, attr, None)
                if callable(obj) and not isinstance(obj, type):
                    _PUBLIC.setdefault(id(obj), f"{prefix}.{attr}")
    return _PUBLIC
