"""Slow exports (ONNX, TorchScript) written by a child process: ``netcanvas export`` on a copy of
the design, so the exporter's work never holds the GUI's interpreter lock.

Measured with the exporters in a thread of the app: the first ONNX export stalled the GUI thread
for 1.6–2.3 s (``import onnx`` loads its C++ extension holding the GIL: 0.84 s; the first
``torch.export`` trace holds it for up to 0.46 s at a time). In a child process the GUI thread
only waits for a pipe. The child is the command-line exporter, so the file is the one
``netcanvas export`` writes; its error message is shown as the in-process export shows it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from graph import project
from graph.document import Document

#: Longer than any export takes; a child still running then is stopped.
TIMEOUT_S = 900.0


def _environment() -> dict[str, str]:
    """This process's environment, with the folder our packages come from first on the path
    (the child runs the same code, installed or from a source tree)."""
    import backend

    root = str(Path(backend.__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    # all cores but one for the exporter's threads, so the GUI thread keeps one
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 2) - 1)))
    return env


def _lower_priority(pid: int) -> None:
    """Let the window win the CPU over the exporter (it only waits for the file)."""
    try:
        os.setpriority(os.PRIO_PROCESS, pid, 10)
    except (AttributeError, OSError):
        pass  # not on this platform, or already gone


def _reason(stderr: str) -> tuple[str, bool]:
    """The child's message (its ``error:`` line, else its last line) and whether it is about
    the design (a GraphError the exporter raised)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].startswith("error: "):
            return " ".join([lines[i][len("error: "):], *lines[i + 1:]]), True
    return (lines[-1] if lines else "the exporter stopped without saying why"), False


def export_in_child(doc: Document, fmt: str, path: str | Path,
                    weights_path: str | None = None, control: Any = None
                    ) -> tuple[str, str] | None:
    """Write ``doc`` as ``fmt`` with the command-line exporter in a child process; returns
    None, or the (title, text) of the error to show (as `builder.files.write_export`)."""
    with tempfile.TemporaryDirectory(prefix="netcanvas-export-") as folder:
        design = Path(folder) / "design.ncproj.json"
        project.save(doc, design)
        command = [sys.executable, "-m", "backend.cli.main", "export", str(design),
                   "--format", fmt, "-o", str(path)]
        if weights_path:
            command += ["--weights", str(weights_path)]
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, env=_environment())
        _lower_priority(child.pid)
        waited = 0.0
        while True:
            try:
                _out, err = child.communicate(timeout=0.25)
                break
            except subprocess.TimeoutExpired:
                waited += 0.25
                if (control is not None and control.stopped) or waited > TIMEOUT_S:
                    child.kill()
                    child.communicate()
                    return "Cannot export", f"{path} was not written: the export was stopped."
    if child.returncode == 0:
        return None
    reason, about_design = _reason(err)
    if about_design:
        return "Cannot export", f"Fix the design first: {reason}"
    return "Cannot export", f"{path} was not written: {reason}"
