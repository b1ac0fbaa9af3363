"""Scale a technology's read and programming noise, for noise sweeps.

The device noise of a weight-optimization baseline comes from the technology preset
(:mod:`rrampaper.devices.technologies`): ``read_sigma(g)`` and ``programming_sigma(g)`` in
siemens. A noise-sweep figure multiplies them by a factor; :func:`scaled_noise` does that for any
technology, whatever its own parameters are called (TaOx has ``read_relative`` and
``read_floor_s``, PCM a 1/f law, SONOS a saturating law), so one sweep works for every preset::

    scaled_noise("taox_40nm", read_noise_scale=2.0, programming_noise_scale=0.0)

``1.0`` is the technology's own noise (the default everywhere), ``0.0`` removes that noise. To
change one physical parameter instead, build the technology with it
(``technology("taox_40nm", read_relative=0.02)``) and pass that object.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from rrampaper._checks import check_range
from rrampaper.devices.technologies import PairConductances, Technology, technology


class NoiseScaled(Technology):
    """``base`` with ``read_sigma`` and ``programming_sigma`` multiplied by constant factors.

    Everything else (conductance range, device-to-device sample, drift) is ``base``'s.

    Parameters
    ----------
    base:
        A :class:`Technology` or preset name.
    read_noise_scale, programming_noise_scale:
        Non-negative multipliers of the read and programming standard deviations.
    """

    def __init__(
        self,
        base: Technology | str,
        read_noise_scale: float = 1.0,
        programming_noise_scale: float = 1.0,
    ) -> None:
        self.base = technology(base)
        self.read_noise_scale = float(
            check_range("read_noise_scale", read_noise_scale, 0.0, math.inf, high_open=True)
        )
        self.programming_noise_scale = float(
            check_range(
                "programming_noise_scale", programming_noise_scale, 0.0, math.inf, high_open=True
            )
        )
        super().__init__()
        self.name = self.base.name  # type: ignore[misc]
        self.label = self.base.label  # type: ignore[misc]

    @property
    def g_min_s(self) -> float:
        return self.base.g_min_s

    @property
    def g_max_s(self) -> float:
        return self.base.g_max_s

    def sample_pairs(self, n: int, seed: int | torch.Generator | None = 0) -> PairConductances:
        return self.base.sample_pairs(n, seed)

    def read_sigma(self, g_s: torch.Tensor) -> torch.Tensor:
        return self.base.read_sigma(g_s) * self.read_noise_scale

    def programming_sigma(self, g_s: torch.Tensor) -> torch.Tensor:
        return self.base.programming_sigma(g_s) * self.programming_noise_scale

    def drift(
        self, g_s: torch.Tensor, t_s: float, seed: int | torch.Generator | None = 0
    ) -> torch.Tensor:
        return self.base.drift(g_s, t_s, seed)

    @property
    def params(self) -> dict[str, float]:
        return {
            **self.base.params,
            "read_noise_scale": self.read_noise_scale,
            "programming_noise_scale": self.programming_noise_scale,
        }

    def replace(self, **changes: Any) -> NoiseScaled:
        """A copy with some of ``base``'s parameters or the two scales changed."""
        read = changes.pop("read_noise_scale", self.read_noise_scale)
        programming = changes.pop("programming_noise_scale", self.programming_noise_scale)
        base = self.base.replace(**changes) if changes else self.base
        return NoiseScaled(base, read, programming)

    def parameter_table(self):
        return self.base.parameter_table()

    def attrs(self) -> dict[str, Any]:
        return {
            **self.base.attrs(),
            "read_noise_scale": self.read_noise_scale,
            "programming_noise_scale": self.programming_noise_scale,
        }

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, NoiseScaled)
            and other.base == self.base
            and other.read_noise_scale == self.read_noise_scale
            and other.programming_noise_scale == self.programming_noise_scale
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"NoiseScaled({self.base!r}, read_noise_scale={self.read_noise_scale:g}, "
            f"programming_noise_scale={self.programming_noise_scale:g})"
        )


def scaled_noise(
    tech: Technology | str = "taox_40nm",
    read_noise_scale: float = 1.0,
    programming_noise_scale: float = 1.0,
) -> Technology:
    """``tech`` with its read and programming sigmas (siemens) multiplied by the two factors.

    Returns ``tech`` itself (as a :class:`Technology`) when both factors are 1.
    """
    check_range("read_noise_scale", read_noise_scale, 0.0, math.inf, high_open=True)
    check_range("programming_noise_scale", programming_noise_scale, 0.0, math.inf, high_open=True)
    tech = technology(tech)
    if read_noise_scale == 1.0 and programming_noise_scale == 1.0:
        return tech
    return NoiseScaled(tech, read_noise_scale, programming_noise_scale)
