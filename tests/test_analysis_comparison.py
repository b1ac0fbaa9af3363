"""rrampaper.analysis.comparison: what the TO-vs-WO figures draw, from small synthetic grids."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr

from rrampaper.analysis import comparison
from rrampaper.analysis.paper import Claim
from rrampaper.analysis.plotting import METHOD_COLORS

TEST = np.array([[[0.50, 0.60, 0.70], [0.52, 0.64, 0.72]],       # software TO, seeds 0 and 1
                 [[0.40, 0.45, 0.50], [0.44, 0.47, 0.52]]])      # software WO
SET = np.array([[[10, 5, 1], [12, 6, 2]], [[0, 0, 0], [0, 0, 0]]], dtype=float)


@pytest.fixture
def grid():
    return xr.Dataset(
        {"test": (("approach", "seed", "epoch"), TEST),
         "set_ops": (("approach", "seed", "epoch"), SET),
         "reset_ops": (("approach", "seed", "epoch"), SET / 2),
         "initial_resets": (("approach", "seed"), np.array([[100.0, 100.0], [1.0, 1.0]]))},
        coords={"approach": ["software TO", "software WO"], "seed": [0, 1], "epoch": [1, 2, 3]})


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def test_plot_curves_draws_the_seed_mean_per_approach(ax, grid):
    comparison.plot_curves(ax, grid, levels={"WO post-verify": np.array([0.30, 0.40])})
    solid = [line for line in ax.lines if line.get_linestyle() == "-"]
    assert len(solid) == 2
    np.testing.assert_allclose(solid[0].get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(solid[0].get_ydata(), 100 * TEST[0].mean(axis=0))
    np.testing.assert_allclose(solid[1].get_ydata(), 100 * TEST[1].mean(axis=0))
    assert solid[0].get_color() == METHOD_COLORS["software TO"]
    dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert len(dashed) == 1 and dashed[0].get_ydata()[0] == pytest.approx(35.0)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "software TO", "software WO", "WO post-verify (selected model)"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("epoch", "test accuracy (%)")
    # the band spans mean ± sample sd: at epoch 1 of software TO, 51 ± 1.414
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx(51 - 100 * np.std([0.50, 0.52], ddof=1))
    assert band.max() == pytest.approx(71 + 100 * np.std([0.70, 0.72], ddof=1))


def test_gain_is_the_paired_difference_in_points():
    mean, sd = comparison.gain(np.array([0.80, 0.82, 0.84]), np.array([0.70, 0.71, 0.75]))
    assert mean == pytest.approx(10.0)
    assert sd == pytest.approx(np.std([10.0, 11.0, 9.0], ddof=1))
    assert comparison.gain(np.array([0.9]), np.array([0.8])) == pytest.approx((10.0, 0.0))


def test_plot_headline_bars_and_title(ax):
    claim = Claim("fashion_mnist.accuracy_gain", 17.3, "percentage points", "gain", "Nature", "quote")
    values = {"software TO": np.array([0.80, 0.84]), "WO post-verify": np.array([0.60, 0.62])}
    measured = comparison.plot_headline(ax, values, to_label="software TO", wo_label="WO post-verify",
                                        claim=claim)
    assert measured == pytest.approx((21.0, np.std([20.0, 22.0], ddof=1)))
    assert [p.get_height() for p in ax.patches] == pytest.approx([82.0, 61.0])
    assert [t.get_text() for t in ax.get_xticklabels()] == list(values)
    assert [t.get_text() for t in ax.texts] == ["82.0", "61.0"]
    assert "+21.0 ± 1.4 points" in ax.get_title() and "Nature): +17.3 points" in ax.get_title()
    assert ax.get_ylim()[0] == pytest.approx(60.0 - 15)


def test_plot_programming_is_cumulative_and_log(ax, grid):
    comparison.plot_programming(ax, grid, wo_operations={"WO write-verify": 5000.0})
    to_line = ax.lines[0]
    # seed means of SET + RESET per epoch: 16.5, 8.25, 2.25; plus 100 initial RESETs
    np.testing.assert_allclose(to_line.get_ydata(), [116.5, 124.75, 127.0])
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [1.0, 1.0, 1.0])
    assert ax.get_yscale() == "log"
    assert ax.get_legend().get_texts()[-1].get_text() == "WO write-verify: 5,000"
    assert ax.get_ylabel() == "programming operations (cumulative)"


def test_plot_sweep_errorbars(ax):
    sweep = xr.DataArray([[0.9, 0.7], [0.8, 0.6], [0.5, 0.3]], dims=("level", "seed"),
                         coords={"level": [0.5, 1.0, 2.0], "seed": [0, 1]})
    comparison.plot_sweep(ax, sweep, label="hardware TO")
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [0.5, 1.0, 2.0])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [80.0, 70.0, 40.0])
    assert ax.lines[0].get_color() == METHOD_COLORS["hardware TO"]


def test_plot_technologies_grouped_bars(ax):
    table = xr.Dataset(
        {"test": (("technology", "approach", "seed"),
                  np.array([[[0.8, 0.9], [0.5, 0.7]], [[0.6, 0.6], [0.3, 0.5]]]))},
        coords={"technology": ["HfO2", "TaOx"], "approach": ["hardware TO", "WO post-verify"],
                "seed": [0, 1]})
    comparison.plot_technologies(ax, table)
    bars = ax.patches
    assert [b.get_height() for b in bars] == pytest.approx([85.0, 60.0, 60.0, 40.0])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["HfO2", "TaOx"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["hardware TO", "WO post-verify"]
    assert ax.get_ylim()[0] == pytest.approx(20.0)


def test_color_uses_fixed_colours_then_the_cycle():
    assert comparison.color("software WO") == METHOD_COLORS["software WO"]
    assert comparison.color("something else", 1) == comparison._FALLBACK[1]
