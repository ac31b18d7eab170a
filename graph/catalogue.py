"""The layer catalogue: one frozen `LayerSpec` per layer type, as plain data.

The palette, the inspector's forms, validation, shape inference and code generation all read
this table. A layer takes the arguments of its PyTorch module that change the result; arguments
that can be inferred from incoming shapes (``in_features``, ``in_channels``, ``input_size``,
``num_features``, ``embed_dim``, ``d_model``) are deliberately *not* parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from graph.errors import ParamError, UnknownLayerError

INT, FLOAT, BOOL, CHOICE, INT_TUPLE = "int", "float", "bool", "choice", "int_tuple"
INT_OR_TUPLE = "int_or_tuple"
"""A whole number, a list of whole numbers, or one of the spec's words (conv padding:
``1``, ``[1, 2]``, ``"same"``, ``"valid"``)."""
KINDS = (INT, FLOAT, BOOL, CHOICE, INT_TUPLE, INT_OR_TUPLE)

#: Activations a Dense/Conv layer can apply itself (``none`` = linear).
ACTIVATIONS = ("none", "relu", "tanh", "sigmoid", "softmax", "log_softmax", "gelu", "elu",
               "leaky_relu", "sign")
KERNEL_INITS = ("default", "uniform", "normal", "xavier_uniform", "xavier_normal",
                "kaiming_uniform", "kaiming_normal", "zeros", "ones")
BIAS_INITS = ("default", "zeros", "ones", "uniform", "normal")
LOSSES = ("mse", "mae", "huber", "cross_entropy", "binary_cross_entropy", "nll", "none")
METRICS = ("auto", "accuracy", "mae", "r2", "none")

#: The project-level choice of what "default" initializers mean (the ``model`` section's
#: ``initializers``): PyTorch's own, or Keras's (Glorot-uniform kernels, zero biases).
INITIALIZER_DEFAULTS = ("pytorch", "keras")
MODEL_SETTINGS_DOC = {
    "pytorch": "PyTorch's own initializers (each module's reset_parameters)",
    "keras": "Keras's defaults: Glorot-uniform weights, zero biases (as in the textbooks)",
}

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
    optional: bool = False
    """None (JSON null) is allowed: "not set" (``Slice.stop``, ``Embedding.padding_idx``)."""

    def validate(self, value: Any) -> Any:
        """Return ``value`` normalised to this spec's type, or raise `ParamError`."""
        if value is None and self.optional:
            return None
        if self.kind == BOOL:
            if isinstance(value, bool):
                return value
            raise self._error(value, "true or false")
        if self.kind == INT:
            return self._check_int(value, self._allowed(f"a whole number{self._range()}"))
        if self.kind == FLOAT:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self._error(value, self._allowed(f"a number{self._range()}"))
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
            if isinstance(value, int) and not isinstance(value, bool):
                # One number for a fixed-length tuple means "the same in every dimension".
                value = (value,) * (self.min_len if self.min_len == self.max_len else 1)
            return self._check_tuple(value, self._allowed(
                f"a list of {self._len_text()} whole numbers{self._range()}"))
        if self.kind == INT_OR_TUPLE:
            allowed = self._int_or_tuple_text()
            if isinstance(value, str):
                if value in self.choices:
                    return value
                raise self._error(value, allowed)
            if isinstance(value, (list, tuple)):
                return self._check_tuple(value, allowed)
            return self._check_int(value, allowed)
        raise AssertionError(f"unknown parameter kind {self.kind!r}")

    def _check_tuple(self, value: Any, allowed: str) -> tuple[int, ...]:
        if not isinstance(value, (list, tuple)) or not self.min_len <= len(value) <= self.max_len:
            raise self._error(value, allowed)
        return tuple(self._check_int(v, allowed) for v in value)

    def _check_int(self, value: Any, allowed: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise self._error(value, allowed)
        self._check_range(value)
        return value

    def _check_range(self, value: float) -> None:
        if (self.minimum is not None and value < self.minimum) or (
            self.maximum is not None and value > self.maximum
        ):
            raise self._error(value, f"a value{self._range()}")

    def _allowed(self, text: str) -> str:
        return f"{text}, or null (not set)" if self.optional else text

    def _int_or_tuple_text(self) -> str:
        parts = [f"a whole number{self._range()}",
                 f"a list of {self._len_text()} whole numbers (one per dimension)"]
        if self.choices:
            parts.append("one of " + ", ".join(repr(c) for c in self.choices))
        return ", ".join(parts[:-1]) + " or " + parts[-1]

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
class Port:
    """A named input port; an optional one may stay unconnected."""

    name: str
    optional: bool = False
    doc: str = ""


@dataclass(frozen=True)
class LayerSpec:
    """What a layer type is: its name, category, doc, parameters and ports."""

    type: str
    category: str
    doc: str
    params: tuple[ParamSpec, ...] = ()
    arity: int = 1
    """Input ports (``VARIADIC``: two or more ordered inputs); set from ``inputs`` if given."""
    outputs: int = 1
    key_params: tuple[str, ...] = ()
    name_prefix: str = ""
    trainable: bool = False
    """Whether the layer has weights (drives the trainable switch and summaries)."""
    inputs: tuple[Port, ...] = ()
    """Named input ports, in port order (empty: one port called ``input``, or variadic)."""
    output_names: tuple[str, ...] = ()
    """Names of the output ports (empty: ``output`` for one, else ``output 0``, …)."""
    outputs_from: str = ""
    """The parameter that sets how many outputs a node has (Split ``sizes``, Chunk ``chunks``)."""
    _index: dict[str, ParamSpec] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._index.update({p.name: p for p in self.params})
        if self.inputs:
            object.__setattr__(self, "arity", len(self.inputs))
        if self.output_names and not self.outputs_from:
            object.__setattr__(self, "outputs", len(self.output_names))

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

    def optional_input(self, port: int) -> bool:
        """Whether input ``port`` may stay unconnected."""
        return 0 <= port < len(self.inputs) and self.inputs[port].optional

    def required_inputs(self) -> list[int]:
        """The input ports that must be connected (variadic layers: see `validate`)."""
        if self.variadic:
            return []
        return [p for p in range(self.arity) if not self.optional_input(p)]

    def input_name(self, port: int) -> str:
        if 0 <= port < len(self.inputs):
            return self.inputs[port].name
        return "input" if self.arity == 1 else f"input {port}"

    def output_count(self, params: dict[str, Any] | None = None) -> int:
        """Output ports of a node with ``params`` (Split and Chunk: as many as they make)."""
        if self.outputs_from and params is not None:
            value = params.get(self.outputs_from, self.param(self.outputs_from).default)
            return value if isinstance(value, int) else len(value)
        if self.outputs_from:
            default = self.param(self.outputs_from).default
            return default if isinstance(default, int) else len(default)
        return self.outputs

    def output_name(self, port: int) -> str:
        if 0 <= port < len(self.output_names):
            return self.output_names[port]
        return "output" if self.output_count() == 1 and not self.outputs_from else str(port)


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and (not name[i - 1].isupper() or
                                   (i + 1 < len(name) and name[i + 1].islower())):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


# --- parameter helpers ---------------------------------------------------------------------------

def _int(name, default, doc="", lo=None, hi=None, optional=False):
    return ParamSpec(name, INT, default, doc, minimum=lo, maximum=hi, optional=optional)


def _float(name, default, doc="", lo=None, hi=None, optional=False):
    return ParamSpec(name, FLOAT, default, doc, minimum=lo, maximum=hi, optional=optional)


def _bool(name, default, doc=""):
    return ParamSpec(name, BOOL, default, doc)


def _choice(name, default, choices, doc=""):
    return ParamSpec(name, CHOICE, default, doc, choices=tuple(choices))


def _tuple(name, default, doc="", lo=1, hi=1 << 16, min_len=1, max_len=4, optional=False):
    return ParamSpec(name, INT_TUPLE, None if default is None else tuple(default), doc,
                     minimum=lo, maximum=hi, min_len=min_len, max_len=max_len, optional=optional)


def _int_or_tuple(name, default, doc, dims, words=(), lo=0, hi=1024, max_len=None):
    return ParamSpec(name, INT_OR_TUPLE, default, doc, minimum=lo, maximum=hi,
                     choices=tuple(words), min_len=dims, max_len=max_len or dims)


_ACT = _choice("activation", "none", ACTIVATIONS, "Activation applied to the output.")
_BIAS = _bool("use_bias", True, "Learn an additive bias.")
_KINIT = _choice("kernel_initializer", "default", KERNEL_INITS,
                 "How weights start (default: the project's initializer defaults).")
_BINIT = _choice("bias_initializer", "default", BIAS_INITS,
                 "How biases start (default: the project's initializer defaults).")
_SCALE = _float("init_scale", 0.05, "Half-width of 'uniform' / std of 'normal' initializers.",
                0.0, 100.0)
_EPS = _float("eps", 1e-5, "Added to the variance.", 1e-12, 1.0)
_UNITS_MAX = 1 << 20
_DIM = (-6, 6)
_SPATIAL = {1: "length", 2: "height, width", 3: "depth, height, width"}


def _dims_tuple(name, value, doc, dims, lo=1):
    return _tuple(name, (value,) * dims, doc, lo, 1024, dims, dims)


def _conv(dims: int) -> LayerSpec:
    return LayerSpec(
        f"Conv{dims}d", "Convolution",
        f"{dims}-D convolution over (N, channels, {_SPATIAL[dims]}); input channels are inferred.",
        (
            _int("filters", 16, "Number of output channels.", 1, 1 << 16),
            _dims_tuple("kernel_size", 3, "Kernel size per spatial dimension.", dims),
            _dims_tuple("stride", 1, "Step per spatial dimension.", dims),
            _int_or_tuple("padding", "valid",
                          "Zeros (or padding_mode values) added on each side: a number, one per "
                          "dimension, 'same' (keeps the size; stride 1 only) or 'valid' (none).",
                          dims, ("valid", "same")),
            _dims_tuple("dilation", 1, "Spacing between kernel elements (atrous convolution).",
                        dims),
            _int("groups", 1, "Split channels into groups (= input channels: depthwise).",
                 1, 1 << 16),
            _choice("padding_mode", "zeros", ("zeros", "reflect", "replicate", "circular"),
                    "What the padding holds."),
            _ACT, _BIAS, _KINIT, _BINIT, _SCALE,
        ),
        key_params=("filters", "kernel_size", "activation"), name_prefix=f"conv{dims}d",
        trainable=True,
    )


def _conv_transpose(dims: int) -> LayerSpec:
    return LayerSpec(
        f"ConvTranspose{dims}d", "Convolution",
        f"{dims}-D transposed convolution (learned upsampling, the decoder's convolution); input "
        "channels are inferred.",
        (
            _int("filters", 16, "Number of output channels.", 1, 1 << 16),
            _dims_tuple("kernel_size", 3, "Kernel size per spatial dimension.", dims),
            _dims_tuple("stride", 1, "Step per spatial dimension (2 doubles the size).", dims),
            _int_or_tuple("padding", 0, "Implicit zero padding removed from each side: a number "
                          "or one per dimension.", dims),
            _int_or_tuple("output_padding", 0, "Extra size added to one side of the output (less "
                          "than the stride): a number or one per dimension.", dims),
            _dims_tuple("dilation", 1, "Spacing between kernel elements.", dims),
            _int("groups", 1, "Split channels into groups.", 1, 1 << 16),
            _ACT, _BIAS, _KINIT, _BINIT, _SCALE,
        ),
        key_params=("filters", "kernel_size", "stride"), name_prefix=f"deconv{dims}d",
        trainable=True,
    )


def _pool(kind: str, dims: int) -> LayerSpec:
    params = [
        _dims_tuple("kernel_size", 2, "Window per spatial dimension.", dims),
        _tuple("stride", (0,) * dims, "Step per dimension (0 = same as the window).", 0, 1024,
               dims, dims),
        _int_or_tuple("padding", 0, "Implicit padding on each side (at most half the window): "
                      "a number or one per dimension.", dims),
    ]
    if kind == "Max":
        params.append(_dims_tuple("dilation", 1, "Spacing between window elements.", dims))
    params.append(_bool("ceil_mode", False, "Round the output size up (a last partial window)."))
    if kind == "Avg":
        params.append(_bool("count_include_pad", True, "Count padded zeros in the average."))
    return LayerSpec(
        f"{kind}Pool{dims}d", "Pooling",
        f"{dims}-D {'maximum' if kind == 'Max' else 'average'} pooling.", tuple(params),
        key_params=("kernel_size",), name_prefix=f"{kind.lower()}pool{dims}d",
    )


def _adaptive(kind: str, dims: int) -> LayerSpec:
    return LayerSpec(
        f"Adaptive{kind}Pool{dims}d", "Pooling",
        f"{dims}-D adaptive {'maximum' if kind == 'Max' else 'average'} pooling to a fixed "
        "output size, whatever the input size.",
        (_dims_tuple("output_size", 1, "Output size per spatial dimension.", dims),),
        key_params=("output_size",), name_prefix=f"adaptive_{kind.lower()}pool{dims}d",
    )


_LSTM_PORTS = (Port("input"), Port("h_0", True, "Initial hidden state (N, layers × directions, "
                                               "hidden), e.g. an encoder's h_n."),
               Port("c_0", True, "Initial cell state, with h_0."))
_RNN_PORTS = _LSTM_PORTS[:2]


def _rnn(kind: str, doc: str) -> LayerSpec:
    params = [
        _int("hidden_size", 32, "Features in the hidden state.", 1, 1 << 16),
        _int("num_layers", 1, "Stacked recurrent layers.", 1, 16),
        _bool("bidirectional", False, "Read the sequence both ways."),
        _bool("return_sequences", False,
              "Output every step (N, T, H) instead of the last step (N, H)."),
        _float("dropout", 0.0, "Dropout between stacked layers.", 0.0, 0.99),
        _bool("use_bias", True, "Learn the gates' biases."),
    ]
    if kind == "SimpleRNN":
        params.append(_choice("nonlinearity", "tanh", ("tanh", "relu"), "The cell's activation."))
    lstm = kind == "LSTM"
    return LayerSpec(
        kind, "Recurrent",
        doc + " Outputs: the sequence or last step, then the final state h_n"
        + (" and c_n" if lstm else "") + " as (N, layers × directions, hidden).",
        tuple(params), key_params=("hidden_size", "return_sequences"), trainable=True,
        name_prefix={"SimpleRNN": "rnn"}.get(kind, kind.lower()),
        inputs=_LSTM_PORTS if lstm else _RNN_PORTS,
        output_names=("output", "h_n", "c_n") if lstm else ("output", "h_n"),
    )


def _act(type_: str, doc: str, *params: ParamSpec, prefix: str = "",
         trainable: bool = False) -> LayerSpec:
    return LayerSpec(type_, "Activation", doc, tuple(params), name_prefix=prefix,
                     trainable=trainable)


def _tensor(type_: str, doc: str, *params: ParamSpec, key: tuple[str, ...] = (),
            prefix: str = "", **kw: Any) -> LayerSpec:
    return LayerSpec(type_, "Tensor", doc, tuple(params), key_params=key, name_prefix=prefix,
                     **kw)


def _pad(type_: str, doc: str) -> LayerSpec:
    return LayerSpec(type_, "Resampling", doc, (
        _tuple("padding", (1,), "One number pads every side of every spatial dimension; else "
               "(left, right[, top, bottom[, front, back]]) from the last dimension, as F.pad.",
               0, 1024, 1, 6),), key_params=("padding",))


_DIMS_PARAM = _tuple("dims", (1,), "Dimensions to reduce (1 = the first after the batch; "
                     "negative counts from the end).", _DIM[0], _DIM[1], 1, 6)
_KEEPDIM = _bool("keepdim", False, "Keep the reduced dimensions with size 1.")
_HEADS = _int("num_heads", 4, "Attention heads (must divide the embedding size).", 1, 1024)
_TRANSFORMER = (
    _int("nhead", 4, "Attention heads (must divide d_model, the inferred feature size).",
         1, 1024),
    _int("dim_feedforward", 2048, "Width of the feed-forward block.", 1, _UNITS_MAX),
    _float("dropout", 0.1, "Dropout inside the layer while training.", 0.0, 0.99),
    _choice("activation", "relu", ("relu", "gelu"), "Feed-forward activation."),
    _float("layer_norm_eps", 1e-5, "Added to the variance in the layer norms.", 1e-12, 1.0),
    _bool("norm_first", False, "Pre-norm (layer norm before attention and feed-forward)."),
    _bool("use_bias", True, "Biases in the linear layers and layer norms."),
)


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
    LayerSpec("Flatten", "Core", "Flatten dimensions start_dim … end_dim into one.",
              (_int("start_dim", 1, "First dimension to flatten (1 = after the batch).", 1, 5),
               _int("end_dim", -1, "Last dimension to flatten (-1 = the last).", -5, 5))),
    LayerSpec("Reshape", "Core", "Reshape each sample (batch dimension kept; one size may be "
              "-1, inferred).",
              (_tuple("shape", (1, 8, 8), "New shape of one sample.", -1, 1 << 24, 1, 5),),
              key_params=("shape",)),
    LayerSpec("Parameter", "Core",
              "A learned tensor of a given shape (a class token, a positional table), "
              "repeated for every sample of the batch its input comes from.",
              (_tuple("shape", (1, 16), "Shape per sample.", 1, 1 << 24, 1, 4),
               _choice("init", "zeros", ("zeros", "ones", "normal", "uniform"), "How it starts."),
               _float("init_scale", 0.02, "Std of 'normal' / half-width of 'uniform'.", 0.0,
                      100.0)),
              key_params=("shape",), trainable=True,
              inputs=(Port("like", doc="Any tensor: only its batch size is used."),)),
    LayerSpec("Sampling", "Core",
              "The VAE's reparameterisation: z = mean + exp(log_var / 2) · ε while training "
              "(the mean in eval mode), and each sample's KL divergence to N(0, I).",
              (_bool("sample_in_eval", False, "Draw z in eval mode too (off: eval mode gives "
                     "the mean)."),),
              inputs=(Port("mean"), Port("log_var")), output_names=("z", "kl")),
    # Regularization
    LayerSpec("Dropout", "Regularization",
              "Zero a random fraction of activations while training.",
              (_float("p", 0.5, "Fraction dropped.", 0.0, 0.99),), key_params=("p",)),
    *(LayerSpec(f"Dropout{d}d", "Regularization",
                f"Zero whole channels of (N, channels, {_SPATIAL[d]}) while training.",
                (_float("p", 0.5, "Fraction of channels dropped.", 0.0, 0.99),),
                key_params=("p",), name_prefix=f"dropout{d}d") for d in (1, 2, 3)),
    # Normalization
    LayerSpec("BatchNorm", "Normalization",
              "Batch normalization over channels/features (1-D, 2-D or 3-D inferred).",
              (_float("momentum", 0.1, "Running-average momentum.", 0.0, 1.0), _EPS,
               _bool("affine", True, "Learn a scale and shift."),
               _bool("track_running_stats", True,
                     "Keep running statistics for eval mode (off: batch statistics always).")),
              trainable=True, name_prefix="batch_norm"),
    LayerSpec("LayerNorm", "Normalization", "Layer normalization over the last dimension.",
              (_EPS, _bool("elementwise_affine", True, "Learn a scale (and shift)."),
               _bool("use_bias", True, "Learn the shift (with elementwise_affine).")),
              trainable=True, name_prefix="layer_norm"),
    LayerSpec("InstanceNorm", "Normalization",
              "Instance normalization: each sample's channels over their spatial positions "
              "(1-D, 2-D or 3-D inferred; style transfer).",
              (_EPS, _float("momentum", 0.1, "Running-average momentum.", 0.0, 1.0),
               _bool("affine", False, "Learn a scale and shift."),
               _bool("track_running_stats", False, "Keep running statistics for eval mode.")),
              trainable=True, name_prefix="instance_norm"),
    LayerSpec("GroupNorm", "Normalization",
              "Group normalization: channels in groups, per sample (independent of the batch).",
              (_int("num_groups", 8, "Groups (must divide the channels).", 1, 1 << 16), _EPS,
               _bool("affine", True, "Learn a scale and shift per channel.")),
              key_params=("num_groups",), trainable=True, name_prefix="group_norm"),
    # Activations
    _act("ReLU", "max(0, x).", prefix="relu"),
    _act("ReLU6", "min(max(0, x), 6) (MobileNet).", prefix="relu6"),
    _act("LeakyReLU", "x if x > 0 else slope·x.",
         _float("negative_slope", 0.01, "Slope for x < 0.", 0.0, 10.0), prefix="leaky_relu"),
    _act("ELU", "x if x > 0 else alpha·(exp(x) − 1).", _float("alpha", 1.0, "", 0.0, 100.0),
         prefix="elu"),
    _act("GELU", "Gaussian error linear unit.",
         _choice("approximate", "none", ("none", "tanh"), "'tanh': the tanh approximation."),
         prefix="gelu"),
    _act("Sigmoid", "1 / (1 + exp(−x))."),
    _act("Tanh", "Hyperbolic tangent, output in (−1, 1)."),
    _act("Softmax", "Probabilities over a dimension.", _int("dim", -1, "Dimension.", -5, 5)),
    _act("LogSoftmax", "Log-probabilities over a dimension.",
         _int("dim", -1, "Dimension.", -5, 5), prefix="log_softmax"),
    _act("Sign", "Threshold unit: −1 / +1 by sign. Not trainable by gradient (zero gradient)."),
    _act("Step", "Heaviside step: 0 / 1. Not trainable by gradient (zero gradient)."),
    _act("SiLU", "x · sigmoid(x) (swish).", prefix="silu"),
    _act("Mish", "x · tanh(softplus(x)).", prefix="mish"),
    _act("Softplus", "log(1 + exp(beta·x)) / beta, linear above the threshold.",
         _float("beta", 1.0, "Sharpness.", 1e-6, 1e6),
         _float("threshold", 20.0, "Linear above beta·x > threshold.", 0.0, 1e6),
         prefix="softplus"),
    _act("PReLU", "x if x > 0 else a·x with a learned slope a.",
         _bool("per_channel", False, "One slope per channel (dimension 1) instead of one."),
         _float("init", 0.25, "The slope's starting value.", -100.0, 100.0),
         prefix="prelu", trainable=True),
    _act("SELU", "Scaled ELU (self-normalizing networks).", prefix="selu"),
    _act("CELU", "max(0, x) + min(0, alpha·(exp(x / alpha) − 1)).",
         _float("alpha", 1.0, "", 1e-6, 100.0), prefix="celu"),
    _act("Hardswish", "x · relu6(x + 3) / 6 (MobileNetV3).", prefix="hardswish"),
    _act("Hardsigmoid", "relu6(x + 3) / 6.", prefix="hardsigmoid"),
    _act("Softsign", "x / (1 + |x|).", prefix="softsign"),
    # Convolution and pooling
    _conv(1), _conv(2), _conv(3),
    _conv_transpose(1), _conv_transpose(2), _conv_transpose(3),
    _pool("Max", 1), _pool("Max", 2), _pool("Max", 3),
    _pool("Avg", 1), _pool("Avg", 2), _pool("Avg", 3),
    _adaptive("Avg", 1), _adaptive("Avg", 2), _adaptive("Max", 1), _adaptive("Max", 2),
    LayerSpec("GlobalAvgPool", "Pooling",
              "Average over all spatial positions: (N, C, …) → (N, C).",
              name_prefix="global_avg_pool"),
    # Resampling and padding
    LayerSpec("Upsample", "Resampling",
              "Resize the spatial dimensions by a scale factor or to a size (nearest, linear, "
              "bilinear, bicubic, trilinear).",
              (_float("scale_factor", 2.0, "Multiplier of every spatial size (when no size).",
                      1e-3, 1e3),
               _tuple("size", None, "Output size per spatial dimension (empty: use the scale).",
                      1, 1 << 16, 1, 3, optional=True),
               _choice("mode", "nearest", ("nearest", "nearest-exact", "linear", "bilinear",
                                           "bicubic", "trilinear"),
                       "Interpolation (linear: 1-D, bilinear/bicubic: 2-D, trilinear: 3-D)."),
               _bool("align_corners", False, "Align corner pixels (linear modes only).")),
              key_params=("scale_factor", "mode")),
    LayerSpec("PixelShuffle", "Resampling",
              "(N, C·r², H, W) → (N, C, H·r, W·r): sub-pixel upsampling (super-resolution).",
              (_int("upscale_factor", 2, "r.", 1, 64),), key_params=("upscale_factor",),
              name_prefix="pixel_shuffle"),
    LayerSpec("PixelUnshuffle", "Resampling",
              "(N, C, H·r, W·r) → (N, C·r², H, W): the inverse of PixelShuffle.",
              (_int("downscale_factor", 2, "r.", 1, 64),), key_params=("downscale_factor",),
              name_prefix="pixel_unshuffle"),
    _pad("ZeroPad", "Pad the spatial dimensions with zeros."),
    _pad("ReflectionPad", "Pad by mirroring the edge (style transfer, fewer border artefacts)."),
    _pad("ReplicationPad", "Pad by repeating the edge values."),
    # Embedding and recurrent
    LayerSpec("Embedding", "Recurrent", "Map integer token ids to learned vectors.",
              (_int("num_embeddings", 100, "Vocabulary size.", 1, 1 << 24),
               _int("embedding_dim", 16, "Vector size.", 1, 1 << 16),
               _int("padding_idx", None, "A token id whose vector stays zero and untrained "
                    "(empty: none).", -(1 << 24), 1 << 24, optional=True),
               _float("max_norm", None, "Renormalise vectors longer than this (empty: never).",
                      1e-12, 1e12, optional=True),
               _bool("scale_grad_by_freq", False,
                     "Scale gradients by the inverse frequency of the ids in the batch.")),
              key_params=("num_embeddings", "embedding_dim"), trainable=True),
    _rnn("LSTM", "Long short-term memory over (N, T, features)."),
    _rnn("GRU", "Gated recurrent unit over (N, T, features)."),
    _rnn("SimpleRNN", "Elman RNN over (N, T, features)."),
    # Attention and transformers
    LayerSpec("MultiheadAttention", "Attention",
              "Multi-head attention over (N, T, E): self-attention from one input, or separate "
              "query / key / value inputs; optional causal mask and key-padding mask. Outputs "
              "the attended values and the head-averaged attention weights (N, L, S).",
              (_HEADS, _float("dropout", 0.0, "Dropout on the attention weights while training.",
                              0.0, 0.99),
               _BIAS, _bool("causal", False, "Each position attends only to itself and earlier "
                            "ones (decoders, language models).")),
              key_params=("num_heads",), trainable=True, name_prefix="attention",
              inputs=(Port("query"), Port("key", True, "Defaults to the query."),
                      Port("value", True, "Defaults to the key."),
                      Port("key_padding_mask", True, "(N, S): non-zero (int64) marks padded "
                           "positions to ignore; a float mask is added to the scores.")),
              output_names=("output", "weights")),
    LayerSpec("ScaledDotProductAttention", "Attention",
              "softmax(q kᵀ / √d) v over (N, …, L, E) inputs: the core of a hand-written "
              "attention block (split into heads, transpose, attend, merge).",
              (_bool("causal", False, "Mask out later positions."),
               _float("scale", None, "Score scale (empty: 1 / √E).", 1e-12, 1e12,
                      optional=True)),
              name_prefix="sdpa",
              inputs=(Port("query"), Port("key"), Port("value"))),
    LayerSpec("TransformerEncoderLayer", "Attention",
              "Self-attention + feed-forward block over (N, T, d_model) with residuals and layer "
              "norms (d_model is inferred).",
              (*_TRANSFORMER, _bool("causal", False, "Causal self-attention mask.")),
              key_params=("nhead", "dim_feedforward"), trainable=True,
              name_prefix="encoder_layer",
              inputs=(Port("src"), Port("src_key_padding_mask", True, "(N, T): non-zero marks "
                                        "padded positions to ignore."))),
    LayerSpec("TransformerDecoderLayer", "Attention",
              "Self-attention, attention over the encoder's memory, and feed-forward over "
              "(N, T, d_model).",
              (*_TRANSFORMER, _bool("causal", True, "Causal mask on the target's self-attention.")),
              key_params=("nhead", "dim_feedforward"), trainable=True,
              name_prefix="decoder_layer",
              inputs=(Port("tgt"), Port("memory"),
                      Port("tgt_key_padding_mask", True, "(N, T): non-zero marks padding."),
                      Port("memory_key_padding_mask", True, "(N, S): non-zero marks padding."))),
    LayerSpec("PositionalEmbedding", "Attention",
              "Add a learned vector per position to (N, T, E) (GPT / BERT style).",
              (_int("max_length", 0, "Positions in the table (0: the input's length).", 0,
                    1 << 20),),
              trainable=True, name_prefix="positions"),
    # Tensor operations
    _tensor("Permute", "Reorder dimensions; the batch dimension 0 stays first.",
            _tuple("dims", (0, 2, 1), "The new order of all dimensions, batch (0) first.", 0, 5,
                   2, 6), key=("dims",)),
    _tensor("Transpose", "Swap two dimensions (not the batch).",
            _int("dim0", 1, "", *_DIM), _int("dim1", 2, "", *_DIM), key=("dim0", "dim1")),
    _tensor("Select", "Pick one index of a dimension, removing it (x[:, -1] is the last step).",
            _int("dim", 1, "Dimension (1 = the first after the batch).", *_DIM),
            _int("index", -1, "Index (negative counts from the end).", -(1 << 24), 1 << 24),
            key=("dim", "index")),
    _tensor("Slice", "Keep start:stop:step of a dimension (x[:, -3:]).",
            _int("dim", 1, "Dimension (1 = the first after the batch).", *_DIM),
            _int("start", None, "First index (empty: from the start).", -(1 << 24), 1 << 24,
                 optional=True),
            _int("stop", None, "Index after the last (empty: to the end).", -(1 << 24), 1 << 24,
                 optional=True),
            _int("step", 1, "", 1, 1 << 24), key=("dim", "start", "stop")),
    _tensor("Split", "Split a dimension into pieces of the given sizes: one output per piece.",
            _tuple("sizes", (1, 1), "Size of each piece (they sum to the dimension).", 1, 1 << 24,
                   2, 16),
            _int("dim", -1, "Dimension to split.", *_DIM), key=("sizes",), arity=1,
            outputs_from="sizes"),
    _tensor("Chunk", "Split a dimension into equal chunks: one output per chunk.",
            _int("chunks", 2, "Number of chunks (must divide the dimension).", 2, 16),
            _int("dim", -1, "Dimension to split.", *_DIM), key=("chunks",),
            outputs_from="chunks"),
    _tensor("Mean", "Average over dimensions.", _DIMS_PARAM, _KEEPDIM, key=("dims",)),
    _tensor("Sum", "Sum over dimensions.", _DIMS_PARAM, _KEEPDIM, key=("dims",)),
    _tensor("Max", "Maximum over dimensions.", _DIMS_PARAM, _KEEPDIM, key=("dims",)),
    _tensor("Scale", "Multiply or divide by a constant (0.5 · x, x / √d).",
            _float("factor", 1.0, "The constant.", -1e12, 1e12),
            _choice("op", "multiply", ("multiply", "divide"), "x · factor or x / factor."),
            key=("op", "factor")),
    _tensor("Shift", "Add a constant (x + 1e-4).",
            _float("offset", 0.0, "The constant (negative subtracts).", -1e12, 1e12),
            key=("offset",)),
    _tensor("Exp", "exp(x), element-wise."),
    _tensor("Log", "Natural logarithm, element-wise."),
    _tensor("Sqrt", "Square root, element-wise."),
    _tensor("Abs", "Absolute value, element-wise."),
    # Merging
    LayerSpec("Concatenate", "Merge", "Join inputs along an axis, in port order.",
              (_int("axis", -1, "Axis to join on (−1 = features).", -5, 5),),
              arity=VARIADIC, key_params=("axis",), name_prefix="concat"),
    LayerSpec("Add", "Merge", "Element-wise sum of inputs of one shape (residual connections).",
              arity=VARIADIC),
    LayerSpec("Multiply", "Merge", "Element-wise product of inputs of one shape.",
              arity=VARIADIC),
    LayerSpec("Subtract", "Merge", "a − b, element-wise (shapes equal or broadcasting).",
              inputs=(Port("a"), Port("b"))),
    LayerSpec("Divide", "Merge", "a / b, element-wise (shapes equal or broadcasting).",
              inputs=(Port("a"), Port("b"))),
    LayerSpec("MatMul", "Merge", "Matrix product a @ b over the last two dimensions (attention "
              "scores: q @ kᵀ).", inputs=(Port("a"), Port("b")), name_prefix="matmul"),
)

