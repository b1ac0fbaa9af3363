"""rrampaper.analysis.energy.plots: stacked shares and tornado bars, from small tables."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from rrampaper.analysis.energy.plots import COMPONENT_COLORS, plot_breakdown, plot_tornado


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def test_breakdown_draws_shares_in_component_order(ax):
    table = pd.DataFrame({"ADC": [3e-9, 0.0], "crossbar read": [1e-9, 0.0], "TIA": [0.0, 0.0],
                          "GPU compute": [0.0, 2e-3]}, index=["DRIVE, hybrid TO", "DRIVE, GPU"])
    plot_breakdown(ax, table)
    # the all-zero TIA is left out; the others follow COMPONENT_COLORS' order
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["crossbar read", "ADC", "GPU compute"]
    widths = np.array([p.get_width() for p in ax.patches]).reshape(3, 2)  # component x row
    np.testing.assert_allclose(widths, [[0.25, 0.0], [0.75, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(widths.sum(axis=0), 1.0)
    lefts = np.array([p.get_x() for p in ax.patches]).reshape(3, 2)
    np.testing.assert_allclose(lefts[1], [0.25, 0.0])
    assert ax.patches[0].get_facecolor()[:3] == pytest.approx(
        tuple(int(COMPONENT_COLORS["crossbar read"][i:i + 2], 16) / 255 for i in (1, 3, 5)))
    assert [t.get_text() for t in ax.texts] == ["4 nJ", "2 mJ"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["DRIVE, hybrid TO", "DRIVE, GPU"]
    assert ax.get_xlim() == (0.0, 1.0)


def test_tornado_bars_span_low_to_high_around_the_baseline(ax):
    table = pd.DataFrame({"low": [1.0, 10.0, 5.0], "high": [4.0, 40.0, 6.0],
                          "reduction_low": [60.0, 75.0, 79.0], "reduction_high": [90.0, 82.0, 81.0]},
                         index=["ADC energy", "TIA energy", "SRAM energy"])
    table.attrs["baseline"] = 80.0
    plot_tornado(ax, table, top=2, title="DRIVE")
    # two bars (low end, high end) per constant, each from the baseline to the reduction
    assert len(ax.patches) == 4
    assert [p.get_x() for p in ax.patches] == pytest.approx([80.0] * 4)
    assert [p.get_width() for p in ax.patches] == pytest.approx([-20.0, 10.0, -5.0, 2.0])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["ADC energy", "TIA energy"]
    assert ax.lines[0].get_xdata()[0] == pytest.approx(80.0)
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == [
        "baseline 80.0 %", "constant at its high end", "constant at its low end"]
    assert ax.get_title() == "DRIVE" and ax.get_xlabel() == "energy reduction vs GPU (%)"
