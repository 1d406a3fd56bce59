"""Design-based tests: t test of a mean or of a difference in means (R ``svyttest``) and the
Rao-Scott test of association in a two-way table (R ``svychisq``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaluation import distributions
from evaluation.errors import EstimationError
from evaluation.survey.degrees import domain_degrees_of_freedom
from evaluation.survey.intervals import t_interval
from evaluation.survey.regression import svyglm

if TYPE_CHECKING:
    from evaluation.survey.design import SurveyDesign

CHISQ_STATISTICS = ("F", "Chisq", "Wald", "adjWald")


def ttest(design: SurveyDesign, variable: str, group: str | None = None, level: float = 0.95) -> pd.DataFrame:
    """Design-based t test that a mean is zero, or that two groups have the same mean.

    Without ``group``: ``t = mean / se`` with ``df(design) - 1`` degrees of freedom
    (R ``svyttest(y ~ 0, design)``; rows with a missing ``y`` are dropped, the
    df are the design's). With ``group`` (two categories, or 0/1): the
    coefficient of ``group`` in ``svyglm(y ~ group)``, i.e. the difference of the
    second category's mean from the first's, on its residual df (R
    ``svyttest(y ~ group, design)``).

    Returns
    -------
    DataFrame with one row: ``variable``, ``term``, ``estimate``, ``se``,
    ``statistic``, ``df``, ``p_value``, ``ci_low``, ``ci_high``.
    """
    if group is None:
        mean = design.mean([variable], domain_df=False).iloc[0]
        estimate, se, df, term = float(mean["estimate"]), float(mean["se"]), design.df - 1, "mean"
    else:
        if group not in design.data.columns:
            raise EstimationError(f"group `{group}` not in the survey data")
        values = design.data[group].dropna()
        kinds = pd.unique(values)
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if len(kinds) != 2 or (numeric and not (set(kinds) <= {0, 1} or set(kinds) <= {1, 2})):
            raise EstimationError(
                f"svyttest: group `{group}` must have two categories (or be 0/1), found {sorted(map(str, kinds))[:5]}"
            )
        two = numeric and set(kinds) == {1, 2}  # R accepts 1/2 coding; the coefficient is the same difference
        formula = f"`{variable}` ~ C(`{group}`)" if two else f"`{variable}` ~ `{group}`"
        fit = svyglm(design, formula, level=level)
        row = fit.table.iloc[1]
        estimate, se, df, term = float(row["estimate"]), float(row["se"]), fit.df_resid, str(row["term"])
    statistic = estimate / se
    low, high = t_interval(np.array([estimate]), np.array([se]), level, df)
    return pd.DataFrame(
        {
            "variable": [variable],
            "term": [term],
            "estimate": [estimate],
            "se": [se],
            "statistic": [statistic],
            "df": [float(df)],
            "p_value": [2 * distributions.t_sf(abs(statistic), df)],
            "ci_low": low,
            "ci_high": high,
        }
    )


def _levels(design: SurveyDesign, name: str, kept: np.ndarray) -> tuple[np.ndarray, pd.Index]:
    if name not in design.data.columns:
        raise EstimationError(f"variable `{name}` not in the survey data")
    codes, levels = pd.factorize(design.data[name].where(kept), sort=True)
    if len(levels) < 2:
        raise EstimationError(f"svychisq: `{name}` has {len(levels)} category in the design; a table needs two")
    return codes, levels


def chisq(design: SurveyDesign, row: str, col: str, statistic: str = "F") -> pd.DataFrame:
    """Rao-Scott test of independence of ``row`` and ``col`` (R ``svychisq(~row + col, design)``).

    Pearson's X^2 of the weighted table (scaled to the number of rows) is
    divided by the mean generalised design effect. ``"F"``: second-order
    correction, ``F = X^2 / tr(Delta)`` on ``d0`` and ``d0 * nu`` degrees of
    freedom, ``d0 = tr(Delta)^2 / tr(Delta^2)`` (Rao and Scott 1984; R's
    default); ``"Chisq"``: first-order, ``X^2 / mean(diag(Delta))`` against
    chi-square with ``(r - 1)(c - 1)`` df. ``Delta`` is the design effect
    matrix of the interaction contrasts of the cell proportions. ``"Wald"`` and
    ``"adjWald"``: R's design-based Wald tests (see :func:`_wald`), F on
    ``(r - 1)(c - 1)`` and ``nu`` (adjusted: ``nu - (r - 1)(c - 1) + 1``) df. As
    R, ``nu`` is the PSUs minus strata of the rows the design keeps, and rows
    with a missing value count in the scaling total but not in the table.

    Returns
    -------
    DataFrame with one row: ``row``, ``col``, ``chisq`` (Pearson X^2), ``statistic``,
    ``ndf``, ``ddf`` (NaN for ``"Chisq"``), ``p_value``, ``method``.
    """
    if statistic not in CHISQ_STATISTICS:
        raise EstimationError(f"statistic={statistic!r}; use one of {CHISQ_STATISTICS}")
    kept = design.rows_kept()
    r_codes, r_levels = _levels(design, row, kept)
    c_codes, c_levels = _levels(design, col, kept)
    nr, nc = len(r_levels), len(c_levels)
    inside = kept if design.domain_mask is None else design.domain_mask
    ok = inside & (r_codes >= 0) & (c_codes >= 0)
    cell = np.where(ok, r_codes + nr * c_codes, 0)  # rows vary fastest, as R's interaction()
    w = np.where(ok, design.weights, 0.0)
    total = w.sum()
    mean = np.bincount(cell, weights=w, minlength=nr * nc) / total
    indicator = np.zeros((len(w), nr * nc))
    indicator[np.flatnonzero(ok), cell[ok]] = 1.0
    influence = w[:, None] * (indicator - mean) / total
    v = design.linearization.covariance(influence)
    n_total = float(kept.sum())
    table = (mean * n_total).reshape(nc, nr).T
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n_total
    x2 = float(np.sum((table - expected) ** 2 / expected))
    grid_rows, grid_cols = np.tile(np.arange(nr), nc), np.repeat(np.arange(nc), nr)
    stage = design.linearization.stages[0]
    nu = float(domain_degrees_of_freedom(stage, np.ones(len(w)), np.where(kept, 0, -1), 1)[0])
    if statistic in ("Wald", "adjWald"):
        value, ndf, ddf = _wald(design, indicator, w, grid_rows, grid_cols, nr, nc, nu, statistic)
        return _chisq_frame(
            row, col, x2, value, ndf, ddf, distributions.f_sf(value, ndf, ddf), "Design-based Wald test"
        )
    main = np.column_stack(
        [np.ones(nr * nc)]
        + [(grid_rows == i).astype(float) for i in range(1, nr)]
        + [(grid_cols == j).astype(float) for j in range(1, nc)]
    )
    interactions = np.column_stack(
        [((grid_rows == i) & (grid_cols == j)).astype(float) for j in range(1, nc) for i in range(1, nr)]
    )
    q, _ = np.linalg.qr(main)
    contrasts = interactions - q @ (q.T @ interactions)
    inverse = np.diag(np.where(mean == 0, 0.0, 1.0 / np.where(mean == 0, 1.0, mean)))
    denominator = contrasts.T @ (inverse / n_total) @ contrasts
    numerator = contrasts.T @ inverse @ v @ inverse @ contrasts
    delta = np.linalg.solve(denominator, numerator)
    trace = float(np.trace(delta))
    d0 = trace**2 / float(np.trace(delta @ delta))
    if statistic == "F":
        value, ndf, ddf = x2 / trace, d0, d0 * nu
        p_value = distributions.f_sf(value, ndf, ddf)
        method = "Pearson's X^2: Rao & Scott adjustment (F, second order)"
    else:
        value, ndf, ddf = x2, float(delta.shape[1]), np.nan
        p_value = distributions.chi2_sf(x2 / float(np.mean(np.diag(delta))), delta.shape[1])
        method = "Pearson's X^2: Rao & Scott adjustment (first order)"
    return _chisq_frame(row, col, x2, value, ndf, ddf, p_value, method)


def _wald(
    design: SurveyDesign,
    indicator: np.ndarray,
    w: np.ndarray,
    grid_rows: np.ndarray,
    grid_cols: np.ndarray,
    nr: int,
    nc: int,
    nu: float,
    statistic: str,
) -> tuple[float, float, float]:
    """R ``svychisq(statistic = "Wald" | "adjWald")``: Wald test that the cell totals equal ``row x col / N``.

    Estimated totals of the cells, rows, columns and population (``svytotal``)
    give ``Y = T_ij - T_i. T_.j / N`` and, by the delta method, its covariance;
    the test uses the cells with ``i, j >= 2``.
    """
    rows = np.column_stack([indicator[:, grid_rows == i].sum(axis=1) for i in range(nr)])
    cols = np.column_stack([indicator[:, grid_cols == j].sum(axis=1) for j in range(nc)])
    x = np.column_stack([indicator, rows, cols, (w > 0).astype(float)])
    totals = (w[:, None] * x).sum(axis=0)
    v = design.linearization.covariance(w[:, None] * x)
    cell_t = totals[: nr * nc]
    row_t, col_t, big_n = totals[nr * nc : nr * nc + nr], totals[nr * nc + nr : -1], totals[-1]
    y = cell_t - row_t[grid_rows] * col_t[grid_cols] / big_n
    jacobian = np.hstack(
        [
            np.eye(nr * nc),
            -(grid_rows[:, None] == np.arange(nr)).astype(float) * (col_t[grid_cols] / big_n)[:, None],
            -(grid_cols[:, None] == np.arange(nc)).astype(float) * (row_t[grid_rows] / big_n)[:, None],
            (row_t[grid_rows] * col_t[grid_cols] / big_n**2)[:, None],
        ]
    )
    vy = jacobian @ v @ jacobian.T
    use = (grid_rows > 0) & (grid_cols > 0)
    wald = float(y[use] @ np.linalg.solve(vy[np.ix_(use, use)], y[use]))
    ndf = float((nr - 1) * (nc - 1))
    if statistic == "Wald":
        return wald / ndf, ndf, nu
    ddf = nu - ndf + 1
    return wald * ddf / (ndf * nu), ndf, ddf


def _chisq_frame(
    row: str, col: str, x2: float, value: float, ndf: float, ddf: float, p_value: float, method: str
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": [row],
            "col": [col],
            "chisq": [x2],
            "statistic": [value],
            "ndf": [ndf],
            "ddf": [ddf],
            "p_value": [p_value],
            "method": [method],
        }
    )
