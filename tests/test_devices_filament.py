"""Filament model of electroforming: distributions against their analytic laws."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from rrampaper.devices import G0, FilamentModel, ks_test
from rrampaper.devices.filament import PARAMETERS

N = 40_000
V, T = 3.5, 1e-6


@pytest.fixture(scope="module")
def model() -> FilamentModel:
    return FilamentModel()


@pytest.fixture(scope="module")
def sample(model):
    return model.sample(N, V, T, seed=11)


def test_formed_fraction_matches_weibull(model, sample):
    f = model.formed_probability(V, T)
    assert f == pytest.approx(1 - math.exp(-1), rel=1e-12)  # V = eta at the reference width
    se = math.sqrt(f * (1 - f) / N)
    assert abs(sample.formed_fraction - f) < 4 * se
    # P(N = 0) = 1 - F exactly: unformed cells are exactly those without filaments
    assert torch.equal(sample.formed, sample.n_filaments > 0)


def test_formed_fraction_monotone_in_voltage_and_width(model):
    volts = np.linspace(2.8, 3.8, 21)
    widths = (1e-8, 1e-7, 1e-6, 1e-5)
    grid = np.array([model.formed_probability(volts, w) for w in widths])  # [width, voltage]
    assert grid.min() > 0 and grid.max() < 1  # no saturation in double precision here
    assert np.all(np.diff(grid, axis=1) > 0)  # more voltage forms more
    assert np.all(np.diff(grid, axis=0) > 0)  # a longer pulse forms more
    # sampled fractions follow the same order
    low = model.sample(N, 3.4, 1e-6, seed=1).formed_fraction
    high_v = model.sample(N, 3.6, 1e-6, seed=1).formed_fraction
    long_t = model.sample(N, 3.4, 1e-5, seed=1).formed_fraction
    assert low < high_v and low < long_t


def test_weibull_plot_is_a_line_with_slope_beta(model):
    volts = np.linspace(3.0, 3.6, 7)
    for width in (1e-7, 1e-5):
        w = np.log(-np.log1p(-model.formed_probability(volts, width)))
        slope, intercept = np.polyfit(np.log(volts), w, 1)
        assert slope == pytest.approx(model.weibull_shape_v, rel=1e-9)
        assert math.exp(-intercept / slope) == pytest.approx(model.weibull_scale(width), rel=1e-9)
    # longer pulse: eta(t) = eta (t_ref/t)^(1/n)
    ratio = model.weibull_scale(1e-5) / model.weibull_scale(1e-6)
    assert ratio == pytest.approx(10 ** (-1 / model.voltage_exponent))
    assert model.time_shape == pytest.approx(model.weibull_shape_v / model.voltage_exponent)


def test_area_scaling(model):
    big = model.replace(area_nm2=4 * model.reference_area_nm2)
    assert big.rate(V, T) == pytest.approx(4 * model.rate(V, T))
    assert big.weibull_scale(T) == pytest.approx(model.weibull_scale(T) * 4 ** (-1 / model.weibull_shape_v))


def test_voltage_for_formed_fraction_inverts_cdf(model):
    for f in (0.1, 0.5, 0.9):
        v = model.voltage_for_formed_fraction(f, 1e-7)
        assert model.formed_probability(v, 1e-7) == pytest.approx(f, rel=1e-10)


def test_filament_count_is_zero_truncated_poisson(model, sample):
    counts = sample.n_filaments[sample.formed].numpy()
    ks = np.arange(1, 7)
    observed = np.array([(counts == k).sum() for k in ks] + [(counts >= 7).sum()])
    pmf = model.count_pmf(ks, V, T)
    expected = np.r_[pmf, 1 - pmf.sum()] * counts.size
    keep = expected > 5
    chi2 = ((observed[keep] - expected[keep]) ** 2 / expected[keep]).sum()
    assert stats.chi2.sf(chi2, keep.sum() - 1) > 1e-3
    lam = model.rate(V, T)
    assert counts.mean() == pytest.approx(lam / (1 - math.exp(-lam)), rel=0.02)


def test_radius_lognormal_ks_and_moments(model, sample):
    r = sample.filament_radius_nm.numpy()
    d, p = stats.kstest(r, model.radius_distribution().cdf)
    assert d < 0.015 and p > 1e-3
    assert np.log(r).mean() == pytest.approx(math.log(model.radius_median_nm), abs=0.01)
    assert np.log(r).std() == pytest.approx(model.radius_sigma, rel=0.03)
    # diameters inside the published bounds: above a 3-8 atom bottleneck, below 10 nm
    assert 0.5 < np.median(r) < 5
    assert np.quantile(2 * r, 0.999) < 10.0 and np.quantile(2 * r, 0.001) > 1.0


def test_filament_conductance_lognormal(model, sample):
    g = sample.filament_conductance_s.numpy()
    dist = model.filament_conductance_distribution()
    assert stats.kstest(g, dist.cdf).pvalue > 1e-3
    assert np.median(g) == pytest.approx(G0, rel=0.03)  # median filament = one quantum
    assert g.mean() == pytest.approx(dist.mean(), rel=0.03)


def test_formed_conductance_against_convolution(model, sample):
    g = sample.conductance_s[sample.formed].numpy()
    dist = model.formed_conductance_distribution(V, T)
    d, p = ks_test(g, dist)
    assert d < 0.015 and p > 1e-3
    assert g.mean() == pytest.approx(dist.mean(), rel=0.02)
    # spread compliance: no point mass, the limited cells are those with G_raw >= G_cc,i
    assert dist.p_cap == 0.0
    assert sample.limited_fraction == pytest.approx(dist.p_limited, abs=0.01)
    assert (g == model.conductance_cap_s).sum() == 0
    limited = sample.capped[sample.formed].numpy()
    assert np.array_equal(g[limited], sample.compliance_limit_s[sample.formed].numpy()[limited])
    # a different pulse is rejected by the same test
    other = model.sample(N, 3.7, 1e-5, seed=2)
    assert ks_test(other.conductance_s[other.formed].numpy(), dist)[0] > 0.2


def test_hard_cap_variant_against_convolution(model):
    hard = model.replace(compliance_sigma=0.0)
    res = hard.sample(N, V, T, seed=11)
    g = res.conductance_s[res.formed].numpy()
    dist = hard.formed_conductance_distribution(V, T)
    d, p = ks_test(g, dist)
    assert d < 0.015 and p > 1e-3
    assert g.mean() == pytest.approx(dist.mean(), rel=0.02)
    assert (g >= hard.conductance_cap_s).mean() == pytest.approx(dist.p_cap, abs=0.01)
    assert dist.p_cap == dist.p_limited > 0.05
    assert g.max() == pytest.approx(hard.conductance_cap_s)
    assert torch.all(res.compliance_limit_s == hard.conductance_cap_s)
    with pytest.raises(ValueError, match="hard cap"):
        hard.compliance_limit_distribution()


def test_compliance_limit_is_lognormal(model, sample):
    lim = sample.compliance_limit_s.numpy()
    law = model.compliance_limit_distribution()
    assert stats.kstest(lim, law.cdf).pvalue > 1e-3
    assert np.log(lim).std() == pytest.approx(model.compliance_sigma, rel=0.03)
    assert np.median(lim) == pytest.approx(model.conductance_cap_s, rel=0.01)
    # the raw draws before the compliance draw do not depend on compliance_sigma
    hard = model.replace(compliance_sigma=0.0).sample(N, V, T, seed=11)
    assert torch.equal(hard.filament_radius_nm, sample.filament_radius_nm)
    assert torch.equal(hard.conductance_s[~hard.formed], sample.conductance_s[~sample.formed])


def test_conductance_grows_with_voltage_and_width(model):
    means = [
        model.sample(N, v, w, seed=3).conductance_s.mean().item()
        for v, w in ((3.4, 1e-6), (3.6, 1e-6), (3.6, 1e-5))
    ]
    assert means[0] < means[1] < means[2]


def test_unformed_cells_stay_pristine(model, sample):
    g = sample.conductance_s[~sample.formed].numpy()
    assert stats.kstest(g, model.pristine_distribution().cdf).pvalue > 1e-3
    assert np.median(g) == pytest.approx(1e-7, rel=0.02)  # 10 MOhm


def test_quantized_conduction_multiples_of_g0():
    model = FilamentModel(conduction="quantized")
    res = model.sample(2000, V, T, seed=0)
    q = res.filament_conductance_s / G0
    assert torch.allclose(q, q.round()) and q.min() >= 1
    with pytest.raises(ValueError, match="ohmic"):
        model.filament_conductance_distribution()


def test_seed_determinism(model):
    a = model.sample(1000, V, T, seed=5)
    b = model.sample(1000, V, T, seed=5)
    c = model.sample(1000, V, T, seed=6)
    assert torch.equal(a.conductance_s, b.conductance_s)
    assert torch.equal(a.filament_radius_nm, b.filament_radius_nm)
    assert not torch.equal(a.conductance_s, c.conductance_s)
    gen = torch.Generator().manual_seed(5)
    assert torch.equal(model.sample(1000, V, T, seed=gen).conductance_s, a.conductance_s)


@pytest.mark.parametrize("spec", PARAMETERS, ids=lambda p: p.name)
def test_every_parameter_rejects_out_of_range(spec):
    bad = [spec.high * 2 + 1, -1.0 if spec.low >= 0 else spec.low - 1]
    if spec.low_open:
        bad.append(spec.low)
    for value in bad:
        with pytest.raises(ValueError, match=spec.name) as err:
            FilamentModel(**{spec.name: value})
        assert "valid range" in str(err.value)
    FilamentModel(**{spec.name: spec.default})


def test_other_value_errors(model):
    with pytest.raises(ValueError, match="conduction"):
        FilamentModel(conduction="ballistic")
    with pytest.raises(ValueError, match="not a parameter"):
        FilamentModel(radius_nm=1.0)
    with pytest.raises(ValueError, match="voltage_v"):
        model.rate(-1.0, T)
    with pytest.raises(ValueError, match="width_s"):
        model.rate(3.0, 0.0)
    with pytest.raises(ValueError, match="fraction"):
        model.voltage_for_formed_fraction(1.0, T)
    with pytest.raises(ValueError, match="n="):
        model.sample(0, V, T)


def test_parameter_table_has_sources(model):
    tab = model.parameter_table()
    assert set(tab.index) == {p.name for p in PARAMETERS}
    assert tab["source"].str.len().min() > 20
    assert list(tab.columns) == ["value", "unit", "valid range", "source"]
    assert tab.loc["compliance_sigma", "unit"] == "" and tab.loc["compliance_sigma", "value"] > 0
    assert "calibration" in tab.loc["filament_conductivity_s_per_m", "source"]
    assert "identifiable" in tab.loc["radius_median_nm", "source"]
    assert not tab["source"].str.contains("TEM-visible|TEM-derived").any()
    assert "filament.radius_median_nm" in model.attrs()
    assert "filament.compliance_sigma" in model.attrs()
