"""`netcanvas train` trains an example headless and writes history and weights."""

import json
from pathlib import Path

from safetensors.torch import load_file

from backend.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def test_cli_trains_an_example_and_writes_the_run(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", str(EXAMPLES / "wide_and_deep.json"), "--epochs", "2", "--out",
                 str(out), "--device", "cpu"])
    assert code == 0
    text = capsys.readouterr().out
    assert "epoch 2/2" in text and "main_output" in text and "aux_output" in text
    history = json.loads((out / "history.json").read_text())
    assert history["status"] == "completed" and len(history["epochs"]) == 2
    assert set(history["epochs"][-1]["validation"]) == {"main_output", "aux_output"}
    assert load_file(str(out / "weights.safetensors"))

    code = main(["train", str(EXAMPLES / "wide_and_deep.json"), "--epochs", "3", "--out",
                 str(out), "--resume", str(out), "--json"])
    assert code == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert events[0]["event"] == "Started" and events[0]["start_epoch"] == 2
    assert [e["epoch"] for e in events if e["event"] == "EpochEnd"] == [3]
    assert events[-1]["event"] == "Finished"


def test_cli_reports_problems_without_a_traceback(tmp_path, capsys):
    assert main(["train", str(tmp_path / "missing.json")]) == 2
    assert "cannot read the file" in capsys.readouterr().err
    code = main(["train", str(EXAMPLES / "threshold_unit.json"), "--out", str(tmp_path / "t")])
    assert code == 1
    err = capsys.readouterr().err
    assert "zero gradient" in err and "Traceback" not in err


def test_history_records_the_preprocessing_to_apply_to_new_data(tmp_path):
    """history.json records the standardisation the model was trained with (exports with the
    weights apply it themselves: test_raw_exports); applied by hand it gives the same."""
    import json

    import torch

    from backend.data.config import DataConfig
    from backend.data.load import load_dataset
    from backend.data.prepare import prepare_data
    from backend.export.weights import load_weights
    from backend.model.compiler import compile_document
    from graph import project
    from graph.examples import load_example

    doc = load_example("wide_and_deep")
    path = tmp_path / "wd.json"
    project.save(doc, path)
    out = tmp_path / "run"
    assert main(["train", str(path), "--epochs", "2", "--out", str(out)]) == 0
    pre = json.loads((out / "history.json").read_text())["preprocessing"]
    assert len(pre["features"]["mean"]) == len(pre["features"]["std"]) == 10  # diabetes columns
    scale = pre["targets"]["main_output"]["scale"]
    offset = pre["targets"]["main_output"]["offset"]
    # Apply it to raw rows by hand: the exported model then reproduces the app's predictions.
    data_cfg = DataConfig.from_dict(doc.section("data"))
    raw = load_dataset(data_cfg)
    x = (raw.x - torch.tensor(pre["features"]["mean"])) / torch.tensor(pre["features"]["std"])
    module = compile_document(doc).module.eval()
    load_weights(module, out / "weights.safetensors", strict=True)
    with torch.no_grad():
        main_pred, _ = module(x[:, [0, 1, 2, 3, 4]], x[:, [2, 3, 4, 5, 6, 7]])
    predicted = main_pred[:, 0] * scale + offset
    prepared = prepare_data(raw, data_cfg, *_specs(doc))
    assert prepared.preprocessing() == pre
    assert predicted.std() > 1 and abs(float(predicted.mean()) - offset) < 3 * scale


def _specs(doc):
    from backend.training.trainer import parts_from_document

    parts = parts_from_document(doc)
    return parts.inputs, parts.outputs


def test_progress_on_a_terminal_is_a_tqdm_bar_per_epoch():
    import io

    from backend.training.console import Console
    from backend.training.events import BatchEnd, EpochEnd, Started

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    console = Console("Model", stream)
    console(Started(2, 4, "cpu", 10, 0, 0, ("y",)))
    console(BatchEnd(2, 1, 2, {"y": 0.5}, 0.5))
    assert "epoch 1/2:" in stream.getvalue() and "0/4 [" in stream.getvalue()  # tqdm's bar
    assert console.bar.n == 2 and console.bar.total == 4
    console(EpochEnd(1, {"y": {"loss": 0.25}}, {}, 0.25, None, 0.1, 0.2))
    console.close()
    text = stream.getvalue()
    assert "epoch 1/2  train loss 0.25  (0.2s, ETA 0:00)" in text
    plain = io.StringIO()  # not a terminal: one line per epoch, no bar
    console = Console("Model", plain)
    console(Started(2, 4, "cpu", 10, 0, 0, ("y",)))
    console(BatchEnd(2, 1, 2, {"y": 0.5}, 0.5))
    console(EpochEnd(1, {"y": {"loss": 0.25}}, {}, 0.25, None, 0.1, 0.2))
    assert plain.getvalue().splitlines()[-1] == "epoch 1/2  train loss 0.25  (0.2s, ETA 0:00)"


def test_ctrl_c_stops_after_the_batch_and_says_how_to_resume(tmp_path):
    """A first Ctrl-C (SIGINT) ends the run after its batch, with the run folder written and
    the command that continues it; the exit status is 130."""
    import os
    import signal
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend.cli.main", "train", str(EXAMPLES / "wide_and_deep.json"),
         "--epochs", "100000", "--out", str(out), "--json"],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(root)})
    try:
        for line in proc.stdout:
            if json.loads(line)["event"] == "EpochEnd":
                break
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "stopping after this batch" in err
    assert f"--resume {out}" in err and "Traceback" not in err
    history = json.loads((out / "history.json").read_text())
    assert history["status"] == "stopped" and 1 <= len(history["epochs"]) < 100000
