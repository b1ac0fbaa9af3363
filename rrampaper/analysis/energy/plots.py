"""Figures of the energy model: stacked energy breakdowns and tornado charts.

Examples
--------
>>> import matplotlib.pyplot as plt
>>> import pandas as pd
>>> from rrampaper.analysis.energy.plots import plot_breakdown
>>> fig, ax = plt.subplots()
>>> table = pd.DataFrame({"ADC": [2e-9, 1e-9], "DAC": [1e-9, 0.0]}, index=["hybrid", "GPU"])
>>> plot_breakdown(ax, table)
>>> [t.get_text() for t in ax.texts]
['3 nJ', '1 nJ']
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

#: One colour per energy component, the same in every figure.
COMPONENT_COLORS: dict[str, str] = dict(zip(
    ("crossbar read", "DAC", "TIA", "ADC", "digital ops", "SRAM", "digital MACs", "programming",
     "forming", "GPU compute", "GPU DRAM", "programming (WO)"),
    sns.color_palette("tab20", 12).as_hex(), strict=True))


def _si(joules: float) -> str:
    for scale, prefix in ((1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p")):
        if abs(joules) >= scale:
            return f"{joules / scale:.3g} {prefix}J"
    return f"{joules:.3g} J"


def plot_breakdown(ax: plt.Axes, table: pd.DataFrame) -> None:
    """Horizontal 100 % stacked bars: one bar per row of ``table`` (e.g. "DRIVE, hybrid TO"),
    one segment per column (component, joules) showing its share; the total energy is written
    at the end of each bar. Components that are zero in every row are left out."""
    order = [n for n in COMPONENT_COLORS if n in table.columns]
    order += [n for n in table.columns if n not in COMPONENT_COLORS]
    data = table.loc[:, [n for n in order if (table[n] > 0).any()]].astype(float)
    totals = data.sum(axis=1)
    shares = data.div(totals.where(totals > 0, 1.0), axis=0)
    left = np.zeros(len(data))
    for name in data.columns:
        ax.barh(range(len(data)), shares[name].to_numpy(), left=left,
                color=COMPONENT_COLORS.get(name), label=name)
        left = left + shares[name].to_numpy()
    for i, total in enumerate(totals):
        ax.text(1.01, i, _si(float(total)), va="center", fontsize="small")
    ax.set_yticks(range(len(data)), list(data.index))
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of the energy (total at the right)")
    ax.legend(fontsize="x-small", ncols=4, loc="upper center", bbox_to_anchor=(0.5, -0.15))


def plot_tornado(ax: plt.Axes, table: pd.DataFrame, top: int = 10, title: str = "") -> None:
    """Tornado chart of a :func:`rrampaper.analysis.energy.sensitivity` table: for the ``top`` constants
    with the largest swing, a bar from the reduction at the low end to that at the high end,
    around the baseline reduction (dashed line)."""
    rows = table.head(top)
    baseline = float(table.attrs.get("baseline", np.nan))
    y = np.arange(len(rows))
    low_color, high_color = sns.color_palette("colorblind", 2)
    for i, (_, row) in enumerate(rows.iterrows()):
        for end, color in (("low", low_color), ("high", high_color)):
            value = row[f"reduction_{end}"]
            ax.barh(i, value - baseline, left=baseline, color=color, alpha=0.85,
                    label=f"constant at its {end} end" if i == 0 else None)
        ax.text(max(row["reduction_low"], row["reduction_high"], baseline), i,
                f"  {row['low']:.3g} / {row['high']:.3g}", va="center", fontsize="x-small")
    ax.axvline(baseline, color="black", ls="--", lw=1, label=f"baseline {baseline:.1f} %")
    ax.set_yticks(y, list(rows.index))
    ax.invert_yaxis()
    ax.set_xlabel("energy reduction vs GPU (%)")
    if title:
        ax.set_title(title)
    ax.legend(fontsize="x-small", loc="best")
