"""`netcanvas check` validates the whole project, the data and training settings with the same
declarations training uses; `export` refuses what `check` refuses; the CLI ends quietly when its
reader stops."""

import os
import subprocess
import sys
from pathlib import Path

from backend.cli.main import main
from graph import project
from graph.edits import SetSection
from graph.examples import load_example

ROOT = Path(__file__).resolve().parents[2]


def _project(tmp_path, **changes):
    doc = load_example("xor_mlp")
    for section, values in changes.items():
        merged = doc.section(section)
        merged.update(values)
        doc.apply(SetSection(section, merged))
    path = tmp_path / "p.ncproj.json"
    project.save(doc, path)
    return path


def test_check_refuses_bad_training_and_data_settings(tmp_path, capsys):
    good = _project(tmp_path)
    assert main(["check", str(good)]) == 0
    assert "No errors." in capsys.readouterr().out
    bad = _project(tmp_path, training={"batch_size": -1, "lr": "fast"},
                   data={"validation_split": 2})
    assert main(["check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "3 error(s)" in out
    assert "'batch_size' = -1 is not allowed" in out and "'lr' = 'fast' is not allowed" in out
    assert "'validation_split' = 2 is not allowed" in out


def test_export_refuses_what_check_refuses(tmp_path, capsys):
    bad = _project(tmp_path, training={"optimizer": "lion"})
    for fmt, out in (("py", tmp_path / "m.py"), ("script", tmp_path / "script")):
        assert main(["export", str(bad), "--format", fmt, "-o", str(out)]) == 1
        err = capsys.readouterr().err
        assert "'optimizer' = 'lion' is not allowed" in err and "Traceback" not in err
        assert not out.exists()


def test_the_cli_ends_quietly_when_its_reader_stops():
    read, write = os.pipe()
    os.close(read)  # a reader that has stopped: every write fails with a broken pipe
    try:
        proc = subprocess.run([sys.executable, "-m", "backend.cli.main", "examples"],
                              stdout=write, stderr=subprocess.PIPE, text=True, timeout=120,
                              cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    finally:
        os.close(write)
    assert proc.returncode == 141 and proc.stderr == ""
