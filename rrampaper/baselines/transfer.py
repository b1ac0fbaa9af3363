"""Weight optimization, ex situ: train in software, then program the weights into the device.

This is the conventional route the paper compares topology optimization with (docs/paper.md#weight-optimization-baseline:
the paper's own baseline code is not public, so every choice here is a named parameter):

1. map each weight tensor to differential conductance pairs (:func:`weight_scale_s`,
   ``weight_scale="per_layer"``: ``max |W|`` uses the full range ``g_max - g_min``);
2. program them with :func:`rrampaper.devices.program_weights`: one open-loop pulse
   (``"open_loop"``), the write-verify algorithm over open-loop pulses with noisy verify reads
   (``"write_verify"``: ``tolerance``, ``atol_s``, ``max_pulses``), or one draw from a published
   post-verify spread (``"post_verify"``); the idle cell of each pair is RESET (``idle``);
3. apply what the chip does to *every* method's cells, as it does to topology optimization's
   (:mod:`rrampaper.devices.effects`): the chip's faulty cells (the fault map of
   ``Chip(technology, seed)``, the same physical pairs topology optimization would use for the
   same tensors), IR drop, and relaxation to ``t_inference_s`` after programming;
4. compute with the programmed conductances, read with the technology's cycle-to-cycle read
   noise at every forward (:class:`~rrampaper.baselines.device_weight.DeviceWeight`), each
   linear/convolution output through the technology's ADC.

The noise levels are the technology preset's (``rrampaper.devices.technologies``);
``read_noise_scale`` and ``programming_noise_scale`` multiply them for noise sweeps (the
technology becomes :class:`rrampaper.devices.ScaledNoise`).

Example
-------
>>> import torch
>>> from torch import nn
>>> from rrampaper.baselines import program_model, restart_eval_reads
>>> net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
>>> chip_net, report = program_model(net, "taox_post_verify_static", "write_verify", seed=0)
>>> report.cells, report.total_pulses >= report.cells
(320, True)
>>> restart_eval_reads(chip_net); _ = chip_net.eval()(torch.randn(4, 8))  # read 0
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import torch
from torch import Tensor, nn

from rrampaper._checks import check_choice, check_positive_int, check_range
from rrampaper.baselines.device_weight import (
    WEIGHT_SCALES,
    DeviceWeight,
    attach,
    programmable_weights,
    weight_scale_s,
)
from rrampaper.devices.array import combined_sigma
from rrampaper.devices.chip import Chip
from rrampaper.devices.faults import OK
from rrampaper.devices.programming import ProgramResult, check_method, program_weights
from rrampaper.devices.readout import attach_output_adc, ir_drop_factor
from rrampaper.devices.relaxation import T_REFERENCE_S, check_time
from rrampaper.devices.scaled import ScaledNoise
from rrampaper.devices.streams import PROGRAM_STREAM, RELAX_STREAM, generator
from rrampaper.devices.technologies import Technology, technology
from rrampaper.errors import ParameterError
from rrampaper.topology.reads import READ_POLICIES

#: Stream tags of the baselines' random numbers (first key after the seed).
TRANSFER_STREAM = 11
IN_SITU_STREAM = 12

#: Write-verify defaults, those of :func:`rrampaper.devices.program_conductances`.
DEFAULT_TOLERANCE = 0.05
DEFAULT_ATOL_S = 0.5e-6
DEFAULT_MAX_PULSES = 20


@dataclass(frozen=True)
class LayerProgramming:
    """How programming one weight tensor went.

    Attributes
    ----------
    weights:
        Number of weights (each a pair of cells).
    pulses:
        Programming attempts spent on its cells (programming operations).
    converged_cells:
        Cells whose last verify read was inside the tolerance (all of them for open-loop and post-verify).
    relative_error:
        ``RMS(w_prog - w) / RMS(w)`` with ``w_prog = (G+ - G-) / scale`` the programmed weight
        without read noise; NaN for an all-zero tensor.
    scale_s:
        Siemens per weight unit (``per_channel``: the mean over channels).
    sum_sq_error, sum_sq_weight:
        ``sum (w_prog - w)^2`` and ``sum w^2`` (weight units squared), for pooling layers.
    """

    weights: int
    pulses: int
    converged_cells: int
    relative_error: float
    scale_s: float
    sum_sq_error: float
    sum_sq_weight: float

    @property
    def cells(self) -> int:
        """Cells programmed: two per weight."""
        return 2 * self.weights

    @property
    def pulses_per_cell(self) -> float:
        """Mean programming attempts per cell."""
        return self.pulses / self.cells


@dataclass(frozen=True)
class ProgrammingReport:
    """Programming operations and weight errors of a programmed model, per tensor and in total.

    ``layers`` maps parameter names (``"fc1.weight"``) to :class:`LayerProgramming`.
    """

    technology: str
    method: str
    read_noise_scale: float
    programming_noise_scale: float
    layers: dict[str, LayerProgramming] = field(default_factory=dict)
    t_inference_s: float = T_REFERENCE_S
    faulty_cells: int = 0

    @property
    def total_pulses(self) -> int:
        """Programming operations over all tensors."""
        return sum(layer.pulses for layer in self.layers.values())

    @property
    def weights(self) -> int:
        """Weights programmed."""
        return sum(layer.weights for layer in self.layers.values())

    @property
    def cells(self) -> int:
        """Cells programmed (two per weight)."""
        return 2 * self.weights

    @property
    def converged_fraction(self) -> float:
        """Fraction of cells whose last verify read passed."""
        return sum(layer.converged_cells for layer in self.layers.values()) / self.cells

    @property
    def relative_error(self) -> float:
        """Pooled ``sqrt(sum (w_prog - w)^2 / sum w^2)`` over all tensors (weight units)."""
        weight = sum(layer.sum_sq_weight for layer in self.layers.values())
        error = sum(layer.sum_sq_error for layer in self.layers.values())
        return math.sqrt(error / weight) if weight > 0 else math.nan

    def table(self):
        """One row per tensor as a :class:`pandas.DataFrame`."""

        rows = {
            name: {
                "weights": layer.weights,
                "cells": layer.cells,
                "pulses": layer.pulses,
                "pulses_per_cell": layer.pulses_per_cell,
                "converged_cells": layer.converged_cells,
                "relative_error": layer.relative_error,
                "scale_s": layer.scale_s,
            }
            for name, layer in self.layers.items()
        }
        return pd.DataFrame.from_dict(rows, orient="index")

    def attrs(self) -> dict[str, Any]:
        """netCDF-safe attributes (numbers and strings only)."""
        out: dict[str, Any] = {
            "programming.technology": self.technology,
            "programming.method": self.method,
            "programming.read_noise_scale": self.read_noise_scale,
            "programming.programming_noise_scale": self.programming_noise_scale,
            "programming.total_pulses": self.total_pulses,
            "programming.cells": self.cells,
            "programming.converged_fraction": self.converged_fraction,
            "programming.relative_error": self.relative_error,
            "programming.t_inference_s": self.t_inference_s,
            "programming.faulty_cells": self.faulty_cells,
        }
        for name, layer in self.layers.items():
            out[f"programming.{name}.pulses"] = layer.pulses
            out[f"programming.{name}.relative_error"] = layer.relative_error
        return out


@dataclass
class ProgrammedTensor:
    """Conductances (siemens, float64, CPU) and statistics of one programmed weight tensor."""

    g_plus: Tensor
    g_minus: Tensor
    read_sigma: Tensor
    scale: Tensor
    stats: LayerProgramming


def check_write_verify(tolerance: float, atol_s: float, max_pulses: int) -> int:
    """Validate the write-verify settings; returns ``max_pulses`` as ``int``."""
    check_range("tolerance", tolerance, 0.0, 1.0, low_open=True)
    check_range("atol_s", atol_s, 0.0, 1.0, unit="S")
    return check_positive_int("max_pulses", max_pulses)


def check_noise_scales(read_noise_scale: float, programming_noise_scale: float) -> None:
    """Validate the noise multipliers (in [0, 100]) under the baselines' parameter names."""
    check_range("read_noise_scale", read_noise_scale, 0.0, 100.0)
    check_range("programming_noise_scale", programming_noise_scale, 0.0, 100.0)


