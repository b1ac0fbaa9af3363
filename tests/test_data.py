"""Datasets: registry, verification, download, error messages and the loaders' numbers.

Tests on real files read them from :func:`rrampaper.paths.data_dir` (CI sets
``RRAMPAPER_DATA_DIR``) and skip, saying which dataset is absent, when they are not there.
Tests of failures work on temporary copies under ``tmp_path``; nothing is ever written into the
data folder.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import hashlib
import http.server
import re
import shutil
import struct
import threading
import wave
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.io import wavfile

from rrampaper import paths
from rrampaper.data import (
    ChecksumError,
    DatasetCheck,
    DatasetMissingError,
    check_all,
    drive_available,
    example_fundus,
    load_drive,
    load_fashion_mnist,
    load_fsdd,
    load_spoken_features,
    registry,
    sources,
    split_indices,
    write_synthetic_drive,
)
from rrampaper.data.drive import drive_configured, drive_files, require_drive
from rrampaper.data.fashion_mnist import IMAGES_MAGIC, LABELS_MAGIC, MEAN, STD, read_idx
from rrampaper.data.fsdd import parse_name
from rrampaper.data.spoken_features import read_features
from rrampaper.errors import DataError

# SHA-256 of the four official Fashion-MNIST files, computed once from the download: an
# independent copy of what registry.txt must hold.
FASHION_SHA256 = {
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}
FEATURES_TRAIN_COUNTS = [218, 215, 208, 207, 202, 216, 205, 202, 211, 216]
FEATURES_TEST_COUNTS = [82, 85, 92, 93, 98, 84, 95, 98, 89, 84]


def _present(dataset: str) -> bool:
    return all(registry.local_path(r).is_file() for r in registry.files(dataset))


def _require(dataset: str) -> None:
    if not _present(dataset):
        pytest.skip(
            f"{dataset} is not under {paths.data_dir()} (set RRAMPAPER_DATA_DIR to a copy, "
            "holding the official files)"
        )


@pytest.fixture(scope="module")
def fashion_train():
    _require("fashion-mnist")
    return load_fashion_mnist("train", download=False)


@pytest.fixture(scope="module")
def fashion_test():
    _require("fashion-mnist")
    return load_fashion_mnist("test", download=False)


@pytest.fixture(scope="module")
def fsdd_all():
    _require("fsdd")
    return load_fsdd("all", download=False)


@pytest.fixture(scope="module")
def features_test():
    _require("spoken-digit-features")
    return load_spoken_features("test")


@pytest.fixture(scope="module")
def real_data_dir():
    """The configured data folder, captured before any test redirects the variables."""
    return paths.data_dir()


@pytest.fixture(scope="module")
def real_drive_dir():
    return paths.drive_dir()


@pytest.fixture
def empty_data_dir(tmp_path, monkeypatch):
    """An empty data folder, selected through RRAMPAPER_DATA_DIR; DRIVE is not configured
    (RRAMPAPER_DRIVE_DIR unset, no drive/DRIVE in the data folder)."""
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("RRAMPAPER_DATA_DIR", str(data))
    monkeypatch.delenv("RRAMPAPER_DRIVE_DIR", raising=False)
    return data


def _copy_into(source: Path, data: Path, relpaths: list[str]) -> None:
    """Copy real files from data folder ``source`` into the temporary data folder ``data``."""
    for relpath in relpaths:
        target = data / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / relpath, target)


def _flip_last_byte(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 0xFF
    path.write_bytes(bytes(raw))


# --------------------------------------------------------------------------- registry


def test_registry_has_a_sha256_for_every_file_of_every_dataset():
    entries = registry.registry()
    assert len(entries) == 3146
    assert {name: len(registry.files(name)) for name in sources.SOURCES} == {
        "fashion-mnist": 4,
        "fsdd": 3000,
        "spoken-digit-features": 2,
        "drive": 140,
    }
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in entries.values())
    for name, digest in FASHION_SHA256.items():
        assert entries[f"fashion-mnist/{name}"] == digest
    speakers = {parse_name(r.rsplit("/", 1)[1])[1] for r in registry.files("fsdd")}
    assert speakers == {"george", "jackson", "lucas", "nicolas", "theo", "yweweler"}
    assert sum("/2nd_manual/" in r for r in registry.files("drive")) == 20


def test_registry_agrees_with_the_data_folder_manifest():
    manifest = paths.data_dir() / "MANIFEST.sha256"
    if not manifest.is_file():
        pytest.skip(f"no MANIFEST.sha256 in {paths.data_dir()}")
    listed = dict(line.split()[::-1] for line in manifest.read_text().splitlines() if line)
    assert listed == dict(registry.registry())


def test_official_urls_and_never_downloaded_sources():
    assert (
        sources.FASHION_MNIST.url("fashion-mnist/t10k-labels-idx1-ubyte.gz")
        == "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-labels-idx1-ubyte.gz"
    )
    assert sources.FSDD.url("fsdd/recordings/7_theo_12.wav") == (
        "https://raw.githubusercontent.com/Jakobovski/free-spoken-digit-dataset/"
        "v1.0.10/recordings/7_theo_12.wav"
    )
    assert sources.SPOKEN_FEATURES.url("spoken-digit-features/train.npz") is None
    assert sources.DRIVE.url("drive/DRIVE/test/mask/01_test_mask.gif") is None
    with pytest.raises(ValueError, match="does not belong to fsdd"):
        sources.FSDD.url("fashion-mnist/t10k-labels-idx1-ubyte.gz")


# --------------------------------------------------------------------------- Fashion-MNIST


def test_fashion_mnist_sizes_types_and_balanced_classes(fashion_train, fashion_test):
    assert fashion_train.images.shape == (60_000, 28, 28)
    assert fashion_test.images.shape == (10_000, 28, 28)
    assert fashion_train.images.dtype == np.uint8 and fashion_train.labels.dtype == np.int64
    assert fashion_train.label_counts().tolist() == [6000] * 10
    assert fashion_test.label_counts().tolist() == [1000] * 10
    assert fashion_train.classes[0] == "T-shirt/top" and fashion_train.classes[9] == "Ankle boot"
    # Published Fashion-MNIST statistics of the training pixels: mean 0.2860, std 0.3530.
    histogram = np.bincount(fashion_train.images.ravel(), minlength=256)
    levels = np.arange(256) / 255
    mean = histogram @ levels / histogram.sum()
    std = np.sqrt(histogram @ (levels - mean) ** 2 / histogram.sum())
    assert mean == pytest.approx(0.2860, abs=5e-4) and std == pytest.approx(0.3530, abs=5e-4)


def test_fashion_mnist_tensor_dataset_uses_the_papers_normalization(fashion_test):
    dataset = fashion_test.to_tensor_dataset()
    x, y = dataset.tensors
    assert x.shape == (10_000, 1, 28, 28) and x.dtype == torch.float32
    assert y.dtype == torch.int64 and torch.equal(y, torch.from_numpy(fashion_test.labels))
    assert (MEAN, STD) == (0.1307, 0.3081)  # the MNIST constants, as in the paper's code
    assert x.min().item() == pytest.approx((0 - 0.1307) / 0.3081, abs=1e-6)
    assert x.max().item() == pytest.approx((1 - 0.1307) / 0.3081, abs=1e-6)
    expected = (fashion_test.images[5, 10, 12] / 255 - 0.1307) / 0.3081
    assert x[5, 0, 10, 12].item() == pytest.approx(expected, abs=1e-6)
    raw = fashion_test.to_tensor_dataset(normalize_images=False).tensors[0]
    assert raw.max().item() == 1.0 and raw.min().item() == 0.0


def test_fashion_mnist_validation_split_is_seeded_stratified_and_disjoint(fashion_train):
    fit, val = fashion_train.train_validation_split(5000, seed=0)
    assert (len(fit), len(val)) == (55_000, 5_000)
    assert val.label_counts().tolist() == [500] * 10
    assert (fit.split, val.split) == ("train", "validation")
    train_idx, val_idx = split_indices(fashion_train.labels, 5000, seed=0)
    assert np.intersect1d(train_idx, val_idx).size == 0
    assert np.array_equal(np.union1d(train_idx, val_idx), np.arange(60_000))
    assert np.array_equal(val.images, fashion_train.images[val_idx])
    again = split_indices(fashion_train.labels, 5000, seed=0)[1]
    other = split_indices(fashion_train.labels, 5000, seed=1)[1]
    assert np.array_equal(again, val_idx)
    assert np.intersect1d(other, val_idx).size < 1000  # ~5000 * 5000/60000 = 417 by chance


def test_split_indices_unstratified_and_bad_sizes():
    labels = np.repeat(np.arange(3), [50, 30, 20])
    train, val = split_indices(labels, 10, seed=3, stratify=False)
    assert (train.size, val.size) == (90, 10)
    _, stratified = split_indices(labels, 10, seed=3)
    assert np.bincount(labels[stratified], minlength=3).tolist() == [5, 3, 2]
    with pytest.raises(ValueError, match="n_validation=100 must be smaller than the set size 100"):
        split_indices(labels, 100)
    with pytest.raises(ValueError, match="n_validation=0 must be an integer >= 1"):
        split_indices(labels, 0)


def _write_idx(path: Path, magic: int, array: np.ndarray, extra: bytes = b"") -> None:
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as stream:
        stream.write(header + array.astype(np.uint8).tobytes() + extra)


def test_read_idx_decodes_and_checks_magic_and_size(tmp_path):
    images = np.arange(2 * 28 * 28, dtype=np.int64).reshape(2, 28, 28) % 256
    _write_idx(tmp_path / "ok.gz", IMAGES_MAGIC, images)
    assert np.array_equal(read_idx(tmp_path / "ok.gz", IMAGES_MAGIC), images)
    with pytest.raises(ValueError, match="magic number is 0x00000803, expected 0x00000801"):
        read_idx(tmp_path / "ok.gz", LABELS_MAGIC)
    _write_idx(tmp_path / "long.gz", LABELS_MAGIC, np.arange(5), extra=b"\x00")
    with pytest.raises(ValueError, match=r"header says \(5,\) = 5 bytes, found 6"):
        read_idx(tmp_path / "long.gz", LABELS_MAGIC)


# --------------------------------------------------------------------------- FSDD


def test_fsdd_recordings_speakers_rate_and_official_split(fsdd_all):
    assert len(fsdd_all) == 3000 and fsdd_all.sample_rate == 8000
    speakers, per_speaker = np.unique(fsdd_all.speakers, return_counts=True)
    assert speakers.tolist() == ["george", "jackson", "lucas", "nicolas", "theo", "yweweler"]
    assert per_speaker.tolist() == [500] * 6
    assert fsdd_all.label_counts().tolist() == [300] * 10
    assert fsdd_all.labels.dtype == np.int64 and fsdd_all.takes.dtype == np.int64
    assert all(w.dtype == np.float32 for w in fsdd_all.waveforms)
    assert min(w.min() for w in fsdd_all.waveforms) >= -1.0
    assert max(w.max() for w in fsdd_all.waveforms) < 1.0
    # Durations from the dataset README: 0.143-2.283 s, median 0.420 s, 21.9 min in total.
    durations = fsdd_all.durations
    assert durations.min() == pytest.approx(0.143, abs=1e-3)
    assert durations.max() == pytest.approx(2.283, abs=1e-3)
    assert np.median(durations) == pytest.approx(0.420, abs=2e-3)
    assert durations.sum() / 60 == pytest.approx(21.9, abs=0.05)

    test, train = fsdd_all.official_split("test"), fsdd_all.official_split("train")
    assert (len(test), len(train)) == (300, 2700)
    assert set(test.takes.tolist()) == set(range(5)) and train.takes.min() == 5
    assert test.label_counts().tolist() == [30] * 10
    assert np.unique(test.speakers, return_counts=True)[1].tolist() == [50] * 6
    assert load_fsdd("test", download=False).names == test.names


def test_fsdd_samples_agree_with_an_independent_decoder(fsdd_all):
    index = fsdd_all.names.index("7_theo_12.wav")
    path = registry.local_path("fsdd/recordings/7_theo_12.wav")
    rate, samples = wavfile.read(path)
    assert rate == 8000 and samples.dtype == np.int16
    assert np.array_equal(fsdd_all.waveforms[index], samples.astype(np.float32) / 32768)
    with wave.open(str(path)) as stream:
        assert (stream.getnchannels(), stream.getsampwidth()) == (1, 2)
    assert (fsdd_all.labels[index], fsdd_all.speakers[index], fsdd_all.takes[index]) == (
        7,
        "theo",
        12,
    )


def test_fsdd_padded_and_name_parsing(fsdd_all):
    subset = fsdd_all.subset(np.arange(4))
    padded = subset.padded()
    assert padded.shape == (4, max(w.size for w in subset.waveforms))
    assert np.array_equal(padded[0, : subset.waveforms[0].size], subset.waveforms[0])
    assert not padded[0, subset.waveforms[0].size :].any()
    assert subset.padded(100).shape == (4, 100)
    assert parse_name("0_yweweler_49.wav") == (0, "yweweler", 49)
    with pytest.raises(ValueError, match="not an FSDD file name"):
        parse_name("seven.wav")


# --------------------------------------------------------------------------- features


def test_spoken_features_shapes_values_and_label_counts():
    _require("spoken-digit-features")
    train, test = load_spoken_features("train"), load_spoken_features("test")
    assert train.X.shape == (2100, 23, 20) and test.X.shape == (900, 23, 20)
    assert train.X.dtype == np.float32 and train.y.dtype == np.int64
    assert train.label_counts().tolist() == FEATURES_TRAIN_COUNTS
    assert test.label_counts().tolist() == FEATURES_TEST_COUNTS
    assert train.X.min() == 0.0 and train.X.max() == 1.0
    x, y = train.to_tensor_dataset()[0]
    assert x.shape == (23, 20) and y.item() == train.y[0]
    fit, val = train.train_validation_split(210, seed=0)
    assert (len(fit), len(val)) == (1890, 210)


class _RunsCode:
    """Unpickling this creates a file: proof that a loader did (or did not) unpickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_spoken_features_never_unpickle(tmp_path):
    marker = tmp_path / "pwned"
    payload = np.empty(1, dtype=object)
    payload[0] = _RunsCode(marker)
    np.savez(tmp_path / "pickled.npz", X=payload, y=np.zeros(1, dtype=np.int64))
    with pytest.raises(ValueError, match="pickled object arrays.*never unpickles"):
        read_features(tmp_path / "pickled.npz")
    assert not marker.exists()


