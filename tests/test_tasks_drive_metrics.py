"""Segmentation metrics inside the FOV: against scikit-learn and hand-computed counts."""

import numpy as np
import pytest
from sklearn import metrics as skm

from rrampaper.tasks import drive_metrics as metrics


def _random_case(seed=0, shape=(3, 20, 30)):
    rng = np.random.default_rng(seed)
    truth = rng.random(shape) < 0.15
    scores = np.clip(0.35 * truth + rng.normal(0.3, 0.2, shape), 0, 1)
    fov = rng.random(shape) < 0.7
    return scores, truth, fov


def test_aucs_equal_scikit_learn_on_the_fov_pixels():
    scores, truth, fov = _random_case()
    y, s = truth[fov], scores[fov]
    assert metrics.roc_auc(scores, truth, fov) == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
    precision, recall, _ = skm.precision_recall_curve(y, s)
    assert metrics.pr_auc(scores, truth, fov, "trapezoid") == pytest.approx(skm.auc(recall, precision), abs=1e-12)
    assert metrics.pr_auc(scores, truth, fov) == pytest.approx(skm.average_precision_score(y, s), abs=1e-12)
    # the two PR-AUC definitions differ on these scores (ties and interpolation)
    assert metrics.pr_auc(scores, truth, fov) != metrics.pr_auc(scores, truth, fov, "trapezoid")
    values = metrics.segmentation_metrics(scores, truth, fov)
    assert tuple(values) == metrics.METRICS
    assert values["roc_auc"] == metrics.roc_auc(scores, truth, fov)


def test_known_small_case_by_hand():
    # 4 vessel and 6 background pixels; vessels scored 0.9, 0.8, 0.4, 0.3, background
    # 0.7, 0.2, 0.2, 0.1, 0.1, 0.05. Pairs (vessel > background): 0.9 and 0.8 beat all 6,
    # 0.4 and 0.3 beat 5 (not 0.7): ROC-AUC = (6 + 6 + 5 + 5) / 24.
    scores = np.array([0.9, 0.8, 0.4, 0.3, 0.7, 0.2, 0.2, 0.1, 0.1, 0.05])
    truth = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], bool)
    fov = np.ones(10, bool)
    assert metrics.roc_auc(scores, truth, fov) == pytest.approx(22 / 24)
    # average precision: recall steps of 1/4 at precisions 1, 1, 3/4, 4/5
    assert metrics.pr_auc(scores, truth, fov) == pytest.approx((1 + 1 + 3 / 4 + 4 / 5) / 4)
    # at 0.5: tp 2 (0.9, 0.8), fp 1 (0.7), fn 2, tn 5
    assert metrics.confusion(scores, truth, fov) == {"tp": 2, "fp": 1, "tn": 5, "fn": 2}
    t = metrics.threshold_metrics(scores, truth, fov)
    assert t["sensitivity"] == pytest.approx(2 / 4)
    assert t["specificity"] == pytest.approx(5 / 6)
    assert t["precision"] == pytest.approx(2 / 3)
    assert t["f1"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 2))  # = 4/7
    assert t["accuracy"] == pytest.approx(7 / 10)
    # the threshold is inclusive: at 0.4 the vessel scored 0.4 counts as detected
    assert metrics.confusion(scores, truth, fov, threshold=0.4)["tp"] == 3


def test_pixels_outside_the_fov_change_nothing():
    scores, truth, fov = _random_case(1)
    reference = metrics.segmentation_metrics(scores, truth, fov)
    rng = np.random.default_rng(5)
    scores2, truth2 = scores.copy(), truth.copy()
    scores2[~fov] = rng.random(int((~fov).sum()))
    truth2[~fov] = ~truth2[~fov]
    assert metrics.segmentation_metrics(scores2, truth2, fov) == reference
    # and they do count once inside the FOV
    everywhere = np.ones_like(fov)
    assert metrics.segmentation_metrics(scores2, truth2, everywhere)["roc_auc"] != reference["roc_auc"]


def test_trapezoid_rewards_tied_scores_and_average_precision_does_not():
    # 10 % vessels, every pixel the same score: a guess. Average precision = prevalence; the
    # trapezoid runs from (recall 0, precision 1) to (1, 0.1) and reports 0.55.
    truth = np.zeros(100, bool)
    truth[:10] = True
    fov = np.ones(100, bool)
    tied = np.full(100, 0.7)
    assert metrics.pr_auc(tied, truth, fov) == pytest.approx(0.1)
    assert metrics.pr_auc(tied, truth, fov, "trapezoid") == pytest.approx((1 + 0.1) / 2)


def test_perfect_and_inverted_scores():
    truth = np.zeros((8, 8), bool)
    truth[2:4] = True
    fov = np.ones_like(truth)
    assert metrics.roc_auc(truth.astype(float), truth, fov) == 1.0
    assert metrics.pr_auc(truth.astype(float), truth, fov) == pytest.approx(1.0)
    assert metrics.roc_auc(1.0 - truth, truth, fov) == 0.0


def test_invalid_inputs_raise():
    truth = np.zeros((4, 4), bool)
    fov = np.ones_like(truth)
    with pytest.raises(ValueError, match="only one class"):
        metrics.roc_auc(np.random.default_rng(0).random((4, 4)), truth, fov)
    with pytest.raises(ValueError, match="one shape"):
        metrics.pr_auc(np.zeros((4, 5)), truth, fov)
    with pytest.raises(ValueError, match="no pixel"):
        metrics.pr_auc(np.zeros((4, 4)), truth, ~fov)
    with pytest.raises(ValueError, match="method='roc' is not valid"):
        metrics.pr_auc(np.zeros((4, 4)), truth, fov, method="roc")
    scores = np.full((4, 4), np.nan)
    truth[0] = True
    with pytest.raises(ValueError, match="finite"):
        metrics.pr_auc(scores, truth, fov)
