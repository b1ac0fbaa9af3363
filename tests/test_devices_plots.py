"""rrampaper.devices.plots: what the device figures draw (units in µS), from small inputs."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from rrampaper.devices import plots, technology


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
    errors = {"one-shot": np.array([0.10, 0.05, 0.02]), "write-verify": np.array([0.01, 0.01, 0.01])}
    pulses = {"one-shot": np.ones(3), "write-verify": np.array([4.0, 5.0, 7.0])}
    fig = plots.programming_figure(targets, errors, pulses, tolerance=0.02)
    err_ax, pulse_ax = fig.axes
    np.testing.assert_allclose(err_ax.lines[0].get_xdata(), [10, 20, 40])
    np.testing.assert_allclose(err_ax.lines[0].get_ydata(), [10, 5, 2])
    assert err_ax.lines[2].get_ydata()[0] == pytest.approx(2.0)               # tolerance line
    np.testing.assert_allclose(pulse_ax.lines[1].get_ydata(), [4, 5, 7])
    assert [t.get_text() for t in err_ax.get_legend().get_texts()] == [
        "one-shot", "write-verify", "tolerance 2 %"]
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
    tech = technology("taox_40nm")
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
