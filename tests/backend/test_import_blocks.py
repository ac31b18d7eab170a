"""Import keeps structure: a model's own submodule classes become block definitions, with the
model's state-dict keys, so its state_dict() loads into the exported module with strict=True
and computes the same."""

from __future__ import annotations

import importlib.util

import pytest
import torch
from torch import nn

from backend.export.formats import export
from backend.importer.convert import import_module
from tests.backend.test_blocks import ReferenceResNet18


class Bottleneck(nn.Module):
    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        width = planes
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU()
        self.downsample = None
        if stride != 1 or inplanes != planes * 4:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes * 4, 1, stride,
                                                      bias=False), nn.BatchNorm2d(planes * 4))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class TinyBottleneckNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.layer1 = nn.Sequential(Bottleneck(16, 8), Bottleneck(32, 8))
        self.layer2 = nn.Sequential(Bottleneck(32, 16, 2), Bottleneck(64, 16))
        self.fc = nn.Linear(64, 5)

    def forward(self, x):
        x = self.layer2(self.layer1(self.stem(x)))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


class EncoderLayer(nn.Module):
    """A Transformer encoder layer written by hand (post-norm)."""

    def __init__(self, width, heads, ff):
        super().__init__()
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.norm1 = nn.LayerNorm(width)
        self.ff1 = nn.Linear(width, ff)
        self.ff2 = nn.Linear(ff, width)
        self.norm2 = nn.LayerNorm(width)

    def forward(self, x):
        a, _ = self.attn(x, x, x)
        x = self.norm1(x + a)
        return self.norm2(x + self.ff2(torch.relu(self.ff1(x))))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(3, 16)
        self.layers = nn.Sequential(EncoderLayer(16, 4, 32), EncoderLayer(16, 2, 24))
        self.head = nn.Linear(16, 2)

    def forward(self, x):
        return self.head(self.layers(self.embed(x)).mean(dim=1))


class Down(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)

    def forward(self, x):
        return torch.relu(self.conv2(torch.relu(self.conv1(x))))


