"""Export a standalone ``train.py`` beside the generated ``model.py`` that reproduces the app's
training run.

What it replicates, step for step, from the Trainer (see docs/workflows.md): the built-in data
set (its loading code inlined: scikit-learn's bundled sets or the generated toy sets), the seeded
stratified split, standardisation with training statistics, each Output's target encoding, the
seeded initial weights (``torch.manual_seed(seed)`` right before the model is built), the epoch
order (``randperm`` from a generator seeded ``seed + 1``), batches by index slicing, the losses
and their weighted sum, class weights, the optimizer with per-layer lr multipliers, the
learning-rate schedule, gradient clipping, early stopping, frozen layers, augmentation, and the
per-epoch train/validation losses (float64 running sums). On the CPU with the same thread count
the loss trace equals the app's. Under ``torchrun`` it trains with DistributedDataParallel
(gloo on CPU, nccl on CUDA), each rank on an equal strided shard of the epoch's order.

The script needs only torch, plus numpy/scikit-learn for the data sets that come from them.
Data read from the user's files (CSV, NPZ, IDX, images, MNIST) are saved as prepared (split,
standardised, encoded) in ``data.safetensors`` beside the script, which then needs safetensors.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.data.config import DataConfig
from graph.document import Document
from graph.errors import GraphError
from graph.project import write_atomic


class ScriptExportError(GraphError):
    """A training script that cannot be written; the message says why."""


@dataclass(frozen=True)
class ScriptExport:
    model: Path
    script: Path
    data: Path | None = None  # the prepared splits, for data from the user's files


_TRUTH = '''
def load_dataset():
    bits = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    out = torch.tensor({truth!r})
    x = bits * 2 - 1 if OPTIONS.get("inputs", "01") == "pm1" else bits
    if OPTIONS.get("targets", "01") == "pm1":
        target = (out.float() * 2 - 1, None)
    else:
        target = (out.long(), ("0", "1"))
    return x, {{"y": target}}, ("a", "b"), False, (0.0, 0.0)
'''

_GENERATED_HEAD = '''
def _generator():
    import numpy as np

    n = OPTIONS.get("samples", 1000)
    noise = float(OPTIONS.get("noise", 0.1))
    return n, noise, np.random.default_rng(OPTIONS.get("seed", 0))


def _classes(x, y, k):
    return (torch.as_tensor(x, dtype=torch.float32),
            {{"label": (torch.as_tensor(y, dtype=torch.long), tuple(str(i) for i in range(k)))}},
            ("x", "y"), True, (0.2, 0.0))
'''

_GENERATED = {
    "moons": '''
def load_dataset():
    from sklearn.datasets import make_moons

    n, noise, rng = _generator()
    x, y = make_moons(n, noise=noise, random_state=int(rng.integers(2**31)))
    return _classes(x, y, 2)
''',
    "circles": '''
def load_dataset():
    from sklearn.datasets import make_circles

    n, noise, rng = _generator()
    x, y = make_circles(n, noise=noise, factor=0.5, random_state=int(rng.integers(2**31)))
    return _classes(x, y, 2)
''',
    "spirals": '''
def load_dataset():
    import numpy as np

    n, noise, rng = _generator()
    arms = OPTIONS.get("arms", 3)
    per = n // arms
    r = np.tile(np.linspace(0.05, 1.0, per), arms)
    y = np.repeat(np.arange(arms), per)
    theta = r * 4.0 + y * (2 * math.pi / arms) + rng.normal(0, noise, arms * per)
    x = np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1)
    return _classes(x, y, arms)
''',
    "sequences": '''
def load_dataset():
    import numpy as np

    n, noise, rng = _generator()
    steps = OPTIONS.get("length", 20)
    k = OPTIONS.get("classes", 2)
    y = rng.integers(0, k, n)
    freq = (1.0 + y) * (2 * math.pi / steps)
    t = np.arange(steps)
    phase = rng.uniform(0, 2 * math.pi, n)
    x = np.sin(freq[:, None] * t[None, :] + phase[:, None]) + rng.normal(0, noise, (n, steps))
    target = (torch.as_tensor(y, dtype=torch.long), tuple(f"{i + 1} cycles" for i in range(k)))
    return (torch.as_tensor(x[:, :, None], dtype=torch.float32), {"label": target}, (), False,
            (0.2, 0.0))
''',
}

_DIGITS = '''
def load_dataset():
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = torch.as_tensor(bunch.images, dtype=torch.float32) / 16.0
    x = {reshape}
    target = (torch.as_tensor(bunch.target, dtype=torch.long), tuple(str(i) for i in range(10)))
    return x, {{"digit": target}}, (), False, (0.2, 0.0)
'''

_SKLEARN = '''
def load_dataset():
    import numpy as np
    import sklearn.datasets

    bunch = sklearn.datasets.{loader}()
    x = torch.as_tensor(np.asarray(bunch.data), dtype=torch.float32)
    names = tuple(str(f) for f in getattr(bunch, "feature_names", ()))
    if {classes!r}:
        target = (torch.as_tensor(bunch.target, dtype=torch.long),
                  tuple(str(c) for c in bunch.target_names))
    else:
        target = (torch.as_tensor(bunch.target, dtype=torch.float32), None)
    return x, {{"target": target}}, names, True, (0.2, 0.0)
'''

_SKLEARN_SETS = {"iris": ("load_iris", True), "wine": ("load_wine", True),
                 "breast_cancer": ("load_breast_cancer", True),
                 "diabetes": ("load_diabetes", False)}


def dataset_code(name: str) -> str:
    """The inlined loader of a built-in data set: ``load_dataset()`` returns (x, {target name:
    (values, classes or None)}, feature names, tabular, default splits)."""
    if name in ("or", "and", "xor"):
        truth = {"or": (0, 1, 1, 1), "and": (0, 0, 0, 1), "xor": (0, 1, 1, 0)}[name]
        return _TRUTH.format(truth=truth)
    if name in _GENERATED:
        return _GENERATED_HEAD.format() + _GENERATED[name]
    if name in ("digits", "digits_flat"):
        reshape = "x.reshape(len(x), 64)" if name == "digits_flat" else "x.unsqueeze(1)"
        return _DIGITS.format(reshape=reshape)
    if name in _SKLEARN_SETS:
        loader, classes = _SKLEARN_SETS[name]
        return _SKLEARN.format(loader=loader, classes=classes)
    raise ValueError(f"{name!r} is not a built-in data set")


def is_builtin(name: str) -> bool:
    """Whether the script can load data set ``name`` itself (else it reads the prepared splits
    NetCanvas saves beside it)."""
    try:
        dataset_code(name)
    except ValueError:
        return False
    return True


_PREPARE_BUILTIN = r'''

# --- the data: split, standardised and encoded as in the app ------------------------------

def split_indices(labels, n, validation, test, seed, stratify):
    """The app's split: seeded shuffles per class (stratified), cut test | validation | train."""
    gen = torch.Generator().manual_seed(seed)

    def take(idx):
        idx = idx[torch.randperm(len(idx), generator=gen)]
        n_test, n_val = int(round(len(idx) * test)), int(round(len(idx) * validation))
        return idx[n_test + n_val:], idx[n_test:n_test + n_val], idx[:n_test]

    pool = torch.arange(n)
    if stratify and labels is not None:
        parts = [take(pool[labels == k]) for k in range(int(labels.max()) + 1)
                 if (labels == k).any()]
    else:
        parts = [take(pool)]
    return [torch.cat([p[i] for p in parts]).sort().values for i in range(3)]


