"""Pixel-wise segmentation metrics inside a field-of-view (FOV) mask (DRIVE, docs/paper.md#drive).

Every metric takes a vessel probability (or score) per pixel, the ground truth and a FOV mask;
only pixels inside the FOV count, so pixels outside it never change a result. Curves and areas
come from scikit-learn:

- **ROC-AUC**: ``sklearn.metrics.roc_auc_score`` (area under TPR vs FPR, exact for ties).
- **PR-AUC** (:func:`pr_auc`): area under precision vs recall. Two definitions exist and give
  different numbers:

  * ``"average_precision"`` (**the one reported and used for model selection**):
    ``sklearn.metrics.average_precision_score``, the step-wise sum ``sum_n (R_n - R_{n-1}) P_n``
    over the operating points, without interpolation.
  * ``"trapezoid"``: ``sklearn.metrics.auc(recall, precision)`` over
    ``precision_recall_curve``, i.e. linear interpolation between operating points; what the
    official ``lib/metrics.Evaluate`` computes (docs/paper.md#drive), listed beside the first as
    ``pr_auc_trapezoid``. Linear interpolation in PR space is optimistic (Davis & Goadrich,
    ICML 2006), and grossly so when many pixels share one score: the curve then runs straight
    from scikit-learn's end point (recall 0, precision 1) to the first tied block. A barely
    trained U-Net of this package that called 88 % of the pixels vessel with nearly one score
    had a trapezoid PR-AUC of 0.42 at an average precision of 0.08 (the prevalence), so the
    trapezoid would reward, and select, degenerate models. For well-trained models the two
    differ by about a point.

- Threshold metrics (:func:`threshold_metrics`) at ``probability >= threshold`` (0.5, the
  official threshold): accuracy, sensitivity (recall, TPR), specificity (TNR), precision and
  F1, from the confusion counts.

Examples
--------
>>> import numpy as np
>>> p = np.array([[0.9, 0.2], [0.6, 0.1]])
>>> truth = np.array([[True, False], [False, False]])
>>> fov = np.ones((2, 2), bool)
>>> segmentation_metrics(p, truth, fov)["roc_auc"]
1.0
>>> threshold_metrics(p, truth, fov)["specificity"]  # 2 of 3 background pixels below 0.5
0.6666666666666666
"""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

from rrampaper._checks import check_choice, check_range

#: PR-AUC definitions (see the module docstring); the first is the one reported.
PR_AUC_METHODS: tuple[str, ...] = ("average_precision", "trapezoid")

#: Names of the values :func:`segmentation_metrics` returns (``pr_auc`` is the average
#: precision, ``pr_auc_trapezoid`` the official code's trapezoidal area).
METRICS: tuple[str, ...] = ("pr_auc", "pr_auc_trapezoid", "roc_auc", "f1", "accuracy",
                            "sensitivity", "specificity", "precision")


