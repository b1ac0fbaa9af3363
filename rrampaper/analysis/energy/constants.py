"""The energy constants, each with its unit, source and a cited range for sensitivity analysis.

Two presets describe the hybrid analog-digital system (docs/paper.md#hybrid-system):

- ``"integrated"`` (default): the 40 nm macro with on-chip converters, as an energy estimate
  of "analog in-memory computing" would assume. Converter energies from the Walden figure of
  merit, digital energies from Horowitz (ISSCC 2014, 45 nm).
- ``"board"``: the hybrid system as built, with the discrete converters named in the code
  repository's README (TI ADS8324 14-bit ADC, DAC80508 16-bit DAC, OPA4322 trans-impedance
  amplifiers), energies from their datasheets.

The GPU baseline is the NVIDIA RTX 4090 the official code was run on (docs/paper.md#sources); the
paper does not say which GPU its energy comparison used (docs/paper.md#energy).

A source starting with ``ASSUMPTION`` marks a value this project chose because neither the
paper nor a verified reference gives it; the text names the anchor it rests on.

Examples
--------
>>> from rrampaper.analysis.energy import constants
>>> c = constants()
>>> round(c["gpu_energy_per_flop_j"] * 1e12, 2)   # RTX 4090: 450 W / 82.6 TFLOPS, in pJ
5.45
>>> constants("board")["adc_fom_j"]                # ADS8324: 2.5 mW / (2**14 * 50 kS/s)
3.0517578125e-12
>>> c.replace(read_voltage_v=0.1)["read_voltage_v"]
0.1
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace

import pandas as pd

from rrampaper._checks import check_choice, check_range

#: One conductance quantum, 2e^2/h, in siemens.
G0_S = 7.748091729e-5


@dataclass(frozen=True)
class Constant:
    """One energy-model constant.

    Attributes
    ----------
    name:
        Keyword name (units in the suffix: ``_v`` volts, ``_a`` amperes, ``_s`` seconds or
        siemens as stated in ``unit``, ``_j`` joules, ``_w`` watts).
    value:
        Default value, in ``unit``.
    unit:
        SI unit (``"V"``, ``"A"``, ``"s"``, ``"S"``, ``"J"``, ``"W"``, ``"J/byte"``) or ``""``.
    source:
        Where the value comes from; ``"ASSUMPTION: ..."`` names the anchor of a chosen value.
    low, high:
        The cited (or assumed) plausible range used by the sensitivity analysis; ``None``: the
        analysis divides and multiplies the value by a factor instead.
    valid_low, valid_high:
        The valid interval; a value outside raises ``ValueError``.
    integer:
        Whether the constant is a count (bits, operations).
    """

    name: str
    value: float
    unit: str
    source: str
    low: float | None = None
    high: float | None = None
    valid_low: float = 0.0
    valid_high: float = math.inf
    integer: bool = False

    def check(self, value: float) -> float:
        """Return ``value`` as a float, or raise ``ValueError`` naming the valid range."""
        check_range(self.name, value, self.valid_low, self.valid_high, unit=self.unit)
        if self.integer and float(value) != int(value):
            raise ValueError(f"{self.name}={value!r} must be an integer")
        return float(value)

    @property
    def is_assumption(self) -> bool:
        """Whether the value is this project's assumption rather than a cited number."""
        return self.source.startswith("ASSUMPTION")


_HOROWITZ = "Horowitz, 'Computing's energy problem', ISSCC 2014, energy table (45 nm, 0.9 V)"
_RTX4090 = ("NVIDIA GeForce RTX 4090 (the GPU of the official code, docs/paper.md#sources): total "
            "graphics power 450 W, 82.6 TFLOPS FP32 peak (Notebookcheck spec sheet)")

