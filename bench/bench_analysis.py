"""Shape inference + code generation per edit of a 200-node design (goal ≤ 100 ms per edit).

Two designs of 200 nodes, measured in the same run:

- **baseline**: the Dense / Dropout chains with residual Adds the editor has always handled;
- **vocabulary**: the new layers — multi-head attention (causal), Transformer encoder layers,
  layer norms and residuals over sequences; strided padded convolutions, transposed
  convolutions, batch norms and upsampling over images; Split / Concatenate / Permute /
  Transpose tensor operations; an LSTM whose final state feeds the head.

For each: "cold" empties the per-layer cache first (every layer is built and run on the meta
device); "warm" re-analyses an unchanged design, as after a move or a rename; "edit" changes
one layer's parameter to a value never seen before (that layer is planned and run afresh) and
"edit downstream" lengthens the first Input's samples, so every layer after it sees new
shapes (in the baseline only the first Dense and the Concatenate read the input).
Each figure is analysis + code generation, the editor's work after an edit. PyTorch's one-time
set-up of the meta device (paid once per process) is reported separately.
"""

from __future__ import annotations

import itertools
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.model.codegen import generate  # noqa: E402
from backend.model.shapes import analyse, clear_cache  # noqa: E402
from graph import Sketch  # noqa: E402
from graph.edits import SetParams  # noqa: E402

GOAL_S = 0.100
REPEATS = 15


