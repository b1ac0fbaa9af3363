"""Figures of the DRIVE segmentation experiment, drawn from :func:`rrampaper.tasks.drive.segmentation_report`.

- :func:`plot_pr_curves`, :func:`plot_roc_curves`: mean curve over seeds per approach (band:
  ± one standard deviation), the area (mean ± sd) in the legend;
- :func:`plot_examples`: one test image, its ground truth and every approach's vessel
  probability (pixels outside the FOV shown black).

Colours are those of :data:`rrampaper.plotting.METHOD_COLORS`, as in every comparison figure.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from rrampaper.compare_plots import color


def _labels(report: xr.Dataset, approaches: Sequence[str] | None) -> list[str]:
    return [str(a) for a in (approaches if approaches is not None else report["approach"].values)]


def _area(report: xr.Dataset, approach: str, metric: str) -> str:
    values = report["value"].sel(approach=approach, metric=metric).values * 100
    sd = values.std(ddof=1) if values.size > 1 else 0.0
    return f"{values.mean():.1f} ± {sd:.1f}"


def _band(ax: plt.Axes, x: np.ndarray, curves: np.ndarray, c: str, label: str) -> None:
    mean = curves.mean(axis=0)
    sd = curves.std(axis=0, ddof=1) if len(curves) > 1 else np.zeros_like(mean)
    ax.plot(x, mean, color=c, lw=1.8, label=label)
    ax.fill_between(x, np.clip(mean - sd, 0, 1), np.clip(mean + sd, 0, 1), color=c, alpha=0.18, lw=0)


def plot_pr_curves(ax: plt.Axes, report: xr.Dataset, approaches: Sequence[str] | None = None) -> None:
    """Precision vs recall per approach (mean ± sd over seeds), PR-AUC in the legend, and the
    vessel prevalence (the precision of a random guess) as a dotted line."""
    for i, label in enumerate(_labels(report, approaches)):
        curves = report["precision"].sel(approach=label).transpose("seed", "recall").values
        _band(ax, report["recall"].values, curves, color(label, i),
              f"{label}: PR-AUC {_area(report, label, 'pr_auc')} %")
    ax.axhline(report.attrs["vessel_prevalence"], color="0.4", ls=":", lw=1,
               label=f"vessel prevalence {100 * report.attrs['vessel_prevalence']:.1f} %")
    ax.set_xlabel("recall (sensitivity)")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize="small", loc="lower left")


def plot_roc_curves(ax: plt.Axes, report: xr.Dataset, approaches: Sequence[str] | None = None,
                    max_fpr: float = 1.0) -> None:
    """True-positive vs false-positive rate per approach (mean ± sd over seeds), ROC-AUC in
    the legend; ``max_fpr`` < 1 zooms on the low false-positive end."""
    for i, label in enumerate(_labels(report, approaches)):
        curves = report["tpr"].sel(approach=label).transpose("seed", "fpr").values
        _band(ax, report["fpr"].values, curves, color(label, i),
              f"{label}: ROC-AUC {_area(report, label, 'roc_auc')} %")
    ax.plot([0, 1], [0, 1], color="0.4", ls=":", lw=1, label="chance")
    ax.set_xlabel("false positive rate (1 - specificity)")
    ax.set_ylabel("true positive rate (sensitivity)")
    ax.set_xlim(0, max_fpr)
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize="small", loc="lower right")


def plot_examples(report: xr.Dataset, approaches: Sequence[str] | None = None,
                  width: float = 3.0) -> plt.Figure:
    """A figure with the preprocessed test image, its ground truth and each approach's vessel
    probability (first seed), side by side; pixels outside the FOV are black."""
    labels = _labels(report, approaches)
    fov = report["fov"].values
    fig, axes = plt.subplots(1, 2 + len(labels), figsize=(width * (2 + len(labels)), width * 1.1))
    panels = [("preprocessed input", report["image"].values, "gray"),
              ("ground truth", report["vessels"].values.astype(float), "gray")]
    panels += [(label, report["probability"].sel(approach=label).values, "magma") for label in labels]
    for ax, (title, values, cmap) in zip(axes, panels, strict=True):
        ax.imshow(np.where(fov, values, 0.0), cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(title, fontsize="medium")
        ax.set_axis_off()
    return fig