#: The table of constants of the ``"integrated"`` preset, by name.
CONSTANTS: dict[str, Constant] = {c.name: c for c in (
    # -- crossbar read: E = V^2 * G * t per cell --------------------------------------------
    Constant("read_voltage_v", 0.2, "V",
             "ASSUMPTION: read amplitude of RRAM vector-matrix multiplication, kept well below "
             "the ~0.4 V across a cell at compliance (rrampaper.devices filament model, "
             "compliance_voltage_v) so that reads do not disturb the state",
             low=0.1, high=0.3, valid_high=5.0),
    Constant("g_formed_s", G0_S, "S",
             "median conductance of an electroformed cell in the filament model "
             "(rrampaper.devices.filament: one open channel, G0 = 77.48 uS); range: the "
             "breakdown criterion 20 kOhm = 50 uS (ESGNN, Nat. Mach. Intell. 2023, Extended "
             "Data Fig. 1) to the 250 uS compliance cap of the filament model",
             low=50e-6, high=250e-6, valid_high=1e-2),
    Constant("g_off_s", 2e-6, "S",
             "off-state (RESET) conductance of the TaOx preset (rrampaper.devices.technologies, "
             "hrs_median_s, itself an ASSUMPTION); range: pristine 10 MOhm = 0.1 uS (ESGNN "
             "Extended Data Fig. 1a) to 10 uS",
             low=0.1e-6, high=10e-6, valid_high=1e-2),
    Constant("read_time_s", 100e-9, "s",
             "ASSUMPTION: integration time of one crossbar read in an integrated macro (a "
             "100 ns read cycle); range 10 ns to 1 us",
             low=10e-9, high=1e-6, valid_high=1.0),
    Constant("input_activity", 1.0 / 3.0, "",
             "ASSUMPTION: mean of (v/V_read)^2 over the inputs; 1/3 for amplitude-coded inputs "
             "spread uniformly over the DAC range",
             low=0.1, high=1.0, valid_high=1.0),
    # -- converters ---------------------------------------------------------------------------
    Constant("adc_bits", 14, "",
             "resolution of the hybrid system's ADC, TI ADS8324 (docs/paper.md#hybrid-system); "
             "range: "
             "ASSUMPTION 8 bits, the precision integrated compute-in-memory ADCs commonly use",
             low=8, high=14, valid_low=1, valid_high=24, integer=True),
    Constant("adc_fom_j", 10e-15, "J",
             "ASSUMPTION: Walden figure of merit P/(2^ENOB f_s) of an integrated SAR ADC, "
             "energy per conversion = FoM * 2^bits; anchors (Jonsson's ADC survey, "
             "converterpassion.wordpress.com 2012-2013): record 2.2 fJ (Harpe et al., ISSCC "
             "2013), several SAR designs below 10 fJ at 7.5-10 ENOB; range 2.2 fJ to 100 fJ",
             low=2.2e-15, high=100e-15),
    Constant("dac_fom_j", 10e-15, "J",
             "ASSUMPTION: the input DAC costs as much per level as the ADC (a capacitive DAC is "
             "the core of a SAR ADC): energy per conversion = FoM * 2^input_bits",
             low=2.2e-15, high=100e-15),
    Constant("dac_power_w", 0.0, "W",
             "integrated preset: 0, the DAC energy is the FoM term; board preset: DAC80508 "
             "static power during the read"),
    Constant("tia_power_w", 0.0, "W",
             "integrated preset: 0, the charge is sampled by the ADC directly (its energy is in "
             "the ADC FoM); board preset: OPA4322 static power during the read"),
    # -- programming: E = V * I * t per pulse ----------------------------------------------------
    Constant("set_voltage_v", 2.0, "V",
             "ASSUMPTION: SET (reinstatement) pulse amplitude, below the ~3.5 V forming "
             "voltage of the TaOx preset (forming sweeps start at 3 V, ESGNN Extended Data "
             "Fig. 1)", low=1.0, high=3.0, valid_high=20.0),
    Constant("set_current_a", 100e-6, "A",
             "word-line compliance current of the filament model (rrampaper.devices.filament "
             "compliance_current_a, an ASSUMPTION there: paper NOT FOUND)",
             low=50e-6, high=200e-6, valid_high=1e-2),
    Constant("set_width_s", 1e-6, "s",
             "ASSUMPTION: programming pulse width, the 1 us reference pulse of the filament "
             "model; range 100 ns to 10 us", low=100e-9, high=10e-6, valid_high=1.0),
    Constant("reset_voltage_v", 2.0, "V",
             "ASSUMPTION: RESET (pruning) pulse amplitude on the bit line "
             "(docs/paper.md#hybrid-system, reset mode), taken equal to the SET amplitude",
             low=1.0, high=3.0, valid_high=20.0),
    Constant("reset_current_a", 100e-6, "A",
             "ASSUMPTION: the RESET current of a filament is about the compliance current it "
             "was formed with (same value as set_current_a)",
             low=50e-6, high=200e-6, valid_high=1e-2),
    Constant("reset_width_s", 1e-6, "s",
             "ASSUMPTION: as set_width_s", low=100e-9, high=10e-6, valid_high=1.0),
    Constant("forming_voltage_v", 3.5, "V",
             "forming voltage of the TaOx preset (rrampaper.devices.technologies "
             "forming_voltage_v, an ASSUMPTION there anchored on ESGNN Extended Data Fig. 1)",
             low=3.0, high=4.5, valid_high=20.0),
    Constant("forming_width_s", 1e-6, "s",
             "forming pulse width of the TaOx preset (forming_width_s, ASSUMPTION there)",
             low=100e-9, high=10e-6, valid_high=1.0),
    # -- digital work of the hybrid system ----------------------------------------------------
    Constant("digital_op_j", 0.1e-12, "J",
             f"32-bit integer add, {_HOROWITZ}; range: 8-bit add 0.03 pJ to 32-bit float add "
             "0.9 pJ (same table)", low=0.03e-12, high=0.9e-12),
    Constant("digital_mac_j", 4.6e-12, "J",
             f"32-bit float multiply 3.7 pJ + add 0.9 pJ, {_HOROWITZ}; range: 8-bit integer "
             "multiply 0.2 pJ + add 0.03 pJ = 0.23 pJ (same table) to 4.6 pJ",
             low=0.23e-12, high=4.6e-12),
    Constant("sram_j_per_byte", 10e-12 / 8, "J/byte",
             f"64-bit read of an 8 KB SRAM, 10 pJ / 8 bytes, {_HOROWITZ}; range to a 1 MB "
             "SRAM, 100 pJ / 8 bytes (same table)", low=10e-12 / 8, high=100e-12 / 8),
    Constant("ops_per_activation", 6, "",
             "ASSUMPTION: digital operations per output element: batch-norm scale and shift "
             "(2), ReLU (1), quantizer scale, round and clamp (3)",
             low=3, high=12, integer=True),
    Constant("error_bits", 8, "",
             "ASSUMPTION: DAC resolution of the back-propagated errors when the backward pass "
             "runs on the crossbar (training with backward_on_chip)",
             low=4, high=14, valid_low=1, valid_high=24, integer=True),
    # -- GPU baseline -------------------------------------------------------------------------
    Constant("gpu_energy_per_flop_j", 450.0 / 82.6e12, "J",
             f"{_RTX4090}: 450 W / 82.6e12 FLOP/s, board power at peak throughput; range: "
             f"2.3 pJ (32-bit float multiply-add of {_HOROWITZ}, 4.6 pJ per 2 FLOPs, arithmetic "
             "only) to 2x (ASSUMPTION: half the peak throughput at the same power)",
             low=2.3e-12, high=2 * 450.0 / 82.6e12),
    Constant("gpu_dram_j_per_byte", 7.25e-12 * 8, "J/byte",
             "GDDR6X (RTX 4090 memory) average device power 7.25 pJ/bit (Micron figure, "
             "memory comparison table of kylolab.com 'Ultra-bandwidth solutions'); range: HBM2E "
             "6.0 pJ/bit (same table) to 2x (ASSUMPTION: controller and PHY on the GPU side)",
             low=6.0e-12 * 8, high=2 * 7.25e-12 * 8),
)}

