"""Calibration of design weights to population margins (R ``postStratify``, ``rake``) and weight diagnostics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import optimize

from evaluation.errors import WeightingError

if TYPE_CHECKING:
    from evaluation.survey.design import SurveyDesign


@dataclass(frozen=True)
class Margin:
    """Population totals of one margin, matched to the rows of the sample.

    Attributes
    ----------
    name : str
        Column name(s) of the margin, for messages (``"age x gender"``).
    codes : ndarray of int64
        Category of each row (index into ``targets``).
    targets : ndarray of float
        Population total of each category.
    labels : Index
        Category labels.
    """

    name: str
    codes: np.ndarray
    targets: np.ndarray
    labels: pd.Index


def matched_margin(data: pd.DataFrame, totals: pd.Series, weights: np.ndarray) -> Margin:
    """Match a Series of population totals (indexed by one or several columns) to the rows."""
    if not isinstance(totals, pd.Series):
        raise WeightingError("each margin must be a pandas Series of population totals indexed by category")
    columns = [n for n in totals.index.names]
    name = " x ".join(str(c) for c in columns)
    if any(c is None or c not in data.columns for c in columns):
        raise WeightingError(
            f"margin index names {columns} must name columns of the data "
            "(set Series.index.name, or the MultiIndex names)"
        )
    if totals.isna().any() or (totals < 0).any():
        raise WeightingError(f"margin `{name}`: population totals must be non-negative numbers")
    if totals.index.has_duplicates:
        raise WeightingError(f"margin `{name}`: duplicated categories {list(totals.index[totals.index.duplicated()])}")
    for c in columns:
        if data[c].isna().any():
            raise WeightingError(
                f"margin `{name}`: column `{c}` has {int(data[c].isna().sum())} missing values; "
                "impute or drop them before calibrating"
            )
    rows = data[columns[0]] if len(columns) == 1 else pd.MultiIndex.from_frame(data[columns])
    codes = totals.index.get_indexer(rows)
    if (codes < 0).any():
        first = int(np.flatnonzero(codes < 0)[0])
        value = rows.iloc[first] if isinstance(rows, pd.Series) else rows[first]
        raise WeightingError(f"margin `{name}`: sample category {value!r} has no population total")
    targets = totals.to_numpy(dtype=float)
    sums = np.bincount(codes, weights=weights, minlength=len(targets))
    empty = (sums <= 0) & (targets > 0)
    if empty.any():
        labels = [totals.index[i] for i in np.flatnonzero(empty)[:5]]
        raise WeightingError(
            f"margin `{name}`: category {labels[0]!r} has no respondents (with positive "
            f"weight) but a population total of {targets[empty][0]:g}; collapse it with a "
            f"neighbouring category (empty: {labels})"
        )
    impossible = (sums > 0) & (targets == 0)
    if impossible.any():
        label = totals.index[int(np.flatnonzero(impossible)[0])]
        raise WeightingError(f"margin `{name}`: category {label!r} has respondents but a population total of 0")
    return Margin(name, codes.astype(np.int64), targets, totals.index)


def poststratify(design: SurveyDesign, totals: pd.Series) -> SurveyDesign:
    """Post-stratify the design weights to known population cell totals.

    New weight ``w_i T_c / sum_{j in c} w_j`` for the cell ``c`` of respondent ``i``
    (R ``postStratify``). Variances of the returned design use residuals from the
    weighted regression on the cell indicators, as R does.

    Parameters
    ----------
    design : SurveyDesign
    totals : Series
        Population count of each cell, indexed by the cell label (``index.name`` is
        the data column), or by a MultiIndex over several columns (its ``names``).

    Returns
    -------
    SurveyDesign
        With calibrated weights.
    """
    margin = matched_margin(design.data, totals, design.weights)
    sums = np.bincount(margin.codes, weights=design.weights, minlength=len(margin.targets))
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(sums > 0, margin.targets / sums, 0.0)
    weights = design.weights * factor[margin.codes]
    return design.calibrated(weights, [(margin.codes, len(margin.targets))])


def _worst(margins: Sequence[Margin], weights: np.ndarray) -> tuple[float, Margin, int]:
    """Largest relative discrepancy between weighted and population margin totals."""
    worst = (-1.0, margins[0], 0)
    for m in margins:
        sums = np.bincount(m.codes, weights=weights, minlength=len(m.targets))
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = np.abs(sums - m.targets) / np.where(m.targets > 0, m.targets, 1.0)
        k = int(np.argmax(gap))
        if gap[k] > worst[0]:
            worst = (float(gap[k]), m, k)
    return worst


def rake(
    design: SurveyDesign,
    margins: Sequence[pd.Series],
    epsilon: float = 1e-7,
    max_iter: int = 50,
    bounds: tuple[float, float] | None = None,
) -> SurveyDesign:
    """Rake (iterative proportional fitting) the weights to several population margins.

    Estimand of the returned design: estimates whose weighted margin totals equal the
    population margins. Variances use residuals from the weighted regression on all
    margin indicators (the limit of R ``rake``'s backfitting).

    Parameters
    ----------
    design : SurveyDesign
    margins : list of Series
        Population totals per category of one column (``index.name``) or of a
        combination of columns (MultiIndex ``names``). All margins should sum to
        the same population size.
    epsilon : float
        Convergence: every weighted margin total within ``epsilon`` (relative) of
        its population total.
    max_iter : int
        Maximum number of sweeps over the margins.
    bounds : (low, high), optional
        Bounds on the adjustment ``w_new / w_design`` (trimmed raking).

    Returns
    -------
    SurveyDesign

    Raises
    ------
    WeightingError
        A category has no respondents, a sample category has no population total,
        or raking does not converge (naming the margin and category furthest off).
    """
    if not margins:
        raise WeightingError("rake needs at least one margin")
    base = design.weights
    matched = [matched_margin(design.data, m, base) for m in margins]
    weights = base.copy()
    for _ in range(max_iter):
        for m in matched:
            sums = np.bincount(m.codes, weights=weights, minlength=len(m.targets))
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = np.where(sums > 0, m.targets / sums, 0.0)
            weights = weights * factor[m.codes]
            if bounds is not None:
                weights = np.clip(weights, bounds[0] * base, bounds[1] * base)
        gap, margin, k = _worst(matched, weights)
        if gap < epsilon:
            return design.calibrated(weights, [(m.codes, len(m.targets)) for m in matched])
    raise WeightingError(
        f"raking did not converge in {max_iter} sweeps: margin `{margin.name}`, category "
        f"{margin.labels[k]!r} is still {gap:.2e} (relative) off its population total"
        + (
            "; widen the bounds or collapse categories"
            if bounds is not None
            else "; check that the margins sum to the same total or collapse sparse categories"
        )
    )


def weight_summary(weights: np.ndarray | pd.Series | SurveyDesign) -> dict[str, float]:
    """Kish summary of a set of weights.

    Returns
    -------
    dict
        ``n`` (respondents), ``sum_weights``, ``effective_n``
        (``(sum w)^2 / sum w^2``) and ``kish_deff`` (``n / effective_n``
        ``= 1 + cv(w)^2``, the design effect due to unequal weighting).
    """
    w = np.asarray(getattr(weights, "weights", weights), dtype=float)
    if w.ndim != 1 or np.isnan(w).any():
        raise WeightingError("weights must be a one-dimensional array without missing values")
    total, square = float(w.sum()), float(np.square(w).sum())
    effective = total**2 / square if square > 0 else float("nan")
    return {"n": int(w.size), "sum_weights": total, "effective_n": effective, "kish_deff": w.size / effective}


def capped_cell_weights(
    data: pd.DataFrame, population: pd.Series, bounds: tuple[float, float] = (0.2, 5.0)
) -> pd.Series:
    """Cell weights capped to ``bounds`` and rescaled to mean 1 (Norwegian Citizen Panel style).

    The raw weight of a respondent in cell ``c`` (e.g. age x gender x education x
    region) is ``r_c = P_c / s_c``, the population share over the (unweighted)
    sample share of the cell. The final weight is ``clip(k r_c, low, high)`` with
    the constant ``k`` chosen so that the weights have mean 1: capped and rescaled
    at once (the fixed point of repeated capping and rescaling). Estimand of a
    weighted mean: the population mean if, within cells, respondents resemble the
    population (up to the capping).

    Parameters
    ----------
    data : DataFrame
    population : Series
        Population count or share of each cell, indexed by a MultiIndex (or Index)
        whose names are the cell columns.
    bounds : (low, high)
        Limits on the weights, relative to mean 1.

    Returns
    -------
    Series
        Weights aligned with ``data.index`` (mean 1, sum = number of respondents).

    Raises
    ------
    WeightingError
        A cell has no respondents (collapse cells) or a respondent's cell is missing
        from ``population``.
    """
    low, high = bounds
    if not 0 < low <= 1 <= high:
        raise WeightingError(f"bounds={bounds}: need 0 < low <= 1 <= high")
    margin = matched_margin(data, population.astype(float), np.ones(len(data)))
    counts = np.bincount(margin.codes, minlength=len(margin.targets))
    ratio = (margin.targets / margin.targets.sum()) / (counts / counts.sum())
    raw = ratio[margin.codes]

    def excess_mean(k: float) -> float:
        return float(np.clip(k * raw, low, high).mean() - 1.0)

    k = optimize.brentq(excess_mean, low / raw.max(), high / raw.min(), xtol=1e-14, rtol=1e-15)
    weights = np.clip(k * raw, low, high)
    return pd.Series(weights / weights.mean(), index=data.index, name="weight")
