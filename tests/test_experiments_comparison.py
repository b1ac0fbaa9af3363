"""rrampaper.experiments.study.compare_approaches and rrampaper.analysis.summary.save_gains
give exactly what notebooks 02/03 computed with their own code (same runs, same stored keys,
same headline records), on a tiny smoke run of Fashion-MNIST; programmed approaches from several
trained sources (software WO and hardware-aware WO) on a faked grid."""

import numpy as np
import pytest
import xarray as xr

from rrampaper.analysis import comparison, summary
from rrampaper.data import DatasetMissingError
from rrampaper.devices import technology
from rrampaper.experiments import study, train
from rrampaper.experiments.train import Experiment

TINY = {"profile": "smoke", "n_train": 600, "epochs": 2}
#: The preset the old notebook code ran on (the one with a published post-verify spread).
STATIC = "taox_post_verify_static"
#: What save_gains appends to every variant of the old notebook code's records.
NAMED = f" · {STATIC} · t = 1 s"


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
        for variant, versus in (("hardware TO − WO post-verify spread" + NAMED, "WO post-verify"),
                                ("hardware TO − WO write-verify" + NAMED, "WO write-verify"),
                                ("hardware TO − in-situ WO with TO's write budget" + NAMED, "in-situ WO"))]
    return grid, on_device, headline, gains, records


@pytest.mark.slow
def test_compare_approaches_equals_the_old_notebook_code(tmp_path):
    base = Experiment(task="fashion_mnist", technology=STATIC, **TINY)
    try:
        train.get_task("fashion_mnist").splits(base.hyper(), seed=0)
    except DatasetMissingError as missing:
        pytest.skip(f"Fashion-MNIST not available: {missing}")
    seeds = [0]
    grid, on_device, headline, gains, records = old_notebook_code(base, seeds, tmp_path)

    runs = study.compare_approaches(base, seeds, folder=tmp_path)
    xr.testing.assert_identical(runs.grid, grid)
    # the same programmed models, keyed by approach label instead of program
    assert list(runs.on_device["approach"].values) == ["WO post-verify", "WO write-verify"]
    for label, program in (("WO post-verify", "post_verify"), ("WO write-verify", "write_verify")):
        xr.testing.assert_identical(runs.on_device.sel(approach=label, drop=True),
                                    on_device.sel(program=program, drop=True))
    assert runs.wo_experiments == {"WO post-verify": base.replace(method="software_WO"),
                                   "WO write-verify": base.replace(method="software_WO")}
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
                                technology=STATIC, t_inference_s=1.0, folder=tmp_path / "new")
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


@pytest.fixture
def fake(monkeypatch):
    """train_grid and wo_on_device faked: every trained run scores 0; a programmed model scores
    and costs what its source and program say (recorded in ``calls``)."""
    calls = {"grid": [], "device": []}

    def fake_grid(experiments, seeds, **kwargs):
        calls["grid"].append((dict(experiments), kwargs))
        labels = list(experiments)
        return xr.Dataset({"test_selected": (("approach", "seed"), np.zeros((len(labels), len(seeds))))},
                          coords={"approach": labels, "seed": list(seeds)})

    score = {("software_WO", "open_loop"): 0.5, ("software_WO", "write_verify"): 0.7,
             ("software_WO", "post_verify"): 0.6, ("hwa_WO", "write_verify"): 0.8}

    def fake_on_device(exp, seeds, methods, **kwargs):
        calls["device"].append((exp.method, list(methods), kwargs))
        values = np.array([[score[exp.method, m]] * len(seeds) for m in methods])
        return xr.Dataset({"test": (("program", "seed"), values),
                           "pulses": (("program", "seed"), 10 * values)},
                          coords={"program": list(methods), "seed": list(seeds)})

    monkeypatch.setattr(study, "train_grid", fake_grid)
    monkeypatch.setattr(study, "wo_on_device", fake_on_device)
    return calls


def test_compare_approaches_can_leave_out_variants(tmp_path, fake):
    calls = fake["grid"]
    base = Experiment(task="drive", profile="smoke", technology=STATIC)
    runs = study.compare_approaches(base, [0, 1], no_limit_size=False, insitu=False,
                                    programmed=("wo_post_verify",), folder=tmp_path)
    assert len(calls) == 1 and calls[0][1] == {"retrain": False, "executor": None, "folder": tmp_path}
    assert list(calls[0][0]) == ["software TO", "hardware TO", "software WO"]
    assert {k: e.method for k, e in runs.experiments.items()} == {
        "software TO": "software_TO", "hardware TO": "hardware_TO", "software WO": "software_WO"}
    assert runs.programmed == {"WO post-verify": "post_verify"}
    assert list(runs.selected()) == ["hardware TO", "software TO", "software WO", "WO post-verify"]


