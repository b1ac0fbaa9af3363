"""Analog memory technologies behind one small interface, with cited presets.

In the spirit of aihwkit's ``inference/noise`` models, a :class:`Technology` answers three
questions about a memory cell, all in siemens:

1. **Device-to-device distribution of the random weights** (:meth:`Technology.sample_pairs`):
   the conductance a cell ends up with after the *same*, unverified programming step applied to
   every cell (electroforming for the paper's TaOx RRAM, one SET pulse for the others), the
   conductance of that cell after RESET (a pruned edge) and of the off-state reference cell of
   its differential pair.
2. **Cycle-to-cycle read noise** (:meth:`Technology.read_sigma`): the standard deviation of one
   read around the cell's conductance.
3. **Programming** in two laws that say what they are (:mod:`.programming_laws`):
   :meth:`Technology.programming_sigma`, the spread of one *unverified* (open-loop) attempt,
   which the write-verify algorithm of :mod:`rrampaper.devices.programming` iterates over; and
   :meth:`Technology.post_verify_sigma`, the spread a source reports *after* its write-verify
   algorithm, where one is published.

After programming, :meth:`Technology.relax` moves conductances over ``t_inference_s``
(:mod:`.relaxation`) and :meth:`Technology.drift` models phase-change drift. Every technology
carries the switchable effects of :mod:`.effects` (faults, levels, ADC, IR drop).

Presets, looked up by name with :func:`technology` (listed in :data:`TECHNOLOGIES`):

===========================  ================================================================
``taox_40nm_macro``          the paper's 40 nm TaOx macro with relaxation, faults, levels, ADC
``taox_post_verify_static``  the same cells, WO by a post-verify spread, nothing after programming
``hfox_rram``                HfOx 1T1R RRAM, post-verify spread of Wan et al., Nature 2022
``pcm``                      phase-change memory with drift, IBM model (Nandakumar, ICECS 2019)
``sonos_flash``              40 nm SONOS charge-trap flash (Agrawal et al., IEDM 2022)
``fefet``                    28 nm HKMG ferroelectric FET (De et al., IEEE JEDS 2022), assumptions
``ecram``                    W/YSZ/WOx electrochemical RAM (Nat. Commun. 2023), assumptions
``official_synthetic``       the fixed synthetic device of the official-script parity check
===========================  ================================================================

Every number's source is in the class's ``PARAMETERS`` (``Parameter.source``); values the
literature did not give are marked ``ASSUMPTION`` and name the anchor they rest on.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd
import torch

from rrampaper._checks import check_choice, check_positive_int
from rrampaper.devices import effects
from rrampaper.devices._params import Parameter, ParameterSet, as_attrs
from rrampaper.devices.faults import FaultModel
from rrampaper.devices.filament import FilamentModel
from rrampaper.devices.programming_laws import ProgrammingLaw, programming_law
from rrampaper.devices.relaxation import RELAXATION_LAWS, RelaxationLaw, relaxation_law
from rrampaper.devices.streams import as_generator
from rrampaper.errors import ParameterError

US = 1e-6  # one microsiemens in siemens


@dataclass(frozen=True)
class PairConductances:
    """Conductances (siemens, float64, CPU) of ``n`` differential pairs.

    Attributes
    ----------
    formed:
        The randomly programmed cell after the random-weight step (kept edge).
    reset:
        The same cell after a RESET (pruned edge).
    off:
        The off-state reference cell of the pair.
    """

    formed: torch.Tensor
    reset: torch.Tensor
    off: torch.Tensor


class Technology(ParameterSet, ABC):
    """Base class of a memory technology; subclasses declare ``PARAMETERS`` and ``SOURCES``.

    Every technology also carries the device effects of :mod:`rrampaper.devices.effects` (time
    after programming, faults, levels, output ADC, IR drop): their parameters are merged into
    ``PARAMETERS`` (defaults off; a preset switches them on through ``EFFECT_DEFAULTS``) and
    its three laws (open-loop programming, post-verify spread, relaxation) are listed by
    :meth:`parameter_table` with their sources.

    Parameters
    ----------
    relaxation:
        Name of the relaxation law (:data:`rrampaper.devices.relaxation.RELAXATION_LAWS`);
        default: the preset's ``RELAXATION_LAW``.
    **params:
        Values for any of the subclass's ``PARAMETERS`` (units in the names); others take the
        documented defaults. Out-of-range values raise ``ValueError``.
    """

    #: Preset name used by :func:`technology`.
    name: ClassVar[str] = ""
    #: Human-readable name for figure legends.
    label: ClassVar[str] = ""
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = ()
    #: Where each of the three statistics comes from (keys ``d2d``, ``read``, ``programming``,
    #: and ``drift`` where modelled).
    SOURCES: ClassVar[dict[str, str]] = {}
    #: Effect parameters this preset switches on: ``{name: (default, source)}``.
    EFFECT_DEFAULTS: ClassVar[dict[str, tuple[float, str]]] = {}
    #: Name of the open-loop law behind :meth:`programming_sigma` (``None``: the class's own
    #: formula, described in ``SOURCES["programming"]``).
    OPEN_LOOP_LAW: ClassVar[str | None] = None
    #: Name of the published post-verify law (``None``: the technology has none, or it has a
    #: formula of its own, ``POST_VERIFY_FORMULA``).
    POST_VERIFY_LAW: ClassVar[str | None] = None
    #: The class computes its post-verify spread itself (:meth:`post_verify_formula`).
    POST_VERIFY_FORMULA: ClassVar[bool] = False
    #: Default relaxation law after programming.
    RELAXATION_LAW: ClassVar[str] = "none"

    #: A wrapper of another technology (e.g. ScaledNoise) reads the effects of its base.
    EFFECTS_FROM_BASE: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.EFFECTS_FROM_BASE:
            return
        own = [p for p in cls.PARAMETERS if p.name not in _EFFECT_NAMES]
        names = {p.name for p in own}
        merged = effects.with_defaults(cls.EFFECT_DEFAULTS)
        cls.PARAMETERS = (*own, *(p for p in merged if p.name not in names))

    def __init__(self, *, relaxation: str | None = None, **params: float) -> None:
        self._set_params(params)
        law = self.RELAXATION_LAW if relaxation is None else relaxation
        check_choice("relaxation", law, tuple(RELAXATION_LAWS))
        self._relaxation = law
        effects.check_integer_effects(self._p)
        self.faults  # noqa: B018 (validates the fault rates together)
        self._check()

    def _check(self) -> None:
        """Cross-parameter consistency checks (subclasses extend it)."""
        if not self.g_min_s < self.g_max_s:
            raise ValueError(
                f"{self.name}: the programmable range [{self.g_min_s!r}, {self.g_max_s!r}] S is empty"
            )

    def _init_kwargs(self) -> dict[str, Any]:
        """Everything ``type(self)(**...)`` needs to rebuild this technology."""
        return {"relaxation": self._relaxation, **self._p}

    def replace(self, **changes: Any) -> Technology:
        """A copy with some parameters (or ``relaxation``) changed."""
        return type(self)(**{**self._init_kwargs(), **changes})

    def attrs(self) -> dict[str, Any]:
        """netCDF-safe attributes: name, parameters, laws and sources."""
        out: dict[str, Any] = {"technology": self.name}
        out.update(as_attrs(f"technology.{self.name}", self._p))
        out.update({f"law.{k}": v for k, v in self.law_names().items()})
        out.update({f"source.{k}": v for k, v in self.SOURCES.items()})
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and other._p == self._p  # type: ignore[union-attr]
            and other._relaxation == self._relaxation  # type: ignore[union-attr]
        )

    __hash__ = None  # type: ignore[assignment]

    # -- laws and effects -----------------------------------------------------------------
    @property
    def relaxation(self) -> RelaxationLaw:
        """The relaxation law applied ``t_inference_s`` after programming."""
        return relaxation_law(self._relaxation)

    @property
    def open_loop_law(self) -> ProgrammingLaw | None:
        """The sourced open-loop law behind :meth:`programming_sigma`, if it is one."""
        return programming_law(self.OPEN_LOOP_LAW) if self.OPEN_LOOP_LAW else None

    @property
    def post_verify_law(self) -> ProgrammingLaw | None:
        """The published post-verify law, if the technology has one."""
        return programming_law(self.POST_VERIFY_LAW) if self.POST_VERIFY_LAW else None

    @property
    def has_post_verify(self) -> bool:
        """Whether :meth:`post_verify_sigma` is available."""
        return self.POST_VERIFY_FORMULA or self.POST_VERIFY_LAW is not None

    @property
    def faults(self) -> FaultModel:
        """The chip's fault rates and faulty-cell conductances (:mod:`rrampaper.devices.faults`)."""
        return effects.fault_model(self._p)

    def law_names(self) -> dict[str, str]:
        """``{"open_loop": ..., "post_verify": ..., "relaxation": ...}`` (``"none"`` where absent)."""
        return {
            "open_loop": self.OPEN_LOOP_LAW or "class formula",
            "post_verify": self.POST_VERIFY_LAW
            or ("class formula" if self.has_post_verify else "none"),
            "relaxation": self._relaxation,
        }

    def parameter_table(self) -> pd.DataFrame:
        """Parameters (the technology's and its effects') and its laws, with units, valid
        ranges and sources."""
        rows = super().parameter_table()
        laws = []
        for kind, law in (("open_loop", self.open_loop_law), ("post_verify", self.post_verify_law)):
            name = self.law_names()[kind]
            if law is not None:
                lo, hi = law.valid_range_s
                valid = f"[{lo:g}, {hi:g}] S, outside: {law.extension}"
                source = law.source
            else:
                valid = ""
                source = self.SOURCES.get("programming", "") if name != "none" else "no published law of this kind for this technology"
            laws.append({"parameter": f"law: {kind}", "value": name, "unit": "S",
                         "valid range": valid, "source": source})
        relax = self.relaxation
        laws.append({"parameter": "law: relaxation", "value": self._relaxation, "unit": "",
                     "valid range": ", ".join(RELAXATION_LAWS), "source": relax.source})
        return pd.concat([rows, pd.DataFrame(laws).set_index("parameter")])

    # -- the interface --------------------------------------------------------------------
    @property
    @abstractmethod
    def g_min_s(self) -> float:
        """Lowest programmable conductance (siemens)."""

    @property
    @abstractmethod
    def g_max_s(self) -> float:
        """Highest programmable conductance (siemens)."""

    @abstractmethod
    def sample_pairs(self, n: int, seed: int | torch.Generator | None = 0) -> PairConductances:
        """Device-to-device sample of ``n`` differential pairs (float64, CPU, siemens)."""

    @abstractmethod
    def read_sigma(self, g_s: torch.Tensor) -> torch.Tensor:
        """Standard deviation (S) of one read of cells of conductance ``g_s`` (S)."""

    @abstractmethod
    def programming_sigma(self, g_s: torch.Tensor) -> torch.Tensor:
        """Standard deviation (S) of one unverified programming attempt aimed at ``g_s`` (S):
        the open-loop law that write-verify iterates over."""

    def post_verify_sigma(self, g_s: torch.Tensor) -> torch.Tensor:
        """Standard deviation (S) of the state *after* a published write-verify algorithm.

        Raises :class:`~rrampaper.errors.ParameterError` where the technology has no such law
        (simulate write-verify as an algorithm instead: ``method="write_verify"``).
        """
        if self.POST_VERIFY_FORMULA:
            return self.post_verify_formula(g_s)
        law = self.post_verify_law
        if law is None:
            raise ParameterError(
                f"technology {self.name!r} has no published post-verify spread; use "
                "method='write_verify' (the algorithm over the open-loop law) or 'open_loop'"
            )
        return law.sigma(g_s)

    def post_verify_formula(self, g_s: torch.Tensor) -> torch.Tensor:
        """The class's own post-verify spread (S), where ``POST_VERIFY_FORMULA`` is set."""
        raise NotImplementedError(f"{type(self).__name__} declares no post-verify formula")

    def relax(
        self, g_s: torch.Tensor, t_s: float, z: torch.Tensor, frozen: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Conductances ``t_s`` seconds after programming, from the state at 1 s, with the
        caller's standard-normal ``z`` (one per cell: a cell keeps its direction over time).
        Cells where ``frozen`` is true (faulty or never-formed cells) keep their conductance."""
        relaxed = self.relaxation.relax(g_s, t_s, z)
        return relaxed if frozen is None else torch.where(frozen, g_s, relaxed)

    def drift(
        self, g_s: torch.Tensor, t_s: float, seed: int | torch.Generator | None = 0
    ) -> torch.Tensor:
        """Conductance ``t_s`` seconds after programming (default: no drift)."""
        return g_s


_EFFECT_NAMES = {p.name for p in effects.EFFECT_PARAMETERS}


def _lognormal(n: int, median: float, sigma: float, gen: torch.Generator) -> torch.Tensor:
    z = torch.randn(n, generator=gen, dtype=torch.float64)
    return torch.exp(math.log(median) + sigma * z)


# ---------------------------------------------------------------------------------------
# The paper's TaOx RRAM
# ---------------------------------------------------------------------------------------
class TaOxRRAM(Technology):
    """The paper's 40 nm TaN/TaOx/Ta/TiN 1T1R cells, random weights by electroforming; WO
    programming described by a *post-verify* spread and nothing after programming.

    This is the model the package used before it had separate open-loop and post-verify laws,
    under a name that says what it is: the formed cell of each pair comes from
    :class:`~rrampaper.devices.filament.FilamentModel` at the forming pulse
    (``forming_voltage_v``, ``forming_width_s``); RESET and off-state reference cells sit in the
    lognormal high-resistance state (docs/devices.md#pristine-and-off-state); unformed cells stay
    pristine, also after a RESET. Its post-verify spread is the CrossSim ``RRAM_Milo`` fit (Milo
    et al., IRPS 2021, Fig. 4: after the IGVVA-100 write-verify, valid 50-225 uS) **extended
    linearly below 50 uS down to 1 uS** (stated: the fit is used outside its range, floored at
    ``prog_floor_s``); one unverified pulse follows the open-loop law
    ``poisson_defects_open_loop``. No relaxation, faults, level limit, ADC or IR drop (all
    switchable). :class:`TaOxMacro` is the preset with those effects on.

    Parameters
    ----------
    filament:
        The :class:`FilamentModel` (default parameters if omitted).
    **params:
        See ``TaOxRRAM.PARAMETERS``.
    """

    name = "taox_post_verify_static"
    label = "TaOx RRAM, post-verify spread, no relaxation"
    OPEN_LOOP_LAW = "poisson_defects_open_loop"
    POST_VERIFY_FORMULA = True
    PARAMETERS = (
        Parameter(
            "forming_voltage_v", "V", 3.5, 0.0, 20.0,
            "ASSUMPTION (paper NOT FOUND): equal to the Weibull scale, so 63 % of cells form",
            low_open=True,
        ),
        Parameter(
            "forming_width_s", "s", 1e-6, 0.0, 10.0,
            "ASSUMPTION: 1 us, the filament model's reference width", low_open=True,
        ),
        Parameter(
            "hrs_median_s", "S", 2 * US, 0.0, 1e-3,
            "ASSUMPTION: off state of ~500 kOhm, between pristine (10 MOhm, ESGNN ED Fig. 1a) "
            "and the breakdown criterion 20 kOhm (same figure)", low_open=True,
        ),
        Parameter(
            "hrs_sigma", "", 0.5, 0.0, 3.0,
            "ASSUMPTION: HRS is lognormal (HfO2 1T1R arrays, "
            "docs/devices.md#pristine-and-off-state); shape 0.5",
            low_open=True,
        ),
        Parameter(
            "read_relative", "", 0.01, 0.0, 1.0,
            "aihwkit ReRAM noise models recommend ~1 % Gaussian read noise (w_noise = 0.01, "
            "ReRamWan2022NoiseModel docstring)",
        ),
        Parameter(
            "read_floor_s", "S", 0.05 * US, 0.0, 1e-4,
            "ASSUMPTION: additive floor so that relative noise grows at low conductance, as "
            "1/f and RTN do in RRAM (Ambrogio et al., IEEE TED 62, 2015)",
        ),
        Parameter(
            "prog_intercept_s", "S", 4.782321 * US, 0.0, 1e-4,
            "post-verify spread: Milo et al., IRPS 2021, Fig. 4 (HfO2 RRAM after IGVVA-100 "
            "write-verify, valid 50-225 uS), linear fit sigma_G = 4.78 uS - 0.0091 G as shipped "
            "in CrossSim RRAM_Milo; extended linearly below 50 uS (stated); TaOx assumed alike",
        ),
        Parameter(
            "prog_slope", "", -0.009107, -1.0, 1.0,
            "post-verify spread: Milo et al., IRPS 2021, Fig. 4 (via CrossSim RRAM_Milo)",
        ),
        Parameter(
            "prog_floor_s", "S", 0.1 * US, 0.0, 1e-4,
            "ASSUMPTION: minimum post-verify sigma where the linear fit would reach zero",
        ),
        Parameter(
            "open_loop_scale", "", 1.0, 0.0, 100.0,
            "multiplier of the open-loop law poisson_defects_open_loop (1 = as documented)",
        ),
        Parameter(
            "g_min_prog_s", "S", 2 * US, 0.0, 1e-3,
            "ASSUMPTION: lowest programmed target = the off-state median (hrs_median_s), so "
            "that a RESET idle cell and a zero weight's target agree", low_open=True,
        ),
        Parameter(
            "g_max_prog_s", "S", 225 * US, 0.0, 1e-2,
            "Milo et al., IRPS 2021: multilevel range 50-225 uS", low_open=True,
        ),
    )
    SOURCES = {
        "d2d": "filament model of electroforming (rrampaper.devices.filament): filament "
        "count and size are assumptions bounded by published microscopy "
        "(docs/devices.md#filament-size), pristine 10 MOhm (ESGNN NMI 2023 ED Fig. 1a); paper "
        "NOT FOUND",
        "read": "1 % relative (aihwkit ReRAM recommendation) + 0.05 uS floor (assumption)",
        "programming": "open loop: poisson_defects_open_loop (Poisson defect-number form, "
        "Ambrogio et al., IEEE TED 2014; constant ASSUMPTION); post-verify: Milo et al., "
        "IRPS 2021, Fig. 4, linear sigma(G) (CrossSim RRAM_Milo), extended below 50 uS",
    }

    def __init__(self, filament: FilamentModel | None = None, **params: Any) -> None:
        self.filament = filament if filament is not None else FilamentModel()
        super().__init__(**params)

    def _check(self) -> None:
        if self.g_min_prog_s >= self.g_max_prog_s:
            raise ValueError(
                f"g_min_prog_s={self.g_min_prog_s!r} S must be below g_max_prog_s="
                f"{self.g_max_prog_s!r} S"
            )

    def _init_kwargs(self) -> dict[str, Any]:
        return {"filament": self.filament, **super()._init_kwargs()}

    def __eq__(self, other: object) -> bool:
        return super().__eq__(other) and other.filament == self.filament  # type: ignore[union-attr]

    def attrs(self) -> dict[str, Any]:
        return {**super().attrs(), **self.filament.attrs(f"technology.{self.name}.filament")}

    @property
    def g_min_s(self) -> float:
        return self.g_min_prog_s

    @property
    def g_max_s(self) -> float:
        return self.g_max_prog_s

    @property
    def formed_fraction(self) -> float:
        """Expected fraction of formed cells at the forming pulse."""
        return float(self.filament.formed_probability(self.forming_voltage_v, self.forming_width_s))

    def sample_pairs(self, n: int, seed: int | torch.Generator | None = 0) -> PairConductances:
        n = check_positive_int("n", n)
        gen = as_generator(seed)
        forming = self.filament.sample(n, self.forming_voltage_v, self.forming_width_s, seed=gen)
        hrs = _lognormal(n, self.hrs_median_s, self.hrs_sigma, gen)
        reset = torch.where(forming.formed, hrs, forming.conductance_s)
        off = _lognormal(n, self.hrs_median_s, self.hrs_sigma, gen)
        return PairConductances(formed=forming.conductance_s, reset=reset, off=off)

    def read_sigma(self, g_s: torch.Tensor) -> torch.Tensor:
        return torch.sqrt((self.read_relative * g_s) ** 2 + self.read_floor_s**2)

    def programming_sigma(self, g_s: torch.Tensor) -> torch.Tensor:
        return self.open_loop_law.sigma(g_s) * self.open_loop_scale  # type: ignore[union-attr]

    def post_verify_formula(self, g_s: torch.Tensor) -> torch.Tensor:
        sigma = self.prog_intercept_s + self.prog_slope * g_s
        return sigma.clamp(min=self.prog_floor_s)


class TaOxMacro(TaOxRRAM):
    """The paper's 40 nm TaOx 1T1R macro with every effect a real macro has switched on.

    The chip's own numbers are not public; each effect takes the closest published
    1T1R RRAM source (parameter table): WO is written by the write-verify *algorithm* over the
    open-loop law (no post-verify shortcut: the preset has no published post-verify law of its
    own), the idle cell of a pair is RESET, conductances relax after programming (NeuRRAM,
    Wan et al., Nature 2022: ``wan_2022``), 0.2 % of cells are faulty (99.8 % yield, C. Li et al.,
    Nat. Electron. 2018, split into stuck-OFF and stuck-ON in the 9.04 : 1.75 ratio of C.-Y.
    Chen et al., IEEE Trans. Comput. 2015), WO targets snap to 32 levels (Yao et al., Nature
    2020) and every analog matrix-vector product is read by an 8-bit ADC (upper end of the
    5-8 bit output precision of C. Li et al., Nat. Electron. 2018). IR drop stays off
    (optional: ``ir_wire_ohm``), because no 40 nm macro wire resistance was found.
    """

    name = "taox_40nm_macro"
    label = "TaOx 40 nm macro (relaxation, faults, ADC)"
    RELAXATION_LAW = "wan_2022"
    POST_VERIFY_FORMULA = False  # the write-verify algorithm, no post-verify shortcut
    EFFECT_DEFAULTS = {
        "stuck_off_rate": (
            0.002 * 9.04 / (9.04 + 1.75),
            "0.2 % unusable cells (99.8 % device yield, C. Li et al., Nat. Electron. 1, 52, "
            "2018) split stuck-OFF : stuck-ON = 9.04 : 1.75 (C.-Y. Chen et al., IEEE Trans. "
            "Comput. 64, 180, 2015, 4 Mb HfO2 RRAM)",
        ),
        "stuck_on_rate": (
            0.002 * 1.75 / (9.04 + 1.75),
            "0.2 % unusable cells (C. Li et al., Nat. Electron. 2018) split 9.04 : 1.75 "
            "(C.-Y. Chen et al., IEEE Trans. Comput. 2015)",
        ),
        "levels": (32.0, "32 distinguishable conductance states (Yao et al., Nature 577, 641, "
                   "2020, Fig. 1c)"),
        "adc_bits": (8.0, "upper end of the 5-8 bit output precision of 1T1R crossbars (C. Li "
                     "et al., Nat. Electron. 1, 52, 2018); 8-bit ADC in Yao et al., Nature 2020"),
    }
    SOURCES = {
        **TaOxRRAM.SOURCES,
        "programming": "write-verify algorithm over the open-loop law poisson_defects_open_loop "
        "(no published post-verify law for this chip)",
        "relaxation": "Wan et al., Nature 608, 504 (2022), Extended Data Fig. 3 (aihwkit "
        "ReRamWan2022NoiseModel)",
        "faults": "99.8 % yield (C. Li et al., Nat. Electron. 2018); stuck-at split (C.-Y. Chen "
        "et al., IEEE Trans. Comput. 2015)",
        "readout": "32 levels (Yao et al., Nature 2020); 8-bit ADC (C. Li et al., Nat. "
        "Electron. 2018)",
    }


# ---------------------------------------------------------------------------------------
# Other analog memories: one-shot programmed "on" cell, lognormal device-to-device spread
# ---------------------------------------------------------------------------------------
def _state_parameters(
    g_max: float, on: float, on_sigma: float, off: float, off_sigma: float, source: str
) -> tuple[Parameter, ...]:
    return (
        Parameter("g_max_s", "S", g_max, 0.0, 1e-2, source, low_open=True),
        Parameter(
            "on_median_s", "S", on, 0.0, 1e-2,
            "ASSUMPTION: median conductance after one unverified SET pulse applied to every "
            "cell (the random-weight step); set below g_max", low_open=True,
        ),
        Parameter(
            "on_sigma", "", on_sigma, 0.0, 3.0,
            "ASSUMPTION: lognormal device-to-device shape of that unverified state; of the "
            "order of the technology's one-shot programming spread", low_open=True,
        ),
        Parameter(
            "off_median_s", "S", off, 0.0, 1e-2,
            "ASSUMPTION: median off-state (RESET) conductance", low_open=True,
        ),
        Parameter(
            "off_sigma", "", off_sigma, 0.0, 3.0,
            "ASSUMPTION: lognormal shape of the off state", low_open=True,
        ),
    )


class _OneShotMemory(Technology):
    """Shared device-to-device model: lognormal 'on' and 'off' states, drift at ``t_inference``."""

    def _check(self) -> None:
        super()._check()
        if self.on_median_s > self.g_max_s:
            raise ValueError(
                f"on_median_s={self.on_median_s!r} S must not exceed g_max_s={self.g_max_s!r} S"
            )
        if self.off_median_s >= self.on_median_s:
            raise ValueError(
                f"off_median_s={self.off_median_s!r} S must be below on_median_s="
                f"{self.on_median_s!r} S"
            )

    @property
    def g_min_s(self) -> float:
        return self.off_median_s

    @property
    def g_max_s(self) -> float:  # type: ignore[override]
        return self._p["g_max_s"]

    def sample_pairs(self, n: int, seed: int | torch.Generator | None = 0) -> PairConductances:
        n = check_positive_int("n", n)
        gen = as_generator(seed)
        on = _lognormal(n, self.on_median_s, self.on_sigma, gen).clamp(max=self.g_max_s)
        reset = _lognormal(n, self.off_median_s, self.off_sigma, gen)
        off = _lognormal(n, self.off_median_s, self.off_sigma, gen)
        t = self._p.get("t_inference_s", 0.0)
        if t > 0:
            on, reset, off = (self.drift(g, t, gen) for g in (on, reset, off))
        return PairConductances(formed=on, reset=reset, off=off)


class HfOxRRAM(_OneShotMemory):
    """HfOx 1T1R RRAM of the NeuRRAM chip (Wan et al., Nature 608, 504, 2022).

    Post-verify spread: the 4th-order polynomial fit of sigma(G) at 1 s after NeuRRAM's
    iterative write-verify that aihwkit's ``ReRamWan2022NoiseModel`` derived from the paper's
    figures, for g_max = 40 uS; one unverified pulse follows the open-loop law
    ``poisson_defects_open_loop``. Read noise: ~1 % (aihwkit's note for that model).
    Device-to-device state: assumption.
    """

    name = "hfox_rram"
    label = "HfOx RRAM"
    OPEN_LOOP_LAW = "poisson_defects_open_loop"
    POST_VERIFY_FORMULA = True
    PARAMETERS = _state_parameters(
        40 * US, 30 * US, 0.3, 1 * US, 0.5,
        "Wan et al., Nature 2022 (via aihwkit ReRamWan2022NoiseModel): g_max = 40 uS",
    ) + (
        Parameter(
            "read_relative", "", 0.01, 0.0, 1.0,
            "aihwkit ReRamWan2022NoiseModel docstring: short-term read noise about 1 %",
        ),
        Parameter(
            "prog_scale", "", 1.0, 0.0, 10.0,
            "multiplier of the Wan 2022 post-verify polynomial (1 = as published)",
        ),
    )
    SOURCES = {
        "d2d": "ASSUMPTION: lognormal one-shot SET state (30 uS, shape 0.3) within g_max 40 uS",
        "read": "~1 % relative (aihwkit ReRamWan2022NoiseModel note)",
        "programming": "open loop: poisson_defects_open_loop; post-verify: Wan et al., Nature "
        "608, 504 (2022) figures, 4th-order polynomial fit at 1 s (aihwkit "
        "ReRamWan2022NoiseModel)",
    }

    def read_sigma(self, g_s: torch.Tensor) -> torch.Tensor:
        return self.read_relative * g_s.abs()

    def programming_sigma(self, g_s: torch.Tensor) -> torch.Tensor:
        return self.open_loop_law.sigma(g_s)  # type: ignore[union-attr]

    def post_verify_formula(self, g_s: torch.Tensor) -> torch.Tensor:
        # the Wan 2022 law held at its ends (x = G / 40 uS clipped to [0, 1]), scaled, floored
        sigma = programming_law("wan_2022_post_verify").with_extension("hold").sigma(g_s)
        return (sigma * self.prog_scale).clamp(min=0.01 * US)


class PCM(_OneShotMemory):
    """Phase-change memory with drift, IBM statistical model (Nandakumar et al., ICECS 2019).

    All three laws are the ones aihwkit's ``PCMLikeNoiseModel`` ships, fitted on a million-device
    PCM array: programming sigma(G) = 0.26348 + 1.9650 x - 1.1731 x^2 uS with x = G/25 uS;
    drift G(t) = G (t/t0)^-nu with nu ~ N(mu(G), sigma(G)); 1/f read noise
    sigma = G * min(0.0088 / x^0.65, 0.2) * sqrt(ln((t + t_read) / (2 t_read))).
    """

    name = "pcm"
    label = "PCM (with drift)"
    PARAMETERS = _state_parameters(
        25 * US, 20 * US, 0.15, 0.1 * US, 0.5,
        "Nandakumar et al., ICECS 2019 (aihwkit PCMLikeNoiseModel): g_max = 25 uS",
    ) + (
        Parameter(
            "t_inference_s", "s", 3600.0, 0.0, 1e9,
            "ASSUMPTION: weights are read one hour after programming (drift applied)",
        ),
        Parameter(
            "t0_s", "s", 20.0, 0.0, 1e6,
            "aihwkit PCMLikeNoiseModel: first read after programming, t0 = 20 s", low_open=True,
        ),
        Parameter(
            "t_read_s", "s", 250e-9, 0.0, 1.0,
            "aihwkit PCMLikeNoiseModel: read duration of the 1/f fit, 250 ns", low_open=True,
        ),
    )
    SOURCES = {
        "d2d": "ASSUMPTION: lognormal one-shot SET state (20 uS, shape 0.15) within 25 uS, then "
        "drift to t_inference",
        "read": "Nandakumar et al., ICECS 2019: 1/f read noise (aihwkit PCMLikeNoiseModel)",
        "programming": "Nandakumar et al., ICECS 2019: quadratic sigma(G) (aihwkit)",
        "drift": "Nandakumar et al., ICECS 2019: G (t/t0)^-nu, nu ~ N(mu(G), sigma(G)) (aihwkit)",
    }

    def _x(self, g_s: torch.Tensor) -> torch.Tensor:
        return (g_s.abs() / self.g_max_s).clamp(min=1e-7)

    def read_sigma(self, g_s: torch.Tensor) -> torch.Tensor:
        q = (0.0088 / self._x(g_s) ** 0.65).clamp(max=0.2)
        t = self.t_inference_s + self.t0_s
        window = math.sqrt(math.log((t + self.t_read_s) / (2 * self.t_read_s)))
        return g_s.abs() * q * window

    def programming_sigma(self, g_s: torch.Tensor) -> torch.Tensor:
        x = self._x(g_s)
        sigma_us = 0.26348 + 1.9650 * x - 1.1731 * x**2
        return sigma_us * US * (self.g_max_s / (25 * US))

    def drift(
        self, g_s: torch.Tensor, t_s: float, seed: int | torch.Generator | None = 0
    ) -> torch.Tensor:
        if t_s <= 0:
            return g_s
        gen = as_generator(seed)
        log_x = torch.log(self._x(g_s))
        mu = (-0.0155 * log_x + 0.0244).clamp(0.049, 0.1)
        sd = (-0.0125 * log_x - 0.0059).clamp(0.008, 0.045)
        nu = (mu + sd * torch.randn(g_s.shape, generator=gen, dtype=g_s.dtype)).abs()
        return g_s * ((t_s + self.t0_s) / self.t0_s) ** (-nu)


class SONOSFlash(_OneShotMemory):
    """40 nm SONOS charge-trap flash in subthreshold (Agrawal et al., IEDM 2022).

    Saturating-exponential laws sigma = A (1 - exp(-I/B)) measured on 128k devices, as CrossSim's
    ``SONOS`` model ships them: programming A = 19.89 nA, B = 176.3 nA (Fig. 10a, t = 0); read
    A = 12.58 nA, B = 215.4 nA (Fig. 11b). Currents are converted to conductance at the
    0.1 V drain bias that maps CrossSim's 1600 nA full scale to its stated 16 uS.
    """

    name = "sonos_flash"
    label = "SONOS flash"
    PARAMETERS = _state_parameters(
        16 * US, 12 * US, 0.1, 0.01 * US, 0.5,
        "Agrawal et al., IEDM 2022 (CrossSim SONOS): 1600 nA full scale, ~0 to 16 uS",
    ) + (
        Parameter(
            "drain_bias_v", "V", 0.1, 0.0, 5.0,
            "CrossSim SONOS: 1600 nA <-> 16 uS implies 0.1 V", low_open=True,
        ),
    )
    SOURCES = {
        "d2d": "ASSUMPTION: lognormal one-shot state (12 uS, shape 0.1)",
        "read": "Agrawal et al., IEDM 2022, Fig. 11b (CrossSim SONOS read_noise)",
        "programming": "Agrawal et al., IEDM 2022, Fig. 10a at t = 0 (CrossSim SONOS)",
    }

    def _saturating(self, g_s: torch.Tensor, a_na: float, b_na: float) -> torch.Tensor:
        i_na = g_s.abs() * self.drain_bias_v * 1e9
        sigma_na = a_na * (1.0 - torch.exp(-i_na / b_na))
        return sigma_na * 1e-9 / self.drain_bias_v

    def read_sigma(self, g_s: torch.Tensor) -> torch.Tensor:
        return self._saturating(g_s, 12.58037, 215.36557)

    def programming_sigma(self, g_s: torch.Tensor) -> torch.Tensor:
        return self._saturating(g_s, 19.88665, 176.3115).clamp(min=1e-12)


class FeFET(_OneShotMemory):
    """28 nm HKMG ferroelectric FET synapse (De et al., IEEE JEDS 10, 637, 2022).

    That paper reports 2 bit/cell FeFETs whose read-to-read variation (short-term retention)
    dominates inference error while device-to-device and cycle-to-cycle variations are small;
    it gives no sigma that could be retrieved here, so every number below is an ASSUMPTION
    that encodes that ordering: read noise 3 %, programming sigma 4 % of g_max.
    """

    name = "fefet"
    label = "FeFET"
    PARAMETERS = _state_parameters(
        10 * US, 8 * US, 0.15, 0.1 * US, 0.5,
        "ASSUMPTION: ~10 uS channel conductance range of a scaled FeFET read in the linear regime",
    ) + (
        Parameter(
            "read_relative", "", 0.03, 0.0, 1.0,
            "ASSUMPTION: read-to-read variation is the dominant FeFET non-ideality "
            "(De et al., JEDS 2022); 3 %",
        ),
        Parameter(
            "prog_relative_of_gmax", "", 0.04, 0.0, 1.0,
            "ASSUMPTION: 2 bit/cell (4 levels over g_max) needs sigma well below g_max/8; 4 %",
        ),
    )
    SOURCES = {
        "d2d": "ASSUMPTION anchored on De et al., IEEE JEDS 2022 (28 nm HKMG, 2 bit/cell)",
        "read": "ASSUMPTION: 3 %, dominant term per De et al., JEDS 2022",
        "programming": "ASSUMPTION: 4 % of g_max, per De et al., JEDS 2022 (small D2D/C2C)",
    }

    def read_sigma(self, g_s: torch.Tensor) -> torch.Tensor:
        return self.read_relative * g_s.abs()

    def programming_sigma(self, g_s: torch.Tensor) -> torch.Tensor:
        return torch.full_like(g_s, self.prog_relative_of_gmax * self.g_max_s)


class ECRAM(_OneShotMemory):
    """W/YSZ/WOx electrochemical RAM (Nat. Commun. 14, 2023, 'Open-loop analog programmable
    electrochemical memory array', s41467-023-41958-4).

    Figure 2 of that paper shows linear, symmetric updates in ranges from 0.1 to 230 uS, 256
    monotonic states and uniform cycling of 10 devices; the CMOS-compatible ECRAM of Nature
    Electronics 2023 (s41928-023-00939-7, Extended Data Fig. 3) shows low read noise. No sigma
    could be retrieved, so the numbers are ASSUMPTIONS consistent with 256 distinguishable
    states: programming sigma 0.5 % of g_max, read noise 0.5 %.
    """

    name = "ecram"
    label = "ECRAM"
    PARAMETERS = _state_parameters(
        100 * US, 60 * US, 0.05, 1 * US, 0.3,
        "ASSUMPTION: within the 60-100 uS range of Nat. Commun. 2023 Fig. 2a(v)",
    ) + (
        Parameter(
            "read_relative", "", 0.005, 0.0, 1.0,
            "ASSUMPTION: 'low read noise' (Nat. Electron. 2023 ED Fig. 3); 0.5 %",
        ),
        Parameter(
            "prog_relative_of_gmax", "", 0.005, 0.0, 1.0,
            "ASSUMPTION: 256 states over g_max need sigma below g_max/512; 0.5 %",
        ),
    )
    SOURCES = {
        "d2d": "ASSUMPTION: narrow one-shot state (uniform cycling, Nat. Commun. 2023 Fig. 2b)",
        "read": "ASSUMPTION: 0.5 % (Nat. Electron. 2023 ED Fig. 3, qualitative)",
        "programming": "ASSUMPTION: 0.5 % of g_max (256 states, Nat. Commun. 2023 Fig. 2c)",
    }

    def read_sigma(self, g_s: torch.Tensor) -> torch.Tensor:
        return self.read_relative * g_s.abs()

    def programming_sigma(self, g_s: torch.Tensor) -> torch.Tensor:
        return torch.full_like(g_s, self.prog_relative_of_gmax * self.g_max_s)


class OfficialSyntheticDevice(Technology):
    """The fixed synthetic device used to check the package against the official scripts.

    Not a physical model: the device on which the official hardware-TO scripts were run
    unmodified for the parity check (docs/paper.md#parity-with-the-official-scripts): formed
    cells ``N(40 uS, 15 uS)``, off and RESET cells ``N(1 uS, 0.5 uS)``, each clipped above 0
    (at 1 pS), drawn once; read ``i`` of a cell is ``G (1 + 0.02 z_i)``. Programming laws are
    the TaOx presets' (this device is not used for WO claims).
    """

    name = "official_synthetic"
    label = "synthetic fixed device (official-script check)"
    OPEN_LOOP_LAW = "poisson_defects_open_loop"
    PARAMETERS = (
        Parameter("formed_mean_s", "S", 40 * US, 0.0, 1e-2,
                  "the official-script check: formed cells N(40 uS, 15 uS)", low_open=True),
        Parameter("formed_sd_s", "S", 15 * US, 0.0, 1e-2,
                  "the official-script check: formed cells N(40 uS, 15 uS)"),
        Parameter("off_mean_s", "S", 1 * US, 0.0, 1e-2,
                  "the official-script check: off cells N(1 uS, 0.5 uS)", low_open=True),
        Parameter("off_sd_s", "S", 0.5 * US, 0.0, 1e-2,
                  "the official-script check: off cells N(1 uS, 0.5 uS)"),
        Parameter("read_relative", "", 0.02, 0.0, 1.0,
                  "the official-script check: read i = G (1 + 0.02 N(0, 1))"),
        Parameter("g_max_prog_s", "S", 150 * US, 0.0, 1e-2,
                  "ASSUMPTION: programmable range of this check device for WO, above the "
                  "formed cells' N(40, 15) uS (more than 7 sd)", low_open=True),
    )
    SOURCES = {
        "d2d": "the official-script check: formed N(40 uS, 15 uS), off N(1 uS, 0.5 uS), clipped "
        "above 0, one draw (a synthetic device, not a measurement)",
        "read": "the official-script check: 2 % relative Gaussian per read",
        "programming": "open loop: poisson_defects_open_loop (as the TaOx presets)",
    }
    #: Clipping floor of the normal laws (siemens): "clipped above 0".
    FLOOR_S = 1e-12

    @property
    def g_min_s(self) -> float:
        return self.off_mean_s

    @property
    def g_max_s(self) -> float:
        return self.g_max_prog_s

    def _normal(self, n: int, mean: float, sd: float, gen: torch.Generator) -> torch.Tensor:
        z = torch.randn(n, generator=gen, dtype=torch.float64)
        return (mean + sd * z).clamp(min=self.FLOOR_S)

    def sample_pairs(self, n: int, seed: int | torch.Generator | None = 0) -> PairConductances:
        n = check_positive_int("n", n)
        gen = as_generator(seed)
        formed = self._normal(n, self.formed_mean_s, self.formed_sd_s, gen)
        reset = self._normal(n, self.off_mean_s, self.off_sd_s, gen)
        off = self._normal(n, self.off_mean_s, self.off_sd_s, gen)
        return PairConductances(formed=formed, reset=reset, off=off)

    def read_sigma(self, g_s: torch.Tensor) -> torch.Tensor:
        return self.read_relative * g_s.abs()

    def programming_sigma(self, g_s: torch.Tensor) -> torch.Tensor:
        return self.open_loop_law.sigma(g_s)  # type: ignore[union-attr]


_PRESETS: dict[str, type[Technology]] = {
    cls.name: cls
    for cls in (TaOxMacro, TaOxRRAM, HfOxRRAM, PCM, SONOSFlash, FeFET, ECRAM,
                OfficialSyntheticDevice)
}

#: Names of the technology presets, the paper's TaOx RRAM first (the 40 nm macro, then the
#: post-verify, no-relaxation model).
TECHNOLOGIES: tuple[str, ...] = tuple(_PRESETS)


#: Former preset names and what replaced them.
RENAMED: dict[str, str] = {
    "taox_40nm": "use 'taox_40nm_macro' (relaxation, faults, levels, ADC: the realistic macro) "
    "or 'taox_post_verify_static' (the former model: WO by a post-verify spread, nothing after "
    "programming)",
}


def technology(name: str | Technology, **params: Any) -> Technology:
    """The preset ``name`` (see :data:`TECHNOLOGIES`), optionally with parameters changed.

    A :class:`Technology` instance is returned as is (or :meth:`~Technology.replace`-d when
    ``params`` are given), so functions can accept either.
    """
    if isinstance(name, Technology):
        return name.replace(**params) if params else name
    if name in RENAMED:
        raise ParameterError(f"technology={name!r} was renamed: {RENAMED[name]}")
    check_choice("technology", name, TECHNOLOGIES)
    return _PRESETS[name](**params)


def sources_table(names: tuple[str, ...] | list[str] | None = None):
    """One row per technology preset: its label and where each of its statistics comes from
    (device-to-device spread, read noise, programming noise, drift), as a ``pandas.DataFrame``."""

    rows = {}
    for name in names or TECHNOLOGIES:
        tech = technology(name)
        rows[name] = {"label": tech.label, **{key: text for key, text in tech.SOURCES.items()}}
    return pd.DataFrame.from_dict(rows, orient="index")
