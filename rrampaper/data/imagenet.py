"""ImageNet-100, read from the user's own ImageNet copy in ImageFolder layout (never downloaded).

ImageNet-100 is the 100-class subset of ImageNet (ILSVRC-2012) used by Tian, Krishnan & Isola,
"Contrastive Multiview Coding", ECCV 2020 (arXiv 1906.05849, 2019), listed in
:data:`IMAGENET100_CLASSES` as WordNet ids, copied from the file ``imagenet100.txt`` of their
repository (https://github.com/HobbitLong/CMC, commit bc687a26de7ae350d98f671d25d164b65336b8c2).
The paper claims "scalability to ResNet-50 on ImageNet-100" (Nature Communications 2026) but
does not say which 100 classes it used (docs/paper.md#generality-and-scalability); CMC's list
is the de-facto standard one, so this package assumes it.

**Licence.** ImageNet's terms of access allow non-commercial research and educational use by
those who accepted them and forbid redistribution, so this package never downloads or ships
ImageNet images: obtain ILSVRC-2012 from https://image-net.org/download-images, and point
``RRAMPAPER_IMAGENET100_DIR`` (or ``folder=``) at a folder in ImageFolder layout::

    <root>/train/<wnid>/*.JPEG      (about 1,300 images per class)
    <root>/val/<wnid>/*.JPEG        (50 per class; the official validation images come in one
                                     flat folder and must first be sorted into class folders)

Extra class folders are ignored, so a full ImageNet-1k ImageFolder works as it is. Labels are
the positions of the wnids in sorted order (:data:`LABEL_ORDER`), as torchvision's
``ImageFolder`` assigns them.

**Preprocessing** (the standard ImageNet evaluation transform, He et al. CVPR 2016 and
torchvision's reference scripts): decode with PIL to RGB, resize the shorter side to
``resize`` pixels (default ``round(size * 256 / 224)``) with bilinear filtering, crop the
central ``size`` x ``size`` pixels, scale to [0, 1] and normalize per channel with
:data:`MEAN` and :data:`STD` (the ImageNet training-set statistics).

Examples
--------
>>> from rrampaper.data.imagenet import ImageNet100, imagenet100_available   # doctest: +SKIP
>>> val = ImageNet100("val", size=64)                                         # doctest: +SKIP
>>> x, label = val[0]; x.shape, len(val)                                      # doctest: +SKIP
(torch.Size([3, 64, 64]), 5000)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset

from rrampaper._checks import check_choice, check_positive_int
from rrampaper.data.errors import DatasetMissingError
from rrampaper.data.sources import Source
from rrampaper.paths import data_dir

#: The 100 ImageNet classes of CMC (Tian et al. 2019), in the order of CMC's ``imagenet100.txt``.
IMAGENET100_CLASSES: tuple[str, ...] = (
    "n02869837", "n01749939", "n02488291", "n02107142", "n13037406", "n02091831", "n04517823",
    "n04589890", "n03062245", "n01773797", "n01735189", "n07831146", "n07753275", "n03085013",
    "n04485082", "n02105505", "n01983481", "n02788148", "n03530642", "n04435653", "n02086910",
    "n02859443", "n13040303", "n03594734", "n02085620", "n02099849", "n01558993", "n04493381",
    "n02109047", "n04111531", "n02877765", "n04429376", "n02009229", "n01978455", "n02106550",
    "n01820546", "n01692333", "n07714571", "n02974003", "n02114855", "n03785016", "n03764736",
    "n03775546", "n02087046", "n07836838", "n04099969", "n04592741", "n03891251", "n02701002",
    "n03379051", "n02259212", "n07715103", "n03947888", "n04026417", "n02326432", "n03637318",
    "n01980166", "n02113799", "n02086240", "n03903868", "n02483362", "n04127249", "n02089973",
    "n03017168", "n02093428", "n02804414", "n02396427", "n04418357", "n02172182", "n01729322",
    "n02113978", "n03787032", "n02089867", "n02119022", "n03777754", "n04238763", "n02231487",
    "n03032252", "n02138441", "n02104029", "n03837869", "n03494278", "n04136333", "n03794056",
    "n03492542", "n02018207", "n04067472", "n03930630", "n03584829", "n02123045", "n04229816",
    "n02100583", "n03642806", "n04336792", "n03259280", "n02116738", "n02108089", "n03424325",
    "n01855672", "n02090622",
)

#: Where :data:`IMAGENET100_CLASSES` comes from.
CLASSES_SOURCE = (
    "https://github.com/HobbitLong/CMC/blob/bc687a26de7ae350d98f671d25d164b65336b8c2/"
    "imagenet100.txt (Tian, Krishnan, Isola, Contrastive Multiview Coding, arXiv 1906.05849)"
)

#: Class ``i`` is ``LABEL_ORDER[i]``: the wnids sorted, as torchvision's ImageFolder labels them.
LABEL_ORDER: tuple[str, ...] = tuple(sorted(IMAGENET100_CLASSES))

#: Per-channel mean and standard deviation of ImageNet training images (RGB, pixel / 255),
#: the constants of torchvision's reference training scripts.
MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
STD: tuple[float, float, float] = (0.229, 0.224, 0.225)

#: Image file suffixes accepted in a class folder (compared case-insensitively).
EXTENSIONS: tuple[str, ...] = (".jpeg", ".jpg", ".png")

SPLITS: tuple[str, ...] = ("train", "val")

ENV_VAR = "RRAMPAPER_IMAGENET100_DIR"

IMAGENET100 = Source(
    name="imagenet100",
    title="ImageNet-100 (CMC subset of ILSVRC-2012)",
    prefix="imagenet100/",
    homepage="https://image-net.org/",
    licence=(
        "ImageNet terms of access: non-commercial research and education only, no "
        "redistribution; use restricted to those who accepted the terms"
    ),
    citation=(
        "O. Russakovsky et al., ImageNet Large Scale Visual Recognition Challenge, IJCV "
        "115:211-252 (2015); class subset: Y. Tian, D. Krishnan, P. Isola, Contrastive "
        "Multiview Coding, arXiv 1906.05849 (2019)"
    ),
    base_url=None,
    env_var=ENV_VAR,
    how_to_get=(
        "ImageNet's licence (terms of access) forbids redistribution, so rrampaper never "
        "downloads or ships it: you must obtain ILSVRC-2012 yourself from "
        "https://image-net.org/download-images after accepting its terms, arrange it as "
        "<root>/{train,val}/<wnid>/*.JPEG (the official validation images must be sorted into "
        f"class folders; a full ImageNet-1k ImageFolder works too) and set {ENV_VAR}=<root> "
        "(or pass folder=...)"
    ),
    used_for="ResNet-50 on ImageNet-100, the paper's scalability claim "
             "(docs/paper.md#generality-and-scalability)",
)


def imagenet100_dir() -> Path:
    """The folder expected to hold ``train/`` and ``val/``: ``$RRAMPAPER_IMAGENET100_DIR``, else
    ``<data folder>/imagenet100``."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    return data_dir() / "imagenet100"


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in EXTENSIONS)


