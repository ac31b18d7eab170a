"""The training process: events arrive, pause/resume/stop, a crash is reported, the child is
reused across runs and shutdown leaves no process behind. One server (one child start) serves
the module; the crash and shutdown tests start a new child on purpose."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import pytest
import torch

from backend.training.process import RemoteControl, TrainingServer, restore_trainer
from graph.examples import load_example
from graph.project import to_dict

LONG = {"epochs": 100_000, "batch_size": 1, "report_seconds": 0.0, "report_every": 1}


def _children() -> list:
    return [p for p in multiprocessing.active_children() if p.name == "netcanvas-training"]


def _gone(pid: int) -> bool:
    return not os.path.exists(f"/proc/{pid}")


@pytest.fixture(scope="module")
def server():
    srv = TrainingServer()
    srv.wait_ready()
    yield srv
    srv.shutdown()
    assert srv.pid is None and not _children()


@pytest.fixture(scope="module")
def xor():
    return load_example("xor_mlp")


def _until(handle, kind: str, timeout: float = 30.0):
    """Events up to and including the first of ``kind`` (fails after ``timeout``)."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ev = handle.next_event(max(0.0, deadline - time.monotonic()))
        if ev is None:
            continue
        seen.append(ev)
        if type(ev).__name__ == kind:
            return seen
        assert not handle.done, f"the run ended before {kind}: {ev}"
    raise AssertionError(f"no {kind} within {timeout} s; saw {[type(e).__name__ for e in seen]}")


def test_events_arrive_with_weights_and_data(server, xor):
    handle = server.start_run(to_dict(xor), None, {"epochs": 5})
    events = list(handle.events())
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "Started" and kinds[-1] == "Finished"
    assert kinds.count("EpochEnd") == 5 and "BatchEnd" in kinds
    end = handle.end
    assert end.result.reason == "completed" and len(end.result.history) == 5
    assert end.state and all(t.device.type == "cpu" for t in end.state.values())
    assert end.prepared is not None and len(end.prepared.train) > 0  # the child loaded them
    trainer = restore_trainer(xor, end, config={"epochs": 5})
    assert trainer.history == end.result.history
    for key, value in trainer.module.state_dict().items():
        assert (value == end.state[key]).all()
    assert handle.next_event(0.01) is None  # nothing after the end


def test_initial_weights_travel_to_the_child(server, xor):
    first = server.start_run(to_dict(xor), None, {"epochs": 2})
    list(first.events())
    start = first.end.state
    # lr 0: the second run ends exactly where it started — the weights it was given.
    handle = server.start_run(to_dict(xor), None, {"epochs": 1, "lr": 0.0},
                              initial_weights=start)
    events = list(handle.events())
    assert any("current weights" in n for n in events[0].notes)
    for key, value in handle.end.state.items():
        assert torch.equal(value, start[key]), key


def test_given_data_travel_as_shared_tensors(server, xor):
    from backend.training.trainer import Trainer

    local = Trainer(xor, config={"epochs": 3})
    local.prepare()
    handle = server.start_run(to_dict(xor), local.prepared, {"epochs": 3})
    events = list(handle.events())
    started = events[0]
    assert started.train_samples == len(local.prepared.train)
    assert handle.end.result.reason == "completed" and handle.end.prepared is None


def test_child_is_reused_across_runs(server, xor):
    pid, starts = server.pid, server.starts
    for _ in range(3):
        handle = server.start_run(to_dict(xor), None, {"epochs": 1})
        list(handle.events())
        assert handle.end.result.reason == "completed"
    assert server.pid == pid and server.starts == starts


def test_stop_mid_run_within_two_seconds(server, xor):
    handle = server.start_run(to_dict(xor), None, LONG)
    _until(handle, "BatchEnd")
    t0 = time.perf_counter()
    handle.stop()
    events = list(handle.events())
    assert time.perf_counter() - t0 < 2.0
    assert type(events[-1]).__name__ == "Finished" and events[-1].reason == "stopped"
    assert handle.end.state is not None  # the weights so far are kept


def test_pause_blocks_batches_until_resume(server, xor):
    handle = server.start_run(to_dict(xor), None, LONG)
    _until(handle, "BatchEnd")
    handle.pause()
    paused = _until(handle, "Paused")[-1]
    assert handle.next_event(0.3) is None  # paused: no batch arrives
    handle.resume()
    assert _until(handle, "Resumed")[-1].step == paused.step
    batch = _until(handle, "BatchEnd")[-1]
    assert batch.step > paused.step
    handle.stop()
    assert list(handle.events())[-1].reason == "stopped"


def test_stop_pressed_before_the_handle_exists_is_not_lost(server, xor):
    control = RemoteControl()
    control.stop()
    handle = server.start_run(to_dict(xor), None, LONG)
    control.attach(handle)
    events = list(handle.events())
    assert events[-1].reason == "stopped"  # a few quick steps may run before the Stop lands


def test_bad_settings_fail_the_run_not_the_process(server, xor):
    pid = server.pid
    handle = server.start_run(to_dict(xor), None, {"epochs": 1, "optimizer": "nonsense"})
    result = list(handle.events())[-1]
    assert type(result).__name__ == "Failed" and "nonsense" in result.message
    assert handle.end.state is None
    handle = server.start_run(to_dict(xor), None, {"epochs": 1})
    assert list(handle.events())[-1].reason == "completed" and server.pid == pid


def test_one_run_at_a_time(server, xor):
    handle = server.start_run(to_dict(xor), None, LONG)
    with pytest.raises(RuntimeError, match="already in progress"):
        server.start_run(to_dict(xor), None, LONG)
    handle.close()
    assert handle.done and handle.end.result.reason == "stopped"


def test_child_crash_is_reported_and_the_next_run_restarts_it(server, xor):
    starts = server.starts
    handle = server.start_run(to_dict(xor), None, LONG)
    _until(handle, "BatchEnd")
    pid = server.pid
    os.kill(pid, signal.SIGKILL)  # what the out-of-memory killer does
    result = list(handle.events())[-1]
    assert type(result).__name__ == "Failed"
    assert "ended unexpectedly (exit code -9" in result.message
    assert "out of memory" in result.message
    assert server.pid is None and _gone(pid)
    handle = server.start_run(to_dict(xor), None, {"epochs": 1})
    assert list(handle.events())[-1].reason == "completed"
    assert server.starts == starts + 1 and server.pid not in (None, pid)


def test_shutdown_during_a_run_leaves_no_process(server, xor):
    handle = server.start_run(to_dict(xor), None, LONG)
    _until(handle, "BatchEnd")
    pid = server.pid
    server.shutdown()
    assert server.pid is None and _gone(pid) and not _children()
    assert handle.done and type(handle.end.result).__name__ == "Failed"
    server.shutdown()  # twice is fine
    handle = server.start_run(to_dict(xor), None, {"epochs": 1})  # and it comes back
    assert list(handle.events())[-1].reason == "completed"
