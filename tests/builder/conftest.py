"""Fixtures for the desktop-app tests: an offscreen main window with scripted dialogs."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from builder.dialogs import DISCARD  # noqa: E402
from builder.main_window import MainWindow  # noqa: E402
from builder.settings import AppSettings  # noqa: E402


class FakeDialogs:
    """Answers every question from its attributes and records what was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []
        self.open_answer: str | None = None
        self.save_answer: str | None = None
        self.unsaved_answer = DISCARD
        self.restore_answer = True
        self.confirm_answer = True
        self.name_answer: str | None = "Model"

    def open_path(self, folder: str = "") -> str | None:
        self.asked.append(("open", folder))
        return self.open_answer

    def save_path(self, suggestion: str = "", title: str = "", file_filter: str = "") -> str | None:
        self.asked.append(("save", suggestion))
        return self.save_answer

    def unsaved_changes(self, title: str, detail: str = "") -> str:
        self.asked.append(("unsaved", f"{title}: {detail}" if detail else title))
        return self.unsaved_answer

    def confirm(self, title: str, text: str, action: str = "OK") -> bool:
        self.asked.append(("confirm", text))
        return self.confirm_answer

    def error(self, title: str, text: str) -> None:
        self.asked.append(("error", text))

    def info(self, title: str, text: str) -> None:
        self.asked.append(("info", text))

    def restore_recovery(self, description: str) -> bool:
        self.asked.append(("restore", description))
        return self.restore_answer

    def design_name(self, suggestion: str = "Model") -> str | None:
        self.asked.append(("name", suggestion))
        return self.name_answer

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.asked]


@pytest.fixture
def dialogs() -> FakeDialogs:
    return FakeDialogs()


@pytest.fixture
def settings(tmp_path) -> AppSettings:
    return AppSettings(tmp_path / "settings.ini")


@pytest.fixture
def recovery_dir(tmp_path):
    return tmp_path / "recovery"


@pytest.fixture
def make_window(qtbot, settings, dialogs, recovery_dir):
    """Build (and show) main windows sharing the test's settings, dialogs and recovery folder."""

    def make(**kwargs) -> MainWindow:
        window = MainWindow(settings=kwargs.pop("settings", settings),
                            dialogs=kwargs.pop("dialogs", dialogs),
                            recovery_dir=kwargs.pop("recovery_dir", recovery_dir), **kwargs)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        qtbot.waitExposed(window)
        return window

    return make


@pytest.fixture
def window(make_window) -> MainWindow:
    return make_window()


def scene_point(view, pos):
    """The viewport pixel showing scene position ``pos``."""
    return view.mapFromScene(pos)


def mouse_drag(view, start, end, steps: int = 4) -> None:
    """Press at scene position ``start``, move in steps to ``end``, release (left button)."""
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtTest import QTest

    viewport = view.viewport()
    a, b = view.mapFromScene(start), view.mapFromScene(end)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    for i in range(1, steps + 1):
        p = QPointF(a) + (QPointF(b) - QPointF(a)) * (i / steps)
        QTest.mouseMove(viewport, p.toPoint())
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b)


@pytest.fixture
def gui_thread_checks():
    """Assert that every checked handler ran on the GUI thread during the test."""
    from builder.training.guard import enable_thread_checks, violations

    enable_thread_checks(True)
    violations.clear()
    yield
    enable_thread_checks(False)
    assert not violations, f"handlers ran off the GUI thread: {violations}"


@pytest.fixture(scope="module")
def training_process():
    """One training process serves the module's runs; none outlives it."""
    from backend.training.process import shared_server, shutdown_shared_server

    yield
    server = shared_server()
    pid = server.pid
    shutdown_shared_server()
    assert server.pid is None
    assert pid is None or not os.path.exists(f"/proc/{pid}")
