"""Adjusted differences between two groups in every domain: one survey regression per domain, all at once.

Within domain ``d`` the adjusted difference of ``y`` between categories ``a`` and
``b`` of ``group`` is the coefficient ``beta_d`` of ``g = 1[group = a]`` in the
design-weighted linear regression

    y = beta_d g + x' delta_d + e   (rows of d in group a or b, complete cases),

with ``x`` an intercept and treatment dummies of the categorical ``covariates``
(first sorted level as reference). This is R
``coef(svyglm(y ~ g + factor(c1) + ..., design = subset(design, d & group %in% c(a, b))))["g"]``.
By Frisch-Waugh-Lovell, ``beta_d = sum w r y / sum w r^2`` with ``r`` the residual
of ``g`` on ``x``; its influence is ``w r e / sum w r^2`` with ``e`` the full
residual, so its design variance is that of a domain total and uses every
variance path of :func:`~evaluation.survey.estimators.domain_statistic`
(calibration included). As the covariates are categorical, every regression is
solved from cell sums (domain x group x covariate levels), not row by row.

The t interval uses R's residual degrees of freedom, the domain's complete-case
``degf + 1 - p`` with ``p`` the number of identified coefficients. A
coefficient that the covariates determine (``g`` collinear with them in the
domain) is NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaluation.errors import EstimationError
from evaluation.survey.degrees import domain_degrees_of_freedom
from evaluation.survey.estimators import column, domain_statistic, level_code, level_codes
from evaluation.survey.intervals import t_interval

if TYPE_CHECKING:
    from evaluation.survey.design import SurveyDesign

RANK_TOLERANCE = 1e-10
"""Eigenvalues of a domain's cross-product matrix below this fraction of its largest count as zero (aliased)."""


def _combinations(
    design: SurveyDesign, covariates: Sequence[str]
) -> tuple[list[tuple[np.ndarray, int]], np.ndarray, int]:
    """Level codes and level count of each covariate, the code of each row's combination of levels (-1 where
    one is missing) and the number of combinations."""
    codes = [(level, len(levels)) for level, levels in (level_codes(design, name) for name in covariates)]
    combination, combinations = np.zeros(len(design.data), dtype=np.int64), 1
    for level, n_levels in codes:
        combination = np.where((level < 0) | (combination < 0), -1, combination * n_levels + level)
        combinations *= max(n_levels, 1)
    return codes, combination, combinations


def _dummies(codes: list[tuple[np.ndarray, int]], rows: np.ndarray) -> np.ndarray:
    """Intercept and treatment dummies (first level the reference) of the covariates at ``rows``."""
    blocks = [np.ones((rows.shape[0], 1))]
    for level, n_levels in codes:
        blocks.append((level[rows][:, None] == np.arange(1, n_levels)[None, :]).astype(float))
    return np.hstack(blocks)


