"""Figures that compare topology optimization with weight optimization, for every task.

Each function draws on a matplotlib ``Axes`` from the labelled results of
:func:`rrampaper.experiments.study.train_grid` and the baselines, with mean ± standard deviation over
seeds (shaded bands or error bars, individual seeds as dots). Colours come from
:data:`rrampaper.experiments.approaches.APPROACHES` (also
:data:`rrampaper.analysis.plotting.METHOD_COLORS`).
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from rrampaper.analysis.paper import Claim
from rrampaper.experiments import approaches

_FALLBACK = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0", "C1", "C2", "C3"])


def color(label: str, index: int = 0) -> str:
    """Colour of a method label (the registered approach's colour, else the cycle)."""
    return approaches.colours().get(label) or _FALLBACK[index % len(_FALLBACK)]


def _mean_sd(values: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(values, dtype=float)
    sd = values.std(axis=axis, ddof=1) if values.shape[axis] > 1 else np.zeros_like(values.mean(axis=axis))
    return values.mean(axis=axis), sd


def plot_curves(
    ax: plt.Axes,
    grid: xr.Dataset,
    variable: str = "test",
    *,
    levels: Mapping[str, np.ndarray] | None = None,
    scale: float = 100.0,
    ylabel: str = "test accuracy (%)",
) -> None:
    """Metric vs epoch per approach (mean ± sd over seeds); ``levels`` adds horizontal bands for
    results without epochs (e.g. WO programmed on the device: ``{label: values over seeds}``)."""
    epochs = grid["epoch"].values
    for i, approach in enumerate(grid["approach"].values):
        values = grid[variable].sel(approach=approach).transpose("seed", "epoch").values * scale
        mean, sd = _mean_sd(values)
        c = color(str(approach), i)
        ax.plot(epochs, mean, marker="o", ms=3, color=c, label=str(approach))
        ax.fill_between(epochs, mean - sd, mean + sd, color=c, alpha=0.2, lw=0)
    for j, (label, values) in enumerate((levels or {}).items()):
        mean, sd = _mean_sd(np.asarray(values) * scale)
        c = color(label, j + 4)
        ax.axhline(mean, color=c, ls="--", lw=1.5, label=f"{label} (selected model)")
        ax.axhspan(mean - sd, mean + sd, color=c, alpha=0.12, lw=0)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small", loc="lower right")


def gain(to_values: np.ndarray, wo_values: np.ndarray, scale: float = 100.0) -> tuple[float, float]:
    """Mean and sd over seeds of the paired difference TO − WO, in ``scale`` units (points)."""
    diff = (np.asarray(to_values, float) - np.asarray(wo_values, float)) * scale
    mean, sd = _mean_sd(diff)
    return float(mean), float(sd)


def gains(values: Mapping[str, np.ndarray], to_label: str, versus: list[str] | tuple[str, ...],
          scale: float = 100.0) -> dict[str, tuple[float, float]]:
    """``{wo_label: gain(values[to_label], values[wo_label])}`` for every ``wo_label`` of
    ``versus`` present in ``values`` (:func:`gain`)."""
    return {label: gain(values[to_label], values[label], scale) for label in versus if label in values}


def plot_headline(
    ax: plt.Axes,
    values: Mapping[str, np.ndarray],
    *,
    to_label: str,
    wo_label: str,
    claim: Claim,
    scale: float = 100.0,
    ylabel: str = "test accuracy (%)",
) -> tuple[float, float]:
    """Bars (mean ± sd, seeds as dots) and the measured gain ``to_label`` − ``wo_label`` next to
    the published one. Returns the measured gain (mean, sd) in points."""
    labels = list(values)
    for i, label in enumerate(labels):
        v = np.asarray(values[label], float) * scale
        mean, sd = _mean_sd(v)
        ax.bar(i, mean, yerr=sd, color=color(label, i), alpha=0.85, capsize=4, width=0.65)
        ax.scatter(np.full(v.shape, i) + np.linspace(-0.12, 0.12, v.size), v, s=12, color="k", zorder=3)
        ax.text(i, mean + sd + 0.5, f"{mean:.1f}", ha="center", va="bottom", fontsize="small")
    ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right")
    ax.set_ylabel(ylabel)
    measured = gain(values[to_label], values[wo_label], scale)
    low = min(float(np.min(np.asarray(v, float))) for v in values.values()) * scale
    ax.set_ylim(max(0.0, low - 15), None)
    ax.set_title(
        f"{to_label} − {wo_label}: {measured[0]:+.1f} ± {measured[1]:.1f} points\n"
        f"paper ({claim.version}): {claim.value:+.1f} points",
        fontsize="medium",
    )
    return measured


def plot_programming(
    ax: plt.Axes,
    grid: xr.Dataset,
    *,
    wo_operations: Mapping[str, float] | None = None,
) -> None:
    """Cumulative programming operations (initial RESETs + SET + RESET) vs epoch per approach,
    log scale; ``wo_operations`` draws the pulses WO needs as horizontal lines."""
    epochs = grid["epoch"].values
    for i, approach in enumerate(grid["approach"].values):
        g = grid.sel(approach=approach)
        per_epoch = (g["set_ops"] + g["reset_ops"]).transpose("seed", "epoch").values
        cumulative = np.cumsum(per_epoch, axis=1) + g["initial_resets"].values[:, None]
        mean, sd = _mean_sd(cumulative)
        c = color(str(approach), i)
        ax.plot(epochs, mean, marker="o", ms=3, color=c, label=str(approach))
        ax.fill_between(epochs, np.maximum(mean - sd, 1), mean + sd, color=c, alpha=0.2, lw=0)
    for j, (label, ops) in enumerate((wo_operations or {}).items()):
        ax.axhline(ops, color=color(label, j + 4), ls="--", label=f"{label}: {ops:,.0f}")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("programming operations (cumulative)")
    ax.legend(fontsize="small")


def plot_sweep(
    ax: plt.Axes,
    sweep: xr.DataArray,
    *,
    label: str,
    index: int = 0,
    scale: float = 100.0,
) -> None:
    """Metric vs a noise level (dims ``level`` and ``seed``), mean ± sd over seeds."""
    levels = sweep["level"].values
    mean, sd = _mean_sd(sweep.transpose("seed", "level").values * scale)
    c = color(label, index)
    ax.errorbar(levels, mean, yerr=sd, marker="o", ms=4, capsize=3, color=c, label=label)


def plot_technologies(ax: plt.Axes, table: xr.Dataset, variable: str = "test", *,
                      scale: float = 100.0, log: bool = False, ylabel: str = "test accuracy (%)") -> None:
    """Grouped bars: one group per technology, one bar per approach (mean ± sd over seeds,
    seeds as dots); ``table`` as returned by :func:`rrampaper.experiments.study.technology_comparison`."""
    technologies = [str(t) for t in table["technology"].values]
    approaches = [str(a) for a in table["approach"].values]
    width = 0.8 / len(approaches)
    for j, approach in enumerate(approaches):
        values = table[variable].sel(approach=approach).transpose("technology", "seed").values * scale
        mean, sd = _mean_sd(values, axis=1)
        x = np.arange(len(technologies)) + (j - (len(approaches) - 1) / 2) * width
        ax.bar(x, mean, width * 0.95, yerr=sd, capsize=3, color=color(approach, j), label=approach,
               alpha=0.85)
        for i in range(len(technologies)):
            ax.scatter(np.full(values.shape[1], x[i]), values[i], s=8, color="k", zorder=3)
    ax.set_xticks(range(len(technologies)), technologies, rotation=15)
    if log:
        ax.set_yscale("log")
    else:
        low = float(table[variable].min()) * scale
        ax.set_ylim(max(0.0, low - 10), None)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
