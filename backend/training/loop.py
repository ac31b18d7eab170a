"""The training loop: a plain loop that reports typed events and obeys a `Control`.

Data live on the device as whole tensors and batches are index slices of them (no per-sample
collation). Metrics accumulate on the device; the loop reads numbers back once per reporting
interval. The same loop runs a single process, or one rank under torchrun with DDP.

Part of the runtime: this module and everything it imports use only torch and numpy (and
relative imports of each other), so the exported ``train.py`` runs these very files, copied
beside it. The app's `backend.training.trainer.Trainer` adds designs (a `graph.Document`) and
the user's data files on top.
"""

from __future__ import annotations

import gc
import math
import time
import traceback
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..data.augment import augment_images
from ..data.builtin import load_builtin
from ..data.config import DataConfig
from ..data.dataset import Dataset
from ..data.errors import DataError
from ..data.prepare import (
    InputSpec,
    OutputSpec,
    PreparedData,
    SplitData,
    prepare_data,
)
from . import distributed
from .checkpoints import Checkpoint, load_checkpoint, load_state_by_name, save_checkpoint
from .config import TrainConfig
from .control import Control
from .events import (
    BatchEnd,
    EpochEnd,
    Evaluated,
    Event,
    Failed,
    Finished,
    Paused,
    Resumed,
    Started,
    Warned,
)
from .lr_multipliers import param_groups
from .metrics import Meter, confusion_matrix, predicted_classes
from .objective import Objective
from .schedules import LRSchedule
from .setup import ModelParts, make_optimizer, parts_from_module, pick_device

Callback = Callable[[Event], None]
#: Keep data on a GPU when they take at most this share of its free memory.
DEVICE_DATA_SHARE = 0.5


class TrainingError(RuntimeError):
    """A run that cannot go on; the message is for people."""


class StoppedWhilePreparing(Exception):
    """Stop was pressed while the run was still fetching its data."""


class NonFiniteLossError(TrainingError):
    pass


