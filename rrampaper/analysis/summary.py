"""Our headline numbers beside the paper's: stored by each notebook, tabulated by notebook 08.

Each experiment notebook ends by saving :class:`Headline` records (JSON, atomically) into
``<results>/headlines/``: a published claim (:mod:`rrampaper.analysis.paper`), how we measured the same
quantity (``variant``), our mean and standard deviation over seeds and the profile.
:func:`summary_table` reads them back and says whether each number is within the tolerance of
the published one (:data:`TOLERANCE`); :func:`write_markdown` writes ``figures/summary.md``.

Examples
--------
>>> import tempfile
>>> from rrampaper.analysis.summary import (Headline, load_headlines, save_headline, summary_table,
...                                        variant_name)
>>> folder = tempfile.mkdtemp()
>>> variant = variant_name("WO write-verify", technology="taox_40nm_macro", t_inference_s=1.0)
>>> _ = save_headline(Headline("fashion_mnist.accuracy_gain", variant, "smoke", [0, 1], 12.0, 3.0),
...                   folder=folder)
>>> table = summary_table(load_headlines("smoke", folder=folder))
>>> table.loc[0, ["measured as", "paper", "ours"]].tolist(), bool(table.loc[0, "within tolerance"])
(['hardware TO − WO write-verify · taox_40nm_macro · t = 1 s', '+17.3 percentage points', '+12.0 ± 3.0'], True)
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rrampaper._checks import check_choice
from rrampaper._io import atomic_path
from rrampaper.analysis.comparison import gains
from rrampaper.analysis.paper import CLAIMS, NATURE, VERSIONS, claim
from rrampaper.paths import results_dir
from rrampaper.profiles import PROFILES

#: How far from the published value a reproduced number may be and still count as reproduced,
#: by unit. Our choice (the paper gives no error bars): 5 points for metric gains, 10 percent
#: for energy reductions, widened by 2 standard deviations of our own spread over seeds.
TOLERANCE: dict[str, float] = {"percentage points": 5.0, "percent": 10.0}


@dataclass(frozen=True)
class Headline:
    """One reproduced headline number.

    Attributes
    ----------
    key:
        Claim key of :mod:`rrampaper.analysis.paper` (e.g. ``"fashion_mnist.accuracy_gain"``).
    variant:
        How it was measured (e.g. ``"hardware TO − WO write-verify · taox_40nm_macro · t = 1 s"``).
    profile:
        The profile the runs used.
    seeds:
        The seeds averaged.
    mean, sd:
        Our value over seeds, in the claim's unit.
    version:
        Paper version compared with (``"nature2026"`` or ``"arxiv2023"``).
    details:
        Further numbers worth showing (e.g. the two accuracies), name -> value.
    """

    key: str
    variant: str
    profile: str
    seeds: list[int]
    mean: float
    sd: float
    version: str = NATURE
    details: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        claim(self.key, self.version)  # validates key and version
        check_choice("profile", self.profile, PROFILES)


def headline_dir(folder: str | Path | None = None) -> Path:
    """Where headline records are stored."""
    return (Path(folder) if folder is not None else results_dir()) / "headlines"


def save_headline(headline: Headline, *, folder: str | Path | None = None) -> Path:
    """Write ``headline`` as JSON (atomically); one file per (key, variant, profile, version)."""
    slug = "".join(c if c.isalnum() else "_" for c in f"{headline.key}-{headline.variant}")
    target = headline_dir(folder) / f"{headline.profile}-{headline.version}-{slug}.json"
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(dataclasses.asdict(headline), indent=1, ensure_ascii=False))
    return target


#: How each gain of hardware TO is named in the stored headlines, by the label it is measured
#: against (:func:`save_gains` appends the technology and the time after programming).
GAIN_VARIANTS: dict[str, str] = {
    "WO post-verify": "hardware TO − WO post-verify spread",
    "WO open-loop": "hardware TO − WO open-loop",
    "WO write-verify": "hardware TO − WO write-verify",
    "HWA WO write-verify": "hardware TO − HWA WO write-verify",
    "in-situ WO": "hardware TO − in-situ WO with TO's write budget",
}

#: Units of :func:`format_time`, largest first, in seconds (a year of 365.25 days).
_TIME_UNITS: tuple[tuple[str, float], ...] = (
    ("y", 365.25 * 86400.0), ("d", 86400.0), ("h", 3600.0), ("min", 60.0), ("s", 1.0))


def format_time(t_s: float) -> str:
    """A time in seconds in the largest unit that reaches 1 (within 1 %), two significant digits.

    >>> [format_time(t) for t in (1.0, 0.5, 90.0, 3600.0, 86400.0, 3.15e7, 3.15e8)]
    ['1 s', '0.5 s', '1.5 min', '1 h', '1 d', '1 y', '10 y']
    """
    t_s = float(t_s)
    name, unit = next(((n, u) for n, u in _TIME_UNITS if t_s >= 0.99 * u), _TIME_UNITS[-1])
    value = t_s / unit
    return f"{value:.2g} {name}" if value < 10 else f"{round(value):d} {name}"


def variant_name(label: str, *, technology: str, t_inference_s: float, suffix: str = "") -> str:
    """The stored name of the gain of hardware TO over ``label`` (:data:`GAIN_VARIANTS`), with
    ``suffix``, the technology and the time after programming.

    >>> variant_name("WO write-verify", technology="taox_40nm_macro", t_inference_s=1.0)
    'hardware TO − WO write-verify · taox_40nm_macro · t = 1 s'
    """
    return f"{GAIN_VARIANTS[label]}{suffix} · {technology} · t = {format_time(t_inference_s)}"


def save_gains(key: str, profile: str, seeds: list[int], values: dict[str, Any], *,
               technology: str, t_inference_s: float,
               versus: tuple[str, ...] | list[str] = tuple(GAIN_VARIANTS),
               to_label: str = "hardware TO", metric: str = "", variant_suffix: str = "",
               version: str = NATURE, folder: str | Path | None = None,
               ) -> dict[str, tuple[float, float]]:
    """Store the headline gains ``to_label`` − each label of ``versus`` present in ``values``
    (``{label: metric per seed}``, fractions) under the claim ``key``; return them.

    Each record (:class:`Headline`) is named by :func:`variant_name`: the
    :data:`GAIN_VARIANTS` name plus ``variant_suffix``, then the device ``technology`` the runs
    used and ``t_inference_s``, the time after programming at which they were read (e.g.
    ``"hardware TO − WO write-verify · taox_40nm_macro · t = 1 s"``). It keeps both means (in %,
    two decimals) as ``details``, named ``"<label> <metric>%"``.
    """
    measured = gains(values, to_label, list(versus))
    unit = f" {metric} %" if metric else " %"
    means = {label: round(100 * float(np.mean(v)), 2) for label, v in values.items()}
    for label, (mean, sd) in measured.items():
        name = variant_name(label, technology=technology, t_inference_s=t_inference_s,
                            suffix=variant_suffix)
        save_headline(Headline(key, name, profile, list(seeds),
                               mean, sd, version=version,
                               details={f"{to_label}{unit}": means[to_label],
                                        f"{label}{unit}": means[label]}), folder=folder)
    return measured


def load_headlines(profile: str, *, folder: str | Path | None = None) -> list[Headline]:
    """Every stored headline of ``profile``, sorted by claim key and variant."""
    check_choice("profile", profile, PROFILES)
    records = []
    for path in sorted(headline_dir(folder).glob(f"{profile}-*.json")):
        data: dict[str, Any] = json.loads(path.read_text())
        records.append(Headline(**data))
    return sorted(records, key=lambda h: (h.key, h.version, h.variant))


def within_tolerance(headline: Headline) -> bool:
    """Whether ``|ours − paper| <= tolerance(unit) + 2 sd``."""
    published = claim(headline.key, headline.version)
    return bool(abs(headline.mean - published.value) <= TOLERANCE[published.unit] + 2 * headline.sd)


def summary_table(headlines: list[Headline]):
    """A ``pandas.DataFrame``: claim, paper version and value, ours (mean ± sd), seeds, profile,
    within tolerance, and the details."""

    rows = []
    for h in headlines:
        published = claim(h.key, h.version)
        rows.append({
            "claim": h.key,
            "measured as": h.variant,
            "paper version": VERSIONS[h.version],
            "paper": f"{published.value:+.1f} {published.unit}",
            # a model calculation (energy) has no seeds and no spread
            "ours": f"{h.mean:+.1f} ± {h.sd:.1f}" if h.seeds else f"{h.mean:+.1f}",
            "seeds": len(h.seeds) if h.seeds else "model",
            "profile": h.profile,
            "within tolerance": bool(within_tolerance(h)),
            "details": ", ".join(f"{k} {v:.1f}" for k, v in h.details.items()),
        })
    return pd.DataFrame(rows)


def write_markdown(table, path: str | Path, *, title: str, preamble: str = "",
                   postscript: str = "") -> Path:
    """Write ``table`` as a Markdown page (atomically), with ``preamble`` before it and
    ``postscript`` (further Markdown sections) after it."""
    lines = [f"# {title}", ""]
    if preamble:
        lines += [preamble, ""]
    columns = list(table.columns)
    if not columns:
        lines.append("No headline number has been stored yet: run the experiment notebooks first.")
    else:
        lines.append("| " + " | ".join(columns) + " |")
        lines.append("| " + " | ".join("---" for _ in columns) + " |")
        for _, row in table.iterrows():
            cells = [("yes" if v else "no") if isinstance(v, bool) else str(v) for v in row.tolist()]
            lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    if postscript:
        lines += ["", postscript.rstrip("\n")]
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Path(path)


def missing_claims(headlines: list[Headline]) -> list[str]:
    """Published claims (both versions) that no stored headline reproduces yet."""

    # a claim counts as covered when a headline reproduces the same key with the same published
    # value (the accuracy gains are identical in both versions; the energy numbers are not)
    have = {(h.key, claim(h.key, h.version).value) for h in headlines}
    return [f"{key} ({VERSIONS[version]})" for version, claims in CLAIMS.items()
            for key, published in claims.items() if (key, published.value) not in have]


def units(headlines: list[Headline]) -> list[str]:
    """The units of the claims the headlines reproduce (one figure panel each)."""
    return sorted({claim(h.key, h.version).unit for h in headlines}, reverse=True)


def plot_summary(ax, headlines: list[Headline], unit: str | None = None) -> None:
    """Ours (mean ± sd, dots) against the paper's value (diamond) and its tolerance band (grey)
    for every headline whose claim is in ``unit`` (default: all)."""
    headlines = [h for h in headlines if unit is None or claim(h.key, h.version).unit == unit]
    labels = [f"{h.key}\n{h.variant}" for h in headlines]
    for i, h in enumerate(headlines):
        published = claim(h.key, h.version)
        ok = within_tolerance(h)
        ax.errorbar(h.mean, i, xerr=h.sd, fmt="o", color="#029e73" if ok else "#d55e00", capsize=3,
                    label="ours (within tolerance)" if ok else "ours (outside tolerance)")
        ax.scatter(published.value, i, marker="D", color="k", zorder=3,
                   label=f"paper ({published.version})")
        ax.hlines(i, published.value - TOLERANCE[published.unit], published.value + TOLERANCE[published.unit],
                  color="0.6", lw=6, alpha=0.4, zorder=0)
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_yticks(range(len(labels)), labels, fontsize="small")
    ax.invert_yaxis()
    ax.set_xlabel({"percentage points": "gain of TO over WO (percentage points)",
                   "percent": "energy reduction (%)"}.get(unit or "", "value"))
    handles, names = ax.get_legend_handles_labels()
    unique = dict(zip(names, handles, strict=True))
    ax.legend(unique.values(), unique.keys(), fontsize="small", loc="upper left",
              bbox_to_anchor=(1.01, 1.0))
