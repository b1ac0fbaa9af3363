"""rrampaper.experiments.study: stacking runs into an (approach, seed, epoch) grid and the
numbers computed from it, against hand calculations on crafted records (no training: ``run``
is replaced by a function that returns a known record per experiment and seed)."""

import numpy as np
import pytest
import xarray as xr

from rrampaper.analysis.comparison import gain
from rrampaper.experiments import study
from rrampaper.experiments.study import equal_budget_insitu, summary, total_programming, train_grid
from rrampaper.experiments.train import Experiment, run

TINY = {"profile": "smoke", "n_train": 600, "epochs": 2}  # the size of conftest's `splits`

EPOCHS = [1, 2, 3]


def fake_record(exp: Experiment) -> xr.Dataset:
    """A record like run()'s: per-epoch curves and scalar attributes, all derived from the
    experiment's seed and keep ratio so that the test can recompute them."""
    base = 0.1 * exp.seed + exp.keep_ratio
    test = base + 0.01 * np.array(EPOCHS)
    return xr.Dataset(
        {"test": ("epoch", test),
         "set_ops": ("epoch", np.array([10.0, 20.0, 30.0]) * (exp.seed + 1)),
         "reset_ops": ("epoch", np.array([1.0, 2.0, 3.0]))},
        coords={"epoch": EPOCHS},
        attrs={"test_selected": test.max(), "test_last": test[-1], "validation_selected": base,
               "selected_epoch": 3, "initial_resets": 100 + exp.seed, "wall_time_s": 1.5,
               "metric": "accuracy", "config": "dropped"},
    )


@pytest.fixture
def fake_run(monkeypatch):
    calls = []

    def run(exp, *, retrain=False, progress=True, splits=None, **kwargs):
        calls.append((exp, splits, kwargs))
        return fake_record(exp)

    monkeypatch.setattr(study, "run", run)
    monkeypatch.setattr(study, "_stored", lambda exp, kwargs: True)  # no data loading
    return calls


def test_train_grid_stacks_approaches_and_seeds(fake_run):
    experiments = {"software TO": Experiment(method="software_TO", profile="smoke", keep_ratio=0.5),
                   "software WO": Experiment(method="software_WO", profile="smoke", keep_ratio=0.25)}
    grid = study.train_grid(experiments, seeds=[0, 2, 1], progress=False, folder="somewhere")
    assert dict(grid.sizes) == {"approach": 2, "seed": 3, "epoch": 3}
    assert list(grid["approach"].values) == ["software TO", "software WO"]
    assert list(grid["seed"].values) == [0, 2, 1]
    # every experiment ran once per seed, with its seed replaced and the keyword passed on
    assert [(e.method, e.seed) for e, _, _ in fake_run] == [
        ("software_TO", 0), ("software_TO", 2), ("software_TO", 1),
        ("software_WO", 0), ("software_WO", 2), ("software_WO", 1)]
    assert all(kw == {"folder": "somewhere"} for _, _, kw in fake_run)
    # the curve of (software WO, seed 2) is 0.2 + 0.25 + 0.01 * epoch
    np.testing.assert_allclose(grid["test"].sel(approach="software WO", seed=2).values,
                               [0.46, 0.47, 0.48])
    # scalar attributes became variables over (approach, seed); other attributes are dropped
    assert grid["initial_resets"].dims == ("approach", "seed")
    np.testing.assert_allclose(grid["initial_resets"].sel(approach="software TO").values, [100, 102, 101])
    np.testing.assert_allclose(grid["test_last"].sel(approach="software TO").values, [0.53, 0.73, 0.63])
    assert "config" not in grid.attrs


def test_summary_is_mean_and_sample_sd_over_seeds(fake_run):
    grid = study.train_grid({"hardware TO": Experiment(method="hardware_TO", profile="smoke", keep_ratio=0.5)},
                            seeds=[0, 1, 2], progress=False)
    table = study.summary(grid)
    # test_selected per seed: 0.53, 0.63, 0.73 -> mean 0.63, sd sqrt((0.01 + 0 + 0.01) / 2) = 0.1
    row = table.loc["hardware TO"]
    assert row["test_selected mean"] == pytest.approx(0.63)
    assert row["test_selected sd"] == pytest.approx(0.1)
    assert row["test_last mean"] == pytest.approx(0.63)
    assert row["seeds"] == 3
    assert list(table.columns) == ["test_selected mean", "test_selected sd", "test_last mean",
                                   "test_last sd", "seeds"]


def test_total_programming_and_equal_budget(fake_run):
    grid = study.train_grid({"hardware TO": Experiment(method="hardware_TO", profile="smoke")},
                            seeds=[0, 1], progress=False)
    # seed s: SET (10 + 20 + 30) * (s + 1) + RESET 6 + initial RESETs 100 + s
    np.testing.assert_allclose(study.total_programming(grid).sel(approach="hardware TO").values,
                               [60 + 6 + 100, 120 + 6 + 101])
    budgets = study.equal_budget_insitu(grid, "hardware TO", Experiment(profile="smoke"))
    assert {s: (e.method, e.seed, e.write_budget) for s, e in budgets.items()} == {
        0: ("insitu_WO", 0, 166), 1: ("insitu_WO", 1, 227)}


