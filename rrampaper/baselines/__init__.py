"""Weight optimization (WO): the conventional baseline that topology optimization is compared with.

The paper (Li, Wang et al., Nature Communications 2026) compares pruning a random resistive-memory
network, whose weights are never written, with training the weights and writing them into analog
memory, which pays programming noise, read noise and many programming operations. Its baseline
code is not public (docs/paper.md#weight-optimization-baseline), so this package states every assumption as a parameter,
and the noise levels default to the device model's (:mod:`rrampaper.devices.technologies`).

- :func:`program_model` (:mod:`.transfer`): ex situ. Deep-copies a trained model, maps each weight
  tensor to differential conductance pairs, programs them with one open-loop pulse, the write-verify algorithm or a published post-verify spread
  (:func:`rrampaper.devices.program_weights`) and returns the device model plus a
  :class:`ProgrammingReport` (pulses, convergence, relative weight error per tensor).
  :func:`program_model_over_time` programs once and returns the model read at several times
  after programming (what a retention sweep needs; equal to one :func:`program_model` per time).
- :class:`HardwareAwareWO` (:mod:`.hardware_aware`): hardware-aware training, the device's
  programming and read noise injected in every training forward and its ADC on the outputs.
- :class:`InSituWO` (:mod:`.in_situ`): in situ. The training-loop hook that programs the initial
  weights and writes the cells whose targets moved, within a write budget (mixed-precision
  in-situ training).
- :mod:`.device_weight`: the device weight itself (:class:`DeviceWeight`, a parametrization read
  with noise at every forward) and model-level helpers (:func:`restart_eval_reads`,
  :func:`set_read_policy`, :func:`device_weights`, :func:`programmed_weights`).
- Noise sweeps: ``read_noise_scale`` / ``programming_noise_scale`` of both wrap the technology
  in :class:`rrampaper.devices.ScaledNoise` (its read / programming sigmas multiplied, the
  same devices per seed).

Example
-------
>>> import torch
>>> from torch import nn
>>> from rrampaper.baselines import program_model, restart_eval_reads
>>> trained = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
>>> chip, report = program_model(trained, "taox_post_verify_static", "post_verify", seed=1)
>>> report.total_pulses                    # one attempt per cell, two cells per weight
112
>>> restart_eval_reads(chip)               # before every evaluation: reads 0, 1, ...
"""

from rrampaper.baselines.device_weight import (
    WEIGHT_SCALES,
    DeviceWeight,
    device_weights,
    programmable_weights,
    programmed_weights,
    restart_eval_reads,
    set_read_policy,
    shadow_weight,
    weight_scale_s,
)
from rrampaper.baselines.in_situ import InSituWeight, InSituWO
from rrampaper.baselines.transfer import (
    LayerProgramming,
    ProgrammingReport,
    program_model,
    program_model_over_time,
)

__all__ = [
    "WEIGHT_SCALES",
    "DeviceWeight",
    "InSituWO",
    "InSituWeight",
    "LayerProgramming",
    "ProgrammingReport",
    "device_weights",
    "program_model",
    "program_model_over_time",
    "programmable_weights",
    "programmed_weights",
    "restart_eval_reads",
    "set_read_policy",
    "shadow_weight",
    "weight_scale_s",
]
from rrampaper.baselines.hardware_aware import (  # noqa: E402
    HWA_STREAM,
    UNIFORM_WINDOW_FACTOR,
    HardwareAwareWO,
    NoiseInjection,
    programming_sigma_s,
    weight_noise_sigma,
)

__all__ += [
    "HWA_STREAM",
    "UNIFORM_WINDOW_FACTOR",
    "HardwareAwareWO",
    "NoiseInjection",
    "programming_sigma_s",
    "weight_noise_sigma",
]
