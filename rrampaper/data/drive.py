"""DRIVE retinal vessel segmentation, read from the user's own copy (never downloaded).

Source: https://drive.grand-challenge.org/ (Staal et al., IEEE TMI 23(4):501-509, 2004). DRIVE's
terms allow research and educational use and prohibit copying and redistribution; use is
limited to those who obtained it from the official site. This package therefore never downloads
or ships it: register there, unpack it, and point ``RRAMPAPER_DRIVE_DIR`` (or ``folder=``) at
the folder holding ``training/`` and ``test/``. The files are checked against the SHA-256 of the
official release (``registry.txt``).

DRIVE is used all-or-nothing. It is *configured* (:func:`drive_configured`) when
``RRAMPAPER_DRIVE_DIR`` is set, or, with the variable unset, when the default folder
``<RRAMPAPER_DATA_DIR>/drive/DRIVE`` exists. A configured folder must hold every required file
(:func:`require_drive`): an absent folder, a missing file or an unreadable image raises
:class:`~rrampaper.errors.DataError` naming the folder and the files, never a silent switch to
other data. Only when DRIVE is not configured do :func:`example_fundus` and the DRIVE experiment
use synthetic images of the same form (:mod:`rrampaper.data.synthetic_vessels`).

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
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

from rrampaper._checks import check_choice
from rrampaper.data import registry
from rrampaper.data.errors import DatasetMissingError
from rrampaper.data.fundus import FundusImage, FundusSet
from rrampaper.data.sources import DRIVE
from rrampaper.data.synthetic_vessels import synthetic_fundus
from rrampaper.errors import DataError
from rrampaper.paths import data_dir, drive_dir

#: DRIVE image size (rows, columns).
IMAGE_SHAPE = (584, 565)

_FOLDER = {"train": "training", "test": "test"}

#: How many file names an error message lists before "and N more".
LISTED = 5


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


def first_few(names: list[str], limit: int = LISTED) -> str:
    """``"a, b, c"`` or ``"a, b, c and 17 more"``: the first ``limit`` names of a list."""
    shown = ", ".join(str(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def required_files() -> list[str]:
    """Every required file of both splits, relative to the DRIVE folder (``2nd_manual`` is
    optional and not listed)."""
    return [
        rel
        for split in _FOLDER
        for kind, rels in drive_files(split).items()
        if kind != "2nd_manual"
        for rel in rels
    ]


def default_drive_dir() -> Path:
    """The DRIVE folder used when ``RRAMPAPER_DRIVE_DIR`` is unset: ``<data>/drive/DRIVE``."""
    return data_dir() / "drive" / "DRIVE"


def drive_configured() -> bool:
    """Whether the user has pointed the package at a DRIVE copy, which must then be complete.

    True when ``RRAMPAPER_DRIVE_DIR`` is set (non-empty; the folder need not exist, which
    :func:`require_drive` reports as an error), or when it is unset and the default folder
    :func:`default_drive_dir` exists. False (then synthetic images are used) only when the
    variable is unset and the default folder is absent.
    """
    return bool(os.environ.get("RRAMPAPER_DRIVE_DIR")) or default_drive_dir().exists()


def missing_drive_files(folder: str | os.PathLike[str] | None = None) -> list[str]:
    """Required files absent from ``folder`` (default :func:`rrampaper.paths.drive_dir`),
    relative to it; empty when the copy is complete (presence only, no hashing)."""
    root = Path(folder) if folder is not None else drive_dir()
    return [rel for rel in required_files() if not (root / rel).is_file()]


def drive_available(folder: str | os.PathLike[str] | None = None) -> bool:
    """Whether ``folder`` (default :func:`rrampaper.paths.drive_dir`) holds every required file
    of both splits (presence only; :func:`load_drive` checks the hashes)."""
    return not missing_drive_files(folder)


def require_drive(folder: str | os.PathLike[str] | None = None) -> Path:
    """The DRIVE folder (default :func:`rrampaper.paths.drive_dir`) if it holds every required
    file of both splits; else :class:`~rrampaper.data.errors.DatasetMissingError` (a
    :class:`~rrampaper.errors.DataError`) naming the folder, the missing files and how to get
    DRIVE. Presence only: :func:`load_drive` checks the hashes and decodes the images."""
    root = Path(folder) if folder is not None else drive_dir()
    missing = missing_drive_files(root)
    if missing:
        raise DatasetMissingError(missing_message(root, missing))
    return root


def to_use_synthetic() -> str:
    """What makes DRIVE unconfigured again (for messages): ``"unset RRAMPAPER_DRIVE_DIR"``
    and/or ``"remove <data>/drive/DRIVE"``, whichever applies."""
    steps = ["unset RRAMPAPER_DRIVE_DIR"] if os.environ.get("RRAMPAPER_DRIVE_DIR") else []
    if default_drive_dir().exists():
        steps.append(f"remove {default_drive_dir()}")
    return " and ".join(steps) or "nothing (DRIVE is not configured)"


def missing_message(root: Path, missing: list[str]) -> str:
    """The error text for a DRIVE folder that is absent or incomplete: the folder, the first
    missing files and their count, how to get DRIVE and how to use synthetic images instead."""
    if not root.is_dir():
        what = f"the folder {root} " + ("is a file" if root.exists() else "does not exist")
    else:
        what = f"{len(missing)} file(s) are missing from {root}: {first_few(missing)}"
    env = registry.describe_env("RRAMPAPER_DRIVE_DIR", str(default_drive_dir()))
    return (
        f"{DRIVE.title} (DRIVE) is incomplete: {what}.\n"
        f"{DRIVE.how_to_get}.\n"
        f"{env}.\n"
        "DRIVE is used all or nothing: complete the copy, or, to use synthetic fundus images "
        f"instead, {to_use_synthetic()}."
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
        The folder or a required file is missing (the message names them and says where to
        obtain DRIVE); a :class:`~rrampaper.errors.DataError`.
    ChecksumError
        A file differs from the official one (``verify=True``).
    DataError
        A file cannot be decoded as an image (truncated, not a TIFF/GIF) or its size differs
        from the split's first image (the message names the file).
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

    arrays = {rel: _read_rgb(root / rel) for rel in files["images"]}
    for rel in files["1st_manual"] + files["mask"] + (second if has_second else []):
        arrays[rel] = _read_binary(root / rel)
    _check_sizes(root, arrays)
    names = tuple(Path(rel).stem for rel in files["images"])
    return FundusSet(
        images=np.stack([arrays[rel] for rel in files["images"]]),
        vessels=np.stack([arrays[rel] for rel in files["1st_manual"]]),
        fov=np.stack([arrays[rel] for rel in files["mask"]]),
        names=names,
        split=split,
        second_observer=np.stack([arrays[rel] for rel in second]) if has_second else None,
    )


def example_fundus(
    index: int = 0, seed: int = 0, folder: str | os.PathLike[str] | None = None
) -> FundusImage:
    """DRIVE training image ``index`` when ``folder`` is given or DRIVE is configured
    (:func:`drive_configured`), else ``synthetic_fundus(seed)``.

    The returned record's ``synthetic`` attribute says which one it is. A configured but
    incomplete or corrupt copy raises (:func:`load_drive`), never falls back to synthetic.
    """
    if folder is not None or drive_configured():
        return load_drive("train", folder)[index]
    return synthetic_fundus(seed)


def _check_sizes(root: Path, arrays: dict[str, np.ndarray]) -> None:
    """:class:`DataError` naming the files whose size differs from that of most files."""
    sizes = Counter(array.shape[:2] for array in arrays.values())
    (rows, cols), count = sizes.most_common(1)[0]
    odd = [rel for rel, array in arrays.items() if array.shape[:2] != (rows, cols)]
    if odd:
        listed = first_few([f"{r} ({arrays[r].shape[1]} x {arrays[r].shape[0]})" for r in odd])
        raise DataError(
            f"{len(odd)} DRIVE file(s) in {root} differ in size from the other {count} "
            f"({cols} x {rows} pixels; DRIVE: {IMAGE_SHAPE[1]} x {IMAGE_SHAPE[0]}): {listed}; "
            f"replace them with the files of the official release ({DRIVE.homepage})"
        )


def _decode(path: Path, mode: str) -> np.ndarray:
    """The image at ``path`` converted to ``mode``; :class:`DataError` naming the file when it
    cannot be decoded."""
    try:
        with Image.open(path) as image:
            array = np.asarray(image.convert(mode), dtype=np.uint8)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise DataError(
            f"{path} is not a readable DRIVE image ({type(error).__name__}: {error}); replace it "
            f"with the file of the official release ({DRIVE.homepage})"
        ) from error
    return array


def _read_rgb(path: Path) -> np.ndarray:
    return _decode(path, "RGB")


def _read_binary(path: Path) -> np.ndarray:
    """A two-valued GIF (mode L {0,255} or palette) as bool: true where brighter than 50 %."""
    return _decode(path, "L") > 127
