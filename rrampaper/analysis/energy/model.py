"""The analytic energy model: the hybrid analog-digital system running topology optimization (TO)
against weight optimization (WO) on a GPU.

All energies are in joules. The operation counts come from :mod:`.operations` (per sample, per
layer) and, for programming, from the SET/RESET counts the experiments recorded.

Hybrid system, per crossbar read of a ``rows x cols`` layer (``keep`` = kept fraction of pairs):

- crossbar: ``rows * cols * activity * V_read^2 * t_read * (keep * G_formed + (1 - keep) * G_off
  + G_off)`` (both cells of every differential pair conduct; a pruned pair is two off cells);
- DAC: ``rows * (dac_fom * 2^input_bits + dac_power * t_read)``;
- TIA: ``cols * tia_power * t_read``; ADC: ``cols * adc_fom * 2^adc_bits``;
- digital: per output element ``ops_per_activation * digital_op`` (batch norm, ReLU, quantizer)
  and an SRAM write and read of the ADC word and of the quantized activation.

Training (TO) adds, per sample, the backward pass (error propagation through the transposed
crossbar, or as digital MACs with ``backward_on_chip=False``) and the score gradient (one
digital MAC per forward MAC); per optimizer step, one read of every pair (the gradient of a
score needs the weight) and the score update (3 MACs, 2 comparisons for the top-k and
limit-size rules, score and momentum read and written from SRAM); per SET/RESET one pulse of
``V * I * t``; once, the electroforming of one cell per pair.

GPU: ``2`` FLOPs per MAC (``6`` in training: forward, input gradient, weight gradient) plus
``ops_per_activation`` FLOPs per output element (twice in training) at the board-level energy
per FLOP, and DRAM traffic of FP32 values: the first layer's input, every layer output written
and read (``5`` accesses in training: write, read forward, read for the weight gradient, its
gradient written and read) and the weights once per batch (``8`` per step in training: two
reads, gradient write, SGD-momentum reads of weight, gradient, momentum and writes of weight,
momentum; ``6`` FLOPs per weight per step). WO then writes its weights into the chip:
``wo_pulses`` pulses (default: one per cell, two per weight).

Examples
--------
>>> import torch
>>> from torch import nn
>>> from rrampaper.analysis.energy import constants, count_operations, hybrid_inference
>>> ops = count_operations(nn.Sequential(nn.Linear(4, 3, bias=False)), torch.zeros(1, 4))
>>> e = hybrid_inference(ops, constants(), input_bits=4, keep_ratio=1.0)
>>> round(float(e["ADC"]) * 1e12, 3)  # 3 conversions x 10 fJ x 2**14, in pJ
491.52
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from rrampaper._checks import check_choice, check_positive_int, check_range
from rrampaper.analysis.energy.constants import EnergyConstants

#: The two comparisons the model can make; ``"inference"`` is the default (see
#: :data:`DEFAULT_SCENARIO`).
SCENARIOS: tuple[str, ...] = ("inference", "training")

#: The comparison the paper most likely made (not public, docs/paper.md#energy): the arXiv version
#: credits the gain to "analogue in-memory computing", i.e. running the network, so the default
#: compares the energy per inference; ``"training"`` compares whole training runs.
DEFAULT_SCENARIO = "inference"

#: Components of the hybrid system's energy, in plotting order.
HYBRID_COMPONENTS: tuple[str, ...] = ("crossbar read", "DAC", "TIA", "ADC", "digital ops",
                                      "SRAM", "digital MACs", "programming", "forming")
#: Components of the GPU baseline's energy.
GPU_COMPONENTS: tuple[str, ...] = ("GPU compute", "GPU DRAM", "programming")


@dataclass(frozen=True)
class Workload:
    """What the two systems run.

    Attributes
    ----------
    input_bits:
        DAC resolution of the activations (the paper: 4 Fashion-MNIST, 3 spoken digit, 6 DRIVE).
    keep_ratio:
        Fraction of pairs kept (formed) by TO; the rest conduct as two off cells.
    batch_size:
        GPU batch in inference: the weights are read from DRAM once per batch (training counts
        its per-step costs with ``steps``).
    samples:
        Training samples processed (epochs x training-set size); ignored for inference.
    steps:
        Optimizer steps (epochs x batches per epoch); ignored for inference.
    set_ops, reset_ops:
        SET and RESET operations of TO during training (the recorded ``set_ops``/``reset_ops``).
    initial_resets:
        RESETs of the first mask (the recorded ``initial_resets``).
    wo_pulses:
        Pulses to write the WO weights into the chip after GPU training; ``None``: one pulse
        per cell (one write per cell, two per weight).
    backward_on_chip:
        TO training propagates errors through the transposed crossbar (``True``) or as digital
        MACs (``False``).
    """

    input_bits: int
    keep_ratio: float = 0.5
    batch_size: int = 1
    samples: float = 0.0
    steps: float = 0.0
    set_ops: float = 0.0
    reset_ops: float = 0.0
    initial_resets: float = 0.0
    wo_pulses: float | None = None
    backward_on_chip: bool = True

    def __post_init__(self) -> None:
        check_positive_int("input_bits", self.input_bits)
        check_range("input_bits", self.input_bits, 1, 24)
        check_range("keep_ratio", self.keep_ratio, 0.0, 1.0)
        check_positive_int("batch_size", self.batch_size)
        for name in ("samples", "steps", "set_ops", "reset_ops", "initial_resets"):
            check_range(name, getattr(self, name), 0.0)
        if self.wo_pulses is not None:
            check_range("wo_pulses", self.wo_pulses, 0.0)


def _per_read(c: EnergyConstants, rows: float, cols: float, in_bits: int, keep: float,
              activity: float) -> dict[str, float]:
    """Energy (J) of one read of a rows x cols crossbar: cells, DAC, TIA, ADC."""
    g_pair = keep * c["g_formed_s"] + (1.0 - keep) * c["g_off_s"] + c["g_off_s"]
    return {
        "crossbar read": rows * cols * activity * c["read_voltage_v"] ** 2 * c["read_time_s"] * g_pair,
        "DAC": rows * (c["dac_fom_j"] * 2.0 ** in_bits + c["dac_power_w"] * c["read_time_s"]),
        "TIA": cols * c["tia_power_w"] * c["read_time_s"],
        "ADC": cols * c["adc_fom_j"] * 2.0 ** int(c["adc_bits"]),
    }


def _series(values: dict[str, float], order: tuple[str, ...]) -> pd.Series:
    return pd.Series({k: float(values.get(k, 0.0)) for k in order}, name="energy_j")


def pulse_energies(c: EnergyConstants) -> dict[str, float]:
    """Energy (J) of one SET, one RESET and one forming pulse: ``V * I * t`` (forming at the
    SET compliance current)."""
    return {
        "set": c["set_voltage_v"] * c["set_current_a"] * c["set_width_s"],
        "reset": c["reset_voltage_v"] * c["reset_current_a"] * c["reset_width_s"],
        "forming": c["forming_voltage_v"] * c["set_current_a"] * c["forming_width_s"],
    }


def programming_energy(c: EnergyConstants, set_ops: float, reset_ops: float) -> float:
    """Energy (J) of ``set_ops`` SET and ``reset_ops`` RESET pulses (count x pulse energy)."""
    check_range("set_ops", set_ops, 0.0)
    check_range("reset_ops", reset_ops, 0.0)
    pulses = pulse_energies(c)
    return set_ops * pulses["set"] + reset_ops * pulses["reset"]


def _check_ops(ops: pd.DataFrame) -> None:
    missing = {"rows", "cols", "reads", "macs", "weights", "outputs", "inputs"} - set(ops.columns)
    if missing or ops.empty:
        raise ValueError(f"ops must be a non-empty table of count_operations; missing columns "
                         f"{sorted(missing)}")


def hybrid_inference(ops: pd.DataFrame, c: EnergyConstants, input_bits: int,
                     keep_ratio: float = 0.5) -> pd.Series:
    """Energy (J) per sample of the hybrid system running the network, by component."""
    _check_ops(ops)
    Workload(input_bits=input_bits, keep_ratio=keep_ratio)  # validates
    out = dict.fromkeys(HYBRID_COMPONENTS, 0.0)
    for _, layer in ops.iterrows():
        per = _per_read(c, layer["rows"], layer["cols"], input_bits, keep_ratio,
                        c["input_activity"])
        for key, value in per.items():
            out[key] += layer["reads"] * value
        out["digital ops"] += layer["outputs"] * c["ops_per_activation"] * c["digital_op_j"]
        word_bytes = math.ceil(c["adc_bits"] / 8) + math.ceil(input_bits / 8)
        out["SRAM"] += layer["outputs"] * 2 * word_bytes * c["sram_j_per_byte"]
    return _series(out, HYBRID_COMPONENTS)


def gpu_inference(ops: pd.DataFrame, c: EnergyConstants, batch_size: int = 1,
                  bytes_per_value: int = 4) -> pd.Series:
    """Energy (J) per sample of the GPU running the same (dense) network, by component."""
    _check_ops(ops)
    check_positive_int("batch_size", batch_size)
    check_positive_int("bytes_per_value", bytes_per_value)
    flops = 2 * ops["macs"].sum() + c["ops_per_activation"] * ops["outputs"].sum()
    values = (ops["inputs"].iloc[0] + 2 * ops["outputs"].sum()
              + ops["weights"].sum() / batch_size)
    return _series({"GPU compute": flops * c["gpu_energy_per_flop_j"],
                    "GPU DRAM": values * bytes_per_value * c["gpu_dram_j_per_byte"]},
                   GPU_COMPONENTS)


def hybrid_training(ops: pd.DataFrame, c: EnergyConstants, workload: Workload) -> pd.Series:
    """Energy (J) of a whole TO training run on the hybrid system, by component."""
    w = workload
    forward = hybrid_inference(ops, c, w.input_bits, w.keep_ratio) * w.samples
    out = forward.to_dict()
    weights = float(ops["weights"].sum())
    for i, (_, layer) in enumerate(ops.iterrows()):
        # score gradient dL/dw_eff = delta x^T (digital); backward digital work per output
        out["digital MACs"] += w.samples * layer["macs"] * c["digital_mac_j"]
        out["digital ops"] += w.samples * layer["outputs"] * c["ops_per_activation"] * c["digital_op_j"]
        out["SRAM"] += w.samples * 2 * layer["inputs"] * math.ceil(w.input_bits / 8) * c["sram_j_per_byte"]
        if i == 0:
            continue  # no error needs to reach the network's input
        if w.backward_on_chip:  # transposed read: errors in on the columns, out on the rows
            per = _per_read(c, layer["cols"], layer["rows"], int(c["error_bits"]), w.keep_ratio,
                            c["input_activity"])
            for key, value in per.items():
                out[key] += w.samples * layer["reads"] * value
        else:
            out["digital MACs"] += w.samples * layer["macs"] * c["digital_mac_j"]
    # once per step: read every pair for the score gradient, update scores, new mask
    read = _per_read(c, 1, 1, 1, w.keep_ratio, 1.0)
    out["crossbar read"] += w.steps * weights * read["crossbar read"]
    out["TIA"] += w.steps * weights * read["TIA"]
    out["ADC"] += w.steps * weights * read["ADC"]
    out["digital MACs"] += w.steps * weights * 3 * c["digital_mac_j"]
    out["digital ops"] += w.steps * weights * 2 * c["digital_op_j"]
    out["SRAM"] += w.steps * weights * 16 * c["sram_j_per_byte"]
    out["programming"] += programming_energy(c, w.set_ops, w.reset_ops + w.initial_resets)
    out["forming"] += weights * pulse_energies(c)["forming"]
    return _series(out, HYBRID_COMPONENTS)


def gpu_training(ops: pd.DataFrame, c: EnergyConstants, workload: Workload,
                 bytes_per_value: int = 4) -> pd.Series:
    """Energy (J) of a whole WO training run on the GPU plus writing its weights into the chip."""
    _check_ops(ops)
    check_positive_int("bytes_per_value", bytes_per_value)
    w = workload
    weights = float(ops["weights"].sum())
    flops = (w.samples * (6 * ops["macs"].sum() + 2 * c["ops_per_activation"] * ops["outputs"].sum())
             + w.steps * 6 * weights)
    values = (w.samples * (ops["inputs"].iloc[0] + 5 * ops["outputs"].sum())
              + w.steps * 8 * weights)
    pulses = 2 * weights if w.wo_pulses is None else w.wo_pulses
    mean_pulse = 0.5 * sum(pulse_energies(c)[k] for k in ("set", "reset"))
    return _series({"GPU compute": flops * c["gpu_energy_per_flop_j"],
                    "GPU DRAM": values * bytes_per_value * c["gpu_dram_j_per_byte"],
                    "programming": pulses * mean_pulse}, GPU_COMPONENTS)


@dataclass(frozen=True)
class Comparison:
    """The hybrid system against the GPU for one workload (energies in joules).

    Attributes
    ----------
    scenario:
        ``"inference"`` (per sample) or ``"training"`` (whole run).
    hybrid, gpu:
        Energy by component.
    """

    scenario: str
    hybrid: pd.Series = field(repr=False)
    gpu: pd.Series = field(repr=False)

    @property
    def ratio(self) -> float:
        """Hybrid energy / GPU energy."""
        return float(self.hybrid.sum() / self.gpu.sum())

    @property
    def reduction_percent(self) -> float:
        """``100 * (1 - E_hybrid / E_gpu)``: "reducing energy consumption by" (Nature 2026)."""
        return 100.0 * (1.0 - self.ratio)

    @property
    def efficiency_gain_percent(self) -> float:
        """``100 * (E_gpu / E_hybrid - 1)``: one reading of "improvement in energy efficiency"
        (arXiv 2023), operations per joule relative to the GPU's, minus one."""
        return 100.0 * (1.0 / self.ratio - 1.0)


def compare(ops: pd.DataFrame, c: EnergyConstants, workload: Workload,
            scenario: str = DEFAULT_SCENARIO) -> Comparison:
    """The hybrid system (TO) against the GPU (WO) for ``workload`` in ``scenario``."""
    check_choice("scenario", scenario, SCENARIOS)
    if scenario == "inference":
        return Comparison(scenario,
                          hybrid_inference(ops, c, workload.input_bits, workload.keep_ratio),
                          gpu_inference(ops, c, workload.batch_size))
    if workload.samples <= 0 or workload.steps <= 0:
        raise ValueError(f"training needs samples > 0 and steps > 0, got samples="
                         f"{workload.samples!r}, steps={workload.steps!r}")
    return Comparison(scenario, hybrid_training(ops, c, workload), gpu_training(ops, c, workload))
