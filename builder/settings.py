"""Persistent preferences (QSettings): geometry, dock layout, theme, recent files, first launch."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 8


class AppSettings:
    """Typed access to the app's QSettings; ``path`` gives an INI file (tests use a temp one)."""

    def __init__(self, path: str | Path | None = None) -> None:
        if path is None:
            self.qs = QSettings("NetCanvas", "NetCanvas")
        else:
            self.qs = QSettings(str(path), QSettings.Format.IniFormat)

    def _get(self, key: str, default):
        value = self.qs.value(key, default)
        return default if value is None else value

    @property
    def theme(self) -> str:
        value = str(self._get("theme", "system"))
        return value if value in ("system", "light", "dark") else "system"

    @theme.setter
    def theme(self, value: str) -> None:
        self.qs.setValue("theme", value)

    @property
    def first_launch(self) -> bool:
        return str(self._get("gallery_shown", "false")).lower() != "true"

    def mark_launched(self) -> None:
        self.qs.setValue("gallery_shown", "true")

    @property
    def show_params(self) -> bool:
        return str(self._get("show_params", "false")).lower() == "true"

    @show_params.setter
    def show_params(self, value: bool) -> None:
        self.qs.setValue("show_params", "true" if value else "false")

    @property
    def snap_to_grid(self) -> bool:
        return str(self._get("snap_to_grid", "true")).lower() == "true"

    @snap_to_grid.setter
    def snap_to_grid(self, value: bool) -> None:
        self.qs.setValue("snap_to_grid", "true" if value else "false")

    @property
    def layout_direction(self) -> str:
        """How the canvas lays a design out: "LR" (left to right) or "TB" (top to bottom)."""
        value = str(self._get("layout_direction", "LR"))
        return value if value in ("LR", "TB") else "LR"

    @layout_direction.setter
    def layout_direction(self, value: str) -> None:
        self.qs.setValue("layout_direction", value)

    def recent_files(self) -> list[str]:
        value = self._get("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in value if v][:MAX_RECENT]

    def add_recent(self, path: str) -> list[str]:
        path = str(Path(path).resolve())
        files = [path] + [p for p in self.recent_files() if p != path]
        self.qs.setValue("recent_files", files[:MAX_RECENT])
        return files[:MAX_RECENT]

    def clear_recent(self) -> None:
        self.qs.setValue("recent_files", [])

    def last_folder(self) -> str:
        return str(self._get("last_folder", ""))

    def set_last_folder(self, folder: str) -> None:
        self.qs.setValue("last_folder", folder)

    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        geometry, state = self.qs.value("geometry"), self.qs.value("window_state")
        return (geometry if isinstance(geometry, QByteArray) else None,
                state if isinstance(state, QByteArray) else None)

    def save_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self.qs.setValue("geometry", geometry)
        self.qs.setValue("window_state", state)

    def sync(self) -> None:
        self.qs.sync()
