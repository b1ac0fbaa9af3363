"""A chip of 512 x 512 macros as a weight source for topology optimization.

:class:`Chip` hands out :class:`DeviceWeights`: consecutive differential pairs of its macros,
opening a new macro whenever the current one is full (a network larger than one macro tiles
onto several). A macro of ``macro_rows x macro_cols`` cells holds
``macro_rows * macro_cols // 2`` pairs, laid out as ``[macro_rows, macro_cols // 2]``
(pair ``(r, c)`` uses cells ``(r, 2c)`` and ``(r, 2c + 1)``); pairs are taken in row-major
order. Every macro is sampled lazily from ``(chip seed, macro index)``, so the weights an
allocation gets depend only on the chip seed and its position, never on sampling order.

:meth:`DeviceWeights.read` is what the topology-optimization layers call once per batch:

>>> chip = Chip("taox_40nm", seed=0, macro_rows=16, macro_cols=16)
>>> w = chip.allocate((10, 20))           # 200 pairs: one full macro (128) + part of a second
>>> chip.n_macros
2
>>> kept, pruned = w.read(0)              # read cycle 0, siemens, shape (10, 20)
>>> kept.shape, kept.dtype
(torch.Size([10, 20]), torch.float32)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from rrampaper._checks import check_positive_int
from rrampaper.devices.array import CrossbarArray, combined_sigma
from rrampaper.devices.streams import MACRO_STREAM, ReadStream, check_read_index, derive_seed
from rrampaper.devices.technologies import Technology, technology


def check_shape(shape: Any) -> tuple[int, ...]:
    """A weight shape: an int or a sequence of positive ints."""
    if isinstance(shape, int):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise ValueError(f"shape={shape!r} must be an int or a sequence of ints") from None
    if not dims:
        raise ValueError("shape=() is empty; give at least one dimension")
    return tuple(check_positive_int("shape", d) for d in dims)


class DeviceWeights:
    """Kept and pruned weights of an allocation of differential pairs, read per batch.

    Attributes
    ----------
    shape, numel:
        The weight shape and number of pairs.
    sign:
        ``float32`` tensor of +-1 (which cell of the pair is the random one).
    kept_scale:
        Mean ``|kept|`` over the allocation in siemens (noiseless), to rescale conductances to
        a Kaiming magnitude.
    device:
        Where the cached tensors live.
    """

    def __init__(
        self,
        shape: tuple[int, ...],
        kept: torch.Tensor,
        pruned: torch.Tensor,
        sigma_kept: torch.Tensor,
        sigma_pruned: torch.Tensor,
        sign: torch.Tensor,
        stream: ReadStream,
        segments: Sequence[tuple[CrossbarArray, int, int]] = (),
    ) -> None:
        self.shape = tuple(shape)
        self.numel = math.prod(self.shape)
        self._kept = kept.reshape(self.shape).float()
        self._pruned = pruned.reshape(self.shape).float()
        self._sigma_kept = sigma_kept.reshape(self.shape).float()
        self._sigma_pruned = sigma_pruned.reshape(self.shape).float()
        self.sign = sign.reshape(self.shape).float()
        self.kept_scale = float(self._kept.abs().double().mean())
        self._stream = stream
        self._segments = list(segments)
        self.set_count = 0
        self.reset_count = 0

    @property
    def device(self) -> torch.device:
        """Device holding the cached tensors."""
        return self._kept.device

    def to(self, device: torch.device | str) -> DeviceWeights:
        """Move the cached tensors to ``device`` (in place); returns ``self``."""
        device = torch.device(device)
        for name in ("_kept", "_pruned", "_sigma_kept", "_sigma_pruned", "sign"):
            setattr(self, name, getattr(self, name).to(device))
        return self

    def read(
        self,
        index: int | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Signed (kept, pruned) conductance differences in siemens, tensors of ``shape``.

        Parameters
        ----------
        index:
            ``None``: the noiseless device-to-device values. ``i >= 0``: read cycle ``i`` with
            cycle-to-cycle read noise, deterministic given (chip seed, allocation, ``i``) and
            the device it is drawn on.
        device:
            Where to return the tensors; if it differs from :attr:`device` the cache moves
            there first (so the next call is cheap).
        dtype:
            Floating dtype of the result.
        """
        if device is not None and torch.device(device) != self.device:
            self.to(device)
        if index is None:
            return self._kept.to(dtype), self._pruned.to(dtype)
        kept, pruned = self._stream.read(
            check_read_index(index), [self._kept, self._pruned], [self._sigma_kept, self._sigma_pruned]
        )
        return kept.to(dtype), pruned.to(dtype)

    def apply_mask(self, keep: torch.Tensor) -> tuple[int, int]:
        """SET/RESET the pairs so that ``keep`` (bool, ``shape``) are kept; returns the counts.

        Only pairs whose state changes are counted (in the chip's macros and here).
        """
        keep = torch.as_tensor(keep, dtype=torch.bool)
        if tuple(keep.shape) != self.shape:
            raise ValueError(f"keep has shape {tuple(keep.shape)}, expected {self.shape}")
        flat = keep.reshape(-1).cpu()
        n_set = n_reset = 0
        offset = 0
        for macro, start, stop in self._segments:
            s, r = macro.apply_mask_flat(start, flat[offset : offset + stop - start])
            n_set, n_reset, offset = n_set + s, n_reset + r, offset + stop - start
        self.set_count += n_set
        self.reset_count += n_reset
        return n_set, n_reset

    def __repr__(self) -> str:
        return (
            f"DeviceWeights(shape={self.shape}, kept_scale={self.kept_scale:.3g} S, "
            f"device={self.device})"
        )


