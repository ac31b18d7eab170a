"""While a background thread runs Python, the cyclic garbage collector runs on the GUI thread only.

Python's collector runs in whichever thread happens to allocate past its threshold, and it frees
every unreachable cycle, whoever made it. When that thread is a worker (training, a search, an
import) and the garbage holds Python wrappers of Qt objects (a window closed a moment ago, its
plot items and timers), their C++ destructors run off the GUI thread, concurrently with it. Qt
does not allow that, and the process crashes (SIGSEGV, seen in the test suite while a worker
compiled a model). pyqtgraph's `GarbageCollector` solves the same problem by turning automatic
collection off for the whole life of the app; here it is off only while some background thread
is running, and a GUI-thread timer collects meanwhile with Python's own thresholds.

`hold()` (GUI thread, before a thread starts) and `release()` (any thread, once it has ended)
are counted. Automatic collection comes back on the GUI thread when the last holder releases.
"""

from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QCoreApplication, QThread, QTimer

#: How often the GUI thread collects (by Python's thresholds) while automatic collection is off.
INTERVAL_MS = 200
#: During one long hold, a full collection after this many young ones (at most one every
#: FULL_EVERY × INTERVAL_MS: 10 minutes).
FULL_EVERY = 3000

_lock = threading.Lock()
_holders = 0
_timer: QTimer | None = None
_disabled_here = False  # automatic collection is off because of us (not someone else's choice)
_young_since_full = 0


def _on_gui_thread() -> bool:
    app = QCoreApplication.instance()
    return app is None or QThread.currentThread() is app.thread()


def holders() -> int:
    """How many background threads hold the collector on the GUI thread now."""
    return _holders


def hold() -> None:
    """A background thread is about to run Python: collect only on the GUI thread from now on.

    Call it on the GUI thread. It does not collect now: a full collection of the app's heap
    takes hundreds of milliseconds (measured: a 440 ms freeze at the press of Run); the timer
    collects generation by generation, as the automatic collector would."""
    global _holders, _disabled_here, _timer
    if not _on_gui_thread():
        raise RuntimeError("gc_policy.hold() must be called on the GUI thread")
    with _lock:
        _holders += 1
        first = _holders == 1
    if first and gc.isenabled():
        gc.disable()
        _disabled_here = True
    if _disabled_here and QCoreApplication.instance() is not None:
        if _timer is None:
            _timer = QTimer()
            _timer.setObjectName("netcanvas-gc")
            _timer.setInterval(INTERVAL_MS)
            _timer.timeout.connect(_tick)
        if not _timer.isActive():
            _timer.start()


def release() -> None:
    """A background thread has ended (any thread may call this). On the GUI thread automatic
    collection comes back at once when no holder is left; elsewhere at the timer's next tick."""
    global _holders
    with _lock:
        _holders = max(0, _holders - 1)
    if _on_gui_thread():
        _tick()


def _tick() -> None:
    """On the GUI thread: collect the young generations past their thresholds, and turn automatic collection back on once no holder is left."""
    global _disabled_here, _young_since_full
    if not _disabled_here:
        if _timer is not None:
            _timer.stop()
        return
    t0, t1, _t2 = gc.get_threshold()
    c0, c1, _c2 = gc.get_count()
    if c0 > t0:
        # Young generations only: they hold the short-lived cycles and take a millisecond or
        # two. A full collection walks the whole heap (about 50 ms for this app with torch
        # loaded, more with a big design), which would freeze the GUI; the automatic collector
        # runs one only when the old generation has grown by a quarter, so here it waits for
        # the release, or for FULL_EVERY young collections in a very long hold.
        _young_since_full += 1
        if _young_since_full >= FULL_EVERY:
            _young_since_full = 0
            gc.collect(2)
        else:
            gc.collect(1 if c1 > t1 else 0)
    with _lock:
        idle = _holders == 0
    if idle:
        _disabled_here = False
        gc.enable()
        if _timer is not None:
            _timer.stop()
