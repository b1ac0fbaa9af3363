"""Where the paper's gaps sit on the device axes: crossings with bootstrap intervals, and the
question of one device state for all three published gaps.

Input: the sweeps of :func:`rrampaper.experiments.conditions.sweep_conditions` for each task,
``{task: {axis: DataArray(level, approach, seed)}}``. The gap is hardware TO minus a WO, in
points of the task's metric (accuracy for the classifiers, PR-AUC for DRIVE), the unit of the
paper's claims.

**Crossing.** Along an axis (levels ordered from the mildest device to the worst), the level at
which the mean gap over seeds first reaches the paper's gap, by linear interpolation between
neighbouring levels (in ``log10(level)`` on a logarithmic axis). ``nan`` means "none in range":
the mean gap stays on one side of the paper's value over the whole sweep.

**Interval.** A bootstrap over seeds: seeds are drawn with replacement ``n_boot`` times, the
mean gap curve of each draw gives a crossing (or none), and the interval is the percentile
interval of the crossings found; ``found`` is the fraction of draws that cross at all. With
three seeds there are only ten distinct draws, so the interval says how much the seeds
disagree, not a coverage guarantee.

**One state for all three.** A device state is a point on one axis with every other effect
at the preset (the sweeps are one axis at a time; joint states are not searched). On each axis
and for each WO, the mean gap curves of the three tasks (interpolated as above) are scanned for
the level that minimises the largest distance to the three published gaps; the three gaps
"appear together" if that distance is at most ``tolerance`` (3 points).

Examples
--------
>>> import numpy as np
>>> levels = np.array([1.0, 2.0, 5.0, 10.0])
>>> per_seed = np.array([[0.0, 1.0], [4.0, 6.0], [15.0, 17.0], [30.0, 32.0]])
>>> c = crossing(levels, per_seed, target=10.0, log=False, worse_when="higher", n_boot=200)
>>> round(c.level, 2), c.found
(3.36, 1.0)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from rrampaper._checks import check_choice, check_positive_int, check_range
from rrampaper._io import atomic_path
from rrampaper.analysis.paper import NATURE, VERSIONS, claim
from rrampaper.analysis.summary import format_time
from rrampaper.errors import ParameterError, StoredFileError
from rrampaper.experiments.conditions import AXES, gaps
from rrampaper.paths import results_dir
from rrampaper.profiles import PROFILES

#: Claim key of the published gap of each task.
GAP_CLAIMS: dict[str, str] = {
    "fashion_mnist": "fashion_mnist.accuracy_gain",
    "spoken_digit": "spoken_digit.accuracy_gain",
    "drive": "drive.pr_auc_gain",
}

#: How close (points) each of the three gaps must come to the published one for "one state".
ONE_STATE_TOLERANCE = 3.0


def paper_gap(task: str, version: str = NATURE) -> float:
    """The published gap of ``task`` (points), from :mod:`rrampaper.analysis.paper`."""
    check_choice("task", task, tuple(GAP_CLAIMS))
    return float(claim(GAP_CLAIMS[task], version).value)


@dataclass(frozen=True)
class Crossing:
    """Where a mean gap curve reaches a target (see the module docs).

    Attributes
    ----------
    level:
        The crossing level (``nan``: none in range).
    low, high:
        Bootstrap percentile interval of the crossing (``nan`` if no draw crosses).
    found:
        Fraction of bootstrap draws that cross within the range.
    """

    level: float
    low: float
    high: float
    found: float

    def describe(self, unit: str = "") -> str:
        """``'4.1 [2.8, 6.0] x preset (crossed in 97 % of draws)'`` or ``'none in range'``."""
        if not np.isfinite(self.level):
            return f"none in range ({100 * self.found:.0f} % of draws cross)"
        unit = f" {unit}" if unit else ""
        return (f"{self.level:.3g} [{self.low:.3g}, {self.high:.3g}]{unit} "
                f"(crossed in {100 * self.found:.0f} % of draws)")


def _order(levels: np.ndarray, worse_when: str) -> np.ndarray:
    check_choice("worse_when", worse_when, ("higher", "lower"))
    order = np.argsort(levels, kind="stable")
    return order if worse_when == "higher" else order[::-1]


def _coordinate(levels: np.ndarray, log: bool) -> np.ndarray:
    if log:
        if np.any(levels <= 0):
            raise ParameterError(f"levels={levels.tolist()} must be > 0 on a logarithmic axis")
        return np.log10(levels)
    return levels.astype(np.float64)


def _first_crossing(x: np.ndarray, y: np.ndarray, target: float) -> float:
    """First ``x`` (interpolated) where ``y`` reaches ``target``, in the order given."""
    d = y - target
    for i in range(len(x)):
        if d[i] == 0:
            return float(x[i])
        if i + 1 < len(x) and d[i] * d[i + 1] < 0:
            return float(x[i] + (x[i + 1] - x[i]) * d[i] / (d[i] - d[i + 1]))
    return float("nan")


def crossing(
    levels: Sequence[float] | np.ndarray,
    per_seed: np.ndarray,
    target: float,
    *,
    log: bool,
    worse_when: str,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Crossing:
    """The crossing of the mean of ``per_seed`` (``(level, seed)``, points) with ``target``.

    ``levels`` in any order; the search runs from the mildest level (``worse_when``) to the
    worst. ``log``: interpolate in ``log10(level)``. Bootstrap over the seed axis with
    ``n_boot`` draws from ``numpy.random.default_rng(seed)``.
    """
    levels = np.asarray(levels, dtype=np.float64)
    per_seed = np.asarray(per_seed, dtype=np.float64)
    if per_seed.ndim != 2 or per_seed.shape[0] != levels.size:
        raise ParameterError(f"per_seed has shape {per_seed.shape}; expected ({levels.size}, seeds)")
    if not np.all(np.isfinite(per_seed)):
        raise ParameterError("per_seed holds non-finite gaps")
    check_positive_int("n_boot", n_boot)
    check_range("confidence", confidence, 0.0, 1.0, low_open=True, high_open=True)
    order = _order(levels, worse_when)
    x = _coordinate(levels[order], log)
    values = per_seed[order]
    back = (lambda v: 10.0 ** v) if log else (lambda v: v)  # noqa: E731
    point = _first_crossing(x, values.mean(axis=1), target)
    rng = np.random.default_rng(seed)
    n_seeds = values.shape[1]
    draws = rng.integers(0, n_seeds, size=(n_boot, n_seeds))
    found = np.array([_first_crossing(x, values[:, d].mean(axis=1), target) for d in draws])
    hit = found[np.isfinite(found)]
    alpha = (1.0 - confidence) / 2.0
    low, high = (np.quantile(hit, [alpha, 1.0 - alpha]) if hit.size else (np.nan, np.nan))
    return Crossing(level=float(back(point)) if np.isfinite(point) else float("nan"),
                    low=float(back(low)) if np.isfinite(low) else float("nan"),
                    high=float(back(high)) if np.isfinite(high) else float("nan"),
                    found=float(hit.size / n_boot))


def crossings_table(
    sweeps: Mapping[str, Mapping[str, xr.DataArray]],
    *,
    version: str = NATURE,
    n_boot: int = 2000,
) -> pd.DataFrame:
    """One row per ``(task, axis, WO)``: the paper's gap, our gap at the preset level (mean and
    sd over seeds), and the crossing with its bootstrap interval."""
    rows = []
    for task, by_axis in sweeps.items():
        target = paper_gap(task, version)
        for axis, sweep in by_axis.items():
            gap = gaps(sweep)
            levels = gap["level"].values
            preset = float(sweep.attrs["preset_level"])
            at = int(np.argmin(np.abs(levels - preset)))
            for wo in gap["approach"].values:
                per_seed = gap.sel(approach=wo).transpose("level", "seed").values
                c = crossing(levels, per_seed, target, log=bool(sweep.attrs["log"]),
                             worse_when=str(sweep.attrs["worse_when"]), n_boot=n_boot)
                rows.append({
                    "task": task, "axis": axis, "WO": str(wo), "paper gap": target,
                    "preset level": preset, "gap at preset": float(per_seed[at].mean()),
                    "gap sd": float(per_seed[at].std(ddof=1)) if per_seed.shape[1] > 1 else 0.0,
                    "crossing": c.level, "low": c.low, "high": c.high, "found": c.found,
                    "crossing text": c.describe(AXES[axis].unit),
                    "seeds": int(per_seed.shape[1]),
                })
    return pd.DataFrame(rows)


def _interpolated(sweep: xr.DataArray, wo: str, grid: np.ndarray, log: bool) -> np.ndarray:
    gap = gaps(sweep).sel(approach=wo).mean("seed")
    levels = gap["level"].values.astype(np.float64)
    order = np.argsort(levels)
    x = _coordinate(levels[order], log)
    return np.interp(_coordinate(grid, log), x, gap.values[order])


def one_state_table(
    sweeps: Mapping[str, Mapping[str, xr.DataArray]],
    *,
    version: str = NATURE,
    tolerance: float = ONE_STATE_TOLERANCE,
    points: int = 401,
) -> pd.DataFrame:
    """Per ``(axis, WO)`` shared by every task of ``sweeps``: the single level that brings all
    published gaps closest at once (the largest of the distances minimised over a ``points``
    grid between the lowest and highest level), the gaps there and whether every one is within
    ``tolerance`` points."""
    if not sweeps:
        raise ParameterError("sweeps is empty: give the sweeps of at least one task")
    tasks = list(sweeps)
    shared_axes = [a for a in AXES if all(a in sweeps[t] for t in tasks)]
    rows = []
    for axis in shared_axes:
        first = sweeps[tasks[0]][axis]
        log = bool(first.attrs["log"])
        wos = [w for w in gaps(first)["approach"].values
               if all(w in sweeps[t][axis]["approach"].values for t in tasks)]
        lo = max(float(sweeps[t][axis]["level"].min()) for t in tasks)
        hi = min(float(sweeps[t][axis]["level"].max()) for t in tasks)
        grid = (np.geomspace(lo, hi, points) if log else np.linspace(lo, hi, points))
        for wo in wos:
            curves = np.stack([_interpolated(sweeps[t][axis], str(wo), grid, log) for t in tasks])
            targets = np.array([paper_gap(t, version) for t in tasks])[:, None]
            distance = np.abs(curves - targets).max(axis=0)
            best = int(np.argmin(distance))
            row = {"axis": axis, "WO": str(wo), "level": float(grid[best]),
                   "largest distance": float(distance[best]),
                   "all within": bool(distance[best] <= tolerance)}
            row |= {f"gap {t}": float(curves[k, best]) for k, t in enumerate(tasks)}
            rows.append(row)
    return pd.DataFrame(rows)


def one_state_answer(table: pd.DataFrame, tasks: Sequence[str],
                     tolerance: float = ONE_STATE_TOLERANCE) -> str:
    """One sentence answering "is there one device state under which all published gaps appear
    together?" from :func:`one_state_table` (names the closest state when there is none)."""
    if table.empty:
        return "no axis was swept for every task"
    best = table.sort_values("largest distance").iloc[0]
    where = (f"{best['axis']} = {best['level']:.3g} ({AXES[best['axis']].unit}) against "
             f"{best['WO']}")
    gaps_text = ", ".join(f"{t} {best[f'gap {t}']:+.1f}" for t in tasks)
    if bool(best["all within"]):
        return (f"yes: {where} gives {gaps_text} points, each within {tolerance:g} points of the "
                f"paper")
    return (f"no: the closest single state is {where}, with {gaps_text} points; the farthest is "
            f"{best['largest distance']:.1f} points from its published gap (tolerance "
            f"{tolerance:g})")