def test_spoken_features_missing_explains_what_and_where(empty_data_dir):
    with pytest.raises(DatasetMissingError) as caught:
        load_spoken_features("train")
    message = str(caught.value)
    for needed in (
        str(empty_data_dir / "spoken-digit-features" / "train.npz"),
        "github.com/lyd126/Pruning_random_resistive_memory_for_optimizing_analogue_AI",
        "CRNN_Spoken_Digit_TO/train_features.npz",
        "pickled object arrays",
        "X float32 [N,23,20] and y int64 [N]",
        "RRAMPAPER_DATA_DIR is set to",
    ):
        assert needed in message


def test_spoken_features_accept_an_own_conversion_and_refuse_other_arrays(
    features_test, empty_data_dir
):
    folder = empty_data_dir / "spoken-digit-features"
    folder.mkdir()
    # An uncompressed re-save: other file bytes, same arrays -> accepted by the array hash.
    np.savez(folder / "test.npz", X=features_test.X, y=features_test.y)
    assert (
        hashlib.sha256((folder / "test.npz").read_bytes()).hexdigest()
        != (registry.registry()["spoken-digit-features/test.npz"])
    )
    assert np.array_equal(load_spoken_features("test").X, features_test.X)
    assert [c.status for c in check_all() if c.name == "spoken-digit-features"] == ["MISSING"]
    changed = features_test.X.copy()
    changed[0, 0, 0] = 0.5
    np.savez(folder / "test.npz", X=changed, y=features_test.y)
    with pytest.raises(ChecksumError, match=r"\(arrays X, y\)"):
        load_spoken_features("test")