def baseline(n_nodes: int = 200, seed_units: int = 0):
    """The Dense/Dropout chains with residual Adds and a Concatenate."""
    s = Sketch("Big")
    x = s.add("Input", shape=(64,))
    prev, skips = x, []
    i = 0
    while len(s.doc) < n_nodes - 4:
        if i % 10 == 9 and skips:
            prev = s.add("Add", prev, skips.pop())
        elif i % 3 == 0:
            prev = s.add("Dense", prev, units=64 + seed_units + (i % 4), activation="relu")
            prev = s.add("Dense", prev, units=64, activation="tanh")
            skips.append(prev)
        else:
            prev = s.add("Dropout", prev, p=0.1)
        i += 1
    while len(s.doc) < n_nodes - 3:
        prev = s.add("Dropout", prev, p=0.1)
    cat = s.add("Concatenate", prev, x)
    s.add("Output", s.add("Dense", cat, units=10, activation="softmax"), loss="cross_entropy")
    dropouts = [n for n in s.doc.node_ids() if s.doc.attr(n, "type") == "Dropout"]
    return s.doc, {"edit": dropouts[len(dropouts) // 2], "downstream": x}


def vocabulary(n_nodes: int = 200):
    """Attention, Transformer layers, transposed convolutions and tensor operations."""
    s = Sketch("Vocabulary")
    seq = s.add("Input", shape=(16, 32), name="tokens")
    img = s.add("Input", shape=(3, 16, 16), name="image", pos=(0, 1))
    width = s.add("Dense", seq, units=32, name="width")
    x, y = width, img
    blocks = itertools.cycle(("attention", "encoder", "image", "tensor", "feed_forward"))
    while len(s.doc) < n_nodes - 9:
        kind = next(blocks)
        if kind == "attention":
            a = s.add("MultiheadAttention", x, num_heads=4, causal=True)
            x = s.add("LayerNorm", s.add("Add", x, a))
        elif kind == "encoder":
            x = s.add("TransformerEncoderLayer", x, nhead=4, dim_feedforward=64, norm_first=True)
        elif kind == "feed_forward":
            h = s.add("Dense", x, units=64, activation="gelu")
            x = s.add("LayerNorm", s.add("Add", x, s.add("Dense", h, units=32)))
        elif kind == "image":
            c = s.add("Conv2d", y, filters=8, kernel_size=3, stride=2, padding=1)
            c = s.add("ReLU", s.add("BatchNorm", c))
            up = s.add("ConvTranspose2d", c, filters=8, kernel_size=2, stride=2)
            skip = s.add("Conv2d", y, filters=8, kernel_size=1) if y == img else y
            y = s.add("Add", up, skip)
        else:
            halves = s.add("Split", x, sizes=(16, 16))
            joined = s.add("Concatenate", halves, halves)
            s.doc.apply(_move(s.doc, halves, joined))
            x = s.add("Transpose", s.add("Permute", joined, dims=(0, 2, 1)), dim0=1, dim1=2)
    while len(s.doc) < n_nodes - 8:  # the head below adds 8
        x = s.add("Dropout", x, p=0.1)
    lstm = s.add("LSTM", x, hidden_size=32, bidirectional=True)
    from graph.edits import connect

    state = s.add("Flatten", name="state")
    s.doc.apply(connect(s.doc, lstm, state, src_port=1))
    pooled = s.add("Mean", x, dims=(1,))
    up = s.add("Upsample", y, scale_factor=0.5, mode="bilinear")
    image = s.add("GlobalAvgPool", up)
    head = s.add("Dense", s.add("Concatenate", pooled, image, state), units=10,
                 activation="softmax")
    s.add("Output", head, loss="cross_entropy")
    doc = s.doc
    attention = [n for n in doc.node_ids() if doc.attr(n, "type") == "MultiheadAttention"]
    return doc, {"edit": attention[len(attention) // 2], "downstream": seq}


def _move(doc, split: str, joined: str):
    """Feed the Concatenate the Split's two outputs (b, a) instead of output 0 twice."""
    from graph.edits import Composite, Connect, Disconnect
    from graph.events import Edge

    edges = doc.in_edges(joined)
    return Composite((*(Disconnect(e) for e in edges), Connect(Edge(split, 1, joined, 0)),
                      Connect(Edge(split, 0, joined, 1))))


def once(doc) -> float:
    t0 = time.perf_counter()
    analysis = analyse(doc)
    generate(doc, analysis)
    return time.perf_counter() - t0


def measure(doc, targets) -> dict[str, float]:
    assert analyse(doc).ok, [e.message for e in analyse(doc).errors]
    cold, warm, edit, downstream = [], [], [], []
    fresh = itertools.count(1)
    for _ in range(REPEATS):
        clear_cache()
        cold.append(once(doc))
        warm.append(min(once(doc) for _ in range(3)))
        node = targets["edit"]
        key = "dropout" if doc.attr(node, "type") == "MultiheadAttention" else "p"
        doc.apply(SetParams(node, {key: 0.1 + next(fresh) * 1e-6}))  # a value never seen
        edit.append(once(doc))
        downstream.append(_downstream_edit(doc, targets["downstream"], next(fresh)))
    return {k: statistics.median(v) for k, v in
            (("cold", cold), ("warm", warm), ("edit", edit), ("edit downstream", downstream))}


def _downstream_edit(doc, node: str, salt: int) -> float:
    """Lengthen the first Input's samples (new shapes in every layer after it), then change
    it back."""
    shape = doc.attr(node, "params")["shape"]
    doc.apply(SetParams(node, {"shape": (shape[0] + salt, *shape[1:])}))  # a size never seen
    spent = once(doc)
    doc.apply(SetParams(node, {"shape": shape}))
    return spent


def main() -> None:
    t0 = time.perf_counter()
    analyse(baseline(20, seed_units=1000)[0])
    print(f"first analysis in this process (PyTorch meta set-up, 20 nodes): "
          f"{(time.perf_counter() - t0) * 1e3:.1f} ms")
    results = {}
    for name, build in (("baseline", baseline), ("vocabulary", vocabulary)):
        doc, targets = build()
        types = sorted({doc.attr(n, "type") for n in doc.node_ids()})
        print(f"{name}: {len(doc)} nodes, {len(doc.edges())} edges, {len(types)} layer types")
        results[name] = measure(doc, targets)
    width = max(len(k) for k in results["baseline"])
    print(f"{'median ms':<{width}}  baseline  vocabulary  ratio  vs goal (100 ms)")
    for key in results["baseline"]:
        b, v = results["baseline"][key], results["vocabulary"][key]
        print(f"{key:<{width}}  {b * 1e3:8.1f}  {v * 1e3:10.1f}  {v / b:5.2f}  {v / GOAL_S:5.2f}")


if __name__ == "__main__":
    main()
