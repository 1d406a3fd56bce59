"""Domain means, totals, ratios and proportions with linearisation standard errors.

Every estimator here is a ratio of weighted domain totals,
``theta_d = sum_{i in d} w_i a_i / sum_{i in d} w_i b_i`` (``b = 1`` for means,
no denominator for totals). Its influence value is
``z_i = 1[i in d] w_i (a_i - theta_d b_i) / sum_{i in d} w_i b_i``; unit totals
of ``z`` are formed with ``numpy.bincount`` over the (unit, domain) pairs that
occur, so all domains of a variable cost a few passes over the data whatever the
number of domains x units: each row is in at most one domain, and the variance
of every domain comes from pair and (stratum, domain) sums
(:func:`variance.sparse_stage_variance`). Calibrated designs and domain
covariances use the dense (unit x domain) score matrix. Domains are estimated
on the full design (R ``svyby``); missing values are dropped per variable, which
is the same domain estimation (R ``na.rm = TRUE``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from evaluation.errors import EstimationError
from evaluation.survey.domains import Domains
from evaluation.survey.gram import block_gram
from evaluation.survey.intervals import proportion_interval, t_interval
from evaluation.survey.likelihood import likelihood_interval
from evaluation.survey.variance import Stage, StagePairs, sparse_stage_variance

if TYPE_CHECKING:
    from evaluation.survey.design import SurveyDesign

DEFF_REFERENCES = ("srswor", "srswr")


@dataclass(frozen=True)
class DomainKeys:
    """Row keys ``unit * n_domains + domain`` for every stage (computed once per ``by``).

    ``pairs`` (the (unit, domain) pairs of every stage, for the sparse variance)
    are built on first use and kept in ``cache``.
    """

    domains: Domains
    dom: np.ndarray
    stage_keys: tuple[np.ndarray, ...]
    cache: dict = field(default_factory=dict, compare=False, repr=False)

    def pairs(self, stages: Sequence[Stage]) -> tuple[StagePairs, ...]:
        """(unit, domain) pairs of every stage."""
        if "pairs" not in self.cache:
            n_dom = self.domains.n_domains
            self.cache["pairs"] = tuple(StagePairs.build(stage, self.dom, n_dom) for stage in stages)
        return self.cache["pairs"]


def make_keys(stages: Sequence[Stage], domains: Domains) -> DomainKeys:
    """Domain keys of ``domains`` for the sampling ``stages``."""
    dom = np.maximum(domains.codes, 0)
    return DomainKeys(domains, dom, tuple(s.unit * domains.n_domains + dom for s in stages))


def subset_keys(stages: Sequence[Stage], keys: DomainKeys, chosen: Sequence[int]) -> DomainKeys:
    """Keys of the domains ``chosen`` (codes of ``keys``) only; other rows belong to no domain.

    Every domain statistic depends only on the rows of its domain, so estimates and
    (co)variances of the chosen domains are unchanged.
    """
    lookup = np.full(keys.domains.n_domains + 1, -1, dtype=np.int64)
    lookup[np.asarray(chosen)] = np.arange(len(chosen))
    codes = lookup[keys.domains.codes]  # code -1 reads the last entry, -1
    labels = keys.domains.labels.iloc[list(chosen)].reset_index(drop=True)
    return make_keys(stages, Domains(codes, labels))


@dataclass(frozen=True)
class DomainStatistic:
    """Estimates of one statistic in every domain, with what the outputs need.

    Attributes
    ----------
    estimate, n, weight_sum, unit_variance : ndarray, shape (n_domains,)
        Estimate, unweighted count of non-missing rows, sum of weights, and the
        weighted variance (R ``svyvar``) of the linearised variable
        ``(a_i - theta_d b_i) / sum_d w b`` (``a_i`` for totals).
    design_variance : ndarray, shape (n_domains,)
        Design variance of each estimate (0 for empty domains).
    scores : ndarray, shape (n_score_rows, n_domains), or None
        Dense score matrix (``scores.T @ scores`` is the covariance of the
        estimates); only kept when the covariance was asked for.
    """

    estimate: np.ndarray
    n: np.ndarray
    weight_sum: np.ndarray
    unit_variance: np.ndarray
    design_variance: np.ndarray
    scores: np.ndarray | None = None

    @property
    def variance(self) -> np.ndarray:
        """Design variance (NaN where the estimate is undefined, e.g. an empty domain)."""
        return np.where(np.isfinite(self.estimate), self.design_variance, np.nan)

    @property
    def covariance(self) -> np.ndarray:
        if self.scores is None:
            raise EstimationError("domain covariances need domain_statistic(..., covariance=True)")
        return self.scores.T @ self.scores


def column(design: SurveyDesign, name: str) -> np.ndarray:
    """A data column as float (missing as NaN); EstimationError if absent or not numeric."""
    if name not in design.data.columns:
        raise EstimationError(f"variable `{name}` not in the survey data")
    try:
        return design.data[name].to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise EstimationError(
            f"variable `{name}` is not numeric ({design.data[name].dtype}); use proportion() for categorical variables"
        ) from exc


def level_codes(design: SurveyDesign, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Codes of a column's values among its sorted levels (-1 where missing) and the levels (cached per design)."""
    if name not in design.data.columns:
        raise EstimationError(f"column `{name}` not in the survey data")
    domains = design.domain_keys([name]).domains
    return domains.codes, domains.labels[name].to_numpy()


