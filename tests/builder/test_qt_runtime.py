"""PySide6 6.12.0 on Python 3.11 aborts after ~10^6 Qt calls that return nothing (none_dealloc).

The pin in pyproject.toml (<6.12) keeps users off it; this test makes 10^6 such calls in a child
process so a bad PySide6 shows up as a failed test instead of a crashed test run.
"""

import subprocess
import sys

CODE = """
from PySide6.QtCore import QObject
obj = QObject()
for i in range(1_000_000):
    obj.setObjectName("x")
print("survived", obj.objectName())
"""


def test_a_million_void_qt_calls_do_not_abort():
    result = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "survived x" in result.stdout
