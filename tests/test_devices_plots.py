"""rrampaper.devices.plots: what the device figures draw (units in µS), from small inputs."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from rrampaper.devices import Chip, plots, technology
from rrampaper.devices.faults import FAULT_NAMES, STUCK_OFF, STUCK_ON
from rrampaper.devices.filament import FilamentModel


def test_weight_map_heatmap_zoom_and_histograms():
    rng = np.random.default_rng(0)
    kept = rng.normal(0, 20e-6, (40, 50))
    fig = plots.weight_map_figure(torch.as_tensor(kept), pruned_s=np.full((40, 50), 1e-6))
    full, zoom, hist = fig.axes[:3]
    np.testing.assert_allclose(full.images[0].get_array(), kept * 1e6)       # siemens -> µS
    np.testing.assert_allclose(zoom.images[0].get_array(), kept[:32, :32] * 1e6)
    assert full.get_title() == "40 × 50 differential pairs"
    assert zoom.get_title() == "zoom: first 32 × 32"
    assert hist.get_yscale() == "log" and hist.get_xlabel() == "weight G⁺ − G⁻ (µS)"
    assert [t.get_text() for t in hist.get_legend().get_texts()] == [
        "kept (formed − off)", "pruned (reset − off)"]
    plt.close(fig)


def test_programming_figure_plots_percent_errors_and_pulses():
    targets = np.array([10e-6, 20e-6, 40e-6])
    errors = {"open-loop": np.array([0.10, 0.05, 0.02]), "write-verify": np.array([0.01, 0.01, 0.01])}
    pulses = {"open-loop": np.ones(3), "write-verify": np.array([4.0, 5.0, 7.0])}
    fig = plots.programming_figure(targets, errors, pulses, tolerance=0.02)
    err_ax, pulse_ax = fig.axes
    np.testing.assert_allclose(err_ax.lines[0].get_xdata(), [10, 20, 40])
    np.testing.assert_allclose(err_ax.lines[0].get_ydata(), [10, 5, 2])
    assert err_ax.lines[2].get_ydata()[0] == pytest.approx(2.0)               # tolerance line
    np.testing.assert_allclose(pulse_ax.lines[1].get_ydata(), [4, 5, 7])
    assert [t.get_text() for t in err_ax.get_legend().get_texts()] == [
        "open-loop", "write-verify", "tolerance 2 %"]
    assert pulse_ax.get_ylabel() == "mean pulses per cell"
    plt.close(fig)


def test_technology_figure_one_normalised_histogram_per_technology():
    weights = {"a": np.array([-2.0, 2.0, -2.0, 2.0]), "b": np.array([1.0, -1.0, 3.0, -3.0])}
    fig = plots.technology_figure(weights, {"a": "HfO₂"})
    ax = fig.axes[0]
    assert len(ax.patches) == 2                                               # step outlines
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["HfO₂", "b"]
    assert ax.get_yscale() == "log"
    plt.close(fig)


def test_read_noise_figure_bins_against_the_technology_law():
    tech = technology("taox_post_verify_static")
    g = np.geomspace(5e-6, 80e-6, 4000)
    sigma = tech.read_sigma(torch.as_tensor(g)).numpy()
    fig = plots.read_noise_figure(g, sigma, tech, n_reads=100, bins=10)
    ax1, ax2 = fig.axes
    cells, binned, model = ax1.lines
    # the data follow the law exactly, so the binned rms lies on the model's curve
    law = np.interp(binned.get_xdata(), model.get_xdata(), model.get_ydata())
    np.testing.assert_allclose(binned.get_ydata(), law, rtol=0.05)
    assert ax1.get_ylabel() == "σ over 100 reads (µS)"
    assert len(binned.get_xdata()) == 10
    plt.close(fig)


def test_programming_error_figure_absolute_and_relative_spreads():
    targets = np.array([10e-6, 50e-6, 200e-6])
    spreads = {"open-loop": np.array([3e-6, 7e-6, 14e-6]), "write-verify": np.array([0.5e-6, 1e-6, 4e-6])}
    published = {"Milo 2021": (np.array([50e-6, 225e-6]), np.array([4.3e-6, 2.7e-6]))}
    fig = plots.programming_error_figure(targets, spreads, published)
    ax1, ax2 = fig.axes
    assert len(ax1.lines) == len(ax2.lines) == 3
    np.testing.assert_allclose(ax1.lines[0].get_xdata(), [10, 50, 200])
    np.testing.assert_allclose(ax1.lines[1].get_ydata(), [0.5, 1, 4])               # µS
    np.testing.assert_allclose(ax2.lines[0].get_ydata(), [30, 14, 7])               # % of target
    np.testing.assert_allclose(ax1.lines[2].get_xdata(), [50, 225])
    np.testing.assert_allclose(ax2.lines[2].get_ydata(), [8.6, 1.2])
    assert ax1.lines[2].get_linestyle() == "--"
    assert ax1.get_ylabel() == "σ(achieved − target) (µS)" and ax2.get_ylabel() == "σ / target (%)"
    assert [t.get_text() for t in ax1.get_legend().get_texts()] == ["open-loop", "write-verify", "Milo 2021"]
    plt.close(fig)


def test_fault_map_figure_shows_codes_of_each_cell_with_a_legend():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 4, (8, 5, 2)).astype(np.int8)
    b = np.zeros((8, 5, 2), dtype=np.int8)
    b[0, 0, 1] = STUCK_ON
    fig = plots.fault_map_figure({"a": torch.as_tensor(a), "b": b})
    ax_a, ax_b = fig.axes
    np.testing.assert_array_equal(ax_a.images[0].get_array(), a.reshape(8, 10))
    assert ax_b.images[0].get_array()[0, 1] == STUCK_ON                     # pair 0, negative cell
    assert ax_b.get_title() == "b: 1.25 % faulty"                           # 1 of 80 cells
    assert [t.get_text() for t in fig.legends[0].get_texts()] == list(FAULT_NAMES.values())
    plt.close(fig)


def test_fault_map_figure_rejects_a_map_without_the_pair_axis():
    with pytest.raises(ValueError, match="rows, pairs, 2"):
        plots.fault_map_figure({"a": np.zeros((4, 4))})


def test_fault_codes_of_a_chip_are_the_same_for_to_and_wo():
    tech = technology("taox_40nm_macro", stuck_off_rate=0.11)
    to = Chip(tech, seed=3).allocate((16, 16)).fault_codes
    wo = Chip(tech, seed=3).allocate_fault_codes((16, 16))
    assert torch.equal(to, wo) and bool((wo == STUCK_OFF).any())


def test_microscopy_table_rows_of_the_docs():
    table = plots.microscopy_table()
    assert list(table.columns) == ["paper", "figure", "stack", "what was measured", "value", "check"]
    assert len(table) == 9
    assert table["value"].str.contains("sub-10 nm").any()
    assert table["value"].str.contains("3-8 Ta atoms").any()
    assert table.loc[table["figure"] == "Fig. 1a", "stack"].item() == "the paper's group's 40 nm TaOx cell"


def test_model_diameters_lie_between_the_microscopy_bounds():
    model = FilamentModel()
    d = 2 * model.sample(4000, 3.6, 1e-6, seed=0).filament_radius_nm.numpy()
    (lo_atoms, hi_atoms, _), (lo_excluded, _, _) = plots.MICROSCOPY_BOUNDS_NM
    assert 0.4 < lo_atoms < hi_atoms < 1.0 and lo_excluded == 10.0
    assert hi_atoms < np.quantile(d, 0.001) and np.quantile(d, 0.999) < lo_excluded


def test_filament_size_figure_histogram_and_shaded_bounds():
    d = np.array([2.0, 3.0, 3.0, 4.0])
    bounds = ((0.5, 0.8, "atoms"), (10.0, 12.0, "excluded"))
    fig = plots.filament_size_figure(d, bounds, bins=12)
    ax = fig.axes[0]
    assert ax.get_xlim() == (0.0, 12.0)
    heights = [p.get_height() for p in ax.patches[:12]]                   # 12 bars of 1 nm
    np.testing.assert_allclose(heights, [0, 0, 0.25, 0.5, 0.25, 0, 0, 0, 0, 0, 0, 0])
    assert ax.lines[0].get_xdata()[0] == pytest.approx(3.0)                 # median line
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["model (assumed): 4 sampled filaments", "atoms", "excluded", "model median 3.0 nm"]
    assert "microscopy" in ax.get_title() and ax.get_xlabel() == "filament diameter 2r (nm)"
    plt.close(fig)


def test_filament_figure_says_the_size_is_assumed():
    model = FilamentModel()
    fig = plots.filament_figure(model.sample(500, 3.6, 1e-6, seed=0), model)
    assert fig.axes[1].get_title() == "Filament size (assumed; microscopy: < 10 nm)"
    plt.close(fig)
