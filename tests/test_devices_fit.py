"""Maximum-likelihood fits recover the parameters that generated the data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rrampaper.devices import (
    FilamentModel,
    fit_conductances,
    fit_forming,
    fit_read_noise,
    model_from_fit,
)

TRUE = FilamentModel(weibull_scale_v=3.4, weibull_shape_v=15.0, voltage_exponent=30.0,
                     radius_median_nm=1.3, radius_sigma=0.3)


def test_conductance_fit_recovers_parameters_within_tolerance():
    """Tolerance: every estimate within 4 standard errors and within 5 % of the truth."""
    v, t = 3.45, 1e-6
    sample = TRUE.sample(20_000, v, t, seed=4)
    fit = fit_conductances(sample.conductance_s.numpy())
    truth = {
        "rate": float(TRUE.rate(v, t)),
        "filament_median_s": TRUE.filament_median_s,
        "filament_sigma": 2 * TRUE.radius_sigma,
        "pristine_median_s": TRUE.pristine_conductance_s,
        "pristine_sigma": TRUE.pristine_sigma,
        # the data come from the soft cap (compliance_sigma = 0.2): its median is now an
        # estimate with a standard error, no longer a pile located exactly
        "cap_s": TRUE.conductance_cap_s,
        "cap_sigma": TRUE.compliance_sigma,
    }
    for name, value in truth.items():
        est, se = fit.params[name], fit.stderr[name]
        assert abs(est - value) < 4 * se, name
        assert abs(est / value - 1) < 0.05, name
        lo, hi = fit.ci95[name]
        assert lo < est < hi
    assert fit.gof["n_capped"] == 0 and fit.gof["lr_soft_cap"] > 100
    assert fit.gof["ks_statistic"] < 0.015 and fit.gof["ks_pvalue"] > 1e-3
    assert fit.converged and np.isfinite(fit.loglik)
    rebuilt = model_from_fit(fit, TRUE, voltage_v=v, width_s=t)
    assert rebuilt.radius_median_nm == pytest.approx(1.3, rel=0.03)
    assert rebuilt.formed_probability(v, t) == pytest.approx(TRUE.formed_probability(v, t), abs=0.01)
    assert rebuilt.compliance_sigma == fit.params["cap_sigma"]
    assert rebuilt.conductance_cap_s == pytest.approx(fit.params["cap_s"])
    assert set(fit.summary().columns) == {"estimate", "stderr", "ci95_low", "ci95_high"}


def test_conductance_fit_recovers_compliance_spread():
    """Tolerance: the fitted cap_sigma within 4 standard errors and 10 % of the true spread."""
    model = TRUE.replace(compliance_sigma=0.35, compliance_current_a=80e-6)
    v, t = 3.5, 1e-6
    sample = model.sample(10_000, v, t, seed=7)
    fit = fit_conductances(sample.conductance_s.numpy())
    for name, value in {"cap_sigma": 0.35, "cap_s": model.conductance_cap_s}.items():
        est, se = fit.params[name], fit.stderr[name]
        assert abs(est - value) < 4 * se, name
        assert abs(est / value - 1) < 0.1, name
        lo, hi = fit.ci95[name]
        assert 0 < lo < est < hi
    rebuilt = model_from_fit(fit, model, voltage_v=v, width_s=t)
    assert rebuilt.compliance_sigma == pytest.approx(0.35, rel=0.1)
    # a fixed spread is honoured and reported without a standard error
    fixed = fit_conductances(sample.conductance_s.numpy(), cap_sigma=0.35)
    assert fixed.params["cap_sigma"] == 0.35 and math.isnan(fixed.stderr["cap_sigma"])
    assert fixed.params["cap_s"] == pytest.approx(model.conductance_cap_s, rel=0.1)


def test_conductance_fit_hard_cap_is_kept():
    """A pile at the cap selects the censored hard-cap fit; cap_sigma=0 forces it."""
    hard = TRUE.replace(compliance_sigma=0.0)
    v, t = 3.45, 1e-6
    sample = hard.sample(10_000, v, t, seed=3)
    fit = fit_conductances(sample.conductance_s.numpy())
    assert fit.params["cap_s"] == pytest.approx(hard.conductance_cap_s)
    assert fit.params["cap_sigma"] == 0.0 and fit.gof["n_capped"] > 0
    assert math.isnan(fit.stderr["cap_sigma"]) and math.isnan(fit.stderr["cap_s"])
    assert fit.params["filament_median_s"] == pytest.approx(hard.filament_median_s, rel=0.05)
    assert model_from_fit(fit, TRUE, voltage_v=v, width_s=t).compliance_sigma == 0.0
    # soft data, hard fit forced: no pile at the top, so no cap (the earlier behaviour)
    soft = TRUE.sample(2000, v, t, seed=3).conductance_s.numpy()
    forced = fit_conductances(soft, cap_sigma=0)
    assert math.isinf(forced.params["cap_s"]) and forced.params["cap_sigma"] == 0.0


def test_conductance_fit_without_cap():
    model = FilamentModel(compliance_current_a=1e-2)
    sample = model.sample(10_000, 3.5, 1e-6, seed=1)
    fit = fit_conductances(sample.conductance_s.numpy(), cap_s=None)
    assert math.isinf(fit.params["cap_s"])
    assert fit.params["filament_median_s"] == pytest.approx(model.filament_median_s, rel=0.05)


def test_forming_fit_recovers_weibull_and_exponent():
    volts = np.linspace(3.0, 3.8, 9)
    rows = []
    for j, width in enumerate((1e-7, 1e-5)):
        for i, v in enumerate(volts):
            res = TRUE.sample(3000, v, width, seed=100 * j + i)
            rows.append((v, width, int(res.formed.sum()), 3000))
    v, w, k, n = map(np.array, zip(*rows, strict=True))
    fit = fit_forming(v, w, k, n)
    truth = {"weibull_scale_v": 3.4, "weibull_shape_v": 15.0, "voltage_exponent": 30.0}
    for name, value in truth.items():
        assert abs(fit.params[name] - value) < 4 * fit.stderr[name], name
        assert abs(fit.params[name] / value - 1) < 0.1, name
    assert fit.gof["chi2_pvalue"] > 1e-3


def test_read_noise_fit():
    rng = np.random.default_rng(0)
    g = np.exp(rng.uniform(np.log(1e-7), np.log(3e-4), 5000))
    sigma = np.sqrt((0.02 * g) ** 2 + (1e-8) ** 2)
    reads = g + sigma * rng.standard_normal((200, g.size))
    fit = fit_read_noise(reads.mean(0), reads.var(0, ddof=1))
    assert fit.params["read_relative"] == pytest.approx(0.02, rel=0.05)
    assert fit.params["read_floor_s"] == pytest.approx(1e-8, rel=0.1)


def test_fit_value_errors():
    with pytest.raises(ValueError, match="conductance_s"):
        fit_conductances([1e-5] * 5)
    with pytest.raises(ValueError, match="threshold_s"):
        fit_conductances(np.full(100, 1e-5), threshold_s=0)
    with pytest.raises(ValueError, match="exceed"):
        fit_conductances(np.full(100, 1e-7))
    with pytest.raises(ValueError, match="cap_s"):
        fit_conductances(np.linspace(1e-5, 1e-4, 100), cap_s="max")
    with pytest.raises(ValueError, match="cap_sigma"):
        fit_conductances(np.linspace(1e-5, 1e-4, 100), cap_sigma="wide")
    with pytest.raises(ValueError, match="cap_sigma"):
        fit_conductances(np.linspace(1e-5, 1e-4, 100), cap_sigma=-0.1)
    with pytest.raises(ValueError, match="n_formed"):
        fit_forming([3.0, 3.1, 3.2], 1e-6, [5, 50, 500], [100, 100, 100])
    with pytest.raises(ValueError, match="at least 3"):
        fit_forming([3.0], 1e-6, [5], [100])
    with pytest.raises(ValueError, match="at least 10"):
        fit_read_noise([1e-6], [1e-14])