def prepare():
    """Load, split, standardise and encode the data as the app does."""
    x, targets, feature_names, tabular, (default_val, default_test) = load_dataset()
    val = default_val if DATA["validation_split"] is None else DATA["validation_split"]
    test = default_test if DATA["test_split"] is None else DATA["test_split"]
    first_values, first_classes = next(iter(targets.values()))
    train, valid, tst = split_indices(first_values if first_classes is not None else None,
                                      len(x), val, test, DATA["seed"], DATA["stratify"])
    if DATA["standardize"] and tabular and len(train) > 1:
        mean, std = x[train].mean(0), x[train].std(0)
        x = (x - mean) / torch.where(std > 1e-12, std, torch.ones_like(std))
    inputs = []
    for spec in INPUTS:
        data = x
        if spec["features"] is not None:
            cols = [feature_names.index(f) if isinstance(f, str) else f % x.shape[1]
                    for f in spec["features"]]
            data = x[:, cols]
        if tuple(data.shape[1:]) != tuple(spec["shape"]):
            data = data.reshape(len(data), *spec["shape"])
        if spec["dtype"] == "int64":
            data = data.round().long()
        inputs.append(data.contiguous())
    encoded, labels = [], []
    for spec in OUTPUTS:
        values, classes = targets[spec["target"]]
        label = values if classes is not None else None
        enc = spec["encoding"]
        if enc == "none":
            encoded.append(None)
            labels.append(None)
            continue
        if classes is not None:
            if enc == "index":
                y = values
            elif enc == "onehot":
                y = F.one_hot(values, len(classes)).float()
            else:
                y = values.float()[:, None]
        else:
            y = values.float()
            y = y[:, None] if y.dim() == 1 else y
            distinct = torch.unique(y)
            if y.shape[1] == 1 and len(distinct) == 2:
                label = (y[:, 0] > (float(distinct[0]) + float(distinct[1])) / 2).long()
            elif DATA["standardize"] and tabular and len(train) > 1:
                mean, std = y[train].mean(0), y[train].std(0).clamp_min(1e-12)
                if y.shape[1] == 1:
                    y = (y - mean) / std
        if spec["shape"] is not None and y.dim() == 2 and len(spec["shape"]) > 1:
            y = y.reshape(len(y), *spec["shape"])
        encoded.append(y)
        labels.append(label)

    def rows(idx):
        return ([t[idx] for t in inputs], [None if t is None else t[idx] for t in encoded],
                [None if t is None else t[idx] for t in labels])

    return rows(train), rows(valid), rows(tst)
