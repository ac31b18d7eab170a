"""Model import: exported code imports back as the same design with the same outputs; hand-written
modules map to the catalogue; unsupported operations are listed by name; the CLI writes files."""

from __future__ import annotations

import math
import re
import textwrap
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from backend.cli.main import main as cli_main
from backend.importer.convert import ModelImportError, import_module
from backend.model.codegen import generate
from backend.model.compiler import compile_document, compile_source
from graph.examples import list_examples, load_example
from graph.names import class_name
from graph.project import load
from graph.sketch import Sketch
from tests.backend.layer_cases import CASES as LAYER_CASES
from tests.backend.layer_cases import case_design, case_id


def _structure(doc):
    """Names → (type, params) with Outputs reduced to what code records, plus named edges."""
    nodes = {}
    for node in doc.nodes():
        params = dict(node.params)
        if node.type == "Output":
            params = {"loss": params["loss"]}
        nodes[node.name] = (node.type, params, node.trainable)
    edges = {(doc.label(e.src), e.src_port, doc.label(e.dst), e.dst_port) for e in doc.edges()}
    ends = ([doc.label(n) for n in doc.inputs()], [doc.label(n) for n in doc.outputs()])
    return nodes, edges, ends


def _inputs(doc, batch=4, seed=0):
    gen = torch.Generator().manual_seed(seed)
    out = []
    for node_id in doc.inputs():
        params = doc.attr(node_id, "params")
        shape = (batch, *params["shape"])
        out.append(torch.randint(0, 5, shape, generator=gen) if params["dtype"] == "int64"
                   else torch.randn(shape, generator=gen))
    return out


def _outputs(module, inputs):
    module.eval()
    with torch.no_grad():
        result = module(*inputs)
    return list(result) if isinstance(result, tuple) else [result]


def assert_round_trip(doc):
    """generate → exec → import gives the same design, and the same outputs with its weights."""
    original = compile_source(generate(doc))[0]()
    for p in original.parameters():  # weights that no initializer would produce
        p.data.uniform_(-0.5, 0.5)
    original.train()
    result = import_module(original)
    assert original.training, "import must leave the module's mode as it found it"
    assert result.unsupported == [] and result.skipped == []
    assert class_name(result.doc.name) == class_name(doc.name)
    assert _structure(result.doc) == _structure(doc)
    rebuilt = compile_document(result.doc).module
    rebuilt.load_state_dict(result.state_dict)
    inputs = _inputs(doc)
    for want, got in zip(_outputs(original, inputs), _outputs(rebuilt, inputs), strict=True):
        assert torch.allclose(want, got, atol=1e-6)
    return result


def assert_block_round_trip(doc, module=None):
    """A design with blocks, as code, imports back with blocks (``blocks=True``): every
    definition comes back as a block of the same name, the module's own state-dict keys load
    strictly, and the outputs agree. (Its block parameters are named after what differs
    between the instances, so the definitions are not equal field for field.)"""
    original = module if module is not None else compile_source(generate(doc))[0]()
    for p in original.parameters():
        p.data.uniform_(-0.5, 0.5)
    result = import_module(original, blocks=True)
    assert result.unsupported == [] and result.skipped == []
    names = {result.doc.block(b).name for b in result.doc.block_ids()}
    assert {doc.block(b).name for b in doc.block_ids()} <= names, names
    rebuilt = compile_document(result.doc).module
    rebuilt.load_state_dict(original.state_dict(), strict=True)
    inputs = _inputs(doc)
    for want, got in zip(_outputs(original, inputs), _outputs(rebuilt, inputs), strict=True):
        assert torch.allclose(want, got, atol=1e-6)


@pytest.mark.parametrize("name", [e.name for e in list_examples()])
def test_every_example_round_trips(name):
    doc = load_example(name)
    if doc.block_ids():
        assert_block_round_trip(doc)
    else:
        assert_round_trip(doc)


