"""The table behind model import: which PyTorch modules and functions are which catalogue layers.

`map_module` turns a leaf ``nn`` module into a catalogue type and parameters; `activation_of`
recognises activations in their three spellings (``nn.ReLU()``, ``torch.relu`` / ``F.relu``,
``x.relu()``). Anything that a catalogue layer cannot express exactly raises `Unsupported` with
the reason, so the importer lists it instead of approximating it.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

Shape = tuple[int, ...]


class Unsupported(Exception):
    """An operation (or a setting of one) that no catalogue layer expresses; text says which."""


@dataclass(frozen=True)
class Activation:
    """An activation as the catalogue knows it: its Dense/Conv name plus its own parameters."""

    kind: str
    """One of `graph.catalogue.ACTIVATIONS` (``relu``, ``softmax``, …)."""
    params: dict[str, Any] = field(default_factory=dict)

    def as_layer(self) -> tuple[str, dict[str, Any]]:
        """The stand-alone activation layer (type, params)."""
        return _ACT_LAYER[self.kind], dict(self.params)

    def foldable(self, layer_type: str, rank: int) -> bool:
        """Whether a Dense/Conv layer's ``activation`` parameter writes exactly this call."""
        if self.kind == "elu":
            return self.params.get("alpha") == 1.0
        if self.kind == "leaky_relu":
            return self.params.get("negative_slope") == 0.01
        if self.kind in ("softmax", "log_softmax"):
            want = rank - 1 if layer_type == "Dense" else 1  # codegen: dim=-1 / dim=1
            return self.params["dim"] % rank == want
        return True


_ACT_LAYER = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "gelu": "GELU",
              "elu": "ELU", "leaky_relu": "LeakyReLU", "softmax": "Softmax",
              "log_softmax": "LogSoftmax", "sign": "Sign"}
_SIMPLE_FUNCS = {torch.relu: "relu", F.relu: "relu", torch.tanh: "tanh", F.tanh: "tanh",
                 torch.sigmoid: "sigmoid", F.sigmoid: "sigmoid", torch.sign: "sign",
                 F.gelu: "gelu", F.elu: "elu", F.leaky_relu: "leaky_relu",
                 torch.softmax: "softmax", F.softmax: "softmax",
                 torch.log_softmax: "log_softmax", F.log_softmax: "log_softmax"}
_SIMPLE_METHODS = {"relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid", "sign": "sign",
                   "softmax": "softmax", "log_softmax": "log_softmax"}

ADD_TARGETS = (operator.add, torch.add)
MUL_TARGETS = (operator.mul, torch.mul)
CAT_TARGETS = (torch.cat, torch.concat, torch.concatenate)
FLATTEN_TARGETS = (torch.flatten,)
MEAN_TARGETS = (torch.mean,)
RESHAPE_TARGETS = (torch.reshape,)
DROPOUT_TARGETS = (F.dropout,)
POOL_FUNCS = {F.max_pool1d: "MaxPool1d", F.max_pool2d: "MaxPool2d",
              F.avg_pool1d: "AvgPool1d", F.avg_pool2d: "AvgPool2d"}


def arg(node: fx.Node, pos: int, name: str, default: Any = None) -> Any:
    """Argument ``name`` of a call node, given by position ``pos`` or by keyword."""
    if len(node.args) > pos:
        return node.args[pos]
    return node.kwargs.get(name, default)


def activation_of(node: fx.Node, module: nn.Module | None = None) -> Activation | None:
    """The activation ``node`` computes, or None when it is not an activation.

    Raises `Unsupported` for an activation with a setting the catalogue cannot express.
    """
    if node.op == "call_module":
        return _module_activation(module) if module is not None else None
    if node.op == "call_function" and _hashable(node.target) and node.target in _SIMPLE_FUNCS:
        kind = _SIMPLE_FUNCS[node.target]
    elif node.op == "call_method" and node.target in _SIMPLE_METHODS:
        kind = _SIMPLE_METHODS[node.target]
    else:
        return None
    if kind == "gelu":
        approximate = arg(node, 1, "approximate", "none")
        if approximate != "none":
            raise Unsupported(f"gelu with approximate={approximate!r} (only the exact GELU)")
        return Activation("gelu")
    if kind == "elu":
        return Activation("elu", {"alpha": float(arg(node, 1, "alpha", 1.0))})
    if kind == "leaky_relu":
        return Activation("leaky_relu",
                          {"negative_slope": float(arg(node, 1, "negative_slope", 0.01))})
    if kind in ("softmax", "log_softmax"):
        dim = arg(node, 1, "dim")
        if not isinstance(dim, int):
            raise Unsupported(f"{kind} without an explicit dim")
        if node.kwargs.get("dtype") is not None:
            raise Unsupported(f"{kind} with a dtype")
        return Activation(kind, {"dim": dim})
    return Activation(kind)


