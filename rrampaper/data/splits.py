"""Seeded train/validation splits and label counts, shared by the dataset loaders.

Model selection and learning-rate schedules use a validation split carved out of the training
set, never the test set (the official scripts select on the test set; this package does not).
"""

from __future__ import annotations

import numpy as np

from rrampaper._checks import check_positive_int


def split_indices(
    labels: np.ndarray, n_validation: int, seed: int = 0, *, stratify: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a seeded train/validation split of a labelled set.

    Parameters
    ----------
    labels:
        Integer class labels, shape [N].
    n_validation:
        Number of validation samples, 1 <= n_validation < N.
    seed:
        Seed of the :func:`numpy.random.default_rng` that draws the split.
    stratify:
        If true, each class gets ``n_validation * class_count / N`` validation samples (largest
        remainders rounded up), so a balanced set gives a balanced validation split.

    Returns
    -------
    (train, validation):
        Sorted int64 index arrays, disjoint, together covering ``range(N)``.
    """
    labels = np.asarray(labels)
    n = labels.shape[0]
    n_validation = check_positive_int("n_validation", n_validation)
    if n_validation >= n:
        raise ValueError(f"n_validation={n_validation} must be smaller than the set size {n}")
    rng = np.random.default_rng(seed)
    if not stratify:
        chosen = rng.permutation(n)[:n_validation]
    else:
        classes, counts = np.unique(labels, return_counts=True)
        quota = n_validation * counts / n
        take = np.floor(quota).astype(np.int64)
        remainder_order = np.argsort(-(quota - take), kind="stable")
        take[remainder_order[: n_validation - take.sum()]] += 1
        chosen = np.concatenate(
            [
                rng.permutation(np.flatnonzero(labels == c))[:k]
                for c, k in zip(classes, take, strict=True)
            ]
        )
    validation = np.sort(chosen).astype(np.int64)
    train = np.setdiff1d(np.arange(n, dtype=np.int64), validation, assume_unique=True)
    return train, validation


def label_counts(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Number of samples per class 0..n_classes-1 (int64, shape [n_classes])."""
    return np.bincount(np.asarray(labels, dtype=np.int64), minlength=n_classes)
