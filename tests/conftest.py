"""Test-wide set-up: Qt runs offscreen; the repository root is importable."""

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("NETCANVAS_NO_GALLERY", "1")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def pytest_sessionfinish(session, exitstatus):
    """Release clipboard data the app tests created while Python can still delete it."""
    if "builder.controller" in sys.modules:
        sys.modules["builder.controller"].release_clipboard()
