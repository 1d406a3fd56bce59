"""Differences between two groups in every domain on a replicate-weight design: raw and adjusted.

The same estimands as :meth:`evaluation.survey.SurveyDesign.mean_differences`
and :meth:`~evaluation.survey.SurveyDesign.adjusted_differences`, with
replicate variances: each estimate is recomputed with every replicate's
weights and its variance is :meth:`ReplicateDesign._variance` of those
(R ``svycontrast(svyby(..., covmat = TRUE))`` and ``svyglm`` on a
``subset()`` of an ``svrepdesign``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaluation.errors import EstimationError
from evaluation.survey.adjusted import RANK_TOLERANCE
from evaluation.survey.domains import Domains, make_domains
from evaluation.survey.estimators import level_code
from evaluation.survey.intervals import t_interval

if TYPE_CHECKING:
    from evaluation.survey.replicates import ReplicateDesign


def _coded(design: ReplicateDesign, name: str) -> Domains:
    """The column's values coded among its sorted levels (-1 where missing)."""
    if name not in design.data.columns:
        raise EstimationError(f"column `{name}` not in the survey data")
    return make_domains(design.data, [name])


def _sides(design: ReplicateDesign, group: str, a: object, b: object) -> np.ndarray:
    """+1 for rows in category ``a`` of ``group``, -1 in ``b``, 0 elsewhere."""
    levels = _coded(design, group)
    names, codes = levels.labels[group].to_numpy(), levels.codes
    return np.where(codes == level_code(names, a), 1.0, np.where(codes == level_code(names, b), -1.0, 0.0))


def mean_differences(
    design: ReplicateDesign, variable: str, by: Sequence[str], group: str, a: object, b: object, level: float
) -> pd.DataFrame:
    """``mean(group = a) - mean(group = b)`` of ``variable`` in every domain of ``by``, with its replicate SE.

    Columns as :meth:`SurveyDesign.mean_differences`; the interval uses the design's df.
    """
    y = design._column(variable)
    sign = _sides(design, group, a, b)
    domains = make_domains(design.data, by)
    ok = domains.valid & (sign != 0) & ~np.isnan(y)
    cell = np.where(ok, 2 * domains.codes + (sign > 0), 0)  # (domain, group): 2d for b, 2d + 1 for a
    n_cells = 2 * domains.n_domains
    weight_full, weight_rep = design._domain_sums(cell, n_cells, ok.astype(float))
    total_full, total_rep = design._domain_sums(cell, n_cells, np.where(ok, y, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_full, mean_rep = total_full / weight_full, total_rep / weight_rep
    estimate = mean_full[1::2] - mean_full[0::2]
    se = np.sqrt(design._variance(estimate, mean_rep[:, 1::2] - mean_rep[:, 0::2]))
    low, high = t_interval(estimate, se, level, design.df)
    count = np.bincount(cell, ok, minlength=n_cells)
    result = domains.labels.reset_index(drop=True).assign(
        variable=variable,
        estimate=estimate,
        se=se,
        ci_low=low,
        ci_high=high,
        n_a=count[1::2],
        n_b=count[0::2],
        df=design.df,
    )
    return result[(count[1::2] > 0) & (count[0::2] > 0)].reset_index(drop=True)


def adjusted_differences(
    design: ReplicateDesign,
    variable: str,
    by: Sequence[str],
    group: str,
    a: object,
    b: object,
    covariates: Sequence[str],
    level: float,
) -> pd.DataFrame:
    """``a - b`` net of the categorical ``covariates`` in every domain of ``by``, with its replicate SE.

    In each domain, the coefficient of ``1[group = a]`` in the weighted least
    squares of ``variable`` on an intercept, that indicator and treatment dummies
    of the covariates (first sorted level the reference) over the complete cases
    of the two groups, refitted with every replicate's weights: R
    ``svyglm(y ~ g + factor(c1) + ..., design = subset(rep_design, domain & group %in% c(a, b)))``.
    A dummy that adds nothing in the domain (its level absent, or collinear with
    earlier columns) is dropped, as R sets it to NA. The t interval uses R's
    residual df, the domain's ``degf + 1 - p``. Columns as
    :meth:`SurveyDesign.adjusted_differences`.
    """
    y = design._column(variable)
    sign = _sides(design, group, a, b)
    complete = ~np.isnan(y) & (sign != 0)
    dummies = []
    for name in covariates:
        coded = _coded(design, name)
        complete &= coded.valid
        dummies.append(coded.codes[:, None] == np.arange(1, coded.n_domains)[None, :])
    x = np.column_stack([np.ones(len(y)), sign > 0, *dummies]).astype(float)
    domains = make_domains(design.data, by)
    weights = np.column_stack([design.weights, design.replicate_weights])
    rows = []
    for d in range(domains.n_domains):
        used = np.flatnonzero((domains.codes == d) & complete)
        n_a, n_b = int((sign[used] > 0).sum()), int((sign[used] < 0).sum())
        if n_a == 0 or n_b == 0:
            continue
        beta, n_terms = _group_coefficients(x[used], y[used], weights[used])
        estimate = beta[0]
        se = float(np.sqrt(design._variance(np.array([estimate]), beta[1:, None])[0]))
        df = design.rows_df(used) + 1 - n_terms
        low, high = t_interval(np.array([estimate]), np.array([se]), level, df)
        rows.append(
            {
                **domains.labels.iloc[d].to_dict(),
                "variable": variable,
                "estimate": estimate,
                "se": se,
                "ci_low": low[0],
                "ci_high": high[0],
                "n_a": n_a,
                "n_b": n_b,
                "df": df,
                "n_terms": n_terms,
            }
        )
    columns = [*by, "variable", "estimate", "se", "ci_low", "ci_high", "n_a", "n_b", "df", "n_terms"]
    return pd.DataFrame(rows, columns=columns)


def _group_coefficients(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, int]:
    """The group indicator's coefficient (column 1 of ``x``) for the full-sample and every replicate weight.

    Columns are kept in order while they add rank under the full-sample weights;
    a group indicator that does not is NaN.
    """
    gram = np.einsum("ip,ir,iq->rpq", x, weights, x)
    kept = _independent_columns(gram[0])
    if 1 not in kept:
        return np.full(weights.shape[1], np.nan), len(kept)
    xtwy = np.einsum("ip,ir,i->rp", x[:, kept], weights, y)
    systems = gram[np.ix_(range(weights.shape[1]), kept, kept)]
    beta = np.full(xtwy.shape, np.nan)
    for r in range(weights.shape[1]):  # a replicate that drops every row of a level cannot fit: NaN, so is the SE
        try:
            beta[r] = np.linalg.solve(systems[r], xtwy[r])
        except np.linalg.LinAlgError:
            continue
    return beta[:, kept.index(1)], len(kept)


def _independent_columns(gram: np.ndarray) -> list[int]:
    """Columns, in order, each adding rank to those before it (Cholesky pivots relative to the largest diagonal)."""
    kept: list[int] = []
    scale = max(float(np.max(np.diag(gram))), 1e-300)
    for column in range(gram.shape[0]):
        trial = [*kept, column]
        block = gram[np.ix_(trial, trial)]
        if np.linalg.eigvalsh(block)[0] > RANK_TOLERANCE * scale:
            kept = trial
    return kept
