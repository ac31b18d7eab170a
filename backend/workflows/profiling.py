"""Looking inside a run: time per layer (forward and backward) from ``torch.profiler``, a
chrome://tracing trace, and per-epoch weight and gradient histograms per layer (data only; the
UI draws them).

Per-layer times come from ``record_function`` ranges opened and closed by module hooks around
each layer module of the compiled design (``forward:<layer>``, ``backward:<layer>``), so the
profiler's trace shows them too. Functional steps written inline in ``forward`` (activations,
Flatten, Add, Concatenate) belong to no layer module and are reported as the remainder.

A design with blocks is timed per block instance as well (``Profile.blocks``): one row per
instance, nested ones included, named by its module path as in the state-dict keys
(``layer1.0``, ``layer2``) with its definition's name.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.autograd.profiler import record_function


@dataclass(frozen=True)
class LayerTime:
    """Mean milliseconds per training step."""

    layer: str
    forward_ms: float
    backward_ms: float


@dataclass(frozen=True)
class BlockTime:
    """One block instance's mean milliseconds per training step (its layers included)."""

    path: str  # the module path, as in the state-dict keys: layer1.0
    block: str  # the definition's name
    forward_ms: float
    backward_ms: float


@dataclass
class Profile:
    """Bar-chart data (one row per layer, in forward order), the whole step's time, and the
    path of the chrome://tracing JSON trace when one was written; ``blocks``: one row per
    block instance (nested ones too), in forward order."""

    layers: list[LayerTime]
    step_ms: float
    steps: int
    trace: str | None = None
    blocks: list[BlockTime] = field(default_factory=list)

    def table(self) -> str:
        names = [t.layer for t in self.layers] + [f"{b.path} ({b.block})" for b in self.blocks]
        width = max([5, *(len(n) for n in names)])
        lines = [f"{'layer':<{width}}  forward ms  backward ms"]
        lines += [f"{t.layer:<{width}}  {t.forward_ms:10.3f}  {t.backward_ms:11.3f}"
                  for t in self.layers]
        lines.append(f"{'step':<{width}}  {self.step_ms:10.3f} (forward + backward + update)")
        if self.blocks:
            lines.append(f"{'block instance':<{width}}  forward ms  backward ms")
            lines += [f"{f'{b.path} ({b.block})':<{width}}  {b.forward_ms:10.3f}  "
                      f"{b.backward_ms:11.3f}" for b in self.blocks]
        return "\n".join(lines)


def _layer_modules(trainer: Any) -> list[tuple[str, nn.Module]]:
    attrs = trainer.parts.layer_attrs  # layer name → attribute
    module = trainer.module
    return [(name, getattr(module, attr)) for name, attr in attrs.items()
            if hasattr(module, attr)]


def _block_instances(doc: Any, trainer: Any) -> list[tuple[str, str, nn.Module]]:
    """(module path, definition name, module) of every block instance, nested ones too, in
    forward order (the paths are the analysis's instance prefixes, as in the state-dict keys;
    the first part is the Block node's attribute)."""
    from backend.model.shapes import analyse

    if doc is None or not getattr(doc, "block_ids", lambda: [])():
        return []
    attrs = trainer.parts.layer_attrs
    module = trainer.module
    found: list[tuple[str, str, nn.Module]] = []

    def walk(d: Any, analysis: Any) -> None:
        for node_id in analysis.order:
            info = analysis.nodes[node_id]
            if d.attr(node_id, "type") != "Block" or not info.instances:
                continue
            block = d.root.block(d.attr(node_id, "params")["block"])
            name = block.name
            for inst in info.instances:
                first, _, rest = inst.prefix.rstrip(".").partition(".")
                path = attrs.get(first, first) + (f".{rest}" if rest else "")
                try:
                    found.append((path, name, module.get_submodule(path)))
                except AttributeError:
                    continue
                walk(block, inst)

    walk(doc, analyse(doc))
    return found


class _Ranges:
    """Hooks that open a profiler range when a layer starts and close it when it ends."""

    def __init__(self, layers: list[tuple[str, nn.Module]], kind: str = "") -> None:
        self.handles: list[Any] = []
        self.open: dict[str, Any] = {}
        for name, mod in layers:
            fwd, bwd = f"{kind}forward:{name}", f"{kind}backward:{name}"
            self.handles.append(mod.register_forward_pre_hook(self._start(fwd)))
            self.handles.append(mod.register_forward_hook(self._end(fwd)))
            self.handles.append(mod.register_full_backward_pre_hook(self._start(bwd)))
            self.handles.append(mod.register_full_backward_hook(self._end(bwd)))

    def _start(self, label: str) -> Callable[..., None]:
        def hook(*_: Any) -> None:
            rf = record_function(label)
            rf.__enter__()
            self.open[label] = rf
        return hook

    def _end(self, label: str) -> Callable[..., None]:
        def hook(*_: Any) -> None:
            rf = self.open.pop(label, None)
            if rf is not None:
                rf.__exit__(None, None, None)
        return hook

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


