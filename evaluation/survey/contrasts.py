"""Contrasts of domain estimates using their design covariance (R ``svycontrast``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaluation.errors import EstimationError
from evaluation.survey.estimators import column, domain_statistic, level_code, level_codes, subset_keys
from evaluation.survey.intervals import t_interval

if TYPE_CHECKING:
    from evaluation.survey.design import SurveyDesign

CONTRAST_KINDS = ("difference", "ratio")


def _domain_index(labels: pd.DataFrame) -> pd.Index:
    if labels.shape[1] == 1:
        return pd.Index(labels.iloc[:, 0], name=labels.columns[0])
    return pd.MultiIndex.from_frame(labels)


def mean_vcov(design: SurveyDesign, variable: str, by: Sequence[str]) -> tuple[pd.Series, pd.DataFrame]:
    """Domain means of ``variable`` and their covariance matrix (see SurveyDesign.mean_vcov)."""
    if not by:
        raise EstimationError("mean_vcov needs at least one `by` column")
    keys = design.domain_keys(by)
    y = column(design, variable)
    ok = keys.domains.valid & ~np.isnan(y)
    stat = domain_statistic(design, keys, y, np.ones_like(y), ok, covariance=True)
    index = _domain_index(keys.domains.labels)
    return (
        pd.Series(stat.estimate, index=index, name=variable),
        pd.DataFrame(stat.covariance, index=index, columns=index),
    )


def contrast(
    estimate_a: float, estimate_b: float, var_a: float, var_b: float, cov_ab: float, kind: str
) -> tuple[float, float]:
    """Difference or ratio of two estimates and its delta-method standard error.

    Estimand: ``theta_a - theta_b`` or ``theta_a / theta_b``.
    """
    if kind == "difference":
        return estimate_a - estimate_b, float(np.sqrt(var_a + var_b - 2 * cov_ab))
    if kind == "ratio":
        gradient = np.array([1 / estimate_b, -estimate_a / estimate_b**2])
        vcov = np.array([[var_a, cov_ab], [cov_ab, var_b]])
        return estimate_a / estimate_b, float(np.sqrt(gradient @ vcov @ gradient))
    raise EstimationError(f"kind={kind!r}; use one of {CONTRAST_KINDS}")


def contrast_means(
    design: SurveyDesign, variable: str, by: Sequence[str], a: object, b: object, kind: str, level: float
) -> pd.DataFrame:
    """Contrast of the means of two domains (see SurveyDesign.contrast_means).

    Only the rows of the two domains are used (their estimates and covariance
    do not depend on other domains), so the cost does not grow with the number
    of domains.
    """
    if not by:
        raise EstimationError("contrast_means needs at least one `by` column")
    keys = design.domain_keys(by)
    index = _domain_index(keys.domains.labels)
    for label in (a, b):
        if label not in index:
            raise EstimationError(f"domain {label!r} of {list(by)} not found; domains are {list(index)[:10]}")
    chosen = sorted({int(index.get_loc(a)), int(index.get_loc(b))})
    pair = subset_keys(design.linearization.stages, keys, chosen)
    y = column(design, variable)
    ok = pair.domains.valid & ~np.isnan(y)
    stat = domain_statistic(design, pair, y, np.ones_like(y), ok, covariance=True)
    sub_index = index[chosen]
    estimates = pd.Series(stat.estimate, index=sub_index, name=variable)
    vcov = pd.DataFrame(stat.covariance, index=sub_index, columns=sub_index)
    est, se = contrast(estimates[a], estimates[b], vcov.loc[a, a], vcov.loc[b, b], vcov.loc[a, b], kind)
    low, high = t_interval(np.array(est), np.array(se), level, design.df)
    symbol = "-" if kind == "difference" else "/"
    return pd.DataFrame(
        {
            "variable": [variable],
            "contrast": [f"{a} {symbol} {b}"],
            "estimate": [est],
            "se": [se],
            "ci_low": [float(low)],
            "ci_high": [float(high)],
            "df": [design.df],
            "estimate_a": [estimates[a]],
            "estimate_b": [estimates[b]],
            "covariance": [vcov.loc[a, b]],
        }
    )


def mean_differences(
    design: SurveyDesign, variable: str, by: Sequence[str], group: str, a: object, b: object, level: float
) -> pd.DataFrame:
    """``mean(group = a) - mean(group = b)`` of ``variable`` within every domain of ``by``, in one pass.

    The difference of two ratio means linearises to ``u_i = 1[a](y_i - ybar_a)/W_a -
    1[b](y_i - ybar_b)/W_b``; its design variance is the variance of the domain total of
    ``u`` over the rows of the two groups. This equals :func:`contrast_means` for every
    domain (covariance of the two means included) at the cost of one domain total.
    """
    y = column(design, variable)
    codes, levels = level_codes(design, group)
    sign = np.where(codes == level_code(levels, a), 1.0, np.where(codes == level_code(levels, b), -1.0, 0.0))
    keys = design.domain_keys(by)
    n_domains = keys.domains.n_domains
    ok = keys.domains.valid & (sign != 0) & ~np.isnan(y)
    cell = np.where(ok, 2 * keys.domains.codes + (sign > 0), 0)  # (domain, group) cell: 2d (b) or 2d + 1 (a)
    w = np.where(ok, design.weights, 0.0)
    y0 = np.where(ok, y, 0.0)
    weight = np.bincount(cell, w, minlength=2 * n_domains)
    count = np.bincount(cell, ok, minlength=2 * n_domains)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(cell, w * y0, minlength=2 * n_domains) / weight
        u = np.where(ok, sign * (y0 - mean[cell]) / weight[cell], 0.0)
    stat = domain_statistic(design, keys, u, None, ok)
    estimate = mean[1::2] - mean[0::2]
    se = np.sqrt(stat.variance)
    low, high = t_interval(estimate, se, level, design.df)
    result = keys.domains.labels.reset_index(drop=True).assign(
        variable=variable,
        estimate=estimate,
        se=se,
        ci_low=low,
        ci_high=high,
        n_a=count[1::2],
        n_b=count[0::2],
        df=design.df,
    )
    both = (count[1::2] > 0) & (count[0::2] > 0)
    return result[both].reset_index(drop=True)
