"""Figures of the device-condition sweeps (notebook 09): the gap of hardware TO over each WO
along every device axis with the paper's gap drawn, and accuracy against time after programming.

Both take ``{task: {axis: DataArray(level, approach, seed)}}`` from
:func:`rrampaper.experiments.conditions.sweep_conditions` and draw mean ± sd over seeds.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr

from rrampaper.analysis.comparison import color
from rrampaper.analysis.conditions import paper_gap
from rrampaper.analysis.paper import NATURE, VERSIONS
from rrampaper.analysis.summary import format_time
from rrampaper.errors import ParameterError
from rrampaper.experiments.conditions import AXES, gaps

#: Display names of the tasks.
TASK_TITLES: dict[str, str] = {"fashion_mnist": "Fashion-MNIST", "spoken_digit": "spoken digit",
                               "drive": "DRIVE"}

#: Tick positions of time axes, seconds (labelled by :func:`rrampaper.analysis.summary.format_time`).
TIME_TICKS_S: tuple[float, ...] = (1.0, 60.0, 3600.0, 86400.0, 365.25 * 86400.0, 3652.5 * 86400.0)


def _time_axis(ax: plt.Axes, lo: float, hi: float) -> None:
    ticks = [t for t in TIME_TICKS_S if lo * 0.99 <= t <= hi * 1.01]
    ax.set_xticks(ticks, [format_time(t) for t in ticks])
    ax.minorticks_off()


def _format_axis(ax: plt.Axes, sweep: xr.DataArray) -> None:
    axis = AXES[str(sweep.attrs["axis"])]
    levels = sweep["level"].values.astype(float)
    if axis.log:
        ax.set_xscale("log")
    if axis.name == "t_inference_s":
        _time_axis(ax, levels.min(), levels.max())
    elif axis.log:  # one plain tick per level ("0.5", "1", "2", ...), not powers of ten
        ax.set_xticks(levels, [f"{v:g}" for v in levels])
        ax.minorticks_off()
    if axis.worse_when == "lower" and not ax.xaxis_inverted():
        ax.invert_xaxis()  # worse devices to the right on every panel
    ax.set_xlabel(f"{axis.label} ({axis.unit})" if axis.name != "t_inference_s" else axis.label)


def plot_gap_grid(
    sweeps: Mapping[str, Mapping[str, xr.DataArray]],
    crossings: pd.DataFrame | None = None,
    *,
    version: str = NATURE,
    panel_size: tuple[float, float] = (3.4, 2.7),
) -> plt.Figure:
    """Tasks as rows, axes as columns: gap (points) of hardware TO over each WO, mean ± sd over
    seeds; the paper's gap as a dashed line, the preset's level as a dotted line and each
    crossing of ``crossings`` (:func:`rrampaper.analysis.conditions.crossings_table`) as a
    marker with its bootstrap interval. Worse devices lie to the right on every panel."""
    if not sweeps:
        raise ParameterError("sweeps is empty: nothing to draw")
    tasks = list(sweeps)
    axes_names = [a for a in AXES if any(a in sweeps[t] for t in tasks)]
    fig, grid = plt.subplots(len(tasks), len(axes_names), squeeze=False, sharey="row",
                             figsize=(panel_size[0] * len(axes_names), panel_size[1] * len(tasks)))
    for r, task in enumerate(tasks):
        target = paper_gap(task, version)
        for c, name in enumerate(axes_names):
            ax = grid[r, c]
            if name not in sweeps[task]:
                ax.set_axis_off()
                continue
            sweep = sweeps[task][name]
            gap = gaps(sweep)
            levels = gap["level"].values.astype(float)
            for i, wo in enumerate(gap["approach"].values):
                values = gap.sel(approach=wo).transpose("level", "seed").values
                mean = values.mean(axis=1)
                sd = values.std(axis=1, ddof=1) if values.shape[1] > 1 else np.zeros_like(mean)
                col = color(str(wo), i)
                ax.plot(levels, mean, marker="o", ms=3.5, color=col, label=f"TO − {wo}")
                ax.fill_between(levels, mean - sd, mean + sd, color=col, alpha=0.18, lw=0)
                if crossings is not None:
                    row = crossings[(crossings["task"] == task) & (crossings["axis"] == name)
                                    & (crossings["WO"] == str(wo))]
                    if len(row) and np.isfinite(row["crossing"].iloc[0]):
                        x = float(row["crossing"].iloc[0])
                        lo, hi = float(row["low"].iloc[0]), float(row["high"].iloc[0])
                        ax.errorbar([x], [target], xerr=[[max(x - lo, 0)], [max(hi - x, 0)]],
                                    fmt="D", ms=6, color=col, mec="black", mew=0.6, capsize=3,
                                    zorder=5)
            ax.axhline(target, color="black", ls="--", lw=1.2,
                       label=f"paper ({VERSIONS[version]})")
            ax.axhline(0.0, color="0.6", lw=0.8)
            ax.axvline(float(sweep.attrs["preset_level"]), color="0.5", ls=":", lw=1.0,
                       label=f"{sweep.attrs['technology']} preset")
            _format_axis(ax, sweep)
            if c == 0:
                metric = "PR-AUC" if task == "drive" else "accuracy"
                ax.set_ylabel(f"{TASK_TITLES.get(task, task)}\nTO − WO ({metric} points)")
            ax.grid(alpha=0.3)
    handles, labels = [], []
    for ax in grid.flat:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    ncol = min(len(labels), 3)
    fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize="small", frameon=False,
               bbox_to_anchor=(0.5, 0.0))
    legend_in = 0.25 * -(-len(labels) // ncol) + 0.15  # rows of the legend, in inches
    fig.tight_layout(rect=(0, legend_in / fig.get_figheight(), 1, 1))
    return fig


def plot_retention(
    sweeps: Mapping[str, Mapping[str, xr.DataArray]],
    *,
    scale: float = 100.0,
    panel_size: tuple[float, float] = (3.8, 3.0),
) -> plt.Figure:
    """One panel per task: the metric of hardware TO and of each WO against time after
    programming (the ``t_inference_s`` sweep), mean ± sd over seeds."""
    tasks = [t for t in sweeps if "t_inference_s" in sweeps[t]]
    if not tasks:
        raise ParameterError("no task of sweeps has a t_inference_s sweep")
    fig, grid = plt.subplots(1, len(tasks), squeeze=False,
                             figsize=(panel_size[0] * len(tasks), panel_size[1]))
    for c, task in enumerate(tasks):
        ax = grid[0, c]
        sweep = sweeps[task]["t_inference_s"]
        levels = sweep["level"].values.astype(float)
        for i, approach in enumerate(sweep["approach"].values):
            values = sweep.sel(approach=approach).transpose("level", "seed").values * scale
            mean = values.mean(axis=1)
            sd = values.std(axis=1, ddof=1) if values.shape[1] > 1 else np.zeros_like(mean)
            col = color(str(approach), i)
            ax.plot(levels, mean, marker="o", ms=3.5, color=col, label=str(approach))
            ax.fill_between(levels, mean - sd, mean + sd, color=col, alpha=0.18, lw=0)
        _format_axis(ax, sweep)
        metric = "PR-AUC" if task == "drive" else "accuracy"
        ax.set_ylabel(f"test {metric} (%)")
        ax.set_title(f"{TASK_TITLES.get(task, task)}, {sweep.attrs['technology']}")
        ax.grid(alpha=0.3)
    grid[0, -1].legend(fontsize="small", loc="best")
    fig.tight_layout()
    return fig
