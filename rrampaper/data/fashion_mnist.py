"""Fashion-MNIST, decoded from the official idx files (no torchvision needed).

Source: Xiao, Rasul, Vollgraf, arXiv:1708.07747 (2017); MIT licence, Zalando SE. 60,000 training
and 10,000 test images of 28x28 grey pixels (uint8, 0 = background), 10 balanced classes. The
paper's image-classification task trains its CNN (62,272 weights) on it.

Examples
--------
>>> from rrampaper.data import load_fashion_mnist           # doctest: +SKIP
>>> train = load_fashion_mnist("train")                      # doctest: +SKIP
>>> fit, val = train.train_validation_split(5000, seed=0)    # doctest: +SKIP
>>> dataset = fit.to_tensor_dataset()                        # doctest: +SKIP
>>> x, y = dataset[0]; x.shape                               # doctest: +SKIP
torch.Size([1, 28, 28])
"""

from __future__ import annotations

import gzip
import os
import struct
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import TensorDataset

from rrampaper._checks import check_choice
from rrampaper.data import registry
from rrampaper.data.splits import label_counts, split_indices

#: Class names in label order (upstream README).
CLASSES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

#: Normalization of the paper's code, ``Normalize((0.1307,), (0.3081,))`` applied to pixel/255.
#: These are the MNIST constants (the Fashion-MNIST ones would be 0.2860, 0.3530); the paper's
#: Fashion-MNIST scripts use them, so this package does too.
MEAN, STD = 0.1307, 0.3081

IMAGES_MAGIC, LABELS_MAGIC = 0x00000803, 0x00000801

_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def read_idx(path: str | os.PathLike[str], expected_magic: int) -> np.ndarray:
    """Decode a gzipped idx file of unsigned bytes (LeCun's MNIST format) into a numpy array.

    The header is a big-endian magic number ``0x000008DD`` (``08`` = uint8, ``DD`` = number of
    dimensions) followed by one big-endian uint32 per dimension.

    Raises
    ------
    ValueError
        Wrong magic number or a payload whose size does not match the header.
    """
    with gzip.open(path, "rb") as stream:
        data = stream.read()
    (magic,) = struct.unpack(">I", data[:4])
    if magic != expected_magic:
        raise ValueError(
            f"{path}: idx magic number is {magic:#010x}, expected {expected_magic:#010x}"
        )
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    dims = struct.unpack(f">{ndim}I", data[4:header])
    if len(data) - header != int(np.prod(dims)):
        raise ValueError(
            f"{path}: header says {dims} = {int(np.prod(dims))} bytes, found {len(data) - header}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims).copy()


def normalize(images: np.ndarray) -> torch.Tensor:
    """Images uint8 [N,28,28] -> float32 tensor [N,1,28,28] of ``(pixel/255 - MEAN) / STD``."""
    x = torch.from_numpy(np.ascontiguousarray(images)).to(torch.float32).div_(255.0)
    return x.sub_(MEAN).div_(STD).unsqueeze(1)


@dataclass(frozen=True)
class FashionMNIST:
    """One split of Fashion-MNIST.

    Attributes
    ----------
    images:
        uint8 [N, 28, 28], pixel intensity 0-255 (0 = background).
    labels:
        int64 [N], class index 0-9 (names in :attr:`classes`).
    split:
        ``"train"``, ``"test"`` or a derived name such as ``"validation"``.
    """

    images: np.ndarray
    labels: np.ndarray
    split: str
    classes: tuple[str, ...] = CLASSES

    def __post_init__(self) -> None:
        if self.images.dtype != np.uint8 or self.images.shape[1:] != (28, 28):
            raise ValueError(
                f"images must be uint8 [N,28,28], got {self.images.dtype} {self.images.shape}"
            )
        if self.labels.dtype != np.int64 or self.labels.shape != self.images.shape[:1]:
            raise ValueError(
                f"labels must be int64 [{len(self.images)}], got "
                f"{self.labels.dtype} {self.labels.shape}"
            )

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def label_counts(self) -> np.ndarray:
        """Number of images per class (int64 [10])."""
        return label_counts(self.labels, len(self.classes))

    def subset(self, indices: np.ndarray, split: str | None = None) -> FashionMNIST:
        """The images at ``indices``, as a new record named ``split`` (default: same name)."""
        return FashionMNIST(self.images[indices], self.labels[indices], split or self.split)

    def train_validation_split(
        self, n_validation: int = 5000, seed: int = 0, *, stratify: bool = True
    ) -> tuple[FashionMNIST, FashionMNIST]:
        """Seeded split into (train, validation); 5,000 validation images by default.

        With ``stratify`` (default) a balanced training set gives exactly
        ``n_validation / 10`` validation images per class. See :func:`split_indices`.
        """
        train, validation = split_indices(self.labels, n_validation, seed, stratify=stratify)
        return self.subset(train, "train"), self.subset(validation, "validation")

    def to_tensor_dataset(self, normalize_images: bool = True) -> TensorDataset:
        """A :class:`~torch.utils.data.TensorDataset` of (image float32 [1,28,28], label int64).

        With ``normalize_images`` the paper's ``(pixel/255 - 0.1307) / 0.3081`` is applied
        once, up front, instead of per sample in a transform.
        """
        if normalize_images:
            x = normalize(self.images)
        else:
            x = torch.from_numpy(self.images).to(torch.float32).div_(255.0).unsqueeze(1)
        return TensorDataset(x, torch.from_numpy(self.labels))


def load_fashion_mnist(split: str = "train", *, download: bool = True) -> FashionMNIST:
    """Load a Fashion-MNIST split (``"train"``: 60,000 images, ``"test"``: 10,000).

    The files are looked up under ``$RRAMPAPER_DATA_DIR/fashion-mnist/`` (SHA-256 verified) and
    downloaded from the official S3 bucket when missing and ``download`` is true.
    """
    check_choice("split", split, _FILES)
    images_file, labels_file = _FILES[split]
    images_path, labels_path = registry.fetch_many(
        [f"fashion-mnist/{images_file}", f"fashion-mnist/{labels_file}"], download=download
    )
    images = read_idx(images_path, IMAGES_MAGIC)
    labels = read_idx(labels_path, LABELS_MAGIC).astype(np.int64)
    return FashionMNIST(images, labels, split)