def program_tensor(
    weight: Tensor,
    device: Technology,
    method: str,
    scale_s: Tensor,
    gen: torch.Generator,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    atol_s: float = DEFAULT_ATOL_S,
    max_pulses: int = DEFAULT_MAX_PULSES,
    idle: str = "reset",
    fault_codes: Tensor | None = None,
    times_s: tuple[float, ...] = (T_REFERENCE_S,),
    relax_gen: torch.Generator | None = None,
) -> list[ProgrammedTensor]:
    """Program ``weight`` (weight units) at ``scale_s`` (S per unit) into pairs of ``device``
    (``idle``: what happens to the unused cell of each pair, see
    :func:`rrampaper.devices.program_weights`), on cells with ``fault_codes`` (``[*shape, 2]``),
    then apply IR drop and relaxation to each of ``times_s`` (standard normals from
    ``relax_gen``, the same for every time): one :class:`ProgrammedTensor` per time, programmed
    once. The statistics compare the weights with the state at that time."""
    w = weight.detach().to("cpu", torch.float64)
    scale = scale_s.to("cpu", torch.float64)
    _, plus, minus = program_weights(
        w * scale,
        device,
        method,
        tolerance=tolerance,
        atol_s=atol_s,
        max_pulses=max_pulses,
        seed=gen,
        idle=idle,
        fault_codes=fault_codes,
    )
    g_plus, g_minus = plus.conductance_s, minus.conductance_s
    if device.ir_wire_ohm > 0:
        rows, cols = int(device.ir_tile_rows), int(device.ir_tile_cols)
        g_plus, g_minus = (ir_drop_factor(w.shape, rows, cols, device.ir_wire_ohm, g)
                           for g in (g_plus, g_minus))
    relaxes = device.relaxation.name != "none" and any(t > T_REFERENCE_S for t in times_s)
    if relaxes:
        gen_z = relax_gen if relax_gen is not None else torch.Generator().manual_seed(0)
        z = torch.randn((2, *w.shape), generator=gen_z, dtype=torch.float64)
        stuck = None if fault_codes is None else torch.as_tensor(fault_codes) != OK
    out = []
    for t in times_s:
        gp, gm = g_plus, g_minus
        if relaxes and t > T_REFERENCE_S:
            gp, gm = (device.relax(g, t, z[k], None if stuck is None else stuck[..., k])
                      for k, g in enumerate((g_plus, g_minus)))
        out.append(ProgrammedTensor(
            g_plus=gp,
            g_minus=gm,
            read_sigma=combined_sigma(device, gp, gm),
            scale=scale,
            stats=layer_stats(w, (gp - gm) / scale, scale, plus, minus),
        ))
    return out