CATALOGUE: dict[str, LayerSpec] = {spec.type: spec for spec in LAYERS}
CATEGORIES: tuple[str, ...] = tuple(dict.fromkeys(spec.category for spec in LAYERS))

#: The most instances one Block node chains (``repeat``).
MAX_REPEAT = 64
BLOCK_STRUCTURE: dict[str, LayerSpec] = {spec.type: spec for spec in (
    LayerSpec("Block", "Blocks",
              "An instance of one of the design's block definitions (its ports and parameters "
              "come from the definition; repeat chains that many instances).",
              (_int("repeat", 1, "Instances chained one after the other (nn.Sequential).",
                    1, MAX_REPEAT),),
              arity=VARIADIC, trainable=True, name_prefix="block"),
    LayerSpec("BlockInput", "Blocks", "An input port of the block being defined (ordered by "
              "position, like a model's inputs).", arity=0, name_prefix="x"),
    LayerSpec("BlockOutput", "Blocks", "An output port of the block being defined (ordered by "
              "position).", outputs=0, name_prefix="out"),
)}
"""Block instances and the ports of a definition: not catalogue layers (the palette lists the
design's own blocks instead); a Block node's real spec comes from its definition
(`graph.blocks.block_spec`)."""


def get_spec(type_name: str) -> LayerSpec:
    """The spec for ``type_name``; `UnknownLayerError` names close matches."""
    try:
        return CATALOGUE[type_name]
    except (KeyError, TypeError):
        pass
    try:
        return BLOCK_STRUCTURE[type_name]
    except (KeyError, TypeError):
        raise UnknownLayerError(type_name, tuple(CATALOGUE)) from None