# ---------------------------------------------------------------------------------------------
# What notebook 09 stores for the summary (notebook 08)
# ---------------------------------------------------------------------------------------------

_CROSSING_COLUMNS = ("task", "axis", "WO", "paper gap", "gap at preset", "gap sd", "crossing",
                     "low", "high", "found", "crossing text", "seeds")


def records_path(profile: str, version: str = NATURE, folder: str | Path | None = None) -> Path:
    """Where :func:`save_records` writes (``<results>/conditions/<profile>-<version>.json``)."""
    check_choice("profile", profile, PROFILES)
    check_choice("version", version, tuple(VERSIONS))
    return (Path(folder) if folder is not None else results_dir()) / "conditions" / f"{profile}-{version}.json"


def save_records(
    profile: str,
    technology: str,
    seeds: Sequence[int],
    crossings: pd.DataFrame,
    one_state: pd.DataFrame,
    answer: str,
    *,
    t_inference_s: float = 1.0,
    version: str = NATURE,
    folder: str | Path | None = None,
) -> Path:
    """Store the crossings, the one-state table and its answer (JSON, atomically) for the
    summary notebook; returns the file."""
    missing = [c for c in _CROSSING_COLUMNS if c not in crossings.columns]
    if missing:
        raise ParameterError(f"crossings lacks the column(s) {missing}: give crossings_table()'s table")
    data = {"profile": profile, "version": version, "technology": str(technology),
            "t_inference_s": float(t_inference_s), "seeds": [int(s) for s in seeds],
            "crossings": json.loads(crossings[list(_CROSSING_COLUMNS)].to_json(orient="records")),
            "one_state": json.loads(one_state.to_json(orient="records")), "answer": str(answer)}
    target = records_path(profile, version, folder)
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False))
    return target