def test_every_catalogue_layer_round_trips():
    image = Sketch("Image zoo")
    x = image.add("Input", shape=(1, 8, 8), name="image")
    c = image.add("Conv2d", x, filters=4, kernel_size=(3, 3), padding="valid", activation="elu",
                  name="conv", kernel_initializer="xavier_uniform", bias_initializer="ones")
    p = image.add("AvgPool2d", c, kernel_size=(2, 2), stride=(1, 1), name="pool")
    b = image.add("BatchNorm", p, momentum=0.2, eps=1e-3, name="bn")
    m = image.add("MaxPool2d", b, kernel_size=(2, 2), name="maxpool")
    g = image.add("GlobalAvgPool", b, name="gap")
    f = image.add("Flatten", m, name="flat")
    d1 = image.add("Dense", f, units=4, name="d1", activation="leaky_relu")
    d2 = image.add("Dense", g, units=4, use_bias=False, name="d2")
    a = image.add("ELU", d2, alpha=0.5, name="elu")
    d3 = image.add("Dense", g, units=4, activation="gelu", name="d3")
    total = image.add("Add", d1, a, d3, name="total")
    leaky = image.add("LeakyReLU", total, negative_slope=0.2, name="leaky")
    prod = image.add("Multiply", leaky, d1, name="prod")
    cat = image.add("Concatenate", prod, d3, axis=1, name="cat")
    logits = image.add("Dense", cat, units=3, activation="sigmoid", name="logits")
    image.add("Output", logits, loss="binary_cross_entropy", name="flags")
    soft = image.add("Softmax", image.add("Dense", cat, units=3, name="scores"), dim=1,
                     name="probs")
    image.add("Output", soft, loss="cross_entropy", name="label")
    image.add("Output", image.add("GELU", total, name="gelu"), name="extra")
    image.layout()
    assert_round_trip(image.doc)

    seq = Sketch("Sequence zoo")
    tokens = seq.add("Input", shape=(6,), dtype="int64", name="tokens")
    e = seq.add("Embedding", tokens, num_embeddings=20, embedding_dim=8, name="embed")
    gru = seq.add("GRU", e, hidden_size=6, return_sequences=True, name="gru")
    ln = seq.add("LayerNorm", gru, eps=1e-4, name="norm")
    rnn = seq.add("SimpleRNN", ln, hidden_size=4, bidirectional=True, name="rnn")
    lstm = seq.add("LSTM", e, hidden_size=5, num_layers=2, dropout=0.1, name="lstm")
    drop = seq.add("Dropout", lstm, p=0.3, name="drop")
    both = seq.add("Concatenate", rnn, drop, name="both")
    per_step = seq.add("Dense", gru, units=2, activation="tanh", name="per_step")
    flat = seq.add("Reshape", per_step, shape=(12,), name="steps")
    step = seq.add("Step", flat, name="step")
    seq.add("Output", seq.add("Dense", both, units=3, name="head"), name="out")
    seq.add("Output", step, name="fired")
    seq.add("Output", seq.add("LogSoftmax", seq.add("Sign", flat, name="sign"), dim=-1,
                              name="logp"), loss="nll", name="logprob")
    seq.layout()
    assert_round_trip(seq.doc)

    signal = Sketch("Signal zoo")
    s = signal.add("Input", shape=(12,), name="signal")
    r = signal.add("Reshape", s, shape=(3, 4), name="rows")
    c1 = signal.add("Conv1d", r, filters=2, kernel_size=(3,), padding="same", name="conv",
                    kernel_initializer="normal", init_scale=0.2)
    c2 = signal.add("Conv1d", c1, filters=2, kernel_size=(2,), stride=(2,), activation="relu",
                    name="conv2")
    mp = signal.add("MaxPool1d", c1, kernel_size=(2,), stride=(1,), name="mp")
    ap = signal.add("AvgPool1d", c2, kernel_size=(2,), name="ap")
    relu = signal.add("ReLU", signal.add("Flatten", mp, name="f1"), name="relu")
    tanh = signal.add("Tanh", signal.add("Flatten", ap, name="f2"), name="tanh")
    sig = signal.add("Sigmoid", signal.add("Concatenate", relu, tanh, name="cat"), name="sig")
    signal.add("Output", sig, loss="mae", name="y")
    signal.layout()
    assert_round_trip(signal.doc)


