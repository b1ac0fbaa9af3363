"""Sourced laws for the spread of one programming outcome, sigma(G) in siemens.

A :class:`ProgrammingLaw` answers one question: a cell is programmed towards the target
conductance ``G``; what is the standard deviation of the conductance it ends up with, about
1 s after programming (:data:`rrampaper.devices.relaxation.T_REFERENCE_S`)? Laws come in two
kinds:

``"open_loop"``
    One unverified programming step (one SET pulse, or one SET/RESET sequence aimed at the
    target). This is the spread of a single *attempt*.
``"post_verify"``
    The spread reported *after* an iterative write-verify algorithm has finished (the
    published device statistics of a chip, e.g. Milo et al., IRPS 2021; Wan et al., Nature
    2022). It already contains the algorithm: its tolerance, its number of pulses, its read
    noise during verify.

Why the two kinds must not be mixed: a post-verify law is the *result* of an algorithm on
one chip with one tolerance. Using it as the spread of one attempt inside another write-verify
loop counts the algorithm twice; using it for one-shot programming credits one pulse with the
precision of tens of pulses. The package therefore simulates write-verify as an algorithm
(:mod:`rrampaper.devices.programming`: attempt, read, re-attempt the cells outside the
acceptance window) on top of an *open-loop* law, and uses post-verify laws to check or
calibrate the outcome of that algorithm (its final spread should come out near the published
one for a comparable tolerance).

Every law states the conductance range its source supports (:attr:`ProgrammingLaw.valid_range_s`)
and what happens outside it (:attr:`ProgrammingLaw.extension`): ``"refuse"`` raises
:class:`~rrampaper.errors.ParameterError`, ``"hold"`` uses the sigma at the nearest end of the
range. :meth:`ProgrammingLaw.with_extension` switches between them.

Laws (:data:`PROGRAMMING_LAWS`, looked up with :func:`programming_law`):

- ``milo_2021_post_verify`` (post_verify): CrossSim RRAM_Milo, HfO2 1T1R, IGVVA-100, 50-225 uS.
- ``wan_2022_post_verify`` (post_verify): aihwkit ReRamWan2022NoiseModel at t = 1 s, 0-40 uS.
- ``cmo_post_verify_0p2`` and ``cmo_post_verify_2`` (post_verify): aihwkit ReRamCMONoiseModel,
  acceptance windows 0.2 % and 2 %, 9-88.19 uS.
- ``poisson_defects_open_loop`` (open_loop): ``sigma = sqrt(G * 1 uS)``, the Poisson
  defect-number form of Ambrogio et al., IEEE TED 2014, with a constant that is an
  ASSUMPTION; 5-250 uS, held outside by default.

Examples
--------
>>> import torch
>>> law = programming_law("milo_2021_post_verify")
>>> law.kind
'post_verify'
>>> round(float(law.sigma(torch.tensor([100e-6]))[0]) * 1e6, 3)  # uS
3.872
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch

from rrampaper._checks import check_choice
from rrampaper.errors import ParameterError

US = 1e-6  # one microsiemens in siemens

KINDS = ("open_loop", "post_verify")
EXTENSIONS = ("refuse", "hold")


@dataclass(frozen=True, kw_only=True)
class ProgrammingLaw(ABC):
    """The spread of one programming outcome as a function of the target conductance.

    Attributes
    ----------
    name:
        Registry key (see :data:`PROGRAMMING_LAWS`).
    kind:
        ``"open_loop"`` (one unverified attempt) or ``"post_verify"`` (spread after an
        iterative write-verify algorithm).
    source:
        Paper, figure and where the fit comes from. Text starting with ``"ASSUMPTION"`` marks
        a law whose constant this project chose.
    valid_range_s:
        ``(lo, hi)``, siemens: the target range the source supports.
    extension:
        ``"refuse"``: targets outside ``valid_range_s`` raise
        :class:`~rrampaper.errors.ParameterError`; ``"hold"``: sigma there is the sigma at
        the nearest end of the range.
    extension_note:
        How the law behaves beyond its range and why, in words.
    """

    name: str
    kind: str
    source: str
    valid_range_s: tuple[float, float]
    extension: str = "refuse"
    extension_note: str = ""

    def __post_init__(self) -> None:
        check_choice(f"{self.name}: kind", self.kind, KINDS)
        check_choice(f"{self.name}: extension", self.extension, EXTENSIONS)
        lo, hi = self.valid_range_s
        if not (math.isfinite(lo) and math.isfinite(hi) and 0.0 <= lo < hi):
            raise ParameterError(
                f"{self.name}: valid_range_s={self.valid_range_s!r} must be finite with "
                "0 <= lo < hi (siemens)"
            )

    @abstractmethod
    def _sigma_us(self, g_us: torch.Tensor) -> torch.Tensor:
        """sigma in microsiemens for targets in microsiemens (inside the valid range)."""

    @property
    def is_assumption(self) -> bool:
        """Whether the law's constant is this project's assumption (``source`` says so)."""
        return self.source.startswith("ASSUMPTION")

    def range_text(self) -> str:
        """The valid range as text, in siemens and microsiemens."""
        lo, hi = self.valid_range_s
        return f"[{lo:g}, {hi:g}] S ({lo / US:g}-{hi / US:g} uS)"

    def sigma(self, g_s: torch.Tensor) -> torch.Tensor:
        """Standard deviation (siemens, float64) of one programming outcome at targets ``g_s``.

        Parameters
        ----------
        g_s:
            Target conductances, siemens, any shape. Must be finite and >= 0.

        Raises
        ------
        ParameterError
            A target is not finite or negative; or, with ``extension="refuse"``, outside
            :attr:`valid_range_s` (the message names the law, the count, an example and the
            range).
        """
        g = torch.as_tensor(g_s, dtype=torch.float64)
        self._check_finite(g)
        lo, hi = self.valid_range_s
        outside = (g < lo) | (g > hi)
        if self.extension == "refuse" and bool(outside.any()):
            example = float(g[outside].flatten()[0])
            raise ParameterError(
                f"programming law {self.name!r}: {int(outside.sum())} of {g.numel()} target "
                f"conductance(s) lie outside its valid range {self.range_text()}, e.g. "
                f"{example:g} S; use targets inside the range or "
                f"programming_law({self.name!r}).with_extension('hold')"
            )
        g_in = g.clamp(min=lo, max=hi)
        return self._sigma_us(g_in / US) * US

    def _check_finite(self, g: torch.Tensor) -> None:
        bad = ~torch.isfinite(g) | (g < 0)
        if bool(bad.any()):
            example = float(g[bad].flatten()[0])
            raise ParameterError(
                f"programming law {self.name!r}: {int(bad.sum())} target conductance(s) are "
                f"not finite numbers >= 0 S, e.g. {example!r}"
            )

    def with_extension(self, extension: str) -> ProgrammingLaw:
        """A copy of the law with ``extension`` (``"refuse"`` or ``"hold"``)."""
        check_choice("extension", extension, EXTENSIONS)
        return dataclasses.replace(self, extension=extension)


@dataclass(frozen=True, kw_only=True)
class PolynomialLaw(ProgrammingLaw):
    """``sigma = max(sum_i c_i x^i, 0)`` microsiemens with ``x = G / x_unit_us``.

    Attributes
    ----------
    coefficients_us:
        ``c_0, c_1, ...`` in microsiemens, lowest order first.
    x_unit_us:
        ``G`` is divided by this (microsiemens) before the polynomial: 1 for a polynomial in
        ``G`` itself (uS), 40 for aihwkit's Wan fit in ``G / 40 uS``.
    """

    coefficients_us: tuple[float, ...]
    x_unit_us: float = 1.0

    def _sigma_us(self, g_us: torch.Tensor) -> torch.Tensor:
        return polynomial(g_us / self.x_unit_us, self.coefficients_us).clamp(min=0.0)


@dataclass(frozen=True, kw_only=True)
class DefectCountLaw(ProgrammingLaw):
    """``sigma = sqrt(G * g_unit)``: Poisson statistics of the number of conducting defects.

    If the filament left by one SET holds ``N`` defects with a Poisson-distributed count and
    each contributes ``g_unit`` to the conductance, then ``G = N g_unit`` and
    ``sigma_G = sqrt(N) g_unit = sqrt(G g_unit)``, i.e. ``sigma_G / G = sqrt(g_unit / G)``
    (equivalently ``sigma_R / R`` grows as ``sqrt(R)``).

    Attributes
    ----------
    g_unit_s:
        Conductance of one defect, siemens.
    """

    g_unit_s: float

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (math.isfinite(self.g_unit_s) and self.g_unit_s > 0):
            raise ParameterError(f"{self.name}: g_unit_s={self.g_unit_s!r} must be > 0 S")

    def _sigma_us(self, g_us: torch.Tensor) -> torch.Tensor:
        return torch.sqrt(g_us * (self.g_unit_s / US))


def polynomial(x: torch.Tensor, coefficients: tuple[float, ...]) -> torch.Tensor:
    """``sum_i coefficients[i] * x**i`` (lowest order first), by Horner's rule."""
    out = torch.zeros_like(x)
    for c in reversed(coefficients):
        out = out * x + c
    return out