'''

_PREPARE_FILE = r'''

# --- the data: the splits NetCanvas prepared from your files ---------------------------------

DATA_FILE = "data.safetensors"


def prepare():
    """The train, validation and test splits exactly as NetCanvas prepared them from your data
    files (split, standardised, encoded), saved beside this script in DATA_FILE: each split is
    ([inputs], [targets], [labels])."""
    from safetensors.torch import load_file

    tensors = load_file(os.path.join(os.path.dirname(os.path.abspath(__file__)), DATA_FILE))

    def split(name):
        return ([tensors[f"{name}.input.{i}"] for i in range(len(INPUTS))],
                [tensors.get(f"{name}.target.{i}") for i in range(len(OUTPUTS))],
                [tensors.get(f"{name}.label.{i}") for i in range(len(OUTPUTS))])

    return split("train"), split("validation"), split("test")
'''

_TRAIN = r'''

# --- the run ---------------------------------------------------------------------------------

def make_loss(kind):
    """fn(pred, target, weight): the app's losses; weighted ones are sum(w·l) / sum(w)."""
    def weighted(per_sample, n, weight):
        per_sample = per_sample.reshape(n, -1).mean(1)
        return (per_sample * weight).sum() / weight.sum().clamp_min(1e-12)

    if kind in ("mse", "mae", "huber"):
        base = {"mse": F.mse_loss, "mae": F.l1_loss, "huber": F.huber_loss}[kind]

        def regression(pred, target, weight):
            if weight is None:
                return base(pred, target)
            return weighted(base(pred, target, reduction="none"), len(pred), weight)
        return regression
    if kind in ("cross_entropy", "nll"):
        base = F.cross_entropy if kind == "cross_entropy" else F.nll_loss

        def classes(pred, target, weight):
            n = len(pred)
            if pred.dim() > 2:
                c = pred.shape[-1]
                pred = pred.reshape(-1, c)
                target = target.reshape(-1, c) if target.is_floating_point() else \
                    target.reshape(-1)
            if weight is None:
                return base(pred, target)
            return weighted(base(pred, target, reduction="none"), n, weight)
        return classes

    def binary(pred, target, weight):
        if weight is None:
            return F.binary_cross_entropy_with_logits(pred, target)
        return weighted(F.binary_cross_entropy_with_logits(pred, target, reduction="none"),
                        len(pred), weight)
    return binary


def class_weights(labels, k):
    cw = TRAINING["class_weights"]
    if cw is None or labels is None or not k:
        return None
    if cw == "balanced":
        counts = torch.bincount(labels.reshape(-1), minlength=k).double()
        per_class = (len(labels) / (k * counts.clamp_min(1))).float()
    else:
        per_class = torch.tensor(cw, dtype=torch.float32)
    return per_class.to(labels.device)[labels.reshape(len(labels), -1)[:, 0]]


