"""DRIVE retinal vessel segmentation, read from the user's own copy (never downloaded).

Source: https://drive.grand-challenge.org/ (Staal et al., IEEE TMI 23(4):501-509, 2004). DRIVE's
terms allow research and educational use and prohibit copying and redistribution; use is
limited to those who obtained it from the official site. This package therefore never downloads
or ships it: register there, unpack it, and point ``RRAMPAPER_DRIVE_DIR`` (or ``folder=``) at
the folder holding ``training/`` and ``test/``. The files are checked against the SHA-256 of the
official release (``registry.txt``). Without DRIVE, :func:`example_fundus` and
:mod:`rrampaper.data.synthetic_vessels` give synthetic images of the same form.

Layout (official names; 584 x 565 RGB images, masks with values {0, 255})::

    training/images/21_training.tif ... 40_training.tif
    training/1st_manual/21_manual1.gif ...          vessel ground truth
    training/mask/21_training_mask.gif ...          field of view (FOV)
    test/images/01_test.tif ... 20_test.tif
    test/1st_manual/01_manual1.gif ...              ground truth
    test/2nd_manual/01_manual2.gif ...              second observer (optional here)
    test/mask/01_test_mask.gif ...

Examples
--------
>>> from rrampaper.data import load_drive                 # doctest: +SKIP
>>> train = load_drive("train")                            # doctest: +SKIP
>>> train.images.shape, train.vessels.dtype                # doctest: +SKIP
((20, 584, 565, 3), dtype('bool'))
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from rrampaper._checks import check_choice
from rrampaper.data import registry
from rrampaper.data.errors import DatasetMissingError
from rrampaper.data.fundus import FundusImage, FundusSet
from rrampaper.data.sources import DRIVE
from rrampaper.data.synthetic_vessels import synthetic_fundus
from rrampaper.paths import drive_dir

#: DRIVE image size (rows, columns).
IMAGE_SHAPE = (584, 565)

_FOLDER = {"train": "training", "test": "test"}


def _ids(split: str) -> list[str]:
    return (
        [f"{i}" for i in range(21, 41)] if split == "train" else [f"{i:02d}" for i in range(1, 21)]
    )


def drive_files(split: str) -> dict[str, list[str]]:
    """Relative paths of one split's files, by kind: ``images``, ``1st_manual``, ``mask``
    and, for the test split, ``2nd_manual`` (paths relative to the DRIVE folder)."""
    check_choice("split", split, _FOLDER)
    top, suffix = _FOLDER[split], _FOLDER[split]
    ids = _ids(split)
    files = {
        "images": [f"{top}/images/{i}_{suffix}.tif" for i in ids],
        "1st_manual": [f"{top}/1st_manual/{i}_manual1.gif" for i in ids],
        "mask": [f"{top}/mask/{i}_{suffix}_mask.gif" for i in ids],
    }
    if split == "test":
        files["2nd_manual"] = [f"{top}/2nd_manual/{i}_manual2.gif" for i in ids]
    return files


def drive_available(folder: str | os.PathLike[str] | None = None) -> bool:
    """Whether ``folder`` (default :func:`rrampaper.paths.drive_dir`) holds every required file
    of both splits (presence only; :func:`load_drive` checks the hashes)."""
    root = Path(folder) if folder is not None else drive_dir()
    return all(
        (root / rel).is_file()
        for split in _FOLDER
        for kind, rels in drive_files(split).items()
        if kind != "2nd_manual"
        for rel in rels
    )


def missing_message(root: Path, missing: list[str]) -> str:
    """The error text for a DRIVE folder that is absent or incomplete."""
    if not root.is_dir():
        what = f"the folder {root} does not exist"
    else:
        what = f"{len(missing)} file(s) are missing from {root}, e.g. {missing[0]}"
    env = registry.describe_env("RRAMPAPER_DRIVE_DIR", "<RRAMPAPER_DATA_DIR>/drive/DRIVE")
    return (
        f"{DRIVE.title} (DRIVE) not found: {what}.\n"
        f"{DRIVE.how_to_get}.\n"
        f"{env}.\n"
        "Without DRIVE, rrampaper.data.synthetic_fundus() gives synthetic images of the same form."
    )


def load_drive(
    split: str = "train",
    folder: str | os.PathLike[str] | None = None,
    *,
    verify: bool = True,
) -> FundusSet:
    """Load one DRIVE split from the user's copy.

    Parameters
    ----------
    split:
        ``"train"`` (the 20 ``training/`` images, ids 21-40) or ``"test"`` (20, ids 01-20).
    folder:
        The DRIVE folder holding ``training/`` and ``test/``; default
        :func:`rrampaper.paths.drive_dir` (``$RRAMPAPER_DRIVE_DIR``).
    verify:
        Check every file's SHA-256 against the official release (default). Pass ``False`` only
        for a copy you trust whose bytes differ, or for synthetic stand-ins.

    Returns
    -------
    FundusSet
        ``images`` uint8 [20,584,565,3], ``vessels`` bool (``1st_manual``), ``fov`` bool
        (``mask``), ``names`` (``"21_training"``, ...), and ``second_observer`` bool for the
        test split when ``2nd_manual`` is present (else ``None``).

    Raises
    ------
    DatasetMissingError
        The folder or a required file is missing (the message says where to obtain DRIVE).
    ChecksumError
        A file differs from the official one (``verify=True``).
    """
    files = drive_files(split)
    root = Path(folder) if folder is not None else drive_dir()
    required = [rel for kind, rels in files.items() if kind != "2nd_manual" for rel in rels]
    missing = [rel for rel in required if not (root / rel).is_file()]
    if missing:
        raise DatasetMissingError(missing_message(root, missing))
    second = files.get("2nd_manual", [])
    has_second = bool(second) and all((root / rel).is_file() for rel in second)
    if verify:
        for rel in required + (second if has_second else []):
            registry.verify(DRIVE.prefix + rel, root / rel)

    images = np.stack([_read_rgb(root / rel) for rel in files["images"]])
    vessels = np.stack([_read_binary(root / rel) for rel in files["1st_manual"]])
    fov = np.stack([_read_binary(root / rel) for rel in files["mask"]])
    if not images.shape[1:3] == vessels.shape[1:] == fov.shape[1:]:
        raise ValueError(
            f"{root}: images {images.shape}, vessels {vessels.shape} and masks "
            f"{fov.shape} differ in size"
        )
    names = tuple(Path(rel).stem for rel in files["images"])
    return FundusSet(
        images=images,
        vessels=vessels,
        fov=fov,
        names=names,
        split=split,
        second_observer=np.stack([_read_binary(root / rel) for rel in second])
        if has_second
        else None,
    )


def example_fundus(
    index: int = 0, seed: int = 0, folder: str | os.PathLike[str] | None = None
) -> FundusImage:
    """DRIVE training image ``index`` when DRIVE is available, else ``synthetic_fundus(seed)``.

    The returned record's ``synthetic`` attribute says which one it is.
    """
    if drive_available(folder):
        return load_drive("train", folder)[index]
    return synthetic_fundus(seed)


def _read_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8)


def _read_binary(path: Path) -> np.ndarray:
    """A two-valued GIF (mode L {0,255} or palette) as bool: true where brighter than 50 %."""
    with Image.open(path) as image:
        return np.asarray(image.convert("L")) > 127