def test_programmed_approaches_follow_the_technology():
    assert study.programmed_approaches("taox_40nm_macro") == (
        "wo_open_loop", "wo_write_verify", "hwa_wo_write_verify")
    assert study.programmed_approaches(STATIC) == ("wo_post_verify", "wo_write_verify", "hwa_wo_write_verify")
    assert study.programmed_approaches("taox_40nm_macro", trained=("software_WO",)) == (
        "wo_open_loop", "wo_write_verify")
    assert study.wo_programs(technology("taox_40nm_macro")) == ("open_loop", "write_verify")


def test_compare_approaches_programs_several_sources(tmp_path, fake):
    base = Experiment(task="fashion_mnist", profile="smoke", technology="taox_40nm_macro")
    runs = study.compare_approaches(
        base, [0, 1], trained=("software_TO", "hardware_TO", "software_WO", "hwa_WO"),
        no_limit_size=False, insitu=False, folder=tmp_path)
    # each source's models programmed once, with its own programs (the 40 nm macro publishes no
    # post-verify spread: open-loop and write-verify for software WO)
    assert [(method, programs) for method, programs, _ in fake["device"]] == [
        ("software_WO", ["open_loop", "write_verify"]), ("hwa_WO", ["write_verify"])]
    assert fake["device"][0][2]["folder"] == tmp_path
    assert runs.programmed == {"WO open-loop": "open_loop", "WO write-verify": "write_verify",
                               "HWA WO write-verify": "write_verify"}
    # write_verify appears twice: on_device is keyed by approach label
    assert runs.on_device["test"].dims == ("approach", "seed")
    assert list(runs.on_device["approach"].values) == list(runs.programmed)
    assert list(runs.on_device["program"].values) == ["open_loop", "write_verify", "write_verify"]
    assert list(runs.on_device["source"].values) == ["software_WO", "software_WO", "hwa_WO"]
    assert {label: float(v.mean()) for label, v in runs.levels().items()} == {
        "WO open-loop": 0.5, "WO write-verify": 0.7, "HWA WO write-verify": 0.8}
    assert runs.wo_pulses() == pytest.approx({"WO open-loop": 5.0, "WO write-verify": 7.0,
                                              "HWA WO write-verify": 8.0})
    assert runs.wo_experiments == {"WO open-loop": base.replace(method="software_WO"),
                                   "WO write-verify": base.replace(method="software_WO"),
                                   "HWA WO write-verify": base.replace(method="hwa_WO")}
    assert list(runs.selected()) == ["hardware TO", "software TO", "software WO", "hardware-aware WO",
                                     "WO open-loop", "WO write-verify", "HWA WO write-verify"]
    # the order asked for is kept, whatever the order of the sources
    again = study.compare_approaches(
        base, [0], trained=("hardware_TO", "software_WO", "hwa_WO"), no_limit_size=False,
        insitu=False, programmed=("hwa_wo_write_verify", "wo_write_verify"), folder=tmp_path)
    assert list(again.on_device["approach"].values) == ["HWA WO write-verify", "WO write-verify"]
    np.testing.assert_array_equal(again.levels()["WO write-verify"], [0.7])


def test_compare_approaches_checks_the_programmed_sources(tmp_path, fake):
    base = Experiment(task="fashion_mnist", profile="smoke", technology="taox_40nm_macro")
    # by default only the sources that are trained are programmed
    runs = study.compare_approaches(base, [0], no_limit_size=False, insitu=False, folder=tmp_path)
    assert runs.programmed == {"WO open-loop": "open_loop", "WO write-verify": "write_verify"}
    with pytest.raises(ValueError, match=r"\['hwa_wo_write_verify'\] write models that trained"):
        study.compare_approaches(base, [0], programmed=("wo_write_verify", "hwa_wo_write_verify"),
                                 folder=tmp_path)
    with pytest.raises(ValueError, match="names an approach twice"):
        study.compare_approaches(base, [0], programmed=("wo_write_verify", "wo_write_verify"),
                                 folder=tmp_path)
    assert len(fake["grid"]) == 1  # the bad calls failed before training anything
