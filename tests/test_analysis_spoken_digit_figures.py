"""rrampaper.analysis.spoken_digit_figures: confusion counts and what the spoken-digit figures
draw, from small synthetic inputs."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from rrampaper.analysis import spoken_digit_figures as sdf


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def test_confusion_matrix_counts_true_by_predicted():
    counts = sdf.confusion_matrix(np.array([0, 2, 2, 1, 2]), np.array([0, 2, 1, 1, 0]), 3)
    np.testing.assert_array_equal(counts, [[1, 0, 1], [0, 1, 1], [0, 0, 1]])
    assert counts.dtype == np.int64
    with pytest.raises(ValueError, match="differ in shape"):
        sdf.confusion_matrix(np.array([0, 1]), np.array([0]), 2)


def test_plot_confusion_shows_row_percentages(ax):
    counts = np.array([[3, 1], [0, 0]])       # an empty row must not divide by zero
    sdf.plot_confusion(ax, counts, ["zero", "one"], title="hardware TO")
    np.testing.assert_allclose(ax.images[0].get_array(), [[75, 25], [0, 0]])
    assert [t.get_text() for t in ax.texts] == ["75", "25"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["zero", "one"]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == (
        "predicted digit", "spoken digit", "hardware TO")


def test_plot_row_profiles_means_and_zero_fractions(ax):
    X = np.zeros((2, 23, 4))
    X[:, 5, :] = 0.5
    X[0, 7, :2] = 1.0
    sdf.plot_row_profiles(ax, {"paper features": X})
    mean, zeros = ax.lines[0], ax.lines[1]
    assert mean.get_ydata()[5] == pytest.approx(0.5) and mean.get_ydata()[7] == pytest.approx(0.25)
    assert zeros.get_ydata()[7] == pytest.approx(0.75) and zeros.get_ydata()[0] == pytest.approx(1.0)
    assert zeros.get_linestyle() == "--"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "paper features: mean", "paper features: zero fraction"]


def test_plot_grouped_bar_heights_and_missing_approaches(ax):
    values = {"paper features": {"hardware TO": [0.9, 0.8], "WO post-verify": [0.5, 0.7]},
              "FSDD audio": {"hardware TO": [0.6, 0.6]}}
    sdf.plot_grouped(ax, values)
    assert [p.get_height() for p in ax.patches] == pytest.approx([85.0, 60.0, 60.0])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["paper features", "FSDD audio"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["hardware TO", "WO post-verify"]
    assert [t.get_text() for t in ax.texts] == ["85.0", "60.0", "60.0"]
    assert ax.get_ylim()[0] == pytest.approx(35.0)


def test_plot_feature_examples_one_image_per_axis():
    fig, axes = plt.subplots(1, 2)
    features = [np.full((23, 20), 0.2), np.eye(23, 20)]
    sdf.plot_feature_examples(axes, features, ["paper", "FSDD"])
    for ax, matrix in zip(axes, features, strict=True):
        np.testing.assert_array_equal(ax.images[0].get_array(), matrix)
        assert ax.lines[0].get_ydata()[0] == pytest.approx(9.5)   # bands | MFCC boundary
    assert [ax.get_title() for ax in axes] == ["paper", "FSDD"]
    plt.close(fig)
