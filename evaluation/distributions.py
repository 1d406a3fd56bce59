"""The t, normal and F distribution functions the estimators use, from ``scipy.special``.

They are the ufuncs that ``scipy.stats.t``, ``norm``, ``f`` and ``chi2`` evaluate, with
``scipy.stats``' handling of the support's ends and of invalid parameters, so
they give the same numbers bit for bit, signed zeros included
(``tests/test_distributions.py``). Importing ``scipy.stats`` costs
about 0.3 s, which every stage of the pipeline paid at start-up; only the beta
quantile (R's ``svyciprop(method = "beta")``) still needs it and imports it
when called.
"""

from __future__ import annotations

import numpy as np
from scipy import special


def t_quantile(q, df):
    """Quantile of Student's t with ``df`` degrees of freedom (``scipy.stats.t.ppf``, R ``qt``)."""
    q, df = np.asarray(q, dtype=float), np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        value = np.where((q > 0) & (q < 1), special.stdtrit(df, q), np.where(q == 0, -np.inf, np.inf))
        value = np.where((df > 0) & (q >= 0) & (q <= 1), value, np.nan)
    return value[()] + 0.0  # a zero quantile is +0.0, as scipy.stats returns it


def t_isf(q, df):
    """Upper-tail quantile of Student's t (``scipy.stats.t.isf``, R ``qt(q, df, lower.tail = FALSE)``)."""
    return 0.0 - t_quantile(q, df)


def t_sf(x, df):
    """Upper tail ``P(T > x)`` of Student's t (``scipy.stats.t.sf``, R ``pt(x, df, lower.tail = FALSE)``)."""
    return special.stdtr(df, -np.asarray(x, dtype=float))


def normal_quantile(q):
    """Standard normal quantile (``scipy.stats.norm.ppf``, R ``qnorm``)."""
    return special.ndtri(q)


def normal_isf(q):
    """Upper-tail standard normal quantile (``scipy.stats.norm.isf``)."""
    return 0.0 - special.ndtri(q)


def normal_cdf(x):
    """Standard normal distribution function (``scipy.stats.norm.cdf``, R ``pnorm``)."""
    return special.ndtr(x)


def f_sf(x, dfn, dfd):
    """Upper tail of the F distribution (``scipy.stats.f.sf``, R ``pf(x, dfn, dfd, lower.tail = FALSE)``)."""
    x, dfn, dfd = (np.asarray(v, dtype=float) for v in (x, dfn, dfd))
    with np.errstate(invalid="ignore"):
        value = np.where(x <= 0, 1.0, np.where(x == np.inf, 0.0, special.fdtrc(dfn, dfd, x)))
        value = np.where((dfn > 0) & (dfd > 0) & ~np.isnan(x), value, np.nan)
    return value[()]


def chi2_sf(x, df):
    """Upper tail of the chi-squared distribution (``scipy.stats.chi2.sf``, R ``pchisq(x, df, lower.tail = FALSE)``)."""
    x, df = np.asarray(x, dtype=float), np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        value = np.where(x <= 0, 1.0, np.where(x == np.inf, 0.0, special.chdtrc(df, x)))
        value = np.where((df > 0) & ~np.isnan(x), value, np.nan)
    return value[()]


def beta_quantile(q, a, b):
    """Quantile of the beta distribution (``scipy.stats.beta.ppf``, R ``qbeta``)."""
    from scipy import stats  # noqa: PLC0415 - 0.3 s to import; only the beta intervals need it

    return stats.beta.ppf(q, a, b)
