"""Retinal-vessel segmentation plumbing: preprocessing, training patches, sliding-window inference.

Three independent steps, each a plain function of arrays (no model or task inside):

1. :func:`preprocess`: the preprocessing of the official code's ``lib/pre_processing.my_PreProc``
   (inherited from the public retina-unet / VesselSeg-Pytorch code bases; docs/paper.md#drive):
   RGB -> grey (ITU-R BT.601 weights 0.299/0.587/0.114) -> z-score with dataset statistics ->
   per-image min-max to 0..255 (8-bit) -> CLAHE (clip 2.0, 8 x 8 tiles) -> gamma 1.2 -> [0, 1].
2. :func:`sample_patch_centres` / :func:`extract_patches`: random square training patches whose
   centre pixel lies inside the field of view (FOV), with random left-right / up-down flips
   (p = 0.5 each) and rotations by a multiple of 90° (uniform), seeded.
3. :func:`sliding_window`: whole-image inference from overlapping windows, stitched by averaging
   every window's output over the pixels it covers (exact: a pixel covered by ``k`` windows that
   agree gets exactly their value).

Examples
--------
>>> import numpy as np, torch
>>> from rrampaper.data import synthetic_fundus
>>> f = synthetic_fundus(0, height=96, width=96)
>>> grey = preprocess(f.image[None])
>>> grey.dtype, float(grey.min()), float(grey.max())
(dtype('float32'), 0.0, 1.0)
>>> image = torch.from_numpy(grey)[:, None]
>>> out = sliding_window(lambda x: x, image, window=48, stride=40)   # identity model
>>> bool(torch.equal(out, image))
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from skimage.exposure import equalize_adapthist
from torch import Tensor

from rrampaper._checks import check_positive_int, check_range

#: ITU-R BT.601 luma weights of R, G, B (the official ``rgb2gray``).
GREY_WEIGHTS: tuple[float, float, float] = (0.299, 0.587, 0.114)

#: CLAHE clip limit in OpenCV's convention (multiples of the mean bin count), official value.
CLAHE_CLIP = 2.0
#: CLAHE tiles per image side (OpenCV ``tileGridSize=(8, 8)``), official value.
CLAHE_TILES = 8
#: Gamma of the official ``adjust_gamma`` (output = input ** (1 / gamma), a brightening).
GAMMA = 1.2

#: Target value of pixels the loss ignores (outside the FOV or outside the image); the
#: official U-Net loss is ``NLLLoss(ignore_index=255)``.
IGNORE_INDEX = 255


def to_grey(images: np.ndarray) -> np.ndarray:
    """RGB ``uint8 [N, H, W, 3]`` -> grey ``float64 [N, H, W]`` in 0..255 (BT.601 weights)."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"images must be [N, H, W, 3] RGB, got shape {images.shape}")
    return images.astype(np.float64) @ np.asarray(GREY_WEIGHTS)


@dataclass(frozen=True)
class GreyStats:
    """Mean and standard deviation of grey levels (0..255) of a data set, for the z-score."""

    mean: float
    std: float

    @classmethod
    def of(cls, images: np.ndarray) -> GreyStats:
        """Statistics of RGB ``uint8 [N, H, W, 3]`` images after :func:`to_grey`."""
        grey = to_grey(images)
        return cls(float(grey.mean()), float(grey.std()))