def find_images(
    split: str, folder: str | os.PathLike[str] | None = None
) -> tuple[list[Path], np.ndarray]:
    """Image files and labels of one split, after checking the folder against the class list.

    Parameters
    ----------
    split:
        ``"train"`` or ``"val"``.
    folder:
        The ImageFolder root (default :func:`imagenet100_dir`).

    Returns
    -------
    files, labels:
        Sorted by class (label order) then file name; ``labels`` is int64.

    Raises
    ------
    DatasetMissingError
        The root or split folder is absent, some of the 100 classes have no folder, or a class
        folder holds no image; the message says what is missing and how to get ImageNet.
    """
    check_choice("split", split, SPLITS)
    root = Path(folder) if folder is not None else imagenet100_dir()
    where = root / split
    if not where.is_dir():
        raise DatasetMissingError(
            f"ImageNet-100 {split!r} split not found: {where} is not a folder.\n"
            f"{IMAGENET100.how_to_get}"
        )
    present = {p.name for p in where.iterdir() if p.is_dir()}
    missing = [w for w in LABEL_ORDER if w not in present]
    if missing:
        shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        raise DatasetMissingError(
            f"{where} lacks {len(missing)} of the 100 ImageNet-100 class folders ({shown}); the "
            f"class list is {CLASSES_SOURCE}.\n{IMAGENET100.how_to_get}"
        )
    files: list[Path] = []
    labels: list[int] = []
    empty = []
    for label, wnid in enumerate(LABEL_ORDER):
        found = _images_in(where / wnid)
        if not found:
            empty.append(wnid)
        files.extend(found)
        labels.extend([label] * len(found))
    if empty:
        raise DatasetMissingError(
            f"{len(empty)} class folders of {where} hold no image with a suffix in {EXTENSIONS}: "
            f"{', '.join(empty[:5])}{', ...' if len(empty) > 5 else ''}.\n{IMAGENET100.how_to_get}"
        )
    return files, np.asarray(labels, dtype=np.int64)