class Chip:
    """A chip of ``macro_rows x macro_cols``-cell macros of one technology.

    Parameters
    ----------
    technology:
        Preset name (see :data:`~rrampaper.devices.TECHNOLOGIES`) or a :class:`Technology`.
    seed:
        Seed of every macro's device-to-device sample and of every read.
    macro_rows, macro_cols:
        Cells per macro (the paper's macro is 512 x 512 = 256K cells); ``macro_cols`` even.
    """

    def __init__(
        self,
        technology: str | Technology = "taox_40nm",
        seed: int = 0,
        macro_rows: int = 512,
        macro_cols: int = 512,
    ) -> None:
        self.technology = _technology(technology)
        self.seed = check_positive_int("seed", seed, minimum=0)
        self.macro_rows = check_positive_int("macro_rows", macro_rows)
        self.macro_cols = check_positive_int("macro_cols", macro_cols, minimum=2)
        if self.macro_cols % 2:
            raise ValueError(f"macro_cols={macro_cols!r} must be even (two cells per pair)")
        self.pairs_per_macro = self.macro_rows * self.macro_cols // 2
        self.allocations: list[DeviceWeights] = []
        self._macros: dict[int, CrossbarArray] = {}
        self._next_pair = 0

    @property
    def n_macros(self) -> int:
        """Macros opened by the allocations so far."""
        return math.ceil(self._next_pair / self.pairs_per_macro)

    @property
    def pairs_allocated(self) -> int:
        """Pairs handed out so far."""
        return self._next_pair

    def macro(self, index: int) -> CrossbarArray:
        """Macro ``index`` as a :class:`CrossbarArray` of pairs (sampled on first use)."""
        index = check_positive_int("index", index, minimum=0)
        if index not in self._macros:
            self._macros[index] = CrossbarArray(
                self.macro_rows,
                self.macro_cols // 2,
                self.technology,
                seed=derive_seed(self.seed, MACRO_STREAM, index),
            )
        return self._macros[index]

    def allocate(self, shape: int | Sequence[int], device: torch.device | str | None = None) -> DeviceWeights:
        """The next ``prod(shape)`` free pairs as :class:`DeviceWeights` of ``shape``."""
        shape = check_shape(shape)
        numel = math.prod(shape)
        start, stop = self._next_pair, self._next_pair + numel
        segments = []
        pos = start
        while pos < stop:
            m, offset = divmod(pos, self.pairs_per_macro)
            take = min(stop - pos, self.pairs_per_macro - offset)
            segments.append((self.macro(m), offset, offset + take))
            pos += take
        tech = self.technology
        parts: dict[str, list[torch.Tensor]] = {k: [] for k in ("kept", "pruned", "sk", "sp", "sign")}
        for macro, a, b in segments:
            g_f = macro.g_formed.reshape(-1)[a:b].double()
            g_r = macro.g_reset.reshape(-1)[a:b].double()
            g_o = macro.g_off.reshape(-1)[a:b].double()
            sign = macro.sign.reshape(-1)[a:b].double()
            parts["kept"].append(sign * (g_f - g_o))
            parts["pruned"].append(sign * (g_r - g_o))
            parts["sk"].append(combined_sigma(tech, g_f, g_o))
            parts["sp"].append(combined_sigma(tech, g_r, g_o))
            parts["sign"].append(sign)
        cat = {k: torch.cat(v) for k, v in parts.items()}
        weights = DeviceWeights(
            shape,
            cat["kept"],
            cat["pruned"],
            cat["sk"],
            cat["sp"],
            cat["sign"],
            ReadStream(self.seed, len(self.allocations)),
            segments,
        )
        self._next_pair = stop
        self.allocations.append(weights)
        if device is not None:
            weights.to(device)
        return weights

    @property
    def set_count(self) -> int:
        """SET operations performed on all macros."""
        return sum(int(m.set_count.sum()) for m in self._macros.values())

    @property
    def reset_count(self) -> int:
        """RESET operations performed on all macros."""
        return sum(int(m.reset_count.sum()) for m in self._macros.values())

    def __repr__(self) -> str:
        return (
            f"Chip(technology={self.technology.name!r}, seed={self.seed}, "
            f"macro={self.macro_rows}x{self.macro_cols}, n_macros={self.n_macros}, "
            f"pairs_allocated={self.pairs_allocated})"
        )


def _technology(tech: str | Technology) -> Technology:
    return technology(tech)