#: Milo et al., IRPS 2021 (CrossSim ``RRAM_Milo``): sigma decreases linearly with G.
MILO_2021_POST_VERIFY = PolynomialLaw(
    name="milo_2021_post_verify",
    kind="post_verify",
    source=(
        "CrossSim RRAM_Milo (sandialabs/cross-sim, simulator/devices/custom/RRAM_Milo.py, "
        "RRAMMilo.programming_error): sigma_G = max(-0.009107 G + 4.782321, 0) uS with G in "
        "uS, 'linear fit to the data in Fig. 4 (IGVVA-100 algorithm)' of V. Milo et al., "
        "'Optimized programming algorithms for multilevel RRAM in hardware neural networks', "
        "IEEE IRPS 2021; HfO2 1T1R (TiN/Ti/HfO2/TiN), incremental gate-voltage verify with "
        "100 mV gate steps; spread after the write-verify algorithm"
    ),
    valid_range_s=(50 * US, 225 * US),
    extension_note=(
        "CrossSim suggests 50-225 uS and its newest version raises unless Gmin >= 50 uS and "
        "Gmax <= 225 uS; with 'hold' sigma is 4.33 uS below 50 uS and 2.73 uS above 225 uS"
    ),
    coefficients_us=(4.782321, -0.009107),
)

