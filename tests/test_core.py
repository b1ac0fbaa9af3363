"""Validation helpers, folders, profiles, atomic writes and the result store."""

import json
import os

import numpy as np
import pytest
import xarray as xr

from rrampaper import paths
from rrampaper._checks import check_choice, check_positive_int, check_range
from rrampaper._io import atomic_path
from rrampaper.experiments import store
from rrampaper.profiles import resolve_profile


@pytest.mark.parametrize(
    ("value", "kwargs", "message"),
    [
        (1.5, {"low": 0, "high": 1}, r"keep_ratio=1.5 is outside the valid range \[0, 1\]"),
        (0.0, {"low": 0, "high": 1, "low_open": True}, r"keep_ratio=0.0 is outside the valid range \(0, 1\]"),
        (float("nan"), {"low": 0, "high": 1}, "outside the valid range"),
        ("abc", {"low": 0, "high": 1}, "is not a number"),
    ],
)
def test_check_range_names_parameter_value_and_range(value, kwargs, message):
    with pytest.raises(ValueError, match=message):
        check_range("keep_ratio", value, **kwargs)


def test_check_range_accepts_bounds_and_returns_value():
    assert check_range("x", 0, 0, 1) == 0
    assert check_range("x", 1, 0, 1) == 1
    assert check_range("v", 2.5, 0, 5, unit="V") == 2.5
    with pytest.raises(ValueError, match=r"v=6 V is outside the valid range \[0, 5\] V"):
        check_range("v", 6, 0, 5, unit="V")


def test_check_positive_int_and_choice():
    assert check_positive_int("epochs", 3) == 3
    assert check_positive_int("epochs", 3.0) == 3
    for bad in (0, -1, 2.5, True, "3"):
        with pytest.raises(ValueError, match="epochs="):
            check_positive_int("epochs", bad)
    assert check_choice("mode", "a", ["a", "b"]) == "a"
    with pytest.raises(ValueError, match="mode='c' is not valid; choose one of 'a', 'b'"):
        check_choice("mode", "c", ["a", "b"])


def test_profile_resolution(monkeypatch):
    monkeypatch.delenv("RRAMPAPER_PROFILE", raising=False)
    assert resolve_profile() == "quick"
    assert resolve_profile("paper") == "paper"
    monkeypatch.setenv("RRAMPAPER_PROFILE", "smoke")
    assert resolve_profile(None) == "smoke"
    with pytest.raises(ValueError, match="profile='fast' is not valid"):
        resolve_profile("fast")


def test_folders_follow_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RRAMPAPER_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.delenv("RRAMPAPER_DRIVE_DIR", raising=False)
    monkeypatch.setenv("RRAMPAPER_FIGURES_DIR", str(tmp_path / "f"))
    monkeypatch.setenv("RRAMPAPER_RESULTS_DIR", str(tmp_path / "r"))
    assert paths.data_dir() == tmp_path / "d"
    assert paths.drive_dir() == tmp_path / "d" / "drive" / "DRIVE"
    assert paths.figures_dir() == tmp_path / "f"
    assert paths.results_dir() == tmp_path / "r"
    monkeypatch.delenv("RRAMPAPER_FIGURES_DIR")
    root = paths.repo_root()
    assert root is not None and (root / "pyproject.toml").is_file()
    assert paths.figures_dir() == root / "figures"


def test_atomic_path_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_config_hash_is_canonical():
    a = {"task": "fashion_mnist", "seeds": [0, 1], "lr": 0.1}
    b = {"lr": 0.1, "seeds": (0, 1), "task": "fashion_mnist"}
    assert store.config_hash(a) == store.config_hash(b)
    assert store.config_hash(a) != store.config_hash({**a, "lr": 0.2})
    assert len(store.config_hash(a)) == 16
    with pytest.raises(TypeError, match="not serialisable"):
        store.config_hash({"x": object()})


def test_result_round_trip_with_provenance(tmp_path):
    config = {"task": "demo", "seed": 3, "keep_ratio": 0.5}
    assert store.load_result(config, kind="run", folder=tmp_path) is None
    ds = xr.Dataset(
        {"accuracy": (("seed", "epoch"), np.array([[0.1, 0.5, 0.8]]))},
        coords={"seed": [3], "epoch": [1, 2, 3]},
    )
    path = store.save_result(ds, config, kind="run", folder=tmp_path,
                               attrs={"wall_time_s": 12.5, "devices": ["cpu"]})
    assert path.name == f"run-{store.config_hash(config)}.nc"
    loaded = store.load_result(config, kind="run", folder=tmp_path)
    np.testing.assert_allclose(loaded["accuracy"].values, [[0.1, 0.5, 0.8]])
    assert store.stored_config(loaded) == config
    assert loaded.attrs["wall_time_s"] == 12.5
    assert json.loads(loaded.attrs["devices"]) == ["cpu"]
    for key in ("rrampaper_version", "git_commit", "torch", "created_utc", "config_hash"):
        assert loaded.attrs[key]
    with pytest.raises(ValueError, match="kind="):
        store.result_path(config, kind="bad name")
