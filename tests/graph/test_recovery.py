import multiprocessing
import sys

import pytest

from graph import ProjectFormatError
from graph.examples import load_example
from graph.project import dumps
from graph.recovery import RecoveryStore


def _crash(folder, queue):
    store = RecoveryStore(folder).acquire()
    store.write(load_example("wide_and_deep"), "/home/user/wd.json")
    queue.put(store.pid)
    # exits without release(): what a crash leaves behind


@pytest.mark.skipif(sys.platform == "win32", reason="uses fork")
def test_crashed_session_is_offered_and_running_one_is_not(tmp_path):
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_crash, args=(tmp_path, queue))
    child.start()
    child.join()
    crashed_pid = queue.get(timeout=10)
    running = RecoveryStore(tmp_path, pid=1).acquire()  # pid 1 always runs: a second instance
    running.write(load_example("xor_mlp"))
    me = RecoveryStore(tmp_path).acquire()
    orphans = me.orphans()
    assert [e.pid for e in orphans] == [crashed_pid]
    entry = orphans[0]
    assert entry.source == "/home/user/wd.json" and entry.title == "WideAndDeep"
    assert dumps(me.load(entry)) == dumps(load_example("wide_and_deep"))
    me.discard(entry)
    assert me.orphans() == []


def test_clean_exit_leaves_nothing(tmp_path):
    store = RecoveryStore(tmp_path).acquire()
    store.write(load_example("xor_mlp"))
    assert store.recovery_path.exists()
    store.release()
    assert list(tmp_path.iterdir()) == []


def test_unreadable_autosave_raises_format_error(tmp_path):
    (tmp_path / "recovery-999999.json").write_text("{broken")
    store = RecoveryStore(tmp_path)
    [entry] = store.orphans()
    with pytest.raises(ProjectFormatError):
        store.load(entry)


def test_a_crashed_sessions_staged_runs_come_with_its_autosave(tmp_path):
    dead = 2**22 + 4321
    crashed = RecoveryStore(tmp_path, pid=dead).acquire()
    crashed.write(load_example("xor_mlp"), None, {"runs": str(crashed.runs_path)})
    (crashed.runs_path / "20250101-000000-abcd").mkdir(parents=True)
    me = RecoveryStore(tmp_path).acquire()
    [entry] = me.orphans()
    assert entry.runs == crashed.runs_path and entry.trained == {"runs": str(crashed.runs_path)}
    me.discard(entry, keep_runs=True)
    assert crashed.runs_path.is_dir() and not entry.path.exists()
    [alone] = me.orphans()  # runs without an autosave are offered on their own
    assert alone.path == alone.runs == crashed.runs_path and alone.title == "Training runs"
    me.discard(alone)
    assert not crashed.runs_path.exists() and me.orphans() == []


def test_an_empty_staging_folder_of_a_dead_session_is_removed(tmp_path):
    (tmp_path / f"runs-{2**22 + 99}").mkdir()
    me = RecoveryStore(tmp_path).acquire()
    assert me.orphans() == [] and not (tmp_path / f"runs-{2**22 + 99}").exists()
    me.runs_path.mkdir()
    me.release()
    assert list(tmp_path.iterdir()) == []
