"""Seed derivation: independent, reproducible random streams from (seed, key, key, ...).

A read cycle ``i`` of allocation ``a`` on a chip seeded with ``s`` draws its noise from a
generator seeded with ``derive_seed(s, READ_STREAM, a, i)``. Reads are therefore random-access
(read 500 can be regenerated without reads 0..499) and no [reads x cells] tensor is ever held.
:class:`numpy.random.SeedSequence` hashes the key tuple, so nearby keys give unrelated streams.
"""

from __future__ import annotations

import numpy as np
import torch

from rrampaper._checks import check_positive_int

#: Stream tags: the first key after the seed says what the stream is for.
MACRO_STREAM = 1
READ_STREAM = 2
SIGN_STREAM = 3
PROGRAM_STREAM = 4
MEASURED_SIGN_STREAM = 5


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