class Handmade(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(6, 8), nn.ReLU())
        self.fc_a = nn.Linear(8, 8)
        self.fc_b = nn.Linear(8, 8)
        self.head = nn.Linear(16, 3)

    def forward(self, x, extra):
        h = self.encoder(x)
        a = F.relu(self.fc_a(h))
        b = self.fc_b(h)
        b = torch.tanh(b)
        skip = a + b
        joined = torch.cat([skip, extra], dim=1)
        return self.head(joined), torch.relu(h)


def test_handwritten_module_maps_to_layers():
    module = Handmade()
    result = import_module(module, [(6,), (8,)])
    doc = result.doc
    nodes, edges, ends = _structure(doc)
    types = {name: t for name, (t, _, _) in nodes.items()}
    assert types == {"x": "Input", "extra": "Input", "encoder_0": "Dense", "fc_a": "Dense",
                     "fc_b": "Dense", "skip": "Add", "joined": "Concatenate", "head": "Dense",
                     "relu_1": "ReLU", "output_1": "Output", "output_2": "Output"}
    # Folded where it is the sole user in one statement or the same variable; else a layer.
    assert nodes["encoder_0"][1]["activation"] == "relu"  # nn.Sequential(Linear, ReLU)
    assert nodes["fc_a"][1]["activation"] == "relu"
    assert nodes["fc_b"][1]["activation"] == "tanh"
    assert nodes["joined"][1]["axis"] == 1
    assert {("fc_a", 0, "skip", 0), ("fc_b", 0, "skip", 1), ("skip", 0, "joined", 0),
            ("extra", 0, "joined", 1), ("encoder_0", 0, "relu_1", 0)} <= edges
    assert ends == (["x", "extra"], ["output_1", "output_2"])
    assert result.max_difference == 0.0
    rebuilt = compile_document(doc).module
    rebuilt.load_state_dict(result.state_dict)
    inputs = [torch.randn(5, 6), torch.randn(5, 8)]
    for want, got in zip(_outputs(module, inputs), _outputs(rebuilt, inputs), strict=True):
        assert torch.allclose(want, got)


def test_input_shape_is_inferred_from_a_first_linear_or_asked_for():
    mlp = nn.Sequential(nn.Linear(5, 3), nn.Tanh(), nn.Linear(3, 2), nn.LogSoftmax(dim=1))
    result = import_module(mlp)
    nodes, _, _ = _structure(result.doc)
    (shape,) = [params["shape"] for t, params, _ in nodes.values() if t == "Input"]
    assert shape == (5,)
    assert nodes["output_1"][1]["loss"] == "nll"  # log-probabilities pair with NLL
    with pytest.raises(ModelImportError, match="shape of input") as info:
        import_module(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten()))
    assert info.value.inputs == ("input",) and "--input-shape" not in info.value.message


def _weird(x):
    return x.cumsum(dim=1)


