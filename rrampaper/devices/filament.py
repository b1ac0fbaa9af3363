r"""Filament model of electroforming: which cells form, how many filaments, how big, how conductive.

The paper builds its random network from the stochasticity of electroforming a 40 nm
TaN/TaOx(8 nm)/Ta/TiN 1T1R macro (docs/paper.md#chip). Its own forming statistics are NOT FOUND,
so this module assembles the standard oxide-breakdown picture (docs/devices.md, from
#forming-statistics to #compliance) into one generative model whose every parameter is
documented in :data:`FilamentModel.PARAMETERS`.

Physics, step by step
---------------------
1. **Breakdown spots are a Poisson process.** A pulse of amplitude :math:`V` and width
   :math:`t` on a cell of area :math:`A` creates :math:`N \sim \mathrm{Poisson}(\lambda)`
   filaments with

   .. math:: \lambda(V, t, A) = \frac{A}{A_\mathrm{ref}}
             \left(\frac{t}{t_\mathrm{ref}}\right)^{\beta_V / n}
             \left(\frac{V}{\eta_V}\right)^{\beta_V}.

   The cell forms when :math:`N \ge 1`, so the formed fraction is the Weibull CDF
   :math:`F = 1 - e^{-\lambda}` and :math:`P(N = 0) = 1 - F` exactly. On a Weibull plot,
   :math:`\ln(-\ln(1 - F)) = \beta_V \ln V - \beta_V \ln \eta(t, A)` is a straight line.
2. **Longer pulses form more.** The time to breakdown at fixed voltage follows the power law
   :math:`t_\mathrm{BD} \propto V^{-n}` (voltage-acceleration model of oxide breakdown, Wu et
   al., IEEE TED 2009), so the Weibull slope in time is :math:`\beta_t = \beta_V / n` and the
   voltage scale shrinks as :math:`\eta(t) = \eta_V (t_\mathrm{ref}/t)^{1/n}`.
3. **Area scaling.** Poisson spots scale with area: :math:`\eta(A) = \eta_V
   (A_\mathrm{ref}/A)^{1/\beta_V}` (docs/devices.md#forming-statistics).
4. **Filament size.** Each filament's radius is lognormal (nm); an ohmic filament through the
   oxide of thickness :math:`L` conducts :math:`G_f = \sigma_f \pi r^2 / L`, hence
   :math:`G_f` is lognormal with shape :math:`2 s_r` (docs/devices.md#filament-conductance). With
   ``conduction="quantized"`` the bottleneck carries an integer number of open channels,
   :math:`G_f = G_0 \max(1, \mathrm{round}(G_\mathrm{ohmic}/G_0))`, :math:`G_0 = 2e^2/h`.

   **What the sources fix and what they do not.** No source reached gives a measured
   distribution of filament diameters or counts in TaOx/HfOx cells (docs/devices.md#filament-size,
   table "Filaments seen by microscopy"). Microscopy only bounds the size: conduction channels
   "sub-10 nm" wide (Ta/HfO2/Pt, STEM/EELS; Jiang et al., Sci. Rep. 2016, abstract) and single
   filaments "below 10 nm" with a constriction (C-AFM tomography; Celano et al., abstract),
   while the narrowest cross-section of Ta2O5 filaments holds 3-8 Ta atoms (quantum transport,
   Török et al. 2023, abstract). The radius law (median 1.5 nm, shape 0.25) is an ASSUMPTION
   chosen inside these bounds, not a fit. Moreover **radius and conductivity are not separately
   identifiable** from conductance data: only :math:`\sigma_f r^2 / L` enters, so the
   conductivity is a *calibration* that makes a median filament conduct exactly :math:`G_0`.
   Changing ``radius_median_nm`` alone rescales every conductance by the squared ratio.
5. **Compliance with its own spread.** The word-line transistor limits the forming current to
   :math:`I_{cc}`; the cell ends up no more conductive than its own compliance-limited value
   :math:`G_{cc,i} = (I_{cc}/V_c)\, e^{s_{cc} z_i}`, :math:`z_i \sim \mathcal N(0, 1)`
   (lognormal, median :math:`G_\mathrm{cap} = I_{cc}/V_c`, shape ``compliance_sigma``), so
   :math:`G = \min(G_\mathrm{raw}, G_{cc,i})` with :math:`V_c` the voltage left across the
   cell at compliance (docs/devices.md#compliance). Cell-to-cell differences in transistor
   current and in the voltage at which the filament stops growing make :math:`G_{cc,i}` differ
   from cell to cell; ``compliance_sigma = 0`` restores the hard cap (a point mass at
   :math:`G_\mathrm{cap}`, kept for comparison).
6. **Unformed cells** keep the pristine conductance (about 10 MΩ on the same group's 40 nm
   platform, Nat. Mach. Intell. 2023 Extended Data Fig. 1a), lognormally spread.

The formed fraction (the paper's "sparsity" knob, set by the source-line voltage) and the
conductance distribution both follow from :math:`\lambda`: a higher or longer pulse forms more
cells *and* gives formed cells more filaments, hence more conductance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats

from rrampaper._checks import check_choice, check_positive_int, check_range
from rrampaper.devices._params import Parameter, ParameterSet, as_attrs
from rrampaper.devices.distributions import FormedConductance
from rrampaper.devices.streams import as_generator

#: Conductance quantum :math:`G_0 = 2e^2/h` in siemens (exact since the 2019 SI redefinition).
G0 = 7.748091729863649e-05

#: Area of the 60 nm-diameter bottom-electrode via of the paper's chip (docs/paper.md#chip), nm^2.
VIA_AREA_NM2 = math.pi * 30.0**2

_RADIUS_MEDIAN_NM = 1.5
_OXIDE_NM = 8.0
#: CALIBRATION: the filament conductivity that makes a median-radius filament conduct exactly
#: one G0 (radius and conductivity are not separately identifiable from conductances).
_SIGMA_F = G0 * _OXIDE_NM * 1e-9 / (math.pi * (_RADIUS_MEDIAN_NM * 1e-9) ** 2)

PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        "weibull_scale_v", "V", 3.5, 0.0, 20.0,
        "ASSUMPTION (paper NOT FOUND): breakdown voltage of the same group's 40 nm TaOx cells "
        "lies above the 3 V sweep start and is quasi-normal (Nat. Mach. Intell. 2023, ESGNN, "
        "Extended Data Fig. 1a-b); eta is the 63.2 % point at the reference width and area",
        low_open=True,
    ),
    Parameter(
        "weibull_shape_v", "", 20.0, 1.0, 200.0,
        "ASSUMPTION: Weibull slope of the forming voltage; 20 gives a sigma/mean of ~6 %, a "
        "quasi-normal spread of ~0.2 V at 3.5 V as in ESGNN Extended Data Fig. 1b",
    ),
    Parameter(
        "voltage_exponent", "", 40.0, 1.0, 500.0,
        "ASSUMPTION: power-law voltage acceleration t_BD ~ V^-n of oxide breakdown (Wu et al., "
        "IEEE TED 56, 2009, 'On voltage acceleration models of time to breakdown'); n = 40 "
        "means a decade of pulse width lowers the forming voltage by ~6 %",
    ),
    Parameter(
        "reference_width_s", "s", 1e-6, 0.0, 1.0,
        "ASSUMPTION: pulse width at which weibull_scale_v is quoted (1 us, a typical forming "
        "pulse of 1T1R macros)",
        low_open=True,
    ),
    Parameter(
        "reference_area_nm2", "nm^2", VIA_AREA_NM2, 0.0, 1e8,
        "docs/paper.md#chip: 60 nm diameter TaN-filled bottom-electrode via, area pi*(30 nm)^2",
        low_open=True,
    ),
    Parameter(
        "area_nm2", "nm^2", VIA_AREA_NM2, 0.0, 1e8,
        "docs/paper.md#chip: cell area = the 60 nm BE via",
        low_open=True,
    ),
    Parameter(
        "oxide_thickness_nm", "nm", _OXIDE_NM, 0.0, 100.0,
        "docs/paper.md#chip: 5 nm Ta oxidized into 8 nm TaOx",
        low_open=True,
    ),
    Parameter(
        "radius_median_nm", "nm", _RADIUS_MEDIAN_NM, 0.05, 30.0,
        "ASSUMPTION (not fitted: no measured diameter distribution found): chosen inside the "
        "published bounds, conduction channels 'sub-10 nm' (Ta/HfO2/Pt STEM-EELS, Jiang et al., "
        "Sci. Rep. 2016, abstract) and filaments 'below 10 nm' (C-AFM tomography, Celano et al., "
        "abstract) above a 3-8 Ta-atom bottleneck (Török et al., arXiv 2302.03214, abstract); "
        "only sigma_f*r^2/L is identifiable from conductances (docs/devices.md#filament-size)",
    ),
    Parameter(
        "radius_sigma", "", 0.25, 0.0, 2.0,
        "ASSUMPTION: lognormal shape of the radius (no measured spread found); its 99.8 % "
        "interval of diameters, 1.4-6.5 nm, stays inside the bounds of radius_median_nm; sets "
        "the conductance shape 2*0.25 = 0.5, the only part conductance data can test",
        low_open=True,
    ),
    Parameter(
        "filament_conductivity_s_per_m", "S/m", _SIGMA_F, 0.0, 1e8,
        "ASSUMPTION (calibration, not a measured conductivity): set so that a median filament "
        "conducts exactly G0 = 77.48 uS, since radius and conductivity are not separately "
        "identifiable; 8.8e4 S/m (1.1 mOhm cm) is a plausible sub-stoichiometric TaOx value",
        low_open=True,
    ),
    Parameter(
        "compliance_current_a", "A", 100e-6, 0.0, 1e-2,
        "ASSUMPTION (paper NOT FOUND; WL-imposed compliance, docs/paper.md#hybrid-system): 100 uA",
        low_open=True,
    ),
    Parameter(
        "compliance_voltage_v", "V", 0.4, 0.0, 5.0,
        "ASSUMPTION: voltage across the cell at compliance, R_LRS ~ V_c/I_cc with V_c ~ 0.3-0.5 V "
        "(docs/devices.md#compliance); cap = 100 uA / 0.4 V = 250 uS",
        low_open=True,
    ),
    Parameter(
        "compliance_sigma", "", 0.2, 0.0, 2.0,
        "ASSUMPTION (no cell-to-cell LRS spread at fixed compliance found for TaOx/HfOx 1T1R; "
        "lead, NOT VERIFIED: Ambrogio et al., IEEE TED 2014, 'Statistical fluctuations in HfOx "
        "resistive-switching memory: part I'): lognormal shape of each cell's compliance-"
        "limited conductance; 0.2 = 0.087 decade; 0 gives the hard cap (a point mass)",
    ),
    Parameter(
        "pristine_conductance_s", "S", 1e-7, 0.0, 1e-4,
        "Nat. Mach. Intell. 2023 (ESGNN) Extended Data Fig. 1a: pristine cells ~10 MOhm",
        low_open=True,
    ),
    Parameter(
        "pristine_sigma", "", 0.3, 0.0, 3.0,
        "ASSUMPTION: lognormal spread of the pristine conductance (no number given in ESGNN)",
        low_open=True,
    ),
)

CONDUCTION_MODES = ("ohmic", "quantized")


@dataclass(frozen=True)
class FormingResult:
    """Outcome of one forming pulse on ``n`` cells (torch, float64, CPU).

    Attributes
    ----------
    voltage_v, width_s:
        The pulse (volts, seconds).
    formed:
        ``[n]`` bool, whether the cell formed at least one filament.
    n_filaments:
        ``[n]`` int64, filaments per cell (0 for unformed cells).
    conductance_s:
        ``[n]`` cell conductance in siemens after forming (pristine for unformed cells,
        min(pristine + filaments, the cell's compliance-limited conductance) for formed ones).
    capped:
        ``[n]`` bool, whether the compliance bound the (formed) cell: G_raw >= G_cc,i.
    filament_cell:
        ``[F]`` int64, the cell each filament belongs to.
    filament_radius_nm:
        ``[F]`` radius of each filament in nm.
    filament_conductance_s:
        ``[F]`` conductance of each filament in siemens (before the cell's compliance limit).
    compliance_limit_s:
        ``[n]`` each cell's compliance-limited conductance G_cc,i in siemens (lognormal around
        I_cc/V_c with shape ``compliance_sigma``; all equal for the hard cap).
    """

    voltage_v: float
    width_s: float
    formed: torch.Tensor
    n_filaments: torch.Tensor
    conductance_s: torch.Tensor
    capped: torch.Tensor
    filament_cell: torch.Tensor
    filament_radius_nm: torch.Tensor
    filament_conductance_s: torch.Tensor
    compliance_limit_s: torch.Tensor

    @property
    def formed_fraction(self) -> float:
        """Fraction of cells that formed (the density of the random network)."""
        return float(self.formed.double().mean())

    @property
    def limited_fraction(self) -> float:
        """Fraction of the *formed* cells that the compliance bound (nan if none formed)."""
        n_formed = int(self.formed.sum())
        return float(self.capped.sum()) / n_formed if n_formed else math.nan


class FilamentModel(ParameterSet):
    """Generative model of electroforming a TaOx 1T1R cell (see the module docstring).

    Parameters
    ----------
    conduction:
        ``"ohmic"`` (continuous, lognormal filament conductance) or ``"quantized"`` (integer
        multiples of G0).
    **params:
        Any of the names in :data:`PARAMETERS` (units in the names); unspecified ones take their
        documented default. Out-of-range values raise ``ValueError``.

    Examples
    --------
    >>> model = FilamentModel()
    >>> round(model.formed_probability(3.5, 1e-6), 3)   # V = eta at the reference width
    0.632
    >>> res = model.sample(10_000, voltage_v=3.5, width_s=1e-6, seed=0)
    >>> abs(res.formed_fraction - 0.632) < 0.02
    True
    """

    PARAMETERS = PARAMETERS

    def __init__(self, conduction: str = "ohmic", **params: float) -> None:
        self.conduction = check_choice("conduction", conduction, CONDUCTION_MODES)
        self._set_params(params)

    # -- parameters -----------------------------------------------------------------------

    def replace(self, **changes: float) -> FilamentModel:
        """A copy with some parameters changed (``conduction`` may be changed too)."""
        conduction = changes.pop("conduction", self.conduction)
        return FilamentModel(conduction=conduction, **{**self._p, **changes})


    def attrs(self, prefix: str = "filament") -> dict:
        """netCDF-safe attributes describing this model."""
        return {**as_attrs(prefix, self._p), f"{prefix}.conduction": self.conduction}

    def __repr__(self) -> str:
        changed = {k: v for k, v in self._p.items() if v != _DEFAULTS[k]}
        inner = ", ".join(f"{k}={v:g}" for k, v in changed.items())
        sep = ", " if inner else ""
        return f"FilamentModel(conduction={self.conduction!r}{sep}{inner})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, FilamentModel)
            and other.conduction == self.conduction
            and other._p == self._p
        )

    __hash__ = None  # type: ignore[assignment]

    # -- forming statistics ---------------------------------------------------------------
    @property
    def time_shape(self) -> float:
        """Weibull slope of the time to breakdown, beta_t = beta_V / n (dimensionless)."""
        return self.weibull_shape_v / self.voltage_exponent

    @property
    def conductance_cap_s(self) -> float:
        """Median compliance-limited conductance I_cc / V_c in siemens.

        With ``compliance_sigma = 0`` it is the hard cap every formed cell is clipped to; with a
        spread each cell has its own limit, lognormal around this value
        (:meth:`compliance_limit_distribution`).
        """
        return self.compliance_current_a / self.compliance_voltage_v

    def compliance_limit_distribution(self) -> stats.rv_continuous:
        """Frozen lognormal of the per-cell compliance-limited conductance G_cc (siemens).

        Raises ``ValueError`` for the hard cap (``compliance_sigma = 0``), which is one number.
        """
        if self.compliance_sigma == 0.0:
            raise ValueError("compliance_sigma=0 is a hard cap (conductance_cap_s), not a law")
        return stats.lognorm(s=self.compliance_sigma, scale=self.conductance_cap_s)

    def compliance_limited_probability(self, voltage_v: float, width_s: float) -> float:
        """P(G_raw > G_cc | formed): fraction of formed cells the compliance bounds (ohmic)."""
        return self.formed_conductance_distribution(voltage_v, width_s).p_limited

    def weibull_scale(self, width_s: float) -> float:
        """Voltage (V) at which 63.2 % of cells form with a pulse of ``width_s`` seconds."""
        width_s = _check_width(width_s)
        return (
            self.weibull_scale_v
            * (self.reference_width_s / width_s) ** (1.0 / self.voltage_exponent)
            * (self.reference_area_nm2 / self.area_nm2) ** (1.0 / self.weibull_shape_v)
        )

    def rate(self, voltage_v, width_s: float):
        """Mean number of breakdown spots lambda(V, t, A) per cell (float or ndarray)."""
        v = _check_voltage(voltage_v)
        return (v / self.weibull_scale(width_s)) ** self.weibull_shape_v

    def formed_probability(self, voltage_v, width_s: float):
        """Formed fraction F = 1 - exp(-lambda): the Weibull CDF of the forming voltage."""
        f = -np.expm1(-self.rate(voltage_v, width_s))
        return float(f) if np.ndim(f) == 0 else f

    def voltage_for_formed_fraction(self, fraction: float, width_s: float) -> float:
        """Pulse amplitude (V) that forms ``fraction`` of the cells (inverse Weibull CDF).

        This is how the same group chose the programming voltage for a target sparsity
        (ESGNN Extended Data Fig. 1c-e).
        """
        check_range("fraction", fraction, 0.0, 1.0, low_open=True, high_open=True)
        return self.weibull_scale(width_s) * (-math.log1p(-fraction)) ** (
            1.0 / self.weibull_shape_v
        )

    def count_pmf(self, k, voltage_v: float, width_s: float):
        """P(N = k | formed): the zero-truncated Poisson law of filaments per formed cell."""
        lam = float(self.rate(voltage_v, width_s))
        k = np.asarray(k)
        pmf = stats.poisson.pmf(k, lam) / -math.expm1(-lam)
        return np.where(k >= 1, pmf, 0.0)

    # -- filament size and conductance ----------------------------------------------------
    def radius_distribution(self) -> stats.rv_continuous:
        """Frozen ``scipy.stats.lognorm`` of the filament radius in nm."""
        return stats.lognorm(s=self.radius_sigma, scale=self.radius_median_nm)

    def filament_conductance(self, radius_nm):
        """Conductance (S) of a filament of radius ``radius_nm`` (tensor or ndarray)."""
        r_m = radius_nm * 1e-9
        g = self.filament_conductivity_s_per_m * math.pi * r_m * r_m / (
            self.oxide_thickness_nm * 1e-9
        )
        if self.conduction == "quantized":
            lib = torch if isinstance(g, torch.Tensor) else np
            g = G0 * lib.clip(lib.round(g / G0), 1, None)
        return g

    @property
    def filament_median_s(self) -> float:
        """Median single-filament conductance in siemens (ohmic value)."""
        r = self.radius_median_nm * 1e-9
        return self.filament_conductivity_s_per_m * math.pi * r * r / (self.oxide_thickness_nm * 1e-9)

    def filament_conductance_distribution(self) -> stats.rv_continuous:
        """Frozen lognormal of one filament's conductance (S); ohmic conduction only."""
        self._require_ohmic("filament_conductance_distribution")
        return stats.lognorm(s=2.0 * self.radius_sigma, scale=self.filament_median_s)

    def pristine_distribution(self) -> stats.rv_continuous:
        """Frozen lognormal of the pristine (unformed) conductance in siemens."""
        return stats.lognorm(s=self.pristine_sigma, scale=self.pristine_conductance_s)

    def formed_conductance_distribution(self, voltage_v: float, width_s: float) -> FormedConductance:
        """Distribution of a formed cell's conductance (numerical convolution, ohmic only).

        min(G_pristine + sum of N lognormal filaments, G_cc) with N zero-truncated Poisson and
        G_cc the cell's lognormal compliance-limited conductance (a hard cap, point mass, when
        ``compliance_sigma = 0``); the pristine spread is replaced by its median (it is below
        0.1 % of a formed conductance).
        """
        self._require_ohmic("formed_conductance_distribution")
        return FormedConductance(
            rate=float(self.rate(voltage_v, width_s)),
            median_s=self.filament_median_s,
            sigma=2.0 * self.radius_sigma,
            cap_s=self.conductance_cap_s,
            offset_s=self.pristine_conductance_s,
            cap_sigma=self.compliance_sigma,
        )

    def _require_ohmic(self, what: str) -> None:
        if self.conduction != "ohmic":
            raise ValueError(f"{what} needs conduction='ohmic' (got {self.conduction!r})")

    # -- sampling -------------------------------------------------------------------------
    def sample(
        self,
        n: int,
        voltage_v: float,
        width_s: float,
        seed: int | torch.Generator | None = 0,
    ) -> FormingResult:
        """Apply one forming pulse to ``n`` pristine cells.

        Parameters
        ----------
        n:
            Number of cells.
        voltage_v:
            Source-line pulse amplitude in volts.
        width_s:
            Pulse width in seconds.
        seed:
            Integer seed or a CPU :class:`torch.Generator`.

        Returns
        -------
        FormingResult
            Per-cell and per-filament outcomes (float64 tensors on the CPU).
        """
        n = check_positive_int("n", n)
        gen = as_generator(seed)
        lam = float(self.rate(voltage_v, width_s))
        rates = torch.full((n,), lam, dtype=torch.float64)
        counts = torch.poisson(rates, generator=gen).to(torch.int64)
        total = int(counts.sum())
        cell = torch.repeat_interleave(torch.arange(n), counts)
        radius = torch.exp(
            math.log(self.radius_median_nm)
            + self.radius_sigma * torch.randn(total, generator=gen, dtype=torch.float64)
        )
        g_fil = self.filament_conductance(radius)
        pristine = torch.exp(
            math.log(self.pristine_conductance_s)
            + self.pristine_sigma * torch.randn(n, generator=gen, dtype=torch.float64)
        )
        # drawn after the pristine spread so that the earlier streams do not depend on it
        limit = self.conductance_cap_s * torch.exp(
            self.compliance_sigma * torch.randn(n, generator=gen, dtype=torch.float64)
        )
        summed = pristine.index_add(0, cell, g_fil)
        formed = counts > 0
        capped = formed & (summed >= limit)
        conductance = torch.where(formed, torch.minimum(summed, limit), pristine)
        return FormingResult(
            voltage_v=float(voltage_v),
            width_s=float(width_s),
            formed=formed,
            n_filaments=counts,
            conductance_s=conductance,
            capped=capped,
            filament_cell=cell,
            filament_radius_nm=radius,
            filament_conductance_s=g_fil,
            compliance_limit_s=limit,
        )


_DEFAULTS = {p.name: p.default for p in PARAMETERS}


def _check_voltage(voltage_v):
    arr = np.asarray(voltage_v, dtype=float)
    if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr <= 0) or np.any(arr > 50):
        raise ValueError(f"voltage_v={voltage_v!r} V is outside the valid range (0, 50] V")
    return arr if arr.ndim else float(arr)


def _check_width(width_s: float) -> float:
    check_range("width_s", width_s, 0.0, 10.0, low_open=True, unit="s")
    return float(width_s)
