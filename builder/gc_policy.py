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

_lock = threading.Lock()
_holders = 0
_timer: QTimer | None = None
_disabled_here = False  # automatic collection is off because of us (not someone else's choice)


def _on_gui_thread() -> bool:
    app = QCoreApplication.instance()
    return app is None or QThread.currentThread() is app.thread()


def holders() -> int:
    """How many background threads hold the collector on the GUI thread now."""
    return _holders


def hold() -> None:
    """A background thread is about to run Python: collect only on the GUI thread from now on.

    Call it on the GUI thread. The garbage made so far is collected here first."""
    global _holders, _disabled_here, _timer
    if not _on_gui_thread():
        raise RuntimeError("gc_policy.hold() must be called on the GUI thread")
    with _lock:
        _holders += 1
        first = _holders == 1
    if first and gc.isenabled():
        gc.collect()
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
    """On the GUI thread: collect the generations past their thresholds (as the automatic
    collector would), and turn automatic collection back on once no holder is left."""
    global _disabled_here
    if not _disabled_here:
        if _timer is not None:
            _timer.stop()
        return
    t0, t1, t2 = gc.get_threshold()
    c0, c1, c2 = gc.get_count()
    if c0 > t0:
        gc.collect(2 if c2 > t2 else 1 if c1 > t1 else 0)
    with _lock:
        idle = _holders == 0
    if idle:
        _disabled_here = False
        gc.enable()
        if _timer is not None:
            _timer.stop()
