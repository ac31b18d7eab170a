"""Any layer, any valid parameters, any input shapes: shape inference answers with shapes or a
message naming the problem — never an exception from inside."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.model.shapes import ShapeError, layer_shapes
from graph.catalogue import (
    BOOL,
    CHOICE,
    FLOAT,
    INT,
    INT_OR_TUPLE,
    INT_TUPLE,
    LAYERS,
    ParamSpec,
)

TYPES = [s for s in LAYERS if s.type not in ("Input", "Output")]


def _small(spec: ParamSpec, lo: int = -4, hi: int = 9):
    lo = max(lo, int(spec.minimum) if spec.minimum is not None else lo)
    hi = min(hi, int(spec.maximum) if spec.maximum is not None else hi)
    return st.integers(lo, max(lo, hi))


def _value(spec: ParamSpec):
    if spec.kind == BOOL:
        value = st.booleans()
    elif spec.kind == CHOICE:
        value = st.sampled_from(spec.choices)
    elif spec.kind == INT:
        value = _small(spec)
    elif spec.kind == FLOAT:
        lo = spec.minimum if spec.minimum is not None else -5.0
        hi = spec.maximum if spec.maximum is not None else 5.0
        value = st.floats(max(lo, -5.0), min(hi, 5.0))
    elif spec.kind == INT_TUPLE:
        value = st.lists(_small(spec), min_size=spec.min_len, max_size=spec.max_len).map(tuple)
    else:
        assert spec.kind == INT_OR_TUPLE
        value = st.one_of(_small(spec, 0, 3), st.lists(_small(spec, 0, 3), min_size=spec.min_len,
                                                       max_size=spec.max_len).map(tuple),
                          *([st.sampled_from(spec.choices)] if spec.choices else []))
    return st.one_of(st.none(), value) if spec.optional else value


@st.composite
def layer_and_inputs(draw):
    spec = draw(st.sampled_from(TYPES))
    params = spec.validate_params({p.name: draw(_value(p)) for p in spec.params})
    ports = 2 + draw(st.integers(0, 1)) if spec.variadic else spec.arity
    shapes, dtypes = [], []
    for port in range(ports):
        if port and spec.optional_input(port) and draw(st.booleans()):
            shapes.append(None)
            dtypes.append(None)
            continue
        dims = draw(st.lists(st.integers(1, 6), min_size=1, max_size=4))
        shapes.append(("N", *dims))
        dtypes.append(draw(st.sampled_from(("float32", "float32", "int64"))))
    return spec.type, params, shapes, dtypes


@settings(max_examples=400, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(layer_and_inputs())
def test_shapes_or_a_message_never_an_exception(case):
    type_, params, shapes, dtypes = case
    try:
        outs, out_dtypes = layer_shapes(type_, params, shapes, dtypes)
    except ShapeError as exc:
        assert exc.message.startswith(f"{type_} ") and exc.message.endswith(".")
        return
    assert outs and all(s[0] == "N" and all(d > 0 for d in s[1:]) for s in outs)
    assert len(out_dtypes) == len(outs)
