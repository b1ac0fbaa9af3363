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
``hwa_WO``         the weights, with the device's programming and read noise injected in every
                   training forward and its ADC on the outputs (hardware-aware training,
                   :class:`rrampaper.baselines.HardwareAwareWO`); programmed afterwards
=================  ===========================================================================

Every compared approach is one :class:`Approach` of :data:`APPROACHES`, the single place that
names it: its key (for trained approaches the stored-run key, ``Experiment.method``), the label
and colour of every figure, its kind, how its method is built (or, for WO programmed onto the
device, which trained approach it programs and with which program) and the programming counters
it reports. The training loop, the CLI, the figures, the scaling benchmark and the notebooks read
it; adding an approach is one :func:`register` call (:func:`registered` for a temporary one).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from torch import nn

from rrampaper import baselines, topology
from rrampaper.devices import Chip
from rrampaper.errors import ParameterError
from rrampaper.tasks import Hyper, Task

#: An :class:`rrampaper.experiments.train.Experiment` (not imported: train imports this module).
Experiment = Any


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
                 limit_size: tuple[float, float, int] | None, train_reads: str = "advance") -> None:
        super().__init__("device", keep_ratio, seed)
        self.technology = technology
        self.schedule = topology.LimitSizeSchedule(*limit_size) if limit_size else None
        self.train_reads = train_reads

    def build(self, model: nn.Module) -> nn.Module:
        chip = Chip(technology=self.technology, seed=self.seed)
        model = topology.make_prunable(model, chip, keep_ratio=self.keep_ratio,
                                       limit_size=self.schedule, seed=self.seed,
                                       train_reads=self.train_reads)
        self.n_macros = chip.n_macros
        self.chip = chip  # its allocations relax with Chip.set_time (load_trained_model)
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


# --------------------------------------------------------------------------------------------
# The registry of approaches
# --------------------------------------------------------------------------------------------

#: What an approach is: ``"trained"`` (a run of :func:`rrampaper.experiments.train.run`, keyed
#: by ``Experiment.method``), ``"programmed"`` (a trained approach's selected model written onto
#: the device and evaluated, :func:`rrampaper.experiments.study.wo_on_device`) or
#: ``"benchmark"`` (only timed by :mod:`rrampaper.analysis.scaling`, never trained to a result).
KINDS: tuple[str, ...] = ("trained", "programmed", "benchmark")

#: ``(experiment, task, hyper) -> Method``: how a trained approach's method object is made.
Builder = Callable[[Experiment, Task, Hyper], Method]


@dataclass(frozen=True)
class Approach:
    """One compared approach (see :data:`APPROACHES`).

    Attributes
    ----------
    key:
        Its name; for a trained approach the ``Experiment.method`` string that keys stored runs.
    label:
        How every figure and table names it.
    colour:
        Its colour in every figure; ``None``: the next colour of the palette.
    kind:
        One of :data:`KINDS`.
    build:
        Trained approaches: makes the method object from ``(experiment, task, hyper)``;
        ``None`` for the others.
    source, program:
        Programmed approaches: the key of the trained approach whose models are programmed and
        the programming method (:data:`rrampaper.devices.programming.METHODS`).
    counters:
        The programming-operation counters it reports (keys of ``Method.programming_ops`` for a
        trained approach, e.g. ``"set"``, ``"reset"``, ``"writes"``; ``"pulses"`` for a
        programmed one).
    """

    key: str
    label: str
    colour: str | None
    kind: str
    build: Builder | None = None
    source: str | None = None
    program: str | None = None
    counters: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ParameterError(f"kind={self.kind!r} must be one of {KINDS}")
        if (self.kind == "trained") != (self.build is not None):
            raise ParameterError(f"approach {self.key!r}: a trained approach has a builder, "
                                 f"no other kind has one")
        if (self.kind == "programmed") != (self.source is not None and self.program is not None):
            raise ParameterError(f"approach {self.key!r}: a programmed approach names its source "
                                 f"and program, no other kind does")


def _software_to(exp: Experiment, task: Task, hyper: Hyper) -> Method:
    return SoftwareTO(task.software_weights, exp.keep_ratio, exp.seed)


def _hardware_to(exp: Experiment, task: Task, hyper: Hyper) -> Method:
    return HardwareTO(exp.technology, exp.keep_ratio, exp.seed,
                      hyper.limit_size if exp.limit_size else None, exp.train_reads)


def _software_wo(exp: Experiment, task: Task, hyper: Hyper) -> Method:
    return SoftwareWO()