def fov_pixels(scores: np.ndarray, truth: np.ndarray, fov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The scores and bool labels of the pixels inside ``fov``, flattened.

    ``scores``, ``truth`` and ``fov`` must have the same shape (any, e.g. ``[N, H, W]``).
    """
    scores, truth, fov = np.asarray(scores), np.asarray(truth), np.asarray(fov)
    if not scores.shape == truth.shape == fov.shape:
        raise ValueError(f"scores {scores.shape}, truth {truth.shape} and fov {fov.shape} must have one shape")
    inside = fov.astype(bool)
    if not inside.any():
        raise ValueError("the FOV mask holds no pixel")
    labels = truth.astype(bool)[inside]
    values = scores[inside].astype(np.float64)
    if not np.isfinite(values).all():
        raise ValueError("scores inside the FOV must be finite")
    return values, labels


def _both_classes(labels: np.ndarray) -> None:
    if labels.all() or not labels.any():
        raise ValueError("the FOV holds only one class: ROC and PR curves are undefined")


def roc_auc(scores: np.ndarray, truth: np.ndarray, fov: np.ndarray) -> float:
    """Area under the ROC curve inside the FOV (``sklearn.metrics.roc_auc_score``)."""
    return _roc_auc(*fov_pixels(scores, truth, fov))


def _roc_auc(values: np.ndarray, labels: np.ndarray) -> float:
    _both_classes(labels)
    return float(skm.roc_auc_score(labels, values))


def pr_auc(scores: np.ndarray, truth: np.ndarray, fov: np.ndarray,
           method: str = "average_precision") -> float:
    """Area under the precision-recall curve inside the FOV.

    ``method``: ``"average_precision"`` (reported) or ``"trapezoid"`` (the official code's
    definition); see the module docstring.
    """
    check_choice("method", method, PR_AUC_METHODS)
    return _pr_auc(*fov_pixels(scores, truth, fov), method)


def _pr_auc(values: np.ndarray, labels: np.ndarray, method: str) -> float:
    _both_classes(labels)
    if method == "average_precision":
        return float(skm.average_precision_score(labels, values))
    precision, recall, _ = skm.precision_recall_curve(labels, values)
    return float(skm.auc(recall, precision))


def roc_curve(scores: np.ndarray, truth: np.ndarray, fov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(false positive rate, true positive rate)`` inside the FOV, increasing FPR."""
    values, labels = fov_pixels(scores, truth, fov)
    _both_classes(labels)
    fpr, tpr, _ = skm.roc_curve(labels, values)
    return fpr, tpr


def pr_curve(scores: np.ndarray, truth: np.ndarray, fov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(recall, precision)`` inside the FOV (scikit-learn's order: decreasing recall)."""
    values, labels = fov_pixels(scores, truth, fov)
    _both_classes(labels)
    precision, recall, _ = skm.precision_recall_curve(labels, values)
    return recall, precision


def confusion(scores: np.ndarray, truth: np.ndarray, fov: np.ndarray,
              threshold: float = 0.5) -> dict[str, int]:
    """Counts ``tp, fp, tn, fn`` inside the FOV, a pixel predicted vessel if ``score >= threshold``."""
    return _confusion(*fov_pixels(scores, truth, fov), threshold)


def _confusion(values: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, int]:
    predicted = values >= threshold
    return {"tp": int(np.sum(predicted & labels)), "fp": int(np.sum(predicted & ~labels)),
            "tn": int(np.sum(~predicted & ~labels)), "fn": int(np.sum(~predicted & labels))}


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else float("nan")


def threshold_metrics(scores: np.ndarray, truth: np.ndarray, fov: np.ndarray,
                      threshold: float = 0.5) -> dict[str, float]:
    """Accuracy, sensitivity, specificity, precision and F1 at ``score >= threshold``.

    ``sensitivity = tp / (tp + fn)``, ``specificity = tn / (tn + fp)``, ``precision = tp /
    (tp + fp)``, ``f1 = 2 tp / (2 tp + fp + fn)``, ``accuracy = (tp + tn) / n``; a ratio with a
    zero denominator is NaN.
    """
    check_range("threshold", threshold)
    return _threshold_metrics(*fov_pixels(scores, truth, fov), threshold)


def _threshold_metrics(values: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float]:
    c = _confusion(values, labels, threshold)
    tp, fp, tn, fn = c["tp"], c["fp"], c["tn"], c["fn"]
    return {
        "accuracy": _ratio(tp + tn, tp + fp + tn + fn),
        "sensitivity": _ratio(tp, tp + fn),
        "specificity": _ratio(tn, tn + fp),
        "precision": _ratio(tp, tp + fp),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
    }


def segmentation_metrics(scores: np.ndarray, truth: np.ndarray, fov: np.ndarray,
                         threshold: float = 0.5) -> dict[str, float]:
    """Every metric of :data:`METRICS` inside the FOV, pooled over all pixels of all images.

    Parameters
    ----------
    scores:
        Vessel probabilities (or any score; the threshold metrics assume probabilities),
        ``[N, H, W]`` or any shape.
    truth:
        bool ground truth (vessel), same shape.
    fov:
        bool FOV mask, same shape.
    threshold:
        Of the threshold metrics.
    """
    check_range("threshold", threshold)
    values, labels = fov_pixels(scores, truth, fov)
    out = {"pr_auc": _pr_auc(values, labels, "average_precision"),
           "pr_auc_trapezoid": _pr_auc(values, labels, "trapezoid"),
           "roc_auc": _roc_auc(values, labels)}
    out.update(_threshold_metrics(values, labels, threshold))
    return {name: out[name] for name in METRICS}
