"""R's ``spline(method = "fmm")`` and ``approx()``, as the profile-likelihood intervals of R ``survey`` use them.

Forsythe, Malcolm and Moler's cubic spline: the end conditions match the third
derivative of the cubic through the first (last) four points. A port of
``fmm_spline`` and ``spline_eval`` in R's ``src/library/stats/src/splines.c``,
so that intervals read off a spline agree with R to rounding.
"""

from __future__ import annotations

import numpy as np


def fmm_coefficients(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coefficients ``b, c, d`` of ``y_i + b_i u + c_i u^2 + d_i u^3`` on each interval (``u = t - x_i``).

    ``x`` must be strictly increasing.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = x.size
    b, c, d = np.zeros(n), np.zeros(n), np.zeros(n)
    if n < 2:
        return b, c, d
    if n < 3:
        b[:] = (y[1] - y[0]) / (x[1] - x[0])
        return b, c, d
    nm1 = n - 1
    d[0] = x[1] - x[0]
    c[1] = (y[1] - y[0]) / d[0]
    for i in range(1, nm1):
        d[i] = x[i + 1] - x[i]
        b[i] = 2.0 * (d[i - 1] + d[i])
        c[i + 1] = (y[i + 1] - y[i]) / d[i]
        c[i] = c[i + 1] - c[i]
    b[0] = -d[0]
    b[nm1] = -d[n - 2]
    c[0] = c[nm1] = 0.0
    if n > 3:
        c[0] = c[2] / (x[3] - x[1]) - c[1] / (x[2] - x[0])
        c[nm1] = c[n - 2] / (x[nm1] - x[n - 3]) - c[n - 3] / (x[n - 2] - x[n - 4])
        c[0] = c[0] * d[0] * d[0] / (x[3] - x[0])
        c[nm1] = -c[nm1] * d[n - 2] * d[n - 2] / (x[nm1] - x[n - 4])
    for i in range(1, n):
        t = d[i - 1] / b[i - 1]
        b[i] = b[i] - t * d[i - 1]
        c[i] = c[i] - t * c[i - 1]
    c[nm1] = c[nm1] / b[nm1]
    for i in range(n - 2, -1, -1):
        c[i] = (c[i] - d[i] * c[i + 1]) / b[i]
    b[nm1] = (y[nm1] - y[n - 2]) / d[n - 2] + d[n - 2] * (c[n - 2] + 2.0 * c[nm1])
    for i in range(nm1):
        b[i] = (y[i + 1] - y[i]) / d[i] - d[i] * (c[i + 1] + 2.0 * c[i])
        d[i] = (c[i + 1] - c[i]) / d[i]
        c[i] = 3.0 * c[i]
    c[nm1] = 3.0 * c[nm1]
    d[nm1] = d[n - 2]
    return b, c, d


def spline(x: np.ndarray, y: np.ndarray, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """R ``spline(x, y, n = 3 * length(x), method = "fmm")``: the spline at ``n`` equally spaced points.

    Ties in ``x`` are averaged (R ``ties = mean``).
    """
    x, y = _regularize(x, y)
    n = 3 * x.size if n is None else n
    xout = np.linspace(x[0], x[-1], n)
    b, c, d = fmm_coefficients(x, y)
    i = np.clip(np.searchsorted(x, xout, side="right") - 1, 0, x.size - 1)
    u = xout - x[i]
    return xout, y[i] + u * (b[i] + u * (c[i] + u * d[i]))


def approx(x: np.ndarray, y: np.ndarray, xout: np.ndarray) -> np.ndarray:
    """R ``approx(x, y, xout)``: linear interpolation, NaN outside the range of ``x`` (``rule = 1``)."""
    x, y = _regularize(x, y)
    xout = np.asarray(xout, dtype=float)
    out = np.interp(xout, x, y)
    return np.where((xout < x[0]) | (xout > x[-1]), np.nan, out)


def _regularize(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort by ``x`` and average ``y`` over tied ``x`` (R ``regularize.values(ties = mean)``)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = ~(np.isnan(x) | np.isnan(y))
    unique, inverse = np.unique(x[keep], return_inverse=True)
    sums = np.bincount(inverse, weights=y[keep], minlength=unique.size)
    return unique, sums / np.bincount(inverse, minlength=unique.size)
