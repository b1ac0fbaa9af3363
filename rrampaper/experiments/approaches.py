"""How each compared method turns a task's dense model into what is trained.

The training loop (:mod:`rrampaper.experiments.train`) calls the same hooks for every method:
``build(model)`` once, ``after_step(model)`` after every optimizer step, ``end_epoch(model,
improved)`` once per epoch (``improved``: the validation metric reached a new best) and
``programming_ops(model)`` for the device programming operations since the previous call.

=================  ===========================================================================
method             what is trained
=================  ===========================================================================
``software_TO``    scores of fixed software random weights (the task's initializer)
``hardware_TO``    scores of emulated chip conductances (:class:`rrampaper.devices.Chip`), a
                   fresh device read per batch, optional limit-size rule
``software_WO``    the weights themselves (conventional training; programmed onto the device
                   afterwards by :func:`rrampaper.baselines.program_model`)
``insitu_WO``      the weights, on the device model, with a write budget
                   (:class:`rrampaper.baselines.InSituWO`)
=================  ===========================================================================
"""

from __future__ import annotations

from typing import Any, Protocol

from torch import nn

from rrampaper import topology
from rrampaper.devices import Chip

METHODS = ("software_TO", "hardware_TO", "software_WO", "insitu_WO")


class Method(Protocol):
    """The hooks the training loop calls."""

    def build(self, model: nn.Module) -> nn.Module: ...

    def after_step(self, model: nn.Module) -> None: ...

    def end_epoch(self, model: nn.Module, improved: bool) -> None: ...

    def programming_ops(self, model: nn.Module) -> dict[str, int]: ...


class _Base:
    def after_step(self, model: nn.Module) -> None:
        """Nothing to do after an optimizer step."""

    def end_epoch(self, model: nn.Module, improved: bool) -> None:
        """Nothing to do at the end of an epoch."""

    def programming_ops(self, model: nn.Module) -> dict[str, int]:
        """No device programming."""
        return {"set": 0, "reset": 0}

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Nothing to restore."""


class SoftwareTO(_Base):
    """Topology optimization of software random weights (``weights``: initializer name)."""

    def __init__(self, weights: str, keep_ratio: float, seed: int) -> None:
        self.weights, self.keep_ratio, self.seed = weights, keep_ratio, seed

    def build(self, model: nn.Module) -> nn.Module:
        return topology.make_prunable(model, self.weights, keep_ratio=self.keep_ratio, seed=self.seed)

    def programming_ops(self, model: nn.Module) -> dict[str, int]:
        """Mask flips since the previous call, as the chip would see them (SET/RESET)."""
        counts = topology.programming_counts(model)
        topology.reset_programming_counts(model)
        return {kind: sum(c[kind] for c in counts.values()) for kind in ("set", "reset")}


class HardwareTO(SoftwareTO):
    """Topology optimization of chip conductances; the limit-size schedule steps whenever the
    validation metric improves (the official code steps on the test accuracy)."""

    def __init__(self, technology: str, keep_ratio: float, seed: int,
                 limit_size: tuple[float, float, int] | None) -> None:
        super().__init__("device", keep_ratio, seed)
        self.technology = technology
        self.schedule = topology.LimitSizeSchedule(*limit_size) if limit_size else None

    def build(self, model: nn.Module) -> nn.Module:
        chip = Chip(technology=self.technology, seed=self.seed)
        model = topology.make_prunable(model, chip, keep_ratio=self.keep_ratio,
                                       limit_size=self.schedule, seed=self.seed)
        self.n_macros = chip.n_macros
        return model

    def end_epoch(self, model: nn.Module, improved: bool) -> None:
        if improved and self.schedule is not None:
            self.schedule.step()

    def state_dict(self) -> dict[str, Any]:
        return {"schedule": self.schedule.state_dict()} if self.schedule else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.schedule is not None and "schedule" in state:
            self.schedule.load_state_dict(state["schedule"])


class SoftwareWO(_Base):
    """Conventional weight training of the dense model (PyTorch's default initialization)."""

    def build(self, model: nn.Module) -> nn.Module:
        return model
