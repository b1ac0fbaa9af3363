"""Figures of the DRIVE segmentation experiment, drawn from :func:`segmentation_report`.

- :func:`plot_pr_curves`, :func:`plot_roc_curves`: mean curve over seeds per approach (band:
  ± one standard deviation), the area (mean ± sd) in the legend;
- :func:`plot_examples`: one test image, its ground truth and every approach's vessel
  probability (pixels outside the FOV shown black).

Colours are those of :data:`rrampaper.analysis.plotting.METHOD_COLORS`, as in every comparison figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
import xarray as xr
from torch import nn

from rrampaper import baselines
from rrampaper.analysis.comparison import color
from rrampaper.experiments.approaches import APPROACHES
from rrampaper.experiments.train import load_trained_model, resolve_device
from rrampaper.paths import results_dir
from rrampaper.tasks import get_task
from rrampaper.tasks.drive import data_label, truth_and_fov, vessel_probability
from rrampaper.tasks.drive_metrics import METRICS, pr_curve, roc_curve, segmentation_metrics


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


def _source(label: str) -> str:
    """The trained approach the programmed approach labelled ``label`` writes onto the device
    (``software_WO`` for a label no programmed approach has)."""
    approach = next((a for a in APPROACHES.values() if a.label == label), None)
    return approach.source if approach is not None and approach.kind == "programmed" else "software_WO"


def segmentation_report(
    experiments: Mapping[str, Any],
    seeds: Sequence[int],
    *,
    programs: Mapping[str, str] | None = None,
    technology: str | None = None,
    folder: str | Path | None = None,
    example: int = 0,
    device: str | torch.device = "auto",
) -> xr.Dataset:
    """Every metric, the PR and ROC curves and an example segmentation of trained DRIVE models.

    Parameters
    ----------
    experiments:
        ``{label: Experiment}`` of finished DRIVE runs (:func:`rrampaper.experiments.train.run`); each
        seed's selected model is evaluated on the whole test images of its profile.
    seeds:
        Seeds to evaluate.
    programs:
        ``{label: program}`` (``"post_verify"``, ``"open_loop"``, ``"write_verify"``): every
        experiment of the label's trained source (the source of the registered programmed
        approach of that label, e.g. ``hwa_WO`` for ``"HWA WO write-verify"``; ``software_WO``
        for a label that is not registered) is also programmed onto the device with
        :func:`rrampaper.baselines.program_model` (as
        :func:`rrampaper.experiments.study.wo_on_device` does, same seed, so the same devices and reads)
        and evaluated under ``label``. Default ``{"WO post-verify": "post_verify"}``.
    technology:
        Device of the WO programming (default: each experiment's own).
    folder:
        Results folder (default :func:`rrampaper.paths.results_dir`; runs on synthetic images
        and on DRIVE have different keys there, see :meth:`DriveTask.data_signature`).
    example:
        Index (within the evaluated test images) of the image whose probability maps are kept.
    device:
        ``"auto"``, ``"cpu"`` or ``"cuda"``.

    Returns
    -------
    xarray.Dataset
        ``value`` over ``(approach, seed, metric)`` (:data:`rrampaper.tasks.drive_metrics.METRICS`),
        ``precision`` over ``(approach, seed, recall)`` and ``tpr`` over ``(approach, seed,
        fpr)`` (curves interpolated on fixed grids, for plotting; the areas come from the exact
        curves), ``pulses`` over ``(approach, seed)`` (programming pulses of the WO programs,
        NaN otherwise), ``probability`` over ``(approach, row, col)`` (the example image at the
        first seed), and ``image``, ``vessels``, ``fov`` over ``(row, col)``.
    """

    if not experiments:
        raise ValueError("experiments is empty; give at least one {label: Experiment}")
    programs = {"WO post-verify": "post_verify"} if programs is None else dict(programs)
    folder = Path(folder) if folder is not None else results_dir()
    device = resolve_device(device)
    first = next(iter(experiments.values()))
    if any(e.task != "drive" or e.profile != first.profile for e in experiments.values()):
        raise ValueError("every experiment must be a DRIVE experiment of one profile")
    task = get_task("drive")
    hyper = first.hyper(task)
    images, targets = task.splits(hyper, 0).test
    vessels, fov = truth_and_fov(targets)
    recall_grid = np.linspace(0.0, 1.0, 101)
    fpr_grid = np.unique(np.concatenate([np.linspace(0.0, 0.1, 51), np.linspace(0.1, 1.0, 46)]))
    labels: list[str] = []
    rows: dict[str, dict[str, Any]] = {}

    def record(label: str, seed: int, model: nn.Module, pulses: float) -> None:
        probability = vessel_probability(model.to(device), images, targets, window=task.window,
                                         stride=task.stride, batch_size=hyper.eval_batch_size,
                                         device=device).numpy()
        entry = rows.setdefault(label, {"value": [], "precision": [], "tpr": [], "pulses": []})
        if label not in labels:
            labels.append(label)
            entry["map"] = probability[example]
        values = segmentation_metrics(probability, vessels, fov)
        recall, precision = pr_curve(probability, vessels, fov)
        fpr, tpr = roc_curve(probability, vessels, fov)
        entry["value"].append([values[m] for m in METRICS])
        entry["precision"].append(np.interp(recall_grid, recall[::-1], precision[::-1]))
        entry["tpr"].append(np.interp(fpr_grid, fpr, tpr))
        entry["pulses"].append(pulses)

    for label, exp in experiments.items():
        for seed in seeds:
            model = load_trained_model(exp.replace(seed=seed), folder=folder)
            record(label, seed, model, float("nan"))
            for program_label, method in programs.items():
                if _source(program_label) != exp.method:
                    continue
                programmed, report = baselines.program_model(
                    model, technology or exp.technology, method, seed=seed)
                record(program_label, seed, programmed, float(report.total_pulses))
                del programmed
            del model
    coords = {"approach": labels, "seed": list(seeds), "metric": list(METRICS),
              "recall": recall_grid, "fpr": fpr_grid}
    ds = xr.Dataset(
        {
            "value": (("approach", "seed", "metric"), np.array([rows[k]["value"] for k in labels])),
            "precision": (("approach", "seed", "recall"), np.array([rows[k]["precision"] for k in labels])),
            "tpr": (("approach", "seed", "fpr"), np.array([rows[k]["tpr"] for k in labels])),
            "pulses": (("approach", "seed"), np.array([rows[k]["pulses"] for k in labels])),
            "probability": (("approach", "row", "col"), np.array([rows[k]["map"] for k in labels])),
            "image": (("row", "col"), images[example, 0].numpy()),
            "vessels": (("row", "col"), vessels[example]),
            "fov": (("row", "col"), fov[example]),
        },
        coords=coords,
    )
    prevalence = float(vessels[fov].mean())
    ds.attrs.update({"data": data_label(), "n_test_images": int(len(images)),
                     "window": task.window, "stride": task.stride,
                     "vessel_prevalence": prevalence, "pr_auc": "average precision (sklearn.metrics.average_precision_score)"})
    return ds
