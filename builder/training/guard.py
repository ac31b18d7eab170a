"""A check that GUI handlers run on the GUI thread (enabled in tests, free otherwise).

Worker signals must reach the GUI only through `@Slot` methods of GUI-thread QObjects; a slot
that ran in the worker thread would touch widgets from the wrong thread. `gui_only` records and
raises such a violation when checks are on (``NETCANVAS_CHECK_THREADS=1`` or
`enable_thread_checks`).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QCoreApplication, QThread

F = TypeVar("F", bound=Callable[..., Any])

_state = {"enabled": os.environ.get("NETCANVAS_CHECK_THREADS") == "1"}
#: Names of handlers that ran off the GUI thread while checks were on.
violations: list[str] = []


def enable_thread_checks(on: bool = True) -> None:
    """Turn the GUI-thread assertion of `gui_only` handlers on or off."""
    _state["enabled"] = on


def thread_checks_enabled() -> bool:
    return _state["enabled"]


def on_gui_thread() -> bool:
    """True in the thread that owns the QApplication (or when there is none yet)."""
    app = QCoreApplication.instance()
    return app is None or QThread.currentThread() is app.thread()


def assert_gui_thread(where: str) -> None:
    """Raise (and record) when called off the GUI thread while checks are on."""
    if _state["enabled"] and not on_gui_thread():
        violations.append(where)
        raise AssertionError(f"{where} ran off the GUI thread")


def gui_only(fn: F) -> F:
    """Decorate a GUI handler so it asserts it runs on the GUI thread (when checks are on)."""
    name = fn.__qualname__

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _state["enabled"]:
            assert_gui_thread(name)
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
