"""Conductance relaxation: where a programmed cell is a time ``t`` (seconds) after programming.

Programming laws (:mod:`rrampaper.devices.programming_laws`) describe the state about
:data:`T_REFERENCE_S` = 1 s after programming. A :class:`RelaxationLaw` says what happens next:

- :meth:`RelaxationLaw.total_sigma`: the spread around the target at time ``t`` as published
  (siemens);
- :meth:`RelaxationLaw.sigma_increment`: what is added after the 1 s state,
  ``sqrt(max(total_sigma(t)^2 - total_sigma(1 s)^2, 0))``; a write-verify that ends at about
  1 s cannot remove it;
- :meth:`RelaxationLaw.mean_shift`: a systematic drift of the mean (0 where the source gives
  none);
- :meth:`RelaxationLaw.relax`: ``g + mean_shift + sigma_increment * z`` clamped at >= 0, with a
  standard-normal ``z`` the caller keeps per cell (so a cell's path over ``t`` is reproducible
  and its deviation grows monotonically with the spread).

Times must be finite, >= 0 and <= :data:`T_MAX_S`; for ``t <= 1 s`` nothing changes.

Laws (:data:`RELAXATION_LAWS`, looked up with :func:`relaxation_law`): ``wan_2022`` (NeuRRAM
HfOx chip, aihwkit), ``cmo`` (CMO/HfOx, aihwkit), ``none``.

Examples
--------
>>> import torch
>>> law = relaxation_law("cmo")
>>> g = torch.full((3,), 50e-6)
>>> round(float(law.mean_shift(g, 86400.0)[0]) * 1e6, 3)  # uS after one day
-1.012
>>> bool((law.relax(g, 1.0, torch.ones(3)) == g).all())
True
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch

from rrampaper._checks import check_range
from rrampaper.devices.programming_laws import polynomial
from rrampaper.errors import ParameterError

US = 1e-6  # one microsiemens in siemens

#: Time (s) after programming that programming laws describe; relaxation starts here.
T_REFERENCE_S = 1.0
#: Longest time (s) accepted (about 317 years).
T_MAX_S = 1e10


def check_time(t_s: float) -> float:
    """Return ``t_s`` as float if it is finite and in ``[0, T_MAX_S]`` s, else ParameterError."""
    check_range("t_s", t_s, 0.0, T_MAX_S, unit="s")
    return float(t_s)


@dataclass(frozen=True, kw_only=True)
class RelaxationLaw(ABC):
    """Conductance after time ``t`` since programming.

    Attributes
    ----------
    name:
        Registry key (see :data:`RELAXATION_LAWS`).
    source:
        Paper, code and what was fitted.
    note:
        Modelling choices beyond the source (interpolation, extrapolation, clipping).
    """

    name: str
    source: str
    note: str = ""

    @abstractmethod
    def _total_sigma_us(self, g_us: torch.Tensor, t_s: float) -> torch.Tensor:
        """Total spread (uS) at ``t_s >= T_REFERENCE_S`` for targets ``g_us`` (uS)."""

    def _mean_shift_us(self, g_us: torch.Tensor, t_s: float) -> torch.Tensor:
        """Mean shift (uS) at ``t_s >= T_REFERENCE_S``; none unless a subclass gives one."""
        return torch.zeros_like(g_us)

    def total_sigma(self, g_s: torch.Tensor, t_s: float) -> torch.Tensor:
        """Spread (siemens, float64) around the target at time ``t_s`` (s) as the source gives it.

        For ``t_s < 1 s`` the value at 1 s (the sources start there).
        """
        g_us = _as_us(g_s)
        t = max(check_time(t_s), T_REFERENCE_S)
        return self._total_sigma_us(g_us, t) * US

    def sigma_increment(self, g_s: torch.Tensor, t_s: float) -> torch.Tensor:
        """Spread (siemens) added between 1 s and ``t_s``:
        ``sqrt(max(total_sigma(t)^2 - total_sigma(1 s)^2, 0))``; 0 for ``t_s <= 1 s``."""
        g_us = _as_us(g_s)
        t = check_time(t_s)
        if t <= T_REFERENCE_S:
            return torch.zeros_like(g_us)
        s_t = self._total_sigma_us(g_us, t)
        s_1 = self._total_sigma_us(g_us, T_REFERENCE_S)
        return torch.sqrt((s_t**2 - s_1**2).clamp(min=0.0)) * US

    def mean_shift(self, g_s: torch.Tensor, t_s: float) -> torch.Tensor:
        """Shift of the mean (siemens) between 1 s and ``t_s``; 0 for ``t_s <= 1 s``."""
        g_us = _as_us(g_s)
        t = check_time(t_s)
        if t <= T_REFERENCE_S:
            return torch.zeros_like(g_us)
        return self._mean_shift_us(g_us, t) * US

    def relax(self, g_s: torch.Tensor, t_s: float, z: torch.Tensor) -> torch.Tensor:
        """Conductances (siemens, float64) at ``t_s``: ``g + mean_shift + sigma_increment * z``,
        clamped at >= 0.

        Parameters
        ----------
        g_s:
            Conductances at 1 s after programming (siemens).
        t_s:
            Time since programming (s), finite, in ``[0, T_MAX_S]``; ``<= 1 s`` returns ``g_s``.
        z:
            Standard-normal numbers, same shape as ``g_s``; keep one per cell across times.
        """
        g = torch.as_tensor(g_s, dtype=torch.float64)
        z = torch.as_tensor(z, dtype=torch.float64)
        if z.shape != g.shape:
            raise ParameterError(
                f"relaxation {self.name!r}: z has shape {tuple(z.shape)}, "
                f"the conductances {tuple(g.shape)}; give one z per cell"
            )
        t = check_time(t_s)
        if t <= T_REFERENCE_S:
            return g.clone()
        out = g + self.mean_shift(g, t) + self.sigma_increment(g, t) * z
        return out.clamp(min=0.0)


def _as_us(g_s: torch.Tensor) -> torch.Tensor:
    g = torch.as_tensor(g_s, dtype=torch.float64)
    if not bool(torch.isfinite(g).all()):
        raise ParameterError("relaxation: conductances must be finite numbers (siemens)")
    return g / US


#: aihwkit ReRamWan2022NoiseModel coefficients (uS), lowest order first, per time key (s).
WAN_2022_COEFFICIENTS_US: dict[float, tuple[float, ...]] = {
    1.0: (0.348, 16.030, -43.853, 45.393, -16.815),
    86400.0: (0.701, 22.086, -50.773, 47.095, -16.458),
    172800.0: (0.782, 20.274, -43.507, 37.062, -11.934),
}
#: Reference conductance (uS) of the Wan fit's x = G / 40 uS.
WAN_2022_G_REF_US = 40.0


@dataclass(frozen=True, kw_only=True)
class Wan2022Relaxation(RelaxationLaw):
    """NeuRRAM HfOx chip (Wan et al., Nature 608, 504 (2022)) through aihwkit's fit.

    Source: aihwkit ``ReRamWan2022NoiseModel`` (``src/aihwkit/inference/noise/reram.py``):
    the spread of conductances around the target, fitted by aihwkit's authors with a
    4th-order polynomial in ``x = G / 40 uS`` (sigma in uS) to the published Extended Data
    Fig. 3 at three times only: 1 s, 1 day, 2 days (:data:`WAN_2022_COEFFICIENTS_US`).
    ``x`` is clipped to ``[0, 1]`` (the fitted range). No mean shift: aihwkit draws each time
    around the target.

    Between the keys ``sigma^2`` is interpolated linearly in ``ln t``. Beyond 2 days the
    2-day value is held: the source has no later data, and from 1 day to 2 days the fitted
    sigma changes by at most 2 % for ``x >= 0.1`` (up to 12 % at ``x = 0``, where sigma is
    smallest), i.e. the spread has nearly saturated. At each key the spread is the largest
    of that key and the earlier ones (where the 2-day fit dips below the 1-day fit, by up to
    2 %, the 1-day value is kept), so a cell's deviation never shrinks with time.
    """

    def _key_sigma2(self, g_us: torch.Tensor) -> list[tuple[float, torch.Tensor]]:
        x = (g_us / WAN_2022_G_REF_US).clamp(min=0.0, max=1.0)
        keys: list[tuple[float, torch.Tensor]] = []
        running = None
        for t_key, coeffs in sorted(WAN_2022_COEFFICIENTS_US.items()):
            s2 = polynomial(x, coeffs).clamp(min=0.0) ** 2
            running = s2 if running is None else torch.maximum(running, s2)
            keys.append((t_key, running))
        return keys

    def _total_sigma_us(self, g_us: torch.Tensor, t_s: float) -> torch.Tensor:
        keys = self._key_sigma2(g_us)
        if t_s >= keys[-1][0]:
            return torch.sqrt(keys[-1][1])
        for (t0, s0), (t1, s1) in zip(keys[:-1], keys[1:], strict=True):
            if t0 <= t_s <= t1:
                w = (math.log(t_s) - math.log(t0)) / (math.log(t1) - math.log(t0))
                return torch.sqrt(s0 + w * (s1 - s0))
        return torch.sqrt(keys[0][1])  # t_s below the first key (not reached: t >= 1 s)


#: aihwkit ReRamCMONoiseModel decay coefficients (uS per ln s, uS).
CMO_MEAN_SLOPE_US = -0.08900206
CMO_SIGMA_SLOPE_US = 0.04201137
CMO_SIGMA_1S_US = 0.41183342


@dataclass(frozen=True, kw_only=True)
class CmoRelaxation(RelaxationLaw):
    """CMO/HfOx ReRAM (IBM Research Europe - Zurich) through aihwkit's fit.

    Source: aihwkit ``ReRamCMONoiseModel`` (``src/aihwkit/inference/noise/reram.py``), data
    "from Falcone et al. (In Review)": mean and standard deviation of the conductance
    distribution fitted with first-order polynomials in ``ln t`` (t in s), independent of the
    target: mean shift ``-0.08900206 ln t`` uS, spread ``0.04201137 ln t + 0.41183342`` uS
    (t >= 1 s). aihwkit adds that spread on top of the programming draw; here it is read as the
    total spread, of which only the part beyond the 1 s value is added after programming
    (:meth:`RelaxationLaw.sigma_increment`). aihwkit's docstring gives no measured time window,
    so every t up to :data:`T_MAX_S` uses the log law: beyond the (unknown) measured window this
    is an extrapolation.
    """

    def _total_sigma_us(self, g_us: torch.Tensor, t_s: float) -> torch.Tensor:
        return torch.full_like(g_us, CMO_SIGMA_SLOPE_US * math.log(t_s) + CMO_SIGMA_1S_US)

    def _mean_shift_us(self, g_us: torch.Tensor, t_s: float) -> torch.Tensor:
        return torch.full_like(g_us, CMO_MEAN_SLOPE_US * math.log(t_s))


@dataclass(frozen=True, kw_only=True)
class NoRelaxation(RelaxationLaw):
    """No relaxation: the conductance keeps its 1 s value (total spread 0, no shift)."""

    def _total_sigma_us(self, g_us: torch.Tensor, t_s: float) -> torch.Tensor:
        return torch.zeros_like(g_us)


WAN_2022 = Wan2022Relaxation(
    name="wan_2022",
    source=(
        "aihwkit ReRamWan2022NoiseModel (IBM/aihwkit, src/aihwkit/inference/noise/reram.py): "
        "4th-order polynomials in x = G / 40 uS (sigma in uS) at 1 s, 1 day and 2 days, fitted "
        "to W. Wan et al., Nature 608, 504 (2022), Extended Data Fig. 3 (NeuRRAM HfOx 1T1R "
        "chip, after iterative write-verify)"
    ),
    note=(
        "x clipped to [0, 1]; sigma^2 interpolated linearly in ln t between the keys; 2-day "
        "value held beyond 2 days; running maximum over the keys so that spread never shrinks; "
        "no mean shift"
    ),
)

CMO = CmoRelaxation(
    name="cmo",
    source=(
        "aihwkit ReRamCMONoiseModel (IBM/aihwkit, src/aihwkit/inference/noise/reram.py): mean "
        "-0.08900206 ln t uS, sigma 0.04201137 ln t + 0.41183342 uS, G-independent; CMO/HfOx "
        "ReRAM, Falcone et al. (In Review)"
    ),
    note=(
        "log law used for any t in [1 s, 1e10 s]; the measured window is not given in aihwkit "
        "(extrapolation beyond it); the 1 s spread is taken as part of the programming state"
    ),
)

NONE = NoRelaxation(
    name="none", source="no relaxation: conductances stay at their 1 s state",
    note="conductance constant after 1 s",
)

#: Every relaxation law by name.
RELAXATION_LAWS: dict[str, RelaxationLaw] = {law.name: law for law in (WAN_2022, CMO, NONE)}


def relaxation_law(name: str) -> RelaxationLaw:
    """The law registered as ``name``; ``ParameterError`` lists the valid names otherwise."""
    if name not in RELAXATION_LAWS:
        raise ParameterError(
            f"relaxation law {name!r} is unknown; valid names: {', '.join(RELAXATION_LAWS)}"
        )
    return RELAXATION_LAWS[name]
