"""Atomic file writes (a killed run never leaves a half-written file behind) and an up-front check
that a folder can be written (so an unwritable place fails before any work starts)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from rrampaper.errors import UnwritableError


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it onto ``target`` on success.

    The temporary file lives in the same folder, so the final :func:`os.replace` is atomic on
    POSIX and Windows. On any exception the temporary file is removed and ``target`` is left as
    it was.

    Examples
    --------
    >>> with atomic_path("out.txt") as tmp:          # doctest: +SKIP
    ...     tmp.write_text("done")
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(handle)
    tmp = Path(name)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o666 & ~umask)  # mkstemp creates 0600; give the file the usual permissions
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def ensure_writable(folder: str | os.PathLike[str], what: str = "output") -> Path:
    """Create ``folder`` if needed and check that a file can be written in it; return its path.

    Call it before a long computation that will write to ``folder`` so that a read-only or
    impossible place is reported at once, not after hours of work. The check really creates
    (and removes) a temporary file, so it also catches a full or read-only file system, which
    permission bits alone would not show (and root ignores them).

    Parameters
    ----------
    folder:
        The folder the work will write to.
    what:
        What it holds, for the message (e.g. ``"results folder"``, ``"figures folder"``).

    Raises
    ------
    rrampaper.errors.UnwritableError
        The folder cannot be created or written; the message names it and the reason.

    Examples
    --------
    >>> ensure_writable("/tmp/rrampaper-doc", "results folder")      # doctest: +SKIP
    PosixPath('/tmp/rrampaper-doc')
    """
    path = Path(folder).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=".write-probe.", dir=path)
        os.close(handle)
        os.unlink(name)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise UnwritableError(
            f"the {what} {path} cannot be written ({reason}); choose a writable folder "
            f"(or make this one writable) and run again"
        ) from None
    return path
