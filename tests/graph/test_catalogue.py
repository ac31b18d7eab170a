import pytest

from graph import CATALOGUE, LAYERS, ParamError, UnknownLayerError, get_spec
from graph.catalogue import CHOICE, INT_OR_TUPLE, KINDS, VARIADIC

REQUIRED = {
    "Input", "Output", "Dense", "Flatten", "Reshape", "Dropout", "BatchNorm", "LayerNorm", "ReLU",
    "LeakyReLU", "ELU", "GELU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Sign", "Step",
    "Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "GlobalAvgPool",
    "Embedding", "LSTM", "GRU", "SimpleRNN", "Concatenate", "Add", "Multiply",
}


def test_catalogue_has_every_required_layer():
    assert REQUIRED <= set(CATALOGUE)


@pytest.mark.parametrize("spec", LAYERS, ids=lambda s: s.type)
def test_defaults_validate_and_inferred_args_are_not_params(spec):
    assert spec.validate_params({}) == spec.defaults()
    names = {p.name for p in spec.params}
    assert not names & {"in_features", "in_channels", "input_size", "num_features"}
    assert spec.doc and spec.category
    assert spec.arity == VARIADIC or spec.arity >= 0
    for p in spec.params:
        assert p.kind in KINDS
        if p.kind == CHOICE or (p.kind == INT_OR_TUPLE and isinstance(p.default, str)):
            assert p.default in p.choices


def test_variadic_merge_layers():
    for name in ("Concatenate", "Add", "Multiply"):
        assert get_spec(name).variadic
        assert get_spec(name).input_ports(0) == 2
        assert get_spec(name).input_ports(3) == 4


@pytest.mark.parametrize("param,value,fragment", [
    ("units", 0, "from 1"), ("units", 2.5, "whole number"), ("units", True, "whole number"),
    ("activation", "swish", "one of none, relu"), ("use_bias", 1, "true or false"),
    ("init_scale", float("nan"), "finite"),
])
def test_param_errors_name_the_parameter_value_and_what_is_allowed(param, value, fragment):
    with pytest.raises(ParamError) as info:
        get_spec("Dense").validate_params({param: value})
    assert param in str(info.value) and fragment in str(info.value)


def test_int_tuple_accepts_a_single_int_and_checks_length():
    shape = get_spec("Input").param("shape")
    assert shape.validate(784) == (784,)
    assert shape.validate([1, 8, 8]) == (1, 8, 8)
    with pytest.raises(ParamError):
        shape.validate([1, 2, 3, 4, 5])
    with pytest.raises(ParamError):
        get_spec("Conv2d").param("kernel_size").validate([3])


def test_unknown_layer_suggests_close_names():
    with pytest.raises(UnknownLayerError, match="Dense"):
        get_spec("Dence")


def test_unknown_parameter_is_refused():
    with pytest.raises(ParamError, match="units"):
        get_spec("Dense").validate_params({"in_features": 3})


def test_int_or_tuple_padding_takes_numbers_per_dimension_and_words():
    padding = get_spec("Conv2d").param("padding")
    assert padding.validate("same") == "same" and padding.validate(1) == 1
    assert padding.validate([1, 2]) == (1, 2)
    for bad in ("full", [1, 2, 3], -1, True, 1.5):
        with pytest.raises(ParamError) as info:
            padding.validate(bad)
        assert "'padding'" in str(info.value)
    with pytest.raises(ParamError, match="one of 'valid', 'same'"):
        padding.validate("full")
    with pytest.raises(ParamError):
        get_spec("ConvTranspose2d").param("padding").validate("same")  # no words there


def test_one_number_means_every_dimension_and_optional_values_may_be_none():
    assert get_spec("Conv3d").param("kernel_size").validate(3) == (3, 3, 3)
    assert get_spec("Slice").param("stop").validate(None) is None
    with pytest.raises(ParamError, match="not set"):
        get_spec("Slice").param("stop").validate("end")
    with pytest.raises(ParamError):
        get_spec("Dense").param("units").validate(None)


def test_ports_and_outputs():
    lstm = get_spec("LSTM")
    assert lstm.arity == 3 and lstm.required_inputs() == [0]
    assert [lstm.input_name(p) for p in range(3)] == ["input", "h_0", "c_0"]
    assert lstm.output_count() == 3 and lstm.output_name(1) == "h_n"
    mha = get_spec("MultiheadAttention")
    assert mha.optional_input(3) and not mha.optional_input(0)
    assert get_spec("Split").output_count({"sizes": (1, 2, 3)}) == 3
    assert get_spec("Chunk").output_count({"chunks": 4}) == 4
    assert get_spec("Dense").output_count({"units": 3}) == 1
    assert get_spec("Subtract").required_inputs() == [0, 1]


def test_every_layer_is_documented():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "layers.md").read_text()
    missing = [s.type for s in LAYERS if f"| `{s.type}` |" not in text]
    assert not missing, f"docs/layers.md does not list {missing}"
