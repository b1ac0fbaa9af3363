"""Cell faults as a property of the chip: stuck-ON, stuck-OFF and unformed cells.

A fault is decided once per cell when the chip is made, not at each read: :func:`fault_map`
draws an ``int8`` code per cell from a stream seeded with ``(seed, FAULT_STREAM, *keys)``
(:func:`rrampaper.devices.streams.generator`), so the same chip (seed and keys) always has the
same faulty cells. :func:`apply_faults` then replaces the conductance of every faulty cell by
the conductance its fault pins it at, whatever was programmed.

Codes
-----
``OK = 0``
    Working cell.
``STUCK_ON = 1``
    Stuck in a low-resistance state (e.g. an over-formed filament that cannot be RESET); reads
    :attr:`FaultModel.g_stuck_on_s` whatever is programmed.
``STUCK_OFF = 2``
    Stuck in the high-resistance state (cannot be SET or programmed); reads
    :attr:`FaultModel.g_stuck_off_s`.
``UNFORMED = 3``
    Forming failure: the cell stays pristine whatever is done; reads
    :attr:`FaultModel.g_unformed_s`.

How the codes are drawn (one uniform per cell)
----------------------------------------------
Each cell draws one ``u ~ U[0, 1)`` (float64) and the unit interval is split into fixed pieces::

    [0, r_on)                       -> STUCK_ON   (grows up from 0)
    [r_on, r_on + r_form)           -> UNFORMED   (sits right above the stuck-ON piece)
    [1 - r_off, 1)                  -> STUCK_OFF  (grows down from 1)
    everything else                 -> OK

with ``r_on, r_off, r_form`` the three rates (their sum must be <= 1). Consequences, all tested:

* every fault kind is nested in its own rate: raising one rate (the others fixed) keeps every
  cell that had that fault and only adds new ones;
* the set of faulty cells (any kind) is nested in every rate: raising any rate never repairs
  a cell;
* raising ``stuck_off_rate`` or ``forming_failure_rate`` never changes which cells are stuck-ON
  or stuck-OFF (or unformed, for ``stuck_off_rate``); raising ``stuck_on_rate`` moves the
  unformed piece up, so some unformed cells become stuck-ON and some OK cells become unformed.
  With one uniform per cell and three kinds, full independence of all three is impossible
  (the middle piece cannot be anchored), so the forming-failure piece is the one that moves.

Sources
-------
:data:`REPORTED_FAULT_RATES` and :data:`REPORTED_UNRESPONSIVE_FRACTIONS` hold the measured
numbers a preset can cite; every default rate is 0 (faults off). The fault conductances are
assumptions tied to the package's other models (see :data:`PARAMETERS`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from rrampaper.devices._params import Parameter, ParameterSet, as_attrs
from rrampaper.devices.streams import generator
from rrampaper.errors import ParameterError

#: Stream tag of the fault map (the streams module uses tags 1..5).
FAULT_STREAM = 6

#: Fault codes (stored as ``torch.int8``).
OK = 0
STUCK_ON = 1
STUCK_OFF = 2
UNFORMED = 3

#: Code -> name, in code order.
FAULT_NAMES: dict[int, str] = {
    OK: "OK",
    STUCK_ON: "STUCK_ON",
    STUCK_OFF: "STUCK_OFF",
    UNFORMED: "UNFORMED",
}

#: Measured stuck-at splits: name -> (stuck_on_rate, stuck_off_rate, source).
#:
#: ``chen2015_hfo2_4mb``: C.-Y. Chen, H.-C. Shih, C.-W. Wu, C.-H. Lin, P.-F. Chiu, S.-S. Sheu,
#: F. T. Chen, "RRAM defect modeling and failure analysis based on march test and a novel
#: squeeze-search scheme", IEEE Trans. Computers 64(1), 180-190 (2015), doi 10.1109/TC.2014.12.
#: Checked (abstract, primary): a first-cut 4-Mb HfO2 RRAM test chip; over-forming defects lead
#: to stuck-at faults. NOT read in the paper: the split 9.04 % stuck-at-0 / 1.75 % stuck-at-1,
#: which is the number widely quoted by fault-tolerance papers (a LEAD). Corroboration
#: (secondary): MDPI Electronics 10, 2427 (2021), introduction: an HfO2-based RRAM test chip
#: "may contain around 10 % of RRAM faulty devices" (10.79 % total here). Mapping stuck-at-1 to
#: STUCK_ON (low resistance, logic 1) and stuck-at-0 to STUCK_OFF follows the usual
#: crossbar-NN convention (an ASSUMPTION about the paper's labels).
REPORTED_FAULT_RATES: dict[str, tuple[float, float, str]] = {
    "chen2015_hfo2_4mb": (
        0.0175,
        0.0904,
        "LEAD: C.-Y. Chen et al., IEEE Trans. Comput. 64(1), 180-190 (2015), 4 Mb HfO2 RRAM "
        "test chip; abstract checked (stuck-at faults from over-forming exist), the split "
        "1.75 % SA1 (-> STUCK_ON) / 9.04 % SA0 (-> STUCK_OFF) is as quoted by later papers, "
        "not read in the paper",
    ),
}

#: Measured fractions of cells that do not respond to programming, split NOT reported:
#: name -> (fraction, source). Whether such cells sit high or low is not stated in what was
#: read, so a preset must choose where to put them (e.g. ``FaultModel(stuck_off_rate=f)``) and
#: say that the placement is an assumption.
REPORTED_UNRESPONSIVE_FRACTIONS: dict[str, tuple[float, str]] = {
    "li2018_nat_electron_yield": (
        0.002,
        "C. Li et al., 'Analogue signal and image processing with large memristor crossbars', "
        "Nat. Electron. 1, 52 (2018), abstract: 99.8 % device yield, Ta/HfO2 128x64 1T1R "
        "(primary); 1 - yield = 0.2 %",
    ),
    "li2018_nat_commun_unresponsive": (
        0.11,
        "C. Li et al., 'Efficient and self-adaptive in-situ learning in multilayer memristor "
        "neural networks', Nat. Commun. 9, 2385 (2018), introduction: '11% devices in the "
        "crossbar unresponsive to programming pulses', HfO2 128x64 1T1R (primary)",
    ),
}

PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        "stuck_on_rate", "", 0.0, 0.0, 1.0,
        "default 0 (off); measured split for presets in REPORTED_FAULT_RATES "
        "(Chen et al. 2015: 1.75 %, LEAD)",
    ),
    Parameter(
        "stuck_off_rate", "", 0.0, 0.0, 1.0,
        "default 0 (off); measured split for presets in REPORTED_FAULT_RATES "
        "(Chen et al. 2015: 9.04 %, LEAD); unresponsive fractions in "
        "REPORTED_UNRESPONSIVE_FRACTIONS (0.2 %, 11 %, primary)",
    ),
    Parameter(
        "forming_failure_rate", "", 0.0, 0.0, 1.0,
        "ASSUMPTION (no TaOx/HfOx forming-failure rate found): default 0 (off)",
    ),
    Parameter(
        "g_stuck_on_s", "S", 250e-6, 0.0, 1e-2,
        "ASSUMPTION: the filament model's median compliance limit, 100 uA / 0.4 V = 250 uS "
        "(FilamentModel.conductance_cap_s)",
    ),
    Parameter(
        "g_stuck_off_s", "S", 2e-6, 0.0, 1e-2,
        "ASSUMPTION: the package's HRS median, 2 uS (technologies.py hrs_median_s)",
    ),
    Parameter(
        "g_unformed_s", "S", 1e-7, 0.0, 1e-2,
        "pristine cell ~10 MOhm, Nat. Mach. Intell. 2023 (ESGNN) Extended Data Fig. 1a, as "
        "FilamentModel.pristine_conductance_s",
    ),
)

_RATES = ("stuck_on_rate", "stuck_off_rate", "forming_failure_rate")


class FaultModel(ParameterSet):
    """Rates and conductances of cell faults (see the module docstring).

    Parameters
    ----------
    **params:
        Any of the names in :data:`PARAMETERS`: ``stuck_on_rate``, ``stuck_off_rate``,
        ``forming_failure_rate`` (fractions of cells, each in [0, 1], sum <= 1; defaults 0),
        ``g_stuck_on_s``, ``g_stuck_off_s``, ``g_unformed_s`` (siemens). Out-of-range values
        or rates summing above 1 raise :class:`~rrampaper.errors.ParameterError`.

    Examples
    --------
    >>> model = FaultModel(stuck_on_rate=0.0175, stuck_off_rate=0.0904)
    >>> round(model.total_rate, 4)
    0.1079
    >>> FaultModel().enabled
    False
    """

    PARAMETERS = PARAMETERS

    def __init__(self, **params: float) -> None:
        self._set_params(params)
        total = sum(self._p[name] for name in _RATES)
        if total > 1.0 + 1e-12:
            listed = ", ".join(f"{name}={self._p[name]:g}" for name in _RATES)
            raise ParameterError(
                f"fault rates sum to {total:g} > 1 ({listed}); a cell has at most one fault, "
                "so stuck_on_rate + stuck_off_rate + forming_failure_rate must be <= 1"
            )

    @classmethod
    def reported(cls, name: str, **overrides: float) -> FaultModel:
        """A model with the stuck-ON/stuck-OFF split of ``REPORTED_FAULT_RATES[name]``."""
        if name not in REPORTED_FAULT_RATES:
            raise ParameterError(
                f"{name!r} is not a reported fault split; choose one of "
                f"{', '.join(map(repr, REPORTED_FAULT_RATES))}"
            )
        stuck_on, stuck_off, _ = REPORTED_FAULT_RATES[name]
        return cls(**{"stuck_on_rate": stuck_on, "stuck_off_rate": stuck_off, **overrides})

    def replace(self, **changes: float) -> FaultModel:
        """A copy with some parameters changed."""
        return FaultModel(**{**self._p, **changes})

    @property
    def total_rate(self) -> float:
        """Fraction of faulty cells (any kind)."""
        return sum(self._p[name] for name in _RATES)

    @property
    def enabled(self) -> bool:
        """Whether any fault rate is above 0."""
        return self.total_rate > 0.0

    def conductances(self) -> dict[int, float]:
        """Fault code -> the conductance (S) a cell with that fault reads."""
        return {
            STUCK_ON: self._p["g_stuck_on_s"],
            STUCK_OFF: self._p["g_stuck_off_s"],
            UNFORMED: self._p["g_unformed_s"],
        }

    def attrs(self, prefix: str = "faults") -> dict[str, Any]:
        """netCDF-safe attributes describing this model."""
        return as_attrs(prefix, self._p)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v:g}" for k, v in self._p.items())
        return f"FaultModel({inner})"


def _check_shape(shape: Sequence[int] | torch.Size | int) -> tuple[int, ...]:
    dims = (shape,) if isinstance(shape, int) else tuple(shape)
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, int) or d < 0:
            raise ParameterError(f"shape={tuple(dims)!r} must be non-negative integers")
    return dims


def fault_map(
    shape: Sequence[int] | torch.Size | int,
    model: FaultModel,
    seed: int,
    *keys: int,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Fault code of every cell of an array of ``shape`` (``torch.int8``; see module docstring).

    Deterministic in ``(seed, keys)``: one ``U[0, 1)`` per cell (float64, drawn on the CPU from
    ``generator(seed, FAULT_STREAM, *keys)`` so the map does not depend on the torch device),
    then moved to ``device``. All rates 0 returns zeros without drawing.

    Examples
    --------
    >>> codes = fault_map((256, 256), FaultModel(stuck_off_rate=0.11), 0, 1)
    >>> torch.equal(codes, fault_map((256, 256), FaultModel(stuck_off_rate=0.11), 0, 1))
    True
    >>> abs((codes == STUCK_OFF).float().mean().item() - 0.11) < 0.01
    True
    """
    dims = _check_shape(shape)
    if not isinstance(model, FaultModel):
        raise ParameterError(f"model must be a FaultModel, got {type(model).__name__}")
    if not model.enabled:
        return torch.zeros(dims, dtype=torch.int8, device=device)
    u = torch.rand(dims, generator=generator(seed, FAULT_STREAM, *keys), dtype=torch.float64)
    r_on = model.stuck_on_rate
    r_form = model.forming_failure_rate
    r_off = model.stuck_off_rate
    codes = torch.zeros(dims, dtype=torch.int8)
    codes[u < r_on + r_form] = UNFORMED
    codes[u < r_on] = STUCK_ON
    codes[u >= 1.0 - r_off] = STUCK_OFF  # empty when r_off = 0 (u < 1)
    return codes.to(device) if device is not None else codes