def level_code(levels: np.ndarray, value: object) -> int:
    """The code of ``value`` among ``levels`` (-2, which no row has, if absent)."""
    found = np.flatnonzero(levels == value)
    return int(found[0]) if found.size else -2


def _sum_by(keys: DomainKeys, values: np.ndarray) -> np.ndarray:
    return np.bincount(keys.dom, weights=values, minlength=keys.domains.n_domains)


def _unit_totals(
    design: SurveyDesign, keys: DomainKeys, a: np.ndarray, b: np.ndarray | None, coef: np.ndarray, inverse: np.ndarray
) -> list[np.ndarray]:
    """Per stage, (unit x domain) totals of the influence ``1[d] (a - coef_d b) inverse_d``."""
    n_dom = keys.domains.n_domains
    totals = []
    for stage, key in zip(design.linearization.stages, keys.stage_keys):
        size = stage.n_units * n_dom
        t = np.bincount(key, weights=a, minlength=size).reshape(stage.n_units, n_dom)
        if b is not None:
            t = t - coef * np.bincount(key, weights=b, minlength=size).reshape(stage.n_units, n_dom)
        totals.append(t * inverse)
    return totals


def _category_totals(
    design: SurveyDesign, keys: DomainKeys, a: np.ndarray, b: np.ndarray | None, coef: np.ndarray, inverse: np.ndarray
) -> np.ndarray | None:
    """``X' D e`` of the influence for the calibration margins (None for uncalibrated designs)."""
    cal = design.linearization.calibration
    if cal is None:
        return None
    n_dom = keys.domains.n_domains
    cat = cal.category_totals(a, keys.dom, n_dom)
    if b is not None:
        cat = cat - coef * cal.category_totals(b, keys.dom, n_dom)
    return cat * inverse


def _strata_present(design: SurveyDesign, keys: DomainKeys, ok_float: np.ndarray) -> np.ndarray | None:
    """Strata with respondents in each domain (only needed for ``lonely_psu="average"``)."""
    first = design.linearization.stages[0]
    if first.averaged is None:
        return None
    n_dom = keys.domains.n_domains
    key = first.group[first.unit] * n_dom + keys.dom
    return np.bincount(key, weights=ok_float, minlength=first.n_groups * n_dom).reshape(first.n_groups, n_dom) > 0