# --------------------------------------------------------------------------- missing / corrupt


def test_corrupted_copy_is_refused_with_path_and_both_hashes(real_data_dir, empty_data_dir):
    _require_in(real_data_dir, "fashion-mnist")
    relpaths = [
        "fashion-mnist/t10k-images-idx3-ubyte.gz",
        "fashion-mnist/t10k-labels-idx1-ubyte.gz",
    ]
    _copy_into(real_data_dir, empty_data_dir, relpaths)
    assert len(load_fashion_mnist("test", download=False)) == 10_000  # the good copy is used
    corrupted = empty_data_dir / relpaths[1]
    _flip_last_byte(corrupted)
    actual = hashlib.sha256(corrupted.read_bytes()).hexdigest()
    with pytest.raises(ChecksumError) as caught:
        load_fashion_mnist("test")  # download allowed: a corrupt file is refused, not replaced
    message = str(caught.value)
    assert str(corrupted) in message
    assert FASHION_SHA256["t10k-labels-idx1-ubyte.gz"] in message and actual in message
    assert "Delete it and run again" in message and "RRAMPAPER_DATA_DIR" in message
    assert caught.value.actual == actual
    assert hashlib.sha256(corrupted.read_bytes()).hexdigest() == actual  # left as it was
    checks = {c.name: c for c in check_all()}
    assert checks["fashion-mnist"].status == "CORRUPT" and not checks["fashion-mnist"].ok
    assert str(corrupted) in checks["fashion-mnist"].detail


