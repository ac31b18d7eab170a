"""Designs with blocks, built in code: the gallery's ResNets (written to resources/examples by
``python -m tests.backend.block_designs``) and random designs for the equivalence tests."""

from __future__ import annotations

import random
from pathlib import Path

from graph.blocks import param_spec, ref
from graph.document import Document
from graph.sketch import Sketch

_CONV = {"use_bias": False, "padding": 1, "kernel_size": (3, 3)}


def resnet_blocks(s: Sketch) -> dict[str, str]:
    """torchvision's BasicBlock as four definitions: ``BasicBlock`` (identity shortcut),
    ``DownBlock`` (a strided one with a ``Projection`` shortcut: ``downsample.0/1``) and
    ``Stage`` (DownBlock then BasicBlock, an nn.Sequential: ``layer2.0`` and ``layer2.1``)."""
    channels = param_spec("channels", "int", 64, minimum=1, maximum=4096,
                          doc="Output channels of the block.")
    stride = param_spec("stride", "int", 2, minimum=1, maximum=4,
                        doc="Stride of the first convolution and of the shortcut.")
    basic = s.define("BasicBlock", channels)
    x = basic.add("BlockInput", name="x")
    h = basic.add("Conv2d", x, name="conv1", filters=ref("channels"), **_CONV)
    h = basic.add("BatchNorm", h, name="bn1")
    h = basic.add("ReLU", h, name="relu1")
    h = basic.add("Conv2d", h, name="conv2", filters=ref("channels"), **_CONV)
    h = basic.add("BatchNorm", h, name="bn2")
    h = basic.add("Add", h, x, name="add")
    basic.add("BlockOutput", basic.add("ReLU", h, name="relu2"), name="out")

    proj = s.define("Projection", channels, stride, sequential=True)
    x = proj.add("BlockInput", name="x")
    h = proj.add("Conv2d", x, name="conv", filters=ref("channels"), kernel_size=(1, 1),
                 stride=ref("stride"), padding="valid", use_bias=False)
    proj.add("BlockOutput", proj.add("BatchNorm", h, name="bn"), name="out")

    down = s.define("DownBlock", channels, stride)
    x = down.add("BlockInput", name="x")
    h = down.add("Conv2d", x, name="conv1", filters=ref("channels"), stride=ref("stride"),
                 **_CONV)
    h = down.add("BatchNorm", h, name="bn1")
    h = down.add("ReLU", h, name="relu1")
    h = down.add("Conv2d", h, name="conv2", filters=ref("channels"), **_CONV)
    h = down.add("BatchNorm", h, name="bn2")
    short = down.add("Block", x, name="downsample", block=proj.id, channels=ref("channels"),
                     stride=ref("stride"))
    h = down.add("Add", h, short, name="add")
    down.add("BlockOutput", down.add("ReLU", h, name="relu2"), name="out")

    stage = s.define("Stage", channels, stride, sequential=True)
    x = stage.add("BlockInput", name="x")
    h = stage.add("Block", x, name="first", block=down.id, channels=ref("channels"),
                  stride=ref("stride"))
    h = stage.add("Block", h, name="second", block=basic.id, channels=ref("channels"))
    stage.add("BlockOutput", h, name="out")
    return {"basic": basic.id, "stage": stage.id, "down": down.id, "projection": proj.id}