#: Wan et al., Nature 2022 (NeuRRAM), aihwkit ReRamWan2022NoiseModel at t = 1 s.
WAN_2022_POST_VERIFY = PolynomialLaw(
    name="wan_2022_post_verify",
    kind="post_verify",
    source=(
        "aihwkit ReRamWan2022NoiseModel (IBM/aihwkit, src/aihwkit/inference/noise/reram.py), "
        "t = 1 s key: sigma = 0.348 + 16.030 x - 43.853 x^2 + 45.393 x^3 - 16.815 x^4 uS, "
        "x = G / 40 uS (aihwkit's 40 uS reference g_max), 4th-order polynomial 'estimated from "
        "the published figures' of W. Wan et al., 'A compute-in-memory chip based on resistive "
        "random-access memory', Nature 608, 504 (2022), Extended Data Fig. 3 (iterative "
        "write-verify); NeuRRAM HfOx 1T1R chip"
    ),
    valid_range_s=(0.0, 40 * US),
    extension_note=(
        "the fit covers x = G / 40 uS in [0, 1]; with 'hold' sigma above 40 uS is the 40 uS "
        "value (1.10 uS)"
    ),
    coefficients_us=(0.348, 16.030, -43.853, 45.393, -16.815),
    x_unit_us=40.0,
)

