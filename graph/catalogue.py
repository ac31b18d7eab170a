"""The layer catalogue: one frozen `LayerSpec` per layer type, as plain data.

The palette, the inspector's forms, validation, shape inference and code generation all read
this table. Arguments that can be inferred from incoming shapes (``in_features``,
``in_channels``, ``input_size``, ``num_features``) are deliberately *not* parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from graph.errors import ParamError, UnknownLayerError

INT, FLOAT, BOOL, CHOICE, INT_TUPLE = "int", "float", "bool", "choice", "int_tuple"

#: Activations a Dense/Conv layer can apply itself (``none`` = linear).
ACTIVATIONS = ("none", "relu", "tanh", "sigmoid", "softmax", "log_softmax", "gelu", "elu",
               "leaky_relu", "sign")
KERNEL_INITS = ("default", "uniform", "normal", "xavier_uniform", "xavier_normal",
                "kaiming_uniform", "kaiming_normal", "zeros", "ones")
BIAS_INITS = ("default", "zeros", "ones", "uniform", "normal")
LOSSES = ("mse", "mae", "huber", "cross_entropy", "binary_cross_entropy", "nll", "none")
METRICS = ("auto", "accuracy", "mae", "r2", "none")

VARIADIC = -1
"""`LayerSpec.arity` value for layers taking two or more ordered inputs."""


@dataclass(frozen=True)
class ParamSpec:
    """One typed, bounded parameter of a layer."""

    name: str
    kind: str
    default: Any
    doc: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    min_len: int = 1
    max_len: int = 4

    def validate(self, value: Any) -> Any:
        """Return ``value`` normalised to this spec's type, or raise `ParamError`."""
        if self.kind == BOOL:
            if isinstance(value, bool):
                return value
            raise self._error(value, "true or false")
        if self.kind == INT:
            return self._check_int(value)
        if self.kind == FLOAT:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self._error(value, f"a number{self._range()}")
            value = float(value)
            if not math.isfinite(value):
                raise self._error(value, f"a finite number{self._range()}")
            self._check_range(value)
            return value
        if self.kind == CHOICE:
            if isinstance(value, str) and value in self.choices:
                return value
            raise self._error(value, "one of " + ", ".join(self.choices))
        if self.kind == INT_TUPLE:
            if isinstance(value, (int,)) and not isinstance(value, bool):
                value = (value,)
            if not isinstance(value, (list, tuple)):
                raise self._error(value, f"a list of {self._len_text()} whole numbers")
            if not self.min_len <= len(value) <= self.max_len:
                raise self._error(value, f"a list of {self._len_text()} whole numbers")
            return tuple(self._check_int(v) for v in value)
        raise AssertionError(f"unknown parameter kind {self.kind!r}")

    def _check_int(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise self._error(value, f"a whole number{self._range()}")
        self._check_range(value)
        return value

    def _check_range(self, value: float) -> None:
        if (self.minimum is not None and value < self.minimum) or (
            self.maximum is not None and value > self.maximum
        ):
            raise self._error(value, f"a value{self._range()}")

    def _range(self) -> str:
        lo, hi = self.minimum, self.maximum
        if lo is not None and hi is not None:
            return f" from {_num(lo)} to {_num(hi)}"
        if lo is not None:
            return f" of at least {_num(lo)}"
        if hi is not None:
            return f" of at most {_num(hi)}"
        return ""

    def _len_text(self) -> str:
        if self.min_len == self.max_len:
            return str(self.min_len)
        return f"{self.min_len} to {self.max_len}"

    def _error(self, value: Any, allowed: str) -> ParamError:
        return ParamError(self.name, value, allowed)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


@dataclass(frozen=True)
class LayerSpec:
    """What a layer type is: its name, category, doc, parameters and ports."""

    type: str
    category: str
    doc: str
    params: tuple[ParamSpec, ...] = ()
    arity: int = 1
    outputs: int = 1
    key_params: tuple[str, ...] = ()
    name_prefix: str = ""
    trainable: bool = False
    """Whether the layer has weights (drives the trainable switch and summaries)."""
    _index: dict[str, ParamSpec] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._index.update({p.name: p for p in self.params})

    @property
    def variadic(self) -> bool:
        return self.arity == VARIADIC

    @property
    def prefix(self) -> str:
        """Base for auto-generated node names (``dense`` → ``dense_1``)."""
        return self.name_prefix or _snake(self.type)

    def param(self, name: str) -> ParamSpec:
        try:
            return self._index[name]
        except KeyError:
            known = ", ".join(self._index) or "none"
            raise ParamError(name, None, f"a parameter of {self.type} ({known})") from None

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def validate_params(self, params: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
        """Validate ``params`` (all of them, or a partial update) and return normalised copies.

        Missing parameters take their defaults unless ``partial``; unknown names raise.
        """
        out: dict[str, Any] = {} if partial else self.defaults()
        for name, value in params.items():
            out[name] = self.param(name).validate(value)
        return out

    def input_ports(self, connected: int = 0) -> int:
        """How many input ports to draw given ``connected`` incoming edges."""
        if self.variadic:
            return max(2, connected + 1)
        return self.arity


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and (not name[i - 1].isupper() or
                                   (i + 1 < len(name) and name[i + 1].islower())):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


# --- parameter helpers ---------------------------------------------------------------------------

def _int(name, default, doc="", lo=None, hi=None):
    return ParamSpec(name, INT, default, doc, minimum=lo, maximum=hi)


def _float(name, default, doc="", lo=None, hi=None):
    return ParamSpec(name, FLOAT, default, doc, minimum=lo, maximum=hi)


def _bool(name, default, doc=""):
    return ParamSpec(name, BOOL, default, doc)


def _choice(name, default, choices, doc=""):
    return ParamSpec(name, CHOICE, default, doc, choices=tuple(choices))


def _tuple(name, default, doc="", lo=1, hi=1 << 16, min_len=1, max_len=4):
    return ParamSpec(name, INT_TUPLE, tuple(default), doc, minimum=lo, maximum=hi,
                     min_len=min_len, max_len=max_len)


_ACT = _choice("activation", "none", ACTIVATIONS, "Activation applied to the output.")
_BIAS = _bool("use_bias", True, "Learn an additive bias.")
_KINIT = _choice("kernel_initializer", "default", KERNEL_INITS,
                 "How weights start (default: PyTorch's own).")
_BINIT = _choice("bias_initializer", "default", BIAS_INITS, "How biases start.")
_SCALE = _float("init_scale", 0.05, "Half-width of 'uniform' / std of 'normal' initializers.",
                0.0, 100.0)
_UNITS_MAX = 1 << 20


def _conv(dims: int) -> LayerSpec:
    k = (3,) * dims
    s = (1,) * dims
    return LayerSpec(
        f"Conv{dims}d", "Convolution",
        f"{dims}-D convolution; input channels are inferred.",
        (
            _int("filters", 16, "Number of output channels.", 1, 1 << 16),
            _tuple("kernel_size", k, "Kernel size per spatial dimension.", 1, 1024, dims, dims),
            _tuple("stride", s, "Step per spatial dimension.", 1, 1024, dims, dims),
            _choice("padding", "valid", ("valid", "same"),
                    "'same' keeps the size (stride 1 only); 'valid' pads nothing."),
            _ACT, _BIAS, _KINIT, _BINIT, _SCALE,
        ),
        key_params=("filters", "kernel_size", "activation"), name_prefix=f"conv{dims}d",
        trainable=True,
    )


def _pool(kind: str, dims: int) -> LayerSpec:
    return LayerSpec(
        f"{kind}Pool{dims}d", "Pooling",
        f"{dims}-D {'maximum' if kind == 'Max' else 'average'} pooling.",
        (
            _tuple("kernel_size", (2,) * dims, "Window per spatial dimension.", 1, 1024, dims,
                   dims),
            _tuple("stride", (0,) * dims, "Step per dimension (0 = same as the window).", 0, 1024,
                   dims, dims),
        ),
        key_params=("kernel_size",), name_prefix=f"{kind.lower()}pool{dims}d",
    )


def _rnn(kind: str, doc: str) -> LayerSpec:
    return LayerSpec(
        kind, "Recurrent", doc,
        (
            _int("hidden_size", 32, "Features in the hidden state.", 1, 1 << 16),
            _int("num_layers", 1, "Stacked recurrent layers.", 1, 16),
            _bool("bidirectional", False, "Read the sequence both ways."),
            _bool("return_sequences", False,
                  "Output every step (N, T, H) instead of the last step (N, H)."),
            _float("dropout", 0.0, "Dropout between stacked layers.", 0.0, 0.99),
        ),
        key_params=("hidden_size", "return_sequences"), trainable=True,
        name_prefix={"SimpleRNN": "rnn"}.get(kind, kind.lower()),
    )


def _act(type_: str, doc: str, *params: ParamSpec, prefix: str = "") -> LayerSpec:
    return LayerSpec(type_, "Activation", doc, tuple(params), name_prefix=prefix)


LAYERS: tuple[LayerSpec, ...] = (
    # Inputs and outputs
    LayerSpec(
        "Input", "Input / Output", "A model input: one sample's shape, without the batch.",
        (
            _tuple("shape", (4,), "Shape of one sample, e.g. 784 or 1, 8, 8.", 1, 1 << 24, 1, 4),
            _choice("dtype", "float32", ("float32", "int64"),
                    "int64 for token ids feeding an Embedding."),
        ),
        arity=0, key_params=("shape",), name_prefix="input",
    ),
    LayerSpec(
        "Output", "Input / Output",
        "A model output with its loss: what the network is trained to predict.",
        (
            _choice("loss", "mse", LOSSES, "Loss against this output's target."),
            _float("loss_weight", 1.0, "Weight of this loss in the total.", 0.0, 1e6),
            _choice("metric", "auto", METRICS,
                    "Reported metric (auto: accuracy for classes, MAE otherwise)."),
        ),
        outputs=0, key_params=("loss", "loss_weight"), name_prefix="output",
    ),
    # Core
    LayerSpec(
        "Dense", "Core", "Fully connected layer: y = activation(x W + b). Input size is inferred.",
        (_int("units", 32, "Output features.", 1, _UNITS_MAX), _ACT, _BIAS, _KINIT, _BINIT,
         _SCALE),
        key_params=("units", "activation"), trainable=True,
    ),
    LayerSpec("Flatten", "Core", "Flatten everything after the batch dimension into features.",
              (_int("start_dim", 1, "First dimension to flatten (1 = after the batch).", 1, 4),)),
    LayerSpec("Reshape", "Core", "Reshape each sample (batch dimension kept).",
              (_tuple("shape", (1, 8, 8), "New shape of one sample.", 1, 1 << 24, 1, 4),),
              key_params=("shape",)),
    LayerSpec("Dropout", "Regularization",
              "Zero a random fraction of activations while training.",
              (_float("p", 0.5, "Fraction dropped.", 0.0, 0.99),), key_params=("p",)),
    LayerSpec("BatchNorm", "Normalization",
              "Batch normalization over channels/features (1-D or 2-D inferred).",
              (_float("momentum", 0.1, "Running-average momentum.", 0.0, 1.0),
               _float("eps", 1e-5, "Added to the variance.", 1e-12, 1.0)),
              trainable=True, name_prefix="batch_norm"),
    LayerSpec("LayerNorm", "Normalization", "Layer normalization over the last dimension.",
              (_float("eps", 1e-5, "Added to the variance.", 1e-12, 1.0),),
              trainable=True, name_prefix="layer_norm"),
    # Activations
    _act("ReLU", "max(0, x).", prefix="relu"),
    _act("LeakyReLU", "x if x > 0 else slope·x.",
         _float("negative_slope", 0.01, "Slope for x < 0.", 0.0, 10.0), prefix="leaky_relu"),
    _act("ELU", "x if x > 0 else alpha·(exp(x) − 1).", _float("alpha", 1.0, "", 0.0, 100.0),
         prefix="elu"),
    _act("GELU", "Gaussian error linear unit.", prefix="gelu"),
    _act("Sigmoid", "1 / (1 + exp(−x))."),
    _act("Tanh", "Hyperbolic tangent, output in (−1, 1)."),
    _act("Softmax", "Probabilities over a dimension.", _int("dim", -1, "Dimension.", -4, 4)),
    _act("LogSoftmax", "Log-probabilities over a dimension.",
         _int("dim", -1, "Dimension.", -4, 4), prefix="log_softmax"),
    _act("Sign", "Threshold unit: −1 / +1 by sign. Not trainable by gradient (zero gradient)."),
    _act("Step", "Heaviside step: 0 / 1. Not trainable by gradient (zero gradient)."),
    # Convolution and pooling
    _conv(1), _conv(2),
    _pool("Max", 1), _pool("Max", 2), _pool("Avg", 1), _pool("Avg", 2),
    LayerSpec("GlobalAvgPool", "Pooling",
              "Average over all spatial positions: (N, C, …) → (N, C).",
              name_prefix="global_avg_pool"),
    # Embedding and recurrent
    LayerSpec("Embedding", "Recurrent", "Map integer token ids to learned vectors.",
              (_int("num_embeddings", 100, "Vocabulary size.", 1, 1 << 24),
               _int("embedding_dim", 16, "Vector size.", 1, 1 << 16)),
              key_params=("num_embeddings", "embedding_dim"), trainable=True),
    _rnn("LSTM", "Long short-term memory over (N, T, features)."),
    _rnn("GRU", "Gated recurrent unit over (N, T, features)."),
    _rnn("SimpleRNN", "Elman RNN with tanh over (N, T, features)."),
    # Merging
    LayerSpec("Concatenate", "Merge", "Join inputs along an axis, in port order.",
              (_int("axis", -1, "Axis to join on (−1 = features).", -4, 4),),
              arity=VARIADIC, key_params=("axis",), name_prefix="concat"),
    LayerSpec("Add", "Merge", "Element-wise sum of inputs of one shape (residual connections).",
              arity=VARIADIC),
    LayerSpec("Multiply", "Merge", "Element-wise product of inputs of one shape.",
              arity=VARIADIC),
)

CATALOGUE: dict[str, LayerSpec] = {spec.type: spec for spec in LAYERS}
CATEGORIES: tuple[str, ...] = tuple(dict.fromkeys(spec.category for spec in LAYERS))


def get_spec(type_name: str) -> LayerSpec:
    """The spec for ``type_name``; `UnknownLayerError` names close matches."""
    try:
        return CATALOGUE[type_name]
    except (KeyError, TypeError):
        raise UnknownLayerError(type_name, tuple(CATALOGUE)) from None
