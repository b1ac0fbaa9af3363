"""Spoken-digit features computed from the raw FSDD recordings (23 coefficients x 20 frames).

The paper's CRNN reads 23x20 features per recording that its authors extracted with an
unpublished recipe (:mod:`rrampaper.data.spoken_features`; docs/paper.md#spoken-digit). This module
computes features of the same shape and framing from the audio, with librosa, so that the
experiment can also run on FSDD's official take-index split and be studied end to end.

Recipe (every number is a field of :class:`FeatureParams`)
----------------------------------------------------------
1. Short-time Fourier transform at 8 kHz: ``n_fft`` 512 samples (64 ms, Hann window), hop 256
   samples (32 ms), centred frames (the signal is zero-padded by ``n_fft // 2`` at both
   ends), so a clip of ``L`` samples has ``1 + floor(L / 256)`` frames; only the first
   ``n_frames`` = 20 (640 ms) are kept. This framing reproduces the paper's frame counts exactly
   (docs/paper.md#spoken-digit: ``min(1 + floor(len / 256), 20)`` non-zero frames).
2. Rows 0-9, **floored band energies**: the power spectrum summed in 10 mel bands (Slaney mel
   scale, 0-4 kHz), in dB relative to the clip's loudest band value, floored at
   ``-floor_db`` = -40 dB and shifted up by ``floor_db``: 0 means "40 dB or more below the
   loudest band", so silent frames are zeros, as in the paper's rows 0-9.
3. Rows 10-22, **MFCC c0-c12**: type-II orthonormal DCT of a 40-band log-mel spectrum in dB
   (librosa's ``mfcc``), as the paper's rows 10-22 behave.
4. **Min-max scaling per sample to [0, 1]**, done per block (rows 0-9, then rows 10-22) because
   the blocks have different units (dB above a floor vs cepstral coefficients): scaled jointly,
   the large negative c0 would set the minimum and squeeze the band energies into the top
   third of the range, where the CRNN's 3-bit input quantizer (8 levels) keeps little of them.
   Scaled per block, rows 0-9 have the paper's profile (mean 0.39 in the lowest band falling to
   0.10 in the highest; about half of the entries zero) and a linear probe on 3-bit-quantized
   features scores as on the paper's features (about 0.91-0.94 in both).
5. Frames after the clip's last frame are zero (padding comes after scaling, as in the paper's
   features, whose padded frames are exactly 0).

The paper's features are **not** reproduced exactly (their recipe is unknown; plain librosa
MFCC-23 and mel10 + MFCC13 variants did not match them, docs/paper.md#spoken-digit): rows 10-22 here are
scaled within their own block, so c2-c12 sit near the middle of [0, 1] instead of near 0.2.

Computed features are cached in ``<results>/features/fsdd-<key>.npz`` (written atomically),
where ``key`` hashes the parameters, the recipe version and the FSDD registry hashes, so a run
never recomputes them and a change of recipe never reuses stale ones. The cache is untrusted
input: a file that cannot be read (truncated, random bytes, pickled objects) or whose arrays do
not have the expected names, shapes, types and ranges is replaced by freshly computed features,
with a warning that names it.

Examples
--------
>>> import numpy as np
>>> from rrampaper.tasks.spoken_digit_features import FeatureParams, extract, content_frames
>>> clip = np.sin(2 * np.pi * 440 * np.arange(3000) / 8000).astype(np.float32)
>>> extract(clip).shape, content_frames(3000)
((23, 20), 12)
>>> feats = fsdd_features()                      # doctest: +SKIP
>>> train, test = feats.official_split("train"), feats.official_split("test")  # doctest: +SKIP
>>> len(train), len(test)                        # doctest: +SKIP
(2700, 300)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import warnings
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from rrampaper._checks import check_choice, check_positive_int, check_range
from rrampaper._io import atomic_path
from rrampaper.data import load_fsdd, registry
from rrampaper.data.fsdd import N_TEST_TAKES, SAMPLE_RATE_HZ
from rrampaper.data.spoken_features import SpokenFeatures
from rrampaper.paths import results_dir

#: Version of the recipe; part of the cache key (bump it when the code below changes results).
RECIPE_VERSION = 1


@dataclass(frozen=True)
class FeatureParams:
    """Parameters of the feature recipe (module docstring); defaults give 23 x 20 features.

    Attributes
    ----------
    sample_rate:
        Hz; every FSDD recording is 8,000 Hz.
    n_fft:
        STFT window length in samples (512 = 64 ms at 8 kHz).
    hop_length:
        Samples between frames (256 = 32 ms at 8 kHz; the paper's features' hop).
    n_frames:
        Frames kept (20 = 640 ms); longer clips are truncated, shorter ones zero-padded.
    n_bands:
        Mel bands of the floored band energies (rows ``0 .. n_bands - 1``).
    n_mfcc:
        Cepstral coefficients c0 .. c(n_mfcc - 1) (the following rows).
    n_mels:
        Mel bands of the log-mel spectrum the MFCCs are computed from.
    floor_db:
        dB below the clip's loudest band value at which band energies are floored (> 0).
    fmax_hz:
        Upper edge of the mel filter banks (Hz), at most the Nyquist frequency.
    """

    sample_rate: int = SAMPLE_RATE_HZ
    n_fft: int = 512
    hop_length: int = 256
    n_frames: int = 20
    n_bands: int = 10
    n_mfcc: int = 13
    n_mels: int = 40
    floor_db: float = 40.0
    fmax_hz: float = 4000.0

    def __post_init__(self) -> None:
        check_positive_int("sample_rate", self.sample_rate)
        check_positive_int("n_fft", self.n_fft, minimum=16)
        check_positive_int("hop_length", self.hop_length)
        check_positive_int("n_frames", self.n_frames)
        check_positive_int("n_bands", self.n_bands)
        check_positive_int("n_mfcc", self.n_mfcc)
        check_positive_int("n_mels", self.n_mels, minimum=self.n_mfcc)
        check_range("floor_db", self.floor_db, 0.0, low_open=True, unit="dB")
        check_range("fmax_hz", self.fmax_hz, 0.0, self.sample_rate / 2, low_open=True, unit="Hz")

    @property
    def n_coefficients(self) -> int:
        """Rows of a feature matrix: ``n_bands + n_mfcc`` (23 by default)."""
        return self.n_bands + self.n_mfcc

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_coefficients, n_frames)`` of one feature matrix."""
        return self.n_coefficients, self.n_frames

    def key(self) -> str:
        """First 16 hex digits of the SHA-256 of the parameters and :data:`RECIPE_VERSION`."""
        text = json.dumps({**dataclasses.asdict(self), "recipe": RECIPE_VERSION}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def content_frames(n_samples: int, hop_length: int = 256, n_frames: int = 20) -> int:
    """Frames of a clip of ``n_samples`` that hold content: ``min(1 + n_samples // hop, n_frames)``.

    With centred framing a clip has ``1 + floor(n_samples / hop_length)`` frames; the rest of the
    ``n_frames`` columns are zero padding.
    """
    check_positive_int("n_samples", n_samples)
    return min(1 + n_samples // hop_length, n_frames)


@lru_cache(maxsize=8)
def _filter_banks(params: FeatureParams) -> tuple[np.ndarray, np.ndarray]:
    """Mel filter banks ``[n_bands, 1 + n_fft // 2]`` and ``[n_mels, 1 + n_fft // 2]``."""
    import librosa  # deferred: librosa takes seconds to import; only feature extraction needs it

    def bank(n: int) -> np.ndarray:
        return librosa.filters.mel(sr=params.sample_rate, n_fft=params.n_fft, n_mels=n,
                                   fmin=0.0, fmax=params.fmax_hz)

    return bank(params.n_bands), bank(params.n_mels)


def _unit_range(block: np.ndarray) -> np.ndarray:
    """Min-max scale a block to [0, 1]; a constant block becomes zeros."""
    low, high = float(block.min()), float(block.max())
    if high <= low:
        return np.zeros_like(block)
    return (block - low) / (high - low)


def extract(waveform: np.ndarray, params: FeatureParams | None = None) -> np.ndarray:
    """Features of one clip: float32 ``[n_bands + n_mfcc, n_frames]`` (23 x 20), in [0, 1].

    Parameters
    ----------
    waveform:
        1-D samples at ``params.sample_rate`` (FSDD: float32 in [-1, 1), 8 kHz), at least one
        sample long.
    params:
        The recipe's parameters (default :class:`FeatureParams`).

    Returns
    -------
    numpy.ndarray
        Rows 0-9 floored band energies, rows 10-22 MFCC c0-c12, each block min-max scaled to
        [0, 1] over the clip's frames; columns after :func:`content_frames` are zero.
    """
    import librosa  # deferred: librosa takes seconds to import; only feature extraction needs it

    params = params or FeatureParams()
    waveform = np.asarray(waveform, dtype=np.float32)
    if waveform.ndim != 1 or waveform.size == 0:
        raise ValueError(f"waveform must be a non-empty 1-D array, got shape {waveform.shape}")
    n = content_frames(waveform.size, params.hop_length, params.n_frames)
    # keep only the samples the first n centred frames see (saves work on long clips)
    waveform = waveform[: (n - 1) * params.hop_length + params.n_fft // 2 + 1]
    with warnings.catch_warnings():  # a clip shorter than n_fft is fine once centred
        warnings.filterwarnings("ignore", message="n_fft=.*is too large")
        spectrum = librosa.stft(waveform, n_fft=params.n_fft, hop_length=params.hop_length,
                                center=True, pad_mode="constant")
    power = np.abs(spectrum[:, :n]) ** 2
    band_bank, mel_bank = _filter_banks(params)
    bands_db = librosa.power_to_db(band_bank @ power, ref=np.max, top_db=None)
    bands = np.maximum(bands_db, -params.floor_db) + params.floor_db
    log_mel = librosa.power_to_db(mel_bank @ power, ref=1.0, top_db=80.0)
    mfcc = librosa.feature.mfcc(S=log_mel, n_mfcc=params.n_mfcc)
    out = np.zeros(params.shape, dtype=np.float32)
    out[: params.n_bands, :n] = _unit_range(bands)
    out[params.n_bands :, :n] = _unit_range(mfcc)
    return out


def extract_many(waveforms: list[np.ndarray] | tuple[np.ndarray, ...],
                 params: FeatureParams | None = None) -> np.ndarray:
    """:func:`extract` of every clip, stacked: float32 ``[N, 23, 20]``."""
    params = params or FeatureParams()
    out = np.empty((len(waveforms), *params.shape), dtype=np.float32)
    for i, waveform in enumerate(waveforms):
        out[i] = extract(waveform, params)
    return out


@dataclass(frozen=True)
class FSDDFeatures:
    """Features of all 3,000 FSDD recordings with their metadata (one entry per recording).

    Attributes
    ----------
    X:
        float32 [N, 23, 20] in [0, 1] (:func:`extract`).
    y:
        int64 [N], the spoken digit.
    speakers:
        str [N], speaker name.
    takes:
        int64 [N], take index 0-49 (0-4: FSDD's official test set).
    names:
        str [N], file names such as ``"7_theo_12.wav"``.
    params:
        The recipe's parameters.
    """

    X: np.ndarray
    y: np.ndarray
    speakers: np.ndarray
    takes: np.ndarray
    names: np.ndarray
    params: FeatureParams

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def official_split(self, split: str) -> SpokenFeatures:
        """``"test"``: takes 0-4 (300 recordings); ``"train"``: takes 5-49 (2,700), as
        :class:`~rrampaper.data.SpokenFeatures` (whose ``train_validation_split`` carves a seeded,
        stratified validation split out of the training takes)."""
        check_choice("split", split, ("train", "test"))
        is_test = self.takes < N_TEST_TAKES
        keep = is_test if split == "test" else ~is_test
        return SpokenFeatures(self.X[keep], self.y[keep], split)


def cache_path(params: FeatureParams | None = None, folder: str | Path | None = None) -> Path:
    """Where :func:`fsdd_features` caches the features of ``params``.

    ``<folder or results_dir()>/features/fsdd-<key>.npz`` with ``key`` the SHA-256 (first 16
    hex digits) of the parameters, :data:`RECIPE_VERSION` and the FSDD registry hashes.
    """

    params = params or FeatureParams()
    fsdd = "".join(f"{p}:{registry.registry()[p]}\n" for p in registry.files("fsdd"))
    key = hashlib.sha256(f"{params.key()}\n{fsdd}".encode()).hexdigest()[:16]
    return Path(folder or results_dir()) / "features" / f"fsdd-{key}.npz"


class _UnusableCache(Exception):
    """A cached feature file that cannot be used (the message says why)."""


def _read_cache(path: Path, params: FeatureParams) -> FSDDFeatures:
    """The features in ``path``, checked; raise :class:`_UnusableCache` if they cannot be used."""
    names = ("X", "y", "speakers", "takes", "names")
    try:
        with np.load(path, allow_pickle=False) as cached:
            missing = [k for k in names if k not in cached.files]
            if missing:
                raise _UnusableCache(f"it lacks the arrays {missing}")
            arrays = {k: cached[k] for k in names}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as error:
        if isinstance(error, PermissionError):
            raise
        text = str(error).strip().splitlines()
        reason = f"{type(error).__name__}: {text[0][:200]}" if text else type(error).__name__
        raise _UnusableCache(f"it cannot be read as a .npz of plain arrays ({reason})") from None
    X, y, takes = arrays["X"], arrays["y"], arrays["takes"]
    n = X.shape[0] if X.ndim else -1
    if X.dtype != np.float32 or X.shape[1:] != params.shape:
        raise _UnusableCache(f"X is {X.dtype} {X.shape}, not float32 [N, {params.shape[0]}, "
                             f"{params.shape[1]}]")
    if not (np.isfinite(X).all() and X.min(initial=0.0) >= 0.0 and X.max(initial=0.0) <= 1.0):
        raise _UnusableCache("X has values outside [0, 1] or not finite")
    for name in ("y", "takes", "speakers", "names"):
        if arrays[name].shape != (n,):
            raise _UnusableCache(f"{name} has shape {arrays[name].shape}, not ({n},) like X")
    if y.dtype.kind not in "iu" or takes.dtype.kind not in "iu":
        raise _UnusableCache(f"y ({y.dtype}) and takes ({takes.dtype}) must be integers")
    if n and (y.min() < 0 or y.max() > 9 or takes.min() < 0):
        raise _UnusableCache("y has labels outside 0-9 or takes has negative take indices")
    if arrays["speakers"].dtype.kind != "U" or arrays["names"].dtype.kind != "U":
        raise _UnusableCache("speakers and names must be arrays of strings")
    return FSDDFeatures(X=X, y=y.astype(np.int64), speakers=arrays["speakers"],
                        takes=takes.astype(np.int64), names=arrays["names"], params=params)


def fsdd_features(params: FeatureParams | None = None, *, folder: str | Path | None = None,
                  recompute: bool = False) -> FSDDFeatures:
    """Features of all FSDD v1.0.10 recordings, computed once and then read from the cache.

    Parameters
    ----------
    params:
        The recipe's parameters (default :class:`FeatureParams`: 23 x 20).
    folder:
        Results folder holding the cache (default :func:`rrampaper.paths.results_dir`).
    recompute:
        Ignore a cached file and compute (and cache) again.

    Computing takes a few seconds on one core (3,000 clips); the cache is a plain ``.npz``
    (no pickle) written atomically. A cached file that cannot be used (unreadable, or arrays of
    the wrong names, shapes, types or ranges) is replaced by a fresh computation, with a
    ``RuntimeWarning`` naming it.
    """
    params = params or FeatureParams()
    path = cache_path(params, folder)
    if path.is_file() and not recompute:
        try:
            return _read_cache(path, params)
        except _UnusableCache as problem:
            warnings.warn(f"{path}: the cached FSDD features cannot be used ({problem}); computing "
                          f"them again and replacing the file", RuntimeWarning, stacklevel=2)

    recordings = load_fsdd("all")
    if recordings.sample_rate != params.sample_rate:
        raise ValueError(f"params.sample_rate={params.sample_rate} Hz but FSDD is recorded at "
                         f"{recordings.sample_rate} Hz")
    features = FSDDFeatures(
        X=extract_many(recordings.waveforms, params),
        y=recordings.labels.astype(np.int64),
        speakers=np.asarray(recordings.speakers, dtype=str),
        takes=recordings.takes.astype(np.int64),
        names=np.asarray(recordings.names, dtype=str),
        params=params,
    )
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, X=features.X, y=features.y, speakers=features.speakers,
                 takes=features.takes, names=features.names)
    return features