def profile_layers(doc: Any, *, steps: int = 10, warmup: int = 2, data: Any = None,
                   config: Any = None, trace_path: str | os.PathLike[str] | None = None,
                   control: Any = None) -> Profile:
    """Time ``steps`` training steps of ``doc`` (after ``warmup`` untimed ones) on a throw-away
    copy of the model; optionally write the chrome://tracing trace to ``trace_path``."""
    from torch.profiler import ProfilerActivity, profile

    from backend.training.control import Control
    from backend.training.loss_step import LossStep
    from backend.training.setup import make_optimizer
    from backend.training.trainer import Trainer

    if steps < 1:
        raise ValueError(f"Profile at least one step (got {steps}).")
    control = control or Control()
    cfg = dict(config if config is not None else doc.section("training"))
    cfg["epochs"] = 1
    trainer = Trainer(doc, data, cfg)
    trainer.prepare()
    step_loss = LossStep(trainer, input_grad=True)
    module = trainer.parts.train()
    optimizer = make_optimizer([p for p in module.parameters() if p.requires_grad],
                               trainer.config)
    n = len(step_loss)
    bs = trainer.config.batch_size if 0 < trainer.config.batch_size < n else n
    gen = torch.Generator().manual_seed(trainer.config.seed + 1)
    cuda = trainer.device.type == "cuda"

    def one_step(i: int) -> None:
        idx = torch.randint(0, n, (bs,), generator=gen).to(trainer.device)
        with record_function("step"):
            loss = step_loss(idx)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

    for i in range(warmup):
        one_step(i)
    layers = _layer_modules(trainer)
    ranges = _Ranges(layers)
    instances = _block_instances(getattr(trainer, "document", None), trainer)
    as_layer = {id(mod): name for name, mod in layers}  # an instance that is a layer's module
    block_ranges = _Ranges([(path, mod) for path, _, mod in instances
                            if id(mod) not in as_layer], "block-")
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    done = 0
    try:
        with profile(activities=activities) as prof:
            for i in range(steps):
                if not control.should_continue():
                    break
                one_step(i)
                done += 1
            if cuda:
                torch.cuda.synchronize()
    finally:
        ranges.remove()
        block_ranges.remove()
    if not done:
        raise ValueError("Profiling was stopped before the first step.")
    totals: dict[str, float] = {}
    for evt in prof.key_averages():
        us = evt.device_time_total if cuda and evt.device_time_total else evt.cpu_time_total
        totals[evt.key] = us / 1000.0 / done
    rows = [LayerTime(name, totals.get(f"forward:{name}", 0.0),
                      totals.get(f"backward:{name}", 0.0)) for name, _ in layers]
    blocks = []
    for path, block, mod in instances:
        key = f"{as_layer[id(mod)]}" if id(mod) in as_layer else None
        fwd = totals.get(f"forward:{key}", 0.0) if key else totals.get(
            f"block-forward:{path}", 0.0)
        bwd = totals.get(f"backward:{key}", 0.0) if key else totals.get(
            f"block-backward:{path}", 0.0)
        blocks.append(BlockTime(path, block, fwd, bwd))
    trace = None
    if trace_path is not None:
        prof.export_chrome_trace(os.fspath(trace_path))
        trace = os.fspath(trace_path)
    return Profile(rows, totals.get("step", 0.0), done, trace, blocks)


@dataclass
class Histogram:
    counts: list[int]
    edges: list[float]  # len(counts) + 1


@dataclass
class HistogramRecorder:
    """A Trainer callback companion: after every epoch, histograms of each layer's weights and
    of its last batch's gradients. ``epochs[i][layer]`` = {"weights": …, "gradients": …}.

        recorder = HistogramRecorder(trainer)
        trainer.run(recorder.callback)
    """

    trainer: Any
    bins: int = 30
    epochs: list[dict[str, dict[str, Histogram]]] = field(default_factory=list)
    forward: Callable[[Any], None] | None = None  # another callback to pass events on to

    def callback(self, event: Any) -> None:
        from backend.training.events import EpochEnd

        if isinstance(event, EpochEnd):
            self.epochs.append(layer_histograms(self.trainer.module,
                                                self.trainer.parts.layer_attrs, self.bins))
        if self.forward is not None:
            self.forward(event)


def _histogram(values: torch.Tensor, bins: int) -> Histogram:
    data = values.detach().float().cpu().numpy().ravel()
    finite = data[np.isfinite(data)]
    counts, edges = np.histogram(finite if finite.size else np.zeros(1), bins=bins)
    return Histogram(counts.tolist(), edges.tolist())


def layer_histograms(module: nn.Module, layer_attrs: dict[str, str], bins: int = 30
                     ) -> dict[str, dict[str, Histogram]]:
    """{layer: {"weights": Histogram, "gradients": Histogram (when gradients exist)}}, over all
    of a layer's parameters together."""
    out: dict[str, dict[str, Histogram]] = {}
    for name, attr in layer_attrs.items():
        params = list(getattr(module, attr).parameters()) if hasattr(module, attr) else []
        if not params:
            continue
        entry = {"weights": _histogram(torch.cat([p.reshape(-1) for p in params]), bins)}
        grads = [p.grad.reshape(-1) for p in params if p.grad is not None]
        if grads:
            entry["gradients"] = _histogram(torch.cat(grads), bins)
        out[name] = entry
    return out
