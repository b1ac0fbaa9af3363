"""The paper's pre-extracted spoken-digit features: 23x20 per FSDD recording.

Source: the authors' repository
https://github.com/lyd126/Pruning_random_resistive_memory_for_optimizing_analogue_AI,
``CRNN_Spoken_Digit_TO/{train,test}_features.npz`` (commit 50287fc); licence not stated, derived
from FSDD (CC BY-SA 4.0). The CRNN of the paper reads these, as a [23, 20] matrix per recording:
rows behave like 10 floored band energies followed by MFCC c0-c12, columns are 20 frames with a
hop of 256 samples (32 ms at 8 kHz); every sample is min-max scaled to [0, 1]. The recipe that
made them is not published. 2,100 training and 900 test recordings: a random 70/30 split of all
3,000 FSDD v1.0.10 recordings, **not** FSDD's official take-index split.

The official files are pickled object arrays, which can run arbitrary code when loaded, so this
package never opens them: it reads plain ``train.npz``/``test.npz`` holding ``X`` float32
[N,23,20] and ``y`` int64 [N] with ``np.load(..., allow_pickle=False)``. The folder README
(``rrampaper/data/README.md``) shows the one-off conversion.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import TensorDataset

from rrampaper._checks import check_choice
from rrampaper.data import registry
from rrampaper.data.errors import ChecksumError
from rrampaper.data.splits import label_counts, split_indices

#: Shape of one feature matrix: (coefficients, frames).
FEATURE_SHAPE = (23, 20)

#: SHA-256 of the arrays themselves (``X`` bytes then ``y`` bytes, C order, native little-endian
#: float32/int64). A user's own conversion of the authors' files verifies against these even
#: when its ``.npz`` container differs byte-wise from the registry's (zip timestamps, zlib).
CONTENT_SHA256 = {
    "train": "fe8c5515e3cd9aa85ccb4aef6ee1ddd7f93bce10a063a659f4600ee2ecd4952b",
    "test": "8e22de5ab9aaadaa4973ffd0a3ea32a26c59d59365f6176a5f1e161984670026",
}


@dataclass(frozen=True)
class SpokenFeatures:
    """One split of the paper's spoken-digit features.

    Attributes
    ----------
    X:
        float32 [N, 23, 20], values in [0, 1] (rows: coefficients, columns: 32 ms frames).
    y:
        int64 [N], the spoken digit 0-9.
    split:
        ``"train"`` (2,100), ``"test"`` (900) or a derived name such as ``"validation"``.
    """

    X: np.ndarray
    y: np.ndarray
    split: str

    def __post_init__(self) -> None:
        if self.X.dtype != np.float32 or self.X.shape[1:] != FEATURE_SHAPE:
            raise ValueError(f"X must be float32 [N,23,20], got {self.X.dtype} {self.X.shape}")
        if self.y.dtype != np.int64 or self.y.shape != self.X.shape[:1]:
            raise ValueError(f"y must be int64 [{len(self.X)}], got {self.y.dtype} {self.y.shape}")

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def label_counts(self) -> np.ndarray:
        """Number of samples per digit (int64 [10])."""
        return label_counts(self.y, 10)

    def subset(self, indices: np.ndarray, split: str | None = None) -> SpokenFeatures:
        """The samples at ``indices``, as a new record named ``split`` (default: same name)."""
        return SpokenFeatures(self.X[indices], self.y[indices], split or self.split)

    def train_validation_split(
        self, n_validation: int = 210, seed: int = 0, *, stratify: bool = True
    ) -> tuple[SpokenFeatures, SpokenFeatures]:
        """Seeded (train, validation) split; 210 validation samples (10 %) by default."""
        train, validation = split_indices(self.y, n_validation, seed, stratify=stratify)
        return self.subset(train, "train"), self.subset(validation, "validation")

    def to_tensor_dataset(self) -> TensorDataset:
        """A :class:`~torch.utils.data.TensorDataset` of (X float32 [23,20], y int64).

        No channel axis is added: the paper's CRNN unsqueezes the input itself.
        """
        return TensorDataset(torch.from_numpy(self.X), torch.from_numpy(self.y))


def read_features(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read ``X``, ``y`` from a plain ``.npz`` file, refusing anything that needs pickle.

    Raises
    ------
    ValueError
        The file holds object (pickled) arrays, like the authors' original files, or lacks
        ``X``/``y`` of the documented dtypes and shapes.
    """
    try:
        with np.load(path, allow_pickle=False) as archive:
            if not {"X", "y"} <= set(archive.files):
                raise ValueError(f"{path}: expected arrays 'X' and 'y', found {archive.files}")
            X, y = archive["X"], archive["y"]
    except ValueError as error:
        if "pickle" not in str(error).lower():
            raise
        raise ValueError(
            f"{path} holds pickled object arrays (like the authors' original *_features.npz). "
            "rrampaper never unpickles data files, which can run code. Convert it once into "
            "plain arrays X float32 [N,23,20] and y int64 [N] (rrampaper/data/README.md)."
        ) from error
    if X.dtype != np.float32 or X.ndim != 3 or X.shape[1:] != FEATURE_SHAPE:
        raise ValueError(f"{path}: X must be float32 [N,23,20], got {X.dtype} {X.shape}")
    if y.dtype != np.int64 or y.shape != X.shape[:1]:
        raise ValueError(f"{path}: y must be int64 [{X.shape[0]}], got {y.dtype} {y.shape}")
    return X, y


def content_sha256(X: np.ndarray, y: np.ndarray) -> str:
    """SHA-256 of the feature arrays' bytes (``X`` then ``y``), independent of the container."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(X, dtype="<f4").tobytes())
    digest.update(np.ascontiguousarray(y, dtype="<i8").tobytes())
    return digest.hexdigest()


def verify_features(path: str | os.PathLike[str], split: str) -> None:
    """Accept ``path`` if its file SHA-256 or its arrays' SHA-256 is the known one.

    Raises
    ------
    ChecksumError
        Neither matches.
    """
    relpath = f"spoken-digit-features/{split}.npz"
    try:
        registry.verify(relpath, path)
    except ChecksumError as file_error:
        actual = content_sha256(*read_features(path))
        if actual != CONTENT_SHA256[split]:
            raise ChecksumError(
                str(path),
                f"{file_error.expected} (file) or {CONTENT_SHA256[split]} (arrays X, y)",
                f"{file_error.actual} (file), {actual} (arrays X, y)",
                "These are not the paper's features. Convert the authors' "
                f"{split}_features.npz again as rrampaper/data/README.md shows, or set "
                "RRAMPAPER_DATA_DIR to a folder holding a verified copy.",
            ) from None


def load_spoken_features(split: str = "train") -> SpokenFeatures:
    """Load the paper's spoken-digit features (``"train"``: 2,100 samples, ``"test"``: 900).

    Reads ``$RRAMPAPER_DATA_DIR/spoken-digit-features/{split}.npz``, verified by file or array
    SHA-256 (:func:`verify_features`). These are never downloaded: when missing, the error says what they are, where the originals are
    and how to convert them.
    """
    check_choice("split", split, ("train", "test"))
    relpath = f"spoken-digit-features/{split}.npz"
    path = registry.local_path(relpath)
    if not path.is_file():
        registry.fetch(relpath)  # never downloads: raises DatasetMissingError with the recipe
    verify_features(path, split)
    X, y = read_features(path)
    return SpokenFeatures(X, y, split)