def _module_activation(module: nn.Module) -> Activation | None:
    simple = {nn.ReLU: "relu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid"}
    for cls, kind in simple.items():
        if type(module) is cls:
            return Activation(kind)
    if type(module) is nn.GELU:
        if module.approximate != "none":
            raise Unsupported(f"nn.GELU(approximate={module.approximate!r}) "
                              "(only the exact GELU)")
        return Activation("gelu")
    if type(module) is nn.ELU:
        return Activation("elu", {"alpha": float(module.alpha)})
    if type(module) is nn.LeakyReLU:
        return Activation("leaky_relu", {"negative_slope": float(module.negative_slope)})
    if type(module) in (nn.Softmax, nn.LogSoftmax):
        kind = "softmax" if type(module) is nn.Softmax else "log_softmax"
        if module.dim is None:
            raise Unsupported(f"nn.{type(module).__name__}() without an explicit dim")
        return Activation(kind, {"dim": int(module.dim)})
    return None


def _hashable(target: Any) -> bool:
    try:
        hash(target)
    except TypeError:
        return False
    return True


def _tuple(value: Any, dims: int) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * dims
    return tuple(int(v) for v in value)


def pool_params(type_: str, kernel: Any, stride: Any, padding: Any, dilation: Any = 1,
                ceil_mode: bool = False) -> dict[str, Any]:
    """Pooling parameters; a stride equal to the window is written as the catalogue's 0."""
    dims = int(type_[-2])
    kernel = _tuple(kernel, dims)
    stride = kernel if stride is None or stride == () or stride == [] else _tuple(stride, dims)
    if any(p != 0 for p in _tuple(padding, dims)):
        raise Unsupported(f"{type_} with padding {padding!r} (only padding 0)")
    if any(d != 1 for d in _tuple(dilation, dims)):
        raise Unsupported(f"{type_} with dilation {dilation!r}")
    if ceil_mode:
        raise Unsupported(f"{type_} with ceil_mode=True")
    if stride == kernel:
        stride = (0,) * dims
    return {"kernel_size": kernel, "stride": stride}


def map_module(module: nn.Module, in_shape: Shape | None) -> tuple[str, dict[str, Any]]:
    """Catalogue (type, params) for a leaf module that is not an activation.

    ``in_shape`` is the (batch-first) shape the module received, used for checks.
    """
    cls = type(module)
    if cls is nn.Linear:
        if in_shape is not None and len(in_shape) not in (2, 3):
            raise Unsupported(f"nn.Linear on a {len(in_shape)}-D input (Dense takes (N, F) or "
                              "(N, T, F))")
        return "Dense", {"units": module.out_features, "use_bias": module.bias is not None}
    if cls in (nn.Conv1d, nn.Conv2d):
        return _conv(module)
    if cls in (nn.BatchNorm1d, nn.BatchNorm2d):
        if not module.affine or not module.track_running_stats:
            raise Unsupported(f"nn.{cls.__name__} with affine=False or "
                              "track_running_stats=False")
        if module.momentum is None:
            raise Unsupported(f"nn.{cls.__name__}(momentum=None) (cumulative average)")
        return "BatchNorm", {"momentum": float(module.momentum), "eps": float(module.eps)}
    if cls is nn.LayerNorm:
        if len(module.normalized_shape) != 1 or not module.elementwise_affine \
                or module.bias is None:
            raise Unsupported(f"nn.LayerNorm({tuple(module.normalized_shape)}, elementwise_affine="
                              f"{module.elementwise_affine}) (only the last dimension, with "
                              "weight and bias)")
        if in_shape is not None and in_shape[-1] != module.normalized_shape[0]:
            raise Unsupported("nn.LayerNorm whose size differs from its input's last dimension")
        return "LayerNorm", {"eps": float(module.eps)}
    if cls is nn.Dropout:
        return "Dropout", {"p": float(module.p)}
    if cls is nn.Flatten:
        return flatten_params(module.start_dim, module.end_dim, in_shape)
    if cls is nn.Embedding:
        if module.padding_idx is not None or module.max_norm is not None \
                or module.scale_grad_by_freq or module.sparse:
            raise Unsupported("nn.Embedding with padding_idx, max_norm, scale_grad_by_freq or "
                              "sparse")
        return "Embedding", {"num_embeddings": module.num_embeddings,
                             "embedding_dim": module.embedding_dim}
    if cls in (nn.LSTM, nn.GRU, nn.RNN):
        return _rnn(module)
    if cls in (nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d):
        type_ = cls.__name__
        if cls in (nn.MaxPool1d, nn.MaxPool2d):
            if module.return_indices:
                raise Unsupported(f"nn.{type_}(return_indices=True)")
            return type_, pool_params(type_, module.kernel_size, module.stride, module.padding,
                                      module.dilation, module.ceil_mode)
        if getattr(module, "divisor_override", None) is not None:
            raise Unsupported(f"nn.{type_} with divisor_override")
        return type_, pool_params(type_, module.kernel_size, module.stride, module.padding,
                                  1, module.ceil_mode)
    raise Unsupported(f"{cls.__module__}.{cls.__qualname__}".replace("torch.nn.modules.", "nn.")
                      .replace(".linear.", ".").replace(".conv.", "."))


