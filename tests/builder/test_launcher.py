"""The `netcanvas` command: app for no arguments, a file or `open FILE`; otherwise backend.cli.main."""

import subprocess
import sys

import pytest

from builder.launcher import wants_app


@pytest.mark.parametrize("argv, expected", [
    ([], None),
    (["design.json"], "design.json"),
    (["open"], None),
    (["open", "design.json"], "design.json"),
    (["check", "design.json"], False),
    (["examples"], False),
    (["--help"], False),
    (["train", "x.json", "--epochs", "2"], False),
])
def test_what_opens_the_app(argv, expected):
    assert wants_app(argv) == expected


def test_sub_commands_run_without_qt_or_torch():
    code = ("import sys; from builder.launcher import main; rc = main(['examples']); "
            "bad = [m for m in ('PySide6', 'pyqtgraph', 'torch') if m in sys.modules]; "
            "assert not bad, bad; sys.exit(rc)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "wide_and_deep" in result.stdout
