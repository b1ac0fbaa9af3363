"""Maximum-likelihood fits of the filament model, with standard errors and goodness of fit.

Three fits, each returning a :class:`FitResult` (estimates, standard errors, 95 % confidence
intervals, log-likelihood, and a goodness-of-fit statistic):

- :func:`fit_conductances`: cell conductances after one forming pulse (e.g. the per-cell mean of
  the ``set[:, :n]`` reads of a measured chip) -> filament rate lambda (hence formed
  fraction), single-filament conductance median and shape, pristine median and shape, the
  compliance cap. Goodness of fit: Kolmogorov-Smirnov distance of the formed cells against the
  fitted law (atom at the cap handled), and its p-value.
- :func:`fit_forming`: formed counts at several (voltage, width) pulses -> Weibull scale
  eta_V, slope beta_V and voltage-acceleration exponent n. Goodness of fit: Pearson chi^2.
- :func:`fit_read_noise`: per-cell mean and variance over reads -> relative read noise and
  additive floor (least squares on variance = (r G)^2 + a^2).

Standard errors come from the inverse of the numerical Hessian of the negative log-likelihood
in an unconstrained parameterization (logs of positive parameters), propagated by the delta
method; the confidence intervals are taken in that parameterization and mapped back, so they
stay positive.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from rrampaper._checks import check_range
from rrampaper.devices.distributions import FormedConductance, ks_test
from rrampaper.devices.filament import FilamentModel

Z95 = 1.959963984540054


@dataclass
class FitResult:
    """Estimates with uncertainties.

    Attributes
    ----------
    params:
        Point estimates by name (units in the names).
    stderr:
        Standard errors by name (``nan`` for parameters held fixed or on a boundary).
    ci95:
        95 % confidence intervals by name.
    loglik:
        Maximized log-likelihood.
    n:
        Number of observations (cells, or cells summed over pulses).
    gof:
        Goodness-of-fit statistics (``ks_statistic``/``ks_pvalue`` or ``chi2``/``chi2_pvalue``).
    converged:
        Whether the optimizer reported success.
    """

    params: dict[str, float]
    stderr: dict[str, float]
    ci95: dict[str, tuple[float, float]]
    loglik: float
    n: int
    gof: dict[str, float] = field(default_factory=dict)
    converged: bool = True

    def summary(self) -> pd.DataFrame:
        """Estimates, standard errors and intervals as a table."""
        rows = [
            {
                "parameter": k,
                "estimate": v,
                "stderr": self.stderr.get(k, math.nan),
                "ci95_low": self.ci95.get(k, (math.nan, math.nan))[0],
                "ci95_high": self.ci95.get(k, (math.nan, math.nan))[1],
            }
            for k, v in self.params.items()
        ]
        return pd.DataFrame(rows).set_index("parameter")


def hessian(f: Callable[[np.ndarray], float], x: np.ndarray, step: float = 1e-3) -> np.ndarray:
    """Central-difference Hessian of ``f`` at ``x`` (used for standard errors)."""
    x = np.asarray(x, dtype=float)
    k = x.size
    h = np.full(k, step) * np.maximum(1.0, np.abs(x))
    out = np.empty((k, k))
    f0 = f(x)
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h[i]
        out[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / h[i] ** 2
        for j in range(i + 1, k):
            ej = np.zeros(k)
            ej[j] = h[j]
            val = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (
                4 * h[i] * h[j]
            )
            out[i, j] = out[j, i] = val
    return out


def _covariance(nll: Callable[[np.ndarray], float], theta: np.ndarray) -> np.ndarray:
    h = hessian(nll, theta)
    try:
        cov = np.linalg.inv(h)
    except np.linalg.LinAlgError:
        return np.full_like(h, np.nan)
    if np.any(np.diag(cov) < 0):
        return np.full_like(h, np.nan)
    return cov


# ---------------------------------------------------------------------------------------
# conductance distribution after one forming pulse
# ---------------------------------------------------------------------------------------
def fit_conductances(
    conductance_s,
    *,
    threshold_s: float = 1e-6,
    cap_s: float | str | None = "auto",
    cap_rtol: float = 1e-3,
    grid_points: int = 2048,
) -> FitResult:
    """Fit the filament model's conductance law to cells after one forming pulse.

    Model (see :mod:`rrampaper.devices.filament`): a cell forms with probability
    ``1 - exp(-lambda)``; a formed cell conducts ``min(sum of N lognormal filaments, cap)`` with
    ``N`` zero-truncated Poisson(lambda); an unformed cell is lognormally pristine.

    Parameters
    ----------
    conductance_s:
        Cell conductances in siemens (1-D). For noisy measurements use the per-cell mean over
        reads: the cap is a point mass only when read noise is averaged out.
    threshold_s:
        Cells above it count as formed; it must separate pristine (~0.1 uS) from formed
        (tens of uS) cells. The fit neglects formed mass below it.
    cap_s:
        The compliance cap in siemens, ``None`` for none, or ``"auto"``: the largest value if at
        least 0.5 % of the formed cells lie within ``cap_rtol`` of it, else none.
    cap_rtol:
        Relative window under the cap within which a value counts as capped (censored).
    grid_points:
        Resolution of the numerical convolution.

    Returns
    -------
    FitResult
        ``params``: ``rate`` (lambda), ``formed_fraction``, ``filament_median_s``,
        ``filament_sigma``, ``pristine_median_s``, ``pristine_sigma``, ``cap_s``;
        ``gof``: ``ks_statistic``, ``ks_pvalue`` of the formed cells; ``n_capped``.
    """
    g = np.asarray(conductance_s, dtype=float).reshape(-1)
    if g.size < 10 or not np.all(np.isfinite(g)) or np.any(g <= 0):
        raise ValueError("conductance_s needs at least 10 finite, positive values (siemens)")
    check_range("threshold_s", threshold_s, 0.0, 1.0, low_open=True, unit="S")
    check_range("cap_rtol", cap_rtol, 0.0, 0.5)
    formed = g > threshold_s
    gf, gp = g[formed], g[~formed]
    n_f, n_p = gf.size, gp.size
    if n_f < 5:
        raise ValueError(f"only {n_f} cells exceed threshold_s={threshold_s!r} S; cannot fit")

    cap = _resolve_cap(gf, cap_s, cap_rtol)
    censored = gf >= cap * (1 - cap_rtol) if math.isfinite(cap) else np.zeros(n_f, bool)
    observed = gf[~censored]
    n_c = int(censored.sum())

    # pristine component: closed-form lognormal MLE (needs >= 2 cells)
    if n_p >= 2:
        log_p = np.log(gp)
        p_med, p_sig = float(np.exp(log_p.mean())), float(log_p.std())
        p_se = {"pristine_median_s": p_med * p_sig / math.sqrt(n_p), "pristine_sigma": p_sig / math.sqrt(2 * n_p)}
        ll_p = float(stats.norm.logpdf(log_p, log_p.mean(), max(p_sig, 1e-12)).sum() - log_p.sum())
    else:
        p_med, p_sig, ll_p = math.nan, math.nan, 0.0
        p_se = {"pristine_median_s": math.nan, "pristine_sigma": math.nan}

    # starting values: lambda from the formed fraction, filament law from the one-filament bulk
    frac = n_f / g.size
    lam0 = -math.log1p(-min(frac, 1 - 0.5 / g.size))
    log_obs = np.log(observed if observed.size else gf)
    theta0 = np.array([math.log(lam0), float(np.median(log_obs)) - 0.3 * lam0, math.log(max(log_obs.std(), 0.05))])

    def dist(theta: np.ndarray) -> FormedConductance:
        lam, mu, sig = math.exp(theta[0]), theta[1], math.exp(theta[2])
        return FormedConductance(lam, math.exp(mu), sig, cap_s=cap, grid_points=grid_points)

    def nll(theta: np.ndarray) -> float:
        lam = math.exp(theta[0])
        if not (1e-4 < lam < 200 and 1e-3 < math.exp(theta[2]) < 5 and -30 < theta[1] < 0):
            return 1e30
        d = dist(theta)
        ll = n_p * (-lam) + n_f * math.log(-math.expm1(-lam))
        ll += float(d.logpdf(observed).sum())
        if n_c:
            ll += n_c * math.log(max(d.p_cap, 1e-300))
        return -ll

    res = optimize.minimize(nll, theta0, method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-6, "maxiter": 4000})
    theta = res.x
    cov = _covariance(nll, theta)
    se_t = np.sqrt(np.diag(cov))
    lam, med, sig = math.exp(theta[0]), math.exp(theta[1]), math.exp(theta[2])
    f_formed = -math.expm1(-lam)
    params = {
        "rate": lam,
        "formed_fraction": f_formed,
        "filament_median_s": med,
        "filament_sigma": sig,
        "pristine_median_s": p_med,
        "pristine_sigma": p_sig,
        "cap_s": cap,
    }
    stderr = {
        "rate": lam * se_t[0],
        "formed_fraction": math.exp(-lam) * lam * se_t[0],
        "filament_median_s": med * se_t[1],
        "filament_sigma": sig * se_t[2],
        **p_se,
        "cap_s": math.nan,
    }
    ci = {
        "rate": (math.exp(theta[0] - Z95 * se_t[0]), math.exp(theta[0] + Z95 * se_t[0])),
        "filament_median_s": (math.exp(theta[1] - Z95 * se_t[1]), math.exp(theta[1] + Z95 * se_t[1])),
        "filament_sigma": (math.exp(theta[2] - Z95 * se_t[2]), math.exp(theta[2] + Z95 * se_t[2])),
    }
    ci["formed_fraction"] = tuple(-math.expm1(-x) for x in ci["rate"])  # type: ignore[assignment]
    for k in ("pristine_median_s", "pristine_sigma"):
        ci[k] = (params[k] - Z95 * stderr[k], params[k] + Z95 * stderr[k])
    ci["cap_s"] = (math.nan, math.nan)
    d_hat = dist(theta)
    ks_d, ks_p = ks_test(np.where(censored, cap, gf), d_hat)
    return FitResult(
        params=params,
        stderr=stderr,
        ci95=ci,
        loglik=-float(res.fun) + ll_p,
        n=int(g.size),
        gof={"ks_statistic": ks_d, "ks_pvalue": ks_p, "n_capped": float(n_c)},
        converged=bool(res.success),
    )


def _resolve_cap(gf: np.ndarray, cap_s, cap_rtol: float) -> float:
    if cap_s is None:
        return math.inf
    if cap_s == "auto":
        top = float(gf.max())
        near = gf >= top * (1 - 2 * cap_rtol)
        # noisy means scatter around the cap: take the middle of the pile, not its maximum
        return float(np.median(gf[near])) if near.mean() >= 0.005 else math.inf
    if isinstance(cap_s, str):
        raise ValueError(f"cap_s={cap_s!r} must be a number (siemens), None or 'auto'")
    return check_range("cap_s", cap_s, 0.0, 1.0, low_open=True, unit="S")


def model_from_fit(
    fit: FitResult,
    base: FilamentModel | None = None,
    voltage_v: float | None = None,
    width_s: float | None = None,
) -> FilamentModel:
    """A :class:`FilamentModel` reproducing a :func:`fit_conductances` result.

    The filament conductance is converted to a radius with ``base``'s conductivity and oxide
    thickness; the cap to a compliance current at ``base``'s compliance voltage. One forming
    pulse cannot separate the Weibull scale from the slope, so ``base`` keeps its forming
    parameters except the scale, which is moved so that the pulse (``voltage_v``, ``width_s``;
    default: ``base``'s Weibull scale and reference width) gives the fitted lambda.
    """
    base = base or FilamentModel()
    v = base.weibull_scale_v if voltage_v is None else voltage_v
    t = base.reference_width_s if width_s is None else width_s
    # lambda = (A/A_ref) (t/t_ref)^(beta/n) (V/eta)^beta, solved for eta
    beta = base.weibull_shape_v
    pre = (base.area_nm2 / base.reference_area_nm2) * (t / base.reference_width_s) ** base.time_shape
    p = fit.params
    sigma_f = base.filament_conductivity_s_per_m
    thick = base.oxide_thickness_nm * 1e-9
    radius_nm = math.sqrt(p["filament_median_s"] * thick / (sigma_f * math.pi)) * 1e9
    changes = {
        "radius_median_nm": radius_nm,
        "radius_sigma": p["filament_sigma"] / 2.0,
        "weibull_scale_v": v * (pre / p["rate"]) ** (1.0 / beta),
    }
    if math.isfinite(p["pristine_median_s"]):
        changes["pristine_conductance_s"] = p["pristine_median_s"]
        changes["pristine_sigma"] = max(p["pristine_sigma"], 1e-6)
    if math.isfinite(p["cap_s"]):
        changes["compliance_current_a"] = p["cap_s"] * base.compliance_voltage_v
    else:
        changes["compliance_current_a"] = 1e-2
    return base.replace(**changes)


# ---------------------------------------------------------------------------------------
# forming statistics: formed counts versus pulse amplitude and width
# ---------------------------------------------------------------------------------------
def fit_forming(
    voltage_v,
    width_s,
    n_formed,
    n_cells,
    *,
    reference_width_s: float = 1e-6,
    area_ratio: float = 1.0,
) -> FitResult:
    """Binomial MLE of the Weibull forming law over several pulses.

    ``P(formed | V, t) = 1 - exp(-(A/A_ref) (t/t_ref)^(beta/n) (V/eta)^beta)``.

    Parameters
    ----------
    voltage_v, width_s, n_formed, n_cells:
        Equal-length arrays: pulse amplitude (V), width (s), formed cells and cells tried.
        At least two distinct widths are needed to identify ``voltage_exponent``.
    reference_width_s:
        Width (s) at which ``weibull_scale_v`` is quoted.
    area_ratio:
        A / A_ref of the cells.

    Returns
    -------
    FitResult
        ``params``: ``weibull_scale_v``, ``weibull_shape_v``, ``voltage_exponent``;
        ``gof``: Pearson ``chi2``, degrees of freedom ``dof``, ``chi2_pvalue``.
    """
    v = np.asarray(voltage_v, dtype=float).reshape(-1)
    t = np.broadcast_to(np.asarray(width_s, dtype=float), v.shape).astype(float)
    k = np.asarray(n_formed, dtype=float).reshape(-1)
    m = np.broadcast_to(np.asarray(n_cells, dtype=float), v.shape).astype(float)
    if not (v.size == k.size and v.size >= 3):
        raise ValueError("voltage_v and n_formed need the same length, at least 3 pulses")
    if np.any(v <= 0) or np.any(t <= 0) or np.any(k < 0) or np.any(k > m) or np.any(m <= 0):
        raise ValueError("need voltage_v > 0, width_s > 0 and 0 <= n_formed <= n_cells")
    check_range("reference_width_s", reference_width_s, 0.0, 10.0, low_open=True, unit="s")
    check_range("area_ratio", area_ratio, 0.0, 1e6, low_open=True)
    two_widths = np.unique(t).size >= 2

    def unpack(theta):
        eta, beta = math.exp(theta[0]), math.exp(theta[1])
        n = math.exp(theta[2]) if two_widths else math.inf
        return eta, beta, n

    def log_rate(theta):
        eta, beta, n = unpack(theta)
        time_term = (beta / n) * np.log(t / reference_width_s) if two_widths else 0.0
        return math.log(area_ratio) + time_term + beta * np.log(v / eta)

    def nll(theta):
        lr = np.clip(log_rate(theta), -700, 700)
        lam = np.exp(lr)
        log_f = np.log(-np.expm1(-lam) + 1e-300)
        return -float(np.sum(k * log_f - (m - k) * lam))

    frac = np.clip(k / m, 0.01, 0.99)
    w = np.log(-np.log1p(-frac))
    slope, intercept = np.polyfit(np.log(v), w, 1) if np.unique(v).size > 1 else (20.0, -20.0 * math.log(v[0]))
    slope = max(float(slope), 1.0)
    theta0 = [-intercept / slope, math.log(slope)] + ([math.log(40.0)] if two_widths else [])
    res = optimize.minimize(nll, np.array(theta0), method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-8, "maxiter": 8000})
    theta = res.x
    cov = _covariance(nll, theta)
    se = np.sqrt(np.diag(cov))
    names = ["weibull_scale_v", "weibull_shape_v"] + (["voltage_exponent"] if two_widths else [])
    values = [math.exp(x) for x in theta]
    params = dict(zip(names, values, strict=True))
    stderr = {n: val * s for n, val, s in zip(names, values, se, strict=True)}
    ci = {n: (math.exp(x - Z95 * s), math.exp(x + Z95 * s)) for n, x, s in zip(names, theta, se, strict=True)}
    lam = np.exp(np.clip(log_rate(theta), -700, 700))
    p = -np.expm1(-lam)
    expected = m * p
    chi2 = float(np.sum((k - expected) ** 2 / np.maximum(expected * (1 - p), 1e-12)))
    dof = max(int(v.size - len(names)), 1)
    const = float(np.sum(stats.binom.logpmf(k, m, 0.5) - (k * math.log(0.5) + (m - k) * math.log(0.5))))
    return FitResult(
        params=params,
        stderr=stderr,
        ci95=ci,
        loglik=-float(res.fun) + const,
        n=int(m.sum()),
        gof={"chi2": chi2, "dof": float(dof), "chi2_pvalue": float(stats.chi2.sf(chi2, dof))},
        converged=bool(res.success),
    )


# ---------------------------------------------------------------------------------------
# read noise
# ---------------------------------------------------------------------------------------
def fit_read_noise(mean_s, var_s2, bins: int = 40) -> FitResult:
    """Fit ``var = (r G)^2 + a^2`` to per-cell read statistics.

    Parameters
    ----------
    mean_s:
        Per-cell mean conductance over reads (siemens).
    var_s2:
        Per-cell variance over reads (siemens^2).
    bins:
        Cells are grouped in ``bins`` log-spaced conductance bins; the binned mean variances
        are fitted by non-negative least squares, weighted by bin count / variance^2.

    Returns
    -------
    FitResult
        ``params``: ``read_relative`` (r) and ``read_floor_s`` (a); standard errors by a
        bootstrap over cells would be costly, so ``stderr`` holds the binned-regression ones.
    """
    g = np.asarray(mean_s, dtype=float).reshape(-1)
    var = np.asarray(var_s2, dtype=float).reshape(-1)
    keep = (g > 0) & np.isfinite(var)
    g, var = g[keep], var[keep]
    if g.size < 10:
        raise ValueError("need at least 10 cells with positive mean conductance")
    edges = np.geomspace(g.min(), g.max() * (1 + 1e-12), bins + 1)
    which = np.clip(np.digitize(g, edges) - 1, 0, bins - 1)
    count = np.bincount(which, minlength=bins)
    ok = count > 0
    g2 = np.bincount(which, g**2, bins)[ok] / count[ok]
    v = np.bincount(which, var, bins)[ok] / count[ok]
    wts = count[ok] / np.maximum(v, 1e-300) ** 2
    a_mat = np.stack([g2, np.ones_like(g2)], axis=1) * np.sqrt(wts)[:, None]
    coef, _ = optimize.nnls(a_mat, v * np.sqrt(wts))
    resid = v - np.stack([g2, np.ones_like(g2)], axis=1) @ coef
    dof = max(int(ok.sum()) - 2, 1)
    s2 = float(np.sum(wts * resid**2) / dof)
    try:
        cov = np.linalg.inv(a_mat.T @ a_mat) * s2
    except np.linalg.LinAlgError:
        cov = np.full((2, 2), np.nan)
    r, a = math.sqrt(coef[0]), math.sqrt(coef[1])
    se_r = math.sqrt(max(cov[0, 0], 0.0)) / (2 * r) if r > 0 else math.nan
    se_a = math.sqrt(max(cov[1, 1], 0.0)) / (2 * a) if a > 0 else math.nan
    return FitResult(
        params={"read_relative": r, "read_floor_s": a},
        stderr={"read_relative": se_r, "read_floor_s": se_a},
        ci95={"read_relative": (r - Z95 * se_r, r + Z95 * se_r), "read_floor_s": (a - Z95 * se_a, a + Z95 * se_a)},
        loglik=math.nan,
        n=int(g.size),
        gof={"weighted_rss": float(np.sum(wts * resid**2))},
    )