def _sum_by(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Sums of the rows of ``values`` (n_entries, ...) within ``codes`` (0 .. n - 1): shape (n, ...)."""
    shape = values.shape[1:]
    width = int(np.prod(shape)) if shape else 1
    flat = (codes[:, None] * width + np.arange(width)[None, :]).ravel()
    return np.bincount(flat, weights=values.reshape(-1), minlength=n * width).reshape((n, *shape))


def adjusted_differences(
    design: SurveyDesign,
    variable: str,
    by: Sequence[str],
    group: str,
    a: object,
    b: object,
    covariates: Sequence[str],
    level: float = 0.95,
) -> pd.DataFrame:
    """Adjusted difference ``a - b`` of ``variable`` in every domain of ``by`` (see the module docstring).

    Returns
    -------
    DataFrame
        ``by`` columns, ``variable``, ``estimate``, ``se``, ``ci_low``, ``ci_high``,
        ``n_a``, ``n_b``, ``df``, ``n_terms`` (identified coefficients), for the
        domains with rows in both groups.
    """
    if group in covariates:
        raise EstimationError(f"adjusted difference by `{group}`: the group cannot also be a covariate")
    y = column(design, variable)
    group_codes, levels = level_codes(design, group)
    in_a, in_b = (group_codes == level_code(levels, value) for value in (a, b))
    keys = design.domain_keys(by)
    covariate_codes, combination, combinations = _combinations(design, covariates)
    ok = keys.domains.valid & (in_a | in_b) & ~np.isnan(y) & (combination >= 0) & (design.weights > 0)
    n_dom = keys.domains.n_domains
    g = in_a.astype(float)
    # cells: domain x group x covariate levels; x is constant within a cell
    rows = np.flatnonzero(ok)
    cell_of_ok, cell_keys = pd.factorize((keys.dom[rows] * 2 + in_a[rows]) * combinations + combination[rows])
    n_cells = cell_keys.shape[0]
    cell = np.full(len(y), -1, dtype=np.int64)
    cell[rows] = cell_of_ok
    first = np.zeros(n_cells, dtype=np.int64)
    first[cell_of_ok[::-1]] = rows[::-1]
    cell_domain, cell_g, cell_x = keys.dom[first], g[first], _dummies(covariate_codes, first)
    w = np.where(ok, design.weights, 0.0)
    weight = np.bincount(cell_of_ok, weights=w[rows], minlength=n_cells)
    weighted_y = np.bincount(cell_of_ok, weights=(w * np.where(ok, y, 0.0))[rows], minlength=n_cells)
    cross = _sum_by(cell_domain, weight[:, None, None] * cell_x[:, :, None] * cell_x[:, None, :], n_dom)
    to_g = _sum_by(cell_domain, (weight * cell_g)[:, None] * cell_x, n_dom)
    to_y = _sum_by(cell_domain, weighted_y[:, None] * cell_x, n_dom)
    inverse, rank = _pseudo_inverse(cross)
    residual_g = cell_g - np.einsum("cj,cj->c", cell_x, np.einsum("djk,dk->dj", inverse, to_g)[cell_domain])
    fitted_y = np.einsum("cj,cj->c", cell_x, np.einsum("djk,dk->dj", inverse, to_y)[cell_domain])
    spread = np.bincount(cell_domain, weights=weight * residual_g**2, minlength=n_dom)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.nan_to_num(_sum_by(cell_domain, weight * cell_g, n_dom) / _sum_by(cell_domain, weight, n_dom))
    scale = np.bincount(cell_domain, weights=weight * (cell_g - share[cell_domain]) ** 2, minlength=n_dom)
    identified = spread > RANK_TOLERANCE * np.maximum(scale, np.finfo(float).tiny)
    with np.errstate(invalid="ignore", divide="ignore"):
        estimate = np.where(
            identified,
            np.bincount(cell_domain, weights=residual_g * (weighted_y - weight * fitted_y), minlength=n_dom) / spread,
            np.nan,
        )
    # influence w r e / sum w r^2 of each row (domain_statistic multiplies by w)
    r_row = np.where(ok, residual_g[np.maximum(cell, 0)], 0.0)
    d_row = keys.dom
    e_row = np.where(ok, y - fitted_y[np.maximum(cell, 0)] - np.nan_to_num(estimate)[d_row] * r_row, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        numer = np.where(ok, r_row * e_row / np.where(identified, spread, np.inf)[d_row], 0.0)
    stat = domain_statistic(design, keys, numer, None, ok)
    se = np.where(identified, np.sqrt(stat.variance), np.nan)
    n_terms = rank + 1
    complete = np.where(ok, keys.domains.codes, -1)
    df = domain_degrees_of_freedom(design.linearization.stages[0], design.design_weights, complete, n_dom)
    df = df + 1 - n_terms
    low, high = t_interval(estimate, se, level, np.maximum(df, 1))
    n_a = np.bincount(keys.dom[ok & in_a], minlength=n_dom)
    n_b = np.bincount(keys.dom[ok & in_b], minlength=n_dom)
    result = keys.domains.labels.reset_index(drop=True).assign(
        variable=variable, estimate=estimate, se=se, ci_low=low, ci_high=high, n_a=n_a, n_b=n_b, df=df, n_terms=n_terms
    )
    return result[(n_a > 0) & (n_b > 0)].reset_index(drop=True)


def _pseudo_inverse(cross: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pseudo-inverses and ranks of symmetric PSD matrices (stacked), aliased directions dropped as R does."""
    values, vectors = np.linalg.eigh(cross)
    top = values.max(axis=1, keepdims=True) if values.size else values
    kept = values > RANK_TOLERANCE * np.maximum(top, np.finfo(float).tiny)
    inverse_values = np.where(kept, 1.0 / np.where(kept, values, 1.0), 0.0)
    return np.einsum("dij,dj,dkj->dik", vectors, inverse_values, vectors), kept.sum(axis=1)
