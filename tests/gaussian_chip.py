"""A small test double of a resistive-memory chip with Gaussian conductances.

It implements the device protocol of :mod:`rrampaper.topology.weights` (``allocate(shape)``
returning arrays with ``read(index, device, dtype)`` and ``kept_scale``) and nothing else:

- kept difference: random sign x |N(mean, spread * mean)|, in siemens;
- pruned difference (off-state residual): N(0, residual), in siemens;
- read ``i``: the same array plus multiplicative cycle-to-cycle noise, drawn from a generator
  seeded by (allocation seed, ``i``), so a read index always gives the same values;
- every read index asked for is logged in ``reads``.
"""

from __future__ import annotations

import torch
from torch import Tensor


class GaussianArray:
    """One allocation: fixed kept/pruned differences plus per-read noise."""

    def __init__(
        self,
        shape: tuple[int, ...],
        seed: int,
        *,
        mean: float = 50e-6,
        spread: float = 0.3,
        residual: float = 2e-6,
        read_noise: float = 0.05,
    ) -> None:
        gen = torch.Generator().manual_seed(seed)
        sign = torch.randint(0, 2, shape, generator=gen) * 2 - 1
        self.kept = sign * (mean + spread * mean * torch.randn(shape, generator=gen)).abs()
        self.pruned = residual * torch.randn(shape, generator=gen)
        self.kept_scale = float(self.kept.abs().mean())
        self.read_noise = read_noise
        self.seed = seed
        self.reads: list[int | None] = []

    def read(
        self,
        index: int | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> tuple[Tensor, Tensor]:
        """``(kept, pruned)`` in siemens for read ``index`` (``None``: noiseless)."""
        self.reads.append(index)
        kept, pruned = self.kept, self.pruned
        if index is not None:
            gen = torch.Generator().manual_seed(self.seed * 1_000_003 + index)
            noise = torch.randn((2, *kept.shape), generator=gen).mul_(self.read_noise).add_(1.0)
            kept, pruned = kept * noise[0], pruned * noise[1]
        return kept.to(device=device, dtype=dtype), pruned.to(device=device, dtype=dtype)


class GaussianChip:
    """Hands out :class:`GaussianArray` allocations, one per ``allocate`` call, in order."""

    def __init__(self, seed: int = 0, **array_kwargs: float) -> None:
        self.seed = seed
        self.array_kwargs = array_kwargs
        self.allocations: list[GaussianArray] = []

    def allocate(self, shape: tuple[int, ...]) -> GaussianArray:
        array = GaussianArray(
            tuple(shape), self.seed * 7919 + len(self.allocations), **self.array_kwargs
        )
        self.allocations.append(array)
        return array