def resnet18(classes: int = 1000) -> Document:
    """ResNet-18 as torchvision builds it, from four block definitions."""
    s = Sketch("ResNet18")
    ids = resnet_blocks(s)
    x = s.add("Input", name="image", shape=(3, 224, 224))
    h = s.add("Conv2d", x, name="conv1", filters=64, kernel_size=(7, 7), stride=(2, 2),
              padding=3, use_bias=False)
    h = s.add("BatchNorm", h, name="bn1")
    h = s.add("ReLU", h, name="relu")
    h = s.add("MaxPool2d", h, name="maxpool", kernel_size=(3, 3), stride=(2, 2), padding=1)
    h = s.add("Block", h, name="layer1", block=ids["basic"], channels=64, repeat=2)
    for i, width in ((2, 128), (3, 256), (4, 512)):
        h = s.add("Block", h, name=f"layer{i}", block=ids["stage"], channels=width, stride=2)
    h = s.add("AdaptiveAvgPool2d", h, name="avgpool", output_size=(1, 1))
    h = s.add("Flatten", h, name="flatten")
    h = s.add("Dense", h, name="fc", units=classes)
    s.add("Output", h, name="label", loss="cross_entropy")
    s.layout()
    s.doc.extra.update(
        title="ResNet-18 from blocks (torchvision's layout)",
        description="ResNet-18 exactly as torchvision builds it: a 7x7 stem and max-pool, four "
        "stages of two basic residual blocks (the first of stages 2-4 halves the size and "
        "projects the shortcut with a strided 1x1 convolution, downsample.0/1), adaptive "
        "average pooling and a 1000-class fc: 11,689,512 parameters, state-dict keys equal to "
        "torchvision's resnet18(). BasicBlock is drawn once and used five times; open it to "
        "change every stage at once.", gallery_order=95)
    return s.doc


def resnet_digits() -> Document:
    """A small ResNet on the 8x8 digits from the same BasicBlock definition, used four times."""
    s = Sketch("DigitsResNet")
    ids = resnet_blocks(s)
    x = s.add("Input", name="image", shape=(1, 8, 8))
    h = s.add("Conv2d", x, name="stem", filters=16, **_CONV)
    h = s.add("BatchNorm", h, name="stem_bn")
    h = s.add("ReLU", h, name="stem_relu")
    h = s.add("Block", h, name="layer1", block=ids["basic"], channels=16, repeat=2)
    h = s.add("Block", h, name="layer2", block=ids["stage"], channels=32, stride=2)
    h = s.add("AdaptiveAvgPool2d", h, name="avgpool", output_size=(1, 1))
    h = s.add("Flatten", h, name="flatten")
    h = s.add("Dense", h, name="fc", units=10)
    s.add("Output", h, name="digit", loss="cross_entropy")
    s.settings("data", dataset="digits", validation_split=0.2, test_split=0.1, seed=0)
    s.settings("training", epochs=10, batch_size=64, optimizer="adam", lr=0.003, seed=0)
    s.settings("model", initializers="pytorch")
    s.layout()
    s.doc.extra.update(
        title="ResNet from blocks on the 8x8 digits",
        description="A small ResNet built from one BasicBlock definition used four times (twice "
        "as layer1 with repeat = 2, and inside the strided Stage block): 16 then 32 channels "
        "from the same definition, shapes inferred per instance. Open a block (double-click) "
        "to change it everywhere; the exported code has a BasicBlock class.", gallery_order=92)
    return s.doc


