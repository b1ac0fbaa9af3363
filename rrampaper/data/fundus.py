"""Record types for retinal fundus images: one image, or a set of them (DRIVE or synthetic)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FundusImage:
    """One colour fundus photograph with its vessel annotation and field-of-view (FOV) mask.

    Attributes
    ----------
    image:
        uint8 [H, W, 3], RGB (DRIVE: H=584, W=565).
    vessels:
        bool [H, W], true on vessel pixels (DRIVE: the first observer's ``1st_manual``).
    fov:
        bool [H, W], true inside the circular field of view of the camera.
    name:
        ``"21_training"`` for DRIVE, ``"synthetic-<seed>"`` for :func:`synthetic_fundus`.
    synthetic:
        True for generated images.
    """

    image: np.ndarray
    vessels: np.ndarray
    fov: np.ndarray
    name: str
    synthetic: bool = False

    def __post_init__(self) -> None:
        h, w = self.fov.shape
        if self.image.dtype != np.uint8 or self.image.shape != (h, w, 3):
            raise ValueError(
                f"image must be uint8 [{h},{w},3], got {self.image.dtype} {self.image.shape}"
            )
        for name in ("vessels", "fov"):
            array = getattr(self, name)
            if array.dtype != np.bool_ or array.shape != (h, w):
                raise ValueError(f"{name} must be bool [{h},{w}], got {array.dtype} {array.shape}")

    @property
    def vessel_fraction(self) -> float:
        """Fraction of FOV pixels that are vessel (DRIVE: 0.087-0.168, mean 0.125)."""
        return float(self.vessels[self.fov].mean())


@dataclass(frozen=True)
class FundusSet:
    """A stack of fundus images of one size, e.g. a DRIVE split.

    Attributes
    ----------
    images:
        uint8 [N, H, W, 3], RGB.
    vessels:
        bool [N, H, W], vessel annotation (DRIVE: ``1st_manual``, the ground truth).
    fov:
        bool [N, H, W], field-of-view masks.
    names:
        One name per image.
    split:
        ``"train"`` or ``"test"``.
    second_observer:
        bool [N, H, W], DRIVE's ``2nd_manual`` annotation (test split only), else ``None``.
    synthetic:
        True for generated images.
    """

    images: np.ndarray
    vessels: np.ndarray
    fov: np.ndarray
    names: tuple[str, ...]
    split: str
    second_observer: np.ndarray | None = None
    synthetic: bool = False

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index: int) -> FundusImage:
        return FundusImage(
            self.images[index],
            self.vessels[index],
            self.fov[index],
            self.names[index],
            self.synthetic,
        )

    @property
    def vessel_fractions(self) -> np.ndarray:
        """Vessel fraction inside the FOV, per image (float64 [N])."""
        return np.array([self[i].vessel_fraction for i in range(len(self))])