class TrainingLoop:
    """Train an `nn.Module` on prepared or configured data.

    ``model``: an nn.Module whose forward takes ``inputs`` positionally and returns
    ``outputs``, or its class (built after seeding, so the initial weights follow the seed).
    ``data``: a `DataConfig`, its dict, or `PreparedData`; ``dataset``: the `Dataset` to
    prepare with that config (default: the built-in set it names). ``config``: a `TrainConfig`
    or dict. ``layer_attrs`` maps layer names to module attributes (per-layer learning rates),
    ``frozen`` lists attributes whose parameters do not train.
    """

    def __init__(self, model: Any, data: DataConfig | dict | PreparedData | None = None,
                 config: TrainConfig | dict | None = None, *,
                 inputs: list[InputSpec | str | dict] | None = None,
                 outputs: list[OutputSpec | str | dict] | None = None,
                 stripped: dict[str, str] | None = None,
                 layer_attrs: dict[str, str] | None = None,
                 frozen: list[str] | None = None,
                 dataset: Dataset | None = None,
                 base_dir: str | Path | None = None,
                 initial_weights: dict[str, torch.Tensor] | None = None) -> None:
        #: Weights to start from (fine-tuning, transfer): loaded by name where shapes match.
        self.initial_weights = initial_weights
        self._initial_note = ""
        self._model_arg = model
        self._module_specs = (inputs, outputs, stripped, layer_attrs, frozen)
        self.config = config if isinstance(config, TrainConfig) else TrainConfig.from_dict(config)
        self.prepared = data if isinstance(data, PreparedData) else None
        self.data_config = None if self.prepared is not None else (
            data if isinstance(data, DataConfig) else DataConfig.from_dict(data))
        self.dataset = dataset
        self.base_dir = base_dir
        self.history: list[dict[str, Any]] = []
        self.module: nn.Module | None = None
        self._net: nn.Module | None = None  # the module, or its DDP wrapper under torchrun
        self.device: torch.device | None = None
        self.dist = distributed.DistInfo()
        self._ready = False
        self._resume: Checkpoint | None = None
        self._epoch = 0  # current epoch (from 0)
        self._batch = 0  # next batch within the epoch
        self._step = 0  # optimizer steps done
        self._order: torch.Tensor | None = None  # the current epoch's shuffled order
        self._best: tuple[float, int] | None = None  # (monitored loss, epoch from 1)
        self._best_state: dict[str, torch.Tensor] | None = None
        self._bad_epochs = 0
        self._callback: Callback | None = None
        self._control: Control | None = None

    # --- what a subclass may provide ---------------------------------------------------------
    def build_parts(self) -> ModelParts:
        """The module and its input/output specs; called once, right after seeding."""
        model = self._model_arg
        if isinstance(model, type) and issubclass(model, nn.Module):
            model = model()
        if not isinstance(model, nn.Module):
            raise TypeError("The training loop needs a torch.nn.Module (or its class).")
        return parts_from_module(model, *self._module_specs)

    def load_dataset(self) -> Dataset:
        """The data set to prepare: the one given, else the built-in set the config names."""
        if self.dataset is not None:
            return self.dataset
        return load_builtin(self.data_config.dataset, self.data_config.options)

    # --- public API ------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        """Prepared: the module, the data and the optimizer are in place."""
        return self._ready

    def resume_from(self, folder: str | Path) -> TrainingLoop:
        """Continue the run saved in ``folder`` (by `save_checkpoint`) when `run` starts."""
        self._resume = load_checkpoint(folder)
        return self

    def run(self, callback: Callback | None = None, control: Control | None = None
            ) -> Finished | Failed:
        """Train; report events to ``callback``; return the last event (Finished or Failed).

        Call it in the thread that should train (it sets that thread's torch threads)."""
        self._callback = callback
        control = control or Control()
        self._control = control
        try:
            self.prepare()
            return self._train(control)
        except StoppedWhilePreparing:
            event = Finished(0, 0, "stopped", None, [])
            self._emit(event)
            return event
        except (DataError, TrainingError, ValueError, TypeError) as exc:
            return self._fail(str(exc), exc)
        except torch.OutOfMemoryError as exc:
            bs = self.config.batch_size or "full"
            return self._fail(
                f"The {self.device} device ran out of memory with batch size {bs}. Use a smaller "
                f"batch size (e.g. {max(1, (self.config.batch_size or 256) // 2)}), a smaller "
                "model, or train on the CPU.", exc)
        except Exception as exc:  # an error inside the model, or a bug: say where it happened
            where = f" (epoch {self._epoch + 1}, batch {self._batch + 1})" if self._ready else ""
            return self._fail(f"Training failed{where}: {type(exc).__name__}: {exc}", exc)

    def prepare(self) -> None:
        """Compile the design, load and map the data, place everything on the device.

        Raises a clear error when the data do not fit the design; `run` calls it."""
        if self._ready:
            return
        cfg = self.config
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        self.device = pick_device(cfg.device)
        self.dist = distributed.setup(self.device)
        if self.dist.enabled and self.device.type == "cuda":
            self.device = torch.device("cuda", self.dist.local_rank)
            torch.cuda.set_device(self.device)
        torch.manual_seed(cfg.seed)  # the same initial weights on every rank
        parts = self.build_parts()
        self.parts = parts
        module = parts.module
        if self.prepared is None:
            ds = self.load_dataset()
            self.prepared = prepare_data(ds, self.data_config, parts.inputs, parts.outputs,
                                         probe=lambda xs: probe_outputs(module, xs))
        data = self.prepared
        if not len(data.train):
            raise DataError("There are no training samples.")
        self._initial_note = self._load_initial(module) if self.initial_weights else ""
        self.module = module.to(self.device)
        fits = self.device.type == "cpu" or _fits(data, self.device)
        self._data_on_device = fits
        self.train_data = data.train.to(self.device) if fits else _pinned(data.train)
        self.validation_data = data.validation
        self.test_data = data.test
        self._outputs = data.outputs
        train = self.train_data
        #: The per-output losses and their weighted sum, as every step computes them.
        self.objective = Objective(parts, self._outputs, train, cfg.class_weights)
        if all(f is None for f in self.objective.losses):
            raise TrainingError("No output has a loss (every Output's loss is 'none'); choose a "
                                "loss for at least one Output.")
        self._weights = self.objective.weights
        self._params = [p for p in self.module.parameters() if p.requires_grad]
        self.optimizer = make_optimizer(param_groups(
            self.module, self._params, cfg.lr_multipliers, parts.layer_attrs), cfg)
        self._net = self.module
        if self.dist.enabled:
            from torch.nn.parallel import DistributedDataParallel as DDP

            self._net = DDP(self.module, device_ids=[self.device.index]
                            if self.device.type == "cuda" else None)
        n = distributed.shard(torch.arange(len(train)), self.dist).numel()
        self._batch_size = cfg.batch_size if 0 < cfg.batch_size < n else n
        self._steps = math.ceil(n / self._batch_size)
        self.schedule = LRSchedule(cfg.schedule, cfg.lr, cfg.epochs, self._steps)
        self._shuffle = torch.Generator().manual_seed(cfg.seed + 1)
        self._augment_gen = None
        self._train_meter = Meter(self._outputs, self.device)
        amp = cfg.amp and self.device.type == "cuda"
        self._amp_dtype = (torch.bfloat16 if amp and torch.cuda.is_bf16_supported() else
                           torch.float16 if amp else None)
        self._scaler = torch.amp.GradScaler("cuda") if self._amp_dtype == torch.float16 else None
        if self._resume is not None:
            self._load_state(self._resume)
        self._ready = True

    def leave_process_group(self) -> None:
        """Under torchrun: let go of DistributedDataParallel, then leave the process group
        together with the other ranks. Call it once, when this rank is done.

        The DDP wrapper's reducer keeps the (gloo) process group alive; destroyed only at
        interpreter exit, the group's worker threads can still hold work with tensors and
        abort the process ("terminate called without an active exception", seen about once
        in 40 two-rank runs in CI). So the wrapper goes first (it sits in reference cycles:
        collected now), then a barrier, then the group."""
        if self._net is not self.module:
            self._net = self.module
            gc.collect()
        distributed.teardown()

    def checkpoint(self) -> Checkpoint:
        """The run's state now: weights, optimizer, position, RNG, running sums, history."""
        tensors = {"rng_torch": torch.get_rng_state(), "rng_shuffle": self._shuffle.get_state(),
                   "train_sums": self._train_meter.acc}
        if self._order is not None:
            tensors["order"] = self._order
        if self._best_state is not None:  # restore_best_weights: the best epoch's weights
            tensors.update({f"best.{k}": v for k, v in self._best_state.items()})
        meta = {"epoch": self._epoch, "batch": self._batch, "step": self._step,
                "epochs": self.config.epochs, "schedule": self.schedule.state_dict(),
                "history": self.history, "best": self._best, "bad_epochs": self._bad_epochs,
                "train_samples": self._train_meter.samples,
                "train_elements": self._train_meter.elements,
                "outputs": [o.output for o in self._outputs]}
        return Checkpoint(self.module.state_dict(), self.optimizer.state_dict(), tensors, meta)

    def save_checkpoint(self, folder: str | Path) -> Path | None:
        """Write the checkpoint (rank 0 only under torchrun); returns the folder written."""
        if not self.dist.is_main:
            return None
        return save_checkpoint(folder, self.checkpoint())

    def evaluate(self, split: str = "validation") -> dict[str, dict[str, float]]:
        """Loss and metrics per output on ``split`` (train, validation or test)."""
        self.prepare()
        data = {"train": self.train_data, "validation": self.validation_data,
                "test": self.test_data}[split]
        return self._evaluate(data)[0]

    # --- set-up helpers --------------------------------------------------------------------
    def _load_initial(self, module: nn.Module) -> str:
        """Start from ``initial_weights`` (by name, matching shapes); a note for the log."""
        report = load_state_by_name(module, self.initial_weights)
        note = f"started from the current weights ({len(report.loaded)} tensors)"
        fresh = report.missing + [name for name, *_ in report.shape_mismatch]
        if fresh:
            note += f"; {len(fresh)} start fresh (new or resized layers: " + ", ".join(
                sorted({n.rsplit('.', 1)[0] for n in fresh})) + ")"
        return note

    def _load_state(self, ckpt: Checkpoint) -> None:
        meta = ckpt.meta
        names = [o.output for o in self._outputs]
        if meta.get("outputs") != names:
            raise TrainingError(f"The checkpoint was made for outputs {meta.get('outputs')}, "
                                f"but the design has {names}; it belongs to another design.")
        try:
            self.module.load_state_dict(ckpt.weights)
            self.optimizer.load_state_dict(ckpt.optimizer)
        except (RuntimeError, ValueError, KeyError) as exc:
            raise TrainingError(f"The checkpoint does not fit this design: {exc}") from None
        torch.set_rng_state(ckpt.tensors["rng_torch"])
        self._shuffle.set_state(ckpt.tensors["rng_shuffle"])
        self._order = ckpt.tensors.get("order")
        if self._order is not None:
            self._order = self._order.to(self.device)
        self._train_meter.acc.copy_(ckpt.tensors["train_sums"])
        self._train_meter.samples = list(meta["train_samples"])
        self._train_meter.elements = list(meta["train_elements"])
        self._epoch, self._batch, self._step = meta["epoch"], meta["batch"], meta["step"]
        self.schedule.load_state_dict(meta["schedule"])
        self.history = list(meta["history"])
        self._best = tuple(meta["best"]) if meta.get("best") else None
        self._bad_epochs = meta.get("bad_epochs", 0)
        best = {k[5:]: v for k, v in ckpt.tensors.items() if k.startswith("best.")}
        self._best_state = {k: v.to(self.device) for k, v in best.items()} or None

    # --- the loop --------------------------------------------------------------------------
    def _emit(self, event: Event) -> None:
        if self._callback is not None:
            self._callback(event)

    def _fail(self, message: str, exc: BaseException) -> Failed:
        event = Failed(message, "".join(traceback.format_exception(exc)), self._epoch + 1,
                       self._step)
        self._emit(event)
        return event

    def _train(self, control: Control) -> Finished | Failed:
        cfg = self.config
        data = self.prepared
        train = self.train_data
        self._emit(Started(cfg.epochs, self._steps, str(self.device), len(train),
                           len(self.validation_data), len(self.test_data),
                           tuple(o.output for o in self._outputs), self._epoch,
                           tuple(data.notes) + ((self._initial_note,) if self._initial_note
                                                else ())))
        if self.parts.zero_gradient:
            self._emit(Warned("No gradient passes " + "; ".join(self.parts.zero_gradient)
                              + ". Sign and Step have zero gradient, so the weights before "
                              "them cannot learn by gradient descent. Train with tanh (or "
                              "sigmoid) instead, then switch to the threshold unit to predict."))
        reason = "completed"
        net, optimizer, module = self._net, self.optimizer, self.module
        objective = self.objective
        single = objective.single
        meter = self._train_meter
        step_check = self.device.type == "cpu" and not self.dist.enabled
        report_every, report_seconds = cfg.report_every, cfg.report_seconds
        last_report = time.perf_counter()
        clip = cfg.clip_grad_norm
        move_to = None if self._data_on_device else self.device
        augment = data.augment
        lr_varies = cfg.schedule.kind != "constant" or cfg.schedule.warmup_epochs > 0
        amp = (torch.autocast(self.device.type, dtype=self._amp_dtype) if self._amp_dtype
               else nullcontext())
        on_pause = lambda: self._emit(Paused(self._step))  # noqa: E731
        on_resume = lambda: self._emit(Resumed(self._step))  # noqa: E731
        snapshot = None if step_check else self._snapshot()
        last_sums = meter.snapshot()
        last_counts = list(meter.samples)
        stopped = False
        while self._epoch < cfg.epochs:
            epoch = self._epoch
            t0 = time.perf_counter()
            if self._order is None:
                order = torch.randperm(len(train), generator=self._shuffle)
                self._order = distributed.shard(order, self.dist).to(self.device)
                meter.reset()
                last_sums, last_counts = meter.snapshot(), list(meter.samples)
            order = self._order
            self.parts.train()  # frozen layers stay in inference mode
            lr = self.schedule.lr(epoch, self._batch)
            _set_lr(optimizer, lr)
            bs = self._batch_size
            while self._batch < self._steps:
                if not control.should_continue(on_pause, on_resume):
                    stopped = True
                    break
                b = self._batch
                idx = order[b * bs:(b + 1) * bs]
                xs = [t[idx] for t in train.inputs]
                if not self._data_on_device:
                    xs = [t.to(self.device, non_blocking=True) for t in xs]
                if augment:
                    xs = [_augment(t, augment) for t in xs]
                if lr_varies:
                    new_lr = self.schedule.lr(epoch, b)
                    if new_lr != lr:
                        lr = new_lr
                        _set_lr(optimizer, lr)
                with amp:
                    total, parts = objective(net(*xs), train.targets, idx, move_to,
                                             self._amp_dtype is not None)
                if step_check:  # on the CPU reading the loss costs nothing: check every step
                    value = total.item()
                    if not math.isfinite(value):
                        self._non_finite(parts)
                    if single:  # and the meter takes it as it is, with no tensor work
                        parts[0] = (value, parts[0][1], parts[0][2])
                optimizer.zero_grad(set_to_none=True)
                if self._scaler is not None:
                    self._scaler.scale(total).backward()
                    self._scaler.unscale_(optimizer)
                else:
                    total.backward()
                if self._step == 0 and not self._resume:
                    self._check_gradients()
                if clip:
                    norm = torch.nn.utils.clip_grad_norm_(self._params, clip)
                elif self.dist.enabled:
                    norm = torch.nn.utils.get_total_norm(
                        [p.grad for p in self._params if p.grad is not None])
                if self.dist.enabled and not math.isfinite(float(norm)):
                    self._non_finite(parts)
                if self._scaler is not None:
                    self._scaler.step(optimizer)
                    self._scaler.update()
                else:
                    optimizer.step()
                self._step += 1
                self._batch += 1
                for i, (loss, pred, target) in enumerate(parts):  # queued: see Meter
                    lab = train.labels[i]
                    if lab is not None:
                        # index targets are the labels: no second gather
                        lab = target if lab is train.targets[i] else lab[idx].to(self.device)
                    meter.update(i, loss, pred.detach(), target, lab)
                if (self._step % report_every == 0 and time.perf_counter() - last_report
                        >= report_seconds) or self._batch == self._steps:
                    last_report = time.perf_counter()
                    sums = meter.snapshot()  # the one sync of this interval
                    if not all(math.isfinite(r[0]) for r in sums):
                        if snapshot is not None:
                            module.load_state_dict(snapshot)
                        self._non_finite(parts, interval=True)
                    self._report(sums, last_sums, last_counts)
                    last_sums, last_counts = sums, list(meter.samples)
                    if snapshot is not None:
                        snapshot = self._snapshot()
            if stopped:
                reason = "stopped"
                break
            stop_early = self._end_epoch(epoch, lr, time.perf_counter() - t0)
            if stop_early:
                reason = "early stopping"
                break
            if control.stopped:
                reason = "stopped"
                break
        if self._best_state is not None and cfg.restore_best_weights and reason != "stopped":
            module.load_state_dict(self._best_state)
        if reason != "stopped":
            self._final_evaluation()
        event = Finished(len(self.history), self._step, reason,
                         self._best[1] if self._best else None, list(self.history))
        self._emit(event)
        return event

    def _snapshot(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().clone() for k, v in self.module.state_dict().items()}

    def _non_finite(self, parts: list, interval: bool = False) -> None:
        bad = [o.output for o, (loss, _, _) in zip(self._outputs, parts)
               if loss is not None and not torch.isfinite(torch.as_tensor(loss)).all()]
        which = f" of output {', '.join(bad)}" if bad else ""
        kept = ("the weights from the last report" if interval else
                "the weights from before this step")
        raise NonFiniteLossError(
            f"The loss{which} became NaN or infinite at epoch {self._epoch + 1}, batch "
            f"{self._batch + 1}; training stopped and kept {kept}. Lower the learning rate "
            f"(now {self.optimizer.param_groups[0]['lr']:g}), turn on gradient clipping, or "
            "check the data for extreme values.")

    def _check_gradients(self) -> None:
        """Once, at the first step: a loss whose gradient is zero everywhere trains nothing."""
        grads = [p.grad for p in self._params if p.grad is not None]
        if grads and any(bool(g.any()) for g in grads):
            return
        cause = ("; ".join(self.parts.zero_gradient) + " blocks it") if \
            self.parts.zero_gradient else (
            "a layer with zero gradient (Sign, Step, rounding) may stand between the weights "
            "and the loss")
        raise TrainingError(f"Training cannot change any weight: the gradient is zero "
                            f"everywhere ({cause}). Use tanh or sigmoid while training instead "
                            "of a threshold.")

    def _report(self, sums: list[list[float]], last: list[list[float]],
                last_counts: list[int]) -> None:
        meter = self._train_meter
        losses = {}
        total = 0.0
        for i, info in enumerate(self._outputs):
            n = meter.samples[i] - last_counts[i]
            if self._weights[i] is None or n <= 0:
                continue
            value = (sums[i][0] - last[i][0]) / n
            losses[info.output] = value
            total += value * self._weights[i]
        self._emit(BatchEnd(self._step, self._epoch + 1, self._batch, losses, total))

    def _end_epoch(self, epoch: int, lr: float, seconds: float) -> bool:
        cfg = self.config
        meter = self._train_meter
        if self.dist.enabled:
            distributed.all_reduce_sum(meter.acc, self.dist)
            meter.samples = [n * self.dist.world_size for n in meter.samples]
            meter.elements = [n * self.dist.world_size for n in meter.elements]
        train = meter.results()
        val = self._evaluate(self.validation_data)[0] if len(self.validation_data) else {}
        train_loss = self._total(train)
        val_loss = self._total(val) if val else None
        monitored = val_loss if val_loss is not None else train_loss
        self.schedule.epoch_end(monitored)
        entry = {"epoch": epoch + 1, "train": train, "validation": val, "train_loss": train_loss,
                 "validation_loss": val_loss, "lr": lr, "seconds": seconds}
        self.history.append(entry)
        self._epoch, self._batch, self._order = epoch + 1, 0, None
        stop = False
        if cfg.early_stopping_patience:
            if self._best is None or monitored < self._best[0]:
                self._best = (monitored, epoch + 1)
                self._bad_epochs = 0
                if cfg.restore_best_weights:
                    self._best_state = self._snapshot()
            else:
                self._bad_epochs += 1
                stop = self._bad_epochs >= cfg.early_stopping_patience
        # After the bookkeeping: a checkpoint taken by the callback holds the whole epoch.
        self._emit(EpochEnd(epoch + 1, train, val, train_loss, val_loss, lr, seconds))
        return stop

    def _total(self, metrics: dict[str, dict[str, float]]) -> float:
        return sum(metrics[o.output]["loss"] * w for o, w in zip(self._outputs, self._weights)
                   if w is not None and o.output in metrics and "loss" in metrics[o.output])

    @torch.no_grad()
    def _evaluate(self, data: SplitData, keep: bool = False
                  ) -> tuple[dict[str, dict[str, float]], list[torch.Tensor], list]:
        """Metrics on ``data`` in eval mode; with ``keep``, the outputs too (on the CPU)."""
        module = self.module
        was_training = module.training
        module.eval()
        meter = Meter(self._outputs, self.device)
        kept: list[list[torch.Tensor]] = [[] for _ in self._outputs]
        n = len(data)
        bs = max(self._batch_size, 1024)
        try:
            for start in range(0, n, bs):
                part = data.rows(slice(start, start + bs)).to(self.device)
                out = module(*part.inputs)
                if not isinstance(out, (tuple, list)):
                    out = (out,)
                for i, pred in enumerate(self.objective.predictions(out)):
                    fn = self.objective.losses[i]
                    tgt = part.targets[i]
                    loss = None if fn is None or tgt is None else fn(pred.float(), tgt, None)
                    meter.update(i, loss, pred, tgt, part.labels[i])
                    if keep:
                        kept[i].append(pred.float().cpu())
        finally:
            module.train(was_training)
        return meter.results(), [torch.cat(k) if k else torch.empty(0) for k in kept], []

    def evaluation(self, split: str = "test") -> Evaluated:
        """Metrics, confusion matrices and predictions of ``split`` (tensors on the CPU).

        The event a run sends at its end for its held-out split; the app's Evaluate uses it for
        any split of a finished run."""
        self.prepare()
        data = {"train": self.train_data, "validation": self.validation_data,
                "test": self.test_data}[split]
        if not len(data):
            raise ValueError(f"The {split} split is empty; choose another split or change the "
                             "split sizes in the data settings.")
        metrics, outputs, _ = self._evaluate(data, keep=True)
        confusion, predictions, targets = {}, {}, {}
        for i, info in enumerate(self._outputs):
            pred = outputs[i]
            labels = data.labels[i]
            if labels is not None and info.num_classes:
                labels = labels.cpu()
                classes = predicted_classes(pred, info)
                confusion[info.output] = confusion_matrix(labels, classes, info.num_classes)
                predictions[info.output] = classes
                targets[info.output] = labels
            elif data.targets[i] is not None:
                predictions[info.output] = pred * info.scale + info.offset
                targets[info.output] = (data.targets[i].cpu().to(torch.float32) * info.scale
                                        + info.offset)
        return Evaluated(split, metrics, confusion, predictions, targets)

    def _final_evaluation(self) -> None:
        split = "test" if len(self.test_data) else "validation"
        if len({"test": self.test_data, "validation": self.validation_data}[split]):
            self._emit(self.evaluation(split))


