"""rrampaper.experiments.study.compare_approaches and rrampaper.analysis.summary.save_gains
give exactly what notebooks 02/03 computed with their own code (same runs, same stored keys,
same headline records), on a tiny smoke run of Fashion-MNIST."""

import numpy as np
import pytest
import xarray as xr

from rrampaper.analysis import comparison, summary
from rrampaper.data import DatasetMissingError
from rrampaper.experiments import study, train
from rrampaper.experiments.train import Experiment

TINY = {"profile": "smoke", "n_train": 600, "epochs": 2}


def old_notebook_code(base, seeds, folder):
    """What notebooks 02 and 03 ran before the helper (cells grid, WO post-verify, headline)."""
    grid = study.train_grid(
        {
            "software TO": base.replace(method="software_TO"),
            "hardware TO": base.replace(method="hardware_TO"),
            "hardware TO, no limit size": base.replace(method="hardware_TO", limit_size=False),
            "software WO": base.replace(method="software_WO"),
        },
        seeds, folder=folder, progress=False)
    insitu = study.train_grid(
        {"in-situ WO": study.equal_budget_insitu(grid, "hardware TO", base)}, seeds, folder=folder,
        progress=False)
    grid = xr.concat([grid, insitu], dim="approach", join="outer")
    on_device = study.wo_on_device(base.replace(method="software_WO"), seeds, folder=folder)
    headline = {
        "hardware TO": grid["test_selected"].sel(approach="hardware TO").values,
        "software TO": grid["test_selected"].sel(approach="software TO").values,
        "software WO": grid["test_selected"].sel(approach="software WO").values,
        "WO post-verify": on_device["test"].sel(program="post_verify").values,
        "WO write-verify": on_device["test"].sel(program="write_verify").values,
        "in-situ WO": grid["test_selected"].sel(approach="in-situ WO").values,
    }
    gains = {"WO post-verify": comparison.gain(headline["hardware TO"], headline["WO post-verify"]),
             "WO write-verify": comparison.gain(headline["hardware TO"], headline["WO write-verify"]),
             "in-situ WO": comparison.gain(headline["hardware TO"], headline["in-situ WO"])}
    means = {label: round(100 * float(np.mean(values)), 2) for label, values in headline.items()}
    records = [summary.Headline(
        "fashion_mnist.accuracy_gain", variant, base.profile, list(seeds), *gains[versus],
        details={"hardware TO %": means["hardware TO"], f"{versus} %": means[versus]})
        for variant, versus in (("hardware TO − WO post-verify spread", "WO post-verify"),
                                ("hardware TO − WO write-verify", "WO write-verify"),
                                ("hardware TO − in-situ WO with TO's write budget", "in-situ WO"))]
    return grid, on_device, headline, gains, records


@pytest.mark.slow
def test_compare_approaches_equals_the_old_notebook_code(tmp_path):
    base = Experiment(task="fashion_mnist", **TINY)
    try:
        train.get_task("fashion_mnist").splits(base.hyper(), seed=0)
    except DatasetMissingError as missing:
        pytest.skip(f"Fashion-MNIST not available: {missing}")
    seeds = [0]
    grid, on_device, headline, gains, records = old_notebook_code(base, seeds, tmp_path)

    runs = study.compare_approaches(base, seeds, folder=tmp_path)
    xr.testing.assert_identical(runs.grid, grid)
    xr.testing.assert_identical(runs.on_device, on_device)
    assert runs.wo_experiment == base.replace(method="software_WO")
    selected = runs.selected()
    assert list(selected) == list(headline)
    for label in headline:
        np.testing.assert_array_equal(selected[label], headline[label])
    assert list(runs.curves()["approach"].values) == [
        "software TO", "hardware TO", "software WO", "in-situ WO"]
    assert runs.wo_pulses() == {
        "WO post-verify": float(on_device["pulses"].sel(program="post_verify").mean()),
        "WO write-verify": float(on_device["pulses"].sel(program="write_verify").mean())}
    xr.testing.assert_identical(runs.programming(), study.total_programming(grid))

    assert comparison.gains(selected, runs.to_label, list(summary.GAIN_VARIANTS)) == gains
    stored = summary.save_gains("fashion_mnist.accuracy_gain", "smoke", seeds, selected,
                                folder=tmp_path / "new")
    assert stored == gains
    for record in records:
        summary.save_headline(record, folder=tmp_path / "old")
    assert summary.load_headlines("smoke", folder=tmp_path / "new") == summary.load_headlines(
        "smoke", folder=tmp_path / "old")
    old_files = sorted(p.name for p in (tmp_path / "old" / "headlines").iterdir())
    new_files = sorted(p.name for p in (tmp_path / "new" / "headlines").iterdir())
    assert old_files == new_files and len(new_files) == 3
    for name in new_files:
        assert ((tmp_path / "new" / "headlines" / name).read_bytes()
                == (tmp_path / "old" / "headlines" / name).read_bytes())


def test_compare_approaches_can_leave_out_variants(tmp_path, monkeypatch):
    calls = []

    def fake_grid(experiments, seeds, **kwargs):
        calls.append((dict(experiments), kwargs))
        labels = list(experiments)
        return xr.Dataset({"test_selected": (("approach", "seed"), np.zeros((len(labels), len(seeds))))},
                          coords={"approach": labels, "seed": list(seeds)})

    monkeypatch.setattr(study, "train_grid", fake_grid)
    monkeypatch.setattr(study, "wo_on_device", lambda exp, seeds, methods, **kw: xr.Dataset(
        {"test": (("program", "seed"), np.ones((len(methods), len(seeds))))},
        coords={"program": list(methods), "seed": list(seeds)}))
    base = Experiment(task="drive", profile="smoke")
    runs = study.compare_approaches(base, [0, 1], no_limit_size=False, insitu=False,
                                    programmed=("wo_post_verify",), folder=tmp_path)
    assert len(calls) == 1 and calls[0][1] == {"retrain": False, "folder": tmp_path}
    assert list(calls[0][0]) == ["software TO", "hardware TO", "software WO"]
    assert {k: e.method for k, e in runs.experiments.items()} == {
        "software TO": "software_TO", "hardware TO": "hardware_TO", "software WO": "software_WO"}
    assert runs.programmed == {"WO post-verify": "post_verify"}
    assert list(runs.selected()) == ["hardware TO", "software TO", "software WO", "WO post-verify"]