class Unsupported(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.pool = nn.LPPool1d(2, 2)
        self.lstm = nn.LSTM(4, 3)

    def forward(self, x):
        h = self.fc(x)
        spectrum = torch.fft.fft(h).real
        rows = h.reshape(h.shape[0], 1, 4)
        odd = self.pool(rows)
        seq, _ = self.lstm(rows)
        return spectrum, _weird(h), odd, seq, torch.relu(h), h.roll(1, 1)


def test_unsupported_operations_are_listed_by_name():
    with pytest.raises(ModelImportError) as info:
        import_module(Unsupported(), [(4,)])
    listing = "\n".join(info.value.unsupported)
    assert "torch.fft.fft" in listing
    assert "Tensor.cumsum()" in listing  # a plain Python helper is traced through, op by op
    assert "Tensor.roll()" in listing
    assert "nn.LPPool1d" in listing and "batch_first=False" in listing
    assert "torch.fft.fft" in info.value.message
    partial = import_module(Unsupported(), [(4,)], allow_partial=True)
    assert partial.unsupported == info.value.unsupported
    assert any("real" in s for s in partial.skipped)  # depends on the fft: listed, not lost
    types = sorted(n.type for n in partial.doc.nodes())
    assert types == ["Dense", "Input", "Output", "ReLU", "Reshape"]  # rows: left to finish
    assert set(partial.state_dict) == {"fc.weight", "fc.bias"}


def test_partial_import_that_reaches_no_output_is_refused():
    class Nothing(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, x):
            return torch.fft.fft(self.fc(x)).real

    with pytest.raises(ModelImportError, match="reaches an output") as info:
        import_module(Nothing(), [(3,)], allow_partial=True)
    assert "torch.fft.fft" in info.value.message


def test_lstm_final_state_imports_as_a_select_of_h_n():
    class UsesState(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(2, 3, num_layers=2, batch_first=True)

        def forward(self, x):
            _, (h, _) = self.lstm(x)
            return h[-1]

    result = import_module(UsesState(), [(4, 2)])
    nodes, edges, _ = _structure(result.doc)
    (select,) = [n for n, (t, _, _) in nodes.items() if t == "Select"]
    assert nodes[select][1] == {"dim": 1, "index": -1}
    assert ("lstm", 1, select, 0) in edges  # the h_n port, batch first in the design
    assert result.max_difference == 0.0


def test_module_that_cannot_be_traced_is_explained():
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

        def forward(self, x):
            if x.sum() > 0:
                return self.fc(x)
            return x

    with pytest.raises(ModelImportError, match="could not trace Branchy.forward"):
        import_module(Branchy(), [(2,)])


NET = '''
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4, 10)

    def forward(self, x):
        x = torch.relu(self.bn(self.conv(x)))
        x = x.mean(dim=(2, 3))
        return torch.softmax(self.fc(x), dim=-1)


class Odd(nn.Module):
    def forward(self, x):
        return torch.fft.fft(x).real
'''


def test_cli_imports_a_file_and_writes_design_and_weights(tmp_path, capsys):
    source = tmp_path / "module.py"
    source.write_text(textwrap.dedent(NET))
    out = tmp_path / "design.json"
    assert cli_main(["import", f"{source}:Net", "-o", str(out), "--input-shape", "1,8,8"]) == 0
    printed = capsys.readouterr().out
    assert "design.json" in printed and "design.safetensors" in printed
    doc = load(out)
    assert [n.type for n in doc.nodes()] == ["Input", "Conv2d", "BatchNorm", "ReLU",
                                             "GlobalAvgPool", "Dense", "Output"]
    from backend.export.weights import load_weights

    module = compile_document(doc).module
    report = load_weights(module, tmp_path / "design.safetensors", strict=True)
    assert report.complete

    assert cli_main(["import", f"{source}:Odd", "-o", str(tmp_path / "odd.json"),
                     "--input-shape", "3"]) == 1
    assert "torch.fft.fft" in capsys.readouterr().err
    assert cli_main(["import", f"{source}:Odd", "-o", str(tmp_path / "odd.json"),
                     "--input-shape", "3", "--allow-partial"]) == 1
    assert "reaches an output" in capsys.readouterr().err
    assert not (tmp_path / "odd.json").exists()
    assert cli_main(["import", f"{source}:Missing", "-o", str(out)]) == 2
    assert "Net" in capsys.readouterr().err  # names what the file does define
    assert cli_main(["import", f"{source}:Net", "-o", str(out), "--input-shape", "1,x"]) == 2


def test_cli_round_trips_an_exported_file(tmp_path):
    doc = load_example("cnn_residual")
    code = generate(doc)
    path = tmp_path / "exported.py"
    path.write_text(code.source)
    out = tmp_path / "back.json"
    assert cli_main(["import", f"{path}:{code.class_name}", "-o", str(out)]) == 0
    assert _structure(load(out)) == _structure(doc)
    assert Path(tmp_path / "back.safetensors").is_file()


GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.py")), ids=lambda p: p.stem)
def test_golden_exported_files_import_back(path):
    from backend.importer.files import load_target

    doc = load_example(path.stem)
    module = load_target(f"{path}:{generate(doc).class_name}")
    if doc.block_ids():
        assert_block_round_trip(doc, module)
    else:
        assert _structure(import_module(module).doc) == _structure(doc)


def _canonical(source):
    """Generated code with per-dimension values spelled one way: a Conv1d's ``padding=(1,)``
    and ``padding=1`` build the same module, so import reads both as ``1``."""
    return re.sub(r"padding=\((\d+),\)", r"padding=\1", source)


def test_every_layer_case_imports_back_to_the_code_it_came_from():
    """Each catalogue layer, over its grid of parameters: the generated module imports back as
    a design that generates the same code, and computes the same (both checked by import in
    eval and training mode)."""
    failures = []
    for case in LAYER_CASES:
        doc = case_design(case)
        code = generate(doc).source
        original = compile_source(generate(doc))[0]()
        result = import_module(original)
        if _canonical(generate(result.doc).source) != _canonical(code):
            failures.append(case_id(case))
        assert result.max_difference is not None and result.max_difference <= 1e-6, \
            case_id(case)
    assert failures == []


FAILING = '''
import torch
from torch import nn


class BadInit(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)
        raise ValueError("no config file")


class FrozenNorm(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def train(self, mode=True):
        raise RuntimeError("call freeze() first")

    def forward(self, x):
        return self.fc(x)


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv1d(2, 3, 3, padding=1)
        self.b = nn.Linear(5, 3)

    def forward(self, signal, extra):
        return self.a(signal).mean(dim=2) + self.b(extra)
'''


def test_errors_of_the_users_own_code_are_messages_with_file_and_line(tmp_path, capsys):
    source = tmp_path / "failing.py"
    source.write_text(FAILING)
    out = str(tmp_path / "d.json")
    assert cli_main(["import", f"{source}:BadInit", "-o", out]) == 2
    err = capsys.readouterr().err
    assert "BadInit() raised ValueError: no config file" in err
    assert "failing.py:10" in err and "Traceback" not in err
    assert cli_main(["import", f"{source}:FrozenNorm", "-o", out, "--input-shape", "4"]) == 1
    err = capsys.readouterr().err
    assert "FrozenNorm.train() raised RuntimeError: call freeze() first" in err
    assert "failing.py:19" in err and "Traceback" not in err


def test_a_model_with_two_inputs_imports_and_one_shape_too_few_is_a_message(tmp_path, capsys):
    source = tmp_path / "two.py"
    source.write_text(FAILING)
    out = str(tmp_path / "d.json")
    assert cli_main(["import", f"{source}:TwoInputs", "-o", out, "--input-shape", "2,7",
                     "--input-shape", "5"]) == 0
    assert "largest difference 0" in capsys.readouterr().out
    assert cli_main(["import", f"{source}:TwoInputs", "-o", out, "--input-shape", "2,7"]) == 1
    err = capsys.readouterr().err
    assert "forward takes 2 input(s) (signal, extra)" in err and "Traceback" not in err


# --- ways people write the same things ------------------------------------------------------

class Indexing(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        h = self.fc(x)
        return h[:, -1, :], h[..., 0], h[:, 1:5:2], h[:, None], h[:, :, -2:].sum(-1, keepdim=True)


class ZeroStateLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.num_layers, self.hidden = 2, 5
        self.lstm = nn.LSTM(3, 5, 2, batch_first=True)
        self.fc = nn.Linear(5, 1)

    def forward(self, x):
        h0 = torch.zeros(self.num_layers, x.size(0), self.hidden).to(x.device)
        c0 = torch.zeros(self.num_layers, x.size(0), self.hidden).to(x.device)
        out, _ = self.lstm(x, (h0, c0))
        return self.fc(out[:, -1, :])


class SeqFirstPermute(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(3, 4, bidirectional=True)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        out, _ = self.rnn(x.permute(1, 0, 2))
        return self.fc(out.permute(1, 0, 2)), self.fc(out[-1])


class CausalStack(nn.Module):
    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8),
                                             enable_nested_tensor=False)
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)

    def forward(self, x):
        t = x.size(1)
        mask = nn.Transformer.generate_square_subsequent_mask(t)
        h = self.encoder(x, mask=mask, is_causal=True)
        causal = torch.triu(torch.ones(t, t), diagonal=1).bool()
        out, w = self.attn(h, h, h, attn_mask=causal)
        return out, w


class ViTHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch = nn.Conv2d(1, 8, 4, stride=4)
        self.cls = nn.Parameter(torch.randn(1, 1, 8))
        self.pos = nn.Parameter(torch.randn(1, 5, 8))
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        cls = self.cls.expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1) + self.pos
        return self.head(x[:, 0])