def test_missing_file_names_dataset_variable_and_official_url(empty_data_dir):
    with pytest.raises(DatasetMissingError) as caught:
        load_fashion_mnist("test", download=False)
    message = str(caught.value)
    assert message.startswith("Fashion-MNIST (fashion-mnist): 2 files missing")
    assert str(empty_data_dir / "fashion-mnist" / "t10k-images-idx3-ubyte.gz") in message
    assert "RRAMPAPER_DATA_DIR is set to" in message
    assert (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-images-idx3-ubyte.gz"
        in message
    )
    with pytest.raises(DatasetMissingError, match="Free Spoken Digit Dataset v1.0.10"):
        load_fsdd("test", download=False)
    assert list(empty_data_dir.iterdir()) == []  # nothing was created


def test_loading_writes_nothing_into_the_data_folder(real_data_dir, fashion_test, fsdd_all):
    folders = [real_data_dir / "fashion-mnist", real_data_dir / "fsdd" / "recordings"]
    before = {p: p.stat().st_mtime_ns for f in folders for p in [f, *f.iterdir()]}
    load_fashion_mnist("test")
    load_fsdd("test")
    after = {p: p.stat().st_mtime_ns for f in folders for p in [f, *f.iterdir()]}
    assert after == before


def _require_in(root: Path, dataset: str) -> None:
    relpaths = registry.files(dataset)
    if dataset == "drive":
        relpaths = [r[len("drive/DRIVE/") :] for r in relpaths]
    if not all((root / r).is_file() for r in relpaths):
        pytest.skip(f"{dataset} is not under {root}")


