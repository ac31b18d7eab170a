"""Helpers for the tests that train in the app window."""

from __future__ import annotations

#: How long a test run may take to end (the training process may still be starting).
DONE_MS = 60_000


def train_to_end(window, qtbot, example: str | None = None, **overrides):
    """Run the design (an example opened first, discarding the current one) to its end; the
    run's thread is joined when this returns."""
    if example is not None:
        assert window.open_example(example)
    panel = window.training
    panel.run_overrides = overrides
    with qtbot.waitSignal(panel.session.runDone, timeout=DONE_MS):
        assert window.run_training()
    assert not panel.running()
    return panel