class MatmulParameter(nn.Module):
    def __init__(self):
        super().__init__()
        self.W = nn.Parameter(torch.randn(4, 3))
        self.gain = nn.Parameter(torch.ones(3))

    def forward(self, x):
        return torch.mm(x, self.W) * self.gain / math.sqrt(3) - 1.0


class OldVAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.mu, self.lv = nn.Linear(6, 2), nn.Linear(6, 2)

    def forward(self, x):
        mu, logvar = self.mu(x), self.lv(x)
        if self.training:
            std = logvar.mul(0.5).exp()
            eps = torch.randn(std.size())
            return eps.mul(std).add(mu)
        return mu


VARIANTS = [(Indexing, [(6, 4)]), (ZeroStateLSTM, [(7, 3)]), (SeqFirstPermute, [(5, 3)]),
            (CausalStack, [(6, 8)]), (ViTHead, [(1, 8, 8)]), (MatmulParameter, [(4,)]),
            (OldVAE, [(6,)]), (lambda: nn.Linear(4, 2), None)]


@pytest.mark.parametrize("factory, shapes", VARIANTS,
                         ids=lambda v: getattr(v, "__name__", "leaf") if callable(v) else "")
def test_common_spellings_import_exactly(factory, shapes):
    module = factory()
    result = import_module(module, shapes)
    assert result.unsupported == [] and result.max_difference <= 1e-6
    if result.max_difference:  # what rounds differently is said
        assert any("rounds differently" in n for n in result.notes)


def test_dropout_that_stays_on_in_eval_mode_is_refused():
    class AlwaysDrops(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, x):
            return F.dropout(self.fc(x), 0.2) + F.dropout(x, 0.1, self.training)

    with pytest.raises(ModelImportError, match="without training=self.training") as info:
        import_module(AlwaysDrops(), [(3,)])
    assert len(info.value.unsupported) == 1  # the one with training=self.training imports


@pytest.mark.filterwarnings("ignore:dropout2d")  # the model itself is wrong: that is the point
def test_messages_name_modules_as_people_write_them():
    class Flat(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.drop = nn.Dropout2d(0.2)

        def forward(self, x):
            return self.drop(self.fc(x))

    with pytest.raises(ModelImportError) as info:
        import_module(Flat(), [(4,)])
    (problem,) = info.value.unsupported
    assert problem.startswith("nn.Dropout2d as a Dropout2d layer, which receives (N, 4)")
    assert "Use Dropout" in problem or "use Dropout" in problem