def flatten_params(start: int, end: int, in_shape: Shape | None) -> tuple[str, dict[str, Any]]:
    rank = len(in_shape) if in_shape is not None else None
    if rank is not None:
        start = start % rank if start < 0 else start
        end = end % rank if end < 0 else end
        last = rank - 1
    else:
        last = -1
    if end not in (-1, last):
        raise Unsupported(f"flatten with end_dim={end} (only up to the last dimension)")
    if not 1 <= start <= 4:
        raise Unsupported(f"flatten with start_dim={start} (the batch dimension stays)")
    return "Flatten", {"start_dim": start}


def _conv(module: nn.Module) -> tuple[str, dict[str, Any]]:
    type_ = type(module).__name__
    dims = 1 if type_ == "Conv1d" else 2
    kernel, stride = _tuple(module.kernel_size, dims), _tuple(module.stride, dims)
    if module.groups != 1:
        raise Unsupported(f"nn.{type_} with groups={module.groups}")
    if any(d != 1 for d in _tuple(module.dilation, dims)):
        raise Unsupported(f"nn.{type_} with dilation {module.dilation}")
    if module.padding_mode != "zeros":
        raise Unsupported(f"nn.{type_} with padding_mode={module.padding_mode!r}")
    padding = module.padding
    if padding in ("valid", "same"):
        mode = padding
    elif all(p == 0 for p in _tuple(padding, dims)):
        mode = "valid"
    elif all(s == 1 for s in stride) and all(
            k % 2 == 1 and 2 * p == k - 1 for k, p in zip(kernel, _tuple(padding, dims))):
        mode = "same"
    else:
        raise Unsupported(f"nn.{type_} with padding {padding} (only 0, or the size-keeping "
                          "padding (k - 1) / 2 with stride 1)")
    return type_, {"filters": module.out_channels, "kernel_size": kernel, "stride": stride,
                   "padding": mode, "use_bias": module.bias is not None}


def _rnn(module: nn.Module) -> tuple[str, dict[str, Any]]:
    cls = type(module).__name__
    type_ = {"LSTM": "LSTM", "GRU": "GRU", "RNN": "SimpleRNN"}[cls]
    if not module.batch_first:
        raise Unsupported(f"nn.{cls} with batch_first=False (NetCanvas's recurrent layers read "
                          "(N, T, features): construct it with batch_first=True)")
    if not module.bias:
        raise Unsupported(f"nn.{cls}(bias=False)")
    if getattr(module, "proj_size", 0):
        raise Unsupported(f"nn.{cls} with proj_size")
    if cls == "RNN" and module.nonlinearity != "tanh":
        raise Unsupported(f"nn.RNN(nonlinearity={module.nonlinearity!r}) (only tanh)")
    return type_, {"hidden_size": module.hidden_size, "num_layers": module.num_layers,
                   "bidirectional": bool(module.bidirectional), "return_sequences": True,
                   "dropout": float(module.dropout)}


def op_name(node: fx.Node, root: nn.Module | None = None) -> str:
    """A person's name for what ``node`` calls: ``torch.fft.fft``, ``x.sum()``, ``nn.Conv3d``."""
    if node.op == "call_method":
        return f"Tensor.{node.target}()"
    if node.op == "call_module":
        if root is not None:
            cls = type(root.get_submodule(node.target))
            module = cls.__module__
            if module.startswith("torch.nn.modules"):
                return f"nn.{cls.__name__}"
            return f"{module}.{cls.__qualname__}"
        return str(node.target)
    if node.op == "get_attr":
        return f"parameter/buffer self.{node.target}"
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
