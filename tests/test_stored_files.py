"""Stored files are untrusted input; bad input never becomes a silent result.

Every test here trains a tiny run (64 random images, 2 epochs, a second each) so that the
behaviour on a crafted, truncated or foreign file is checked end to end through ``run()``:

- a checkpoint holding code is never executed (``weights_only=True``); a checkpoint that cannot
  be used is moved aside to ``.corrupt`` and the run starts again, with a warning;
- the trained model is written before the netCDF result, and a result without its model is
  trained again;
- a corrupt or foreign result or trained model raises ``StoredFileError`` naming the file and
  the fix; a corrupt feature cache is recomputed with a warning;
- a non-finite loss or metric raises ``DivergedError`` and stores nothing as finished;
- an unwritable results folder raises ``UnwritableError`` before the first epoch.
"""

import dataclasses
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr

from rrampaper._io import ensure_writable
from rrampaper.data import FSDDRecordings
from rrampaper.errors import DivergedError, ParameterError, StoredFileError, UnwritableError
from rrampaper.experiments import store, train
from rrampaper.experiments.train import Experiment, run
from rrampaper.tasks import Splits
from rrampaper.tasks import spoken_digit_features as features
from rrampaper.tasks.fashion_mnist import HYPER, FashionMNISTTask

EXP = Experiment(task="fashion_mnist", method="hardware_TO", profile="smoke", epochs=2, n_train=64)


@pytest.fixture(scope="module")
def tiny() -> Splits:
    """Random images and labels in Fashion-MNIST's shape: no dataset needed."""
    generator = torch.Generator().manual_seed(0)

    def split(n):
        return (torch.rand(n, 1, 28, 28, generator=generator),
                torch.randint(0, 10, (n,), generator=generator))

    return Splits(train=split(64), validation=split(32), test=split(32))


@pytest.fixture(scope="module")
def reference(tiny, tmp_path_factory) -> xr.Dataset:
    return run(EXP, folder=tmp_path_factory.mktemp("reference"), progress=False, splits=tiny)