# --------------------------------------------------------------------------- downloads


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def fashion_server(tmp_path, monkeypatch):
    """A local HTTP server standing in for the Fashion-MNIST bucket: (folder it serves, URL)."""
    root = tmp_path / "server"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    monkeypatch.setitem(
        sources.SOURCES, "fashion-mnist", dataclasses.replace(sources.FASHION_MNIST, base_url=url)
    )
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    yield root, url
    server.shutdown()
    server.server_close()


def test_missing_files_are_downloaded_verified_and_used(
    real_data_dir, empty_data_dir, fashion_server
):
    _require_in(real_data_dir, "fashion-mnist")
    served, _ = fashion_server
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copyfile(real_data_dir / "fashion-mnist" / name, served / name)
    test = load_fashion_mnist("test")
    assert test.label_counts().tolist() == [1000] * 10
    downloaded = sorted(p.name for p in (empty_data_dir / "fashion-mnist").iterdir())
    assert downloaded == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    assert (
        hashlib.sha256((empty_data_dir / "fashion-mnist" / downloaded[1]).read_bytes()).hexdigest()
        == (FASHION_SHA256["t10k-labels-idx1-ubyte.gz"])
    )


def test_corrupted_download_is_deleted_and_refused(real_data_dir, empty_data_dir, fashion_server):
    _require_in(real_data_dir, "fashion-mnist")
    served, url = fashion_server
    name = "t10k-labels-idx1-ubyte.gz"
    shutil.copyfile(real_data_dir / "fashion-mnist" / name, served / name)
    _flip_last_byte(served / name)
    actual = hashlib.sha256((served / name).read_bytes()).hexdigest()
    with pytest.raises(ChecksumError) as caught:
        registry.fetch(f"fashion-mnist/{name}")
    message = str(caught.value)
    assert f"downloaded from {url}{name}" in message
    assert FASHION_SHA256[name] in message and actual in message
    assert "was deleted" in message
    assert list(empty_data_dir.iterdir()) == []  # no partial file, not even its folder


