"""Random streams of the device model: seed derivation and the one read-noise implementation.

Every sampler of the package takes a seed or a :class:`torch.Generator`
(:func:`as_generator`); independent, reproducible streams come from ``(seed, key, key, ...)``
(:func:`derive_seed`, :func:`generator`), the first key after the seed being a stream tag.

A read cycle ``i`` of allocation ``a`` on a chip seeded with ``s`` draws its noise from a
generator seeded with ``derive_seed(s, a, READ_STREAM, i)`` (:class:`ReadStream`). Reads are therefore random-access
(read 500 can be regenerated without reads 0..499) and no [reads x cells] tensor is ever held.
:class:`numpy.random.SeedSequence` hashes the key tuple, so nearby keys give unrelated streams.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from rrampaper._checks import check_positive_int

#: Stream tags: the first key after the seed says what the stream is for.
MACRO_STREAM = 1
READ_STREAM = 2
SIGN_STREAM = 3
PROGRAM_STREAM = 4
MEASURED_SIGN_STREAM = 5
# 6 is the fault map's tag (rrampaper.devices.faults.FAULT_STREAM)
RELAX_STREAM = 7


def derive_seed(seed: int, *keys: int) -> int:
    """A 63-bit seed for torch derived from ``seed`` and non-negative integer ``keys``."""
    check_positive_int("seed", seed, minimum=0)
    for k in keys:
        check_positive_int("key", k, minimum=0)
    words = np.random.SeedSequence([int(seed), *map(int, keys)]).generate_state(2, np.uint32)
    return (int(words[0]) << 31) ^ int(words[1])


def generator(seed: int, *keys: int, device: torch.device | str | None = None) -> torch.Generator:
    """A :class:`torch.Generator` on ``device`` seeded with :func:`derive_seed`."""
    gen = torch.Generator(device=torch.device(device) if device is not None else "cpu")
    gen.manual_seed(derive_seed(seed, *keys))
    return gen


def as_generator(seed: int | torch.Generator | None) -> torch.Generator:
    """Accept a seed or a generator (the convention of every sampler here); ``None`` is seed 0."""
    if isinstance(seed, torch.Generator):
        return seed
    gen = torch.Generator()
    gen.manual_seed(check_positive_int("seed", 0 if seed is None else seed, minimum=0))
    return gen


def check_read_index(index: Any) -> int:
    """A read index must be an integer >= 0."""
    return check_positive_int("index", index, minimum=0)


class ReadStream:
    """Cycle-to-cycle read noise: read ``i`` draws from a generator seeded with ``(seed, *key, i)``.

    The one implementation of device read noise: the chip's pairs
    (:class:`rrampaper.devices.DeviceWeights`, :class:`rrampaper.devices.CrossbarArray`) and
    the programmed weights of weight optimization
    (:class:`rrampaper.baselines.device_weight.DeviceWeight`) all read through :meth:`read`.
    Read ``i`` is ``mean + sigma * z_i`` with ``z_i`` standard normal from
    ``derive_seed(seed, *key, READ_STREAM, i)`` on the tensors' torch device; deterministic
    given (seed, key, ``i``, torch device), random access, never a ``[reads x cells]`` tensor.

    Examples
    --------
    >>> stream = ReadStream(0, 1)
    >>> g, sigma = torch.full((2, 3), 1e-5), torch.full((2, 3), 1e-7)
    >>> (first,) = stream.read(4, [g], [sigma])
    >>> torch.equal(first, stream.read(4, [g], [sigma])[0])
    True
    """

    def __init__(self, seed: int, *key: int) -> None:
        self.seed = seed
        self.key = key
        self._generators: dict[str, torch.Generator] = {}

    def generator(self, index: int, device: torch.device) -> torch.Generator:
        """The generator of read ``index`` on ``device`` (re-seeded, cached per device)."""
        name = str(device)
        gen = self._generators.get(name)
        if gen is None:
            gen = torch.Generator(device=device)
            self._generators[name] = gen
        gen.manual_seed(derive_seed(self.seed, *self.key, READ_STREAM, index))
        return gen

    def normal(self, index: int, shape: Sequence[int], device: torch.device, dtype) -> torch.Tensor:
        """Standard normal noise of read ``index``."""
        gen = self.generator(check_read_index(index), torch.device(device))
        return torch.randn(tuple(shape), generator=gen, device=device, dtype=dtype)

    def read(
        self, index: int, means: Sequence[torch.Tensor], sigmas: Sequence[torch.Tensor]
    ) -> list[torch.Tensor]:
        """Read ``index`` of ``len(means)`` quantities of one shape: ``means[k] + sigmas[k] * z[k]``.

        ``z`` is one draw of shape ``[len(means), *shape]`` in the dtype and on the torch device
        of ``means[0]`` (so reading ``[kept, pruned]`` together is not reading them one by one).
        ``sigmas[k]`` broadcasts to ``means[k]``; units are the caller's (siemens here).
        """
        if len(means) != len(sigmas) or not means:
            raise ValueError(f"read needs as many sigmas as means (>= 1), got {len(means)} and {len(sigmas)}")
        first = means[0]
        if any(m.shape != first.shape for m in means):
            raise ValueError(f"means of one read must share a shape, got {[tuple(m.shape) for m in means]}")
        z = self.normal(index, (len(means), *first.shape), first.device, first.dtype)
        return [torch.addcmul(m, s, z[k]) for k, (m, s) in enumerate(zip(means, sigmas, strict=True))]

    def read_states(
        self, index: int, means: Sequence[torch.Tensor], sigmas: Sequence[torch.Tensor]
    ) -> list[torch.Tensor]:
        """Read ``index`` of one quantity that can be in ``len(means)`` states (a pair kept or
        pruned): one standard normal ``z`` per element, shared by the states,
        ``means[k] + sigmas[k] * z``.

        A pair is in one state when it is read; the read noise realised at read ``i`` is the
        same whichever state that is, so one draw serves every state (half the random numbers
        of :meth:`read`, and the kept half equals a one-quantity :meth:`read` of the same key).
        """
        if len(means) != len(sigmas) or not means:
            raise ValueError(f"read needs as many sigmas as means (>= 1), got {len(means)} and {len(sigmas)}")
        first = means[0]
        if any(m.shape != first.shape for m in means):
            raise ValueError(f"means of one read must share a shape, got {[tuple(m.shape) for m in means]}")
        z = self.normal(index, first.shape, first.device, first.dtype)
        return [torch.addcmul(m, s, z) for m, s in zip(means, sigmas, strict=True)]

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_generators"] = {}  # cached generators are re-seeded at every read anyway
        return state
