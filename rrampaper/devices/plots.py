"""The device figures of ``notebooks/01_device_statistics.ipynb``, one function per figure.

Each function takes computed numbers (no sampling happens here), draws one figure in the
package style (:func:`rrampaper.analysis.plotting.use_style`) and returns it; the notebook saves it with
:func:`rrampaper.analysis.plotting.save_figure`. Conductances are shown in microsiemens, radii in nm.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from matplotlib.colors import BoundaryNorm, ListedColormap, TwoSlopeNorm
from matplotlib.patches import Patch

from rrampaper.devices.distributions import FormedConductance
from rrampaper.devices.faults import FAULT_NAMES
from rrampaper.devices.filament import G0, FilamentModel, FormingResult
from rrampaper.devices.fit import FitResult
from rrampaper.devices.technologies import Technology

US = 1e6  # siemens -> microsiemens
_PALETTE = ("#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc", "#ca9161")


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def forming_figure(
    model: FilamentModel,
    sweeps: Mapping[float, tuple[np.ndarray, np.ndarray, int]],
) -> plt.Figure:
    """Formed fraction vs pulse amplitude (left) and the Weibull plot (right).

    ``sweeps`` maps a pulse width (s) to ``(voltages_v, formed_fraction, n_cells)`` measured on
    sampled arrays; lines are the model's Weibull CDF.
    """
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    v_all = np.concatenate([np.asarray(v) for v, _, _ in sweeps.values()])
    grid = np.linspace(v_all.min() - 0.1, v_all.max() + 0.1, 200)
    for color, (width, (volts, frac, n)) in zip(_PALETTE, sweeps.items(), strict=False):
        label = f"{width * 1e6:g} µs pulse"
        f_model = model.formed_probability(grid, width)
        err = np.sqrt(np.clip(frac * (1 - frac), 1e-12, None) / n)
        ax1.plot(grid, f_model, color=color, label=f"{label} (model)")
        ax1.errorbar(volts, frac, yerr=err, fmt="o", color=color, ms=4, label=f"{label} (sampled)")
        ok = (frac > 0) & (frac < 1)
        ax2.plot(np.log(grid), np.log(model.rate(grid, width)), color=color)  # = ln(-ln(1-F))
        ax2.plot(np.log(volts[ok]), np.log(-np.log1p(-frac[ok])), "o", color=color, ms=4, label=label)
        eta = model.weibull_scale(width)
        ax1.axvline(eta, color=color, ls=":", lw=1)
    ax1.set(xlabel="source-line pulse amplitude V (V)", ylabel="formed fraction F",
            title="Electroforming sets the density")
    ax1.legend(fontsize=8)
    ax2.set(xlabel="ln V", ylabel="ln(−ln(1 − F))",
            title=f"Weibull plot: slope β = {model.weibull_shape_v:g}")
    ax2.axhline(0, color="0.6", lw=0.8)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def filament_figure(result: FormingResult, model: FilamentModel) -> plt.Figure:
    """Filaments per formed cell (bars vs zero-truncated Poisson) and radius histogram (nm)."""
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(13, 3.8))
    counts = _np(result.n_filaments[result.formed])
    k = np.arange(1, max(int(counts.max()), 5) + 1)
    observed = np.array([(counts == j).mean() for j in k])
    ax1.bar(k, observed, color=_PALETTE[0], alpha=0.7, label="sampled")
    ax1.plot(k, model.count_pmf(k, result.voltage_v, result.width_s), "ko-", ms=4,
             label="zero-truncated Poisson")
    ax1.set(xlabel="filaments per formed cell N", ylabel="fraction of formed cells",
            title=f"λ = {float(model.rate(result.voltage_v, result.width_s)):.2f}")
    ax1.legend(fontsize=8)
    radius = _np(result.filament_radius_nm)
    bins = np.linspace(0, np.quantile(radius, 0.999), 60)
    ax2.hist(radius, bins=bins, density=True, color=_PALETTE[1], alpha=0.7, label="sampled")
    ax2.plot(bins, model.radius_distribution().pdf(bins), "k-", label="lognormal model")
    ax2.axvline(model.radius_median_nm, color="k", ls=":", lw=1)
    ax2.set(xlabel="filament radius r (nm)", ylabel="density (1/nm)",
            title="Filament size (assumed; microscopy: < 10 nm)")
    ax2.legend(fontsize=8)
    g = _np(result.filament_conductance_s) / G0
    bins = np.geomspace(max(g.min(), 1e-2), g.max(), 60)
    ax3.hist(g, bins=bins, density=True, color=_PALETTE[2], alpha=0.7, label="sampled")
    if model.conduction == "ohmic":
        ax3.plot(bins, model.filament_conductance_distribution().pdf(bins * G0) * G0, "k-",
                 label="lognormal (2 s_r)")
    ax3.set(xscale="log", xlabel="filament conductance G_f / G₀", ylabel="density",
            title="Ohmic filament: G_f = σ_f π r² / L")
    ax3.axvline(1, color="k", ls=":", lw=1)
    ax3.legend(fontsize=8)
    fig.tight_layout()
    return fig


def conductance_figure(
    formed_s, off_s, reset_s, dist: FormedConductance | None = None, cap_s: float | None = None
) -> plt.Figure:
    """Histograms of the random cells (formed and unformed), the off-state and RESET cells."""
    formed, off, reset = (_np(x) for x in (formed_s, off_s, reset_s))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    bins = np.geomspace(min(formed.min(), off.min()) * US * 0.8, formed.max() * US * 1.2, 90)
    ax1.hist(formed * US, bins=bins, color=_PALETTE[0], alpha=0.65, label="random cells after forming")
    ax1.hist(off * US, bins=bins, color=_PALETTE[3], alpha=0.55, label="off-state reference cells")
    ax1.hist(reset * US, bins=bins, color=_PALETTE[2], histtype="step", lw=1.5,
             label="random cells after RESET (unformed stay pristine)")
    ax1.set(xscale="log", xlabel="conductance (µS)", ylabel="cells",
            title="Forming splits the cells: pristine | formed")
    ax1.legend(fontsize=8)
    high = formed[formed > 1e-6]
    lin = np.linspace(0, high.max() * US * 1.02, 80)
    ax2.hist(high * US, bins=lin, density=True, color=_PALETTE[0], alpha=0.65, label="formed cells")
    if dist is not None:
        centers = 0.5 * (lin[1:] + lin[:-1])
        ax2.plot(centers, dist.pdf(centers / US) / US, "k-", label="model (convolution)")
    if cap_s is not None:
        ax2.axvline(cap_s * US, color="k", ls="--", lw=1, label="median compliance limit")
    for n in (1, 2, 3):
        ax2.axvline(n * G0 * US, color="0.5", ls=":", lw=1)
    ax2.set(xlabel="conductance (µS)   (dotted: 1, 2, 3 G₀)", ylabel="density (1/µS)",
            title="Formed cells: sums of filaments, compliance-limited")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def weight_map_figure(kept_s, pruned_s=None) -> plt.Figure:
    """Differential-weight heatmap and histogram of an array (the paper's Fig. 1 inset)."""
    w = _np(kept_s) * US
    fig, (ax1, ax0, ax2) = plt.subplots(
        1, 3, figsize=(15, 4.3), gridspec_kw={"width_ratios": [1, 1, 1.25]}
    )
    lim = float(np.quantile(np.abs(w), 0.995))
    norm = TwoSlopeNorm(0, -lim, lim)
    ax1.imshow(w, cmap="RdBu_r", norm=norm, interpolation="nearest")
    ax1.set(xlabel="column (pair)", ylabel="row", title=f"{w.shape[0]} × {w.shape[1]} differential pairs")
    zoom = min(32, *w.shape)
    ax1.add_patch(plt.Rectangle((-0.5, -0.5), zoom, zoom, fill=False, ec="k", lw=1.5))
    im = ax0.imshow(w[:zoom, :zoom], cmap="RdBu_r", norm=norm, interpolation="nearest")
    fig.colorbar(im, ax=ax0, label="G⁺ − G⁻ (µS)", shrink=0.85)
    ax0.set(xlabel="column (pair)", ylabel="row", title=f"zoom: first {zoom} × {zoom}")
    for ax in (ax1, ax0):
        ax.grid(False)
    top = float(np.abs(w).max())
    bins = np.linspace(-top, top, 121)
    ax2.hist(w.reshape(-1), bins=bins, color=_PALETTE[0], alpha=0.75, histtype="stepfilled",
             label="kept (formed − off)")
    if pruned_s is not None:
        ax2.hist(_np(pruned_s).reshape(-1) * US, bins=bins, color=_PALETTE[3], alpha=0.7,
                 histtype="stepfilled", label="pruned (reset − off)")
    ax2.set(yscale="log", xlabel="weight G⁺ − G⁻ (µS)", ylabel="pairs",
            title="Symmetric random weights")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def read_noise_figure(mean_s, std_s, tech: Technology, n_reads: int, bins: int = 30) -> plt.Figure:
    """Read-to-read standard deviation vs conductance, binned, against the technology's law."""
    mean, std = _np(mean_s).reshape(-1), _np(std_s).reshape(-1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    edges = np.geomspace(mean.min(), mean.max() * 1.0001, bins + 1)
    which = np.clip(np.digitize(mean, edges) - 1, 0, bins - 1)
    count = np.bincount(which, minlength=bins)
    ok = count > 5
    g_bin = (np.bincount(which, mean, bins) / np.maximum(count, 1))[ok]
    s_bin = np.sqrt(np.bincount(which, std**2, bins) / np.maximum(count, 1))[ok]
    sub = np.random.default_rng(0).choice(mean.size, min(mean.size, 20000), replace=False)
    g_line = np.geomspace(mean.min(), mean.max(), 200)
    s_line = _np(tech.read_sigma(torch.as_tensor(g_line)))
    ax1.loglog(mean[sub] * US, std[sub] * US, ".", color=_PALETTE[0], ms=1, alpha=0.3, label="cells")
    ax1.loglog(g_bin * US, s_bin * US, "o", color="k", ms=4, label="binned rms")
    ax1.loglog(g_line * US, s_line * US, "-", color=_PALETTE[3], label="model σ(G)")
    ax1.set(xlabel="mean conductance G (µS)", ylabel=f"σ over {n_reads} reads (µS)",
            title="Cycle-to-cycle read noise")
    ax1.legend(fontsize=8)
    ax2.semilogx(g_bin * US, 100 * s_bin / g_bin, "o", color="k", ms=4, label="binned")
    ax2.semilogx(g_line * US, 100 * s_line / g_line, "-", color=_PALETTE[3], label="model")
    ax2.set(xlabel="mean conductance G (µS)", ylabel="σ / G (%)", yscale="log",
            title="Relative noise grows at low G")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def programming_figure(
    targets_s: np.ndarray,
    errors: Mapping[str, np.ndarray],
    pulses: Mapping[str, np.ndarray],
    tolerance: float,
) -> plt.Figure:
    """Programming error and pulses per cell vs target conductance, per method."""
    t = np.asarray(targets_s) * US
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for color, (label, err) in zip(_PALETTE, errors.items(), strict=False):
        ax1.plot(t, 100 * np.asarray(err), "o-", color=color, ms=4, label=label)
    ax1.axhline(100 * tolerance, color="k", ls=":", lw=1, label=f"tolerance {100 * tolerance:g} %")
    ax1.set(xlabel="target conductance (µS)", ylabel="rms error / target (%)", yscale="log",
            title="Programming error")
    ax1.legend(fontsize=8)
    for color, (label, p) in zip(_PALETTE, pulses.items(), strict=False):
        ax2.plot(t, np.asarray(p), "o-", color=color, ms=4, label=label)
    ax2.set(xlabel="target conductance (µS)", ylabel="mean pulses per cell", title="Programming cost")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def fit_figure(
    conductance_s, fit: FitResult, truth: Mapping[str, float], dist: FormedConductance
) -> plt.Figure:
    """Fitted law over the data (left) and estimates with 95 % CIs against the truth (right)."""
    g = _np(conductance_s)
    formed = g[g > 1e-6]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [1.3, 1]})
    lin = np.linspace(0, formed.max() * US * 1.02, 80)
    ax1.hist(formed * US, bins=lin, density=True, color=_PALETTE[0], alpha=0.6, label="sampled cells")
    centers = 0.5 * (lin[1:] + lin[:-1])
    ax1.plot(centers, dist.pdf(centers / US) / US, "k-",
             label=f"ML fit (KS D = {fit.gof['ks_statistic']:.3f})")
    ax1.set(xlabel="conductance (µS)", ylabel="density (1/µS)", title="Fit to sampled data")
    ax1.legend(fontsize=8)
    names = list(truth)
    for i, name in enumerate(names):
        est, (lo, hi), true = fit.params[name], fit.ci95[name], truth[name]
        ax2.errorbar(est / true, i, xerr=[[(est - lo) / true], [(hi - est) / true]], fmt="o",
                     color=_PALETTE[0], capsize=3)
    ax2.axvline(1.0, color="k", lw=1)
    ax2.set_yticks(range(len(names)), names)
    ax2.set(xlabel="estimate / true value (95 % CI)", title="Recovered parameters")
    span = max(0.02, max(abs(fit.ci95[n][k] / truth[n] - 1) for n in names for k in (0, 1)) * 1.3)
    ax2.set_xlim(1 - span, 1 + span)
    fig.tight_layout()
    return fig


