"""Files in the app: save/open, bad files, unsaved prompt, recovery, examples, gallery."""

from __future__ import annotations

import json
import os

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from builder.dialogs import CANCEL, DISCARD, SAVE
from graph import project
from graph.events import Edge
from graph.examples import list_examples, load_example
from graph.recovery import RecoveryStore


def _small(window):
    c = window.controller
    a = c.add_layer("Input", (0, 0), shape=(3,))
    b = c.add_layer("Output", (250, 0))
    c.connect_ports(Edge(a, 0, b, 0))
    return a, b


def test_save_and_open_round_trip(window, dialogs, tmp_path, make_window):
    _small(window)
    target = tmp_path / "design.ncproj.json"
    dialogs.save_answer = str(target)
    assert window.files.save()
    assert target.exists() and window.controller.stack.isClean()
    assert window.windowTitle() == "design — NetCanvas"
    saved = project.to_dict(window.controller.doc)
    window.controller.set_params([window.controller.doc.node_ids()[0]], {"shape": (4,)})
    assert window.windowTitle() == "design* — NetCanvas"
    assert window.files.save()  # to the same file, no question
    assert [k for k in dialogs.kinds() if k == "save"] == ["save"]
    other = make_window()
    assert other.files.open(str(target))
    loaded = project.to_dict(other.controller.doc)
    assert loaded["nodes"][0]["params"]["shape"] == [4]
    assert loaded["edges"] == saved["edges"]
    assert len(other.scene.nodes) == 2 and len(other.scene.edges) == 1
    assert other.settings.recent_files()[0] == str(target.resolve())
    assert other.recent_menu.actions()[0].text() == str(target.resolve())


