"""Scale-out: under torchrun with two CPU processes (gloo), both ranks end with equal weights."""

import subprocess
import sys
import textwrap
from pathlib import Path

import torch
from safetensors.torch import load_file

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import sys
    import torch.distributed as dist
    from safetensors.torch import save_file
    from backend.training.events import EpochEnd, Finished
    from backend.training.trainer import Trainer
    from graph.project import load

    out = sys.argv[1]
    doc = load(sys.argv[2])
    epochs = []
    trainer = Trainer(doc, config={"epochs": 3, "batch_size": 16, "optimizer": "sgd",
                                   "lr": 0.05, "momentum": 0.9, "device": "cpu", "threads": 1})
    result = trainer.run(lambda e: epochs.append(e) if isinstance(e, EpochEnd) else None)
    assert isinstance(result, Finished), result
    rank = trainer.dist.rank
    assert trainer.dist.world_size == 2
    written = trainer.save_checkpoint(out + "/ckpt")  # rank 0 alone writes
    assert (written is None) == (rank != 0)
    state = {k: v.contiguous() for k, v in trainer.module.state_dict().items()}
    save_file(state, f"{out}/rank{rank}.safetensors")
    with open(f"{out}/rank{rank}.txt", "w") as fh:
        fh.write(f"{len(trainer.train_data)} {trainer._steps} {epochs[-1].train_loss!r}")
    trainer.leave_process_group()
    assert not dist.is_initialized()
""")


def test_torchrun_two_ranks_end_with_identical_weights(tmp_path):
    script = tmp_path / "ddp_train.py"
    script.write_text(SCRIPT)
    example = ROOT / "resources" / "examples" / "wide_and_deep.json"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           str(script), str(tmp_path), str(example)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=240,
                          env={**__import__("os").environ, "PYTHONPATH": str(ROOT),
                               "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    a = load_file(str(tmp_path / "rank0.safetensors"))
    b = load_file(str(tmp_path / "rank1.safetensors"))
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    n0, steps0, loss0 = (tmp_path / "rank0.txt").read_text().split()
    n1, steps1, loss1 = (tmp_path / "rank1.txt").read_text().split()
    # each rank trains on its half of every epoch; metrics are reduced over both
    assert steps0 == steps1 == "10"  # 310 rows → 155 per rank → 10 batches of 16
    assert loss0 == loss1
    assert (tmp_path / "ckpt" / "weights.safetensors").is_file()
