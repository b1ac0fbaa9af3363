"""Exact per-layer top-k masks.

A layer of ``n`` weights with ``keep_ratio`` keeps exactly ``kept_count(n, keep_ratio) =
ceil(keep_ratio * n)`` weights: the ones with the largest score magnitude. This is the official
code's ``n - int((1 - k) * n)`` (it prunes the ``int((1 - k) * n)`` smallest), written so that
floating-point error cannot move it by one (``0.3 * 10`` is ``3.0000000000000004`` in binary
floating point, whose plain ceiling would be 4).

Ties at the threshold are broken by position: among equal magnitudes the lowest flat indices
(``tensor.reshape(-1)`` order) are kept, so the mask is a deterministic function of the scores.

Speed (2-core CPU, torch 2.13, 51,200 scores): a full ``sort`` (the official code, on every
forward) takes ~3 ms; ``torch.kthvalue``/``torch.topk`` ~0.5 ms (they track indices and slow down
sharply beyond ~16k elements on CPU); NumPy's introselect (``np.partition``) 0.03 ms. The threshold
is therefore found with ``np.partition`` for float32/float64 CPU tensors (the comparisons run
in NumPy too, where they are ~3x faster than in torch for tensors of this size) and with
``torch.kthvalue`` elsewhere (CUDA, other dtypes); both give the exact k-th largest value.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from rrampaper._checks import check_positive_int, check_range


def kept_count(numel: int, keep_ratio: float) -> int:
    """Number of weights kept in a layer of ``numel`` weights: ``ceil(keep_ratio * numel)``.

    A product within a relative 1e-9 of an integer is taken as that integer before the ceiling,
    so that binary floating-point error cannot add one; the result is at least 1.

    Examples
    --------
    >>> kept_count(10, 0.3), kept_count(9, 0.5), kept_count(62272, 0.5)
    (3, 5, 31136)
    """
    numel = check_positive_int("numel", numel)
    check_range("keep_ratio", keep_ratio, 0.0, 1.0, low_open=True)
    product = keep_ratio * numel
    nearest = round(product)
    if abs(product - nearest) <= 1e-9 * max(1.0, product):
        product = nearest
    return max(1, min(numel, math.ceil(product)))


def _numpy_topk_mask(values: np.ndarray, k: int, dtype: torch.dtype) -> Tensor | None:
    """CPU fast path: the top-k mask if no tie straddles the threshold, else ``None``."""
    n = values.size
    partitioned = np.partition(values, n - k)  # introselect, no index tracking
    threshold = partitioned[n - k]
    if partitioned[: n - k].max() >= threshold:  # a pruned value equals the threshold: a tie
        return None
    keep = values >= threshold
    if dtype == torch.bool:
        return torch.from_numpy(keep)
    return torch.from_numpy(keep.astype(np.float32)).to(dtype)


def topk_mask(magnitude: Tensor, k: int, dtype: torch.dtype = torch.bool) -> Tensor:
    """Mask of ``magnitude``'s shape with exactly ``k`` ones: the ``k`` largest entries.

    Parameters
    ----------
    magnitude:
        Score magnitudes (any shape, no NaN); read without autograd.
    k:
        Number of entries to keep, ``1 <= k <= magnitude.numel()``.
    dtype:
        ``torch.bool`` or a floating dtype (ones and zeros).

    Returns
    -------
    Ones for the ``k`` largest entries; ties at the threshold go to the lowest flat indices.
    On CUDA no value is copied to the host (no synchronization).
    """
    flat = magnitude.detach().reshape(-1)
    n = flat.numel()
    if not 1 <= k <= n:
        raise ValueError(f"k={k} is outside the valid range [1, {n}]")
    if k == n:
        return torch.ones(magnitude.shape, dtype=dtype, device=magnitude.device)
    if flat.device.type == "cpu" and flat.dtype in (torch.float32, torch.float64):
        mask = _numpy_topk_mask(flat.numpy(), k, dtype)
        if mask is not None:
            return mask.reshape(magnitude.shape)
        threshold = torch.from_numpy(np.partition(flat.numpy(), n - k)[n - k : n - k + 1])[0]
    else:
        threshold = torch.kthvalue(flat, n - k + 1).values
    above = flat > threshold
    equal = flat == threshold
    still_needed = k - above.sum()
    mask = above | (equal & (torch.cumsum(equal, 0) <= still_needed))
    return mask.reshape(magnitude.shape).to(dtype)
