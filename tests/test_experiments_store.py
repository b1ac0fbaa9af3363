"""rrampaper.experiments.store: canonical config hashes and results stored with provenance."""

import json

import numpy as np
import pytest
import xarray as xr

from rrampaper.experiments import store


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