def test_failed_download_names_the_url_and_leaves_nothing(empty_data_dir, fashion_server):
    _, url = fashion_server  # serves an empty folder: every request is a 404
    with pytest.raises(DatasetMissingError) as caught:
        registry.fetch("fashion-mnist/t10k-labels-idx1-ubyte.gz")
    message = str(caught.value)
    assert f"Downloading it from the official URL {url}t10k-labels-idx1-ubyte.gz failed" in message
    assert "404" in message and "RRAMPAPER_DATA_DIR" in message
    assert list(empty_data_dir.iterdir()) == []


def test_never_downloaded_datasets_are_not_fetched(empty_data_dir):
    with pytest.raises(DatasetMissingError, match="never opens them"):
        registry.fetch("spoken-digit-features/test.npz", download=True)
    with pytest.raises(ValueError, match="not in the registry"):
        registry.fetch("fashion-mnist/unknown.gz")


# --------------------------------------------------------------------------- check_all


def test_check_all_reports_one_line_per_dataset(real_data_dir):
    checks = check_all()
    assert [c.name for c in checks] == ["fashion-mnist", "fsdd", "spoken-digit-features", "drive"]
    for check in checks:
        line = str(check)
        assert "\n" not in line and line.split()[0] == check.name
        assert check.ok == (check.status == "OK")
    present = {c.name: c for c in checks}
    if _present("fashion-mnist"):
        assert present["fashion-mnist"].ok
        assert re.match(
            r"fashion-mnist\s+OK\s+4 files, sha256 verified", str(present["fashion-mnist"])
        )
    if _present("fsdd"):
        assert str(present["fsdd"]).split()[1:5] == ["OK", "3000", "files,", "sha256"]


def test_check_all_on_an_empty_folder_says_what_to_do(empty_data_dir):
    checks = {c.name: c for c in check_all()}
    assert all(c.status == "MISSING" and not c.ok for c in checks.values())
    assert "4 of 4 files missing" in checks["fashion-mnist"].detail
    assert "fashion-mnist.s3-website" in checks["fashion-mnist"].detail
    assert "not downloadable" in checks["spoken-digit-features"].detail
    drive = str(checks["drive"])
    assert drive.startswith("drive") and "MISSING" in drive and "not configured" in drive
    assert (
        "licence forbids redistribution" in drive and "https://drive.grand-challenge.org/" in drive
    )
    assert "RRAMPAPER_DRIVE_DIR" in drive
    assert str(DatasetCheck("x", False, "gone")).split() == ["x", "FAILED", "gone"]


# --------------------------------------------------------------------------- DRIVE


@pytest.fixture(scope="module")
def drive_copy(real_drive_dir, tmp_path_factory):
    """(folder, verify): the real DRIVE when available, else a synthetic stand-in."""
    if drive_available(real_drive_dir):
        return real_drive_dir, True
    return write_synthetic_drive(tmp_path_factory.mktemp("synthetic-drive"), seed=0), False


def test_drive_splits_sizes_types_and_vessel_fraction(drive_copy):
    folder, verify = drive_copy
    train = load_drive("train", folder, verify=verify)
    test = load_drive("test", folder, verify=verify)
    assert train.images.shape == (20, 584, 565, 3) and test.images.shape == (20, 584, 565, 3)
    assert train.images.dtype == np.uint8
    assert train.vessels.dtype == np.bool_ and train.fov.dtype == np.bool_
    assert train.names == tuple(f"{i}_training" for i in range(21, 41))
    assert test.names == tuple(f"{i:02d}_test" for i in range(1, 21))
    assert test.second_observer is not None and test.second_observer.shape == (20, 584, 565)
    assert train.second_observer is None
    # DRIVE: vessels cover 8.7-16.8 % of the FOV (mean 12.5 %); the FOV covers 69 % of a frame.
    fractions = train.vessel_fractions
    assert fractions.min() > 0.07 and fractions.max() < 0.18
    assert 0.10 < fractions.mean() < 0.14
    assert train.fov.mean() == pytest.approx(0.69, abs=0.02)
    image = train[0]
    assert image.name == "21_training" and image.image.shape == (584, 565, 3)


