"""Results as ``xarray.Dataset`` on disk: netCDF, written atomically, keyed by a config hash.

A result file is named ``<kind>-<hash>.nc`` where ``hash`` is the SHA-256 (first 16 hex digits)
of the canonical JSON of the run's configuration, so the same configuration always maps to the
same file and a notebook can reuse a stored result instead of retraining. Every file carries
provenance attributes: the configuration itself, package version, git commit, library versions,
creation time and any extra attributes (seed, device, wall time) the caller adds.

Examples
--------
>>> import xarray as xr, numpy as np
>>> from rrampaper import results
>>> config = {"task": "demo", "seed": 0}
>>> ds = xr.Dataset({"accuracy": ("epoch", np.array([0.5, 0.7]))})
>>> path = results.save_result(ds, config, kind="demo", folder="/tmp/rrampaper-doc")
>>> results.load_result(config, kind="demo", folder="/tmp/rrampaper-doc")["accuracy"].values
array([0.5, 0.7])
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import platform
import subprocess
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import xarray as xr

from rrampaper import __version__
from rrampaper._io import atomic_path
from rrampaper.paths import repo_root, results_dir

_ENGINE = "h5netcdf"


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
    import numpy
    import torch

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


def load_result(config: Any, *, kind: str, folder: str | Path | None = None) -> xr.Dataset | None:
    """The stored result of ``config`` loaded into memory, or ``None`` if there is none."""
    path = result_path(config, kind=kind, folder=folder)
    if not path.is_file():
        return None
    return load_path(path)


def load_path(path: str | Path) -> xr.Dataset:
    """Open a result file, load it into memory and close the file."""
    with xr.open_dataset(path, engine=_ENGINE) as dataset:
        return dataset.load()


def stored_config(dataset: xr.Dataset) -> dict[str, Any]:
    """The configuration a stored result was produced with."""
    return json.loads(dataset.attrs["config"])