def _insitu_wo(exp: Experiment, task: Task, hyper: Hyper) -> Method:
    # The initial programming of the WO weights is not charged to the budget (favours WO).
    return baselines.InSituWO(technology=exp.technology, write_budget=exp.write_budget,
                              seed=exp.seed, count_initial=False)


def _hwa_wo(exp: Experiment, task: Task, hyper: Hyper) -> Method:
    # Trained for the write-verify algorithm (uniform-window approximation of its spread).
    return baselines.HardwareAwareWO(technology=exp.technology, programming="write_verify",
                                     seed=exp.seed)


#: Every compared approach, by key, in the order the figures list them (colours: seaborn
#: "colorblind" palette; HWA WO write-verify a dark purple, "#6a3d9a" of ColorBrewer's Paired,
#: because the palette's light pink beside WO write-verify's pink could not be told apart).
APPROACHES: dict[str, Approach] = {a.key: a for a in (
    Approach("software_TO", "software TO", "#0173b2", "trained", _software_to,
             counters=("set", "reset")),
    Approach("hardware_TO", "hardware TO", "#029e73", "trained", _hardware_to,
             counters=("set", "reset")),
    Approach("software_WO", "software WO", "#de8f05", "trained", _software_wo,
             counters=("set", "reset")),
    Approach("insitu_WO", "in-situ WO", "#ca9161", "trained", _insitu_wo, counters=("writes",)),
    Approach("wo_post_verify", "WO post-verify", "#d55e00", "programmed", source="software_WO",
             program="post_verify", counters=("pulses",)),
    Approach("wo_open_loop", "WO open-loop", "#949494", "programmed", source="software_WO",
             program="open_loop", counters=("pulses",)),
    Approach("wo_write_verify", "WO write-verify", "#cc78bc", "programmed",
             source="software_WO", program="write_verify", counters=("pulses",)),
    Approach("hwa_WO", "hardware-aware WO", "#56b4e9", "trained", _hwa_wo,
             counters=("set", "reset")),
    Approach("hwa_wo_write_verify", "HWA WO write-verify", "#6a3d9a", "programmed",
             source="hwa_WO", program="write_verify", counters=("pulses",)),
    Approach("hwa_wo_open_loop", "HWA WO open-loop", "#ece133", "programmed",
             source="hwa_WO", program="open_loop", counters=("pulses",)),
    Approach("dense", "dense", None, "benchmark", counters=("writes",)),
)}


def register(approach: Approach) -> Approach:
    """Add ``approach`` to :data:`APPROACHES` (its key and label must be new)."""
    if approach.key in APPROACHES or approach.label in labels():
        raise ParameterError(f"an approach with key {approach.key!r} or label "
                             f"{approach.label!r} is already registered")
    APPROACHES[approach.key] = approach
    return approach


@contextlib.contextmanager
def registered(approach: Approach) -> Iterator[Approach]:
    """Register ``approach`` for the duration of a ``with`` block (tests, one-off studies)."""
    register(approach)
    try:
        yield approach
    finally:
        APPROACHES.pop(approach.key, None)


def get(key: str) -> Approach:
    """The approach named ``key``."""
    try:
        return APPROACHES[key]
    except KeyError:
        raise ParameterError(f"unknown approach {key!r}; registered: {list(APPROACHES)}") from None


def keys(kind: str | None = None) -> tuple[str, ...]:
    """Keys of the registered approaches (of one kind)."""
    return tuple(k for k, a in APPROACHES.items() if kind is None or a.kind == kind)


def labels(kind: str | None = None) -> tuple[str, ...]:
    """Figure labels of the registered approaches (of one kind)."""
    return tuple(APPROACHES[k].label for k in keys(kind))


def label(key: str) -> str:
    """The figure label of the approach ``key``."""
    return get(key).label


def by_label(text: str) -> Approach:
    """The approach whose figure label is ``text``."""
    for approach in APPROACHES.values():
        if approach.label == text:
            return approach
    raise ParameterError(f"no approach is labelled {text!r}; labels: {list(labels())}")


def colours() -> dict[str, str]:
    """``{label: colour}`` of every approach that has a fixed colour."""
    return {a.label: a.colour for a in APPROACHES.values() if a.colour is not None}


def trained_methods() -> tuple[str, ...]:
    """The ``Experiment.method`` values :func:`rrampaper.experiments.train.run` accepts."""
    return keys("trained")


#: The trained approaches registered at import (``Experiment.method`` of the stored runs);
#: :func:`trained_methods` also sees approaches registered later.
METHODS: tuple[str, ...] = trained_methods()
