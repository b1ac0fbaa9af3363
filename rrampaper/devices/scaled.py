"""A technology with its read and/or programming noise scaled: the knob of noise sweeps.

``ScaledNoise(base, read_scale=2.0)`` behaves exactly like ``base`` (same device-to-device
sample for the same seed, same conductance range) except that :meth:`read_sigma` and
:meth:`programming_sigma` are multiplied. Scale 0 removes that noise; 1 is the technology itself.

Examples
--------
>>> import torch
>>> from rrampaper.devices import ScaledNoise, technology
>>> base = technology("taox_40nm")
>>> quiet = ScaledNoise(base, read_scale=0.0)
>>> float(quiet.read_sigma(torch.tensor([1e-4])))
0.0
>>> torch.equal(quiet.sample_pairs(10, seed=1).formed, base.sample_pairs(10, seed=1).formed)
True
"""

from __future__ import annotations

from typing import Any

import torch

from rrampaper.devices._params import Parameter
from rrampaper.devices.technologies import PairConductances, Technology, technology


class ScaledNoise(Technology):
    """``base`` with read noise times ``read_scale`` and programming noise times
    ``programming_scale`` (both dimensionless, in [0, 100])."""

    PARAMETERS = (
        Parameter("read_scale", "", 1.0, 0.0, 100.0, "sweep knob: multiplies read_sigma"),
        Parameter("programming_scale", "", 1.0, 0.0, 100.0,
                  "sweep knob: multiplies programming_sigma"),
    )

    def __init__(self, base: Technology | str, **params: float) -> None:
        self.base = technology(base)
        super().__init__(**params)
        self.name = self.base.name  # type: ignore[misc]
        self.label = f"{self.base.label} (read x{self.read_scale:g}, prog x{self.programming_scale:g})"  # type: ignore[misc]
        self.SOURCES = self.base.SOURCES  # type: ignore[misc]

    def replace(self, **changes: Any) -> ScaledNoise:
        return ScaledNoise(changes.pop("base", self.base), **{**self._p, **changes})

    def __eq__(self, other: object) -> bool:
        return super().__eq__(other) and other.base == self.base  # type: ignore[union-attr]

    def attrs(self) -> dict[str, Any]:
        return {**self.base.attrs(), "read_scale": self.read_scale,
                "programming_scale": self.programming_scale}

    @property
    def g_min_s(self) -> float:
        return self.base.g_min_s

    @property
    def g_max_s(self) -> float:
        return self.base.g_max_s

    def sample_pairs(self, n: int, seed: int | torch.Generator | None = 0) -> PairConductances:
        return self.base.sample_pairs(n, seed)

    def read_sigma(self, g_s: torch.Tensor) -> torch.Tensor:
        return self.base.read_sigma(g_s) * self.read_scale

    def programming_sigma(self, g_s: torch.Tensor) -> torch.Tensor:
        return self.base.programming_sigma(g_s) * self.programming_scale

    def drift(self, g_s: torch.Tensor, t_s: float, seed: int | torch.Generator | None = 0) -> torch.Tensor:
        return self.base.drift(g_s, t_s, seed)
