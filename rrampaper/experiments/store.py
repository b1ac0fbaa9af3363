"""Results as ``xarray.Dataset`` on disk: netCDF, written atomically, keyed by a config hash.

A result file is named ``<kind>-<hash>.nc`` where ``hash`` is the SHA-256 (first 16 hex digits)
of the canonical JSON of the run's configuration, so the same configuration always maps to the
same file and a notebook can reuse a stored result instead of retraining. Every file carries
provenance attributes: the configuration itself, package version, git commit, library versions,
creation time and any extra attributes (seed, device, wall time) the caller adds.

A stored file is untrusted input: a file that cannot be read as netCDF (truncated, random
bytes), that holds another configuration than its name says, or that lacks the variables and
attributes the caller requires raises :class:`~rrampaper.errors.StoredFileError` naming the file,
what is wrong and the fix, instead of a reader's traceback or a silently wrong result.

Examples
--------
>>> import xarray as xr, numpy as np
>>> from rrampaper.experiments import store
>>> config = {"task": "demo", "seed": 0}
>>> ds = xr.Dataset({"accuracy": ("epoch", np.array([0.5, 0.7]))})
>>> path = store.save_result(ds, config, kind="demo", folder="/tmp/rrampaper-doc")
>>> store.load_result(config, kind="demo", folder="/tmp/rrampaper-doc")["accuracy"].values
array([0.5, 0.7])
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import platform
import re
import subprocess
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy
import torch
import xarray as xr

from rrampaper import __version__
from rrampaper._io import atomic_path
from rrampaper.errors import StoredFileError
from rrampaper.paths import repo_root, results_dir

_ENGINE = "h5netcdf"

#: What to do about a stored result that cannot be used.
RETRAIN_FIX = ("delete it, or compute it again with retrain=True "
               "(on the command line: rrampaper train --retrain)")


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if hasattr(value, "item"):  # numpy / torch scalars
        return value.item()
    raise TypeError(f"config value {value!r} of type {type(value).__name__} is not serialisable")


def canonical_json(config: Any) -> str:
    """The configuration (dataclass or mapping) as sorted, compact JSON."""
    return json.dumps(_plain(config), sort_keys=True, separators=(",", ":"))


def config_hash(config: Any) -> str:
    """First 16 hex digits of the SHA-256 of :func:`canonical_json`."""
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()[:16]


@lru_cache(maxsize=1)
def git_commit() -> str:
    """``HEAD`` of the checkout this package runs from, ``+dirty`` if it has local changes."""
    root = repo_root()
    if root is None or not (root / ".git").exists():
        return "unknown"
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def provenance() -> dict[str, str]:
    """Attributes that say which code and libraries produced a result."""

    return {
        "rrampaper_version": __version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "torch": str(torch.__version__),
        "numpy": numpy.__version__,
        "xarray": xr.__version__,
        "platform": platform.platform(),
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def result_path(config: Any, *, kind: str, folder: str | Path | None = None) -> Path:
    """Where the result of ``config`` is stored: ``<folder>/<kind>-<hash>.nc``."""
    if not kind or not kind.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"kind={kind!r} must be a non-empty name of letters, digits, '_' or '-'")
    base = Path(folder) if folder is not None else results_dir()
    return base / f"{kind}-{config_hash(config)}.nc"


def save_result(
    dataset: xr.Dataset,
    config: Any,
    *,
    kind: str,
    folder: str | Path | None = None,
    attrs: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``dataset`` with its configuration and provenance, atomically; return the path.

    ``attrs`` adds run-specific attributes (seed, device, wall time in seconds, ...). Values
    that netCDF cannot hold as attributes are stored as JSON strings.
    """
    target = result_path(config, kind=kind, folder=folder)
    out = dataset.copy()
    out.attrs = dict(dataset.attrs)
    meta = {"config": canonical_json(config), "config_hash": config_hash(config), "kind": kind}
    meta.update(provenance())
    for key, value in {**meta, **dict(attrs or {})}.items():
        if isinstance(value, str):
            out.attrs[key] = str(value)  # plain str: h5py cannot store str subclasses
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out.attrs[key] = value
        else:
            out.attrs[key] = json.dumps(_plain(value))
    with atomic_path(target) as tmp:
        out.to_netcdf(tmp, engine=_ENGINE)
    return target


def load_result(
    config: Any,
    *,
    kind: str,
    folder: str | Path | None = None,
    variables: Iterable[str] = (),
    attrs: Iterable[str] = (),
) -> xr.Dataset | None:
    """The stored result of ``config`` loaded into memory, or ``None`` if there is none.

    The file is checked before it is returned: it must be readable netCDF, its ``config`` and
    ``kind`` attributes must be those asked for (a file renamed, copied or written by another
    program is refused) and it must hold the ``variables`` and ``attrs`` the caller names.

    Raises
    ------
    rrampaper.errors.StoredFileError
        The file exists but cannot be used; the message names it, the problem and the fix.
    """
    path = result_path(config, kind=kind, folder=folder)
    if not path.is_file():
        return None
    dataset = load_path(path)
    stored = dataset.attrs.get("config")
    try:
        matches = isinstance(stored, str) and json.loads(stored) == json.loads(canonical_json(config))
    except json.JSONDecodeError:
        matches = False
    if not matches:
        raise StoredFileError(path, "its 'config' attribute is missing or names another "
                                    "configuration than the one asked for (a file copied, renamed "
                                    "or written by another program)", RETRAIN_FIX)
    if dataset.attrs.get("kind") != kind:
        raise StoredFileError(path, f"its 'kind' attribute is {dataset.attrs.get('kind')!r}, "
                                    f"not {kind!r}", RETRAIN_FIX)
    missing = [f"variable {name!r}" for name in variables if name not in dataset.data_vars]
    missing += [f"attribute {name!r}" for name in attrs if name not in dataset.attrs]
    if missing:
        raise StoredFileError(path, f"it lacks {', '.join(missing)} (not a complete {kind} result)",
                              RETRAIN_FIX)
    return dataset


def one_line(error: BaseException) -> str:
    """``error`` as one short line: its type and the first line of its message."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip().splitlines()  # no terminal colours
    return f"{type(error).__name__}: {text[0][:200]}" if text else type(error).__name__


def load_path(path: str | Path) -> xr.Dataset:
    """Open a result file, load it into memory and close the file.

    Raises
    ------
    rrampaper.errors.StoredFileError
        The file is not readable netCDF (truncated, random bytes, another format).
    """
    try:
        with xr.open_dataset(path, engine=_ENGINE) as dataset:
            return dataset.load()
    except (FileNotFoundError, PermissionError):
        raise
    except Exception as error:  # h5py/h5netcdf/xarray raise many types on a bad file
        raise StoredFileError(path, f"it cannot be read as a netCDF result ({one_line(error)}); it "
                                    f"is truncated or was not written by rrampaper",
                              RETRAIN_FIX) from None


def stored_config(dataset: xr.Dataset) -> dict[str, Any]:
    """The configuration a stored result was produced with."""
    return json.loads(dataset.attrs["config"])
