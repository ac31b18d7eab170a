"""`netcanvas examples` and `netcanvas new`: run as a user would, through the entry point."""

import json
import subprocess
import sys

from backend.cli.main import main
from graph import project
from graph.examples import list_examples


def test_examples_lists_every_example(capsys):
    assert main(["examples"]) == 0
    out = capsys.readouterr().out
    for info in list_examples():
        assert info.name in out and info.title in out
    assert main(["examples", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [e["name"] for e in listed] == [i.name for i in list_examples()]


def test_new_from_example_writes_a_loadable_project(tmp_path, capsys):
    out = tmp_path / "wd.json"
    assert main(["new", "--example", "wide_and_deep", "-o", str(out)]) == 0
    assert project.load(out).name == "WideAndDeep"
    # Refuses to overwrite without --force, and says so.
    assert main(["new", "-o", str(out)]) == 1
    assert "exists" in capsys.readouterr().err
    assert main(["new", "-o", str(out), "--force"]) == 0
    assert len(project.load(out)) == 0


def test_new_with_unknown_example_names_the_known_ones(tmp_path, capsys):
    assert main(["new", "--example", "nope", "-o", str(tmp_path / "x.json")]) == 1
    err = capsys.readouterr().err
    assert "No example called 'nope'" in err and "wide_and_deep" in err


def test_console_entry_point_runs_without_qt():
    code = ("import sys; from backend.cli.main import main; rc = main(['examples']); "
            "assert 'PySide6' not in sys.modules and 'torch' not in sys.modules; sys.exit(rc)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "wide_and_deep" in result.stdout