def layer_stats(
    w: Tensor, w_prog: Tensor, scale: Tensor, plus: ProgramResult, minus: ProgramResult
) -> LayerProgramming:
    """:class:`LayerProgramming` of weights ``w`` programmed as ``w_prog`` (float64)."""
    sq_error = float((w_prog - w).square().sum())
    sq_weight = float(w.square().sum())
    return LayerProgramming(
        weights=w.numel(),
        pulses=plus.total_pulses + minus.total_pulses,
        converged_cells=int(plus.converged.sum()) + int(minus.converged.sum()),
        relative_error=math.sqrt(sq_error / sq_weight) if sq_weight > 0 else math.nan,
        scale_s=float(scale.mean()),
        sum_sq_error=sq_error,
        sum_sq_weight=sq_weight,
    )


def program_model(
    model: nn.Module,
    technology: Technology | str = "taox_post_verify_static",
    method: str = "write_verify",
    *,
    t_inference_s: float | None = None,
    **options: Any,
) -> tuple[nn.Module, ProgrammingReport]:
    """Program a trained model's weights into a device; return the device model and a report.

    The keyword arguments below other than ``t_inference_s`` reach
    :func:`program_model_over_time` as ``options`` (a misspelt one raises ``TypeError``).

    Parameters
    ----------
    model:
        A plain PyTorch model; not modified (a deep copy is programmed). The weights of its
        ``nn.Linear``, ``nn.Conv1d/2d/3d`` and ``nn.RNN``/``LSTM``/``GRU`` layers go on the
        device; biases and normalization layers stay digital.
    technology:
        Preset name (:data:`rrampaper.devices.TECHNOLOGIES`) or a :class:`Technology` (e.g. one
        built with changed parameters).
    method:
        ``"open_loop"`` (one unverified pulse per cell), ``"write_verify"`` (the algorithm:
        pulse and verify read until the read is within the window or ``max_pulses``) or
        ``"post_verify"`` (a published post-verify spread; technologies that have one).
    seed:
        Seed of the chip (its fault map: ``Chip(technology, seed)``, the chip hardware TO with
        the same seed trains on), of the programming noise and of every read (tensor ``i``
        uses keys ``(TRANSFER_STREAM, i)``).
    tolerance, atol_s, max_pulses:
        Write-verify acceptance window ``max(tolerance * G_target, atol_s)`` (relative, siemens)
        and pulse budget per cell; defaults are those of
        :func:`rrampaper.devices.program_conductances` (5 %, 0.5 uS, 20 pulses). Validated for
        both methods, used by write-verify only.
    weight_scale:
        ``"per_layer"`` or ``"per_channel"`` (:func:`weight_scale_s`).
    read_noise_scale, programming_noise_scale:
        Multipliers (>= 0) of the technology's read and programming sigmas; 1.0 is the
        technology's own noise. Verify reads use the scaled read noise.
    train_reads, eval_reads:
        Read policies in training / evaluation mode (``"advance"``, ``"fixed"``,
        ``"noiseless"``; :mod:`rrampaper.baselines.device_weight`).
    exclude:
        Module names whose weights stay digital.
    idle:
        The unused cell of each pair: ``"reset"`` (one RESET pulse to the off state, default)
        or ``"program"`` (written to ``g_min`` like any target); see
        :func:`rrampaper.devices.program_weights`.
    t_inference_s:
        Seconds between programming and inference (relaxation); ``None``: the technology's
        ``t_inference_s`` (1 s unless a preset says otherwise).
    macro_rows, macro_cols:
        Macro size of the chip whose fault map the weights meet (as :class:`Chip`).

    Returns
    -------
    ``(programmed_model, report)``. The programmed model's device weights do not train (their
    float originals are frozen); its other parameters are copies of the model's.
    """
    t_inference_s = _technology(technology).t_inference_s if t_inference_s is None else t_inference_s
    ((programmed, report),) = program_model_over_time(model, technology, method,
                                                      times_s=(t_inference_s,), **options)
    return programmed, report