class _WritesMarker:
    """Unpickling this object creates ``marker``: what a crafted file could do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _checkpoint_after_one_epoch(folder: Path, splits: Splits, monkeypatch) -> Path:
    """Run ``EXP`` until it is killed in its second epoch; return its checkpoint."""
    real, calls = train.evaluate, {"n": 0}

    def dies_in_second_epoch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(train, "evaluate", dies_in_second_epoch)
        with pytest.raises(KeyboardInterrupt):
            run(EXP, folder=folder, progress=False, splits=splits)
    path = train.checkpoint_path(EXP, folder)
    assert path.is_file()
    return path


def _same_record(a: xr.Dataset, b: xr.Dataset) -> None:
    for name in ("train_loss", "validation", "test", "set_ops", "reset_ops"):
        np.testing.assert_allclose(a[name].values, b[name].values, rtol=1e-6)


# --------------------------------------------------------------------------- rule 1: no code runs
def test_every_torch_load_of_the_package_reads_plain_data_only():
    calls = []
    for path in Path(train.__file__).parent.rglob("*.py"):
        text = path.read_text()
        for match in re.finditer(r"torch\.load\(", text):
            depth, end = 1, match.end()
            while depth and end < len(text):  # the whole call, nested parentheses included
                depth += {"(": 1, ")": -1}.get(text[end], 0)
                end += 1
            calls.append((path.name, text[match.start():end]))
    assert any(name == "train.py" for name, _ in calls)
    unsafe = [(name, call) for name, call in calls if "weights_only=True" not in call]
    assert not unsafe, unsafe


@pytest.mark.slow
def test_a_checkpoint_holding_code_is_not_run_but_moved_aside(tmp_path, tiny, reference):
    marker = tmp_path / "code-ran"
    ckpt = train.checkpoint_path(EXP, tmp_path)
    ckpt.parent.mkdir(parents=True)
    torch.save({"model": _WritesMarker(marker), "history": {}, "state": {}}, ckpt)
    with pytest.warns(RuntimeWarning, match=re.escape(str(ckpt))) as caught:
        result = run(EXP, folder=tmp_path, progress=False, splits=tiny)
    assert not marker.exists()
    assert "moved it to" in str(caught[0].message) and "first epoch" in str(caught[0].message)
    assert ckpt.with_name(ckpt.name + ".corrupt").is_file() and not ckpt.exists()
    _same_record(result, reference)
    train.load_trained_model(EXP, folder=tmp_path)


@pytest.mark.parametrize("damage", ["truncated", "random bytes", "empty", "not a checkpoint",
                                    "history too short", "NaN in history", "epoch too large",
                                    "wrong model"])
@pytest.mark.slow
def test_an_unusable_checkpoint_is_moved_aside_and_the_run_restarts(tmp_path, tiny, reference,
                                                                     monkeypatch, damage):
    ckpt = _checkpoint_after_one_epoch(tmp_path, tiny, monkeypatch)
    data = ckpt.read_bytes()
    saved = torch.load(ckpt, weights_only=True)
    if damage == "truncated":
        ckpt.write_bytes(data[: len(data) // 2])
    elif damage == "random bytes":
        ckpt.write_bytes(os.urandom(len(data)))
    elif damage == "empty":
        ckpt.write_bytes(b"")
    elif damage == "not a checkpoint":
        torch.save([1, 2, 3], ckpt)
    elif damage == "history too short":
        saved["history"]["test"] = []
        torch.save(saved, ckpt)
    elif damage == "NaN in history":
        saved["history"]["validation"][0] = float("nan")
        torch.save(saved, ckpt)
    elif damage == "epoch too large":
        saved["state"]["epoch"] = 99
        torch.save(saved, ckpt)
    else:  # a model state of another shape
        saved["model"] = {k: torch.zeros(3) for k in saved["model"]}
        torch.save(saved, ckpt)
    with pytest.warns(RuntimeWarning, match="checkpoint cannot be used"):
        result = run(EXP, folder=tmp_path, progress=False, splits=tiny)
    assert ckpt.with_name(ckpt.name + ".corrupt").is_file()
    _same_record(result, reference)  # restarted cleanly: the same run as one never interrupted


@pytest.mark.slow
def test_a_resumed_run_loads_its_checkpoint_without_warnings(tmp_path, tiny, reference,
                                                             monkeypatch, recwarn):
    _checkpoint_after_one_epoch(tmp_path, tiny, monkeypatch)
    _same_record(run(EXP, folder=tmp_path, progress=False, splits=tiny), reference)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


# --------------------------------------------------------------------------- rule 2: commit last
def test_a_run_killed_while_storing_its_model_is_completed_next_time(tmp_path, tiny, reference,
                                                                     monkeypatch):
    real_save = torch.save

    def killed_writing_the_model(obj, target, *args, **kwargs):
        if Path(target).parent.name == "models":
            raise KeyboardInterrupt
        return real_save(obj, target, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(torch, "save", killed_writing_the_model)
        with pytest.raises(KeyboardInterrupt):
            run(EXP, folder=tmp_path, progress=False, splits=tiny)
    # the result (which marks a finished run) was not written before the model
    assert not train.result_path(EXP, tmp_path).exists()
    result = run(EXP, folder=tmp_path, progress=False, splits=tiny)
    _same_record(result, reference)
    train.load_trained_model(EXP, folder=tmp_path)
    assert not train.checkpoint_path(EXP, tmp_path).exists()


@pytest.mark.slow
def test_a_result_without_its_model_is_trained_again(tmp_path, tiny, reference):
    run(EXP, folder=tmp_path, progress=False, splits=tiny)
    model = train._model_path(EXP, tmp_path)
    model.unlink()
    with pytest.warns(RuntimeWarning, match="has no trained model"):
        result = run(EXP, folder=tmp_path, progress=False, splits=tiny)
    _same_record(result, reference)
    assert model.is_file()
    train.load_trained_model(EXP, folder=tmp_path)


# --------------------------------------------------------------------------- rule 3: reported
@pytest.mark.parametrize("damage", ["truncated", "random bytes", "empty"])
@pytest.mark.slow
def test_a_corrupt_result_is_reported_with_its_fix(tmp_path, tiny, damage):
    run(EXP, folder=tmp_path, progress=False, splits=tiny)
    path = train.result_path(EXP, tmp_path)
    data = path.read_bytes()
    path.write_bytes({"truncated": data[: len(data) // 2], "random bytes": os.urandom(len(data)),
                      "empty": b""}[damage])
    with pytest.raises(StoredFileError, match="cannot be read as a netCDF result") as error:
        run(EXP, folder=tmp_path, progress=False, splits=tiny)
    message = str(error.value)
    assert str(path) in message and "retrain=True" in message and "--retrain" in message
    assert "\n" not in message
    assert run(EXP, folder=tmp_path, progress=False, splits=tiny, retrain=True).sizes["epoch"] == 2


@pytest.mark.parametrize("foreign", ["another program", "another configuration", "missing attr",
                                     "NaN values", "fewer epochs"])
@pytest.mark.slow
def test_a_result_that_is_not_this_runs_record_is_refused(tmp_path, tiny, foreign):
    run(EXP, folder=tmp_path, progress=False, splits=tiny)
    path = train.result_path(EXP, tmp_path)
    stored = store.load_path(path)
    if foreign == "another program":
        xr.Dataset({"accuracy": ("epoch", np.array([0.9, 0.95]))}).to_netcdf(path, engine="h5netcdf")
        expected = "'config' attribute"
    elif foreign == "another configuration":
        other = EXP.replace(seed=1)
        run(other, folder=tmp_path, progress=False, splits=tiny)
        shutil.copyfile(train.result_path(other, tmp_path), path)
        expected = "another configuration"
    elif foreign == "missing attr":
        del stored.attrs["test_selected"]
        stored.to_netcdf(path, engine="h5netcdf")
        expected = "lacks attribute 'test_selected'"
    elif foreign == "NaN values":
        stored["test"][0] = np.nan
        stored.to_netcdf(path, engine="h5netcdf")
        expected = "'test' holds values that are not finite"
    else:
        stored.isel(epoch=[0]).to_netcdf(path, engine="h5netcdf")
        expected = "not one per epoch"
    with pytest.raises(StoredFileError, match=re.escape(expected)) as error:
        run(EXP, folder=tmp_path, progress=False, splits=tiny)
    assert str(path) in str(error.value) and "retrain=True" in str(error.value)


@pytest.mark.parametrize("damage", ["truncated", "random bytes", "code", "not a state dict",
                                    "another model"])
@pytest.mark.slow
def test_a_corrupt_trained_model_is_reported_with_its_fix(tmp_path, tiny, damage):
    run(EXP, folder=tmp_path, progress=False, splits=tiny)
    path = train._model_path(EXP, tmp_path)
    data, marker = path.read_bytes(), tmp_path / "code-ran"
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "random bytes":
        path.write_bytes(os.urandom(len(data)))
    elif damage == "code":
        torch.save({"fc1.weight": _WritesMarker(marker)}, path)
    elif damage == "not a state dict":
        torch.save([torch.zeros(2)], path)
    else:
        torch.save({"weight": torch.zeros(2, 2)}, path)
    with pytest.raises(StoredFileError) as error:
        train.load_trained_model(EXP, folder=tmp_path)
    assert not marker.exists()
    message = str(error.value)
    assert str(path) in message and "retrain=True" in message and "\n" not in message


def _fake_fsdd(monkeypatch) -> FSDDRecordings:
    rng = np.random.default_rng(0)
    waves = tuple((0.1 * rng.standard_normal(n)).astype(np.float32) for n in (1200, 3000, 6000))
    fake = FSDDRecordings(waveforms=waves, labels=np.array([1, 2, 1]),
                          speakers=np.array(["a", "b", "a"]), takes=np.array([0, 7, 12]),
                          names=("1_a_0.wav", "2_b_7.wav", "1_a_12.wav"))
    monkeypatch.setattr("rrampaper.tasks.spoken_digit_features.load_fsdd", lambda split="all": fake)
    return fake


@pytest.mark.parametrize("damage", ["truncated", "random bytes", "pickled objects", "wrong shape",
                                    "missing array", "out of range"])
def test_a_corrupt_feature_cache_is_recomputed_with_a_warning(tmp_path, monkeypatch, damage):
    _fake_fsdd(monkeypatch)
    good = features.fsdd_features(folder=tmp_path)
    path = features.cache_path(folder=tmp_path)
    data = path.read_bytes()
    arrays = {k: getattr(good, k) for k in ("X", "y", "speakers", "takes", "names")}
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "random bytes":
        path.write_bytes(os.urandom(len(data)))
    else:
        if damage == "pickled objects":
            arrays["names"] = np.array([object()] * len(good), dtype=object)
        elif damage == "wrong shape":
            arrays["X"] = arrays["X"][:, :5]
        elif damage == "missing array":
            del arrays["takes"]
        else:
            arrays["X"] = arrays["X"] * 1e9
        with open(path, "wb") as handle:
            np.savez(handle, **arrays)
    with pytest.warns(RuntimeWarning, match=re.escape(str(path))):
        again = features.fsdd_features(folder=tmp_path)
    np.testing.assert_array_equal(again.X, good.X)
    np.testing.assert_array_equal(features.fsdd_features(folder=tmp_path).X, good.X)  # rewritten


def test_the_feature_cache_follows_the_results_folder_of_the_run(tmp_path, monkeypatch):
    folders = []

    class Stop(Exception):
        pass

    def records_the_folder(params=None, *, folder=None, recompute=False):
        folders.append(folder)
        raise Stop

    monkeypatch.setattr("rrampaper.tasks.spoken_digit.fsdd_features", records_the_folder)
    exp = Experiment(task="spoken_digit_fsdd", method="software_WO", profile="smoke")
    with pytest.raises(Stop):
        run(exp, folder=tmp_path, progress=False)
    assert folders == [tmp_path]
    # and end to end: the cache is written inside the folder given
    monkeypatch.undo()
    _fake_fsdd(monkeypatch)
    task = train.get_task("spoken_digit_fsdd")
    task.features(tmp_path / "elsewhere")
    assert features.cache_path(folder=tmp_path / "elsewhere").is_file()


# --------------------------------------------------------------------------- rule 5: divergence
def test_a_diverged_run_raises_and_stores_nothing_as_finished(tmp_path, tiny, monkeypatch):
    calls = {"n": 0}
    real_loss = FashionMNISTTask.loss

    def nan_in_second_epoch(self, output, target):
        calls["n"] += 1  # one batch per epoch
        loss = real_loss(self, output, target)
        return loss * float("nan") if calls["n"] == 2 else loss

    monkeypatch.setattr(FashionMNISTTask, "loss", nan_in_second_epoch)
    with pytest.raises(DivergedError) as error:
        run(EXP, folder=tmp_path, progress=False, splits=tiny)
    message = str(error.value)
    for part in ("fashion_mnist", "hardware_TO", "seed 0", "epoch 2", "training loss", "lr="):
        assert part in message, part
    assert not train.result_path(EXP, tmp_path).exists()
    assert not train._model_path(EXP, tmp_path).exists()
    saved = torch.load(train.checkpoint_path(EXP, tmp_path), weights_only=True)
    assert saved["state"]["epoch"] == 1  # the last good epoch


def test_a_non_finite_metric_is_a_diverged_run(tmp_path, tiny, monkeypatch):
    monkeypatch.setattr(train, "evaluate", lambda *args, **kwargs: float("nan"))
    with pytest.raises(DivergedError, match=r"epoch 1 of 2: the validation accuracy \(nan\)"):
        run(EXP, folder=tmp_path, progress=False, splits=tiny)
    assert not train.result_path(EXP, tmp_path).exists()


@pytest.mark.parametrize(("field", "value"), [
    ("lr", 11.0), ("lr", float("inf")), ("lr", float("nan")), ("lr", 0.0), ("momentum", 1.0),
    ("momentum", -0.1), ("weight_decay", 2.0), ("weight_decay", float("nan")), ("epochs", 0),
    ("batch_size", 0), ("eval_batch_size", 1.5), ("n_validation", 0), ("n_test", -1),
    ("limit_size", (0.01, 0.02, 5)), ("limit_size", (float("inf"), 0.0, 5)),
    ("limit_size", (0.01, 0.007)), ("limit_size", (0.01, 0.007, 0)),
])
def test_hyper_parameters_have_finite_valid_ranges(field, value):
    with pytest.raises(ParameterError, match=field.split("_size")[0] if field == "limit_size" else field):
        dataclasses.replace(HYPER["smoke"], **{field: value})
    assert dataclasses.replace(HYPER["smoke"], lr=10.0).lr == 10.0


# --------------------------------------------------------------------------- rule 7: unwritable
def test_an_unwritable_results_folder_fails_before_the_first_epoch(tmp_path, tiny, monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(train, "_epoch_batches", no_training)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    folder = blocker / "results"  # not even root can create a folder inside a regular file
    with pytest.raises(UnwritableError, match=re.escape(str(folder))):
        run(EXP, folder=folder, progress=False, splits=tiny)

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)  # a read-only folder, as a user sees it
    with pytest.raises(UnwritableError, match="Permission denied"):
        run(EXP, folder=tmp_path / "results", progress=False, splits=tiny)


def test_ensure_writable_creates_the_folder_and_leaves_nothing_behind(tmp_path):
    folder = ensure_writable(tmp_path / "a" / "b", "figures folder")
    assert folder.is_dir() and list(folder.iterdir()) == []
    with pytest.raises(UnwritableError, match="figures folder /proc/"):
        ensure_writable("/proc/rrampaper-cannot-exist", "figures folder")
    assert isinstance(UnwritableError("x"), PermissionError)
