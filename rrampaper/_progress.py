"""Progress bars: tqdm in terminals and notebooks, switched off for batch runs.

``rrampaper reproduce`` sets ``RRAMPAPER_PROGRESS=0`` for the notebook kernels it starts, so the
executed notebooks and their HTML pages hold results, not hundreds of progress-bar lines. Set it
yourself to silence the bars anywhere (``0``, ``false``, ``no`` or ``off``).

>>> import os
>>> saved = os.environ.pop("RRAMPAPER_PROGRESS", None)
>>> progress_enabled(True), progress_enabled(False)
(True, False)
>>> os.environ["RRAMPAPER_PROGRESS"] = "off"
>>> progress_enabled(True)
False
>>> _ = os.environ.pop("RRAMPAPER_PROGRESS") if saved is None else os.environ.update(RRAMPAPER_PROGRESS=saved)

The bars stay off there, but ``rrampaper reproduce`` still shows how far a notebook is: it sets
``RRAMPAPER_PROGRESS_FILE`` for the kernel, and :func:`report` (called e.g. by
:func:`rrampaper.experiments.study.train_grid` after each run) appends one line per event to that file,
which the command turns into its status line. Without the variable :func:`report` does nothing.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterable
from typing import Any

#: Environment variable that switches every progress bar of the package off.
PROGRESS_ENV = "RRAMPAPER_PROGRESS"
_OFF = ("0", "false", "no", "off")
#: Environment variable naming the file :func:`report` appends progress events to.
PROGRESS_FILE_ENV = "RRAMPAPER_PROGRESS_FILE"
_report_failed = False


def import_tqdm_auto_quietly() -> None:
    """Import ``tqdm.auto`` once with its "IProgress not found" warning silenced.

    pooch imports ``tqdm.auto`` at import time, which warns inside a notebook kernel without
    ipywidgets; the text bars tqdm falls back to are fine (``make lab`` installs ipywidgets for
    widget bars). Called when ``rrampaper`` is imported, before anything imports pooch.
    """
    with warnings.catch_warnings():
        from tqdm import TqdmWarning  # deferred on purpose: imported inside the warning filter

        warnings.simplefilter("ignore", TqdmWarning)
        import tqdm.auto  # noqa: F401


def progress_enabled(requested: bool = True) -> bool:
    """``requested``, unless ``$RRAMPAPER_PROGRESS`` switches progress bars off."""
    return bool(requested) and os.environ.get(PROGRESS_ENV, "1").strip().lower() not in _OFF


def progress_bar(iterable: Iterable | None = None, *, enabled: bool = True, **kwargs: Any):
    """A ``tqdm`` bar (a notebook widget where ipywidgets is installed, else text) or, when
    disabled, a silent ``tqdm`` object with the same methods (``set_postfix``, ``close``)."""
    if not progress_enabled(enabled):
        from tqdm.std import tqdm  # deferred on purpose: imported inside the warning filter

        return tqdm(iterable, disable=True, **kwargs)
    with warnings.catch_warnings():
        # without ipywidgets tqdm.auto falls back to text bars and warns; the text bars are fine
        from tqdm import TqdmWarning  # deferred on purpose: imported inside the warning filter

        warnings.simplefilter("ignore", TqdmWarning)
        from tqdm.auto import tqdm  # deferred on purpose: imported inside the warning filter
    return tqdm(iterable, **kwargs)


def report(event: str, done: int, total: int) -> None:
    """Tell a watching ``rrampaper reproduce`` that ``done`` of ``total`` ``event`` are finished.

    Appends one JSON line ``{"event": ..., "done": ..., "total": ...}`` to
    ``$RRAMPAPER_PROGRESS_FILE``; does nothing when the variable is unset. A file that cannot be
    written warns once and is then ignored: showing progress must never stop a computation.

    >>> report("runs", 1, 4)   # no $RRAMPAPER_PROGRESS_FILE here: nothing happens
    """
    global _report_failed
    path = os.environ.get(PROGRESS_FILE_ENV)
    if not path or _report_failed:
        return
    line = json.dumps({"event": str(event), "done": int(done), "total": int(total)}) + "\n"
    try:
        with open(path, "a", encoding="utf-8") as file:   # one short append: whole lines only
            file.write(line)
    except OSError as error:
        _report_failed = True
        warnings.warn(f"progress events are not shown: cannot append to {PROGRESS_FILE_ENV}={path} "
                      f"({error})", RuntimeWarning, stacklevel=2)
