"""Blocks in the backend: shapes per instance, one class per definition, ResNet-18 exactly as
torchvision builds it, and exported block designs computing what the app computes."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest
import torch
from torch import nn

from backend.export.formats import export
from backend.export.script import export_training_script
from backend.export.weights import load_weights, save_weights
from backend.model.codegen import CompileError, generate
from backend.model.compiler import compile_document
from backend.model.shapes import analyse
from backend.training.events import EpochEnd, Finished
from backend.training.trainer import Trainer
from graph.block_edits import InBlock, SetBlockParams
from graph.blocks import param_spec, ref
from graph.edits import SetParams, SetSection
from graph.examples import load_example
from graph.sketch import Sketch
from tests.backend.block_designs import random_block_design, resnet18
from tests.backend.designs import run_cases, write_case
from tests.backend.test_script_export import ENV


class BasicBlock(nn.Module):
    """torchvision.models.resnet.BasicBlock, written out (torchvision is not installed)."""

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class ReferenceResNet18(nn.Module):
    """torchvision.models.resnet18(): ResNet(BasicBlock, [2, 2, 2, 2])."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(64, 2)
        self.layer2 = self._make_layer(128, 2, stride=2)
        self.layer3 = self._make_layer(256, 2, stride=2)
        self.layer4 = self._make_layer(512, 2, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512, num_classes)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def _import_file(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_resnet18_has_torchvision_parameters_keys_and_outputs(tmp_path):
    doc = load_example("resnet18_blocks")
    analysis = analyse(doc)
    assert analysis.ok, [e.message for e in analysis.errors]
    assert analysis.total_params == 11_689_512
    path = export(doc, "py", tmp_path / "resnet18.py")
    source = path.read_text()
    assert "class BasicBlock(nn.Module):" in source and "class Projection(nn.Sequential):" in \
        source and source.index("class ResNet18(") > source.index("class Stage(")
    exported = getattr(_import_file(path, "resnet18_export"), doc.name)()
    reference = ReferenceResNet18()
    assert sum(p.numel() for p in exported.parameters()) == 11_689_512
    ours = {k: tuple(v.shape) for k, v in exported.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    assert list(ours) == list(theirs)
    assert ours == theirs
    assert "layer2.0.downsample.0.weight" in ours and "layer4.1.bn2.running_var" in ours
    torch.manual_seed(0)
    for p in reference.parameters():  # not the initial values: BatchNorm's 1 and 0 hide errors
        nn.init.normal_(p, 0.0, 0.05)
    for name, buf in reference.named_buffers():
        if "running" in name:
            buf.uniform_(0.5, 1.5)
    exported.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(exported.eval()(x), reference.eval()(x), atol=1e-5)


def test_one_definition_serves_several_widths_and_names_the_instance_in_errors():
    doc = resnet18(classes=10)
    info = analyse(doc).nodes[doc.find("layer3")]
    # layer3 = Stage(DownBlock, BasicBlock): 128 → 256 channels, 256 → 256
    assert [inst.port_shapes for inst in info.instances] == [[("N", 128, 28, 28)]]
    assert info.output_shapes == [("N", 256, 14, 14)]
    basic = doc.find_block("BasicBlock")
    conv2 = doc.block(basic).find("conv2")
    doc.apply(InBlock(basic, SetParams(conv2, {"padding": 0})))  # the residual sum breaks
    errors = analyse(doc).errors
    assert errors and "layer1.0.add" in errors[0].message
    assert errors[0].node_ids == (doc.find("layer1"),)
    doc.apply(InBlock(basic, SetParams(conv2, {"padding": 1, "kernel_size": (61, 61)})))
    messages = " ".join(e.message for e in analyse(doc).errors)
    assert "layer1.0.conv2" in messages


def test_parameter_values_are_checked_per_instance():
    s = Sketch("Net")
    block = s.define("Head", param_spec("width", "int", 4, minimum=0, maximum=10))
    x = block.add("BlockInput", name="x")
    block.add("BlockOutput", block.add("Dense", x, name="fc", units=ref("width")), name="y")
    inp = s.add("Input", shape=(3,))
    s.add("Output", s.add("Block", inp, name="head", block=block.id, width=0), loss="mse")
    errors = analyse(s.doc).errors
    assert len(errors) == 1 and "head.fc" in errors[0].message and "'units' = 0" in \
        errors[0].message


def test_a_sequential_block_must_be_a_chain():
    s = Sketch("Net")
    block = s.define("Pair", sequential=True)
    x = block.add("BlockInput", name="x")
    a = block.add("Dense", x, name="a", units=3)
    block.add("BlockOutput", block.add("Add", a, x, name="total"), name="y")
    inp = s.add("Input", shape=(3,))
    s.add("Output", s.add("Block", inp, name="pair", block=block.id), loss="mse")
    with pytest.raises(CompileError, match="nn.Sequential"):
        generate(s.doc)
    s.doc.apply(SetBlockParams(block.id, (), sequential=False))
    assert "class Pair(nn.Module)" in generate(s.doc).source


def test_random_block_designs_match_their_export_in_a_subprocess(tmp_path):
    folders = []
    for seed in range(12):
        doc = random_block_design(seed)
        analysis = analyse(doc)
        assert analysis.ok, (seed, [e.message for e in analysis.errors])
        assert generate(doc, analysis).block_classes == ["Inner", "Outer"]
        folder = tmp_path / f"case{seed}"
        write_case(folder, doc, seed=seed)
        folders.append(folder)
    report = run_cases(folders, tmp_path)
    assert report["leaked"] == []
    assert len(report["results"]) == len(folders)
    assert not [r for r in report["results"] if r["problems"]]


def test_digits_resnet_learns_and_exports_train_py_and_weights(tmp_path):
    doc = load_example("resnet_blocks_digits")
    section = doc.section("training")
    section.update(device="cpu", threads=1, epochs=3)
    doc.apply(SetSection("training", section))
    events = []
    trainer = Trainer(doc)
    result = trainer.run(events.append)
    assert isinstance(result, Finished), getattr(result, "message", result)
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert epochs[-1].train_loss < epochs[0].train_loss
    accuracy = next(iter(epochs[-1].validation.values()))["accuracy"]
    assert accuracy > 0.5, epochs[-1]
    weights = tmp_path / "w.safetensors"
    save_weights(trainer.module, weights)
    fresh = compile_document(doc).module
    load_weights(fresh, weights, strict=True)
    inputs = [t[:16] for t in trainer.validation_data.inputs]
    with torch.no_grad():
        assert torch.allclose(fresh.eval()(*inputs), trainer.module.eval()(*inputs), atol=1e-6)
    out = tmp_path / "script"
    out.mkdir()
    export_training_script(doc, out, base_dir=tmp_path)
    assert "class BasicBlock(nn.Module)" in (out / "model.py").read_text()
    proc = subprocess.run([sys.executable, "train.py", "--epochs", "1", "--device", "cpu"],
                          cwd=out, env=ENV, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_freezing_a_layer_inside_a_block_freezes_it_in_every_instance():
    doc = resnet18(classes=10)
    basic = doc.find_block("BasicBlock")
    from graph.edits import SetTrainable

    doc.apply(InBlock(basic, SetTrainable(doc.block(basic).find("conv1"), False)))
    module = compile_document(doc).module
    frozen = sorted(n for n, p in module.named_parameters() if not p.requires_grad)
    assert frozen == ["layer1.0.conv1.weight", "layer1.1.conv1.weight",
                      "layer2.1.conv1.weight", "layer3.1.conv1.weight",
                      "layer4.1.conv1.weight"]


def test_freezing_a_whole_block_freezes_every_layer_of_that_instance(tmp_path):
    """A Block node's trainable switch: every inner layer of that instance stops training
    (the app's trainer, the counts, train.py), the other instances of the definition train."""
    from graph.edits import SetTrainable

    doc = load_example("resnet_blocks_digits")
    section = doc.section("training")
    section.update(device="cpu", threads=1, epochs=1)
    doc.apply(SetSection("training", section))
    layer1 = doc.find("layer1")
    doc.apply(SetTrainable(layer1, False))
    analysis = analyse(doc)
    assert analysis.nodes[layer1].params > 0 and analysis.nodes[layer1].trainable_params == 0
    module = compile_document(doc).module
    frozen = {n for n, p in module.named_parameters() if not p.requires_grad}
    assert frozen == {n for n, _ in module.named_parameters() if n.startswith("layer1.")}
    assert any(n.startswith("layer2.") for n, _ in module.named_parameters())
    trainer = Trainer(doc)
    before: dict = {}

    def first_weights(_event) -> None:  # the run's own initial weights, at its first event
        if not before and getattr(trainer, "module", None) is not None:
            before.update({k: v.clone() for k, v in trainer.module.state_dict().items()})

    result = trainer.run(first_weights)
    assert before
    assert isinstance(result, Finished), getattr(result, "message", result)
    after = trainer.module.state_dict()
    for key, value in after.items():
        if key.startswith("layer1.") and key.endswith("weight"):
            assert torch.equal(value, before[key]), key  # frozen: the initial weights
    assert not torch.equal(after["layer2.0.conv1.weight"], before["layer2.0.conv1.weight"])
    # train.py freezes the same: the block's attribute, and layers frozen inside a block
    basic = doc.find_block("BasicBlock")
    doc.apply(InBlock(basic, SetTrainable(doc.block(basic).find("conv2"), False)))
    code = generate(doc)
    assert "layer2.block.conv2" in code.frozen_paths or any(
        p.startswith("layer2.") and p.endswith("conv2") for p in code.frozen_paths)
    out = tmp_path / "script"
    out.mkdir()
    export_training_script(doc, out, base_dir=tmp_path)
    script = (out / "train.py").read_text()
    listed = script.split("FROZEN = ", 1)[1].split("\n\n", 1)[0]
    assert "'layer1'" in listed
    for path in code.frozen_paths:
        assert repr(path) in listed
    from backend.training.setup import parts_from_module

    fresh = compile_document(doc).module
    for p in fresh.parameters():
        p.requires_grad_(True)
    frozen_attrs = eval(listed)  # noqa: S307 - the list NetCanvas just wrote
    parts_from_module(fresh, None, None, frozen=frozen_attrs)
    assert {n for n, p in fresh.named_parameters() if not p.requires_grad} == \
        {n for n, p in compile_document(doc).module.named_parameters() if not p.requires_grad}


def test_memory_and_check_count_the_layers_inside_blocks(capsys):
    from backend.cli.main import main
    from backend.model.memory import memory_report

    doc = load_example("resnet_blocks_digits")
    analysis = analyse(doc)
    memory = memory_report(doc, analysis)
    layer1 = doc.find("layer1")
    # two BasicBlocks at 16 × 8 × 8: seven layers' outputs each (float32)
    assert memory.per_node[layer1][1] == 2 * 7 * 16 * 8 * 8 * 4
    from graph.examples import example_path

    assert main(["check", str(example_path("resnet_blocks_digits"))]) == 0
    out = capsys.readouterr().out
    assert "BasicBlock ×2" in out and "Stage" in out
