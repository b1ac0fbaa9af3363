r"""The conductance law of a formed cell, computed by numerical convolution.

A formed cell carries :math:`N \ge 1` filaments (zero-truncated Poisson with rate
:math:`\lambda`), each of lognormal conductance. Their sum is the *raw* conductance

.. math:: G_\mathrm{raw} = G_\mathrm{offset} + \sum_{k=1}^{N} G_k ,

and the word-line transistor's compliance limits the cell to

.. math:: G = \min(G_\mathrm{raw},\, G_\mathrm{cc}), \qquad
          G_\mathrm{cc} = G_\mathrm{cap}\, e^{s_\mathrm{cc} Z},\; Z \sim \mathcal N(0, 1),

with :math:`G_\mathrm{cc}` independent of :math:`G_\mathrm{raw}`: each cell ends up at a
compliance-limited conductance of its own (lognormal with median :math:`G_\mathrm{cap} =
I_{cc}/V_c` and shape :math:`s_\mathrm{cc}`). For a minimum of independent variables

.. math:: P(G \le g) = 1 - \big(1 - F_\mathrm{raw}(g)\big)\big(1 - F_\mathrm{cc}(g)\big),
          \qquad
          f(g) = f_\mathrm{raw}(g)\big(1 - F_\mathrm{cc}(g)\big)
               + f_\mathrm{cc}(g)\big(1 - F_\mathrm{raw}(g)\big),

a continuous law without any point mass. With :math:`s_\mathrm{cc} = 0` (``cap_sigma=0``, the
default of this class so that :mod:`rrampaper.devices.fit` keeps its censored hard-cap
likelihood) the cap is one number and the mass :math:`P(G_\mathrm{raw} \ge G_\mathrm{cap})`
becomes a point mass there (:attr:`FormedConductance.p_cap`).

A sum of lognormals has no closed form, so :math:`F_\mathrm{raw}` is tabulated on a grid of
``grid_points`` conductances: the single-filament mass is binned exactly (lognormal CDF
differences), the k-fold sums are FFT convolutions and the zero-truncated Poisson weights mix
them. :func:`scipy.stats.kstest` accepts :meth:`FormedConductance.cdf`; :func:`ks_test` also
handles the point mass of the hard cap.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from rrampaper._checks import check_positive_int, check_range

#: The compliance-limited law is tabulated up to ``cap_s * exp(_CAP_TAIL_Z * cap_sigma)``:
#: P(Z > 8.5) < 1e-16, so the raw mass beyond it is limited with certainty in double precision.
_CAP_TAIL_Z = 8.5


class FormedConductance:
    """Tabulated law of a formed cell's conductance (siemens).

    Parameters
    ----------
    rate:
        Poisson rate lambda of filaments (before conditioning on N >= 1), > 0.
    median_s:
        Median single-filament conductance in siemens.
    sigma:
        Lognormal shape of the single-filament conductance (dimensionless).
    cap_s:
        Median compliance-limited conductance I_cc / V_c in siemens; ``math.inf`` for no
        compliance.
    offset_s:
        Constant added to the filaments (the pristine conductance they short), siemens.
    grid_points:
        Grid resolution.
    cap_sigma:
        Lognormal shape (dimensionless) of the per-cell compliance-limited conductance. 0 (the
        default here) is a hard cap with a point mass :attr:`p_cap`; > 0 spreads the
        compliance-limited cells continuously (no point mass, ``p_cap == 0``).

    Attributes
    ----------
    p_cap:
        Point mass at ``cap_s`` (hard cap only; 0 when ``cap_sigma > 0`` or without a cap).
    p_limited:
        Probability that the compliance bounds the cell, P(G_raw > G_cc); equals ``p_cap`` for
        the hard cap.
    """

    def __init__(
        self,
        rate: float,
        median_s: float,
        sigma: float,
        cap_s: float = math.inf,
        offset_s: float = 0.0,
        grid_points: int = 4096,
        cap_sigma: float = 0.0,
    ) -> None:
        self.rate = check_range("rate", rate, 0.0, 1e4, low_open=True)
        self.median_s = check_range("median_s", median_s, 0.0, 1.0, low_open=True, unit="S")
        self.sigma = check_range("sigma", sigma, 0.0, 5.0, low_open=True)
        self.cap_s = check_range("cap_s", cap_s, 0.0, math.inf, low_open=True, unit="S")
        self.offset_s = check_range("offset_s", offset_s, 0.0, 1.0, unit="S")
        self.cap_sigma = check_range("cap_sigma", cap_sigma, 0.0, 2.0)
        m = check_positive_int("grid_points", grid_points, minimum=64)
        if self.cap_s <= self.offset_s:
            raise ValueError(f"cap_s={cap_s!r} S must exceed offset_s={offset_s!r} S")
        finite_cap = math.isfinite(self.cap_s)
        #: whether the compliance-limited conductance is spread (no point mass)
        self.soft = finite_cap and self.cap_sigma > 0.0

        # number of filament terms needed: Poisson tail below 1e-12
        k_max = int(stats.poisson.isf(1e-12, self.rate)) + 2
        weights = stats.poisson.pmf(np.arange(1, k_max + 1), self.rate)
        weights /= -math.expm1(-self.rate)

        raw_span = k_max * self.median_s * math.exp(8.0 * self.sigma)
        if not finite_cap:
            span = raw_span
        elif self.soft:
            # beyond either end the law is certain: G_cc has passed its tail or G_raw its own
            span = min(self.cap_s * math.exp(_CAP_TAIL_Z * self.cap_sigma), self.offset_s + raw_span)
            span -= self.offset_s
        else:
            span = self.cap_s - self.offset_s
        step = span / m
        # point j carries the mass of [(j - 1/2) step, (j + 1/2) step): sums land on the grid
        edges = (np.arange(m + 1) - 0.5) * step
        edges[0] = 0.0
        cdf1 = stats.lognorm.cdf(edges, s=self.sigma, scale=self.median_s)
        single = np.diff(cdf1)
        n_fft = 2 * m
        spectrum = np.fft.rfft(single, n_fft)
        term = single.copy()
        mix = weights[0] * term
        for w in weights[1:]:
            term = np.fft.irfft(np.fft.rfft(term, n_fft) * spectrum, n_fft)[:m]
            np.clip(term, 0.0, None, out=term)
            mix += w * term
        self._step = step
        self._points = self.offset_s + np.arange(m) * step
        self._mass = mix
        self._cum = np.cumsum(mix)
        self.k_max = k_max
        if self.soft:
            self.p_cap = 0.0
            # P(G_raw > G_cc) = E_Z[1 - F_raw(cap e^{s Z})], Z standard normal
            z = np.linspace(-_CAP_TAIL_Z, _CAP_TAIL_Z, 8001)
            surv = 1.0 - self.raw_cdf(self.cap_s * np.exp(self.cap_sigma * z))
            self.p_limited = float(np.trapezoid(stats.norm.pdf(z) * surv, z))
            # table of the full CDF for ppf and mean
            g_tab = np.r_[0.0, self._points + 0.5 * self._step]
            self._g_tab = g_tab
            self._cdf_tab = np.maximum.accumulate(self.cdf(g_tab))
        else:
            self.p_cap = float(max(0.0, 1.0 - self._cum[-1])) if finite_cap else 0.0
            self.p_limited = self.p_cap

    # -- the raw (uncapped) sum of filaments ----------------------------------------------
    def raw_cdf(self, g_s) -> np.ndarray:
        """P(G_raw <= g) of the uncapped sum (tabulated range only; 1 beyond it), g in S."""
        g = np.asarray(g_s, dtype=float)
        upper = self._points + 0.5 * self._step
        c = np.interp(g, upper, self._cum, left=0.0, right=1.0 if self.soft else self._cum[-1])
        # below the first upper edge interpolate linearly from 0 at the offset
        first = (g - self.offset_s) / (0.5 * self._step) * self._cum[0]
        return np.where(g < upper[0], np.clip(first, 0.0, self._cum[0]), c)

    def raw_pdf(self, g_s) -> np.ndarray:
        """Density (1/S) of the uncapped sum on the tabulated range, g in S."""
        g = np.asarray(g_s, dtype=float)
        return np.interp(g, self._points, self._mass / self._step, left=0.0, right=0.0)

    # -- the compliance-limited conductance -----------------------------------------------
    def cap_cdf(self, g_s) -> np.ndarray:
        """P(G_cc <= g) of the per-cell compliance-limited conductance, g in S."""
        g = np.asarray(g_s, dtype=float)
        if not math.isfinite(self.cap_s):
            return np.zeros_like(g)
        if not self.soft:
            return np.where(g >= self.cap_s, 1.0, 0.0)
        with np.errstate(divide="ignore"):
            return stats.norm.cdf(np.log(np.maximum(g, 0.0) / self.cap_s) / self.cap_sigma)

    def cap_pdf(self, g_s) -> np.ndarray:
        """Density (1/S) of the compliance-limited conductance (0 for a hard cap), g in S."""
        g = np.asarray(g_s, dtype=float)
        if not self.soft:
            return np.zeros_like(g)
        return stats.lognorm.pdf(g, s=self.cap_sigma, scale=self.cap_s)

    # -- the law of G = min(G_raw, G_cc) ---------------------------------------------------
    def pdf(self, g_s) -> np.ndarray:
        """Density (1/S) at conductances ``g_s`` (siemens); the hard cap's atom is excluded."""
        g = np.asarray(g_s, dtype=float)
        if self.soft:
            return self.raw_pdf(g) * (1.0 - self.cap_cdf(g)) + self.cap_pdf(g) * (
                1.0 - self.raw_cdf(g)
            )
        dens = self.raw_pdf(g)
        return np.where(g < self.cap_s, dens, 0.0)

    def logpdf(self, g_s) -> np.ndarray:
        """Log density (floored at 1e-300 to stay finite)."""
        return np.log(np.maximum(self.pdf(g_s), 1e-300))

    def cdf(self, g_s) -> np.ndarray:
        """P(G <= g), including the hard cap's point mass where there is one."""
        g = np.asarray(g_s, dtype=float)
        if self.soft:
            return 1.0 - (1.0 - self.raw_cdf(g)) * (1.0 - self.cap_cdf(g))
        return np.where(g >= self.cap_s, 1.0, self.raw_cdf(g))

    def mean(self) -> float:
        """Mean conductance in siemens (hard cap: point mass included)."""
        if self.soft:
            # E[G] = integral of P(G > g) dg over [0, inf); the table ends where F = 1
            return float(np.trapezoid(1.0 - self._cdf_tab, self._g_tab))
        m = float(np.sum(self._mass * self._points))
        return m + self.p_cap * (self.cap_s if math.isfinite(self.cap_s) else 0.0)

    def ppf(self, q) -> np.ndarray:
        """Quantiles (siemens) by inverting the tabulated CDF."""
        q = np.asarray(q, dtype=float)
        if self.soft:
            return np.interp(q, self._cdf_tab, self._g_tab)
        upper = self._points + 0.5 * self._step
        out = np.interp(q, self._cum, upper)
        return np.where(q > self._cum[-1], self.cap_s, out)

    def cdf_left(self, g_s) -> np.ndarray:
        """P(G < g): equals :meth:`cdf` except at a hard cap, where the point mass is excluded."""
        g = np.asarray(g_s, dtype=float)
        if self.soft:
            return self.cdf(g)
        return np.where(g == self.cap_s, 1.0 - self.p_cap, self.cdf(g))

    def bin_masses(self, edges_s) -> np.ndarray:
        """Probability of each histogram bin ``[edges[i], edges[i+1])`` (edges in siemens).

        With a hard cap the point mass falls into the bin that contains ``cap_s``; this is the
        quantity the "no bin at the cap holds more than 1 % of the cells" check is about.
        """
        e = np.asarray(edges_s, dtype=float)
        if e.ndim != 1 or e.size < 2 or np.any(np.diff(e) <= 0):
            raise ValueError("edges_s must be a 1-D increasing array of at least two edges (S)")
        return self.cdf_left(e[1:]) - self.cdf_left(e[:-1])


def ks_test(data, dist: FormedConductance) -> tuple[float, float]:
    """Kolmogorov-Smirnov distance and p-value of ``data`` against ``dist``, atom-aware.

    :func:`scipy.stats.kstest` assumes a continuous law and counts a hard cap's point mass as a
    jump of size ``p_cap``; here both one-sided limits of the model CDF are compared with the
    empirical CDF, so capped samples are judged fairly. With a spread compliance
    (``cap_sigma > 0``) the law is continuous and this is the ordinary KS test. The p-value uses
    the continuous-law distribution :data:`scipy.stats.kstwo` (conservative with an atom).
    """
    x = np.sort(np.asarray(data, dtype=float))
    n = x.size
    if n == 0:
        raise ValueError("data is empty")
    i = np.arange(1, n + 1)
    upper = np.abs(dist.cdf(x) - i / n)
    lower = np.abs(dist.cdf_left(x) - (i - 1) / n)
    # ties: the empirical CDF jumps once per distinct value
    last = np.r_[x[1:] != x[:-1], True]
    first = np.r_[True, x[1:] != x[:-1]]
    d = float(max(upper[last].max(), lower[first].max()))
    return d, float(stats.kstwo.sf(d, n))
