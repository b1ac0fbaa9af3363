"""DRIVE retinal-vessel segmentation with the paper's U-Net (docs/paper.md#drive, #hyper-parameters).

Data: the user's DRIVE copy (``$RRAMPAPER_DRIVE_DIR``, :func:`rrampaper.data.load_drive`), or,
only when no DRIVE folder is configured (``RRAMPAPER_DRIVE_DIR`` unset and
``<RRAMPAPER_DATA_DIR>/drive/DRIVE`` absent, :func:`rrampaper.data.drive.drive_configured`),
synthetic fundus images of the same form (:func:`rrampaper.data.synthetic_drive`; training
images from seed 0, test images from seed 1), so that everything runs without DRIVE. A
configured folder that is absent or incomplete raises :class:`~rrampaper.errors.DataError` (a
corrupt file: ``ChecksumError``, or ``DataError`` when it cannot be decoded); it never falls
back to synthetic images. Using synthetic
images is printed once per process (:data:`SYNTHETIC_NOTICE`) and recorded in every stored run
(``"data": "synthetic;..."`` of its ``config``, :meth:`DriveTask.data_signature`);
:func:`data_label` says which data a run used, and the notebook writes it into every figure
title.

Pipeline (:mod:`rrampaper.tasks.drive_segmentation`, :mod:`rrampaper.tasks.drive_metrics`):

- preprocessing of the official code: grey, z-score, per-image 0..255, CLAHE, gamma 1.2;
- ``n_validation`` of the 20 training images are held out (seeded by the experiment's seed)
  for model selection and the limit-size schedule; the test images never drive a decision
  (the official scripts select the epoch on their "test" loader, docs/paper.md#epoch-selection);
- training data: ``n_train`` random :data:`PATCH_SIZE` patches centred inside the FOV of the other
  training images, flipped and rotated by multiples of 90° at random, drawn once per seed (the
  official code re-crops 48 from 64-pixel patches each epoch; here the augmented patches are
  fixed, because the generic loop trains on tensors);
- loss: NLL of the log-probabilities, pixels outside the FOV ignored (``ignore_index = 255``);
- evaluation: whole images by sliding window (``window``, ``stride``; windows outside the FOV
  skipped), class probabilities averaged where windows overlap, metrics pooled over the
  pixels inside the FOV of all evaluated images. The task's metric, for model selection and
  reports, is the **PR-AUC as average precision** (:mod:`rrampaper.tasks.drive_metrics` explains why not
  the official code's trapezoidal area, which :func:`segmentation_report` lists beside it).

Profiles (docs/paper.md#hyper-parameters for the official values):

=======  ======  =====  ========  ==========  ===========  =======  ========  ==============
profile  epochs  batch  patches   val images  test images  seeds    Adam lr   purpose
=======  ======  =====  ========  ==========  ===========  =======  ========  ==============
smoke    2       8      48        1 (crop)    1 (crop)     0        1e-3      CI, seconds
quick    4       32     1,280     2           4 of 20      0, 1, 2  1e-3      2-core CPU
paper    60      64     5,000     2           20           0, 1, 2  1e-4      GPU
=======  ======  =====  ========  ==========  ===========  =======  ========  ==============

smoke evaluates the central 128 x 128 crop of its validation and test images (:data:`CROP`);
the others evaluate whole images. Evaluation windows: 96 x 96 every 64 pixels in every profile
(the official test patch is 96; its stride 16 costs 16 times more; on a trained model windows
of 48 to 592 pixels changed the test PR-AUC by less than 0.01). The quick test images are a
fixed seeded subset (the same for every seed). ``paper``: 60 epochs, batch 64 and 48-pixel
patches as the official scripts, 5,000 patches per epoch (the official ``config.py``'s
``N_patches``).

Optimizer: **Adam, cosine schedule** over the profile's epochs, for every method: the official
*software* script's optimizer, at its lr 1e-4 in ``paper``. The official *hardware* script used
SGD (lr 0.1, momentum 0.9); in a short run SGD moves the scores far too little (after 20 steps
of 32 patches: 5,665 mask flips and validation PR-AUC 0.39 with SGD 0.1, 1.55 million flips and
0.65 with Adam 1e-3, on a 256-pixel crop of a validation image), so smoke and quick, which run
about 30 times fewer steps than ``paper``, use Adam with lr 1e-3 (it trains the WO baseline as
well: 0.72 after 60 steps). **No weight decay** (the official scripts: 5e-4): Adam normalizes
the L2 term, so the scores of weights with small gradients random-walk around zero and their
masks flip for nothing: over 100 steps at lr 1e-3, 5.7 million flips with weight decay 5e-4
against 0.64 million without, at the same validation PR-AUC (0.77 and 0.76), which would
inflate TO's programming operations ninefold.

Hardware limit size: 0.001 (the official ``DRIVE_hardware_TO.py`` defines a 0.001 -> 0.0008
schedule in 5 steps but never applies it; here it steps when the validation PR-AUC improves). Software TO uses the signed Kaiming constant (the official
DRIVE software script's ``init_bin = True``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import torch
from torch import Tensor, nn

from rrampaper._checks import check_choice, check_positive_int
from rrampaper.data import load_drive, split_indices, synthetic_drive
from rrampaper.data.drive import default_drive_dir, drive_configured, require_drive
from rrampaper.data.fundus import FundusSet
from rrampaper.models.unet import UNET_BITS, UNet
from rrampaper.profiles import PROFILES
from rrampaper.tasks.base import Hyper, Splits, Task
from rrampaper.tasks.drive_metrics import pr_auc
from rrampaper.tasks.drive_segmentation import (
    IGNORE_INDEX,
    extract_patches,
    preprocess,
    sample_patch_centres,
    sliding_window,
    window_starts,
)
from rrampaper.topology import reads

_COMMON = {
    "optimizer": "adam",
    "momentum": 0.9,  # unused by Adam
    "weight_decay": 0.0,
    "schedule": "cosine",
    "limit_size": (0.001, 0.0008, 5),
}

#: Hyper-parameters per profile. ``n_train`` counts training *patches*, ``n_validation`` and
#: ``n_test`` count whole images; ``eval_batch_size`` counts sliding windows per forward.
HYPER: dict[str, Hyper] = {
    "smoke": Hyper(epochs=2, batch_size=8, eval_batch_size=8, n_train=48, n_validation=1,
                   n_test=1, lr=1e-3, **_COMMON),
    "quick": Hyper(epochs=4, batch_size=32, eval_batch_size=8, n_train=1280, n_validation=2,
                   n_test=4, lr=1e-3, **_COMMON),
    "paper": Hyper(epochs=60, batch_size=64, eval_batch_size=32, n_train=5000, n_validation=2,
                   n_test=None, lr=1e-4, **_COMMON),
}

#: Seeds per profile (mean and spread over these), as :data:`rrampaper.experiments.study.PROFILE_SEEDS`.
SEEDS: dict[str, tuple[int, ...]] = {"smoke": (0,), "quick": (0, 1, 2), "paper": (0, 1, 2)}


def seeds_for(profile: str, seeds: Sequence[int] | None = None) -> list[int]:
    """``seeds`` if given, else the DRIVE seeds of ``profile`` (:data:`SEEDS`)."""
    return list(seeds) if seeds is not None else list(SEEDS[check_choice("profile", profile, PROFILES)])


#: Side of the training patches, pixels (the official 48 x 48 random crops).
PATCH_SIZE = 48

#: Sliding-window side and step at evaluation, pixels (every profile; see :class:`DriveTask`).
EVAL_WINDOW, EVAL_STRIDE = 96, 64

#: Evaluate only the central ``crop x crop`` pixels of the validation and test images (smoke).
CROP: dict[str, int | None] = {"smoke": 128, "quick": None, "paper": None}

#: Seeds of the synthetic stand-in's training and test images.
SYNTHETIC_SEEDS: dict[str, int] = {"train": 0, "test": 1}


#: Printed (once per process) when the task uses synthetic images.
SYNTHETIC_NOTICE = (
    "DRIVE not configured (set RRAMPAPER_DRIVE_DIR, or put it in {default}): "
    "using synthetic fundus images"
)

_announced = False


def uses_drive() -> bool:
    """Whether the task reads the user's DRIVE copy (True) or synthetic images (False, only
    when DRIVE is not configured; said once on stdout).

    Raises :class:`~rrampaper.errors.DataError` when a configured DRIVE folder is absent or
    incomplete (the message names the folder and the missing files).
    """
    return _source() != "synthetic"


def data_label() -> str:
    """``"DRIVE"`` or ``"synthetic vessels (DRIVE not configured)"``, for figure titles."""
    return "DRIVE" if uses_drive() else "synthetic vessels (DRIVE not configured)"


@lru_cache(maxsize=4)
def _fundus(split: str, source: str) -> FundusSet:
    if source == "synthetic":
        return synthetic_drive(20, seed=SYNTHETIC_SEEDS[split], split=split)
    return load_drive(split, source)


def _source() -> str:
    """The complete, configured DRIVE folder, or ``"synthetic"`` when DRIVE is not configured."""
    global _announced
    if drive_configured():
        return str(require_drive())
    if not _announced:
        print(SYNTHETIC_NOTICE.format(default=default_drive_dir()))
        _announced = True
    return "synthetic"


@lru_cache(maxsize=8)
def _prepared(split: str, source: str, indices: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Preprocessed images ``float32 [n, H, W]`` and targets ``uint8 [n, H, W]`` (0 background,
    1 vessel, 255 outside the FOV) of the chosen images."""
    fundus = _fundus(split, source)
    chosen = np.asarray(indices, dtype=np.int64)
    images = preprocess(fundus.images[chosen])
    targets = fundus.vessels[chosen].astype(np.uint8)
    targets[~fundus.fov[chosen]] = IGNORE_INDEX
    return images, targets