def technology_figure(weights: Mapping[str, np.ndarray], labels: Mapping[str, str]) -> plt.Figure:
    """Kept-weight distributions of several technologies, each scaled by its mean |w|."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    bins = np.linspace(-4, 4, 97)
    for color, (name, w) in zip(_PALETTE, weights.items(), strict=False):
        w = _np(w).reshape(-1)
        ax.hist(w / np.abs(w).mean(), bins=bins, density=True, histtype="step", lw=1.5,
                color=color, label=labels.get(name, name))
    ax.set(xlabel="kept weight / mean |kept weight|", ylabel="density", yscale="log",
           title="Random weights across memory technologies")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig



def programming_error_figure(
    targets_s,
    spreads: Mapping[str, np.ndarray],
    published: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> plt.Figure:
    """Spread of the achieved conductance around the target vs the target, absolute and relative.

    ``spreads`` maps a label (a method, or write-verify after some time) to the standard deviation
    of ``achieved - target`` (siemens) at each of ``targets_s``, drawn as markers and lines;
    ``published`` maps a label to ``(g_s, sigma_s)`` of a published law over its own valid range,
    drawn as dashed lines. Left: sigma in µS; right: sigma / target in %.
    """
    t = np.asarray(targets_s, dtype=float) * US
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11.5, 4.2))
    for color, (label, sigma) in zip(_PALETTE, spreads.items(), strict=False):
        s = np.asarray(_np(sigma), dtype=float) * US
        ax1.plot(t, s, "o-", color=color, ms=3.5, label=label)
        ax2.plot(t, 100 * s / t, "o-", color=color, ms=3.5, label=label)
    for style, (label, (g, sigma)) in zip(("k--", "k-.", "k:"), (published or {}).items(), strict=False):
        g_us, s_us = np.asarray(_np(g), dtype=float) * US, np.asarray(_np(sigma), dtype=float) * US
        ax1.plot(g_us, s_us, style, lw=1.5, label=label)
        ax2.plot(g_us, 100 * s_us / g_us, style, lw=1.5, label=label)
    ax1.set(xlabel="target conductance (µS)", ylabel="σ(achieved − target) (µS)",
            title="Programming spread")
    ax2.set(xlabel="target conductance (µS)", ylabel="σ / target (%)", yscale="log",
            title="Relative programming spread")
    ax1.legend(fontsize=7.5)
    fig.tight_layout()
    return fig


#: Colours of the fault codes (OK, STUCK_ON, STUCK_OFF, UNFORMED) in :func:`fault_map_figure`.
FAULT_COLORS = ("#f2f2f2", "#d55e00", "#0173b2", "#029e73")


def fault_map_figure(maps: Mapping[str, np.ndarray]) -> plt.Figure:
    """One panel per fault map: the code of every cell as an image, with a legend of the codes.

    Each map has shape ``[rows, pairs, 2]`` (positive-column cell, negative-column cell, as
    :attr:`DeviceWeights.fault_codes`); it is drawn as ``rows x 2 pairs`` cells, the two cells of
    a pair side by side. Panel titles give the faulty fraction.
    """
    n = len(maps)
    fig, axes = plt.subplots(1, n, figsize=(5.2 * n, 3.6), squeeze=False)
    cmap = ListedColormap(FAULT_COLORS)
    norm = BoundaryNorm(np.arange(len(FAULT_COLORS) + 1) - 0.5, cmap.N)
    for ax, (label, codes) in zip(axes[0], maps.items(), strict=True):
        c = np.asarray(_np(codes))
        if c.ndim != 3 or c.shape[-1] != 2:
            raise ValueError(f"fault map {label!r} has shape {c.shape}; expected [rows, pairs, 2]")
        image = c.reshape(c.shape[0], -1)
        ax.imshow(image, cmap=cmap, norm=norm, interpolation="nearest", aspect="auto")
        ax.grid(False)
        ax.set(xlabel=f"cell column ({c.shape[1]} pairs × 2 cells)", ylabel="row",
               title=f"{label}: {100 * float((c != 0).mean()):.2f} % faulty")
    handles = [Patch(facecolor=FAULT_COLORS[k], edgecolor="0.4", label=name)
               for k, name in FAULT_NAMES.items()]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8,
               bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


#: What microscopy (and, for contrast, transport) reports on the size of TaOx/HfOx filaments,
#: copied from ``docs/devices.md#filament-size``: (paper, figure, stack, what was measured,
#: value, how it was checked). "abstract" = publisher's or index abstract read; "intro" = the
#: introduction only; none of the figures were read.
FILAMENT_SIZE_SOURCES: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("H. Jiang et al., 'Sub-10 nm Ta channel responsible for superior performance of a HfO2 "
     "memristor', Sci. Rep. 6 (2016)", "not read (abstract)", "Ta/HfO2/Pt",
     "Ta-rich, O-deficient conduction channel seen directly (STEM/EELS)", "'sub-10 nm' wide",
     "abstract"),
    ("U. Celano et al., 'Imaging the three-dimensional conductive channel in filamentary-based "
     "oxide resistive switching memory' (Nano Lett., 2015 from memory)", "not read (abstract)",
     "'state-of-the-art bipolar oxide-based devices' (stack not in the abstract)",
     "C-AFM tomography (not TEM): one filament per device, constriction near the oxygen-inert "
     "electrode, atomic-size contacts depending on programming current",
     "'sizes below 10 nm'; single filament", "abstract"),
    ("T. N. Török et al., 'Quantum transport properties of tantalum-oxide resistive switching "
     "filaments', arXiv 2302.03214 (2023)", "not read (abstract)", "Ta2O5",
     "superconducting subgap spectroscopy (not microscopy): bottleneck size",
     "3-8 Ta atoms at the narrowest cross-section, unchanged by switching", "abstract"),
    ("F. Miao et al., 'Anatomy of a nanoscale conduction channel reveals the mechanism of a "
     "high-performance memristor', Adv. Mater. (2011)", "not read", "TaOx (Ta2O5 matrix)",
     "channel of amorphous Ta(O) solid solution surrounded by near-stoichiometric Ta2O5",
     "size not in the abstract", "abstract"),
    ("'Park et al.' (authors from memory), Nat. Commun. 4, 2382 (2013)", "not read",
     "Ta2O5-x/TaO2-x bilayer", "in situ TEM of conducting channels", "not read", "intro"),
    ("'Privitera et al.' (from memory), 'Microscopy study of the conductive filament in HfO2 "
     "resistive switching memory devices'", "not read",
     "HfO2 with Hf or Ti exchange layer, 50 x 50 nm2",
     "cone-shaped metal-rich region (TEM, STEM dark field, EELS)", "shape only; dimensions not read",
     "abstract"),
    ("D.-H. Kwon et al., Nat. Nanotechnol. 5, 148 (2010)", "not read", "Pt/TiO2/Pt (contrast)",
     "Magneli-phase TinO2n-1 filaments by HRTEM", "dimensions not in the abstract", "abstract"),
    ("Sci. Rep. 6, 25757 (2016)", "-", "HfO2 (general)",
     "background statement, not a measurement", "'a few nanometer wide'", "intro"),
    ("S. Wang et al., Nat. Mach. Intell. 5, 104 (2023) (ESGNN)", "Fig. 1a",
     "the paper's group's 40 nm TaOx cell", "TEM of one cell",
     "one filament visible; width not quantified", "not re-read"),
)

#: Columns of :func:`microscopy_table`.
MICROSCOPY_COLUMNS = ("paper", "figure", "stack", "what was measured", "value", "check")

#: Ta atom diameter (nm) used to turn "3-8 Ta atoms" into a diameter: ASSUMPTION, order of
#: magnitude only (metallic Ta radius ~0.146 nm); a cross-section of n atoms ~ d_atom * sqrt(n).
TA_ATOM_DIAMETER_NM = 0.29

#: Diameter ranges (nm) the sources bound the filament to: (low, high, label).
MICROSCOPY_BOUNDS_NM: tuple[tuple[float, float, str], ...] = (
    (TA_ATOM_DIAMETER_NM * 3**0.5, TA_ATOM_DIAMETER_NM * 8**0.5,
     "bottleneck of 3–8 Ta atoms (Török 2023; ~0.29 nm per atom, rough)"),
    (10.0, 20.0, "excluded: channels 'sub-10 nm' (Jiang 2016), 'below 10 nm' (Celano)"),
)


def microscopy_table() -> pd.DataFrame:
    """The filament-size sources of ``docs/devices.md#filament-size`` as a DataFrame."""
    return pd.DataFrame(list(FILAMENT_SIZE_SOURCES), columns=list(MICROSCOPY_COLUMNS))


