"""`netcanvas train` trains an example headless and writes history and weights."""

import json
from pathlib import Path

from safetensors.torch import load_file

from backend.cli import main

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