def _crop(array: np.ndarray, size: int | None) -> np.ndarray:
    if size is None:
        return array
    height, width = array.shape[-2:]
    top, left = (height - size) // 2, (width - size) // 2
    return array[..., top:top + size, left:left + size]


def _whole(images: np.ndarray, targets: np.ndarray, crop: int | None) -> tuple[Tensor, Tensor]:
    return (torch.from_numpy(np.array(_crop(images, crop)))[:, None],  # copies: the cache stays intact
            torch.from_numpy(np.array(_crop(targets, crop))))


def vessel_probability(model: nn.Module, images: Tensor, targets: Tensor | None, *, window: int,
                       stride: int, batch_size: int, device: torch.device | str = "cpu") -> Tensor:
    """Vessel probability ``float32 [N, H, W]`` of whole images by sliding window.

    ``images``: ``[N, 1, H, W]`` preprocessed; ``targets`` (optional, ``[N, H, W]`` with
    :data:`~rrampaper.tasks.drive_segmentation.IGNORE_INDEX` outside the FOV): windows without a FOV pixel
    are skipped and their pixels get probability 0. The model runs in evaluation mode; hardware
    models restart their evaluation reads at 0, so every evaluation sees the same reads.
    """
    reads.begin_evaluation(model)
    mask = None if targets is None else targets != IGNORE_INDEX
    probabilities = sliding_window(lambda x: model(x).exp(), images, window=window, stride=stride,
                                   batch_size=batch_size, mask=mask, device=device)
    return probabilities[:, 1]