_CMO_SOURCE = (
    "aihwkit ReRamCMONoiseModel (IBM/aihwkit, src/aihwkit/inference/noise/reram.py), "
    "programming noise for a program-and-verify loop with an acceptance range of {window} of "
    "the target: sigma = {c0} + {c1} G uS with G in uS; 'estimated from statistical "
    "characterization of CMO/HfOx devices from Falcone et al. (In Review)' (IBM Research "
    "Europe - Zurich, analog filamentary conductive-metal-oxide/HfOx ReRAM)"
)
_CMO_RANGE = (9.0 * US, 88.19 * US)
_CMO_NOTE = (
    "the current aihwkit class takes g_min and g_max without defaults; 9-88.19 uS are the "
    "defaults of the earlier aihwkit file reram_cmo.py and are used here as the supported "
    "range; with 'hold' sigma outside is the value at 9 uS or 88.19 uS"
)

def _cmo_law(name: str, window: str, c0: float, c1: float) -> PolynomialLaw:
    """aihwkit CMO/HfOx post-verify law for one acceptance window: sigma = c0 + c1 G (uS)."""
    return PolynomialLaw(
        name=name,
        kind="post_verify",
        source=_CMO_SOURCE.format(window=window, c0=c0, c1=c1),
        valid_range_s=_CMO_RANGE,
        extension_note=_CMO_NOTE,
        coefficients_us=(c0, c1),
    )


#: aihwkit CMO/HfOx model, acceptance window 0.2 % of the target.
CMO_POST_VERIFY_0P2 = _cmo_law("cmo_post_verify_0p2", "0.2 %", 0.00081107, 0.00106879)
#: aihwkit CMO/HfOx model, acceptance window 2 % of the target.
CMO_POST_VERIFY_2 = _cmo_law("cmo_post_verify_2", "2 %", 0.0112185391, 0.01129027418)

#: Open-loop (one SET, no verify): Poisson defect-number law, constant assumed.
POISSON_DEFECTS_OPEN_LOOP = DefectCountLaw(
    name="poisson_defects_open_loop",
    kind="open_loop",
    source=(
        "ASSUMPTION (form from the literature, constant not read): sigma_G = sqrt(G * g_unit) "
        "with g_unit = 1 uS. Form: cycle-to-cycle spread of the low-resistance state after one "
        "SET at fixed compliance explained by Poisson statistics of the number of defects in "
        "the conductive filament, sigma_R / R growing as sqrt(R): S. Ambrogio, S. Balatti, "
        "A. Cubeta, A. Calderoni, N. Ramaswamy, D. Ielmini, 'Statistical fluctuations in HfOx "
        "resistive-switching memory: Part I - Set/reset variability', IEEE Trans. Electron "
        "Devices 61, 2912 (2014) (title and authors confirmed from reference lists; its "
        "figures, fitted constant and measured range were NOT read here). g_unit = 1 uS is "
        "this project's choice: it gives sigma/G = 14 % / 10 % / 6.7 % at 50 / 100 / 225 uS, "
        "1.6-5.5 times the post-verify spread of Milo et al. IRPS 2021 over the same range"
    ),
    valid_range_s=(5 * US, 250 * US),
    extension="hold",
    extension_note=(
        "5-250 uS is this project's choice: at least 5 defects (G / g_unit >= 5) for the "
        "Gaussian approximation of a Poisson count, up to just above the 225 uS top level of "
        "Milo's HfO2 array. Default 'hold' (the law is an assumption anyway, and presets "
        "program down to ~1 uS): sigma is sqrt(5) uS = 2.24 uS below 5 uS (more than the "
        "sqrt law's own value there) and sqrt(250) uS = 15.8 uS above 250 uS"
    ),
    g_unit_s=1.0 * US,
)

#: Every law by name.
PROGRAMMING_LAWS: dict[str, ProgrammingLaw] = {
    law.name: law
    for law in (
        MILO_2021_POST_VERIFY,
        WAN_2022_POST_VERIFY,
        CMO_POST_VERIFY_0P2,
        CMO_POST_VERIFY_2,
        POISSON_DEFECTS_OPEN_LOOP,
    )
}


def programming_law(name: str) -> ProgrammingLaw:
    """The law registered as ``name``; ``ParameterError`` lists the valid names otherwise."""
    if name not in PROGRAMMING_LAWS:
        raise ParameterError(
            f"programming law {name!r} is unknown; valid names: {', '.join(PROGRAMMING_LAWS)}"
        )
    return PROGRAMMING_LAWS[name]
