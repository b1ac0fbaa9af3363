"""A crossbar of differential pairs: random weights, pruning, reads, programming, xarray export.

Each weight of the paper's network is a differential pair of two 1T1R cells
(docs/paper.md#measured-data-format): one cell is randomly electroformed, the other is an
off-state reference, and a random sign says which of the two sits on the positive column. So,
in siemens,

- a **kept** edge weighs ``sign * (G_formed - G_off)``;
- a **pruned** edge (the formed cell RESET) weighs ``sign * (G_reset - G_off)``: a small
  residual, not an exact zero (docs/devices.md#differential-pairs);
- **SET** reinstates a pruned pair, **RESET** prunes a kept one; both are counted per pair,
  and only operations that change a pair's state count.

Reads add cycle-to-cycle noise to the device-to-device values. Read ``i`` is generated on
demand from a generator seeded with ``(seed, i)``, so 1,000 reads of a 512 x 512 array never
hold a [reads x cells] tensor, any read can be regenerated alone, and runs are reproducible.
The noise of both cells of a pair is combined, ``sigma_kept = sqrt(sigma(G_formed)^2 +
sigma(G_off)^2)`` (same law as reading both cells), and one standard normal per pair and read
serves both states (``kept + sigma_kept z``, ``pruned + sigma_pruned z``: the pair is read in
one state); :meth:`CrossbarArray.read_cells` returns independent cell-level reads instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
import xarray as xr

from rrampaper import __version__
from rrampaper._checks import check_positive_int
from rrampaper.devices.faults import OK, apply_faults, fault_map
from rrampaper.devices.programming import ProgramResult, program_conductances, program_weights
from rrampaper.devices.streams import SIGN_STREAM, ReadStream, check_read_index, generator
from rrampaper.devices.technologies import Technology, technology


def combined_sigma(tech: Technology, g_a: torch.Tensor, g_b: torch.Tensor) -> torch.Tensor:
    """Read-noise sigma (S) of the difference of two cells read independently."""
    return torch.sqrt(tech.read_sigma(g_a) ** 2 + tech.read_sigma(g_b) ** 2)


class CrossbarArray:
    """``rows x cols`` differential pairs of technology ``tech``, sampled once from ``seed``.

    Parameters
    ----------
    rows, cols:
        Number of pairs along each axis (a 512 x 512-cell macro holds 512 x 256 pairs).
    tech:
        A :class:`Technology` or preset name (default: the paper's ``"taox_post_verify_static"``).
    seed:
        Seed of the device-to-device sample and, with the read index, of every read.

    Examples
    --------
    >>> xbar = CrossbarArray(4, 3, "taox_post_verify_static", seed=0)
    >>> kept, pruned = xbar.read(0)
    >>> kept.shape
    torch.Size([4, 3])
    >>> xbar.reset(torch.ones(4, 3, dtype=torch.bool)), xbar.reset_count.sum().item()
    (12, 12)
    """

    def __init__(
        self, rows: int, cols: int, tech: Technology | str = "taox_post_verify_static", seed: int = 0
    ) -> None:
        self.rows = check_positive_int("rows", rows)
        self.cols = check_positive_int("cols", cols)
        self.technology = technology(tech)
        self.seed = check_positive_int("seed", seed, minimum=0)
        n = self.rows * self.cols
        pairs = self.technology.sample_pairs(n, seed=generator(self.seed))
        sign_gen = generator(self.seed, SIGN_STREAM)
        sign = torch.randint(0, 2, (n,), generator=sign_gen, dtype=torch.int8) * 2 - 1
        shape = (self.rows, self.cols)
        self.sign = sign.reshape(shape).float()
        #: Fault code of every cell, ``[rows, cols, 2]``: the cell on the positive column of the
        #: pair, then the one on the negative column (:mod:`rrampaper.devices.faults`). A
        #: property of the chip: the same seed gives the same faulty cells, whether the pairs
        #: are pruned (TO) or programmed (WO).
        self.fault_codes = fault_map((self.rows, self.cols, 2), self.technology.faults, self.seed)
        random_code, off_code = self.cell_fault_codes()
        faults = self.technology.faults
        self.g_formed = apply_faults(pairs.formed.reshape(shape), random_code, faults).float()
        self.g_reset = apply_faults(pairs.reset.reshape(shape), random_code, faults).float()
        self.g_off = apply_faults(pairs.off.reshape(shape), off_code, faults).float()
        #: True where the pair is in the formed (kept) state; forming leaves every pair kept.
        self.state = torch.ones(shape, dtype=torch.bool)
        self.set_count = torch.zeros(shape, dtype=torch.int32)
        self.reset_count = torch.zeros(shape, dtype=torch.int32)
        self.program_pulses = 0
        self._stream = ReadStream(self.seed)
        self._cache: dict[str, torch.Tensor] = {}
        self._cell_cache: dict[str, Any] = {}
        self._version = 0  # bumped whenever a state or conductance changes

    def cell_fault_codes(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Fault codes ``[rows, cols]`` of the random cell and of the off-reference cell of each
        pair (which physical column each sits on follows :attr:`sign`)."""
        plus, minus = self.fault_codes[..., 0], self.fault_codes[..., 1]
        positive = self.sign > 0
        return torch.where(positive, plus, minus), torch.where(positive, minus, plus)

    @property
    def n_faulty_cells(self) -> int:
        """Cells with a fault (any kind)."""
        return int((self.fault_codes != OK).sum())

    # -- shape ----------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of pairs."""
        return (self.rows, self.cols)

    @property
    def n_pairs(self) -> int:
        """Number of differential pairs (weights)."""
        return self.rows * self.cols

    @property
    def n_cells(self) -> int:
        """Number of memory cells (two per pair)."""
        return 2 * self.n_pairs

    # -- noiseless weights ----------------------------------------------------------------
    def _cached(self, name: str) -> torch.Tensor:
        if name not in self._cache:
            tech = self.technology
            g_f, g_r, g_o = (x.double() for x in (self.g_formed, self.g_reset, self.g_off))
            values = {
                "kept": self.sign.double() * (g_f - g_o),
                "pruned": self.sign.double() * (g_r - g_o),
                "sigma_kept": combined_sigma(tech, g_f, g_o),
                "sigma_pruned": combined_sigma(tech, g_r, g_o),
            }
            self._cache.update({k: v.float() for k, v in values.items()})
        return self._cache[name]

    def kept_weight(self) -> torch.Tensor:
        """Noiseless signed weight of every pair in the kept state (siemens)."""
        return self._cached("kept")

    def pruned_weight(self) -> torch.Tensor:
        """Noiseless signed residual of every pair in the pruned state (siemens)."""
        return self._cached("pruned")

    def weight(self) -> torch.Tensor:
        """Noiseless signed weight of the current state of every pair (siemens)."""
        return torch.where(self.state, self.kept_weight(), self.pruned_weight())

    def cell_conductances(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Current-state conductances (S) of the random cell and of the off-reference cell."""
        return torch.where(self.state, self.g_formed, self.g_reset), self.g_off

    # -- reads ----------------------------------------------------------------------------
    def read(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Read cycle ``index``: noisy (kept, pruned) weights of every pair, siemens, float32."""
        kept, pruned = self._stream.read_states(
            index,
            [self.kept_weight(), self.pruned_weight()],
            [self._cached("sigma_kept"), self._cached("sigma_pruned")],
        )
        return kept, pruned

    def read_weight(self, index: int) -> torch.Tensor:
        """Read cycle ``index`` of the current state of every pair (siemens)."""
        kept, pruned = self.read(index)
        return torch.where(self.state, kept, pruned)

    def read_cells(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Read cycle ``index`` at cell level: (random cell, off cell) conductances in siemens.

        Uses its own stream (key ``1``), so it is reproducible but not the same realization as
        :meth:`read`.
        """
        key = ("cells", self._version)
        if self._cell_cache.get("key") != key:
            g = torch.stack(self.cell_conductances())
            sigma = self.technology.read_sigma(g.double()).float()
            self._cell_cache = {"key": key, "g": g, "sigma": sigma}
        cache = self._cell_cache
        cells = ReadStream(self.seed, 1).read(index, list(cache["g"]), list(cache["sigma"]))
        return cells[0], cells[1]

    def iter_reads(self, n_reads: int, start: int = 0) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
        """Stream reads ``start .. start + n_reads - 1`` as ``(index, kept, pruned)``."""
        n_reads = check_positive_int("n_reads", n_reads)
        start = check_read_index(start)
        for i in range(start, start + n_reads):
            kept, pruned = self.read(i)
            yield i, kept, pruned

    # -- SET / RESET ----------------------------------------------------------------------
    def _mask(self, mask: Any) -> torch.Tensor:
        m = torch.as_tensor(mask, dtype=torch.bool)
        if tuple(m.shape) != self.shape:
            raise ValueError(f"mask has shape {tuple(m.shape)}, expected {self.shape}")
        return m

    def set(self, mask: Any) -> int:
        """SET (reinstate) the pruned pairs selected by ``mask``; returns how many changed."""
        change = self._mask(mask) & ~self.state
        self._version += 1
        self.state |= change
        self.set_count += change.int()
        return int(change.sum())

    def reset(self, mask: Any) -> int:
        """RESET (prune) the kept pairs selected by ``mask``; returns how many changed."""
        change = self._mask(mask) & self.state
        self._version += 1
        self.state &= ~change
        self.reset_count += change.int()
        return int(change.sum())

    def apply_mask(self, keep: Any) -> tuple[int, int]:
        """Bring every pair to ``keep`` (True = kept): returns (SETs, RESETs) performed."""
        keep = self._mask(keep)
        return self.set(keep), self.reset(~keep)

    def apply_mask_flat(self, start: int, keep: torch.Tensor) -> tuple[int, int]:
        """:meth:`apply_mask` on the flat pair range ``start .. start + keep.numel()``."""
        keep = torch.as_tensor(keep, dtype=torch.bool).reshape(-1).cpu()
        stop = start + keep.numel()
        if start < 0 or stop > self.n_pairs:
            raise ValueError(f"pair range [{start}, {stop}) outside [0, {self.n_pairs})")
        state = self.state.view(-1)[start:stop]
        self._version += 1
        to_set = keep & ~state
        to_reset = ~keep & state
        state |= to_set
        state &= ~to_reset
        self.set_count.view(-1)[start:stop] += to_set.int()
        self.reset_count.view(-1)[start:stop] += to_reset.int()
        return int(to_set.sum()), int(to_reset.sum())

    # -- programming (weight-optimization baseline) ---------------------------------------
    def program(
        self, target_s: torch.Tensor, method: str = "write_verify", **kwargs: Any
    ) -> ProgramResult:
        """Program target conductances (siemens, ``shape``) into the random cells.

        Keyword arguments go to :func:`~rrampaper.devices.programming.program_conductances`
        (``tolerance``, ``atol_s``, ``max_pulses``, ``seed``). Pulses are added to
        :attr:`program_pulses`; the pairs end in the kept state.
        """
        target = torch.as_tensor(target_s, dtype=torch.float64)
        if tuple(target.shape) != self.shape:
            raise ValueError(f"target_s has shape {tuple(target.shape)}, expected {self.shape}")
        random_code, _ = self.cell_fault_codes()
        result = program_conductances(target, self.technology, method,
                                      fault_codes=random_code, **kwargs)
        self.g_formed = result.conductance_s.float()
        self.state[:] = True
        self.program_pulses += result.total_pulses
        self._cache.clear()
        self._version += 1
        return result

    def program_weights(
        self, weights_s: torch.Tensor, method: str = "write_verify", **kwargs: Any
    ) -> tuple[torch.Tensor, ProgramResult, ProgramResult]:
        """Program signed weights (siemens) into both cells of every pair (G+ - G-).

        After this the sign is +1 everywhere, ``g_formed`` holds G+ and ``g_off`` holds G-,
        so :meth:`kept_weight` is the achieved weight. See
        :func:`~rrampaper.devices.programming.program_weights`.
        """
        w = torch.as_tensor(weights_s, dtype=torch.float64)
        if tuple(w.shape) != self.shape:
            raise ValueError(f"weights_s has shape {tuple(w.shape)}, expected {self.shape}")
        achieved, plus, minus = program_weights(w, self.technology, method,
                                                fault_codes=self.fault_codes, **kwargs)
        self.g_formed = plus.conductance_s.float()
        self.g_off = minus.conductance_s.float()
        self.sign = torch.ones(self.shape)
        self.state[:] = True
        self.program_pulses += plus.total_pulses + minus.total_pulses
        self._cache.clear()
        self._version += 1
        return achieved, plus, minus

    # -- export ---------------------------------------------------------------------------
    def attrs(self) -> dict[str, Any]:
        """Model parameters and provenance as netCDF-safe attributes."""
        return {
            "rrampaper_version": __version__,
            "seed": self.seed,
            "units": "siemens",
            "program_pulses": self.program_pulses,
            **self.technology.attrs(),
        }

    def to_xarray(self, reads: int | Sequence[int] = 0) -> xr.Dataset:
        """The array as an :class:`xarray.Dataset` with dims ``row``, ``col`` and ``read``.

        Parameters
        ----------
        reads:
            Number of read cycles to include (``0`` .. ``reads - 1``) or explicit read indices.
            Their noisy kept/pruned weights are stored as ``[read, row, col]``: this is the
            one place where reads are materialized, at the caller's request.
        """
        indices = list(range(reads)) if isinstance(reads, int) else [int(i) for i in reads]
        data: dict[str, Any] = {
            "g_formed": (("row", "col"), self.g_formed.numpy(), {"units": "S"}),
            "g_reset": (("row", "col"), self.g_reset.numpy(), {"units": "S"}),
            "g_off": (("row", "col"), self.g_off.numpy(), {"units": "S"}),
            "sign": (("row", "col"), self.sign.numpy().astype(np.int8)),
            "state": (("row", "col"), self.state.numpy().astype(np.int8), {"1": "kept"}),
            "kept_weight": (("row", "col"), self.kept_weight().numpy(), {"units": "S"}),
            "pruned_weight": (("row", "col"), self.pruned_weight().numpy(), {"units": "S"}),
            "set_count": (("row", "col"), self.set_count.numpy()),
            "reset_count": (("row", "col"), self.reset_count.numpy()),
        }
        if indices:
            kept = np.empty((len(indices), self.rows, self.cols), dtype=np.float32)
            pruned = np.empty_like(kept)
            for j, i in enumerate(indices):
                k, p = self.read(i)
                kept[j], pruned[j] = k.numpy(), p.numpy()
            data["kept_read"] = (("read", "row", "col"), kept, {"units": "S"})
            data["pruned_read"] = (("read", "row", "col"), pruned, {"units": "S"})
        coords = {"row": np.arange(self.rows), "col": np.arange(self.cols)}
        if indices:
            coords["read"] = np.asarray(indices)
        return xr.Dataset(data, coords=coords, attrs=self.attrs())

    def to_official_format(self, n_reads: int, start: int = 0) -> dict[str, np.ndarray]:
        """Cell reads in the official measured format ``{"set", "reset"}``, ``[reads, 2n]``.

        ``set[:, :n]`` holds the random cells in their formed state, ``set[:, n:]`` the
        off-reference cells; ``reset[:, :n]`` the random cells after RESET; the model does not
        form the reference cells, so ``reset[:, n:]`` holds them read again. With ``n`` the
        number of pairs in row-major order. See :mod:`rrampaper.devices.measured`.
        """
        n_reads = check_positive_int("n_reads", n_reads)
        n = self.n_pairs
        tech = self.technology
        out_set = np.empty((n_reads, 2 * n), dtype=np.float32)
        out_reset = np.empty_like(out_set)
        cells = [x.reshape(-1).double() for x in (self.g_formed, self.g_off, self.g_reset)]
        sigmas = [tech.read_sigma(g) for g in cells]
        stream = ReadStream(self.seed, 2)
        for j in range(n_reads):
            formed, off, reset, off_again = stream.read(
                start + j, [*cells, cells[1]], [*sigmas, sigmas[1]]
            )
            out_set[j, :n], out_set[j, n:] = formed.numpy(), off.numpy()
            out_reset[j, :n], out_reset[j, n:] = reset.numpy(), off_again.numpy()
        return {"set": out_set, "reset": out_reset}
