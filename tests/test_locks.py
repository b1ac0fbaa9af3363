"""The run lock: one owner at a time, waiters load, abandoned locks are taken over."""

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from rrampaper._locks import lock_path, lock_state, run_lock, stale_after_s


def test_a_waiter_waits_for_the_owner_and_knows_it_waited(tmp_path):
    target = tmp_path / "train-1.nc"
    order = []
    owner_has_it = threading.Event()

    def owner():
        with run_lock(target, poll_s=0.01):
            owner_has_it.set()
            time.sleep(0.3)
            order.append("owner done")

    thread = threading.Thread(target=owner)
    thread.start()
    owner_has_it.wait(5)
    assert lock_state(target).state == "running"
    with run_lock(target, poll_s=0.01) as lock:
        order.append("waiter in")
    thread.join()
    assert order == ["owner done", "waiter in"] and lock.waited
    assert not lock_path(target).exists()


def test_a_lock_of_a_dead_process_is_taken_over_at_once(tmp_path):
    target = tmp_path / "train-2.nc"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock_path(target).write_text(json.dumps({"host": socket.gethostname(), "pid": dead.pid,
                                             "token": "x"}))
    assert lock_state(target).state == "stale"
    start = time.monotonic()
    with run_lock(target, poll_s=0.01) as lock:
        assert json.loads(lock_path(target).read_text())["pid"] == os.getpid()
    assert time.monotonic() - start < 2.0 and not lock.waited


def test_a_silent_lock_of_another_host_is_stale_after_the_timeout(tmp_path, monkeypatch):
    target = tmp_path / "train-3.nc"
    lock_path(target).write_text(json.dumps({"host": "elsewhere", "pid": 1, "token": "x"}))
    assert lock_state(target).state == "running"  # fresh heartbeat: alive as far as we know
    old = time.time() - 1000
    os.utime(lock_path(target), (old, old))
    assert lock_state(target).state == "stale" and lock_state(target).owner == "elsewhere:1"
    monkeypatch.setenv("RRAMPAPER_LOCK_STALE_S", "5000")
    assert stale_after_s() == 5000 and lock_state(target).state == "running"
    monkeypatch.setenv("RRAMPAPER_LOCK_STALE_S", "soon")
    with pytest.raises(ValueError, match="RRAMPAPER_LOCK_STALE_S='soon' must be a number"):
        stale_after_s()


def test_the_heartbeat_keeps_a_long_hold_fresh_and_timeout_names_the_owner(tmp_path):
    target = tmp_path / "train-4.nc"
    with run_lock(target, heartbeat_s=0.05):
        old = time.time() - 1000
        os.utime(lock_path(target), (old, old))
        time.sleep(0.3)
        assert lock_state(target, stale_s=10).state == "running"  # refreshed since
        with (pytest.raises(TimeoutError, match=rf"held by {socket.gethostname()}:{os.getpid()}"),
              run_lock(target, poll_s=0.01, timeout_s=0.1)):
            pass