def _unit_variance(
    keys: DomainKeys, linear: np.ndarray, w: np.ndarray, ok: np.ndarray, weight_sum: np.ndarray, n: np.ndarray
) -> np.ndarray:
    """Weighted variance ``n / (n - 1) sum w (x - xbar)^2 / sum w`` per domain (R ``svyvar``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = np.nan_to_num(_sum_by(keys, w * linear) / weight_sum)
        resid = np.where(ok, linear - centre[keys.dom], 0.0)
        return _sum_by(keys, w * resid**2) / weight_sum * n / (n - 1)


def _sparse_variance(
    design: SurveyDesign,
    keys: DomainKeys,
    a: np.ndarray,
    b: np.ndarray | None,
    coef: np.ndarray,
    inverse: np.ndarray,
    ok_float: np.ndarray,
) -> np.ndarray:
    """Design variance per domain from (unit, domain) pair totals (uncalibrated designs).

    Cost O(n_rows) per statistic after the pairs are built (once per ``by``).
    """
    n_dom = keys.domains.n_domains
    stages = design.linearization.stages
    variance = np.zeros(n_dom)
    for index, (stage, pairs) in enumerate(zip(stages, keys.pairs(stages))):
        t = pairs.totals(a)
        if b is not None:
            t = t - coef[pairs.pair_domain] * pairs.totals(b)
        t = t * inverse[pairs.pair_domain]
        present = None
        if index == 0 and stage.averaged is not None:
            present = (
                np.bincount(pairs.pair_cell[pairs.pair_of_row], weights=ok_float, minlength=pairs.cell_group.shape[0])
                > 0
            )
        variance += sparse_stage_variance(stage, pairs, t, n_dom, present)
    return variance


def _sparse_calibrated_variance(
    design: SurveyDesign, keys: DomainKeys, a: np.ndarray, b: np.ndarray | None, coef: np.ndarray, inverse: np.ndarray
) -> np.ndarray:
    """Design variance per domain of a calibrated design, without the dense unit x domain totals.

    The calibrated unit totals ``t_ud - (U W X beta)_ud`` are non-zero on the
    (unit, domain) pairs with rows plus the units that share a calibration block
    (e.g. a survey wave) with the domain's rows; they are summed as a sparse
    matrix and go through :func:`sparse_stage_variance` like uncalibrated pair
    totals.
    """
    n_dom = keys.domains.n_domains
    cal = design.linearization.calibration
    influence = a if b is None else a - coef[keys.dom] * b
    influence = influence * inverse[keys.dom]
    variance = _gram_variance(design, keys, influence)
    if variance is not None:
        return variance
    beta = cal.projector @ cal.category_domain_totals(influence * cal.row_factor, keys.dom, n_dom)  # n_cat x n_dom
    variance = np.zeros(n_dom)
    for index, (stage, pairs) in enumerate(zip(design.linearization.stages, keys.pairs(design.linearization.stages))):
        pair_unit = np.zeros(pairs.n_pairs, dtype=np.int64)
        pair_unit[pairs.pair_of_row] = stage.unit
        own = sp.csr_matrix((pairs.totals(influence), (pair_unit, pairs.pair_domain)), shape=(stage.n_units, n_dom))
        totals = (own - cal.unit_weight_totals[index] @ beta).tocoo()
        adjusted = StagePairs.of_pairs(stage, totals.row.astype(np.int64), totals.col.astype(np.int64), n_dom)
        variance += sparse_stage_variance(stage, adjusted, totals.data, n_dom)
    return variance


def _gram_variance(design: SurveyDesign, keys: DomainKeys, influence: np.ndarray) -> np.ndarray | None:
    """The calibrated domain variance from within-block Gram matrices (:mod:`evaluation.survey.gram`), if it applies."""
    linearization = design.linearization
    gram = block_gram(linearization)
    if gram is None:
        return None
    stages = linearization.stages
    cached = keys.cache.get("block_layout")
    if cached is None or cached[0] is not gram:  # keys are shared by the copies of a design
        layout = gram.layout(linearization.calibration, stages, keys.domains.codes, keys.dom, keys.domains.n_domains)
        keys.cache["block_layout"] = cached = (gram, layout)
    layout = cached[1]
    if layout is None:
        return None
    return gram.variance(linearization.calibration, stages, keys.pairs(stages), layout, influence)


def domain_statistic(
    design: SurveyDesign,
    keys: DomainKeys,
    numer: np.ndarray,
    denom: np.ndarray | None,
    ok: np.ndarray,
    covariance: bool = False,
    dense: bool | None = None,
) -> DomainStatistic:
    """Ratio (or total when ``denom`` is None) of weighted domain totals, with its variance.

    Estimand: ``sum_{i in d} w_i a_i / sum_{i in d} w_i b_i`` (``sum_{i in d} w_i a_i``).

    Parameters
    ----------
    numer, denom : ndarray
        Row values ``a_i`` and ``b_i`` (NaN allowed where ``ok`` is False).
    ok : ndarray of bool
        Rows that count: in some domain and non-missing.
    covariance : bool
        Keep the dense score matrix (n_units x n_domains) for domain covariances.
    dense : bool, optional
        Force the dense (True) or sparse (False) variance; by default sparse unless
        the design is calibrated. ``covariance=True`` always uses the dense one.
        Both give the same numbers up to rounding.
    """
    n_dom = keys.domains.n_domains
    ok_float = ok.astype(float)
    n = _sum_by(keys, ok_float)
    w = design.weights * ok_float
    a = w * np.where(ok, numer, 0.0)
    b = None if denom is None else w * np.where(ok, denom, 0.0)
    weight_sum = _sum_by(keys, w)
    with np.errstate(divide="ignore", invalid="ignore"):
        if b is None:
            estimate, coef, inverse = np.where(n > 0, _sum_by(keys, a), np.nan), np.zeros(n_dom), np.ones(n_dom)
        else:
            b_sum = _sum_by(keys, b)
            estimate = _sum_by(keys, a) / b_sum
            coef, inverse = np.nan_to_num(estimate), np.where(b_sum != 0, 1.0 / b_sum, 0.0)
    calibrated = design.linearization.calibration is not None
    if dense is None:  # the sparse calibrated variance does not handle lonely_psu="average"
        dense = calibrated and design.linearization.stages[0].averaged is not None
    dense = dense or covariance
    if not dense and calibrated and design.linearization.stages[0].averaged is not None:
        raise EstimationError("the sparse domain variance of a calibrated design does not handle lonely_psu='average'")
    scores = None
    if dense:
        scores = np.nan_to_num(
            design.linearization.scores(
                _unit_totals(design, keys, a, b, coef, inverse),
                _category_totals(design, keys, a, b, coef, inverse),
                _strata_present(design, keys, ok_float),
            )
        )
        variance = np.einsum("ij,ij->j", scores, scores)
    elif calibrated:
        variance = _sparse_calibrated_variance(design, keys, a, b, coef, inverse)
    else:
        variance = _sparse_variance(design, keys, a, b, coef, inverse, ok_float)
    linear = numer if denom is None else numer - coef[keys.dom] * denom
    linear = np.where(ok, linear * inverse[keys.dom], 0.0)
    unit_variance = _unit_variance(keys, linear, w, ok, weight_sum, n)
    return DomainStatistic(estimate, n, weight_sum, unit_variance, variance, scores if covariance else None)


def design_effect(stat: DomainStatistic, reference: str) -> np.ndarray:
    """Design effect: design variance over the variance under simple random sampling of the same size.

    ``reference="srswor"`` is R ``deff = TRUE`` (without replacement from a population
    of size ``sum(w)``); ``"srswr"`` is R ``deff = "replace"``. The SRS variance of
    the linearised variable's total is ``svyvar * N^2 / n`` (times ``(N - n) / N``).
    """
    if reference not in DEFF_REFERENCES:
        raise EstimationError(f"deff_reference={reference!r}; use one of {DEFF_REFERENCES}")
    n, big_n = stat.n, stat.weight_sum
    with np.errstate(divide="ignore", invalid="ignore"):
        srs = stat.unit_variance * big_n**2 / n
        if reference == "srswor":
            srs = np.where(big_n >= n, srs * (big_n - n) / big_n, np.nan)
        return stat.variance / srs


def tidy_frame(
    labels: pd.DataFrame,
    variable: str,
    estimate: np.ndarray,
    se: np.ndarray,
    n: np.ndarray,
    deff: np.ndarray,
    df: float | np.ndarray,
    level: float,
) -> pd.DataFrame:
    """The tidy result rows of one variable: variable, by columns, estimate, se, ci, n, deff, df.

    ``df`` is one number for all domains or one per domain.
    """
    df = np.broadcast_to(np.asarray(df, dtype=float), (len(labels),))
    low, high = t_interval(estimate, se, level, df)
    columns = {"variable": np.full(len(labels), variable, dtype=object)}
    columns.update({c: labels[c].to_numpy() for c in labels.columns})
    columns.update(
        {
            "estimate": estimate,
            "se": se,
            "ci_low": low,
            "ci_high": high,
            "n": n.astype(np.int64),
            "deff": deff,
            "df": df,
        }
    )
    return pd.DataFrame(columns)


def tidy(
    design: SurveyDesign,
    keys: DomainKeys,
    names: Sequence[str],
    stats: Sequence[DomainStatistic],
    level: float,
    deff_reference: str,
    domain_df: bool,
) -> pd.DataFrame:
    """One row per statistic x domain (see :func:`tidy_frame`).

    With ``domain_df`` each domain's interval uses its own degrees of freedom
    (:meth:`SurveyDesign.domain_df`), otherwise the design's.
    """
    df = design.domain_df(keys) if domain_df else design.df
    frames = [
        tidy_frame(
            keys.domains.labels,
            name,
            stat.estimate,
            np.sqrt(stat.variance),
            stat.n,
            design_effect(stat, deff_reference),
            df,
            level,
        )
        for name, stat in zip(names, stats)
    ]
    return pd.concat(frames, ignore_index=True)


def _per_variable(
    design: SurveyDesign,
    variables: Sequence[str],
    by: Sequence[str] | None,
    level: float,
    deff_reference: str,
    domain_df: bool,
    mean: bool,
) -> pd.DataFrame:
    """Domain means (``mean=True``) or totals of each variable, missing values dropped per variable."""
    keys = design.domain_keys(by)
    stats = []
    for name in variables:
        y = column(design, name)
        ok = keys.domains.valid & ~np.isnan(y)
        stats.append(domain_statistic(design, keys, y, np.ones_like(y) if mean else None, ok))
    return tidy(design, keys, variables, stats, level, deff_reference, domain_df)


def means(
    design: SurveyDesign,
    variables: Sequence[str],
    by: Sequence[str] | None,
    level: float,
    deff_reference: str,
    domain_df: bool,
) -> pd.DataFrame:
    """Domain means ``sum_d w y / sum_d w`` of each variable (see SurveyDesign.mean)."""
    return _per_variable(design, variables, by, level, deff_reference, domain_df, mean=True)


def totals(
    design: SurveyDesign,
    variables: Sequence[str],
    by: Sequence[str] | None,
    level: float,
    deff_reference: str,
    domain_df: bool,
) -> pd.DataFrame:
    """Domain totals ``sum_d w y`` of each variable (see SurveyDesign.total)."""
    return _per_variable(design, variables, by, level, deff_reference, domain_df, mean=False)


def ratios(
    design: SurveyDesign,
    numerator: str,
    denominator: str,
    by: Sequence[str] | None,
    level: float,
    deff_reference: str,
    domain_df: bool,
) -> pd.DataFrame:
    """Domain ratios ``sum_d w y / sum_d w x`` (see SurveyDesign.ratio)."""
    keys = design.domain_keys(by)
    y, x = column(design, numerator), column(design, denominator)
    ok = keys.domains.valid & ~np.isnan(y) & ~np.isnan(x)
    stat = domain_statistic(design, keys, y, x, ok)
    return tidy(design, keys, [f"{numerator}/{denominator}"], [stat], level, deff_reference, domain_df)


def proportions(
    design: SurveyDesign,
    variable: str,
    by: Sequence[str] | None,
    level: float,
    ci_method: str,
    deff_reference: str,
    domain_df: bool,
    categories: Sequence | None = None,
) -> pd.DataFrame:
    """Shares of each category of ``variable`` (or of ``categories`` only) in each domain (see SurveyDesign.proportion)."""
    if variable not in design.data.columns:
        raise EstimationError(f"variable `{variable}` not in the survey data")
    keys = design.domain_keys(by)
    codes, present = pd.factorize(design.data[variable], sort=True)
    code_of = {category: k for k, category in enumerate(present)}
    if categories is None:
        categories = list(present)
    elif not categories:
        raise EstimationError(f"proportion of `{variable}`: no categories asked for")
    ok = keys.domains.valid & (codes >= 0)
    # R's beta interval uses nrow(design) of each domain's design: its rows, missing values included
    # (a calibrated design keeps every row)
    if design.linearization.calibration is not None:
        n_rows = np.full(keys.domains.n_domains, float(len(design.data)))
    else:
        n_rows = np.bincount(keys.dom, weights=keys.domains.valid.astype(float), minlength=keys.domains.n_domains)
    frames = []
    for category in categories:
        k = code_of.get(category, -2)  # a category nobody chose has share 0 (no code is -2)
        indicator = (codes == k).astype(float)
        stat = domain_statistic(design, keys, indicator, np.ones_like(indicator), ok)
        frame = tidy(design, keys, [variable], [stat], level, deff_reference, domain_df)
        frame.insert(1 + len(keys.domains.labels.columns), "category", category)
        frame["n_category"] = np.bincount(
            keys.dom, weights=(ok & (codes == k)).astype(float), minlength=keys.domains.n_domains
        ).astype(np.int64)
        if ci_method == "likelihood":
            frame["ci_low"], frame["ci_high"] = _likelihood_intervals(
                design, keys, indicator, codes >= 0, level, frame["df"].to_numpy()
            )
        else:
            frame["ci_low"], frame["ci_high"] = proportion_interval(
                frame["estimate"].to_numpy(),
                frame["se"].to_numpy(),
                n_rows,
                level,
                frame["df"].to_numpy(),
                ci_method,
            )
        frames.append(frame)
    if not frames:
        raise EstimationError(f"variable `{variable}` has no non-missing values")
    out = pd.concat(frames, ignore_index=True)
    order = [*keys.domains.labels.columns, "category"]
    return out.sort_values(order, kind="stable", key=category_sort_key).reset_index(drop=True)


def _likelihood_intervals(
    design: SurveyDesign, keys: DomainKeys, indicator: np.ndarray, ok: np.ndarray, level: float, df: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Profile-likelihood interval in every domain, each fitted on the domain's subset design (as R ``svyby``).

    NaN where the domain has no respondents or a share of 0 or 1 (the logistic
    fit has no finite maximum; R's fit does not converge there).
    """
    low, high = np.full(keys.domains.n_domains, np.nan), np.full(keys.domains.n_domains, np.nan)
    for d in range(keys.domains.n_domains):
        rows = keys.domains.codes == d
        values = indicator[rows & ok & (design.weights > 0)]
        if values.size and values.min() < values.max():
            low[d], high[d] = likelihood_interval(design.subset(rows), indicator, ok, level, df[d])
    return low, high


def category_sort_key(values: pd.Series) -> pd.Series:
    """Sort key of a column of labels: their rank in sorted order (mixed types sort as pandas factorize)."""
    return pd.Series(pd.factorize(values, sort=True)[0], index=values.index)