def test_corrupt_or_hostile_file_opens_nothing_and_names_the_field(window, dialogs, tmp_path):
    _small(window)
    before = project.to_dict(window.controller.doc)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "netcanvas-project", "version": 1, "name": "X",
                               "nodes": [{"id": "n1", "type": "Dense", "name": "d",
                                          "params": {"units": "__import__('os')"},
                                          "pos": [0, 0], "trainable": True}],
                               "edges": []}))
    dialogs.unsaved_answer = DISCARD
    assert not window.files.open(str(bad))
    kind, text = dialogs.asked[-1]
    assert kind == "error" and "units" in text and "nodes[0]" in text
    assert project.to_dict(window.controller.doc) == before
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\x00\xff{not json")
    assert not window.files.open(str(garbage))
    assert dialogs.asked[-1][0] == "error" and "JSON" in dialogs.asked[-1][1]
    assert not window.files.open(str(tmp_path / "missing.json"))
    assert "cannot read" in dialogs.asked[-1][1]
    assert len(window.scene.nodes) == 2


def test_design_with_errors_still_opens_and_shows_them(window, tmp_path):
    path = tmp_path / "incomplete.ncproj.json"
    from graph.sketch import Sketch

    s = Sketch("Loose")
    s.add("Dense", units=3)
    project.save(s.doc, path)
    assert window.files.open(str(path), ask=False)
    report = window.analysis.run_now()
    assert report.problems
    assert window.problems.count() == len(report.problems)
    node_id = window.controller.doc.node_ids()[0]
    assert window.scene.nodes[node_id].badge.isVisible()
    # clicking the error selects the node
    for i in range(window.problems.count()):
        item = window.problems.item(i)
        if node_id in (item.data(Qt.ItemDataRole.UserRole + 2) or []):
            window.problems.itemClicked.emit(item)
            break
    assert window.scene.selected_node_ids() == [node_id]


@pytest.mark.parametrize("answer, closes, saved", [(CANCEL, False, False),
                                                    (DISCARD, True, False),
                                                    (SAVE, True, True)])
def test_unsaved_changes_prompt_on_close(make_window, dialogs, tmp_path, answer, closes, saved):
    window = make_window()
    _small(window)
    dialogs.unsaved_answer = answer
    dialogs.save_answer = str(tmp_path / "kept.ncproj.json")
    assert window.close() is closes
    assert ("unsaved", "Untitled") in dialogs.asked
    assert (tmp_path / "kept.ncproj.json").exists() is saved
    if not closes:
        assert window.isVisible()
        window.controller.stack.setClean()


def test_no_prompt_when_nothing_changed(make_window, dialogs):
    window = make_window()
    assert window.close()
    assert "unsaved" not in dialogs.kinds()


def test_new_and_open_ask_before_dropping_changes(window, dialogs, tmp_path):
    _small(window)
    dialogs.unsaved_answer = CANCEL
    assert not window.files.new()
    assert len(window.controller.doc) == 2
    dialogs.unsaved_answer = DISCARD
    assert window.files.new()
    assert len(window.controller.doc) == 0 and len(window.scene.nodes) == 0
    assert window.controller.stack.count() == 0


def test_crash_recovery_is_offered_at_start(make_window, dialogs, recovery_dir, tmp_path):
    # a "crashed" session: its lock names a process that no longer runs
    dead_pid = 2**22 + 12345
    crashed = RecoveryStore(recovery_dir, pid=dead_pid).acquire()
    doc = load_example("wide_and_deep")
    crashed.write(doc, None)
    window = make_window()
    window.startup()
    assert dialogs.kinds()[0] == "restore"
    assert "WideAndDeep" in dialogs.asked[0][1]
    assert len(window.controller.doc) == len(doc)
    assert window.files.is_modified() and window.windowTitle().startswith("WideAndDeep")
    assert "*" in window.windowTitle()
    assert RecoveryStore(recovery_dir).orphans() == []  # taken over by this session


def test_declined_recovery_is_discarded(make_window, dialogs, recovery_dir):
    crashed = RecoveryStore(recovery_dir, pid=2**22 + 999).acquire()
    crashed.write(load_example("xor_mlp"), "/somewhere/xor.ncproj.json")
    dialogs.restore_answer = False
    window = make_window()
    window.startup()
    assert dialogs.kinds() == ["restore"]
    assert len(window.controller.doc) == 0
    assert RecoveryStore(recovery_dir).orphans() == []


def test_autosave_writes_unsaved_work_and_clears_on_save(window, dialogs, recovery_dir,
                                                          tmp_path):
    autosaver = window.autosaver
    assert autosaver.period.interval() == 60_000 and autosaver.idle.interval() == 30_000
    assert not autosaver.save_now()  # nothing to save
    _small(window)
    assert autosaver.idle.isActive()  # each edit restarts the idle timer
    assert autosaver.save_now()
    assert autosaver.store.recovery_path.exists()
    dialogs.save_answer = str(tmp_path / "done.ncproj.json")
    window.files.save()
    assert not autosaver.store.recovery_path.exists()


def test_a_second_running_instance_is_not_offered_as_a_crash(make_window, dialogs,
                                                             recovery_dir):
    first = make_window()
    _small(first)
    first.autosaver.save_now()
    second = make_window()  # same process id: a live session, never an orphan
    second.startup()
    assert "restore" not in dialogs.kinds()
    assert os.getpid() == first.autosaver.store.pid


def test_every_example_opens_without_errors(window):
    examples = list_examples()
    assert len(examples) >= 5
    for info in examples:
        assert window.open_example(info.name)
        report = window.analysis.run_now()
        assert report.problems == [], (info.name, report.problems)
        assert report.code.startswith(("import", "\"\"\"", "#", "from"))
        assert len(window.scene.nodes) == len(window.controller.doc)
        assert set(window.scene.edges) == set(window.controller.doc.edges())
        assert all(not item.error for item in window.scene.nodes.values())


def test_gallery_opens_on_first_launch_only(make_window, monkeypatch, qtbot):
    monkeypatch.delenv("NETCANVAS_NO_GALLERY", raising=False)
    window = make_window()
    window.startup()  # the gallery is built and opened in the next event-loop turns
    qtbot.waitUntil(lambda: window.gallery is not None and window.gallery.isVisible())
    gallery = window.gallery
    assert "wide_and_deep" in gallery.names()
    gallery.choose("wide_and_deep")
    assert not gallery.isVisible()
    assert window.controller.doc.name == "WideAndDeep"
    second = make_window()
    second.startup()
    qtbot.wait(50)  # its deferred steps have run
    assert second.gallery is None


def test_open_from_command_line_path(make_window, tmp_path):
    path = tmp_path / "cli.ncproj.json"
    project.save(load_example("xor_mlp"), path)
    window = make_window()
    window.startup(str(path))
    assert window.files.path == path.resolve()
    assert len(window.scene.nodes) == len(window.controller.doc) > 0


def test_drop_a_project_file_onto_the_window(window, tmp_path):
    path = tmp_path / "dropped.ncproj.json"
    project.save(load_example("xor_mlp"), path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    viewport = window.view.viewport()
    enter = QDragEnterEvent(QPoint(20, 20), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, drop)
    assert window.files.path == path.resolve()
    assert len(window.controller.doc) > 0


def test_settings_remember_theme_and_layout(make_window, settings):
    window = make_window()
    window.act_themes["dark"].trigger()
    assert settings.theme == "dark" and window.kind == "dark"
    window.history_dock.raise_()
    window.close()
    geometry, state = settings.window_state()
    assert geometry is not None and state is not None
    again = make_window()
    assert again.kind == "dark"
    again.act_themes["light"].trigger()


def test_export_weights_and_refusal_for_an_invalid_design(window, dialogs, tmp_path):
    window.open_example("xor_mlp")
    out = tmp_path / "xor.safetensors"
    dialogs.save_answer = str(out)
    window.act_exports["safetensors"].trigger()
    assert out.exists() and out.stat().st_size > 0
    dialogs.unsaved_answer = DISCARD
    window.files.new()
    window.controller.add_layer("Dense")
    dialogs.save_answer = str(tmp_path / "bad.py")
    assert not window.files.export("py")
    assert dialogs.asked[-1][0] == "error"
    assert not (tmp_path / "bad.py").exists()