def make_optimizer(model):
    params = [p for p in model.parameters() if p.requires_grad]
    groups, taken = [], set()
    for name, factor in TRAINING["lr_multipliers"].items():
        own = [p for p in getattr(model, LAYER_ATTRS[name]).parameters()
               if p.requires_grad and id(p) not in taken]
        taken.update(id(p) for p in own)
        if own:
            groups.append({"params": own, "lr_mult": factor})
    rest = [p for p in params if id(p) not in taken]
    if groups and rest:
        groups.insert(0, {"params": rest, "lr_mult": 1.0})
    params = groups or params
    kind, lr, wd = TRAINING["optimizer"], TRAINING["lr"], TRAINING["weight_decay"]
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=TRAINING["momentum"],
                               nesterov=TRAINING["nesterov"], weight_decay=wd)
    if kind == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, weight_decay=wd)
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, momentum=TRAINING["momentum"],
                                   weight_decay=wd)
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    return torch.optim.AdamW(params, lr=lr, weight_decay=wd)


class Schedule:
    """lr(epoch, batch) = base · warm-up · schedule · plateau factor (as the app)."""

    def __init__(self, steps):
        self.cfg, self.base, self.steps = TRAINING["schedule"], TRAINING["lr"], max(1, steps)
        self.factor, self.best, self.bad = 1.0, math.inf, 0

    def lr(self, epoch, batch):
        cfg, t = self.cfg, epoch + batch / self.steps
        warm = cfg.get("warmup_epochs", 0.0)
        if warm > 0 and t < warm:
            return self.base * self.factor * (t * self.steps + 1) / (warm * self.steps)
        t -= warm
        kind = cfg.get("kind", "constant")
        if kind == "step":
            f = cfg.get("gamma", 0.1) ** math.floor(t / cfg.get("step_size", 10) + 1e-9)
        elif kind == "exponential":
            f = cfg.get("gamma", 0.1) ** math.floor(t + 1e-9)
        elif kind == "cosine":
            span = max(TRAINING["epochs"] - warm, 1e-9)
            lo = min(cfg.get("min_lr", 0.0), self.base)
            cos = (1 + math.cos(math.pi * min(t / span, 1.0))) / 2
            return (lo + (self.base - lo) * cos) * self.factor
        else:
            f = 1.0
        return self.base * f * self.factor

    def epoch_end(self, monitored):
        if self.cfg.get("kind") != "plateau" or monitored is None or not math.isfinite(monitored):
            return
        if monitored < self.best * (1 - 1e-4):
            self.best, self.bad = monitored, 0
        else:
            self.bad += 1
            if self.bad > self.cfg.get("patience", 5):
                self.factor *= self.cfg.get("factor", 0.5)
                self.bad = 0


def augment(x):
    shift, noise = int(DATA["augment"].get("shift", 0)), float(DATA["augment"].get("noise", 0.0))
    rotate = float(DATA["augment"].get("rotate", 0.0))
    if not x.is_floating_point():
        return x
    if rotate and x.dim() == 4:  # each image by its own angle in ±rotate degrees
        n, _, h, w = x.shape
        a = (torch.rand(n, device=x.device) * 2 - 1) * math.radians(rotate)
        cos, sin, zero = torch.cos(a), torch.sin(a), torch.zeros_like(a)
        theta = torch.stack([torch.stack([cos, -sin * (h / w), zero], 1),
                             torch.stack([sin * (w / h), cos, zero], 1)], 1).to(x.dtype)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    if shift and x.dim() == 4:
        n, _, h, w = x.shape
        padded = F.pad(x, (shift, shift, shift, shift))
        dy = torch.randint(0, 2 * shift + 1, (n,), device=x.device)
        dx = torch.randint(0, 2 * shift + 1, (n,), device=x.device)
        r = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
        c = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
        b = torch.arange(n, device=x.device)[:, None, None, None]
        ch = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
        x = padded[b, ch, r, c]
    if noise:
        x = x + noise * torch.randn(x.shape, device=x.device, dtype=x.dtype)
    return x


