"""Garbage is collected on the GUI thread only while background threads run Python."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest
from PySide6.QtCore import QObject

from builder import gc_policy


@pytest.fixture(autouse=True)
def balanced(qtbot):
    # a previous test's background start of the training process may still be finishing
    qtbot.waitUntil(lambda: gc_policy.holders() == 0 and gc.isenabled(), timeout=30_000)
    yield
    while gc_policy.holders():
        gc_policy.release()
    assert gc.isenabled()


def test_hold_turns_automatic_collection_off_until_the_last_release():
    gc_policy.hold()
    gc_policy.hold()
    assert not gc.isenabled() and gc_policy.holders() == 2
    gc_policy.release()
    assert not gc.isenabled()
    gc_policy.release()
    assert gc.isenabled() and gc_policy.holders() == 0


def test_hold_refuses_other_threads(qapp):
    errors = []

    def call():
        try:
            gc_policy.hold()
        except RuntimeError as exc:
            errors.append(str(exc))

    t = threading.Thread(target=call)
    t.start()
    t.join()
    assert errors and "GUI thread" in errors[0] and gc_policy.holders() == 0


def test_release_from_a_worker_re_enables_on_the_gui_thread(qtbot):
    gc_policy.hold()
    t = threading.Thread(target=gc_policy.release)
    t.start()
    t.join()
    assert gc_policy.holders() == 0
    assert not gc.isenabled()  # not from the worker: the GUI thread's timer does it
    qtbot.waitUntil(gc.isenabled, timeout=5000)


class _Cycle(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.me = self  # a reference cycle through a Qt wrapper


def test_cycles_made_while_held_are_collected_on_the_gui_thread(qtbot):
    gc_policy.hold()
    seen: list[str] = []

    class Marked(_Cycle):
        def __del__(self):
            seen.append(threading.current_thread().name)

    refs = []
    for _ in range(50):
        refs.append(weakref.ref(Marked()))
    # Keep more than the generation-0 threshold of new objects alive, so the next tick collects.
    junk = [[] for _ in range(gc.get_threshold()[0] * 2)]
    qtbot.waitUntil(lambda: all(r() is None for r in refs), timeout=5000)
    del junk
    assert set(seen) == {threading.main_thread().name}
    assert not gc.isenabled()  # still held
    gc_policy.release()
    assert gc.isenabled()


def test_a_training_run_holds_the_collector_until_it_is_joined(window, qtbot):
    assert window.open_example("perceptron_or")
    panel = window.training
    panel.run_overrides = {"epochs": 3}
    during: list[tuple[int, bool]] = []
    panel.session.runStarted.connect(
        lambda _event: during.append((gc_policy.holders(), gc.isenabled())))
    with qtbot.waitSignal(panel.session.runDone, timeout=60_000):
        assert window.run_training()
    assert during and during[0][0] >= 1 and during[0][1] is False
    qtbot.waitUntil(lambda: gc_policy.holders() == 0 and gc.isenabled(), timeout=5000)
    window.training.shutdown()


def test_ticks_collect_young_generations_and_rarely_the_whole_heap(qtbot, monkeypatch):
    gc_policy.hold()
    calls: list[int] = []
    monkeypatch.setattr(gc_policy.gc, "collect", lambda generation=2: calls.append(generation))
    monkeypatch.setattr(gc_policy.gc, "get_count", lambda: (10_000, 0, 10_000))
    monkeypatch.setattr(gc_policy, "FULL_EVERY", 5)
    monkeypatch.setattr(gc_policy, "_young_since_full", 0)
    for _ in range(10):
        gc_policy._tick()
    assert calls == [0, 0, 0, 0, 2, 0, 0, 0, 0, 2]  # never a full one on the threshold alone
    monkeypatch.undo()
    gc_policy.release()
    assert gc.isenabled()


def test_overlapping_warm_ups_give_the_threshold_back():
    """Two windows warm up at once: the young-generation threshold and the switch interval
    come back after the last, not stuck at the values the second one saw when it began."""
    import sys

    from builder import warmup

    before = gc.get_threshold(), sys.getswitchinterval()
    first = warmup._quiet()
    second = warmup._quiet()
    first.__enter__()
    second.__enter__()
    assert gc.get_threshold()[0] == warmup.YOUNG_THRESHOLD_DURING_WARM_UP
    assert sys.getswitchinterval() == warmup.SWITCH_INTERVAL_DURING_WARM_UP_S
    first.__exit__(None, None, None)
    assert gc.get_threshold()[0] == warmup.YOUNG_THRESHOLD_DURING_WARM_UP  # one still runs
    assert sys.getswitchinterval() == warmup.SWITCH_INTERVAL_DURING_WARM_UP_S
    second.__exit__(None, None, None)
    assert (gc.get_threshold(), sys.getswitchinterval()) == before


def test_a_closed_runner_starts_nothing(qtbot):
    """A timer that fires after its window closed must not start a thread nobody joins."""
    from builder.background import BackgroundRunner

    runner = BackgroundRunner("closed")
    assert runner.close()
    assert not runner.start(lambda report, control: None)
    assert gc_policy.holders() == 0
