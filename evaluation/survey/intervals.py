"""Confidence intervals: t intervals with design degrees of freedom, and proportion intervals (R ``svyciprop``)."""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logit

from evaluation import distributions
from evaluation.errors import EstimationError

PROPORTION_METHODS = ("logit", "likelihood", "xlogit", "wilson", "beta", "mean", "asin")


def t_quantile(level: float, df: float | np.ndarray) -> np.ndarray:
    """Two-sided ``level`` quantile of the t distribution (normal when ``df`` is infinite)."""
    if not 0 < level < 1:
        raise EstimationError(f"level={level}: the confidence level must be between 0 and 1")
    df = np.asarray(df, dtype=float)
    values, inverse = np.unique(df, return_inverse=True)  # domains share few distinct df: one quantile each
    quantiles = np.where(
        np.isinf(values),
        distributions.normal_quantile(0.5 + level / 2),
        distributions.t_quantile(0.5 + level / 2, np.where(values > 0, values, np.nan)),
    )
    return quantiles[inverse].reshape(df.shape)


def t_interval(
    estimate: np.ndarray, se: np.ndarray, level: float, df: float | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``estimate -/+ t_{df} se`` (R ``confint(x, df = degf(design))``)."""
    half = t_quantile(level, df) * se
    return estimate - half, estimate + half


def proportion_interval(
    p: np.ndarray, se: np.ndarray, n: np.ndarray, level: float, df: float | np.ndarray, method: str = "logit"
) -> tuple[np.ndarray, np.ndarray]:
    """Confidence interval for a proportion estimated from a complex sample.

    Parameters
    ----------
    p, se : ndarray
        Estimated proportion and its design-based standard error.
    n : ndarray
        Unweighted number of respondents the proportion is based on (used by
        ``beta``, as ``nrow(design)`` in R, and as fallback size for ``wilson``).
    level : float
    df : float or ndarray
        Design degrees of freedom (one per proportion, or one for all).
    method : {"logit", "xlogit", "wilson", "beta", "mean", "asin"}
        ``logit``/``xlogit``: Wald interval on the logit scale, back-transformed (R
        ``svyciprop`` methods ``logit`` and ``xlogit``, identical up to the glm fit);
        ``beta``: Korn-Graubard interval (Clopper-Pearson with the effective sample
        size ``p(1-p)/se^2``, df-adjusted; R ``beta``); ``mean``: Wald interval on the
        proportion scale; ``asin``: Wald interval on ``asin(sqrt(p))``;
        ``wilson``: Wilson score interval with the effective sample size and the t
        quantile (no R equivalent; Kott and Carr 1997).

    Returns
    -------
    low, high : ndarray
    """
    p, se, n = (np.asarray(x, dtype=float) for x in (p, se, n))
    t = t_quantile(level, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        if method in ("logit", "xlogit"):
            half = t * se / (p * (1 - p))
            return expit(logit(p) - half), expit(logit(p) + half)
        if method == "mean":
            return p - t * se, p + t * se
        if method == "asin":
            centre = np.arcsin(np.sqrt(p))
            half = t * se / (2 * np.sqrt(p * (1 - p)))
            return (
                np.sin(np.clip(centre - half, 0, np.pi / 2)) ** 2,
                np.sin(np.clip(centre + half, 0, np.pi / 2)) ** 2,
            )
        n_eff = np.where(se > 0, p * (1 - p) / se**2, n)
        if method == "beta":
            alpha = 1 - level
            n_eff = n_eff * (distributions.t_quantile(alpha / 2, n - 1) / distributions.t_quantile(alpha / 2, df)) ** 2
            low = distributions.beta_quantile(alpha / 2, n_eff * p, n_eff * (1 - p) + 1)
            high = distributions.beta_quantile(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p))
            return np.where(p > 0, low, 0.0), np.where(p < 1, high, 1.0)
        if method == "wilson":
            t2n = t**2 / n_eff
            centre = (p + t2n / 2) / (1 + t2n)
            half = t / (1 + t2n) * np.sqrt(p * (1 - p) / n_eff + t2n / (4 * n_eff))
            return centre - half, centre + half
    if method == "likelihood":
        raise EstimationError("ci_method='likelihood' needs the data: use SurveyDesign.proportion")
    raise EstimationError(f"ci_method={method!r}; use one of {PROPORTION_METHODS}")
