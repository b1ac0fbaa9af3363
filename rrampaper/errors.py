"""The package's own error types: what the ``rrampaper`` command prints without a traceback.

Every error a user can cause or fix (a bad parameter, a missing or corrupt file, an unwritable
folder, a diverged run) is one of these. Each message is written for the person who reads it:
it names the parameter or the file, what is wrong with it and what to do. The command line
catches :class:`RrampaperError` (and the standard types the classes below also derive from) and
prints the message on one line; ``rrampaper --debug ...`` shows the traceback instead.

The classes also derive from the built-in exception a caller would expect (``ValueError`` for a
bad parameter, ``FileNotFoundError`` for a missing dataset, ...), so ``except ValueError``
written against earlier versions keeps working.

Examples
--------
>>> from rrampaper.errors import ParameterError, RrampaperError
>>> error = ParameterError("lr=nan is not a finite number in (0, 10]")
>>> isinstance(error, RrampaperError), isinstance(error, ValueError)
(True, True)
"""

from __future__ import annotations

from pathlib import Path


class RrampaperError(Exception):
    """Base class of every error the package raises on purpose."""


class ParameterError(RrampaperError, ValueError):
    """A parameter (function argument, CLI option, notebook parameter) has an invalid value;
    the message names the parameter, its value and what is valid."""


class StoredFileError(RrampaperError, ValueError):
    """A file the package wrote earlier (result, checkpoint, trained model, feature cache) cannot
    be used: truncated, not the expected format, or holding something other than plain data.

    Attributes
    ----------
    path:
        The file.
    problem:
        What is wrong with it, in a few words.
    fix:
        What the user can do (e.g. retrain with ``--retrain``).
    """

    def __init__(self, path: str | Path, problem: str, fix: str) -> None:
        self.path = Path(path)
        self.problem = problem
        self.fix = fix
        super().__init__(f"{self.path}: {problem}; {fix}")


class DataError(RrampaperError, FileNotFoundError):
    """User-supplied data (e.g. a DRIVE folder) is missing, incomplete or unreadable; the message
    names the folder, the files and how to get them."""


class UnwritableError(RrampaperError, PermissionError):
    """A folder the run must write to (results, figures) cannot be written; raised before any
    work starts."""


class DivergedError(RrampaperError, FloatingPointError):
    """Training produced a non-finite loss or metric; nothing was stored as a finished run."""
