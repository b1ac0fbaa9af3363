"""Formed-cell conductance law with a spread compliance: no point mass at the cap."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rrampaper.devices import FilamentModel, FormedConductance, ks_test

N = 200_000
V, T = 3.5, 1e-6
#: histograms a notebook would draw over the formed range [0, 1.5 * cap]
BINS = (60, 100)


@pytest.fixture(scope="module")
def model() -> FilamentModel:
    return FilamentModel()


@pytest.fixture(scope="module")
def formed(model):
    res = model.sample(N, V, T, seed=21)
    f = res.formed
    return res.conductance_s[f].numpy(), res.capped[f].numpy()


@pytest.fixture(scope="module")
def hard_formed(model):
    res = model.replace(compliance_sigma=0.0).sample(N, V, T, seed=21)
    return res.conductance_s[res.formed].numpy(), res.capped[res.formed].numpy()


def _edges(model: FilamentModel, bins: int) -> np.ndarray:
    return np.linspace(0.0, 1.5 * model.conductance_cap_s, bins + 1)


def _limited_bin_max(g: np.ndarray, limited: np.ndarray, edges: np.ndarray) -> float:
    """Largest fraction of the formed cells that one bin holds of compliance-limited cells."""
    h, _ = np.histogram(g[limited], edges)
    return float(h.max() / g.size)


def _cap_step(g: np.ndarray, edges: np.ndarray, cap: float) -> float:
    """Excess of the bin holding the cap over the mean of its two neighbours (fraction)."""
    h, _ = np.histogram(g, edges)
    f = h / g.size
    i = int(np.searchsorted(edges, cap, side="right") - 1)
    return float(f[i] - 0.5 * (f[i - 1] + f[i + 1]))


def test_samples_follow_the_law(model, formed):
    g, _ = formed
    dist = model.formed_conductance_distribution(V, T)
    d, p = ks_test(g, dist)
    assert d < 0.01 and p > 1e-3
    assert dist.p_cap == 0.0
    assert g.mean() == pytest.approx(dist.mean(), rel=0.005)
    q = np.array([0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99])
    assert np.allclose(np.quantile(g, q), dist.ppf(q), rtol=0.01)
    assert np.allclose(dist.cdf(dist.ppf(q)), q, atol=1e-4)


def test_limited_fraction_matches_p_limited(model, formed):
    g, limited = formed
    dist = model.formed_conductance_distribution(V, T)
    p = dist.p_limited
    assert 0.10 < p < 0.16  # about 13 % of formed cells end on their compliance limit
    se = math.sqrt(p * (1 - p) / g.size)
    assert abs(limited.mean() - p) < 4 * se
    assert model.compliance_limited_probability(V, T) == pytest.approx(p)


@pytest.mark.parametrize("bins", BINS)
def test_no_bin_at_the_cap_holds_one_percent_of_limited_cells(model, formed, bins):
    g, limited = formed
    edges = _edges(model, bins)
    cap = model.conductance_cap_s
    assert _limited_bin_max(g, limited, edges) < 0.01
    assert _cap_step(g, edges, cap) < 0.01
    # analytic counterpart: the limited mass in each bin is the integral of f_cc (1 - F_raw)
    dist = model.formed_conductance_distribution(V, T)
    fine = np.linspace(edges[0], edges[-1], 20 * bins + 1)
    dens = dist.cap_pdf(fine) * (1.0 - dist.raw_cdf(fine))
    per_bin = np.add.reduceat(0.5 * (dens[1:] + dens[:-1]) * np.diff(fine), np.arange(0, 20 * bins, 20))
    assert per_bin.max() < 0.01
    assert np.abs(np.histogram(g[limited], edges)[0] / g.size - per_bin).max() < 1e-3
    # the whole histogram agrees with the law bin by bin
    h, _ = np.histogram(g, edges)
    assert np.abs(h / g.size - dist.bin_masses(edges)).max() < 3e-3


@pytest.mark.parametrize("bins", BINS)
def test_hard_cap_fails_the_bin_check(model, hard_formed, bins):
    g, limited = hard_formed
    edges = _edges(model, bins)
    assert _limited_bin_max(g, limited, edges) > 0.1
    assert _cap_step(g, edges, model.conductance_cap_s) > 0.1
    dist = model.replace(compliance_sigma=0.0).formed_conductance_distribution(V, T)
    i = int(np.searchsorted(edges, model.conductance_cap_s, side="right") - 1)
    assert dist.bin_masses(edges)[i] >= dist.p_cap - 1e-12 and dist.p_cap > 0.1


def test_law_is_a_probability_law(model):
    dist = model.formed_conductance_distribution(V, T)
    g = np.linspace(0.0, 5 * model.conductance_cap_s, 200_001)
    dens = dist.pdf(g)
    assert np.all(dens >= 0)
    assert np.trapezoid(dens, g) == pytest.approx(1.0, abs=2e-3)
    c = dist.cdf(g)
    assert np.all(np.diff(c) >= -1e-12) and c[0] == 0.0 and c[-1] == pytest.approx(1.0, abs=1e-9)
    # the cdf is the integral of the pdf
    mid = np.searchsorted(g, model.conductance_cap_s)
    assert np.trapezoid(dens[: mid + 1], g[: mid + 1]) == pytest.approx(c[mid], abs=2e-3)
    assert np.array_equal(dist.cdf_left(g[::1000]), dist.cdf(g[::1000]))
    assert np.all(np.isfinite(dist.logpdf(g[::1000])))


def test_soft_cap_tends_to_hard_cap(model):
    hard = FormedConductance(1.0, 7.7e-5, 0.5, cap_s=2.5e-4)
    soft = FormedConductance(1.0, 7.7e-5, 0.5, cap_s=2.5e-4, cap_sigma=0.01)
    assert soft.p_limited == pytest.approx(hard.p_cap, abs=0.005)
    assert soft.mean() == pytest.approx(hard.mean(), rel=2e-3)
    q = np.array([0.1, 0.5, 0.8])
    assert np.allclose(soft.ppf(q), hard.ppf(q), rtol=5e-3)
    # more spread, more cells limited (the spread pulls some limits below the raw values)
    wide = FormedConductance(1.0, 7.7e-5, 0.5, cap_s=2.5e-4, cap_sigma=0.5)
    assert wide.p_limited > soft.p_limited


def test_default_of_the_class_is_the_hard_cap():
    # rrampaper.devices.fit builds FormedConductance without cap_sigma and needs p_cap
    d = FormedConductance(1.0, 7.7e-5, 0.5, cap_s=2.5e-4)
    assert d.cap_sigma == 0.0 and not d.soft and d.p_cap > 0.05
    assert d.cdf_left(2.5e-4) == pytest.approx(1 - d.p_cap)
    free = FormedConductance(1.0, 7.7e-5, 0.5)
    assert free.p_cap == 0.0 and free.p_limited == 0.0
    # a spread without a cap is ignored: the law is the raw sum
    assert FormedConductance(1.0, 7.7e-5, 0.5, cap_sigma=0.3).mean() == pytest.approx(free.mean())


def test_value_errors():
    with pytest.raises(ValueError, match="cap_sigma"):
        FormedConductance(1.0, 7.7e-5, 0.5, cap_s=2.5e-4, cap_sigma=-0.1)
    with pytest.raises(ValueError, match="edges_s"):
        FormedConductance(1.0, 7.7e-5, 0.5).bin_masses([1e-4, 1e-5])
    with pytest.raises(ValueError, match="cap_s"):
        FormedConductance(1.0, 7.7e-5, 0.5, cap_s=1e-7, offset_s=1e-6)
