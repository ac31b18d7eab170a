"""Generated source: golden snapshots of the examples, style, logits handling and line maps.

Regenerate the snapshots with ``NETCANVAS_UPDATE_GOLDEN=1 pytest tests/backend/test_codegen.py``.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from backend.model.codegen import CompileError, generate
from backend.model.compiler import compile_document
from graph import Sketch
from tests.backend.designs import EXAMPLES, ROOT, example_docs

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_golden_source(path):
    from graph.project import load

    source = generate(load(path)).source
    golden = GOLDEN / f"{path.stem}.py"
    if os.environ.get("NETCANVAS_UPDATE_GOLDEN") == "1":
        golden.write_text(source)
    assert golden.exists(), f"no snapshot for {path.stem}: run with NETCANVAS_UPDATE_GOLDEN=1"
    assert source == golden.read_text(), f"generated code for {path.stem} changed"


def test_every_golden_file_belongs_to_an_example():
    stems = {p.stem for p in EXAMPLES}
    assert {p.stem for p in GOLDEN.glob("*.py")} <= stems


def test_generated_sources_pass_ruff(tmp_path):
    for stem, doc in example_docs():
        (tmp_path / f"{stem}.py").write_text(generate(doc).source)
    (tmp_path / "zoo.py").write_text(generate(_zoo()).source)
    for extra in (["--isolated"], ["--isolated", "--select", "E,F,W,I,B,UP", "--ignore", "E501"]):
        proc = subprocess.run([sys.executable, "-m", "ruff", "check", *extra, str(tmp_path)],
                              capture_output=True, text=True, cwd=ROOT)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def _zoo():
    s = Sketch("Zoo")
    img = s.add("Input", shape=(1, 12, 12), name="image")
    c = s.add("Conv2d", img, filters=4, padding="same", activation="relu",
              kernel_initializer="kaiming_normal", bias_initializer="zeros", name="conv")
    p = s.add("AvgPool2d", c, name="pool")
    b = s.add("BatchNorm", p, name="bn")
    f = s.add("Flatten", b, name="flat")
    d = s.add("Dense", f, units=10, activation="softmax", kernel_initializer="uniform",
              init_scale=0.5, name="train")
    s.add("Output", d, loss="cross_entropy", name="digit")
    g = s.add("GlobalAvgPool", b, name="gap")
    sig = s.add("Sigmoid", s.add("Dense", g, units=1, name="flag_logit"), name="flag_prob")
    s.add("Output", sig, loss="binary_cross_entropy", name="flag", pos=(0, 1))
    return s.doc


def test_module_structure_and_logits():
    doc = _zoo()
    code = generate(doc)
    tree = ast.parse(code.source)
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    assert [c.name for c in classes] == ["Zoo"]
    methods = [n.name for n in classes[0].body if isinstance(n, ast.FunctionDef)]
    assert methods == ["__init__", "reset_parameters", "forward", "predict"]
    assert code.input_names == ["image"] and code.output_names == ["digit", "flag"]
    assert code.stripped == {"digit": "softmax", "flag": "sigmoid"}
    # A node called "train" would hide nn.Module.train: its attribute is renamed.
    assert code.attr_names[doc.find("train")] == "train_layer"
    assert "def forward(self, image):" in code.source
    assert "torch.cat" not in code.source
    assert "nn.init.kaiming_normal_(self.conv.weight, nonlinearity='relu')" in code.source
    assert "nn.init.uniform_(self.train_layer.weight, -0.5, 0.5)" in code.source
    assert "# logits: the loss applies softmax itself; so does predict()" in code.source
    lines = code.source.splitlines()
    assert lines[code.line_of[doc.find("conv")] - 1].strip() == \
        "conv = torch.relu(self.conv(image))"
    assert lines[code.line_of[doc.find("train")] - 1].strip() == \
        "train = self.train_layer(flat)"
    assert lines[code.line_of[doc.find("gap")] - 1].strip() == "gap = bn.mean(dim=(2, 3))"
    assert lines[code.line_of[doc.find("digit")] - 1].strip() == "return train, flag_prob"
    assert "softmax" not in lines[code.line_of[doc.find("train")] - 1]


def test_predict_applies_the_stripped_activations():
    doc = _zoo()
    compiled = compile_document(doc)
    m = compiled.module.eval()
    x = torch.randn(3, 1, 12, 12)
    with torch.no_grad():
        logits, flag = m(x)
        probs, flag_p = m.predict(x)
    assert torch.allclose(probs, torch.softmax(logits, dim=-1))
    assert torch.allclose(probs.sum(dim=1), torch.ones(3))
    assert torch.allclose(flag_p, torch.sigmoid(flag))


def test_softmax_kept_when_the_loss_does_not_take_logits():
    s = Sketch("Keep")
    x = s.add("Input", shape=(4,))
    s.add("Output", s.add("Dense", x, units=3, activation="softmax"), loss="mse")
    code = generate(s.doc)
    assert code.stripped == {} and "torch.softmax(self.dense_1(input_1), dim=-1)" in code.source
    assert "def predict" not in code.source


def test_single_output_returns_a_tensor_and_rnn_takes_last_step():
    s = Sketch("Seq")
    x = s.add("Input", shape=(5, 3), name="seq")
    lstm = s.add("LSTM", x, hidden_size=4, name="lstm")
    s.add("Output", lstm, name="y")
    code = generate(s.doc)
    assert "lstm, _ = self.lstm(seq)" in code.source
    assert "lstm = lstm[:, -1]" in code.source
    assert code.source.rstrip().endswith("return lstm")
    out = compile_document(s.doc).module(torch.randn(2, 5, 3))
    assert out.shape == (2, 4)


def test_dead_end_layers_are_left_out():
    s = Sketch("Dead")
    x = s.add("Input", shape=(4,))
    s.add("Output", s.add("Dense", x, units=2))
    dead = s.add("Dense", x, units=7, name="dangling")
    code = generate(s.doc)
    assert code.unused == [dead] and "dangling" not in code.source


def test_invalid_design_raises_compile_error_listing_problems():
    s = Sketch("Bad")
    x = s.add("Input", shape=(3, 4))
    s.add("Output", s.add("Dense", s.add("Reshape", x, shape=(1, 3, 4)), units=2, name="h"))
    with pytest.raises(CompileError) as info:
        generate(s.doc)
    assert "Dense 'h' receives (N, 1, 3, 4)" in str(info.value)
    assert info.value.node_ids


V1 = sorted((ROOT / "tests" / "graph" / "v1_projects").glob("*.json"))


@pytest.mark.parametrize("path", V1, ids=lambda p: p.stem)
def test_version_1_files_export_the_code_they_exported(path):
    """Version-1 files generate byte-identical code: the golden snapshot, or — for the examples
    deliberately moved to Keras's initializer defaults — the example with PyTorch's."""
    from graph.edits import SetSection
    from graph.examples import load_example
    from graph.project import load

    old = generate(load(path)).source
    example = load_example(path.stem)
    if example.section("model").get("initializers") == "keras":
        assert old != (GOLDEN / f"{path.stem}.py").read_text()
        example.apply(SetSection("model", {"initializers": "pytorch"}))
        assert old == generate(example).source
    else:
        assert old == (GOLDEN / f"{path.stem}.py").read_text()


def test_keras_defaults_initialise_as_keras_does():
    from graph.edits import SetSection

    s = Sketch("Init")
    x = s.add("Input", shape=(400,))
    d = s.add("Dense", x, units=300, name="hidden")
    e = s.add("Dense", d, units=10, kernel_initializer="normal", init_scale=0.01, name="out")
    s.add("Output", e)
    s.doc.apply(SetSection("model", {"initializers": "keras"}))
    torch.manual_seed(0)
    module = compile_document(s.doc).module
    bound = (6 / (400 + 300)) ** 0.5  # Glorot uniform
    w = module.hidden.weight.detach()
    assert float(w.abs().max()) <= bound and float(w.abs().max()) > 0.95 * bound
    assert float(module.hidden.bias.detach().abs().max()) == 0.0
    assert abs(float(module.out.weight.detach().std()) - 0.01) < 0.002  # explicit wins
    assert float(module.out.bias.detach().abs().max()) == 0.0
    s.doc.apply(SetSection("model", {"initializers": "pytorch"}))
    module = compile_document(s.doc).module
    assert float(module.hidden.bias.detach().abs().max()) > 0  # PyTorch's uniform bias
    s.doc.apply(SetSection("model", {"initializers": "lecun"}))
    with pytest.raises(CompileError, match="initializers = 'lecun'"):
        generate(s.doc)


def test_several_outputs_unpack_into_named_variables_and_unread_ones_are_underscores():
    from graph.edits import connect

    s = Sketch("States")
    x = s.add("Input", shape=(5, 3), name="seq")
    lstm = s.add("LSTM", x, hidden_size=4, return_sequences=True, name="lstm")
    clash = s.add("Dense", s.add("Select", lstm, index=0, name="first"), units=2,
                  name="lstm_h_n")
    h = s.add("Flatten", name="state")
    s.doc.apply(connect(s.doc, lstm, h, src_port=1))
    s.add("Output", clash, name="a")
    s.add("Output", h, name="b", pos=(0, 1))
    code = generate(s.doc)
    assert "lstm, (lstm_h_n2, _) = self.lstm(seq)" in code.source  # c_n unread
    assert "lstm_h_n2 = lstm_h_n2.transpose(0, 1)" in code.source
    assert "state = torch.flatten(lstm_h_n2, 1)" in code.source
    out = compile_document(s.doc).module.eval()(torch.randn(2, 5, 3))
    assert [tuple(t.shape) for t in out] == [(2, 2), (2, 4)]
    attn = Sketch("Attention")
    q = attn.add("Input", shape=(6, 8), name="q")
    mha = attn.add("MultiheadAttention", q, num_heads=2, name="mha")
    attn.add("Output", mha, name="y")
    assert "mha, _ = self.mha(q, q, q, need_weights=False)" in generate(attn.doc).source
    w = attn.add("Output", name="w", pos=(0, 1))
    attn.doc.apply(connect(attn.doc, mha, w, src_port=1))
    source = generate(attn.doc).source
    assert "mha, mha_weights = self.mha(q, q, q)" in source
    assert source.rstrip().endswith("return mha, mha_weights")