def filament_size_figure(
    diameters_nm,
    bounds: Sequence[tuple[float, float, str]] = MICROSCOPY_BOUNDS_NM,
    bins: int = 60,
) -> plt.Figure:
    """Histogram of the model's sampled filament diameters (nm) with the microscopy bounds as
    shaded ranges; the x axis runs to the top of the last bound."""
    d = np.asarray(_np(diameters_nm), dtype=float).reshape(-1)
    top = max([hi for _, hi, _ in bounds] + [float(d.max())])
    fig, ax = plt.subplots(figsize=(7, 4))
    edges = np.linspace(0, top, bins + 1)
    ax.hist(d, bins=edges, density=True, color=_PALETTE[1], alpha=0.75,
            label=f"model (assumed): {d.size:,} sampled filaments")
    for color, (lo, hi, label) in zip(("#999999", "#cc78bc", "#029e73"), bounds, strict=False):
        ax.axvspan(lo, hi, color=color, alpha=0.25, lw=0, label=label)
    ax.axvline(float(np.median(d)), color="k", ls=":", lw=1,
               label=f"model median {np.median(d):.1f} nm")
    ax.set(xlim=(0, top), xlabel="filament diameter 2r (nm)", ylabel="density (1/nm)",
           title="Assumed filament size, bounded by microscopy")
    ax.legend(fontsize=7.5)
    fig.tight_layout()
    return fig