@torch.no_grad()
def evaluate(model, split, losses, batch, device):
    """Per-output mean loss over a split, in eval mode, in chunks of max(batch, 1024)."""
    inputs, targets, _ = split
    n = len(inputs[0])
    acc = torch.zeros(len(OUTPUTS), dtype=torch.float64, device=device)
    model.eval()
    for start in range(0, n, max(batch, 1024)):
        xs = [t[start:start + max(batch, 1024)].to(device) for t in inputs]
        out = model(*xs)
        out = out if isinstance(out, (tuple, list)) else (out,)
        for i, fn in enumerate(losses):
            if fn is not None:
                tgt = targets[i][start:start + max(batch, 1024)].to(device)
                acc[i].add_(fn(out[i].float(), tgt, None), alpha=len(out[i]))
    model.train()
    return [v / n for v in acc.tolist()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=TRAINING["epochs"])
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda")
    parser.add_argument("--history", help="write per-epoch losses to this JSON file")
    parser.add_argument("--out", default="weights.safetensors", help="the trained weights")
    args = parser.parse_args()
    TRAINING["epochs"] = args.epochs
    if TRAINING["threads"]:
        torch.set_num_threads(TRAINING["threads"])
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          "cpu" if args.device == "auto" else args.device)
    world, rank = int(os.environ.get("WORLD_SIZE", "1")), 0
    if world > 1:
        import torch.distributed as dist

        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        rank = dist.get_rank()
    torch.manual_seed(TRAINING["seed"])  # the same initial weights on every rank
    model = MODEL()
    for attr in FROZEN:
        for p in getattr(model, attr).parameters():
            p.requires_grad_(False)
    train, valid, _ = prepare()
    model = model.to(device)
    inputs = [t.to(device) for t in train[0]]
    targets = [None if t is None else t.to(device) for t in train[1]]
    losses = [None if o["loss"] == "none" else make_loss(o["loss"]) for o in OUTPUTS]
    weights = [None if o["loss"] == "none" else o["weight"] for o in OUTPUTS]
    sample_w = [class_weights(None if lab is None else lab.to(device), o["num_classes"])
                for o, lab in zip(OUTPUTS, train[2])]
    single = len(OUTPUTS) == 1 and weights[0] == 1.0
    optimizer = make_optimizer(model)
    net = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP

        net = DDP(model, device_ids=[device.index] if device.type == "cuda" else None)
    n_all = len(inputs[0])
    n = n_all // world if world > 1 else n_all
    batch = TRAINING["batch_size"] if 0 < TRAINING["batch_size"] < n else n
    steps = math.ceil(n / batch)
    schedule = Schedule(steps)
    shuffle = torch.Generator().manual_seed(TRAINING["seed"] + 1)
    history, best, bad, best_state = [], None, 0, None
    for epoch in range(TRAINING["epochs"]):
        order = torch.randperm(n_all, generator=shuffle)
        if world > 1:
            order = order[rank::world][:n]
        order = order.to(device)
        acc = torch.zeros(len(OUTPUTS), dtype=torch.float64, device=device)
        model.train()
        for b in range(steps):
            lr = schedule.lr(epoch, b)
            for group in optimizer.param_groups:
                group["lr"] = lr * group.get("lr_mult", 1.0)
            idx = order[b * batch:(b + 1) * batch]
            xs = [t[idx] for t in inputs]
            if DATA["augment"]:
                xs = [augment(t) for t in xs]
            out = net(*xs)
            out = out if isinstance(out, (tuple, list)) else (out,)
            total, parts = None, []
            for i, fn in enumerate(losses):
                if fn is None:
                    continue
                w = sample_w[i]
                loss = fn(out[i], targets[i][idx], None if w is None else w[idx])
                parts.append((i, loss, len(out[i])))
                total = loss if single else (
                    loss * weights[i] if total is None else total + loss * weights[i])
            optimizer.zero_grad(set_to_none=True)
            total.backward()
            if TRAINING["clip_grad_norm"]:
                torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad],
                                               TRAINING["clip_grad_norm"])
            optimizer.step()
            with torch.no_grad():
                for i, loss, rows in parts:
                    acc[i].add_(loss.detach(), alpha=rows)
        samples = steps and n
        if world > 1:
            dist.all_reduce(acc)
            samples = n * world
        train_losses = [v / samples for v in acc.tolist()]
        train_loss = sum(v * w for v, w in zip(train_losses, weights) if w is not None)
        val_loss = None
        if len(valid[0][0]):
            val_losses = evaluate(model, valid, losses, batch, device)
            val_loss = sum(v * w for v, w in zip(val_losses, weights) if w is not None)
        schedule.epoch_end(val_loss if val_loss is not None else train_loss)
        history.append({"epoch": epoch + 1, "train_loss": train_loss, "validation_loss": val_loss,
                        "lr": lr})
        if rank == 0:
            text = f"epoch {epoch + 1}/{TRAINING['epochs']}  train loss {train_loss:.6g}"
            print(text + (f"  validation loss {val_loss:.6g}" if val_loss is not None else ""),
                  flush=True)
        monitored = val_loss if val_loss is not None else train_loss
        if TRAINING["early_stopping_patience"]:
            if best is None or monitored < best:
                best, bad = monitored, 0
                if TRAINING["restore_best_weights"]:
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                bad += 1
                if bad >= TRAINING["early_stopping_patience"]:
                    break
    if best_state is not None:
        model.load_state_dict(best_state)
    if rank == 0:
        if args.history:
            with open(args.history, "w") as fh:
                json.dump(history, fh, indent=1)
        state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        try:
            from safetensors.torch import save_file
            save_file(state, args.out)
        except ImportError:  # safetensors is optional: fall back to PyTorch's own format
            args.out = os.path.splitext(args.out)[0] + ".pt"
            torch.save(state, args.out)
        print(f"wrote {args.out}")
    if world > 1:
        net = None  # DDP holds the process group: let it go first (it sits in cycles)
        gc.collect()
        dist.barrier()  # leave together: a rank exiting early can abort its peer (gloo)
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
'''


def _section_constants(doc: Document, base_dir: str | os.PathLike[str] | None = None
                       ) -> tuple[dict, dict, list, list, list, dict, Any]:
    """TRAINING, DATA, INPUTS, OUTPUTS, FROZEN, LAYER_ATTRS: what the script must know; and
    the prepared data (`PreparedData`)."""
    import torch

    from backend.data.prepare import load_dataset, prepare_data
    from backend.training.config import TrainConfig
    from backend.training.lr_multipliers import KEY, check_multipliers
    from backend.training.setup import parts_from_document

    cfg = TrainConfig.from_dict(doc.section("training"))
    data = DataConfig.from_dict(doc.section("data"))
    if not is_builtin(data.dataset) and data.sample_weight:
        raise ScriptExportError("Per-sample weights from a data column are not exported yet; "
                                "clear 'Sample weights' to export a reproducing script.")
    if cfg.amp:
        raise ScriptExportError("Mixed precision (amp) runs are not exported yet; switch amp "
                                "off to export a reproducing script.")
    parts = parts_from_document(doc)
    module = parts.module

    def probe(xs: list[torch.Tensor]) -> list[tuple[int, ...]]:
        module.eval()
        with torch.no_grad():
            out = module(*xs)
        out = out if isinstance(out, (tuple, list)) else (out,)
        return [tuple(o.shape[1:]) for o in out]

    ds = load_dataset(data, base_dir, download=False)  # no network from an export
    prepared = prepare_data(ds, data, parts.inputs, parts.outputs, probe)
    training = {"epochs": cfg.epochs, "batch_size": cfg.batch_size, "optimizer": cfg.optimizer,
                "lr": cfg.lr, "momentum": cfg.momentum, "nesterov": cfg.nesterov,
                "weight_decay": cfg.weight_decay, "schedule": {
                    "kind": cfg.schedule.kind, "warmup_epochs": cfg.schedule.warmup_epochs,
                    "step_size": cfg.schedule.step_size, "gamma": cfg.schedule.gamma,
                    "min_lr": cfg.schedule.min_lr, "factor": cfg.schedule.factor,
                    "patience": cfg.schedule.patience},
                "class_weights": cfg.class_weights, "clip_grad_norm": cfg.clip_grad_norm,
                "early_stopping_patience": cfg.early_stopping_patience,
                "restore_best_weights": cfg.restore_best_weights, "seed": cfg.seed,
                "threads": cfg.threads,
                "lr_multipliers": check_multipliers(cfg.extra.get(KEY))}
    data_section = {"dataset": data.dataset, "options": data.options,
                    "validation_split": data.validation_split, "test_split": data.test_split,
                    "seed": data.seed, "stratify": data.stratify,
                    "standardize": data.standardize, "augment": data.augment}
    inputs = [{"name": s.name, "shape": list(s.shape or ds.sample_shape), "dtype": s.dtype,
               "features": data.inputs.get(s.name, {}).get("features")} for s in parts.inputs]
    specs = {o.name: o for o in parts.outputs}
    outputs = []
    for info, enc in zip(prepared.outputs, prepared.train.targets):
        spec = specs[info.output]
        outputs.append({"name": info.output, "loss": spec.loss, "weight": spec.loss_weight,
                        "target": info.target, "encoding": info.encoding,
                        "num_classes": info.num_classes,
                        "shape": None if enc is None else list(enc.shape[1:])})
    compiled_attrs = parts.layer_attrs
    frozen = [compiled_attrs[doc.attr(n, "name")] for n in doc.node_ids()
              if not doc.attr(n, "trainable") and doc.attr(n, "name") in compiled_attrs]
    return training, data_section, inputs, outputs, frozen, compiled_attrs, prepared


def training_script(doc: Document, module_name: str = "model",
                    base_dir: str | os.PathLike[str] | None = None) -> str:
    """The source of ``train.py`` for ``doc`` (its model is imported from ``module_name``)."""
    return _script_and_data(doc, module_name, base_dir)[0]


def _script_and_data(doc: Document, module_name: str,
                     base_dir: str | os.PathLike[str] | None) -> tuple[str, Any]:
    """(the script, the prepared data it reads from ``data.safetensors``, or None when it
    loads a built-in data set itself)."""
    from backend.model.codegen import generate

    code = generate(doc)
    training, data, inputs, outputs, frozen, attrs, prepared = _section_constants(doc, base_dir)
    builtin = is_builtin(data["dataset"]) and all(o.source == "data" for o in prepared.outputs)
    needs = ("numpy / scikit-learn for the data" if builtin else
             "safetensors, to read the prepared data in data.safetensors")
    head = (f'"""Train {code.class_name} exactly as NetCanvas does (same data, split, seed, '
            f'settings).\n\n'
            f"    python train.py [--epochs N] [--device cpu] [--history losses.json]\n"
            f"    torchrun --nproc_per_node=K train.py   # DistributedDataParallel\n\n"
            f"Generated by NetCanvas; needs torch (and {needs}).\n"
            f'"""\n\n'
            "import argparse\nimport gc\nimport json\nimport math\nimport os\n\nimport torch\n"
            "import torch.nn.functional as F\n\n"
            f"from {module_name} import {code.class_name} as MODEL\n\n"
            f"TRAINING = {training!r}\n"
            f"DATA = {data!r}\n"
            f"OPTIONS = DATA['options']\n"
            f"INPUTS = {inputs!r}\n"
            f"OUTPUTS = {outputs!r}\n"
            f"FROZEN = {frozen!r}\n"
            f"LAYER_ATTRS = {attrs!r}\n")
    if builtin:
        body = head + "\n" + dataset_code(data["dataset"]) + _PREPARE_BUILTIN + _TRAIN
    else:
        body = head + _PREPARE_FILE + _TRAIN
    compile(body, "train.py", "exec")  # a syntax error here is a NetCanvas bug
    body = body.replace("\nimport torch\nimport torch.nn.functional as F\n\n\n",
                        "\nimport torch\nimport torch.nn.functional as F\n\n")
    return body, None if builtin else prepared


def prepared_tensors(prepared: Any) -> dict[str, Any]:
    """The prepared splits as named tensors for ``data.safetensors`` (each its own copy)."""
    out = {}
    for split in ("train", "validation", "test"):
        part = getattr(prepared, split)
        for kind, tensors in (("input", part.inputs), ("target", part.targets),
                              ("label", part.labels)):
            for i, t in enumerate(tensors):
                if t is not None:
                    out[f"{split}.{kind}.{i}"] = t.detach().cpu().contiguous().clone()
    return out


def export_training_script(doc: Document, out_dir: str | os.PathLike[str],
                           base_dir: str | os.PathLike[str] | None = None) -> ScriptExport:
    """Write ``model.py`` (the generated module) and ``train.py`` into ``out_dir``, and, for data
    from the user's files, ``data.safetensors`` with the prepared splits. Relative data paths
    are resolved against ``base_dir`` (the project's folder)."""
    from safetensors.torch import save

    from backend.model.codegen import generate

    folder = Path(out_dir)
    if not folder.is_dir():
        raise ScriptExportError(f"The folder {str(folder)!r} does not exist: create it first.")
    script, prepared = _script_and_data(doc, "model", base_dir)
    data_file = None
    if prepared is not None:
        data_file = folder / "data.safetensors"
        write_atomic(data_file, save(prepared_tensors(prepared),
                                     metadata={"format": "netcanvas-prepared-data"}))
    model = folder / "model.py"
    write_atomic(model, generate(doc).source)
    train = folder / "train.py"
    write_atomic(train, script)
    return ScriptExport(model, train, data_file)