_ADS8324 = ("TI ADS8324 datasheet (SBAS172A): 14-bit, 50 kS/s, 2.5 mW at 1.8 V")

#: Values that differ in the ``"board"`` preset (the hybrid PCB as built,
#: docs/paper.md#hybrid-system).
BOARD: dict[str, tuple[float, str]] = {
    "adc_fom_j": (2.5e-3 / (2**14 * 50e3),
                  f"{_ADS8324}: 2.5 mW / (2^14 * 50 kS/s), i.e. 50 nJ per 14-bit conversion"),
    "read_time_s": (1.0 / 50e3, f"{_ADS8324}: one conversion period, 1 / 50 kS/s = 20 us"),
    "dac_fom_j": (0.0, "board preset: the DAC cost is its static power (dac_power_w)"),
    "dac_power_w": (0.6e-3 * 5.5, "TI DAC80508 datasheet (SLASEL1D): 0.6 mA per channel at "
                    "5.5 V, held for one read (read_time_s)"),
    "tia_power_w": (1.5e-3 * 5.5, "TI OPA4322-Q1 datasheet (SLOS856B): 1.5 mA quiescent current "
                    "per channel; ASSUMPTION: 5.5 V supply (its maximum), held for one read"),
}

PRESETS: tuple[str, ...] = ("integrated", "board")


class EnergyConstants(Mapping[str, float]):
    """A validated set of constant values (a read-only mapping name -> value).

    Parameters
    ----------
    preset:
        ``"integrated"`` or ``"board"``.
    **values:
        Values overriding the preset's, by constant name.
    """

    def __init__(self, preset: str = "integrated", **values: float) -> None:
        check_choice("preset", preset, PRESETS)
        self.preset = preset
        specs = dict(CONSTANTS)
        if preset == "board":
            specs = {name: replace(spec, value=BOARD[name][0], source=BOARD[name][1],
                                   low=None, high=None) if name in BOARD else spec
                     for name, spec in specs.items()}
        self.specs: dict[str, Constant] = specs
        merged = {name: spec.value for name, spec in specs.items()}
        for name, value in values.items():
            if name not in specs:
                raise ValueError(f"{name!r} is not an energy constant; valid names: "
                                 f"{', '.join(specs)}")
            merged[name] = value
        self._values = {name: specs[name].check(value) for name, value in merged.items()}

    def __getitem__(self, name: str) -> float:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def replace(self, **changes: float) -> EnergyConstants:
        """A copy with some values changed (validated)."""
        return EnergyConstants(self.preset, **{**self._values, **changes})

    def table(self) -> pd.DataFrame:
        """The constants as a table: value, unit, range used by the sensitivity analysis, source."""
        rows = []
        for name, spec in self.specs.items():
            rows.append({"constant": name, "value": self._values[name], "unit": spec.unit,
                         "low": spec.low, "high": spec.high, "source": spec.source})
        return pd.DataFrame(rows).set_index("constant")

    def __repr__(self) -> str:
        changed = {k: v for k, v in self._values.items() if v != self.specs[k].value}
        return f"EnergyConstants(preset={self.preset!r}, changed={changed})"


def constants(preset: str = "integrated", **values: float) -> EnergyConstants:
    """The constants of ``preset`` (``"integrated"`` or ``"board"``) with optional overrides."""
    return EnergyConstants(preset, **values)