def load_records(profile: str, version: str = NATURE,
                 folder: str | Path | None = None) -> dict[str, Any] | None:
    """What :func:`save_records` stored for ``profile`` (``None`` if notebook 09 has not run);
    a file that is not such a record raises :class:`~rrampaper.errors.StoredFileError`."""
    path = records_path(profile, version, folder)
    if not path.is_file():
        return None
    fix = "delete it and run notebooks/09_device_conditions.ipynb again"
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise StoredFileError(path, f"it is not readable JSON ({error})", fix) from None
    keys = {"profile", "version", "technology", "t_inference_s", "seeds", "crossings",
            "one_state", "answer"}
    if not isinstance(data, dict) or not keys <= set(data) or data.get("profile") != profile:
        raise StoredFileError(path, f"it does not hold the device-condition records of profile "
                                    f"{profile!r}", fix)
    if not isinstance(data["crossings"], list) or not all(
            isinstance(r, dict) and set(_CROSSING_COLUMNS) <= set(r) for r in data["crossings"]):
        raise StoredFileError(path, "its crossings are not rows of crossings_table()", fix)
    return data


def records_markdown(records: Mapping[str, Any]) -> str:
    """The two sections notebook 08 adds to ``figures/summary.md``: the device state that
    reproduces each published gap (crossings per axis), and one state for all three."""
    rows = pd.DataFrame(records["crossings"])
    where = (f"{records['technology']} preset, t_inference = {format_time(records['t_inference_s'])} "
             f"unless the axis changes it; seeds {records['seeds']}; paper: "
             f"{VERSIONS[records['version']]}")
    lines = ["## Device state that reproduces each published gap", "",
             f"Level of each device axis at which hardware TO − WO reaches the paper's gap "
             f"(bootstrap interval over seeds); one axis at a time, every other effect at the "
             f"{where}.", ""]
    axes = [a for a in AXES if a in set(rows["axis"])]
    header = ["task", "paper gap", "WO", "gap at preset", *(f"{AXES[a].label} ({AXES[a].unit})" for a in axes)]
    lines += ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for (task, wo), group in rows.groupby(["task", "WO"], sort=False):
        first = group.iloc[0]
        cells = [str(task), f"+{first['paper gap']:.1f}", str(wo),
                 f"{first['gap at preset']:+.1f} ± {first['gap sd']:.1f}"]
        by_axis = {r["axis"]: r["crossing text"] for _, r in group.iterrows()}
        cells += [by_axis.get(a, "not swept") for a in axes]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## One state for all three published gaps", "",
              f"**{records['answer']}**", ""]
    table = pd.DataFrame(records["one_state"])
    if not table.empty:
        gap_cols = [c for c in table.columns if c.startswith("gap ")]
        header = ["axis", "WO", "closest level", *gap_cols, "largest distance", "all within 3 points"]
        lines += ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
        for _, r in table.iterrows():
            cells = [str(r["axis"]), str(r["WO"]), f"{r['level']:.3g}",
                     *(f"{r[c]:+.1f}" for c in gap_cols), f"{r['largest distance']:.1f}",
                     "yes" if r["all within"] else "no"]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