def test_keep_ratio_sweep_puts_ratios_on_level(fake_run):
    sweep = study.keep_ratio_sweep(Experiment(method="software_TO", profile="smoke"), [0.25, 0.5],
                                   seeds=[0, 1], progress=False)
    assert sweep.dims == ("level", "seed")
    assert list(sweep["level"].values) == [0.25, 0.5]
    # test_selected = 0.1 * seed + keep_ratio + 0.03
    np.testing.assert_allclose(sweep.values, [[0.28, 0.38], [0.53, 0.63]])


def test_mean_sd_single_seed_and_helpers():
    values = xr.DataArray([[0.5, 0.7]], dims=("seed", "epoch"))
    mean, sd = study.mean_sd(values)
    np.testing.assert_allclose(mean.values, [0.5, 0.7])
    np.testing.assert_allclose(sd.values, [0.0, 0.0])
    mean, sd = study.mean_sd(xr.DataArray([1.0, 2.0, 6.0], dims="seed"))
    assert float(mean) == pytest.approx(3.0) and float(sd) == pytest.approx(np.sqrt(7.0))
    assert study.seeds_for("quick") == [0, 1, 2]
    assert study.seeds_for("smoke") == [0]
    assert study.seeds_for("paper", seeds=(5,)) == [5]
    assert study.as_percent(0.8731) == "87.3 %"
    assert study.as_percent(float("nan")) == "n/a"
    with pytest.raises(ValueError, match="experiments is empty"):
        study.train_grid({}, seeds=[0])


def test_noise_studies_need_the_right_method():
    with pytest.raises(ValueError, match="needs a trained WO experiment .*software_WO"):
        study.wo_on_device(Experiment(method="software_TO"), [0])
    with pytest.raises(ValueError, match="needs a hardware_TO experiment"):
        study.to_under_read_noise(Experiment(method="software_WO"), [0], [1.0])
    with pytest.raises(ValueError, match="kind='write' is not valid"):
        study.wo_under_noise(Experiment(method="software_WO"), [0], [1.0], kind="write")


# The same on real (tiny) Fashion-MNIST training runs.



@pytest.mark.slow
def test_grid_stacks_methods_and_seeds(tmp_path, splits):
    grid = train_grid({"software TO": Experiment(method="software_TO", **TINY)}, seeds=[0, 1],
                      folder=tmp_path, progress=False)
    assert dict(grid.sizes) == {"approach": 1, "seed": 2, "epoch": 2}
    table = summary(grid)
    values = grid["test_selected"].sel(approach="software TO").values
    assert table.loc["software TO", "test_selected mean"] == pytest.approx(values.mean())
    assert table.loc["software TO", "test_selected sd"] == pytest.approx(values.std(ddof=1))
    expected = (grid["set_ops"] + grid["reset_ops"]).sum("epoch") + 31136
    np.testing.assert_allclose(total_programming(grid).values, expected.values)


@pytest.mark.slow
def test_paired_gain_and_equal_budget(tmp_path, splits):
    mean, sd = gain(np.array([0.80, 0.82, 0.84]), np.array([0.70, 0.71, 0.75]))
    assert mean == pytest.approx(10.0)
    assert sd == pytest.approx(np.std([10.0, 11.0, 9.0], ddof=1))
    grid = train_grid({"hardware TO": Experiment(method="hardware_TO", **TINY)}, seeds=[0],
                      folder=tmp_path, progress=False)
    experiments = equal_budget_insitu(grid, "hardware TO", Experiment(**TINY))
    expected = int((grid["set_ops"] + grid["reset_ops"]).sum("epoch").item() + grid["initial_resets"].item())
    assert experiments[0].method == "insitu_WO" and experiments[0].write_budget == expected
    record = run(experiments[0], folder=tmp_path, progress=False, splits=splits)
    # one one-shot pulse per cell (2 per weight) to start, then at most the budget
    assert record["set_ops"].sum() - 2 * 62272 <= expected


@pytest.mark.slow
def test_to_over_time_rereads_the_stored_chip_relaxed(tmp_path, splits):
    """Hardware TO on the 40 nm macro, re-read later: at 1 s it is the stored result exactly
    (nothing retrained, the same reads), later the relaxed chip gives another value."""
    exp = Experiment(method="hardware_TO", technology="taox_40nm_macro", **TINY)
    result = run(exp, folder=tmp_path, progress=False)
    over = study.to_over_time(exp, [0], [1.0, 86_400.0, 3.15e8], folder=tmp_path)
    assert float(over.sel(time_s=1.0, seed=0)) == pytest.approx(float(result.attrs["test_selected"]))
    assert float(over.sel(time_s=3.15e8, seed=0)) != float(over.sel(time_s=1.0, seed=0))
    with pytest.raises(ValueError, match="needs a hardware_TO experiment"):
        study.to_over_time(Experiment(method="software_WO"), [0], [1.0])