def imagenet100_available(folder: str | os.PathLike[str] | None = None) -> bool:
    """Whether both splits of ImageNet-100 are present with an image in every class folder."""
    try:
        for split in SPLITS:
            find_images(split, folder)
    except DatasetMissingError:
        return False
    return True


def preprocess(image: Image.Image, size: int = 224, resize: int | None = None) -> Tensor:
    """The evaluation transform: RGB, shorter side to ``resize`` px, central ``size`` crop,
    normalized with :data:`MEAN`/:data:`STD`; returns float32 ``[3, size, size]``.

    >>> preprocess(Image.new("RGB", (300, 200), (124, 116, 104)), size=8).shape
    torch.Size([3, 8, 8])
    """
    size = check_positive_int("size", size)
    resize = round(size * 256 / 224) if resize is None else check_positive_int("resize", resize)
    if resize < size:
        raise ValueError(f"resize={resize} must be >= size={size} (the crop is inside it)")
    image = image.convert("RGB")
    width, height = image.size
    scale = resize / min(width, height)
    new = (max(size, round(width * scale)), max(size, round(height * scale)))
    image = image.resize(new, Image.Resampling.BILINEAR)
    left, top = (new[0] - size) // 2, (new[1] - size) // 2
    image = image.crop((left, top, left + size, top + size))
    pixels = torch.from_numpy(np.asarray(image, dtype=np.uint8).copy()).permute(2, 0, 1)
    mean = torch.tensor(MEAN).view(3, 1, 1)
    std = torch.tensor(STD).view(3, 1, 1)
    return (pixels.float().div_(255.0) - mean) / std


class ImageNet100(Dataset):
    """One split of ImageNet-100, decoded lazily: ``dataset[i] -> (image [3, size, size], label)``.

    Parameters
    ----------
    split:
        ``"train"`` or ``"val"``.
    folder:
        The ImageFolder root (default :func:`imagenet100_dir`).
    size, resize:
        Crop size and shorter-side size in pixels (see :func:`preprocess`).
    per_class:
        Keep only the first ``per_class`` files (by name) of each class (``None``: all).
    """

    classes: tuple[str, ...] = LABEL_ORDER

    def __init__(
        self,
        split: str,
        folder: str | os.PathLike[str] | None = None,
        *,
        size: int = 224,
        resize: int | None = None,
        per_class: int | None = None,
    ) -> None:
        self.split = split
        self.size = check_positive_int("size", size)
        self.resize = resize
        files, labels = find_images(split, folder)
        if per_class is not None:
            check_positive_int("per_class", per_class)
            keep = np.concatenate(
                [np.flatnonzero(labels == c)[:per_class] for c in range(len(LABEL_ORDER))]
            )
            files, labels = [files[i] for i in keep], labels[keep]
        self.files = files
        self.labels = labels

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        with Image.open(self.files[index]) as image:
            x = preprocess(image, self.size, self.resize)
        return x, int(self.labels[index])

    def to_tensors(self) -> tuple[Tensor, Tensor]:
        """Every image decoded: ``(float32 [N, 3, size, size], int64 [N])`` (memory: 12 * size^2
        bytes per image, e.g. 6.2 GB for the 126,689 training images at 64 px)."""
        images = torch.empty((len(self), 3, self.size, self.size), dtype=torch.float32)
        for i in range(len(self)):
            images[i] = self[i][0]
        return images, torch.from_numpy(self.labels.copy())

    def label_counts(self) -> np.ndarray:
        """Images per class, int64 ``[100]``."""
        return np.bincount(self.labels, minlength=len(LABEL_ORDER))

    def __repr__(self) -> str:
        return f"ImageNet100(split={self.split!r}, n={len(self)}, size={self.size})"


def load_imagenet100(
    split: str,
    *,
    size: int = 224,
    per_class: int | None = None,
    folder: str | os.PathLike[str] | None = None,
) -> tuple[Tensor, Tensor]:
    """One split decoded into memory: ``(images [N, 3, size, size], labels [N])``."""
    return ImageNet100(split, folder, size=size, per_class=per_class).to_tensors()
