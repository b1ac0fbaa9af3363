"""Where the fixed random weights come from: a software initializer or a device.

Software initializers (docs/paper.md#weight-initialization):

- ``"kaiming_normal"``: ``W ~ N(0, (gain / sqrt(fan_in))**2)`` with the ReLU gain ``sqrt(2)``;
  the official Fashion-MNIST software script uses it.
- ``"signed_constant"``: ``W = ±gain / sqrt(keep_ratio * fan_in)`` with a random sign (the sign of
  a kaiming-uniform draw in the official code, i.e. ±1 with probability 1/2); edge-popup's
  "signed Kaiming constant" (Ramanujan et al., CVPR 2020), used by the official spoken-digit and
  DRIVE software scripts. The ``keep_ratio`` factor keeps the variance of a layer's output the
  same after pruning.
- ``"keep"``: the module's own weights as they are (e.g. PyTorch's default initialization, or a
  pretrained network to prune).

Hardware mode takes any *device*: an object with ``allocate(shape) -> array`` whose arrays read
signed conductance differences (the :class:`WeightDevice`/:class:`WeightArray` protocols below;
:class:`rrampaper.devices.Chip` implements them).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import torch
from torch import Tensor

RELU_GAIN: float = math.sqrt(2.0)
"""Kaiming gain of ReLU, ``torch.nn.init.calculate_gain("relu")``."""


@runtime_checkable
class WeightArray(Protocol):
    """One allocated weight tensor on a device: a differential pair per weight.

    Attributes
    ----------
    kept_scale:
        Mean ``|kept|`` in siemens (over cells and reads), used to scale conductances to weights.
    """

    kept_scale: float

    def read(
        self,
        index: int | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> tuple[Tensor, Tensor]:
        """Return ``(kept, pruned)``: the signed conductance difference (siemens) of every pair
        when kept (formed cell minus off-state cell) and when pruned (the off-state residual),
        both of the allocated shape. ``index=None`` is the noiseless array; ``index=i`` is read
        cycle ``i``: the same array every time plus cycle-to-cycle noise, deterministic in ``i``.
        """
        ...


@runtime_checkable
class WeightDevice(Protocol):
    """Anything that hands out weight arrays: one ``allocate`` call per weight tensor."""

    def allocate(self, shape: tuple[int, ...]) -> WeightArray:
        """Reserve pairs for a tensor of ``shape`` and return the array that reads them."""
        ...


def fan_in(shape: Sequence[int]) -> int:
    """Inputs per output of a weight tensor: ``shape[1] * prod(shape[2:])`` (PyTorch's rule)."""
    if len(shape) < 2:
        raise ValueError(f"a weight tensor needs at least 2 dimensions, got shape {tuple(shape)}")
    return int(shape[1]) * math.prod(int(s) for s in shape[2:])


def signed_kaiming_std(shape: Sequence[int], keep_ratio: float, gain: float = RELU_GAIN) -> float:
    """Magnitude of the signed Kaiming constant: ``gain / sqrt(keep_ratio * fan_in)``."""
    return gain / math.sqrt(keep_ratio * fan_in(shape))


def kaiming_normal(
    shape: Sequence[int], *, keep_ratio: float, gain: float, generator: torch.Generator | None
) -> Tensor:
    """Gaussian weights, ``std = gain / sqrt(fan_in)`` (``keep_ratio`` is not used)."""
    del keep_ratio
    std = gain / math.sqrt(fan_in(shape))
    return torch.randn(tuple(shape), generator=generator).mul_(std)


def signed_constant(
    shape: Sequence[int], *, keep_ratio: float, gain: float, generator: torch.Generator | None
) -> Tensor:
    """Weights ``±gain / sqrt(keep_ratio * fan_in)``, each sign ±1 with probability 1/2."""
    sign = torch.randint(0, 2, tuple(shape), generator=generator).mul_(2).sub_(1)
    return sign.to(torch.float32).mul_(signed_kaiming_std(shape, keep_ratio, gain))


SoftwareInit = Callable[..., Tensor]

SOFTWARE_INITIALIZERS: dict[str, SoftwareInit] = {
    "kaiming_normal": kaiming_normal,
    "signed_constant": signed_constant,
}
"""Named software initializers; ``make_prunable(weights=name)`` also accepts ``"keep"``."""


def is_device(weights: object) -> bool:
    """Whether ``weights`` is a device (has a callable ``allocate``) rather than a name."""
    return callable(getattr(weights, "allocate", None))
