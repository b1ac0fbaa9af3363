"""Energy of topology optimization on the hybrid analog-digital system against weight
optimization on a GPU: a transparent analytic model.

The paper claims energy reductions of 78.3 / 67.9 / 99.7 % on Fashion-MNIST / spoken digit /
DRIVE (Nature Communications 2026, "reducing energy consumption") and 82.1 / 51.2 / 99.8 %
(arXiv 2023, "improvement in energy efficiency"); its method and baseline are NOT FOUND
(docs/paper.md#energy). This package rebuilds the comparison from counted operations and cited
constants, so that every number can be traced and varied.

- :mod:`.constants`: every constant with unit, source and range; presets ``"integrated"``
  (on-chip converters, default) and ``"board"`` (the discrete converters of the real PCB).
- :mod:`.operations`: per-layer MACs, crossbar reads, DAC/ADC conversions from a forward pass
  with hooks (or the U-Net's architecture).
- :mod:`.model`: energy by component of the hybrid system (crossbar, DAC, TIA, ADC, digital,
  SRAM, programming, forming) and of the GPU (compute, DRAM), for inference or training.
- :mod:`.workloads`: the three tasks, their training sizes and programming counts.
- :mod:`.sensitivity`, :mod:`.plots`: tornado analysis and figures.

Examples
--------
>>> from rrampaper.analysis import energy
>>> ops = energy.task_operations("fashion_mnist")
>>> int(ops["macs"].sum())
1057024
>>> result = energy.compare(ops, energy.constants(), energy.Workload(input_bits=4))
>>> 0 < result.reduction_percent < 100
True
"""

from rrampaper.analysis.energy.constants import (
    BOARD,
    CONSTANTS,
    G0_S,
    PRESETS,
    Constant,
    EnergyConstants,
    constants,
)
from rrampaper.analysis.energy.model import (
    DEFAULT_SCENARIO,
    GPU_COMPONENTS,
    HYBRID_COMPONENTS,
    SCENARIOS,
    Comparison,
    Workload,
    compare,
    gpu_inference,
    gpu_training,
    hybrid_inference,
    hybrid_training,
    programming_energy,
    pulse_energies,
)
from rrampaper.analysis.energy.operations import count_operations, totals, unet_operations
from rrampaper.analysis.energy.plots import plot_breakdown, plot_tornado
from rrampaper.analysis.energy.sensitivity import sensitivity
from rrampaper.analysis.energy.workloads import (
    ENERGY_TASKS,
    TASK_SPECS,
    TaskSpec,
    count_model_programming,
    initial_resets,
    measured_programming,
    task_operations,
    training_size,
)

__all__ = [
    "BOARD", "CONSTANTS", "DEFAULT_SCENARIO", "ENERGY_TASKS", "G0_S", "GPU_COMPONENTS",
    "HYBRID_COMPONENTS", "PRESETS", "SCENARIOS", "TASK_SPECS", "Comparison", "Constant",
    "EnergyConstants", "TaskSpec", "Workload", "compare", "constants", "count_model_programming",
    "count_operations", "gpu_inference", "gpu_training", "hybrid_inference", "hybrid_training",
    "initial_resets", "measured_programming", "plot_breakdown", "plot_tornado",
    "programming_energy", "pulse_energies", "sensitivity", "task_operations", "totals",
    "training_size", "unet_operations",
]