class Up(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.up = nn.ConvTranspose2d(c_in, c_out, 2, stride=2)
        self.conv = nn.Conv2d(2 * c_out, c_out, 3, padding=1)

    def forward(self, x, skip):
        return torch.relu(self.conv(torch.cat([self.up(x), skip], dim=1)))


class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.down1 = Down(1, 8)
        self.down2 = Down(8, 16)
        self.bottom = Down(16, 32)
        self.up2 = Up(32, 16)
        self.up1 = Up(16, 8)
        self.out = nn.Conv2d(8, 1, 1)

    def forward(self, x):
        d1 = self.down1(x)
        d2 = self.down2(nn.functional.max_pool2d(d1, 2))
        b = self.bottom(nn.functional.max_pool2d(d2, 2))
        return self.out(self.up1(self.up2(b, d2), d1))


CASES = [
    ("resnet18", lambda: ReferenceResNet18(10), (3, 32, 32), {"BasicBlock", "BasicBlock2"}),
    ("bottleneck", TinyBottleneckNet, (3, 16, 16), {"Bottleneck", "Bottleneck2"}),
    ("encoder", Encoder, (6, 3), {"EncoderLayer"}),
    ("unet", UNet, (1, 16, 16), {"Down", "Up"}),
]


@pytest.mark.parametrize(("name", "make", "shape", "classes"), CASES,
                         ids=[c[0] for c in CASES])
def test_own_submodules_import_as_blocks_with_the_models_keys(name, make, shape, classes,
                                                              tmp_path):
    torch.manual_seed(0)
    model = make().eval()
    for m in model.modules():  # not the initial statistics: they would hide a swapped buffer
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
    result = import_module(model, [shape], blocks=True)
    assert any(n.startswith("Kept the submodules as blocks") for n in result.notes), \
        result.notes
    doc = result.doc
    names = {doc.block(b).name for b in doc.block_ids()}
    assert classes <= names, names
    assert set(result.state_dict) == set(model.state_dict())
    path = export(doc, "py", tmp_path / f"{name}.py")
    source = path.read_text()
    for cls in classes:
        assert f"class {cls}(nn.Module):" in source
    spec = importlib.util.spec_from_file_location(f"imported_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    exported = getattr(module, doc.name)()
    exported.load_state_dict(model.state_dict(), strict=True)
    x = torch.randn(2, *shape)
    with torch.no_grad():
        assert torch.allclose(exported.eval()(x), model(x), atol=1e-5)


def test_instances_that_differ_only_in_sizes_share_one_definition():
    result = import_module(TinyBottleneckNet().eval(), [(3, 16, 16)], blocks=True)
    doc = result.doc
    # four Bottlenecks: three drawings (with and without a projection) → two definitions
    names = sorted(doc.block(b).name for b in doc.block_ids())
    assert names.count("Bottleneck") == 1 and names.count("Bottleneck2") == 1
    uses = [n for b in doc.block_ids() for n in doc.block(b).node_ids()
            if doc.block(b).attr(n, "type") == "Block"]
    assert uses  # the stages use them


def test_what_cannot_keep_the_keys_stays_flat_with_a_note():
    class Listed(nn.Module):
        def __init__(self):
            super().__init__()
            self.items = nn.ModuleList([Down(1, 2), Down(2, 2)])

        def forward(self, x):
            for item in self.items:
                x = item(x)
            return x

    result = import_module(Listed().eval(), [(1, 8, 8)], blocks=True)
    assert result.doc.block_ids() == []
    assert any(n.startswith("Kept flat") for n in result.notes), result.notes


def test_the_command_line_keeps_blocks_by_default_and_the_weights_load_strictly(tmp_path,
                                                                                capsys):
    from backend.cli.main import main
    from backend.export.weights import load_weights
    from backend.model.compiler import compile_document
    from graph.project import load

    source = tmp_path / "model.py"
    source.write_text(
        "import torch\nfrom torch import nn\n\n\n"
        "class Block(nn.Module):\n"
        "    def __init__(self, n):\n"
        "        super().__init__()\n"
        "        self.fc = nn.Linear(n, n)\n"
        "        self.norm = nn.LayerNorm(n)\n\n"
        "    def forward(self, x):\n"
        "        return self.norm(x + torch.relu(self.fc(x)))\n\n\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.first = Block(6)\n"
        "        self.second = Block(6)\n"
        "        self.head = nn.Linear(6, 2)\n\n"
        "    def forward(self, x):\n"
        "        return self.head(self.second(self.first(x)))\n")
    out = tmp_path / "net.json"
    assert main(["import", f"{source}:Net", "-o", str(out), "--input-shape", "6"]) == 0
    printed = capsys.readouterr().out
    assert "Kept the submodules as blocks: Block" in printed
    doc = load(out)
    assert [doc.block(b).name for b in doc.block_ids()] == ["Block"]
    module = compile_document(doc).module
    load_weights(module, tmp_path / "net.safetensors", strict=True)
    assert "first.fc.weight" in module.state_dict()

    flat = tmp_path / "flat.json"  # --flat: one sheet of layers, as before
    assert main(["import", f"{source}:Net", "-o", str(flat), "--flat", "--input-shape", "6"]) == 0
    assert "Kept the submodules" not in capsys.readouterr().out
    flat_doc = load(flat)
    assert flat_doc.block_ids() == []
    assert [n.type for n in flat_doc.nodes()].count("Dense") == 3


def test_an_exported_block_design_imports_back_as_blocks(tmp_path):
    from graph.examples import load_example

    doc = load_example("resnet_blocks_digits")
    path = export(doc, "py", tmp_path / "digits.py")
    spec = importlib.util.spec_from_file_location("digits_export", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = getattr(module, doc.name)().eval()
    result = import_module(model, blocks=True)  # shapes from the exported docstring
    names = {result.doc.block(b).name for b in result.doc.block_ids()}
    assert {"BasicBlock", "DownBlock", "Projection", "Stage"} <= names, names
    assert set(result.state_dict) == set(model.state_dict())
