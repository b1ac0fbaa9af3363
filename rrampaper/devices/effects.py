"""The device effects every technology carries, each off unless a preset switches it on.

A :class:`~rrampaper.devices.technologies.Technology` describes its cells (device-to-device
spread, read noise, programming laws). The effects below describe what happens around and after
those cells are written, and they apply to **both** compared methods: topology optimization (the
chip's random pairs, SET/RESET by pruning) and weight optimization (trained weights programmed into
pairs). Each effect is a named, documented parameter (unit, default, valid range, source) merged
into every technology's ``PARAMETERS``, so ``technology(name).parameter_table()`` lists them and
``technology(name, adc_bits=6)`` changes one.

=========================  ============================================================================
effect                     parameters (module that implements it)
=========================  ============================================================================
time after programming     ``t_inference_s`` + the technology's relaxation law (:mod:`.relaxation`)
faults                     ``stuck_on_rate``, ``stuck_off_rate``, ``forming_failure_rate`` and the
                           conductances of faulty cells (:mod:`.faults`)
programmable levels        ``levels`` (WO targets rounded to equally spaced levels; :mod:`.readout`)
output ADC                 ``adc_bits``, ``adc_headroom`` (every analog matrix-vector product;
                           :mod:`.readout`)
IR drop                    ``ir_wire_ohm``, ``ir_tile_rows``, ``ir_tile_cols`` (:mod:`.readout`)
=========================  ============================================================================

The value 0 switches an effect off (``levels=0``, ``adc_bits=0``, ``ir_wire_ohm=0``, rates 0,
``t_inference_s`` at or below the 1 s reference of the programming laws).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from rrampaper.devices._params import Parameter
from rrampaper.devices.faults import FaultModel
from rrampaper.devices.relaxation import T_REFERENCE_S

_TIME = Parameter(
    "t_inference_s", "s", T_REFERENCE_S, 0.0, 1e10,
    "time between the last programming (write-verify, SET/RESET) and inference; default 1 s, the "
    "time at which the programming laws are published (aihwkit ReRAM models: 'programming noise = "
    "the 1 s key'); up to 1e10 s (~300 years)",
)
_READOUT = (
    Parameter(
        "levels", "", 0.0, 0.0, 4096.0,
        "programmable conductance levels for WO targets (0 = analog targets); reported: "
        "HRS + 8 LRS levels (Milo et al., IEEE TED 2021), 32 states (Yao et al., Nature 577, "
        "641, 2020)",
    ),
    Parameter(
        "adc_bits", "", 0.0, 0.0, 16.0,
        "output ADC resolution of every analog matrix-vector product (0 = ideal read-out); "
        "reported: 5-8 bit output precision (C. Li et al., Nat. Electron. 1, 52, 2018), 4 bit "
        "(Xue et al., ISSCC 2019), 8 bit (Yao et al., Nature 2020)",
    ),
    Parameter(
        "adc_headroom", "", 1.0, 0.0, 10.0,
        "ASSUMPTION: ADC full scale = headroom x max|output| of each forward (auto-ranged, in "
        "the spirit of aihwkit's per-batch abs-max noise management)", low_open=True,
    ),
    Parameter(
        "ir_wire_ohm", "Ohm", 0.0, 0.0, 100.0,
        "wire resistance per cell segment for the first-order IR drop (0 = off); Milo et al., "
        "IEEE TED 2021 studied 0-3 Ohm per segment on 32 x 32 tiles",
    ),
    Parameter(
        "ir_tile_rows", "", 256.0, 1.0, 65536.0,
        "ASSUMPTION: rows of one crossbar tile for the IR-drop position; square tiles of "
        "256 x 256 pairs",
    ),
    Parameter(
        "ir_tile_cols", "", 256.0, 1.0, 65536.0,
        "ASSUMPTION: columns (pairs) of one crossbar tile for the IR-drop position; a 512-cell "
        "macro row holds 256 differential pairs",
    ),
)

#: The effect parameters merged into every technology (defaults: every effect off).
EFFECT_PARAMETERS: tuple[Parameter, ...] = (_TIME, *FaultModel.PARAMETERS, *_READOUT)

#: Names of the effect parameters that must be whole numbers.
INTEGER_EFFECTS = ("levels", "adc_bits", "ir_tile_rows", "ir_tile_cols")


def with_defaults(overrides: Mapping[str, tuple[float, str]]) -> tuple[Parameter, ...]:
    """:data:`EFFECT_PARAMETERS` with some defaults changed: ``{name: (default, source)}``
    (a preset that switches an effect on says where its value comes from)."""
    names = {p.name for p in EFFECT_PARAMETERS}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise ValueError(f"unknown effect parameters {unknown}; valid: {sorted(names)}")
    out = []
    for p in EFFECT_PARAMETERS:
        if p.name in overrides:
            default, source = overrides[p.name]
            p = replace(p, default=float(default), source=source)
        out.append(p)
    return tuple(out)


def check_integer_effects(values: Mapping[str, float]) -> None:
    """``levels``, ``adc_bits`` and the tile sizes must be whole numbers; ``levels`` 0 or >= 2."""
    for name in INTEGER_EFFECTS:
        if name in values and float(values[name]) != int(values[name]):
            raise ValueError(f"{name}={values[name]!r} must be a whole number")
    if 0 < values.get("levels", 0) < 2:
        raise ValueError(f"levels={values['levels']!r} must be 0 (analog) or at least 2")
    if 0 < values.get("adc_bits", 0) < 2:
        raise ValueError(f"adc_bits={values['adc_bits']!r} must be 0 (ideal) or in [2, 16]")


def fault_model(values: Mapping[str, float]) -> FaultModel:
    """The :class:`~rrampaper.devices.faults.FaultModel` of a technology's parameter values."""
    names = {p.name for p in FaultModel.PARAMETERS}
    return FaultModel(**{k: v for k, v in values.items() if k in names})
