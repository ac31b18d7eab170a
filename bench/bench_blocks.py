"""ResNet-50 from blocks: shape inference + code generation per edit (goal ≤ 100 ms per edit).

ResNet-50 (torchvision's layout: 3, 4, 6 and 3 bottleneck blocks, 16 instances) drawn twice and
measured in the same run:

- **blocks**: a ``Bottleneck`` definition (identity shortcut) and a ``DownBottleneck`` (strided,
  with a ``Projection`` shortcut), each stage a DownBottleneck then a Bottleneck with
  ``repeat`` = the rest — 16 instances, 55 layers drawn;
- **flat**: the same network with every layer on the top level (a baseline: 173 layers).

"open + first paint": the design saved as a project, opened in the main window (1280×800) and
painted once with its shapes, fitted to the view — file read, scene items, analysis and code
(run at once rather than after the editor's 150 ms pause), edge routing, paint (goal ≤ 1 s); median of three, each in a new window, with empty caches.

"cold" empties every cache (each layer is planned and run on the meta device; per instance);
"warm" re-analyses an unchanged design; "edit" changes the head's size (a top-level edit: block
instances come from the cache); "edit inside" changes a parameter inside the Bottleneck
definition (blocks: every instance is walked again; flat: the same layer of every instance
changed in one edit). Each figure is analysis + code generation, the editor's work after an edit.
"""

from __future__ import annotations

import itertools
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from backend.model.codegen import generate  # noqa: E402
from backend.model.shapes import analyse, clear_cache  # noqa: E402
from graph import Sketch  # noqa: E402
from graph.block_edits import InBlock  # noqa: E402
from graph.blocks import param_spec, ref  # noqa: E402
from graph.edits import Composite, SetParams  # noqa: E402

GOAL_S = 0.100
OPEN_GOAL_S = 1.0
REPEATS = 15
STAGES = ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2))
_NB = {"use_bias": False}


def _bottleneck(add, x, width, stride, project, names):
    """One bottleneck's layers through ``add`` (top level or inside a definition)."""
    h = add("Conv2d", x, name=names("conv1"), filters=width, kernel_size=(1, 1),
            padding="valid", **_NB)
    h = add("ReLU", add("BatchNorm", h, name=names("bn1")), name=names("relu1"))
    h = add("Conv2d", h, name=names("conv2"), filters=width, kernel_size=(3, 3), padding=1,
            stride=stride, **_NB)
    h = add("ReLU", add("BatchNorm", h, name=names("bn2")), name=names("relu2"))
    h = add("Conv2d", h, name=names("conv3"), filters=_times4(width), kernel_size=(1, 1),
            padding="valid", **_NB)
    h = add("BatchNorm", h, name=names("bn3"))
    short = project(x) if project else x
    return add("ReLU", add("Add", h, short, name=names("add")), name=names("relu3"))


def _times4(width):
    return ref("out") if isinstance(width, dict) else 4 * width


def _stem(s: Sketch):
    x = s.add("Input", name="image", shape=(3, 224, 224))
    h = s.add("Conv2d", x, name="conv1", filters=64, kernel_size=(7, 7), stride=(2, 2),
              padding=3, **_NB)
    h = s.add("ReLU", s.add("BatchNorm", h, name="bn1"), name="relu")
    return s.add("MaxPool2d", h, name="maxpool", kernel_size=(3, 3), stride=(2, 2), padding=1)


def _head(s: Sketch, h):
    h = s.add("Flatten", s.add("AdaptiveAvgPool2d", h, name="avgpool", output_size=(1, 1)),
              name="flatten")
    fc = s.add("Dense", h, name="fc", units=1000)
    s.add("Output", fc, name="label", loss="cross_entropy")
    return fc


def with_blocks():
    s = Sketch("ResNet50")
    width, out = (param_spec("width", "int", 64, minimum=1, maximum=4096),
                  param_spec("out", "int", 256, minimum=1, maximum=16384))
    stride = param_spec("stride", "int", 1, minimum=1, maximum=4)
    proj = s.define("Projection", out, stride, sequential=True)
    x = proj.add("BlockInput", name="x")
    h = proj.add("Conv2d", x, name="conv", filters=ref("out"), kernel_size=(1, 1),
                 stride=ref("stride"), padding="valid", **_NB)
    proj.add("BlockOutput", proj.add("BatchNorm", h, name="bn"), name="y")
    plain = s.define("Bottleneck", width, out)
    x = plain.add("BlockInput", name="x")
    plain.add("BlockOutput", _bottleneck(plain.add, x, ref("width"), 1, None, str), name="y")
    down = s.define("DownBottleneck", width, out, stride)
    x = down.add("BlockInput", name="x")
    y = _bottleneck(down.add, x, ref("width"), ref("stride"), lambda v: down.add(
        "Block", v, name="downsample", block=proj.id, out=ref("out"), stride=ref("stride")),
        str)
    down.add("BlockOutput", y, name="y")
    h = _stem(s)
    for i, (w, n, st) in enumerate(STAGES, 1):
        h = s.add("Block", h, name=f"layer{i}_0", block=down.id, width=w, out=4 * w, stride=st)
        h = s.add("Block", h, name=f"layer{i}_rest", block=plain.id, width=w, out=4 * w,
                  repeat=n - 1)
    fc = _head(s, h)
    conv2 = plain.doc.find("conv2")
    inside = [InBlock(plain.id, SetParams(conv2, {"dilation": (d, d), "padding": d})) for d in (2, 1)]
    return s.doc, fc, inside