def transformer_blocks(layers: int = 2) -> Document:
    """The sequence classifier with ``layers`` stacked encoder blocks, each drawn out
    (attention, residuals, layer norms, feed-forward) once, as ``EncoderBlock``."""
    s = Sketch("StackedTransformer")
    block = s.define(
        "EncoderBlock",
        param_spec("width", "int", 32, minimum=1, maximum=8192, doc="The model width."),
        param_spec("heads", "int", 4, minimum=1, maximum=64, doc="Attention heads."),
        param_spec("ff", "int", 64, minimum=1, maximum=65536, doc="Feed-forward width."),
        param_spec("dropout", "float", 0.1, minimum=0.0, maximum=0.9))
    x = block.add("BlockInput", name="x")
    a = block.add("MultiheadAttention", x, name="attention", num_heads=ref("heads"))
    a = block.add("Dropout", a, name="drop1", p=ref("dropout"))
    h = block.add("LayerNorm", block.add("Add", x, a, name="add1"), name="norm1")
    f = block.add("Dense", h, name="ff1", units=ref("ff"), activation="relu")
    f = block.add("Dropout", f, name="drop2", p=ref("dropout"))
    f = block.add("Dense", f, name="ff2", units=ref("width"))
    f = block.add("Dropout", f, name="drop3", p=ref("dropout"))
    out = block.add("LayerNorm", block.add("Add", h, f, name="add2"), name="norm2")
    block.add("BlockOutput", out, name="out")
    x = s.add("Input", name="sequence", shape=(20, 1))
    h = s.add("PositionalEmbedding", s.add("Dense", x, name="embed", units=32),
              name="positions")
    h = s.add("Block", h, name="encoder", block=block.id, width=32, heads=4, ff=64,
              dropout=0.1, repeat=layers)
    h = s.add("Mean", h, name="pool", dims=(1,))
    h = s.add("Dense", h, name="logits", units=2, activation="softmax")
    s.add("Output", h, name="label", loss="cross_entropy", metric="accuracy")
    s.settings("data", dataset="sequences", validation_split=0.2, test_split=0.1, seed=0)
    s.settings("training", epochs=15, batch_size=64, optimizer="adam", lr=0.002, seed=0)
    s.settings("model", initializers="pytorch")
    s.layout()
    s.doc.extra.update(
        title="Transformer encoder from blocks (N stacked layers)",
        description="The sine-wave sequence classifier with its encoder drawn out once as a "
        "block: self-attention, dropout, residual sums and layer norms around a feed-forward "
        "pair, as nn.TransformerEncoderLayer computes it. The encoder node repeats it (repeat = "
        "2): change repeat to stack more layers, open the block to change them all.",
        gallery_order=125)
    return s.doc


def random_block_design(seed: int) -> Document:
    """A random design with blocks nested two deep, repeated, with parameters: an MLP or a
    CNN whose inner layers refer to the block's width."""
    rng = random.Random(seed)
    image = rng.random() < 0.5
    s = Sketch(f"Random{seed}")
    width = param_spec("width", "int", 8, minimum=1, maximum=64)
    act = rng.choice(["ReLU", "Tanh", "GELU"])
    inner = s.define("Inner", width)
    x = inner.add("BlockInput", name="x")
    if image:
        h = inner.add("Conv2d", x, name="conv", filters=ref("width"), padding=1)
        h = inner.add("BatchNorm", h, name="norm") if rng.random() < 0.5 else h
    else:
        h = inner.add("Dense", x, name="fc", units=ref("width"))
        h = inner.add("LayerNorm", h, name="norm") if rng.random() < 0.5 else h
    inner.add("BlockOutput", inner.add(act, h, name="act"), name="out")
    outer = s.define("Outer", width, param_spec("scale", "float", 0.5, minimum=0.0,
                                                maximum=1.0))
    x = outer.add("BlockInput", name="x")
    a = outer.add("Block", x, name="first", block=inner.id, width=ref("width"))
    b = outer.add("Block", a, name="second", block=inner.id, width=ref("width"),
                  repeat=rng.randint(1, 3))
    if rng.random() < 0.5:
        b = outer.add("Add", a, b, name="skip")
    b = outer.add("Dropout", b, name="drop", p=ref("scale"))
    outer.add("BlockOutput", b, name="out")
    shape = (rng.choice([1, 3]), 6, 6) if image else (rng.choice([3, 5]),)
    x = s.add("Input", name="x", shape=shape)
    h = x
    for i in range(rng.randint(1, 3)):
        h = s.add("Block", h, name=f"stage{i}", block=outer.id, width=rng.choice([4, 6, 8]),
                  repeat=rng.randint(1, 2), scale=rng.choice([0.0, 0.25]))
    if image:
        h = s.add("Flatten", h, name="flatten")
    h = s.add("Dense", h, name="head", units=3)
    s.add("Output", h, name="y", loss="cross_entropy")
    return s.doc


if __name__ == "__main__":
    from graph.project import save

    folder = Path(__file__).resolve().parents[2] / "resources" / "examples"
    save(resnet18(), folder / "resnet18_blocks.json")
    save(resnet_digits(), folder / "resnet_blocks_digits.json")
    save(transformer_blocks(), folder / "transformer_blocks.json")
