"""The two ways getting a data file can fail: it is missing, or it is not the file we expect.

Both messages are written for the person reading the traceback: they name the dataset, the file,
the folder that was searched, the environment variable that moves that folder, and where the
official copy comes from.
"""

from __future__ import annotations

from rrampaper.errors import DataError, RrampaperError


class DatasetMissingError(DataError):
    """A dataset file is absent and could not be downloaded (or may not be downloaded), or a
    user-supplied folder (DRIVE) is incomplete; a :class:`~rrampaper.errors.DataError`."""


class ChecksumError(RrampaperError, ValueError):
    """A file's SHA-256 differs from the registry: the file is refused, never used."""

    def __init__(self, path: str, expected: str, actual: str, advice: str) -> None:
        self.path = path
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"{path} has the wrong SHA-256 and was refused.\n"
            f"  expected: {expected}\n"
            f"  actual:   {actual}\n"
            f"{advice}"
        )
