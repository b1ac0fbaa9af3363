"""A chip of 512 x 512 macros as a weight source for topology optimization.

:class:`Chip` hands out :class:`DeviceWeights`: consecutive differential pairs of its macros,
opening a new macro whenever the current one is full (a network larger than one macro tiles
onto several). A macro of ``macro_rows x macro_cols`` cells holds
``macro_rows * macro_cols // 2`` pairs, laid out as ``[macro_rows, macro_cols // 2]``
(pair ``(r, c)`` uses cells ``(r, 2c)`` and ``(r, 2c + 1)``); pairs are taken in row-major
order. Every macro is sampled lazily from ``(chip seed, macro index)``, so the weights an
allocation gets depend only on the chip seed and its position, never on sampling order.

:meth:`DeviceWeights.read` is what the topology-optimization layers call once per batch:

>>> chip = Chip("taox_post_verify_static", seed=0, macro_rows=16, macro_cols=16)
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
from rrampaper.devices.faults import fault_map
from rrampaper.devices.readout import attach_output_adc, ir_drop_factor
from rrampaper.devices.relaxation import T_REFERENCE_S, check_time
from rrampaper.devices.streams import (
    MACRO_STREAM,
    RELAX_STREAM,
    ReadStream,
    check_read_index,
    derive_seed,
    generator,
)
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
        cells: torch.Tensor,
        sign: torch.Tensor,
        technology: Technology,
        stream: ReadStream,
        segments: Sequence[tuple[CrossbarArray, int, int]] = (),
        fault_codes: torch.Tensor | None = None,
        relax_seed: int = 0,
    ) -> None:
        self.shape = tuple(shape)
        self.numel = math.prod(self.shape)
        self.technology = technology
        #: Conductances (S, float64, CPU) ``[3, numel]`` of every pair's random cell when formed,
        #: the same cell RESET, and the off-reference cell, at the 1 s state (IR drop applied).
        self.cells = cells.reshape(3, self.numel).double()
        self.sign = sign.reshape(self.shape).float()
        #: Fault codes ``[*shape, 2]`` of the cells on the positive and negative column.
        self.fault_codes = (
            fault_codes.reshape(*self.shape, 2) if fault_codes is not None
            else torch.zeros(*self.shape, 2, dtype=torch.int8)
        )
        self._relax_seed = relax_seed
        self.t_s = T_REFERENCE_S
        self._set_cells(self.cells)
        self.kept_scale = float(self._kept.abs().double().mean())
        self._stream = stream
        self._segments = list(segments)
        self.set_count = 0
        self.reset_count = 0

    def _set_cells(self, cells: torch.Tensor) -> None:
        """Cache the signed kept/pruned weights and read sigmas of ``cells`` (``[3, numel]``)."""
        device = self._kept.device if hasattr(self, "_kept") else torch.device("cpu")
        g_f, g_r, g_o = cells
        sign = self.sign.reshape(-1).double().cpu()
        tech = self.technology
        values = {
            "_kept": sign * (g_f - g_o),
            "_pruned": sign * (g_r - g_o),
            "_sigma_kept": combined_sigma(tech, g_f, g_o),
            "_sigma_pruned": combined_sigma(tech, g_r, g_o),
        }
        for name, value in values.items():
            setattr(self, name, value.reshape(self.shape).float().to(device))

    def set_time(self, t_s: float) -> DeviceWeights:
        """Let the chip relax to ``t_s`` seconds after its last programming (in place).

        Every cell of the allocation (formed, RESET and off-reference alike: the literature
        gives no separate law for formed states) follows the technology's relaxation law from
        the 1 s state, with one standard normal per cell drawn from ``(chip seed, RELAX_STREAM,
        allocation)``: the same chip relaxes the same way, and a later time only adds to an
        earlier one. Faulty cells and never-formed (pristine) cells do not move. ``t_s <= 1`` restores the 1 s state. The scale
        to weights (:attr:`kept_scale`) is left as calibrated at 1 s, as the periphery would.
        """
        t_s = check_time(t_s)
        cells = self.cells
        if t_s > T_REFERENCE_S and self.technology.relaxation.name != "none":
            z = torch.randn(cells.shape, generator=generator(self._relax_seed), dtype=torch.float64)
            still = self._faulty_cells()
            pristine = cells[0] == cells[1]  # never formed: no filament to relax
            still[0] |= pristine
            still[1] |= pristine
            cells = self.technology.relax(cells, t_s, z, frozen=still)
        self.t_s = t_s
        self._set_cells(cells)
        return self

    def _faulty_cells(self) -> torch.Tensor:
        """``[3, numel]`` bool: which of (formed, reset, off) sits in a faulty cell."""
        codes = self.fault_codes.reshape(-1, 2)
        positive = self.sign.reshape(-1).cpu() > 0
        random_bad = torch.where(positive, codes[:, 0], codes[:, 1]) != 0
        off_bad = torch.where(positive, codes[:, 1], codes[:, 0]) != 0
        return torch.stack([random_bad, random_bad, off_bad])

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
        kept, pruned = self._stream.read_states(
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
        technology: str | Technology = "taox_post_verify_static",
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
        #: Faulty cells among the pairs taken by :meth:`allocate_fault_codes`.
        self.faulty_cells_allocated = 0

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

    def _spans(self, numel: int) -> list[tuple[int, int, int]]:
        """``(macro index, first pair, stop pair)`` of the next ``numel`` free pairs."""
        spans = []
        pos, stop = self._next_pair, self._next_pair + numel
        while pos < stop:
            m, offset = divmod(pos, self.pairs_per_macro)
            take = min(stop - pos, self.pairs_per_macro - offset)
            spans.append((m, offset, offset + take))
            pos += take
        return spans

    def allocate_fault_codes(self, shape: int | Sequence[int]) -> torch.Tensor:
        """Fault codes ``[*shape, 2]`` (positive-column cell, negative-column cell) of the next
        ``prod(shape)`` free pairs, which are then taken, as :meth:`allocate` would take them.

        This is how weight optimization meets the chip's faults: programming a model tensor by
        tensor onto ``Chip(technology, seed)`` in module order puts each weight on the same
        physical pair (and faulty cells) as topology optimization's :meth:`allocate` of the same
        shapes. Only the fault map is drawn, not the macros' conductances.
        """
        shape = check_shape(shape)
        numel = math.prod(shape)
        parts = []
        for m, a, b in self._spans(numel):
            if m in self._macros:
                codes = self._macros[m].fault_codes
            else:
                codes = fault_map((self.macro_rows, self.macro_cols // 2, 2),
                                  self.technology.faults, derive_seed(self.seed, MACRO_STREAM, m))
            parts.append(codes.reshape(-1, 2)[a:b])
        self._next_pair += numel
        self.faulty_cells_allocated += sum(int((p != 0).sum()) for p in parts)
        return torch.cat(parts).reshape(*shape, 2)

    def allocate(self, shape: int | Sequence[int], device: torch.device | str | None = None) -> DeviceWeights:
        """The next ``prod(shape)`` free pairs as :class:`DeviceWeights` of ``shape``."""
        shape = check_shape(shape)
        numel = math.prod(shape)
        stop = self._next_pair + numel
        segments = [(self.macro(m), a, b) for m, a, b in self._spans(numel)]
        tech = self.technology
        cells, signs, codes = [], [], []
        for macro, a, b in segments:
            cells.append(torch.stack([
                macro.g_formed.reshape(-1)[a:b].double(),
                macro.g_reset.reshape(-1)[a:b].double(),
                macro.g_off.reshape(-1)[a:b].double(),
            ]))
            signs.append(macro.sign.reshape(-1)[a:b].double())
            codes.append(macro.fault_codes.reshape(-1, 2)[a:b])
        cell_tensor = torch.cat(cells, dim=1)
        if tech.ir_wire_ohm > 0:
            cell_tensor = torch.stack([
                ir_drop_factor(shape, int(tech.ir_tile_rows), int(tech.ir_tile_cols),
                               tech.ir_wire_ohm, g.reshape(shape)).reshape(-1)
                for g in cell_tensor
            ])
        index = len(self.allocations)
        weights = DeviceWeights(
            shape,
            cell_tensor,
            torch.cat(signs),
            tech,
            ReadStream(self.seed, index),
            segments,
            fault_codes=torch.cat(codes),
            relax_seed=derive_seed(self.seed, RELAX_STREAM, index),
        )
        self._next_pair = stop
        self.allocations.append(weights)
        if device is not None:
            weights.to(device)
        return weights

    def set_time(self, t_s: float) -> Chip:
        """Every allocation relaxed to ``t_s`` seconds after programming
        (:meth:`DeviceWeights.set_time`); returns ``self``."""
        for weights in self.allocations:
            weights.set_time(t_s)
        return self

    def attach_readout(
        self, model: torch.nn.Module, layer_types: tuple[type, ...] | None = None
    ) -> torch.nn.Module:
        """Read every analog matrix-vector product of ``model`` (its layers of ``layer_types``;
        default: linear and convolution layers) through the technology's output ADC
        (``adc_bits``, ``adc_headroom``; nothing when ``adc_bits`` is 0). Returns ``model``."""
        bits = int(self.technology.adc_bits)
        kwargs = {} if layer_types is None else {"layer_types": layer_types}
        attach_output_adc(model, bits or None, headroom=self.technology.adc_headroom, **kwargs)
        return model

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
