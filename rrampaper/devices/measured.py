"""Measured chip readouts in the official format, as data and as a weight source.

The official hardware scripts load a mapping with two arrays (docs/paper.md#measured-data-format):

- ``set``: ``[reads, 2n]`` conductances; columns ``0..n-1`` are the randomly formed cells,
  columns ``n..2n-1`` the off-state reference cells;
- ``reset``: the mirror image; columns ``0..n-1`` are the formed cells after RESET.

Weight ``i`` of read ``r`` is ``w_one = set[r, i] - set[r, n+i]`` when kept and
``w_zero = reset[r, i] - set[r, n+i]`` when pruned. :func:`load_measured` reads such a mapping
from ``.npz`` (``numpy.load(allow_pickle=False)``) or ``.pt``/``.pth``
(``torch.load(weights_only=True)``, with only plain numeric numpy arrays allow-listed) and
rejects anything else. :class:`MeasuredChip` then serves it through the same interface as
:class:`~rrampaper.devices.chip.Chip`: ``allocate(shape)`` slices consecutive pairs and
``read(i)`` returns measured read ``i`` modulo the number of reads; ``read(None)`` returns the
mean over reads (the device-to-device part). :meth:`MeasuredData.fit` fits the filament model
to the formed cells by maximum likelihood (:func:`rrampaper.devices.fit.fit_conductances`).
"""

from __future__ import annotations

import math
import os
import pickle
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rrampaper._checks import check_choice, check_positive_int
from rrampaper._io import atomic_path
from rrampaper.devices.chip import check_shape
from rrampaper.devices.fit import FitResult, fit_conductances, fit_read_noise
from rrampaper.devices.streams import MEASURED_SIGN_STREAM, check_read_index, generator

OFFICIAL_KEYS = ("set", "reset")
SUFFIXES = {".npz": "npz", ".pt": "pt", ".pth": "pt"}


