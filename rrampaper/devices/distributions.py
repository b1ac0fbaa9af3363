r"""The conductance law of a formed cell, computed by numerical convolution.

A formed cell carries :math:`N \ge 1` filaments (zero-truncated Poisson with rate
:math:`\lambda`), each of lognormal conductance, and the compliance current caps the sum:

.. math:: G = \min\Big(G_\mathrm{offset} + \sum_{k=1}^{N} G_k,\; G_\mathrm{cap}\Big).

A sum of lognormals has no closed form, so the law is tabulated on a grid of ``grid_points``
conductances: the single-filament mass is binned exactly (lognormal CDF differences), the
k-fold sums are FFT convolutions, the zero-truncated Poisson weights mix them, and the mass
that reaches the cap becomes a point mass there. :func:`scipy.stats.kstest` accepts
:meth:`FormedConductance.cdf`, and the maximum-likelihood fit of :mod:`rrampaper.devices.fit`
uses :meth:`FormedConductance.logpdf` and :attr:`FormedConductance.p_cap`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from rrampaper._checks import check_positive_int, check_range


class FormedConductance:
    """Tabulated law of a formed cell's conductance (siemens).

    Parameters
    ----------
    rate:
        Poisson rate lambda of filaments (before conditioning on N >= 1), > 0.
    median_s:
        Median single-filament conductance in siemens.
    sigma:
        Lognormal shape of the single-filament conductance.
    cap_s:
        Compliance cap in siemens; ``math.inf`` for no cap.
    offset_s:
        Constant added before capping (the pristine conductance the filaments short), siemens.
    grid_points:
        Grid resolution.
    """

    def __init__(
        self,
        rate: float,
        median_s: float,
        sigma: float,
        cap_s: float = math.inf,
        offset_s: float = 0.0,
        grid_points: int = 4096,
    ) -> None:
        self.rate = check_range("rate", rate, 0.0, 1e4, low_open=True)
        self.median_s = check_range("median_s", median_s, 0.0, 1.0, low_open=True, unit="S")
        self.sigma = check_range("sigma", sigma, 0.0, 5.0, low_open=True)
        self.cap_s = check_range("cap_s", cap_s, 0.0, math.inf, low_open=True, unit="S")
        self.offset_s = check_range("offset_s", offset_s, 0.0, 1.0, unit="S")
        m = check_positive_int("grid_points", grid_points, minimum=64)
        if self.cap_s <= self.offset_s:
            raise ValueError(f"cap_s={cap_s!r} S must exceed offset_s={offset_s!r} S")

        # number of filament terms needed: Poisson tail below 1e-12
        k_max = int(stats.poisson.isf(1e-12, self.rate)) + 2
        weights = stats.poisson.pmf(np.arange(1, k_max + 1), self.rate)
        weights /= -math.expm1(-self.rate)

        span = self.cap_s - self.offset_s
        if math.isinf(span):
            span = k_max * self.median_s * math.exp(8.0 * self.sigma)
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
        self.p_cap = float(max(0.0, 1.0 - self._cum[-1])) if math.isfinite(self.cap_s) else 0.0
        self.k_max = k_max

    def pdf(self, g_s) -> np.ndarray:
        """Density (1/S) of the continuous part at conductances ``g_s`` (siemens)."""
        g = np.asarray(g_s, dtype=float)
        dens = np.interp(g, self._points, self._mass / self._step, left=0.0, right=0.0)
        return np.where(g < self.cap_s, dens, 0.0)

    def logpdf(self, g_s) -> np.ndarray:
        """Log density of the continuous part (floored at 1e-300 to stay finite)."""
        return np.log(np.maximum(self.pdf(g_s), 1e-300))

    def cdf(self, g_s) -> np.ndarray:
        """P(G <= g) including the point mass at the cap."""
        g = np.asarray(g_s, dtype=float)
        upper = self._points + 0.5 * self._step
        c = np.interp(g, upper, self._cum, left=0.0)
        # below the first upper edge interpolate linearly from 0 at the offset
        first = (g - self.offset_s) / (0.5 * self._step) * self._cum[0]
        c = np.where(g < upper[0], np.clip(first, 0.0, self._cum[0]), c)
        return np.where(g >= self.cap_s, 1.0, c)

    def mean(self) -> float:
        """Mean conductance in siemens (point mass at the cap included)."""
        m = float(np.sum(self._mass * self._points))
        return m + self.p_cap * (self.cap_s if math.isfinite(self.cap_s) else 0.0)

    def ppf(self, q) -> np.ndarray:
        """Quantiles (siemens) by inverting the tabulated CDF."""
        q = np.asarray(q, dtype=float)
        upper = self._points + 0.5 * self._step
        out = np.interp(q, self._cum, upper)
        return np.where(q > self._cum[-1], self.cap_s, out)

    def cdf_left(self, g_s) -> np.ndarray:
        """P(G < g): equals :meth:`cdf` except at the cap, where the point mass is excluded."""
        g = np.asarray(g_s, dtype=float)
        return np.where(g == self.cap_s, 1.0 - self.p_cap, self.cdf(g))


def ks_test(data, dist: FormedConductance) -> tuple[float, float]:
    """Kolmogorov-Smirnov distance and p-value of ``data`` against ``dist``, atom-aware.

    :func:`scipy.stats.kstest` assumes a continuous law and counts the compliance point mass
    as a jump of size ``p_cap``; here both one-sided limits of the model CDF are compared with
    the empirical CDF, so capped samples are judged fairly. The p-value uses the
    continuous-law distribution :data:`scipy.stats.kstwo` (conservative with an atom).
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
