"""Pause, resume and stop a training run from any thread; the run checks it every batch."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Control:
    """Thread-safe run control. The per-batch check (`should_continue`) is one attribute read
    while running; pausing blocks the training thread on a condition, not a sleep loop."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._paused = False
        self._stopped = False
        self._active = False  # paused or stopped: the only flag the hot path reads

    def pause(self) -> None:
        with self._cond:
            self._paused = True
            self._active = True

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._active = self._stopped
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._active = True
            self._cond.notify_all()

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def stopped(self) -> bool:
        return self._stopped

    def should_continue(self, on_pause: Callable[[], None] | None = None,
                        on_resume: Callable[[], None] | None = None) -> bool:
        """False when stopped. While paused, calls ``on_pause``, blocks until resumed or
        stopped, then calls ``on_resume`` (callbacks run outside the lock)."""
        if not self._active:
            return True
        if self._paused and not self._stopped:
            if on_pause is not None:
                on_pause()
            with self._cond:
                while self._paused and not self._stopped:
                    self._cond.wait()
            if not self._stopped and on_resume is not None:
                on_resume()
        return not self._stopped