@dataclass(frozen=True)
class MeasuredData:
    """Validated official-format readouts (``float32``, siemens as stored by the chip).

    Attributes
    ----------
    set, reset:
        ``[reads, 2n]`` arrays (see the module docstring).
    source:
        Where they came from (file path or ``"<arrays>"``).
    """

    set: np.ndarray
    reset: np.ndarray
    source: str = "<arrays>"

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], source: str = "<arrays>") -> MeasuredData:
        """Validate a mapping with arrays ``set`` and ``reset`` of equal shape ``[reads, 2n]``."""
        if not isinstance(mapping, Mapping):
            raise ValueError(
                f"{source}: expected a mapping with keys 'set' and 'reset', got {type(mapping).__name__}"
            )
        missing = [k for k in OFFICIAL_KEYS if k not in mapping]
        if missing:
            raise ValueError(f"{source}: missing key(s) {missing}; the official format has 'set' and 'reset'")
        arrays = {}
        for key in OFFICIAL_KEYS:
            value = mapping[key]
            if isinstance(value, torch.Tensor):
                value = value.detach().cpu().numpy()
            if not isinstance(value, np.ndarray):
                raise ValueError(f"{source}: {key!r} is a {type(value).__name__}, expected an array")
            if value.dtype.kind not in "fiu":
                raise ValueError(f"{source}: {key!r} has dtype {value.dtype}, expected numbers")
            if value.ndim != 2 or value.shape[1] < 2 or value.shape[1] % 2 or value.shape[0] < 1:
                raise ValueError(
                    f"{source}: {key!r} has shape {value.shape}, expected [reads >= 1, 2n] with 2n even"
                )
            value = np.ascontiguousarray(value, dtype=np.float32)
            if not np.all(np.isfinite(value)):
                raise ValueError(f"{source}: {key!r} contains NaN or inf")
            arrays[key] = value
        if arrays["set"].shape != arrays["reset"].shape:
            raise ValueError(
                f"{source}: 'set' {arrays['set'].shape} and 'reset' {arrays['reset'].shape} differ in shape"
            )
        return cls(arrays["set"], arrays["reset"], source)

    @property
    def n_reads(self) -> int:
        """Number of read cycles."""
        return self.set.shape[0]

    @property
    def n_pairs(self) -> int:
        """Number of differential pairs ``n``."""
        return self.set.shape[1] // 2

    def formed_cells(self) -> np.ndarray:
        """``set[:, :n]``: the randomly formed cells, ``[reads, n]`` (a view)."""
        return self.set[:, : self.n_pairs]

    def off_cells(self) -> np.ndarray:
        """``set[:, n:]``: the off-state reference cells, ``[reads, n]`` (a view)."""
        return self.set[:, self.n_pairs :]

    def reset_cells(self) -> np.ndarray:
        """``reset[:, :n]``: the formed cells after RESET, ``[reads, n]`` (a view)."""
        return self.reset[:, : self.n_pairs]

    def w_one(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Kept weights ``set[:, i] - set[:, n+i]`` for pairs ``start..stop``, ``[reads, k]``."""
        n = self.n_pairs
        stop = n if stop is None else stop
        return self.set[:, start:stop] - self.set[:, n + start : n + stop]

    def w_zero(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Pruned weights ``reset[:, i] - set[:, n+i]`` for pairs ``start..stop``, ``[reads, k]``."""
        n = self.n_pairs
        stop = n if stop is None else stop
        return self.reset[:, start:stop] - self.set[:, n + start : n + stop]

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the official format to ``.npz`` or ``.pt`` (atomically); returns the path."""
        return save_measured({"set": self.set, "reset": self.reset}, path)

    def fit(self, **kwargs: Any) -> FitResult:
        """Fit the filament model to the per-cell mean of the formed cells over reads.

        Keyword arguments go to :func:`~rrampaper.devices.fit.fit_conductances`. Unless given,
        ``cap_rtol`` is set from the data: five standard errors of the per-cell mean among the
        most conductive 1 % of cells, so that read noise left in the means does not smear the
        compliance cap (at least 1e-3, at most 0.05).
        """
        cells = self.formed_cells()
        mean = cells.mean(axis=0, dtype=np.float64)
        if "cap_rtol" not in kwargs and self.n_reads >= 2:
            top = mean >= np.quantile(mean, 0.99)
            sem = cells[:, top].std(axis=0, ddof=1, dtype=np.float64) / np.sqrt(self.n_reads)
            rel = float(np.median(sem / mean[top]))
            kwargs["cap_rtol"] = float(np.clip(5 * rel, 1e-3, 0.05))
        return fit_conductances(mean, **kwargs)

    def fit_read_noise(self, **kwargs: Any) -> FitResult:
        """Fit relative read noise and floor to the formed and off cells (needs >= 2 reads)."""
        if self.n_reads < 2:
            raise ValueError("fit_read_noise needs at least 2 reads")
        cells = np.concatenate([self.formed_cells(), self.off_cells()], axis=1)
        return fit_read_noise(cells.mean(0, dtype=np.float64), cells.var(0, dtype=np.float64, ddof=1), **kwargs)


def _kind(path: Path) -> str:
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise ValueError(
            f"{path}: unsupported file type {path.suffix!r}; measured data must be .npz or .pt/.pth "
            "holding the arrays 'set' and 'reset' (pickles and other formats are refused)"
        )
    return kind


def _numpy_safe_globals() -> list[Any]:
    """The numpy names a plain numeric array needs under ``torch.load(weights_only=True)``."""
    core = getattr(np, "_core", None) or np.core
    names: list[Any] = [core.multiarray._reconstruct, np.ndarray, np.dtype]
    dtypes = getattr(np, "dtypes", None)
    if dtypes is not None:
        for t in ("Float16DType", "Float32DType", "Float64DType", "Int8DType", "Int16DType",
                  "Int32DType", "Int64DType", "UInt8DType", "UInt16DType", "UInt32DType", "UInt64DType"):
            if hasattr(dtypes, t):
                names.append(getattr(dtypes, t))
    return names


def load_measured(path: str | os.PathLike[str]) -> MeasuredData:
    """Load official-format readouts from ``.npz`` or ``.pt``/``.pth``; refuse anything else.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        For other suffixes, files that are not what their suffix says, pickled objects, missing
        keys, wrong shapes or non-numeric arrays.
    """
    path = Path(path)
    kind = _kind(path)
    if not path.is_file():
        raise FileNotFoundError(path)
    if kind == "npz":
        try:
            archive = np.load(path, allow_pickle=False)
        except ValueError:
            raise ValueError(f"{path}: holds pickled objects, which are refused") from None
        except (OSError, EOFError, zipfile.BadZipFile) as err:
            raise ValueError(f"{path}: not a readable .npz archive ({err})") from None
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError(f"{path}: is a bare .npy array, not an .npz archive with 'set' and 'reset'")
        with archive:
            try:
                mapping = {k: archive[k] for k in archive.files}
            except ValueError:
                raise ValueError(f"{path}: holds pickled (object) arrays, which are refused") from None
        return MeasuredData.from_mapping(mapping, str(path))
    try:
        with torch.serialization.safe_globals(_numpy_safe_globals()):
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise ValueError(
            f"{path}: refused by torch.load(weights_only=True): it holds objects other than "
            f"tensors and numeric arrays ({str(err).splitlines()[0][:200]})"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"{path}: not a readable torch file ({str(err).splitlines()[0][:200]})") from None
    return MeasuredData.from_mapping(obj, str(path))


def save_measured(mapping: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write ``{"set", "reset"}`` in the official format to ``.npz`` or ``.pt`` (atomically).

    ``.pt`` files hold a dict of numpy arrays, as the official chip files do.
    """
    path = Path(path)
    kind = _kind(path)
    data = MeasuredData.from_mapping(mapping)
    with atomic_path(path) as tmp:
        if kind == "npz":
            with open(tmp, "wb") as fh:
                np.savez(fh, set=data.set, reset=data.reset)
        else:
            torch.save({"set": data.set, "reset": data.reset}, tmp)
    return path


class MeasuredWeights:
    """A slice of measured pairs with the :class:`~rrampaper.devices.chip.DeviceWeights` API."""

    def __init__(self, data: MeasuredData, start: int, shape: tuple[int, ...], sign: torch.Tensor) -> None:
        self.shape = shape
        self.numel = math.prod(shape)
        self._data = data
        self._start, self._stop = start, start + self.numel
        self.sign = sign.reshape(shape).float()
        n = data.n_pairs
        self._set = torch.from_numpy(data.set)
        self._reset = torch.from_numpy(data.reset)
        self._one_cols = slice(start, self._stop)
        self._off_cols = slice(n + start, n + self._stop)
        mean_one = data.w_one(start, self._stop).mean(0, dtype=np.float64)
        mean_zero = data.w_zero(start, self._stop).mean(0, dtype=np.float64)
        self._kept = self.sign * torch.from_numpy(mean_one).float().reshape(shape)
        self._pruned = self.sign * torch.from_numpy(mean_zero).float().reshape(shape)
        self.kept_scale = float(self._kept.abs().double().mean())
        self.set_count = 0
        self.reset_count = 0
        self._mask: torch.Tensor | None = None

    @property
    def device(self) -> torch.device:
        """Device holding the cached tensors."""
        return self._kept.device

    @property
    def n_reads(self) -> int:
        """Number of measured reads (read indices wrap around modulo this)."""
        return self._data.n_reads

    def to(self, device: torch.device | str) -> MeasuredWeights:
        """Move the cached tensors (mean weights, sign) to ``device``; returns ``self``."""
        device = torch.device(device)
        self._kept, self._pruned, self.sign = (x.to(device) for x in (self._kept, self._pruned, self.sign))
        return self

    def read(
        self,
        index: int | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(kept, pruned) = sign * (w_one, w_zero) of measured read ``index % n_reads``, siemens.

        ``index=None`` returns the mean over all reads (the device-to-device part).
        """
        if device is not None and torch.device(device) != self.device:
            self.to(device)
        if index is None:
            return self._kept.to(dtype), self._pruned.to(dtype)
        r = check_read_index(index) % self._data.n_reads
        off = self._set[r, self._off_cols]
        one = (self._set[r, self._one_cols] - off).reshape(self.shape)
        zero = (self._reset[r, self._one_cols] - off).reshape(self.shape)
        one, zero = one.to(self.device), zero.to(self.device)
        return (self.sign * one).to(dtype), (self.sign * zero).to(dtype)

    def apply_mask(self, keep: torch.Tensor) -> tuple[int, int]:
        """Count the SETs and RESETs that bring the pairs to ``keep`` (start: all kept)."""
        keep = torch.as_tensor(keep, dtype=torch.bool).cpu()
        if tuple(keep.shape) != self.shape:
            raise ValueError(f"keep has shape {tuple(keep.shape)}, expected {self.shape}")
        old = torch.ones_like(keep) if self._mask is None else self._mask
        n_set, n_reset = int((keep & ~old).sum()), int((~keep & old).sum())
        self._mask = keep.clone()
        self.set_count += n_set
        self.reset_count += n_reset
        return n_set, n_reset

    def __repr__(self) -> str:
        return (
            f"MeasuredWeights(shape={self.shape}, pairs=[{self._start}, {self._stop}), "
            f"reads={self.n_reads}, kept_scale={self.kept_scale:.3g})"
        )


class MeasuredChip:
    """Measured readouts as a weight source with :class:`~rrampaper.devices.chip.Chip`'s API.

    Parameters
    ----------
    data:
        :class:`MeasuredData`, a mapping in the official format, or a path to load.
    seed:
        Seed of the random sign of each pair (the official code draws it in software).
    sign:
        ``"random"`` (default) or ``"positive"`` (all +1, the raw differences).
    """

    def __init__(
        self,
        data: MeasuredData | Mapping[str, Any] | str | os.PathLike[str],
        seed: int = 0,
        sign: str = "random",
    ) -> None:
        if isinstance(data, str | os.PathLike):
            data = load_measured(data)
        elif not isinstance(data, MeasuredData):
            data = MeasuredData.from_mapping(data)
        self.data = data
        self.seed = check_positive_int("seed", seed, minimum=0)
        check_choice("sign", sign, ("random", "positive"))
        n = data.n_pairs
        if sign == "random":
            gen = generator(self.seed, MEASURED_SIGN_STREAM)
            self._sign = torch.randint(0, 2, (n,), generator=gen, dtype=torch.int8).float() * 2 - 1
        else:
            self._sign = torch.ones(n)
        self.allocations: list[MeasuredWeights] = []
        self._next_pair = 0

    @property
    def n_pairs(self) -> int:
        """Pairs in the measured data."""
        return self.data.n_pairs

    @property
    def pairs_allocated(self) -> int:
        """Pairs handed out so far."""
        return self._next_pair

    @property
    def n_reads(self) -> int:
        """Measured read cycles."""
        return self.data.n_reads

    def allocate(self, shape: int | Sequence[int], device: torch.device | str | None = None) -> MeasuredWeights:
        """The next ``prod(shape)`` measured pairs as weights of ``shape``."""
        shape = check_shape(shape)
        numel = math.prod(shape)
        start = self._next_pair
        if start + numel > self.n_pairs:
            raise ValueError(
                f"shape={shape} needs {numel} pairs but only {self.n_pairs - start} of the "
                f"{self.n_pairs} measured pairs are free"
            )
        weights = MeasuredWeights(self.data, start, shape, self._sign[start : start + numel])
        self._next_pair += numel
        self.allocations.append(weights)
        if device is not None:
            weights.to(device)
        return weights

    def __repr__(self) -> str:
        return (
            f"MeasuredChip(source={self.data.source!r}, pairs={self.n_pairs}, reads={self.n_reads}, "
            f"pairs_allocated={self.pairs_allocated})"
        )
