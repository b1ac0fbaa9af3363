"""Maximum-likelihood fits of the filament model, with standard errors and goodness of fit.

Three fits, each returning a :class:`FitResult` (estimates, standard errors, 95 % confidence
intervals, log-likelihood, and a goodness-of-fit statistic):

- :func:`fit_conductances`: cell conductances after one forming pulse (e.g. the per-cell mean of
  the ``set[:, :n]`` reads of a measured chip) -> filament rate lambda (hence formed
  fraction), single-filament conductance median and shape, pristine median and shape, the
  compliance cap: a hard cap (a pile of cells at one value, censored) or a soft cap (each
  cell's compliance-limited conductance lognormal: median ``cap_s`` and shape ``cap_sigma``
  fitted). Goodness of fit: Kolmogorov-Smirnov distance of the formed cells against the
  fitted law (atom at a hard cap handled), and its p-value.
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


def _scaled_covariance(nll: Callable[[np.ndarray], float], theta: np.ndarray) -> np.ndarray:
    """Inverse Hessian with steps of about one standard error in each coordinate.

    The soft-cap likelihood is tabulated on a grid whose span follows ``cap_s`` and
    ``cap_sigma``, so it carries ~1e-3 of interpolation noise; steps of 1e-3 in the logs (as in
    :func:`_covariance`) would difference that noise. A first pass with steps of 0.02 gives the
    standard errors, a second pass uses them (clipped to [2e-3, 0.2]) as the steps, where the
    likelihood changes by ~0.5 per step.
    """
    steps = np.full(theta.size, 0.02)
    cov = np.full((theta.size, theta.size), np.nan)
    for _ in range(2):
        def scaled(w: np.ndarray, h: np.ndarray = steps) -> float:
            return nll(theta + h * w)

        h_w = hessian(scaled, np.zeros(theta.size), step=1.0)
        try:
            cov = np.linalg.inv(h_w) * np.outer(steps, steps)
        except np.linalg.LinAlgError:
            return np.full_like(h_w, np.nan)
        if np.any(np.diag(cov) < 0):
            return np.full_like(h_w, np.nan)
        steps = np.clip(np.sqrt(np.diag(cov)), 2e-3, 0.2)
    return cov


# ---------------------------------------------------------------------------------------
# conductance distribution after one forming pulse
# ---------------------------------------------------------------------------------------
#: Names of the formed-cell parameters, in the order of the (log) parameter vector.
_FORMED_NAMES = ("rate", "filament_median_s", "filament_sigma", "cap_s", "cap_sigma")

#: In ``cap_s="auto"``/``cap_sigma="auto"`` mode without a pile at the cap, the soft-cap model
#: (two more parameters) replaces the uncapped one only if twice its log-likelihood gain exceeds
#: this value, the 0.1 % point of chi^2 with 2 degrees of freedom.
SOFT_CAP_LR_THRESHOLD = float(stats.chi2.isf(1e-3, 2))


def fit_conductances(
    conductance_s,
    *,
    threshold_s: float = 1e-6,
    cap_s: float | str | None = "auto",
    cap_rtol: float = 1e-3,
    grid_points: int = 2048,
    cap_sigma: float | str = "auto",
) -> FitResult:
    """Fit the filament model's conductance law to cells after one forming pulse.

    Model (see :mod:`rrampaper.devices.filament`): a cell forms with probability
    ``1 - exp(-lambda)``; a formed cell conducts ``min(G_raw, G_cc)`` with ``G_raw`` the sum of
    ``N`` lognormal filaments, ``N`` zero-truncated Poisson(lambda), and ``G_cc`` the cell's
    compliance-limited conductance; an unformed cell is lognormally pristine. Two compliance
    laws are fitted:

    - **hard cap** (``cap_sigma = 0``): ``G_cc`` is one number and a pile of identical values
      sits at it; the cells within ``cap_rtol`` of the cap are censored (they contribute
      ``log P(G_raw >= cap)``) and the cap itself is taken from the data, not fitted.
    - **soft cap** (``cap_sigma > 0``): ``G_cc`` is lognormal with median ``cap_s`` and shape
      ``cap_sigma`` (``FilamentModel.compliance_sigma``); the law has no point mass and the
      log density is summed over all formed cells (no censoring); ``cap_s`` and ``cap_sigma``
      are free parameters with standard errors like the others.

    Parameters
    ----------
    conductance_s:
        Cell conductances in siemens (1-D). For noisy measurements use the per-cell mean over
        reads: a hard cap is a point mass only when read noise is averaged out.
    threshold_s:
        Cells above it count as formed; it must separate pristine (~0.1 uS) from formed
        (tens of uS) cells. The fit neglects formed mass below it.
    cap_s:
        ``"auto"`` (default): for a hard cap, the largest value if at least 0.5 % of the formed
        cells lie within ``cap_rtol`` of it (else none); for a soft cap, a free parameter.
        A number (siemens): the hard cap, or the soft cap's median held fixed. ``None``: no
        compliance at all (``cap_sigma`` is then ignored).
    cap_rtol:
        Relative window under the cap within which a value counts as capped (censored), also
        the window in which a pile at the cap is looked for.
    grid_points:
        Resolution of the numerical convolution.
    cap_sigma:
        ``"auto"`` (default): the hard-cap, censored fit when the data show a pile at the cap
        (at least 0.5 % of the formed cells within ``cap_rtol`` of the largest value, or of a
        given ``cap_s``); otherwise the soft-cap fit with ``cap_sigma`` free. With ``cap_s =
        "auto"`` and no pile, the soft cap is kept only if it beats the uncapped law by a
        likelihood-ratio statistic above :data:`SOFT_CAP_LR_THRESHOLD` (else ``cap_s = inf``,
        as before: data the compliance never bound). ``"free"``: always the soft fit with
        ``cap_sigma`` free. ``0``: always the hard-cap fit (the behaviour of earlier versions).
        A positive number: the soft fit with ``cap_sigma`` held at that value.

    Returns
    -------
    FitResult
        ``params``: ``rate`` (lambda), ``formed_fraction``, ``filament_median_s``,
        ``filament_sigma``, ``pristine_median_s``, ``pristine_sigma``, ``cap_s`` (the hard cap
        or the soft cap's median; ``inf`` for none), ``cap_sigma`` (0 for a hard cap or none);
        ``stderr``/``ci95`` are ``nan`` for ``cap_s``/``cap_sigma`` when they were not fitted;
        ``gof``: ``ks_statistic``, ``ks_pvalue`` of the formed cells, ``n_capped`` (censored
        cells, 0 for a soft cap) and, when the uncapped law was compared, ``lr_soft_cap``
        (twice the log-likelihood gain of the soft cap over no cap).
    """
    g = np.asarray(conductance_s, dtype=float).reshape(-1)
    if g.size < 10 or not np.all(np.isfinite(g)) or np.any(g <= 0):
        raise ValueError("conductance_s needs at least 10 finite, positive values (siemens)")
    check_range("threshold_s", threshold_s, 0.0, 1.0, low_open=True, unit="S")
    check_range("cap_rtol", cap_rtol, 0.0, 0.5)
    sigma_mode = _check_cap_sigma(cap_sigma)
    if isinstance(cap_s, str) and cap_s != "auto":
        raise ValueError(f"cap_s={cap_s!r} must be a number (siemens), None or 'auto'")
    if cap_s is not None and not isinstance(cap_s, str):
        check_range("cap_s", cap_s, 0.0, 1.0, low_open=True, unit="S")
    formed = g > threshold_s
    gf, gp = g[formed], g[~formed]
    n_f, n_p = gf.size, gp.size
    if n_f < 5:
        raise ValueError(f"only {n_f} cells exceed threshold_s={threshold_s!r} S; cannot fit")

    # which compliance law: "none", "hard" (censored at a pile) or "soft" (free spread)
    if cap_s is None:
        mode = "none"
    elif sigma_mode == "hard":
        mode = "hard"
    elif sigma_mode == "auto":
        mode = "hard" if _has_pile(gf, cap_s, cap_rtol) else "soft"
    else:
        mode = "soft"
    compare_none = mode == "soft" and cap_s == "auto" and sigma_mode == "auto"

    # pristine component: closed-form lognormal MLE (needs >= 2 cells)
    if n_p >= 2:
        log_p = np.log(gp)
        p_med, p_sig = float(np.exp(log_p.mean())), float(log_p.std())
        p_se = {"pristine_median_s": p_med * p_sig / math.sqrt(n_p), "pristine_sigma": p_sig / math.sqrt(2 * n_p)}
        ll_p = float(stats.norm.logpdf(log_p, log_p.mean(), max(p_sig, 1e-12)).sum() - log_p.sum())
    else:
        p_med, p_sig, ll_p = math.nan, math.nan, 0.0
        p_se = {"pristine_median_s": math.nan, "pristine_sigma": math.nan}

    cap = _resolve_cap(gf, cap_s, cap_rtol) if mode == "hard" else math.inf
    if mode == "hard" and math.isinf(cap):
        mode = "none"  # cap_s="auto" found no pile: an uncapped law (as in earlier versions)
    censored = gf >= cap * (1 - cap_rtol) if mode == "hard" else np.zeros(n_f, bool)
    n_c = int(censored.sum())

    # the uncapped or hard-capped fit (also the start and the reference of the soft fit)
    base = _FormedMLE(gf, n_p, censored, cap, 0.0, (True, True, True, False, False), grid_points)
    frac = n_f / g.size
    lam0 = -math.log1p(-min(frac, 1 - 0.5 / g.size))
    log_obs = np.log(gf[~censored] if n_c < n_f else gf)
    start = np.array([lam0, math.exp(float(np.median(log_obs)) - 0.3 * lam0), max(log_obs.std(), 0.05)])
    fit = base.fit(np.log(start))
    lr = math.nan
    if mode == "soft":
        free_cap = cap_s == "auto"
        free_sig = sigma_mode in ("auto", "free")
        s_fixed = 0.0 if free_sig else float(cap_sigma)
        soft = _FormedMLE(
            gf, n_p, np.zeros(n_f, bool), math.inf if free_cap else float(cap_s), s_fixed,
            (True, True, True, free_cap, free_sig), grid_points,
        )
        soft_fit = soft.fit(soft.start(fit.values))
        lr = 2.0 * (fit.nll - soft_fit.nll)
        if compare_none and not lr > SOFT_CAP_LR_THRESHOLD:
            mode = "none"
        else:
            base, fit = soft, soft_fit

    values, se_t = fit.values, fit.se_log
    lam, med, sig, cap_hat, s_hat = values
    f_formed = -math.expm1(-lam)
    params = {
        "rate": lam,
        "formed_fraction": f_formed,
        "filament_median_s": med,
        "filament_sigma": sig,
        "pristine_median_s": p_med,
        "pristine_sigma": p_sig,
        "cap_s": cap_hat if mode != "none" else math.inf,
        "cap_sigma": s_hat if mode == "soft" else 0.0,
    }
    stderr: dict[str, float] = {}
    ci: dict[str, tuple[float, float]] = {}
    for i, name in enumerate(_FORMED_NAMES):
        free = base.free[i]
        s = se_t[i] if free else math.nan
        stderr[name] = values[i] * s
        ci[name] = (values[i] * math.exp(-Z95 * s), values[i] * math.exp(Z95 * s))
    stderr["formed_fraction"] = math.exp(-lam) * lam * se_t[0]
    ci["formed_fraction"] = tuple(-math.expm1(-x) for x in ci["rate"])  # type: ignore[assignment]
    stderr.update(p_se)
    for k in ("pristine_median_s", "pristine_sigma"):
        ci[k] = (params[k] - Z95 * stderr[k], params[k] + Z95 * stderr[k])
    params_order = list(params)
    stderr = {k: stderr[k] for k in params_order}
    ci = {k: ci[k] for k in params_order}
    d_hat = base.dist(fit.theta)
    ks_d, ks_p = ks_test(np.where(censored, cap, gf), d_hat)
    gof = {"ks_statistic": ks_d, "ks_pvalue": ks_p, "n_capped": float(n_c)}
    if math.isfinite(lr):
        gof["lr_soft_cap"] = float(lr)
    return FitResult(
        params=params,
        stderr=stderr,
        ci95=ci,
        loglik=-fit.nll + ll_p,
        n=int(g.size),
        gof=gof,
        converged=fit.converged,
    )


def formed_conductance_from_fit(fit: FitResult, grid_points: int = 4096) -> FormedConductance:
    """The fitted law of a formed cell's conductance (hard or soft cap, as fitted)."""
    p = fit.params
    return FormedConductance(
        p["rate"], p["filament_median_s"], p["filament_sigma"], cap_s=p["cap_s"],
        grid_points=grid_points, cap_sigma=p.get("cap_sigma", 0.0),
    )


@dataclass
class _MLEResult:
    theta: np.ndarray  # log of the free parameters
    values: list[float]  # all five formed-cell parameters (fixed ones included)
    se_log: np.ndarray  # standard errors of the logs, nan where fixed
    nll: float
    converged: bool


class _FormedMLE:
    """Negative log-likelihood of the formed cells (and the formed/unformed split).

    The free parameters are the logs of those in :data:`_FORMED_NAMES` flagged in ``free``;
    the others keep the given ``cap``/``cap_sigma`` (``cap_sigma = 0``: hard cap, with the
    ``censored`` cells contributing ``log P(G_raw >= cap)``).
    """

    def __init__(self, gf, n_p, censored, cap, cap_sigma, free, grid_points):
        self.observed = gf[~censored]
        self.gf = gf
        self.n_f, self.n_p, self.n_c = gf.size, n_p, int(censored.sum())
        self.fixed = [math.nan, math.nan, math.nan, cap, cap_sigma]
        self.free = tuple(free)
        self.grid_points = grid_points
        self.g_min, self.g_max = float(gf.min()), float(gf.max())

    def unpack(self, theta: np.ndarray) -> list[float]:
        it = iter(np.exp(theta))
        return [float(next(it)) if f else v for f, v in zip(self.free, self.fixed, strict=True)]

    def dist(self, theta: np.ndarray) -> FormedConductance:
        lam, med, sig, cap, s_cc = self.unpack(theta)
        return FormedConductance(lam, med, sig, cap_s=cap, grid_points=self.grid_points, cap_sigma=s_cc)

    def nll(self, theta: np.ndarray) -> float:
        lam, med, sig, cap, s_cc = self.unpack(theta)
        if not (1e-4 < lam < 200 and 1e-3 < sig < 5 and math.exp(-30) < med < 1):
            return 1e30
        if self.free[3] and not (1e-3 * self.g_min < cap < min(1e3 * self.g_max, 1.0)):
            return 1e30
        if self.free[4] and not 1e-3 < s_cc < 2.0:
            return 1e30
        d = self.dist(theta)
        ll = self.n_p * (-lam) + self.n_f * math.log(-math.expm1(-lam))
        ll += float(d.logpdf(self.observed).sum())
        if self.n_c:
            ll += self.n_c * math.log(max(d.p_cap, 1e-300))
        return -ll

    def start(self, values: list[float]) -> np.ndarray:
        """Start of a soft fit from an uncapped one: the best cap on a coarse grid."""
        v = list(values)
        caps = np.quantile(self.gf, [0.5, 0.75, 0.9, 0.97, 0.995]) if self.free[3] else [self.fixed[3]]
        sigmas = (0.05, 0.15, 0.3, 0.6) if self.free[4] else (self.fixed[4],)
        best, best_theta = math.inf, None
        for c in caps:
            for s in sigmas:
                v[3], v[4] = float(c), float(s)
                theta = np.log([x for x, f in zip(v, self.free, strict=True) if f])
                val = self.nll(theta)
                if val < best:
                    best, best_theta = val, theta
        return best_theta

    def fit(self, theta0: np.ndarray) -> _MLEResult:
        """Nelder-Mead from ``theta0`` (logs of the free parameters), Hessian standard errors."""
        theta0 = np.asarray(theta0, dtype=float)
        k = theta0.size
        simplex = np.vstack([theta0, theta0 + 0.1 * np.eye(k)])
        res = optimize.minimize(
            self.nll, theta0, method="Nelder-Mead",
            options={"xatol": 1e-6, "fatol": 1e-6, "maxiter": 4000 * k // 3, "initial_simplex": simplex},
        )
        theta = res.x
        if any(self.free[3:]):
            cov = _scaled_covariance(self.nll, theta)
        else:
            cov = _covariance(self.nll, theta)
        se = np.full(len(self.free), math.nan)
        se[list(np.flatnonzero(self.free))] = np.sqrt(np.diag(cov))
        return _MLEResult(theta, self.unpack(theta), se, float(res.fun), bool(res.success))


def _check_cap_sigma(cap_sigma) -> str:
    if isinstance(cap_sigma, str):
        if cap_sigma not in ("auto", "free"):
            raise ValueError(f"cap_sigma={cap_sigma!r} must be 'auto', 'free' or a number in [0, 2]")
        return cap_sigma
    check_range("cap_sigma", cap_sigma, 0.0, 2.0)
    return "hard" if cap_sigma == 0 else "fixed"


def _has_pile(gf: np.ndarray, cap_s, cap_rtol: float) -> bool:
    """Whether at least 0.5 % of the formed cells pile up at the cap (a hard cap's atom)."""
    if cap_s == "auto":
        return math.isfinite(_resolve_cap(gf, "auto", cap_rtol))
    near = (gf >= cap_s * (1 - cap_rtol)) & (gf <= cap_s * (1 + cap_rtol))
    return bool(near.mean() >= 0.005)


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
    thickness; the cap (the soft cap's median) to a compliance current at ``base``'s compliance
    voltage, and the fitted ``cap_sigma`` becomes ``compliance_sigma`` (0 for a hard cap or no
    cap; no compliance at all becomes a 10 mA compliance current). One forming
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
        # a fit without the key (older results) is a hard-cap fit
        changes["compliance_sigma"] = p.get("cap_sigma", 0.0)
    else:
        changes["compliance_current_a"] = 1e-2
        changes["compliance_sigma"] = 0.0
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
