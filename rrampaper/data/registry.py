"""The SHA-256 registry of every data file, and getting a verified local copy of one.

Every file the package reads is listed in ``registry.txt`` (pooch's registry format: a path
relative to the data folder and its SHA-256). :func:`fetch` returns the local path of a
registry entry:

1. a file already present under :func:`rrampaper.paths.data_dir` (``RRAMPAPER_DATA_DIR``) is
   hashed and used in place when the hash matches; nothing is written next to it, so a
   read-only copy works. A wrong hash raises :class:`ChecksumError`: the file is refused, not
   replaced (it might be the user's only copy);
2. a missing file of a downloadable dataset is fetched from its official URL with pooch's
   downloader into a temporary file beside the target, hashed, and renamed into place only when
   the hash matches, so no partial or corrupted download is ever left behind;
3. anything else raises :class:`DatasetMissingError` naming the dataset, the folder, the
   environment variable and the official source.

DRIVE files live under :func:`rrampaper.paths.drive_dir` (``RRAMPAPER_DRIVE_DIR``) instead and
are never downloaded.

Examples
--------
>>> from rrampaper.data import registry
>>> registry.files("fashion-mnist")[0]
'fashion-mnist/t10k-images-idx3-ubyte.gz'
>>> path = registry.fetch("fashion-mnist/t10k-labels-idx1-ubyte.gz")   # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import pooch

from rrampaper._io import atomic_path
from rrampaper._progress import progress_bar
from rrampaper.data.errors import ChecksumError, DatasetMissingError
from rrampaper.data.sources import SOURCES, Source, source_of
from rrampaper.paths import data_dir, drive_dir

REGISTRY_FILE = Path(__file__).with_name("registry.txt")

#: Seconds before a stalled download is abandoned (passed to ``requests.get``).
DOWNLOAD_TIMEOUT_S = 60

# SHA-256 of files already hashed in this process, keyed by (path, size, mtime): loading the same
# dataset twice hashes it once.
_HASHES: dict[tuple[str, int, int], str] = {}


@functools.cache
def registry() -> Mapping[str, str]:
    """All registry entries: relative path -> SHA-256 (hex), read with pooch's parser."""
    pup = pooch.create(path=pooch.os_cache("rrampaper"), base_url="")
    pup.load_registry(REGISTRY_FILE)
    return MappingProxyType({name: value.split(":")[-1] for name, value in pup.registry.items()})


def files(dataset: str) -> list[str]:
    """Sorted registry paths of one dataset (``"fashion-mnist"``, ``"fsdd"``, ...)."""
    source = _source(dataset)
    return sorted(name for name in registry() if name.startswith(source.prefix))


def local_path(relpath: str) -> Path:
    """Where registry path ``relpath`` is expected on this machine (it may not exist)."""
    source = source_of(relpath)
    if source.name == "drive":
        return drive_dir() / relpath[len(source.prefix) :]
    return data_dir() / relpath


def sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 (hex) of a file, cached per (path, size, modification time)."""
    stat = os.stat(path)
    key = (str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        _HASHES[key] = pooch.file_hash(str(path), alg="sha256")
    return _HASHES[key]


def verify(relpath: str, path: str | os.PathLike[str] | None = None) -> Path:
    """Check the SHA-256 of the local copy of ``relpath``; raise :class:`ChecksumError` if wrong."""
    path = Path(path) if path is not None else local_path(relpath)
    expected = registry()[relpath]
    actual = sha256(path)
    if actual != expected:
        raise ChecksumError(str(path), expected, actual, _corrupt_advice(relpath))
    return path


def fetch(relpath: str, *, download: bool = True) -> Path:
    """Local, verified path of registry entry ``relpath``, downloading it if needed and allowed.

    Raises
    ------
    ChecksumError
        The local file, or the downloaded one, has the wrong SHA-256.
    DatasetMissingError
        The file is absent and ``download`` is false, the dataset is never downloaded (DRIVE,
        the spoken-digit features), or the download failed.
    """
    return fetch_many([relpath], download=download)[0]


def fetch_many(relpaths: Iterable[str], *, download: bool = True) -> list[Path]:
    """:func:`fetch` for many entries, with one progress bar over the files to download."""
    relpaths = list(relpaths)
    unknown = [r for r in relpaths if r not in registry()]
    if unknown:
        raise ValueError(f"not in the registry: {unknown[:3]} ({len(unknown)} entries)")
    paths = [local_path(r) for r in relpaths]
    missing = [(r, p) for r, p in zip(relpaths, paths, strict=True) if not p.is_file()]
    for relpath, path in zip(relpaths, paths, strict=True):
        if path.is_file():
            verify(relpath, path)
    if missing:
        source = source_of(missing[0][0])
        if not download or source.base_url is None:
            raise DatasetMissingError(_missing_message([r for r, _ in missing], reason=None))
        for relpath, path in progress_bar(
            missing, enabled=len(missing) >= 2, desc=f"downloading {source.title}", unit="file"
        ):
            _download(relpath, path)
    return paths


@dataclass
class Scan:
    """Result of :func:`scan`: which files are present and verified, missing, or corrupt."""

    verified: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    corrupt: list[tuple[str, str, str]] = field(default_factory=list)  # (path, expected, actual)


def scan(relpaths: Iterable[str]) -> Scan:
    """Hash the local copies of ``relpaths`` without downloading or raising."""
    result = Scan()
    for relpath in relpaths:
        path = local_path(relpath)
        if not path.is_file():
            result.missing.append(relpath)
            continue
        actual = sha256(path)
        if actual == registry()[relpath]:
            result.verified.append(relpath)
        else:
            result.corrupt.append((str(path), registry()[relpath], actual))
    return result


def _source(dataset: str) -> Source:
    if dataset not in SOURCES:
        raise ValueError(f"dataset={dataset!r} is not valid; choose one of {', '.join(SOURCES)}")
    return SOURCES[dataset]


def _download(relpath: str, path: Path) -> None:
    """Download one file with pooch into a temporary file, verify it, then rename it into place."""
    # deferred: requests is pooch's dependency and only a download needs it
    import requests

    url = source_of(relpath).url(relpath)
    expected = registry()[relpath]
    downloader = (
        pooch.HTTPDownloader(timeout=DOWNLOAD_TIMEOUT_S)
        if url.startswith(("http://", "https://"))
        else pooch.choose_downloader(url)
    )
    new_folders = [p for p in path.parents if not p.exists()]
    try:
        with atomic_path(path) as tmp:  # removed on any exception: no partial file is left
            downloader(url, str(tmp), None)
            actual = pooch.file_hash(str(tmp), alg="sha256")
            if actual != expected:
                raise ChecksumError(
                    f"{path} (downloaded from {url})",
                    expected,
                    actual,
                    _download_corrupt_advice(url),
                )
    except (OSError, requests.RequestException, ChecksumError) as error:
        for folder in new_folders:  # deepest first; only the empty folders made for this file
            with contextlib.suppress(OSError):
                folder.rmdir()
        if isinstance(error, ChecksumError):
            raise
        raise DatasetMissingError(_missing_message([relpath], reason=error)) from error


def describe_env(variable: str, default: str) -> str:
    """``"VAR is set to X"`` or ``"VAR is not set, so the default D is used"``, for messages."""
    value = os.environ.get(variable)
    if value:
        return f"{variable} is set to {value}"
    return f"{variable} is not set, so the default {default} is used"


def _missing_message(relpaths: list[str], reason: BaseException | None) -> str:
    """What a user reads when files are missing: dataset, folder, variable, official source."""
    source = source_of(relpaths[0])
    first = local_path(relpaths[0])
    count = f"{len(relpaths)} file{'s' if len(relpaths) > 1 else ''}"
    if source.name == "drive":
        env = describe_env("RRAMPAPER_DRIVE_DIR", f"{data_dir() / 'drive' / 'DRIVE'}")
    else:
        env = describe_env("RRAMPAPER_DATA_DIR", "<repo>/data")
    lines = [f"{source.title} ({source.name}): {count} missing, e.g. {first}."]
    url = source.url(relpaths[0])
    if url is None:
        lines.append(source.how_to_get + ".")
    elif reason is not None:
        lines.append(f"Downloading it from the official URL {url} failed: {reason}")
        lines.append(
            f"Download it yourself from {url} into {first.parent}, or set RRAMPAPER_DATA_DIR "
            f"to a folder that already holds {source.prefix}."
        )
    else:
        lines.append(
            f"Downloads were not allowed (download=False). Official URL: {url}; or set "
            f"RRAMPAPER_DATA_DIR to a folder that already holds {source.prefix}."
        )
    lines.append(f"{env}.")
    lines.append(f"Official source: {source.homepage} (licence: {source.licence}).")
    return "\n".join(lines)


def _corrupt_advice(relpath: str) -> str:
    source = source_of(relpath)
    if source.name == "drive":
        return (
            "This DRIVE file differs from the official one. Download DRIVE again from "
            f"{source.homepage}, or, if you know your copy is right, call "
            "load_drive(..., verify=False)."
        )
    url = source.url(relpath)
    fix = (
        f"Delete it and run again to download a fresh copy from {url}"
        if url
        else f"Replace it ({source.how_to_get})"
    )
    return (
        f"{fix}, or set RRAMPAPER_DATA_DIR to a folder holding a verified copy "
        "(`rrampaper data check` lists what is verified)."
    )


def _download_corrupt_advice(url: str) -> str:
    return (
        f"The download from {url} was deleted. The server sent different bytes than the "
        "registry expects: retry later, or download the file by hand and compare its SHA-256."
    )
