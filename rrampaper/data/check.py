"""``rrampaper data check``: which datasets are present and verified, without downloading.

Examples
--------
>>> from rrampaper.data import check_all
>>> for line in check_all():                      # doctest: +SKIP
...     print(line)
fashion-mnist          OK         4 files, sha256 verified in /data/fashion-mnist
fsdd                   OK         3000 files, sha256 verified in /data/fsdd/recordings
spoken-digit-features  OK         2 files, sha256 verified in /data/spoken-digit-features
drive                  MISSING    not configured: RRAMPAPER_DRIVE_DIR is unset and /data/drive/...

Statuses: ``OK``; ``MISSING`` (nothing there: a downloadable dataset is fetched on first use, an
unconfigured DRIVE means synthetic fundus images); ``INCOMPLETE`` (a configured DRIVE folder,
named by ``RRAMPAPER_DRIVE_DIR`` or present at ``<data>/drive/DRIVE``, is absent or lacks
files); ``CORRUPT`` (a file has the wrong SHA-256). Missing and corrupt files are listed by name
(the first few, then how many more).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rrampaper.data import registry
from rrampaper.data.drive import drive_configured, first_few, to_use_synthetic
from rrampaper.data.errors import ChecksumError
from rrampaper.data.sources import SOURCES
from rrampaper.data.spoken_features import verify_features
from rrampaper.paths import data_dir, drive_dir

#: Status words of a check, in order of severity.
STATUSES = ("OK", "MISSING", "INCOMPLETE", "CORRUPT")


@dataclass(frozen=True)
class DatasetCheck:
    """Result of checking one dataset.

    Attributes
    ----------
    name:
        Dataset name (``"fashion-mnist"``, ``"fsdd"``, ``"spoken-digit-features"``, ``"drive"``).
    ok:
        True when every required file is present with the registry's SHA-256.
    detail:
        One line: what was verified, or what is missing or wrong and what to do.
    status:
        ``"OK"``, ``"MISSING"``, ``"INCOMPLETE"`` or ``"CORRUPT"`` (see the module docstring);
        when left empty it is ``"OK"`` or ``"FAILED"`` according to ``ok``.
    """

    name: str
    ok: bool
    detail: str
    status: str = ""

    def __str__(self) -> str:
        status = self.status or ("OK" if self.ok else "FAILED")
        return f"{self.name:<22} {status:<10} {self.detail}"


def check_dataset(name: str) -> DatasetCheck:
    """Hash the local copy of one dataset (no download) and summarize it in one line."""
    relpaths = registry.files(name)  # raises ValueError naming the valid datasets
    source = SOURCES[name]
    optional: list[str] = []
    if name == "drive":
        folder = drive_dir()
        optional = [r for r in relpaths if "/2nd_manual/" in r]
        if not drive_configured():
            return DatasetCheck(
                name,
                False,
                f"not configured: RRAMPAPER_DRIVE_DIR is unset and {folder} does not exist, so "
                f"synthetic fundus images are used; DRIVE's licence forbids redistribution: "
                f"download it yourself from {source.homepage} and set RRAMPAPER_DRIVE_DIR",
                "MISSING",
            )
    else:
        folder = data_dir() / source.prefix.rstrip("/")
    scan = registry.scan(relpaths)
    if name == "spoken-digit-features":
        _accept_own_conversions(scan)
    required_missing = [r for r in scan.missing if r not in optional]

    if scan.corrupt:
        path, expected, actual = scan.corrupt[0]
        return DatasetCheck(
            name,
            False,
            f"{len(scan.corrupt)} of {len(relpaths)} files have the wrong sha256: "
            f"{first_few([p for p, _, _ in scan.corrupt])} (first: expected {expected[:12]}..., "
            f"actual {actual[:12]}...); replace them",
            "CORRUPT",
        )
    if required_missing:
        # a configured DRIVE folder must be complete (an unconfigured one returned above)
        status = "INCOMPLETE" if name == "drive" else "MISSING"
        return DatasetCheck(
            name, False, _missing_detail(name, folder, required_missing, len(relpaths)), status
        )
    note = ""
    if scan.missing:  # only optional files
        note = f" ({len(scan.missing)} optional 2nd_manual files absent)"
    return DatasetCheck(
        name, True, f"{len(scan.verified)} files, sha256 verified in {folder}{note}", "OK"
    )


def check_all() -> list[DatasetCheck]:
    """One :class:`DatasetCheck` per dataset of the registry, in a fixed order."""
    return [check_dataset(name) for name in SOURCES]


def _accept_own_conversions(scan: registry.Scan) -> None:
    """Move features whose arrays (not file bytes) match from ``corrupt`` to ``verified``."""
    for entry in list(scan.corrupt):
        path = Path(entry[0])
        try:
            verify_features(path, path.stem)
        except (ChecksumError, ValueError, KeyError):
            continue
        scan.corrupt.remove(entry)
        scan.verified.append(f"spoken-digit-features/{path.name}")


def _missing_detail(name: str, folder: Path, missing: list[str], total: int) -> str:
    source = SOURCES[name]
    names = first_few([r.removeprefix(source.prefix) for r in missing])
    if name == "drive":
        where = (
            f"{registry.describe_env('RRAMPAPER_DRIVE_DIR', str(folder))} but {folder} "
            + ("is a file" if folder.exists() else "does not exist")
            if not folder.is_dir()
            else f"{len(missing)} of {total} files missing in {folder}: {names}"
        )
        return (
            f"{where}; DRIVE is used all or nothing: complete your copy (its licence forbids "
            f"redistribution: download it yourself from {source.homepage}), or "
            f"{to_use_synthetic()} to use synthetic images"
        )
    where = f"{len(missing)} of {total} files missing in {folder}: {names}"
    if source.base_url is None:
        return (
            f"{where}; not downloadable: convert the authors' files from {source.homepage} "
            "(see rrampaper/data/README.md) or set RRAMPAPER_DATA_DIR"
        )
    return f"{where}; downloaded from {source.base_url} on first use, or set RRAMPAPER_DATA_DIR"
