"""rrampaper.analysis.drive_figures: the PR/ROC curves and example panels, from a small
synthetic report shaped like segmentation_report()'s."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr

from rrampaper.analysis import drive_figures
from rrampaper.analysis.plotting import METHOD_COLORS
from rrampaper.tasks.drive_metrics import METRICS

RECALL = np.linspace(0, 1, 5)
FPR = np.linspace(0, 1, 3)


@pytest.fixture
def report():
    approaches = ["hardware TO", "WO post-verify"]
    value = np.zeros((2, 2, len(METRICS)))
    value[:, :, list(METRICS).index("pr_auc")] = [[0.80, 0.82], [0.70, 0.70]]
    value[:, :, list(METRICS).index("roc_auc")] = [[0.95, 0.97], [0.90, 0.90]]
    precision = np.stack([np.stack([1 - 0.5 * RECALL, 1 - 0.3 * RECALL]),
                          np.stack([1 - 0.6 * RECALL, 1 - 0.6 * RECALL])])
    tpr = np.stack([np.stack([np.sqrt(FPR)] * 2), np.stack([FPR, FPR])])
    fov = np.ones((4, 5), bool)
    fov[0] = False
    return xr.Dataset(
        {"value": (("approach", "seed", "metric"), value),
         "precision": (("approach", "seed", "recall"), precision),
         "tpr": (("approach", "seed", "fpr"), tpr),
         "probability": (("approach", "row", "col"), np.full((2, 4, 5), 0.5)),
         "image": (("row", "col"), np.full((4, 5), 0.3)),
         "vessels": (("row", "col"), np.eye(4, 5, dtype=bool)),
         "fov": (("row", "col"), fov)},
        coords={"approach": approaches, "seed": [0, 1], "metric": list(METRICS),
                "recall": RECALL, "fpr": FPR},
        attrs={"vessel_prevalence": 0.125})


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def test_pr_curves_mean_over_seeds_and_auc_in_legend(ax, report):
    drive_figures.plot_pr_curves(ax, report)
    to_line, wo_line, prevalence = ax.lines
    np.testing.assert_allclose(to_line.get_xdata(), RECALL)
    np.testing.assert_allclose(to_line.get_ydata(), 1 - 0.4 * RECALL)
    np.testing.assert_allclose(wo_line.get_ydata(), 1 - 0.6 * RECALL)
    assert to_line.get_color() == METHOD_COLORS["hardware TO"]
    assert prevalence.get_ydata()[0] == pytest.approx(0.125)
    sd = 100 * np.std([0.80, 0.82], ddof=1)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        f"hardware TO: PR-AUC 81.0 ± {sd:.1f} %", "WO post-verify: PR-AUC 70.0 ± 0.0 %",
        "vessel prevalence 12.5 %"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("recall (sensitivity)", "precision")
    assert ax.get_xlim() == (0.0, 1.0)


def test_roc_curves_chance_line_zoom_and_subset(ax, report):
    drive_figures.plot_roc_curves(ax, report, approaches=["WO post-verify"], max_fpr=0.1)
    wo_line, chance = ax.lines
    np.testing.assert_allclose(wo_line.get_ydata(), FPR)
    assert wo_line.get_color() == METHOD_COLORS["WO post-verify"]
    np.testing.assert_allclose(chance.get_ydata(), [0, 1])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "WO post-verify: ROC-AUC 90.0 ± 0.0 %", "chance"]
    assert ax.get_xlim() == pytest.approx((0.0, 0.1))


def test_examples_mask_outside_the_fov(report):
    fig = drive_figures.plot_examples(report)
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["preprocessed input", "ground truth",
                                               "hardware TO", "WO post-verify"]
    image = axes[0].images[0].get_array()
    assert np.all(image[0] == 0) and np.all(image[1:] == 0.3)
    np.testing.assert_array_equal(axes[1].images[0].get_array()[1:], np.eye(4, 5)[1:])
    plt.close(fig)


def test_segmentation_report_needs_experiments():
    with pytest.raises(ValueError, match="experiments is empty"):
        drive_figures.segmentation_report({}, [0])
