"""The real app process quits cleanly after the user copied layers (Qt's clipboard at exit)."""

import os
import subprocess
import sys

CODE = """
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
import builder.app as app_module

app = QApplication([])  # run_app uses the existing instance; timers need it first

def copy_then_quit():
    window = next(w for w in QApplication.topLevelWidgets() if type(w).__name__ == "MainWindow")
    controller = window.controller
    mime = controller.copy(controller.doc.node_ids())
    assert mime is not None
    print("copied", len(controller.doc.node_ids()), flush=True)
    QApplication.instance().quit()

QTimer.singleShot(500, copy_then_quit)
raise SystemExit(app_module.run_app(EXAMPLE))
"""


def test_app_exits_cleanly_after_copy(tmp_path):
    from graph.examples import example_path

    env = dict(os.environ, HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_DATA_HOME=str(tmp_path / "data"), QT_QPA_PLATFORM="offscreen",
               NETCANVAS_NO_GALLERY="1")
    code = CODE.replace("EXAMPLE", repr(str(example_path("wide_and_deep"))))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=120)
    # (the app would run forever if the quit timer never fired: the timeout guards that)
    assert "copied 9" in result.stdout, result.stderr[-3000:]
    assert result.returncode == 0, result.stderr[-3000:]