def flat():
    s = Sketch("ResNet50Flat")
    h = _stem(s)
    conv2s = []
    for i, (w, n, st) in enumerate(STAGES, 1):
        for k in range(n):
            def names(base, i=i, k=k):
                return f"layer{i}_{k}_{base}"

            def project(v, i=i, w=w, st=st):
                c = s.add("Conv2d", v, name=f"layer{i}_down", filters=4 * w,
                          kernel_size=(1, 1), stride=(st, st), padding="valid", **_NB)
                return s.add("BatchNorm", c, name=f"layer{i}_down_bn")

            h = _bottleneck(s.add, h, w, st if k == 0 else 1, project if k == 0 else None,
                            names)
            if k:
                conv2s.append(s.doc.find(names("conv2")))
    fc = _head(s, h)
    inside = [Composite(tuple(SetParams(c, {"dilation": (d, d), "padding": d}) for c in conv2s))
              for d in (2, 1)]
    return s.doc, fc, inside


def _once(doc) -> float:
    start = time.perf_counter()
    analysis = analyse(doc)
    assert analysis.ok, [e.message for e in analysis.errors][:3]
    generate(doc, analysis)
    return time.perf_counter() - start


def measure(build) -> dict[str, float]:
    doc, fc, inside = build()
    figures: dict[str, list[float]] = {"cold": [], "warm": [], "edit": [], "edit inside": []}
    units = itertools.count(11)
    for _ in range(REPEATS):
        clear_cache()
        figures["cold"].append(_once(doc))
        figures["warm"].append(_once(doc))
        doc.apply(SetParams(fc, {"units": next(units)}))
        figures["edit"].append(_once(doc))
    for k in range(REPEATS):
        doc.apply(inside[k % 2])
        figures["edit inside"].append(_once(doc))
    return {k: statistics.median(v) * 1000 for k, v in figures.items()}, len(doc)


def open_and_paint(build, runs: int = 3) -> float:
    """Median seconds from "open this project" to the first painted frame (see above)."""
    import tempfile

    from PySide6.QtWidgets import QApplication

    from builder.main_window import MainWindow
    from builder.settings import AppSettings
    from graph import project

    app = QApplication.instance() or QApplication([])
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "resnet50.ncproj.json"
        project.save(build()[0], path)
        for k in range(runs):
            window = MainWindow(settings=AppSettings(Path(tmp) / f"bench{k}.ini"),
                                recovery_dir=Path(tmp) / f"rec{k}")
            window.resize(1280, 800)
            window.show()
            app.processEvents()
            clear_cache()
            t0 = time.perf_counter()
            window.files.open(str(path), ask=False)
            report = window.analysis.run_now()  # shapes and code, drawn onto the scene
            assert report is not None and not report.problems, report
            window.scene.flush_routes()
            window.view.fit_all()
            window.view.viewport().repaint()
            app.processEvents()
            times.append(time.perf_counter() - t0)
            assert len(window.scene.nodes) == len(window.controller.doc)
            window.close()
            window.deleteLater()
            app.processEvents()
    return statistics.median(times)


def main() -> None:
    start = time.perf_counter()
    analyse(with_blocks()[0])
    print(f"first analysis in this process (PyTorch meta set-up): "
          f"{(time.perf_counter() - start) * 1000:.0f} ms")
    blocks, n_blocks = measure(with_blocks)
    baseline, n_flat = measure(flat)
    print(f"blocks: {n_blocks} top-level layers, 16 bottleneck instances; flat: {n_flat} layers")
    print(f"{'median ms':<16}{'flat':>8}{'blocks':>9}{'ratio':>8}{'vs goal (100 ms)':>18}")
    for key in blocks:
        print(f"{key:<16}{baseline[key]:>8.1f}{blocks[key]:>9.1f}"
              f"{blocks[key] / baseline[key]:>8.2f}{blocks[key] / (GOAL_S * 1000):>18.2f}")
    opened, opened_flat = open_and_paint(with_blocks), open_and_paint(flat)
    print(f"{'open + paint':<16}{opened_flat * 1000:>8.1f}{opened * 1000:>9.1f}"
          f"{opened / opened_flat:>8.2f}{opened / OPEN_GOAL_S:>18.2f}   (vs goal 1 s)")


if __name__ == "__main__":
    main()