def apply_faults(g_s: torch.Tensor, codes: torch.Tensor, model: FaultModel) -> torch.Tensor:
    """``g_s`` (siemens) with every faulty cell replaced by its fault's conductance.

    ``codes`` (from :func:`fault_map`) must have the shape of ``g_s``; OK cells keep their value.
    The result has the dtype and torch device of ``g_s``; gradients flow only through OK cells.
    """
    if tuple(codes.shape) != tuple(g_s.shape):
        raise ParameterError(
            f"codes shape {tuple(codes.shape)} must equal the conductance shape {tuple(g_s.shape)}"
        )
    codes = codes.to(g_s.device)
    out = g_s
    for code, g_fault in model.conductances().items():
        mask = codes == code
        if bool(mask.any()):
            value = torch.as_tensor(g_fault, dtype=g_s.dtype, device=g_s.device)
            out = torch.where(mask, value, out)
    return out


def fault_summary(codes: torch.Tensor) -> dict[str, int]:
    """Number of cells per fault code name (``OK``, ``STUCK_ON``, ``STUCK_OFF``, ``UNFORMED``)."""
    flat = codes.detach().reshape(-1).to(torch.int64).cpu()
    if flat.numel() and (int(flat.min()) < 0 or int(flat.max()) >= len(FAULT_NAMES)):
        raise ParameterError(f"codes must lie in 0..{len(FAULT_NAMES) - 1}")
    counts = torch.bincount(flat, minlength=len(FAULT_NAMES))
    return {name: int(counts[code]) for code, name in FAULT_NAMES.items()}