def truth_and_fov(targets: Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(vessels, fov)`` bool arrays from targets encoded as 0 / 1 / 255 (outside the FOV)."""
    targets = np.asarray(targets)
    return targets == 1, targets != IGNORE_INDEX


class DriveTask(Task):
    """The paper's DRIVE experiment: U-Net, PR-AUC inside the FOV on whole images.

    The metric (``"pr_auc"``) is the average precision over the FOV pixels of all images of a
    split (:func:`rrampaper.tasks.drive_metrics.pr_auc`), higher is better.

    Parameters
    ----------
    activation_bits:
        Bits of the U-Net's activation quantizers (the paper: 6; ``None``: ideal).
    window, stride:
        Sliding-window side and step of the evaluation, pixels (``stride <= window``).
    """

    name = "drive"
    metric = "pr_auc"
    #: The official DRIVE software script sets ``init_bin = True`` (docs/paper.md#weight-initialization).
    software_weights = "signed_constant"

    def __init__(self, activation_bits: int | None = UNET_BITS, window: int = EVAL_WINDOW,
                 stride: int = EVAL_STRIDE) -> None:
        self.activation_bits = activation_bits
        self.window = check_positive_int("window", window)
        self.stride = check_positive_int("stride", stride)
        window_starts(self.window, self.window, self.stride)  # validates stride <= window

    def data_signature(self) -> str:
        """``"DRIVE"`` (the user's copy) or ``"synthetic"`` (the stand-in, used only when DRIVE
        is not configured), plus the settings; stored in every run's ``config``. Raises
        :class:`~rrampaper.errors.DataError` for a configured but incomplete DRIVE folder."""
        source = "DRIVE" if uses_drive() else "synthetic"
        return f"{source};bits={self.activation_bits};window={self.window};stride={self.stride}"

    def hyper(self, profile: str) -> Hyper:
        return HYPER[check_choice("profile", profile, PROFILES)]

    @staticmethod
    def profile_of(hyper: Hyper) -> str:
        """The profile ``hyper`` belongs to (:class:`~rrampaper.experiments.train.Experiment` may override
        its ``epochs``, ``lr`` and ``n_train``); raises ``ValueError`` if none matches."""
        for name, base in HYPER.items():
            if dataclasses.replace(hyper, epochs=base.epochs, lr=base.lr, n_train=base.n_train) == base:
                return name
        raise ValueError(f"{hyper} matches no DRIVE profile of {tuple(HYPER)}")

    def splits(self, hyper: Hyper, seed: int) -> Splits:
        """Training patches ``(float32 [n, 1, p, p], uint8 [n, p, p])`` and whole validation and
        test images ``(float32 [N, 1, H, W], uint8 [N, H, W])``; targets are 0 (background),
        1 (vessel) and 255 (outside the FOV, ignored)."""
        seed = check_positive_int("seed", seed, minimum=0)
        crop = CROP[self.profile_of(hyper)]
        source = _source()
        train_idx, val_idx = split_indices(np.zeros(20), hyper.n_validation, seed, stratify=False)
        images, targets = _prepared("train", source, tuple(range(20)))
        rng = np.random.default_rng([seed, 2026])
        centres = sample_patch_centres(targets[train_idx] != IGNORE_INDEX, hyper.n_train or 5000, rng)
        patches, labels = extract_patches(images[train_idx], targets[train_idx], centres,
                                          PATCH_SIZE, rng)
        n_test = hyper.n_test or 20
        test_idx = (np.arange(20) if n_test >= 20 else
                    np.sort(np.random.default_rng(0).permutation(20)[:n_test]))
        test_images, test_targets = _prepared("test", source, tuple(int(i) for i in test_idx))
        return Splits(
            train=(torch.from_numpy(patches)[:, None], torch.from_numpy(labels)),
            validation=_whole(images[val_idx], targets[val_idx], crop),
            test=_whole(test_images, test_targets, crop),
        )

    def build_model(self) -> nn.Module:
        return UNet(activation_bits=self.activation_bits)

    def loss(self, output: Tensor, target: Tensor) -> Tensor:
        """NLL of the log-probabilities ``[B, 2, H, W]``, pixels outside the FOV ignored."""
        return nn.functional.nll_loss(output, target.long(), ignore_index=IGNORE_INDEX)

    def score(self, outputs: Tensor, targets: Tensor) -> float:
        """PR-AUC inside the FOV of log-probabilities ``[N, 2, H, W]`` against the targets."""
        vessels, fov = truth_and_fov(targets)
        return pr_auc(outputs[:, 1].exp().numpy(), vessels, fov)

    def evaluate(self, model: nn.Module, split: tuple[Tensor, Tensor], batch_size: int,
                 device: torch.device) -> float:
        """PR-AUC inside the FOV of whole images by sliding window (``batch_size`` windows per
        forward)."""
        images, targets = split
        probability = vessel_probability(model, images, targets, window=self.window,
                                         stride=self.stride, batch_size=batch_size, device=device)
        vessels, fov = truth_and_fov(targets)
        return pr_auc(probability.numpy(), vessels, fov)
