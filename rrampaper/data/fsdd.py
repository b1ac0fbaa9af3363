"""Free Spoken Digit Dataset (FSDD) v1.0.10: 3,000 recordings of spoken digits at 8 kHz.

Source: https://github.com/Jakobovski/free-spoken-digit-dataset, tag v1.0.10; CC BY-SA 4.0.
Six (male) speakers each say every digit 0-9 fifty times; files are
``recordings/{digit}_{speaker}_{take}.wav``, mono 16-bit PCM at 8,000 Hz, 0.14-2.28 s long.
The official split (upstream README) puts takes 0-4 in the test set (300 recordings) and takes
5-49 in the training set (2,700); it is not speaker-independent.

The paper's CRNN does not read the audio itself but 23x20 features extracted from it by the
authors (:mod:`rrampaper.data.spoken_features`); the audio is here to show and study the task.

Examples
--------
>>> from rrampaper.data import load_fsdd       # doctest: +SKIP
>>> test = load_fsdd("test")                    # doctest: +SKIP
>>> len(test), test.sample_rate                 # doctest: +SKIP
(300, 8000)
"""

from __future__ import annotations

import os
import re
import wave
from dataclasses import dataclass

import numpy as np

from rrampaper._checks import check_choice, check_positive_int
from rrampaper.data import registry
from rrampaper.data.splits import label_counts

#: Sample rate of every FSDD recording (Hz).
SAMPLE_RATE_HZ = 8000
#: The six speakers of v1.0.10, in alphabetical order.
SPEAKERS: tuple[str, ...] = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")
#: Takes 0-4 form the official test set, takes 5-49 the training set.
N_TEST_TAKES = 5

_NAME = re.compile(r"^(?P<digit>\d)_(?P<speaker>[a-z]+)_(?P<take>\d+)\.wav$")


def read_wav(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """Read a mono 16-bit PCM WAV file with the standard-library :mod:`wave` module.

    Returns
    -------
    (waveform, sample_rate):
        float32 samples scaled by 1/32768 (so in [-1, 1)), and the sample rate in Hz.
    """
    with wave.open(os.fspath(path), "rb") as stream:
        if stream.getnchannels() != 1 or stream.getsampwidth() != 2:
            raise ValueError(
                f"{path}: expected mono 16-bit PCM, got {stream.getnchannels()} channel(s) of "
                f"{8 * stream.getsampwidth()} bits"
            )
        rate = stream.getframerate()
        frames = stream.readframes(stream.getnframes())
    return np.frombuffer(frames, dtype="<i2").astype(np.float32) / np.float32(32768.0), rate


@dataclass(frozen=True)
class FSDDRecordings:
    """A set of FSDD recordings with their metadata (one entry per recording).

    Attributes
    ----------
    waveforms:
        float32 1-D arrays in [-1, 1), variable length (samples at :attr:`sample_rate`).
    labels:
        int64 [N], the spoken digit 0-9.
    speakers:
        str [N], speaker name (one of :data:`SPEAKERS`).
    takes:
        int64 [N], take index 0-49 (0-4 = official test set).
    names:
        File names, e.g. ``"7_theo_12.wav"``.
    sample_rate:
        Hz (8,000 for every FSDD file).
    split:
        ``"all"``, ``"train"`` or ``"test"``.
    """

    waveforms: tuple[np.ndarray, ...]
    labels: np.ndarray
    speakers: np.ndarray
    takes: np.ndarray
    names: tuple[str, ...]
    sample_rate: int = SAMPLE_RATE_HZ
    split: str = "all"

    def __len__(self) -> int:
        return len(self.names)

    @property
    def durations(self) -> np.ndarray:
        """Length of each recording in seconds (float64 [N])."""
        return np.array([w.shape[0] for w in self.waveforms], dtype=np.float64) / self.sample_rate

    def label_counts(self) -> np.ndarray:
        """Number of recordings per digit (int64 [10])."""
        return label_counts(self.labels, 10)

    def subset(self, indices: np.ndarray, split: str | None = None) -> FSDDRecordings:
        """The recordings at ``indices`` (integer indices or a boolean mask)."""
        idx = np.arange(len(self))[np.asarray(indices)]
        return FSDDRecordings(
            waveforms=tuple(self.waveforms[i] for i in idx),
            labels=self.labels[idx],
            speakers=self.speakers[idx],
            takes=self.takes[idx],
            names=tuple(self.names[i] for i in idx),
            sample_rate=self.sample_rate,
            split=split or self.split,
        )

    def official_split(self, split: str) -> FSDDRecordings:
        """``"test"``: takes 0-4; ``"train"``: takes 5-49 (upstream README)."""
        check_choice("split", split, ("train", "test"))
        is_test = self.takes < N_TEST_TAKES
        return self.subset(is_test if split == "test" else ~is_test, split)

    def padded(self, n_samples: int | None = None) -> np.ndarray:
        """Waveforms as float32 [N, n_samples], zero-padded or truncated at the end.

        ``n_samples`` defaults to the longest recording.
        """
        if n_samples is None:
            n_samples = max(w.shape[0] for w in self.waveforms)
        n_samples = check_positive_int("n_samples", n_samples)
        out = np.zeros((len(self), n_samples), dtype=np.float32)
        for row, w in zip(out, self.waveforms, strict=True):
            row[: min(n_samples, w.shape[0])] = w[:n_samples]
        return out


def parse_name(name: str) -> tuple[int, str, int]:
    """``"7_theo_12.wav"`` -> ``(7, "theo", 12)`` (digit, speaker, take)."""
    match = _NAME.match(name)
    if match is None:
        raise ValueError(f"{name!r} is not an FSDD file name '{{digit}}_{{speaker}}_{{take}}.wav'")
    return int(match["digit"]), match["speaker"], int(match["take"])


def load_fsdd(split: str = "all", *, download: bool = True) -> FSDDRecordings:
    """Load FSDD v1.0.10 (``"all"``: 3,000 recordings, ``"train"``: 2,700, ``"test"``: 300).

    Files are looked up under ``$RRAMPAPER_DATA_DIR/fsdd/recordings/`` (SHA-256 verified) and
    downloaded one by one from the v1.0.10 tag on GitHub when missing and ``download`` is true.
    Every file is checked to be mono 16-bit PCM at 8,000 Hz.
    """
    check_choice("split", split, ("all", "train", "test"))
    relpaths = registry.files("fsdd")
    meta = [parse_name(r.rsplit("/", 1)[1]) for r in relpaths]
    if split != "all":
        keep = [(m[2] < N_TEST_TAKES) == (split == "test") for m in meta]
        relpaths = [r for r, k in zip(relpaths, keep, strict=True) if k]
        meta = [m for m, k in zip(meta, keep, strict=True) if k]
    waveforms = []
    for path in registry.fetch_many(relpaths, download=download):
        waveform, rate = read_wav(path)
        if rate != SAMPLE_RATE_HZ:
            raise ValueError(f"{path}: sample rate {rate} Hz, expected {SAMPLE_RATE_HZ} Hz")
        waveforms.append(waveform)
    digits, speakers, takes = zip(*meta, strict=True)
    return FSDDRecordings(
        waveforms=tuple(waveforms),
        labels=np.array(digits, dtype=np.int64),
        speakers=np.array(speakers, dtype=str),
        takes=np.array(takes, dtype=np.int64),
        names=tuple(r.rsplit("/", 1)[1] for r in relpaths),
        split=split,
    )