def program_model_over_time(
    model: nn.Module,
    technology: Technology | str = "taox_post_verify_static",
    method: str = "write_verify",
    *,
    times_s: Iterable[float],
    seed: int = 0,
    tolerance: float = DEFAULT_TOLERANCE,
    atol_s: float = DEFAULT_ATOL_S,
    max_pulses: int = DEFAULT_MAX_PULSES,
    weight_scale: str = "per_layer",
    read_noise_scale: float = 1.0,
    programming_noise_scale: float = 1.0,
    train_reads: str = "advance",
    eval_reads: str = "advance",
    exclude: Iterable[str] = (),
    idle: str = "reset",
    macro_rows: int = 512,
    macro_cols: int = 512,
) -> list[tuple[nn.Module, ProgrammingReport]]:
    """Program ``model`` once and return it read at each of ``times_s`` (seconds after
    programming): ``[(programmed_model, report), ...]`` in the order of ``times_s``, each equal
    to ``program_model(..., t_inference_s=t)`` with the same arguments (same pulses, same
    relaxation normals, same reads), at the cost of one programming. The other arguments are
    those of :func:`program_model` (documented there; :func:`program_model` passes its keyword
    arguments here).
    """
    tech = _technology(technology)
    check_method(method)
    times = tuple(check_time(t) for t in times_s)
    if not times:
        raise ParameterError("times_s is empty: give at least one time after programming (s)")
    max_pulses = check_write_verify(tolerance, atol_s, max_pulses)
    check_choice("weight_scale", weight_scale, WEIGHT_SCALES)
    check_choice("train_reads", train_reads, READ_POLICIES)
    check_choice("eval_reads", eval_reads, READ_POLICIES)
    seed = check_positive_int("seed", seed, minimum=0)
    check_noise_scales(read_noise_scale, programming_noise_scale)
    device = ScaledNoise(tech, read_scale=read_noise_scale, programming_scale=programming_noise_scale)
    copies = [copy.deepcopy(model) for _ in times]
    targets = [programmable_weights(c, exclude) for c in copies]
    if not targets[0]:
        raise ValueError("model has no nn.Linear, nn.Conv or nn.RNN weight to program")
    check_finite_weights(targets[0])
    span = tech.g_max_s - tech.g_min_s
    chip = (Chip(tech, seed=seed, macro_rows=macro_rows, macro_cols=macro_cols)
            if tech.faults.enabled else None)
    layers: list[dict[str, LayerProgramming]] = [{} for _ in times]
    for index, (name, module, attribute) in enumerate(targets[0]):
        weight = getattr(module, attribute)
        codes = chip.allocate_fault_codes(tuple(weight.shape)) if chip is not None else None
        results = program_tensor(
            weight,
            device,
            method,
            weight_scale_s(weight, span, weight_scale),
            generator(seed, TRANSFER_STREAM, index, PROGRAM_STREAM),
            tolerance=tolerance,
            atol_s=atol_s,
            max_pulses=max_pulses,
            idle=idle,
            fault_codes=codes,
            times_s=times,
            relax_gen=generator(seed, TRANSFER_STREAM, index, RELAX_STREAM),
        )
        on = weight.device
        for k, result in enumerate(results):
            _, module_k, _ = targets[k][index]
            parametrization = DeviceWeight(
                result.g_plus.to(on),
                result.g_minus.to(on),
                result.read_sigma.to(on),
                result.scale.to(on),
                seed=seed,
                key=(TRANSFER_STREAM, index),
                train_reads=train_reads,
                eval_reads=eval_reads,
            )
            getattr(module_k, attribute).requires_grad_(False)
            attach(module_k, attribute, parametrization)
            layers[k][name] = result.stats
    out = []
    for k, t in enumerate(times):
        attach_output_adc(copies[k], int(tech.adc_bits) or None, headroom=tech.adc_headroom)
        out.append((copies[k], ProgrammingReport(
            technology=tech.name,
            method=method,
            read_noise_scale=float(read_noise_scale),
            programming_noise_scale=float(programming_noise_scale),
            layers=layers[k],
            t_inference_s=t,
            faulty_cells=0 if chip is None else chip.faulty_cells_allocated,
        )))
    return out


def check_finite_weights(targets: Iterable[tuple[str, nn.Module, str]]) -> None:
    """Refuse a model whose weights to program hold NaN or inf (a diverged or corrupt model):
    their scale and every conductance would be NaN. Raises
    :class:`~rrampaper.errors.ParameterError` naming the layer and the count."""
    for name, module, attribute in targets:
        weight = getattr(module, attribute).detach()
        n_bad = int((~torch.isfinite(weight)).sum())
        if n_bad:
            raise ParameterError(
                f"the model's weight {name!r} has {n_bad} of {weight.numel()} values that are "
                "not finite (NaN or inf); only finite weights can be programmed (retrain the model)"
            )


def _technology(tech: Technology | str) -> Technology:
    return technology(tech)
