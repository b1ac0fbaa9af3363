"""Figures of the spoken-digit notebook that the comparison plots do not cover, and their numbers.

- :func:`confusion_on_test` / :func:`plot_confusion`: which digits a trained model confuses
  (confusion matrix of test predictions, summed over seeds, rows normalised per true digit);
- :func:`plot_feature_examples` / :func:`plot_row_profiles`: what the CRNN reads, on both
  feature paths (the paper's pre-extracted features and those computed from the FSDD audio by
  :mod:`rrampaper.tasks.spoken_digit_features`);
- :func:`plot_grouped`: a metric of several approaches on several data paths, side by side.

Examples
--------
>>> import numpy as np
>>> confusion_matrix(np.array([0, 1, 1]), np.array([0, 1, 0]), 2)
array([[1, 1],
       [0, 1]])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from rrampaper.analysis.comparison import color
from rrampaper.experiments.train import load_trained_model, resolve_device
from rrampaper.tasks import get_task
from rrampaper.tasks.base import predict


def confusion_matrix(predicted: np.ndarray, target: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts ``[true, predicted]`` (int64 ``[n_classes, n_classes]``)."""
    predicted = np.asarray(predicted, dtype=np.int64).ravel()
    target = np.asarray(target, dtype=np.int64).ravel()
    if predicted.shape != target.shape:
        raise ValueError(f"predicted {predicted.shape} and target {target.shape} differ in shape")
    return np.bincount(target * n_classes + predicted,
                       minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def confusion_on_test(exp, seeds: Sequence[int], *, folder: str | Path | None = None) -> np.ndarray:
    """Confusion counts of the selected (best-validation) model of ``exp`` on the task's test
    split, summed over ``seeds`` (``[true, predicted]``, int64 ``[10, 10]`` for the digits).

    Hardware models are evaluated as :func:`rrampaper.tasks.base.predict` does: a fresh device read
    per evaluation batch, starting from read 0.
    """

    task = get_task(exp.task)
    hyper = exp.hyper(task)
    x, y = task.splits(hyper, int(seeds[0])).test
    device = resolve_device("auto")
    n_classes = len(getattr(task, "classes", range(10)))
    total = np.zeros((n_classes, n_classes), dtype=np.int64)
    for seed in seeds:
        model = load_trained_model(exp.replace(seed=int(seed)), folder=folder, device=device)
        outputs = predict(model, x, hyper.eval_batch_size, device)
        total += confusion_matrix(outputs.argmax(dim=1).numpy(), y.numpy(), n_classes)
    return total



def plot_confusion(ax: plt.Axes, counts: np.ndarray, classes: Sequence[str] | None = None,
                   *, title: str = "") -> None:
    """Confusion matrix as percentages of each true class (rows sum to 100 %), annotated."""
    counts = np.asarray(counts, dtype=float)
    n = counts.shape[0]
    classes = list(classes) if classes is not None else [str(i) for i in range(n)]
    percent = 100 * counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    image = ax.imshow(percent, cmap="Blues", vmin=0, vmax=100)
    for i in range(n):
        for j in range(n):
            if percent[i, j] >= 0.5:
                ax.text(j, i, f"{percent[i, j]:.0f}", ha="center", va="center", fontsize="x-small",
                        color="white" if percent[i, j] > 60 else "black")
    ax.set_xticks(range(n), classes)
    ax.set_yticks(range(n), classes)
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("spoken digit")
    ax.grid(False)
    if title:
        ax.set_title(title)
    plt.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="% of the spoken digit")


def plot_feature_examples(axes: Sequence[plt.Axes], features: Sequence[np.ndarray],
                          titles: Sequence[str], *, n_bands: int = 10) -> None:
    """One 23 x 20 feature matrix per axis (rows: coefficients, columns: 32 ms frames), with a
    line between the band energies (rows ``0 .. n_bands - 1``) and the MFCCs."""
    for ax, matrix, title in zip(axes, features, titles, strict=True):
        image = ax.imshow(np.asarray(matrix), origin="lower", aspect="auto", cmap="magma",
                          vmin=0, vmax=1)
        ax.axhline(n_bands - 0.5, color="w", lw=1, ls="--")
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel("frame (32 ms hop)")
        ax.grid(False)
    axes[0].set_ylabel("row: bands 0-9 | MFCC c0-c12")
    plt.colorbar(image, ax=list(axes), fraction=0.03, pad=0.02, label="scaled value")


def plot_row_profiles(ax: plt.Axes, sets: Mapping[str, np.ndarray]) -> None:
    """Mean value of each of the 23 rows over all samples and frames, per feature set, and the
    fraction of exact zeros per row (dashed): where two recipes agree and where they do not."""
    for i, (label, X) in enumerate(sets.items()):
        X = np.asarray(X)
        c = color(label, i)
        rows = np.arange(X.shape[1])
        ax.plot(rows, X.mean(axis=(0, 2)), marker="o", ms=3, color=c, label=f"{label}: mean")
        ax.plot(rows, (X == 0).mean(axis=(0, 2)), ls="--", color=c, label=f"{label}: zero fraction")
    ax.axvline(9.5, color="0.5", lw=1)
    ax.set_xlabel("row (0-9 band energies, 10-22 MFCC c0-c12)")
    ax.set_ylabel("value / fraction")
    ax.legend(fontsize="small", loc="center right", bbox_to_anchor=(1.0, 0.62))


def plot_grouped(ax: plt.Axes, values: Mapping[str, Mapping[str, np.ndarray]], *,
                 scale: float = 100.0, ylabel: str = "test accuracy (%)") -> None:
    """Grouped bars: ``values[group][approach]`` holds one value per seed (mean ± sd bars, seeds
    as dots); groups (e.g. feature paths) along x, approaches as coloured bars within a group."""
    groups = list(values)
    approaches = list(dict.fromkeys(a for g in groups for a in values[g]))
    width = 0.8 / len(approaches)
    for j, approach in enumerate(approaches):
        for i, group in enumerate(groups):
            if approach not in values[group]:
                continue
            v = np.asarray(values[group][approach], dtype=float) * scale
            mean = v.mean()
            sd = v.std(ddof=1) if v.size > 1 else 0.0
            x = i - 0.4 + width * (j + 0.5)
            ax.bar(x, mean, width=width * 0.9, yerr=sd, capsize=3, color=color(approach, j),
                   alpha=0.85, label=approach if i == 0 else None)
            ax.scatter(np.full(v.shape, x), v, s=10, color="k", zorder=3)
            ax.text(x, mean + sd + 0.5, f"{mean:.1f}", ha="center", va="bottom", fontsize="x-small")
    low = min(float(np.min(values[g][a])) for g in groups for a in values[g]) * scale
    ax.set_ylim(max(0.0, low - 15), None)
    ax.set_xticks(range(len(groups)), groups)
    ax.grid(axis="x", visible=False)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))

