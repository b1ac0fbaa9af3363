"""A technology with its read and/or programming noise scaled: the knob of noise sweeps.

``ScaledNoise(base, read_scale=2.0)`` behaves exactly like ``base`` (same device-to-device
sample for the same seed, same conductance range) except that :meth:`read_sigma` and
:meth:`programming_sigma` are multiplied. Scale 0 removes that noise; 1 is the technology itself.

Examples
--------
>>> import torch
>>> from rrampaper.devices import ScaledNoise, technology
>>> base = technology("taox_post_verify_static")
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

    EFFECTS_FROM_BASE = True
    PARAMETERS = (
        Parameter("read_scale", "", 1.0, 0.0, 100.0, "sweep knob: multiplies read_sigma"),
        Parameter("programming_scale", "", 1.0, 0.0, 100.0,
                  "sweep knob: multiplies programming_sigma"),
    )

    def __init__(self, base: Technology | str, **params: float) -> None:
        self.base = technology(base)
        params.pop("relaxation", None)  # the base's law is used
        super().__init__(**params)
        self.name = self.base.name  # type: ignore[misc]
        self.label = f"{self.base.label} (read x{self.read_scale:g}, prog x{self.programming_scale:g})"  # type: ignore[misc]
        self.SOURCES = self.base.SOURCES  # type: ignore[misc]

    def replace(self, **changes: Any) -> ScaledNoise:
        base = changes.pop("base", self.base)
        own = {k: changes.pop(k) for k in list(changes) if k in ("read_scale", "programming_scale")}
        if changes:  # anything else is a parameter of the base technology
            base = base.replace(**changes)
        return ScaledNoise(base, **{"read_scale": self.read_scale,
                                    "programming_scale": self.programming_scale, **own})

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

    def post_verify_sigma(self, g_s: torch.Tensor) -> torch.Tensor:
        return self.base.post_verify_sigma(g_s) * self.programming_scale

    @property
    def has_post_verify(self) -> bool:
        return self.base.has_post_verify

    def relax(
        self, g_s: torch.Tensor, t_s: float, z: torch.Tensor, frozen: torch.Tensor | None = None
    ) -> torch.Tensor:
        return self.base.relax(g_s, t_s, z, frozen)

    @property
    def relaxation(self):  # type: ignore[override]
        return self.base.relaxation

    @property
    def faults(self):  # type: ignore[override]
        return self.base.faults

    def law_names(self) -> dict[str, str]:
        return self.base.law_names()

    def __getattr__(self, name: str) -> Any:
        # the base's parameters (effects included) read through, e.g. ``scaled.adc_bits``
        try:
            return super().__getattr__(name)
        except AttributeError:
            base = self.__dict__.get("base")
            if base is None:
                raise
            return getattr(base, name)

    def drift(self, g_s: torch.Tensor, t_s: float, seed: int | torch.Generator | None = 0) -> torch.Tensor:
        return self.base.drift(g_s, t_s, seed)
