"""Where the package reads data and writes results and figures.

Each folder can be set by an environment variable; otherwise it is a sub-folder of the
repository checkout (found by walking up from the current directory to the folder holding
``pyproject.toml`` and ``rrampaper/``), so that a notebook run from ``notebooks/`` writes to the
same ``figures/`` as ``make reproduce``. Outside a checkout the user cache is used.

=========================  ===========================  =====================================
variable                   default                      content
=========================  ===========================  =====================================
``RRAMPAPER_DATA_DIR``     ``<repo>/data``              downloaded datasets (pooch cache)
``RRAMPAPER_DRIVE_DIR``    ``<data>/drive/DRIVE``       the user's DRIVE copy (never shipped)
``RRAMPAPER_RESULTS_DIR``  ``<repo>/results``           trained results (netCDF) and checkpoints
``RRAMPAPER_FIGURES_DIR``  ``<repo>/figures``           figures (PNG + PDF), tables, notebooks
=========================  ===========================  =====================================
"""

from __future__ import annotations

import os
from pathlib import Path

import pooch


def repo_root(start: Path | None = None) -> Path | None:
    """The checkout that holds this package's source, or ``None`` outside a checkout."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "rrampaper").is_dir():
            return folder
    package_parent = Path(__file__).resolve().parent.parent
    if (package_parent / "pyproject.toml").is_file():
        return package_parent
    return None


def _folder(variable: str, subfolder: str) -> Path:
    configured = os.environ.get(variable)
    if configured:
        return Path(configured).expanduser()
    root = repo_root()
    if root is not None:
        return root / subfolder
    return Path(pooch.os_cache("rrampaper")) / subfolder


def data_dir() -> Path:
    """Folder holding the datasets (``RRAMPAPER_DATA_DIR`` or ``<repo>/data``)."""
    return _folder("RRAMPAPER_DATA_DIR", "data")


def drive_dir() -> Path:
    """Folder expected to hold the user's DRIVE copy (``training/``, ``test/``)."""
    configured = os.environ.get("RRAMPAPER_DRIVE_DIR")
    if configured:
        return Path(configured).expanduser()
    return data_dir() / "drive" / "DRIVE"


def results_dir() -> Path:
    """Folder for stored results and checkpoints (``RRAMPAPER_RESULTS_DIR`` or ``<repo>/results``)."""
    return _folder("RRAMPAPER_RESULTS_DIR", "results")


def figures_dir() -> Path:
    """Folder for generated figures (``RRAMPAPER_FIGURES_DIR`` or ``<repo>/figures``)."""
    return _folder("RRAMPAPER_FIGURES_DIR", "figures")