# --- helpers -------------------------------------------------------------------------------

def probe_outputs(module: nn.Module, xs: list[torch.Tensor]) -> list[tuple[int, ...]]:
    """Each output's sample shape, from running ``module`` on a couple of samples."""
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            out = module(*xs)
    finally:
        module.train(was_training)
    out = out if isinstance(out, (tuple, list)) else (out,)
    return [tuple(o.shape[1:]) for o in out]


def _fits(data: PreparedData, device: torch.device) -> bool:
    if device.type != "cuda":
        return True
    free, _ = torch.cuda.mem_get_info(device)
    return data.train.nbytes() <= DEVICE_DATA_SHARE * free


def _pinned(split: SplitData) -> SplitData:
    def pin(t: torch.Tensor | None) -> torch.Tensor | None:
        return None if t is None else t.pin_memory()

    return SplitData([pin(t) for t in split.inputs], [pin(t) for t in split.targets],
                     [pin(t) for t in split.labels], pin(split.weight))


def _set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr * group.get("lr_mult", 1.0)


def _augment(x: torch.Tensor, options: dict[str, float]) -> torch.Tensor:
    if not x.is_floating_point():
        return x
    return augment_images(x, int(options.get("shift", 0)), float(options.get("noise", 0.0)),
                          rotate=float(options.get("rotate", 0.0)))


__all__ = ["TrainingLoop", "TrainingError", "NonFiniteLossError"]
