"""A lock file per run, so that workers sharing a results folder never compute one run twice.

Workers of a grid (local processes, Dask workers, SLURM jobs on a shared file system) may be
handed the same configuration. :func:`run_lock` makes the first one the owner: it creates
``<result>.lock`` with ``O_CREAT | O_EXCL`` (atomic on POSIX and on NFSv3+) and keeps it fresh
with a heartbeat thread; the others wait until the lock is gone and then load what the owner
stored. A lock whose owner died is *stale* and is taken over:

- on the same host, at once, when its process no longer exists;
- on any host, when its heartbeat (the file's modification time) is older than
  ``stale_after_s`` (default :data:`STALE_AFTER_S`, or ``$RRAMPAPER_LOCK_STALE_S``).

A stale lock is moved aside with an atomic rename before the new owner creates its own, so two
waiters that both find it stale cannot both take it over.

Examples
--------
>>> import tempfile, pathlib
>>> target = pathlib.Path(tempfile.mkdtemp()) / "train-0123.nc"
>>> with run_lock(target) as lock:
...     lock_state(target).state
'running'
>>> lock.waited, lock_state(target).state
(False, 'free')
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rrampaper._checks import check_range

#: Seconds without a heartbeat after which another host's lock counts as abandoned.
STALE_AFTER_S = 120.0

#: Seconds between two heartbeats of a held lock (well below :data:`STALE_AFTER_S`).
HEARTBEAT_S = 10.0


def lock_path(target: str | os.PathLike[str]) -> Path:
    """The lock file of ``target``: ``<target>.lock`` next to it."""
    target = Path(target)
    return target.with_name(target.name + ".lock")


def stale_after_s() -> float:
    """:data:`STALE_AFTER_S`, or ``$RRAMPAPER_LOCK_STALE_S`` when set (seconds, > 0)."""
    raw = os.environ.get("RRAMPAPER_LOCK_STALE_S")
    if raw is None:
        return STALE_AFTER_S
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"RRAMPAPER_LOCK_STALE_S={raw!r} must be a number of seconds > 0") from None
    return check_range("RRAMPAPER_LOCK_STALE_S", value, 0.0, 86400.0 * 7, low_open=True, unit="s")


@dataclass(frozen=True)
class LockState:
    """What a lock file says: ``state`` is ``"free"`` (no lock), ``"running"`` (a live owner)
    or ``"stale"`` (its owner is gone); ``owner`` is ``host:pid`` when readable, ``age_s`` the
    seconds since the last heartbeat."""

    state: str
    owner: str = ""
    age_s: float = 0.0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _read_owner(path: Path) -> dict:
    """The owner record of a lock file (an empty dict if it cannot be read: a lock being
    written, or a file that is not ours; its age then decides)."""
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def lock_state(target: str | os.PathLike[str], *, stale_s: float | None = None) -> LockState:
    """The state of ``target``'s lock (:class:`LockState`)."""
    path = lock_path(target)
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return LockState("free")
    age = max(0.0, time.time() - mtime)
    owner = _read_owner(path)
    host, pid = owner.get("host"), owner.get("pid")
    label = f"{host}:{pid}" if host and isinstance(pid, int) else "unknown owner"
    if host == socket.gethostname() and isinstance(pid, int) and not _pid_alive(pid):
        return LockState("stale", label, age)
    limit = stale_after_s() if stale_s is None else stale_s
    return LockState("stale" if age > limit else "running", label, age)


@dataclass
class RunLock:
    """A held lock (see :func:`run_lock`): ``waited`` is ``True`` when another live owner held
    it first, i.e. that owner may have stored the result in the meantime."""

    path: Path
    token: str
    waited: bool = False
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)


def _try_create(path: Path, token: str) -> bool:
    try:
        handle = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(handle, "w") as out:
        json.dump({"host": socket.gethostname(), "pid": os.getpid(), "token": token,
                   "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, out)
    return True


def _heartbeat(lock: RunLock, every_s: float) -> None:
    while not lock._stop.wait(every_s):
        with contextlib.suppress(OSError):
            os.utime(lock.path)


@contextlib.contextmanager
def run_lock(target: str | os.PathLike[str], *, poll_s: float = 0.5,
             heartbeat_s: float = HEARTBEAT_S, stale_s: float | None = None,
             timeout_s: float | None = None) -> Iterator[RunLock]:
    """Hold ``target``'s lock for the ``with`` block; wait while a live owner holds it.

    Parameters
    ----------
    target:
        The file the lock protects (e.g. a run's result file); the lock is ``<target>.lock``.
    poll_s:
        Seconds between two looks at a held lock.
    heartbeat_s:
        Seconds between two refreshes of the lock's modification time while it is held.
    stale_s:
        Heartbeat age (s) after which a lock of another host is abandoned (default
        :func:`stale_after_s`).
    timeout_s:
        Give up waiting after this many seconds with :class:`TimeoutError` (``None``: wait).
    """
    path = lock_path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = RunLock(path, uuid.uuid4().hex)
    start = time.monotonic()
    while not _try_create(path, lock.token):
        seen = lock_state(target, stale_s=stale_s)
        if seen.state == "stale":
            aside = path.with_name(f"{path.name}.stale-{lock.token}")
            with contextlib.suppress(FileNotFoundError):  # another waiter moved it first
                os.rename(path, aside)
                aside.unlink()
            continue
        if seen.state == "running":
            lock.waited = True
        if timeout_s is not None and time.monotonic() - start > timeout_s:
            raise TimeoutError(f"{path} is held by {seen.owner} (heartbeat {seen.age_s:.0f} s "
                               f"ago) for more than timeout_s={timeout_s} s")
        time.sleep(poll_s)
    beat = threading.Thread(target=_heartbeat, args=(lock, heartbeat_s), daemon=True,
                            name=f"lock heartbeat {path.name}")
    beat.start()
    try:
        yield lock
    finally:
        lock._stop.set()
        beat.join(timeout=5.0)
        if _read_owner(path).get("token") == lock.token:  # never remove a lock taken over
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
