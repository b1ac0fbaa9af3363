"""Weight optimization, in situ: train the weights on the device under a write budget.

The comparison the paper draws is with weight optimization on the same analog memory (docs/paper.md#weight-optimization-baseline:
its baseline code and settings are not public), so the model of in-situ training is
this project's, built from published schemes and stated here with every threshold a parameter.

**Model: mixed-precision in-situ training.**

- *Forward and backward on the device.* Every forward computes with the programmed
  conductances read with read noise (:class:`~rrampaper.baselines.device_weight.DeviceWeight`),
  as chip-in-the-loop training does (Li et al., Nat. Commun. 9, 2385, 2018: in-situ learning
  "allows the network to adapt to hardware imperfections"; Yao et al., Nature 577, 641, 2020:
  hybrid training against device imperfections).
- *Digital accumulation of the updates.* The optimizer updates a float "shadow" copy of each
  weight tensor (the parameter the layer wraps; it receives the gradient of the device weight
  unchanged). Only when the target conductance implied by the shadow has moved far enough from
  what was last written is the cell reprogrammed: the mixed-precision architecture of
  Nandakumar et al., Front. Neurosci. 14, 406 (2020), whose high-precision accumulator
  transfers to the device once it exceeds the device's update granularity (as in aihwkit's
  ``MixedPrecisionCompound``: "with a threshold given by the granularity, pulses will be
  applied").
- *A write is one programming attempt.* The presets model programming as attempts aimed at a
  target conductance that land with ``programming_sigma(G)`` (:mod:`rrampaper.devices`), not as
  fixed increments, so a write of cell ``c`` is one open-loop attempt at its new target
  (:func:`rrampaper.devices.program_conductances`), costs exactly one pulse, and is not
  verified; the device keeps the error it landed with until the weight moves again.
- *Threshold* (ASSUMPTION, the granularity's analogue): cell ``c`` is a candidate when
  ``|G_target_new - G_target_written| > write_threshold * programming_sigma(G_target_new)``,
  with the technology's own programming sigma (the noise-scale multipliers do not move the
  threshold, so a noise sweep changes only the noise). A move smaller than the spread a write
  lands with is not worth a pulse; ``write_threshold=1`` by default.
- *Budget.* ``write_budget`` pulses for the whole run, the initial programming included when
  ``count_initial`` (default): with fewer pulses left than candidates, the largest moves (in
  siemens, over all tensors) are written first. The budget is never exceeded.
- *Range.* ``weight_scale`` maps ``weight_range * max|W_0|`` (the initial weights, per tensor or
  per channel) to the device's full differential range ``g_max - g_min`` (aihwkit
  ``weight_scaling_omega``); the shadow is clipped to that range after every step (the device
  saturates there).

The training loop calls::

    method = InSituWO("taox_post_verify_static", write_budget=100_000, seed=0)
    model = method.build(model)                # programs the initial weights (counted)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    for batch ...: loss.backward(); optimizer.step(); method.after_step(model)
    method.end_epoch(model, improved); ops = method.programming_ops(model)  # {"writes": n}
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor, nn

from rrampaper._checks import check_choice, check_positive_int, check_range
from rrampaper.baselines.device_weight import (
    WEIGHT_SCALES,
    DeviceWeight,
    attach,
    device_weights,
    programmable_weights,
    shadow_weight,
    weight_scale_s,
)
from rrampaper.baselines.transfer import (
    DEFAULT_ATOL_S,
    DEFAULT_MAX_PULSES,
    DEFAULT_TOLERANCE,
    IN_SITU_STREAM,
    ProgrammingReport,
    check_finite_weights,
    check_noise_scales,
    check_write_verify,
    program_tensor,
)
from rrampaper.devices.array import combined_sigma
from rrampaper.devices.programming import METHODS, program_conductances
from rrampaper.devices.scaled import ScaledNoise
from rrampaper.devices.streams import PROGRAM_STREAM, generator
from rrampaper.devices.technologies import Technology, technology
from rrampaper.topology.reads import READ_POLICIES


class InSituWeight(DeviceWeight):
    """A :class:`DeviceWeight` trained in situ: it also remembers the targets last written.

    Extra buffers: ``target_plus`` / ``target_minus`` (siemens, float64): the conductances the
    last write of each cell aimed at; ``weight_max`` (weight units, broadcastable): the largest
    representable ``|w|``, ``(g_max - g_min) / scale``.
    """

    def __init__(
        self,
        *args: Any,
        target_plus_s: Tensor,
        target_minus_s: Tensor,
        weight_max: Tensor,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, straight_through=True, **kwargs)
        device = self.g_plus.device
        self.register_buffer("target_plus", target_plus_s.detach().double().to(device).clone())
        self.register_buffer("target_minus", target_minus_s.detach().double().to(device).clone())
        self.register_buffer("weight_max", weight_max.detach().double().to(device).clone())


def cell_targets(
    w: Tensor, scale_s: Tensor, g_min_s: float, g_max_s: float
) -> tuple[Tensor, Tensor]:
    """Target conductances (siemens, float64) of ``G+`` and ``G-`` for weights ``w``."""
    scaled = w.double() * scale_s.double()
    plus = (g_min_s + scaled.clamp(min=0)).clamp(g_min_s, g_max_s)
    minus = (g_min_s + (-scaled).clamp(min=0)).clamp(g_min_s, g_max_s)
    return plus, minus


class InSituWO:
    """In-situ weight optimization on the device with a write budget (see the module docs).

    Parameters
    ----------
    technology:
        Preset name or :class:`Technology`.
    write_budget:
        Programming operations (pulses) allowed for the whole run, an integer >= 0, or ``None``
        (unlimited). Compare with what topology optimization used.
    seed:
        Seed of the initial programming, the writes and the reads.
    write_threshold:
        Write a cell only when its target moved by more than this many programming sigmas of
        the technology at the new target (>= 0; ASSUMPTION, default 1).
    weight_range:
        ``weight_range * max|W_0|`` maps to the full range ``g_max - g_min`` (> 0; default 1,
        aihwkit's ``weight_scaling_omega = 1`` mapping of the abs-max).
    weight_scale:
        ``"per_layer"`` or ``"per_channel"``
        (:func:`~rrampaper.baselines.device_weight.weight_scale_s`).
    initial_method:
        How the initial weights are programmed: ``"open_loop"`` (default: they are random anyway)
        or ``"write_verify"`` with ``tolerance``, ``atol_s``, ``max_pulses``.
    count_initial:
        Charge the initial programming to ``write_budget`` (default ``True``).
    read_noise_scale, programming_noise_scale:
        Multipliers (>= 0) of the technology's read and programming sigmas.
    train_reads, eval_reads:
        Read policies (``"advance"``, ``"fixed"``, ``"noiseless"``).
    exclude:
        Module names whose weights stay digital (and train as usual).
    """

    def __init__(
        self,
        technology: Technology | str = "taox_post_verify_static",
        write_budget: int | None = None,
        seed: int = 0,
        *,
        write_threshold: float = 1.0,
        weight_range: float = 1.0,
        weight_scale: str = "per_layer",
        initial_method: str = "open_loop",
        tolerance: float = DEFAULT_TOLERANCE,
        atol_s: float = DEFAULT_ATOL_S,
        max_pulses: int = DEFAULT_MAX_PULSES,
        count_initial: bool = True,
        read_noise_scale: float = 1.0,
        programming_noise_scale: float = 1.0,
        train_reads: str = "advance",
        eval_reads: str = "advance",
        exclude: Iterable[str] = (),
    ) -> None:
        self.technology = _technology(technology)
        check_noise_scales(read_noise_scale, programming_noise_scale)
        self.device = ScaledNoise(
            self.technology, read_scale=read_noise_scale, programming_scale=programming_noise_scale
        )
        self.write_budget = (
            None
            if write_budget is None
            else check_positive_int("write_budget", write_budget, minimum=0)
        )
        self.seed = check_positive_int("seed", seed, minimum=0)
        self.write_threshold = float(
            check_range("write_threshold", write_threshold, 0.0, math.inf, high_open=True)
        )
        self.weight_range = float(
            check_range("weight_range", weight_range, 0.0, math.inf, low_open=True, high_open=True)
        )
        self.weight_scale = check_choice("weight_scale", weight_scale, WEIGHT_SCALES)
        self.initial_method = check_choice("initial_method", initial_method, METHODS)
        self.tolerance, self.atol_s = tolerance, atol_s
        self.max_pulses = check_write_verify(tolerance, atol_s, max_pulses)
        self.count_initial = bool(count_initial)
        self.read_noise_scale = float(read_noise_scale)
        self.programming_noise_scale = float(programming_noise_scale)
        self.train_reads = check_choice("train_reads", train_reads, READ_POLICIES)
        self.eval_reads = check_choice("eval_reads", eval_reads, READ_POLICIES)
        self.exclude = tuple(exclude)
        self._generator = generator(self.seed, IN_SITU_STREAM)  # the writes
        self.names: list[str] = []
        self.initial_report: ProgrammingReport | None = None
        self.initial_pulses = 0
        self.write_pulses = 0
        self.pulses_by_layer: dict[str, int] = {}
        self.epochs = 0
        self._unreported = 0

    # ------------------------------------------------------------------ the loop's contract
    def build(self, model: nn.Module) -> nn.Module:
        """Program the initial weights of ``model`` onto the device (in place) and return it.

        The model's weight parameters stay the trainable (shadow) parameters, so an optimizer
        made before or after ``build`` holds them. Raises ``ValueError`` when the budget cannot
        pay for the initial programming (``count_initial``) or when called twice.
        """
        if self.names:
            raise ValueError("this InSituWO was already built; make one per model")
        targets = programmable_weights(model, self.exclude)
        if not targets:
            raise ValueError("model has no nn.Linear, nn.Conv or nn.RNN weight to program")
        check_finite_weights(targets)
        tech = self.technology
        span = tech.g_max_s - tech.g_min_s
        prepared = []
        for index, (name, module, attribute) in enumerate(targets):
            weight = getattr(module, attribute)
            scale = weight_scale_s(weight, span, self.weight_scale) / self.weight_range
            result = program_tensor(
                weight,
                self.device,
                self.initial_method,
                scale,
                generator(self.seed, IN_SITU_STREAM, index, PROGRAM_STREAM),
                tolerance=self.tolerance,
                atol_s=self.atol_s,
                max_pulses=self.max_pulses,
                idle="program",  # in-situ updates write both cells towards g_min + |w| targets
            )[0]
            prepared.append((index, name, module, attribute, weight, result))
        initial = sum(result.stats.pulses for *_, result in prepared)
        if self.count_initial and self.write_budget is not None and initial > self.write_budget:
            raise ValueError(
                f"write_budget={self.write_budget!r} pulses cannot pay for programming the initial "
                f"weights ({initial} pulses): valid range is >= {initial}, None (unlimited), or "
                "pass count_initial=False"
            )
        for index, name, module, attribute, weight, result in prepared:
            on = weight.device
            plus, minus = cell_targets(
                weight.detach().cpu(), result.scale, tech.g_min_s, tech.g_max_s
            )
            parametrization = InSituWeight(
                result.g_plus.to(on),
                result.g_minus.to(on),
                result.read_sigma.to(on),
                result.scale.to(on),
                seed=self.seed,
                key=(IN_SITU_STREAM, index),
                train_reads=self.train_reads,
                eval_reads=self.eval_reads,
                target_plus_s=plus,
                target_minus_s=minus,
                weight_max=span / result.scale,
            )
            attach(module, attribute, parametrization)
            self.names.append(name)
            self.pulses_by_layer[name] = result.stats.pulses
        self.initial_report = ProgrammingReport(
            technology=tech.name,
            method=self.initial_method,
            read_noise_scale=self.read_noise_scale,
            programming_noise_scale=self.programming_noise_scale,
            layers={name: result.stats for _, name, *_, result in prepared},
        )
        self.initial_pulses = initial
        self._unreported += initial
        return model

    @torch.no_grad()
    def after_step(self, model: nn.Module) -> int:
        """Write the cells whose targets moved past the threshold, within the budget.

        Clips every shadow weight to its representable range first. Returns the pulses spent.
        """
        layers = self._layers(model)
        tech = self.technology
        proposals = []  # (name, parametrization, cell, flat indices, new targets, |move|)
        for name, dw in layers:
            shadow = shadow_weight(model, name)
            limit = dw.weight_max.to(shadow.dtype)
            shadow.copy_(torch.maximum(torch.minimum(shadow, limit), -limit))
            plus, minus = cell_targets(shadow, dw.scale, tech.g_min_s, tech.g_max_s)
            for cell, new, old in (
                ("plus", plus, dw.target_plus),
                ("minus", minus, dw.target_minus),
            ):
                move = (new - old).abs()
                candidate = move > self.write_threshold * tech.programming_sigma(new)
                index = candidate.reshape(-1).nonzero().squeeze(1)
                if index.numel():
                    proposals.append(
                        (name, dw, cell, index, new.reshape(-1)[index], move.reshape(-1)[index])
                    )
        proposals = self._within_budget(proposals)
        spent = 0
        for name, dw, cell, index, new, _ in proposals:
            result = program_conductances(new.cpu(), self.device, "open_loop", seed=self._generator)
            on = dw.g_plus.device
            g = getattr(dw, f"g_{cell}").view(-1)
            g[index] = result.conductance_s.to(on, g.dtype)
            getattr(dw, f"target_{cell}").view(-1)[index] = new
            pair_plus, pair_minus = dw.g_plus.view(-1)[index], dw.g_minus.view(-1)[index]
            sigma = combined_sigma(self.device, pair_plus.double().cpu(), pair_minus.double().cpu())
            dw.read_sigma.view(-1)[index] = sigma.to(on, dw.read_sigma.dtype)
            self.pulses_by_layer[name] += result.total_pulses
            spent += result.total_pulses
        self.write_pulses += spent
        self._unreported += spent
        return spent

    def end_epoch(self, model: nn.Module, improved: bool) -> None:
        """Once per epoch. In-situ WO has no epoch schedule (its threshold is constant): this
        only counts epochs (:attr:`epochs`)."""
        self._layers(model)
        self.epochs += 1

    def programming_ops(self, model: nn.Module) -> dict[str, int]:
        """``{"writes": n}``: programming pulses since the previous call (the first call
        includes the initial programming, whether or not it is charged to the budget)."""
        self._layers(model)
        ops, self._unreported = self._unreported, 0
        return {"writes": ops}

    @property
    def pulses_spent(self) -> int:
        """Pulses charged to the budget so far."""
        return self.write_pulses + (self.initial_pulses if self.count_initial else 0)

    @property
    def budget_left(self) -> int | None:
        """Pulses left in ``write_budget`` (``None``: unlimited)."""
        if self.write_budget is None:
            return None
        return self.write_budget - self.pulses_spent

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """The counters and the write generator's state (the device state is in the model's
        ``state_dict``)."""
        return {
            "names": list(self.names),
            "initial_pulses": self.initial_pulses,
            "write_pulses": self.write_pulses,
            "pulses_by_layer": dict(self.pulses_by_layer),
            "epochs": self.epochs,
            "unreported": self._unreported,
            "generator": self._generator.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` (after :meth:`build` of a model whose ``state_dict`` is
        restored too)."""
        if list(state["names"]) != self.names:
            raise ValueError(f"state for tensors {state['names']} does not match {self.names}")
        self.initial_pulses = int(state["initial_pulses"])
        self.write_pulses = int(state["write_pulses"])
        self.pulses_by_layer = dict(state["pulses_by_layer"])
        self.epochs = int(state["epochs"])
        self._unreported = int(state["unreported"])
        self._generator.set_state(state["generator"])

    # ------------------------------------------------------------------ helpers
    def _layers(self, model: nn.Module) -> list[tuple[str, InSituWeight]]:
        if not self.names:
            raise ValueError("call build(model) first")
        layers = [(n, dw) for n, dw in device_weights(model) if isinstance(dw, InSituWeight)]
        if [n for n, _ in layers] != self.names:
            raise ValueError("model is not the one this InSituWO built")
        return layers

    def _within_budget(self, proposals: list) -> list:
        """Keep the largest moves when the candidates exceed the budget left."""
        left = self.budget_left
        total = sum(p[3].numel() for p in proposals)
        if left is None or total <= left:
            return proposals
        if left <= 0:
            return []
        moves = torch.cat([p[5].cpu() for p in proposals])
        keep = torch.zeros(total, dtype=torch.bool)
        keep[torch.topk(moves, left, sorted=False).indices] = True
        kept, start = [], 0
        for name, dw, cell, index, new, move in proposals:
            mask = keep[start : start + index.numel()].to(index.device)
            start += index.numel()
            if bool(mask.any()):
                kept.append((name, dw, cell, index[mask], new[mask], move[mask]))
        return kept

    def __repr__(self) -> str:
        return (
            f"InSituWO(technology={self.technology.name!r}, write_budget={self.write_budget}, "
            f"seed={self.seed}, write_threshold={self.write_threshold:g}, "
            f"pulses_spent={self.pulses_spent})"
        )


def _technology(tech: Technology | str) -> Technology:
    return technology(tech)