def test_drive_corrupted_copy_is_refused_unless_verify_false(real_drive_dir, tmp_path):
    _require_in(real_drive_dir, "drive")
    shutil.copytree(real_drive_dir / "training", tmp_path / "training")
    corrupted = tmp_path / "training" / "mask" / "25_training_mask.gif"
    _flip_last_byte(corrupted)
    with pytest.raises(ChecksumError) as caught:
        load_drive("train", tmp_path)
    message = str(caught.value)
    assert str(corrupted) in message and "verify=False" in message
    assert registry.registry()["drive/DRIVE/training/mask/25_training_mask.gif"] in message
    assert len(load_drive("train", tmp_path, verify=False)) == 20


def test_drive_missing_folder_or_file_cites_the_licence(drive_copy, tmp_path, monkeypatch):
    monkeypatch.delenv("RRAMPAPER_DRIVE_DIR", raising=False)
    monkeypatch.setenv("RRAMPAPER_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(DatasetMissingError) as caught:
        load_drive("train")
    message = str(caught.value)
    assert f"{tmp_path / 'data' / 'drive' / 'DRIVE'} does not exist" in message
    assert "forbids redistribution" in message and "https://drive.grand-challenge.org/" in message
    assert "RRAMPAPER_DRIVE_DIR is not set" in message

    folder, verify = drive_copy
    shutil.copytree(
        folder / "test",
        tmp_path / "copy" / "test",
        ignore=shutil.ignore_patterns("*_manual2.gif", "07_test_mask.gif"),
    )
    with pytest.raises(
        DatasetMissingError, match=r"1 file\(s\) are missing .* test/mask/07_test_mask.gif"
    ):
        load_drive("test", tmp_path / "copy", verify=verify)
    shutil.copyfile(
        folder / "test/mask/07_test_mask.gif", tmp_path / "copy/test/mask/07_test_mask.gif"
    )
    without_second = load_drive("test", tmp_path / "copy", verify=verify)  # 2nd_manual optional
    assert without_second.second_observer is None and len(without_second) == 20


def test_drive_file_list_is_in_the_registry():
    listed = {
        r for split in ("train", "test") for rels in drive_files(split).values() for r in rels
    }
    assert {f"drive/DRIVE/{r}" for r in listed} == set(registry.files("drive"))


def test_example_fundus_falls_back_to_synthetic(empty_data_dir, tmp_path, monkeypatch, drive_copy):
    fallback = example_fundus(seed=3)  # DRIVE not configured
    assert fallback.synthetic and fallback.name == "synthetic-3"
    monkeypatch.setenv("RRAMPAPER_DRIVE_DIR", str(tmp_path / "none"))  # configured, absent
    with pytest.raises(DataError, match="none does not exist"):
        example_fundus(seed=3)
    folder, verify = drive_copy
    if verify:
        real = example_fundus(folder=folder)
        assert not real.synthetic and real.name == "21_training"


# --------------------------------------------------------------------------- DRIVE: all or nothing


@pytest.fixture(scope="module")
def real_drive(real_drive_dir):
    """The real DRIVE folder when it is complete, else None (the tests then use stand-ins)."""
    return real_drive_dir if drive_available(real_drive_dir) else None


def _drive_like(folder: Path, real: Path | None, without: str = "") -> Path:
    """Every DRIVE file under ``folder``: links to the real files, or empty files when ``real``
    is None (enough where only presence counts), leaving out paths containing ``without``."""
    for rel in (r.removeprefix("drive/DRIVE/") for r in registry.files("drive")):
        if without and without in rel:
            continue
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if real is None:
            target.touch()
        else:
            target.symlink_to(real / rel)
    return folder


def test_incomplete_drive_folder_is_an_error_naming_the_missing_files(
    empty_data_dir, tmp_path, monkeypatch, real_drive
):
    assert not drive_configured()  # variable unset, no <data>/drive/DRIVE: synthetic images
    folder = _drive_like(tmp_path / "DRIVE", real_drive, without="/mask/")
    monkeypatch.setenv("RRAMPAPER_DRIVE_DIR", str(folder))
    assert drive_configured()
    for call in (require_drive, lambda: load_drive("train"), example_fundus):
        with pytest.raises(DataError) as caught:  # never a silent switch to synthetic images
            call()
        message = str(caught.value)
        assert str(folder) in message and "https://drive.grand-challenge.org/" in message
    message = str(pytest.raises(DataError, require_drive).value)
    assert "40 file(s) are missing" in message and "and 35 more" in message
    assert "training/mask/21_training_mask.gif, training/mask/22_training_mask.gif" in message
    # the default folder, when it exists, is configured too
    monkeypatch.delenv("RRAMPAPER_DRIVE_DIR")
    (empty_data_dir / "drive").mkdir()
    folder.rename(empty_data_dir / "drive" / "DRIVE")
    assert drive_configured()
    with pytest.raises(DataError, match="40 file\\(s\\) are missing"):
        require_drive()


def _corruptible_copy(drive_copy, tmp_path: Path) -> tuple[Path, bool]:
    """The training split of ``drive_copy`` as links under ``tmp_path``, to replace files in."""
    source, verify = drive_copy
    for path in (source / "training").rglob("*.*"):
        target = tmp_path / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(path)
    return tmp_path, verify


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")  # Pillow, on the truncated TIFF
def test_corrupt_or_misshapen_drive_image_is_an_error_naming_the_file(drive_copy, tmp_path):
    folder, verify = _corruptible_copy(drive_copy, tmp_path)
    truncated = folder / "training" / "images" / "23_training.tif"
    data = truncated.read_bytes()
    truncated.unlink()
    truncated.write_bytes(data[: len(data) // 2])
    if verify:  # the real DRIVE: the hash refuses it first
        with pytest.raises(ChecksumError, match="23_training.tif"):
            load_drive("train", folder)
    with pytest.raises(DataError, match=r"23_training\.tif is not a readable DRIVE image"):
        load_drive("train", folder, verify=False)
    truncated.unlink()
    truncated.write_text("not an image")
    with pytest.raises(DataError, match=r"23_training\.tif is not a readable DRIVE image"):
        load_drive("train", folder, verify=False)
    truncated.unlink()
    truncated.symlink_to(drive_copy[0] / "training" / "images" / "23_training.tif")
    mask = folder / "training" / "mask" / "25_training_mask.gif"
    mask.unlink()
    from PIL import Image

    Image.fromarray(np.full((80, 100), 255, np.uint8)).save(mask)
    with pytest.raises(DataError, match=r"training/mask/25_training_mask\.gif \(100 x 80\)"):
        load_drive("train", folder, verify=False)


def test_data_check_fails_on_incomplete_or_corrupt_drive_not_on_unconfigured(
    empty_data_dir, tmp_path, monkeypatch, capsys, real_drive
):
    from rrampaper import cli

    def check(*flags):
        code = cli.main(["data", "check", *flags])
        lines = capsys.readouterr().out.splitlines()
        return code, next(line for line in lines if line.startswith("drive "))

    code, line = check()  # not configured: synthetic images, not an error
    assert code == 0 and "MISSING" in line and "not configured" in line
    assert check("--strict")[0] == 1  # the other datasets are missing from the empty folder
    monkeypatch.setenv("RRAMPAPER_DRIVE_DIR", str(tmp_path / "nowhere"))  # configured, absent
    code, line = check()
    assert code == 1 and "INCOMPLETE" in line and f"{tmp_path / 'nowhere'} does not exist" in line
    folder = tmp_path / "DRIVE"
    if real_drive is not None:
        _drive_like(folder, real_drive, without="/mask/")
        first = "test/mask/01_test_mask.gif, test/mask/02_test_mask.gif"
    else:  # the folders only: every file is missing (an empty file would be CORRUPT)
        for sub in ("training/images", "test/images"):
            (folder / sub).mkdir(parents=True)
        first = "test/1st_manual/01_manual1.gif, test/1st_manual/02_manual1.gif"
    monkeypatch.setenv("RRAMPAPER_DRIVE_DIR", str(folder))
    code, line = check()
    assert code == 1 and "INCOMPLETE" in line and first in line
    assert re.search(r"and \d+ more", line)
    corrupt = folder / "training" / "images" / "21_training.tif"
    corrupt.unlink(missing_ok=True)
    corrupt.write_bytes(b"truncated")
    code, line = check()
    assert code == 1 and "CORRUPT" in line and str(corrupt) in line
    if real_drive is not None:  # a complete, verified copy
        monkeypatch.setenv("RRAMPAPER_DRIVE_DIR", str(_drive_like(tmp_path / "full", real_drive)))
        code, line = check()
        assert code == 0 and line.split()[1] == "OK"