def preprocess(
    images: np.ndarray,
    stats: GreyStats | None = None,
    *,
    clahe_clip: float = CLAHE_CLIP,
    clahe_tiles: int = CLAHE_TILES,
    gamma: float = GAMMA,
) -> np.ndarray:
    """The official preprocessing: RGB ``uint8 [N, H, W, 3]`` -> ``float32 [N, H, W]`` in [0, 1].

    Steps (``my_PreProc``; docs/paper.md#drive):

    1. grey = 0.299 R + 0.587 G + 0.114 B;
    2. z-score ``(grey - stats.mean) / stats.std`` with the data set's statistics (``stats``
       ``None``: those of ``images``, as the official code computes them per set), then per-image
       min-max to 0..255 and truncation to 8 bits (``np.array(..., dtype=np.uint8)``). Because
       the min-max step follows an increasing affine map, the result does not depend on the
       statistics: step 2 equals a per-image min-max of the grey image;
    3. CLAHE with ``skimage.exposure.equalize_adapthist``: ``clahe_tiles x clahe_tiles``
       contextual regions and the clip limit converted from OpenCV's convention
       (``clipLimit * tile_pixels / 256``) to scikit-image's (``clip_limit * tile_pixels``), i.e.
       ``clip_limit = clahe_clip / 256`` with 256 bins. Its output is rescaled to [0, 1];
    4. gamma: ``x ** (1 / gamma)`` (the official lookup table ``((i / 255) ** (1 / gamma)) * 255``
       without its 8-bit rounding).

    The output spans exactly [0, 1] per image and is deterministic (no randomness).
    """
    check_range("clahe_clip", clahe_clip, 0.0, low_open=True)
    clahe_tiles = check_positive_int("clahe_tiles", clahe_tiles)
    check_range("gamma", gamma, 0.0, low_open=True)
    grey = to_grey(images)
    stats = stats or GreyStats(float(grey.mean()), float(grey.std()))
    if not stats.std > 0:
        raise ValueError(f"stats.std={stats.std!r} must be > 0 (a constant data set cannot be normalized)")
    z = (grey - stats.mean) / stats.std
    out = np.empty(grey.shape, dtype=np.float32)
    for i, image in enumerate(z):
        span = image.max() - image.min()
        scaled = (image - image.min()) / (span if span > 0 else 1.0) * 255.0
        eight_bit = scaled.astype(np.uint8)  # truncation, as the official code
        kernel = tuple(max(s // clahe_tiles, 1) for s in eight_bit.shape)
        clahe = equalize_adapthist(eight_bit, kernel_size=kernel, clip_limit=clahe_clip / 256, nbins=256)
        out[i] = np.power(clahe, 1.0 / gamma)
    return out


def sample_patch_centres(fov: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` random patch centres inside the FOV, spread evenly over the images.

    Image ``i`` gets ``n // N`` centres (the first ``n % N`` images one more), each drawn
    uniformly among its FOV pixels (with replacement).

    Parameters
    ----------
    fov:
        bool ``[N, H, W]`` field-of-view masks.
    n:
        Number of centres.
    rng:
        NumPy generator (seeded by the caller).

    Returns
    -------
    int64 ``[n, 3]``: ``(image, row, col)`` of each centre, ordered by image.
    """
    fov = np.asarray(fov, dtype=bool)
    n = check_positive_int("n", n)
    if fov.ndim != 3:
        raise ValueError(f"fov must be bool [N, H, W], got shape {fov.shape}")
    counts = np.full(len(fov), n // len(fov))
    counts[: n % len(fov)] += 1
    rows = []
    for i, (mask, count) in enumerate(zip(fov, counts, strict=True)):
        inside = np.flatnonzero(mask)
        if inside.size == 0:
            raise ValueError(f"fov[{i}] has no pixel inside the field of view")
        pick = inside[rng.integers(0, inside.size, size=count)]
        r, c = np.divmod(pick, mask.shape[1])
        rows.append(np.stack([np.full(count, i), r, c], axis=1))
    return np.concatenate(rows).astype(np.int64)


def extract_patches(
    images: np.ndarray,
    targets: np.ndarray,
    centres: np.ndarray,
    size: int,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Square patches around ``centres``, optionally flipped and rotated at random.

    Parameters
    ----------
    images:
        float ``[N, H, W]`` preprocessed images.
    targets:
        uint8 ``[N, H, W]`` class per pixel (0 background, 1 vessel, :data:`IGNORE_INDEX`).
    centres:
        int ``[n, 3]`` ``(image, row, col)``; the centre pixel of an even ``size`` is the one
        at ``(size // 2, size // 2)`` of the patch.
    size:
        Patch side in pixels. Parts of a patch outside the image are 0 in the image and
        :data:`IGNORE_INDEX` in the targets.
    rng:
        If given, each patch is flipped left-right and up-down with probability 0.5 each and
        rotated by ``k * 90°``, ``k`` uniform in 0..3 (the official augmentation); the same
        transform applies to image and targets.

    Returns
    -------
    ``(patches float32 [n, size, size], patch_targets uint8 [n, size, size])``.
    """
    size = check_positive_int("size", size)
    images, targets = np.asarray(images), np.asarray(targets)
    half = size // 2
    pad = ((0, 0), (half, size - half), (half, size - half))
    padded_images = np.pad(images.astype(np.float32), pad)
    padded_targets = np.pad(targets.astype(np.uint8), pad, constant_values=IGNORE_INDEX)
    centres = np.asarray(centres, dtype=np.int64)
    n = len(centres)
    offsets = np.arange(size)
    rows = (centres[:, 1, None] + offsets)[:, :, None]  # padded row = row - half + half + offset
    cols = (centres[:, 2, None] + offsets)[:, None, :]
    index = centres[:, 0, None, None]
    patches = padded_images[index, rows, cols]
    labels = padded_targets[index, rows, cols]
    if rng is not None:
        flips_lr, flips_ud = rng.random(n) < 0.5, rng.random(n) < 0.5
        turns = rng.integers(0, 4, size=n)
        for i in range(n):
            p, t = patches[i], labels[i]
            if flips_lr[i]:
                p, t = p[:, ::-1], t[:, ::-1]
            if flips_ud[i]:
                p, t = p[::-1], t[::-1]
            patches[i], labels[i] = np.rot90(p, turns[i]), np.rot90(t, turns[i])
    return np.ascontiguousarray(patches), np.ascontiguousarray(labels)


def window_starts(length: int, window: int, stride: int) -> list[int]:
    """Start offsets of windows of ``window`` pixels every ``stride`` pixels covering ``length``.

    The last window may reach past ``length`` (the image is zero-padded there); every pixel is
    covered at least once. ``stride <= window`` is required (no gaps).
    """
    length, window, stride = (check_positive_int(k, v) for k, v in
                              (("length", length), ("window", window), ("stride", stride)))
    if stride > window:
        raise ValueError(f"stride={stride} must be <= window={window}, or pixels are left out")
    count = 1 + max(0, -(-(length - window) // stride))
    return [i * stride for i in range(count)]


@torch.no_grad()
def sliding_window(
    fn: Callable[[Tensor], Tensor],
    images: Tensor,
    *,
    window: int,
    stride: int,
    batch_size: int = 16,
    mask: Tensor | None = None,
    device: torch.device | str | None = None,
) -> Tensor:
    """Apply ``fn`` to overlapping windows of whole images and stitch the outputs by averaging.

    Parameters
    ----------
    fn:
        Maps a batch ``[B, C, window, window]`` to ``[B, K, window, window]`` (e.g. a model's
        class probabilities).
    images:
        ``[N, C, H, W]``; any ``H, W`` (zero-padded at the bottom and right to a whole number of
        strides).
    window, stride:
        Window side and step in pixels (``stride <= window``).
    batch_size:
        Windows per call of ``fn``.
    mask:
        Optional bool ``[N, H, W]`` (e.g. the FOV): windows that hold no masked pixel are not
        computed, and the pixels they alone cover are 0 in the output.
    device:
        Where ``fn`` runs (default: the images' device); the output is on the images' device.

    Returns
    -------
    float32 ``[N, K, H, W]``: at each pixel, the mean of the outputs of every window covering it
    (accumulated in float64, so ``k`` equal values average to exactly that value).
    """
    if images.dim() != 4:
        raise ValueError(f"images must be [N, C, H, W], got shape {tuple(images.shape)}")
    batch_size = check_positive_int("batch_size", batch_size)
    n, _, height, width = images.shape
    tops, lefts = window_starts(height, window, stride), window_starts(width, window, stride)
    pad_h, pad_w = tops[-1] + window - height, lefts[-1] + window - width
    padded = torch.nn.functional.pad(images, (0, pad_w, 0, pad_h))
    padded_mask = (None if mask is None else
                   torch.nn.functional.pad(mask.to(torch.bool), (0, pad_w, 0, pad_h)))
    jobs = [(i, t, left) for i in range(n) for t in tops for left in lefts
            if padded_mask is None or bool(padded_mask[i, t:t + window, left:left + window].any())]
    run_on = torch.device(device) if device is not None else images.device
    total: Tensor | None = None
    count = torch.zeros((n, 1, height + pad_h, width + pad_w), dtype=torch.float64, device=images.device)
    for start in range(0, len(jobs), batch_size):
        chunk = jobs[start:start + batch_size]
        batch = torch.stack([padded[i, :, t:t + window, left:left + window] for i, t, left in chunk])
        out = fn(batch.to(run_on)).to(images.device, torch.float64)
        if total is None:
            total = torch.zeros((n, out.shape[1], height + pad_h, width + pad_w),
                                dtype=torch.float64, device=images.device)
        for (i, t, left), o in zip(chunk, out, strict=True):
            total[i, :, t:t + window, left:left + window] += o
            count[i, :, t:t + window, left:left + window] += 1
    if total is None:
        raise ValueError("the mask holds no pixel: nothing to compute")
    stitched = torch.where(count > 0, total / count.clamp(min=1), torch.zeros((), dtype=torch.float64))
    return stitched[:, :, :height, :width].float()
