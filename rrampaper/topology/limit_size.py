"""The "limit size" rule of hardware TO: small score changes do not reprogram a cell.

Every mask change of a differential pair costs a programming operation on the chip (a RESET when
a kept pair is pruned, a SET when a pruned pair is reinstated). The paper's hardware scripts
(docs/paper.md#limit-size-rule) therefore let a weight change state only if the magnitude of its
score moved by at least a relative threshold since the previous mask::

    d = | |S_old| - |S| | / |S_old|
    M = where(d < threshold, M_old, topk(|S|))

(computed here as ``| |S_old| - |S| | < threshold * |S_old|`` so that ``S_old = 0`` needs no
division: such a weight may always change). The rule is skipped for the very first mask.

Consequence: the mask is no longer an exact top-k, so the **realized kept fraction drifts from
keep_ratio** (weights that "should" flip are held back on either side, unevenly). Read it with
:func:`rrampaper.topology.realized_density`.

The threshold follows :class:`LimitSizeSchedule`: it starts at ``start`` and drops by
``(start - stop) / steps`` each time the training loop calls :meth:`LimitSizeSchedule.step`, which
it does when the *validation* metric improves (the official code uses a new best *test* accuracy,
ties included). Unlike the official code the threshold is clamped at ``stop``.
Official values: Fashion-MNIST 0.01 -> 0.007 in 15 steps; spoken digit 0.009 -> 0.007 in 10 steps;
DRIVE 0.001 constant.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from rrampaper._checks import check_positive_int, check_range


class LimitSizeSchedule:
    """Relative threshold of the limit-size rule, decaying in equal decrements, clamped at stop.

    Parameters
    ----------
    start:
        Threshold before any improvement (dimensionless, relative change of ``|S|``), >= 0.
    stop:
        Smallest threshold, ``0 <= stop <= start``; reached after ``steps`` calls to :meth:`step`.
    steps:
        Number of equal decrements from ``start`` to ``stop`` (>= 1).

    Examples
    --------
    >>> schedule = LimitSizeSchedule(0.01, 0.007, 15)
    >>> schedule.value
    0.01
    >>> for _ in range(20):  # 20 improvements of the validation metric
    ...     _ = schedule.step()
    >>> schedule.value  # clamped at stop, not 0.01 - 20 * 0.0002 = 0.006
    0.007
    """

    def __init__(self, start: float, stop: float, steps: int) -> None:
        self.start = float(check_range("start", start, 0.0))
        self.stop = float(check_range("stop", stop, 0.0, self.start))
        self.steps = check_positive_int("steps", steps)
        self.taken = 0

    @classmethod
    def constant(cls, threshold: float) -> LimitSizeSchedule:
        """A schedule that stays at ``threshold`` whatever :meth:`step` is called."""
        return cls(threshold, threshold, 1)

    @property
    def value(self) -> float:
        """Current threshold: ``start - min(taken, steps) * (start - stop) / steps``."""
        done = min(self.taken, self.steps)
        if done == self.steps:
            return self.stop
        return self.start - done * (self.start - self.stop) / self.steps

    def step(self) -> float:
        """Record one improvement of the validation metric; return the new threshold."""
        self.taken += 1
        return self.value

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: bounds, number of steps and steps taken."""
        return {"start": self.start, "stop": self.stop, "steps": self.steps, "taken": self.taken}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state from :meth:`state_dict`."""
        restored = LimitSizeSchedule(state["start"], state["stop"], state["steps"])
        self.start, self.stop, self.steps = restored.start, restored.stop, restored.steps
        self.taken = check_positive_int("taken", state["taken"], minimum=0)

    def __repr__(self) -> str:
        return (
            f"LimitSizeSchedule(start={self.start:g}, stop={self.stop:g}, steps={self.steps}, "
            f"taken={self.taken}, value={self.value:g})"
        )


def apply_limit_size(
    new_mask: Tensor, old_mask: Tensor, magnitude: Tensor, old_magnitude: Tensor, threshold: float
) -> Tensor:
    """Keep ``old_mask`` wherever ``|magnitude - old_magnitude| < threshold * old_magnitude``.

    Parameters
    ----------
    new_mask, old_mask:
        Masks (the fresh top-k one and the one programmed now), same shape and dtype (bool, or
        0./1. floats).
    magnitude, old_magnitude:
        ``|S|`` now and at the previous mask, same shape.
    threshold:
        Relative threshold (>= 0); 0 disables the rule.
    """
    held = (magnitude - old_magnitude).abs_() < old_magnitude * threshold
    if new_mask.dtype == torch.bool:
        return torch.where(held, old_mask, new_mask)
    return torch.addcmul(new_mask, held.to(new_mask.dtype), old_mask - new_mask)
