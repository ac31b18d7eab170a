"""Nothing blocks the GUI thread for more than 100 ms: at launch (torch's first import, the first
analysis, the training panel), opening the first example, an ONNX export, and the first
Evaluation (its view built, the model built from the weights and evaluated).

The phases run in a fresh interpreter (`tests.builder.freeze_probe`), so torch is imported for
the first time there, as at a real launch, and a 2 ms GUI-thread timer records every gap. The
probe says what it leaves out and why (the interpreter's start and the first paint). To watch a
new phase, add it to `freeze_probe.PHASES`: this test checks every phase the probe runs.

What is checked is each gap's time on the CPU in this process (`max_own_ms`): the app's own
blocking (its GUI thread busy, or one of its threads holding the GIL) is on a CPU throughout,
while on a 2-core machine shared with other busy processes the scheduler may keep the GUI
thread waiting for a core however little the app does (measured: a 40 ms construction became a
150–200 ms gap at a load average of 4–5). The wall-clock gaps are printed with the load, and
must stay under twice the limit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

#: The longest the GUI thread may be blocked (the issue's criterion).
LIMIT_MS = 100.0
ROOT = Path(__file__).resolve().parents[2]


def _run_probe() -> list[dict]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    env.pop("NETCANVAS_NO_GALLERY", None)  # a first launch shows the gallery
    out = subprocess.run([sys.executable, "-m", "tests.builder.freeze_probe"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=600)
    phases = [json.loads(line[len("PHASE "):]) for line in out.stdout.splitlines()
              if line.startswith("PHASE ")]
    assert out.returncode == 0 and phases, out.stderr[-3000:]
    return phases


@pytest.mark.slow
def test_no_gap_over_100_ms_at_launch_first_example_onnx_export_and_first_evaluation():
    pytest.importorskip("onnx")
    phases = _run_probe()
    from tests.builder.freeze_probe import PHASES

    assert [p["phase"] for p in phases] == list(PHASES)
    report = "\n".join(f"{p['phase']}: max {p['max_ms']} ms (on the CPU {p['max_own_ms']} ms), "
                       f"p99 {p['p99_ms']} ms over {p['seconds']} s, load {p['load']}; longest "
                       f"gaps (ms, at ms) {p['worst']}" for p in phases)
    print(report)
    for phase in phases:
        assert not phase["timeout"], report
        assert not phase["errors"], (phase["phase"], phase["errors"])
        assert phase["ticks"] > 20, report  # the timer ran
        assert phase["max_own_ms"] <= LIMIT_MS, report
        assert phase["max_ms"] <= 2 * LIMIT_MS, report
