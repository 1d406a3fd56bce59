"""Replicate-weight designs: jackknife (JK1, JKn), rescaled bootstrap, or supplied weights (R ``svrepdesign``).

The variance of an estimate ``theta`` is
``scale * sum_r rscale_r (theta_r - centre)^2`` where ``theta_r`` uses the
``r``-th replicate weights and ``centre`` is the mean of the replicates (or the
full-sample estimate when ``mse=True``), as R ``svrVar``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.special import expit

from evaluation.errors import DesignError, EstimationError
from evaluation.survey import replicate_gaps
from evaluation.survey.domains import Domains, make_domains
from evaluation.survey.estimators import category_sort_key, tidy_frame
from evaluation.survey.intervals import proportion_interval, t_quantile
from evaluation.survey.irls import fit_glm

if TYPE_CHECKING:
    from evaluation.survey.design import SurveyDesign


class ReplicateDesign:
    """A sample with full-sample and replicate weights.

    Parameters
    ----------
    data : DataFrame
    weights : str or ndarray
        Full-sample weights (column name or array).
    replicate_weights : list of str or ndarray of shape (n_rows, n_replicates)
        Replicate weights (analysis weights, not multipliers).
    scale : float
        Overall variance multiplier (e.g. ``(n - 1) / n`` for JK1).
    rscales : ndarray, optional
        Per-replicate multipliers (default 1).
    mse : bool
        Centre the replicates at the full-sample estimate instead of their mean.
    df : float, optional
        Degrees of freedom for intervals; default rank of the replicate weights minus 1
        (R ``degf``). Domain intervals use each domain's own (:meth:`domain_df`).
    """

    def __init__(
        self,
        data: pd.DataFrame,
        weights: str | np.ndarray,
        replicate_weights: Sequence[str] | np.ndarray,
        scale: float,
        rscales: np.ndarray | None = None,
        mse: bool = False,
        df: float | None = None,
    ) -> None:
        self.data = data
        self.weights = np.asarray(data[weights] if isinstance(weights, str) else weights, dtype=float)
        if isinstance(replicate_weights, np.ndarray):
            rep = np.asarray(replicate_weights, dtype=float)
        else:
            rep = data[list(replicate_weights)].to_numpy(dtype=float)
        if rep.ndim != 2 or rep.shape[0] != len(data) or self.weights.shape[0] != len(data):
            raise DesignError(f"replicate weights must have one row per respondent ({len(data)}); got {rep.shape}")
        if np.isnan(rep).any() or np.isnan(self.weights).any():
            raise DesignError("replicate or full-sample weights contain missing values")
        self.replicate_weights = rep
        self.scale = float(scale)
        self.rscales = np.ones(rep.shape[1]) if rscales is None else np.asarray(rscales, dtype=float)
        self.mse = mse
        self.df = float(df) if df is not None else float(np.linalg.matrix_rank(np.unique(rep, axis=0)) - 1)

    def __repr__(self) -> str:
        return f"ReplicateDesign(n={len(self.data)}, replicates={self.replicate_weights.shape[1]}, df={self.df:g})"

    def _variance(self, full: np.ndarray, replicates: np.ndarray) -> np.ndarray:
        """Replicate variance of estimates; ``replicates`` has shape (n_replicates, k)."""
        if self.mse:
            centre = full
        else:
            centre = replicates[self.rscales > 0].mean(axis=0)
        return self.scale * np.einsum("r,rk->k", self.rscales, (replicates - centre) ** 2)

    def covariance(self, full: np.ndarray, replicates: np.ndarray) -> np.ndarray:
        """Replicate covariance matrix of a vector of estimates (R ``svrVar``); ``replicates`` (n_replicates, k)."""
        centre = full if self.mse else replicates[self.rscales > 0].mean(axis=0)
        deviations = (replicates - centre) * np.sqrt(self.rscales)[:, None]
        return self.scale * deviations.T @ deviations

    def domain_df(self, domains: Domains) -> np.ndarray:
        """Degrees of freedom of each domain: rank of its rows' replicate weights minus 1.

        R ``degf(design[domain, ])``: subsetting a replicate design recomputes
        ``degf`` as the rank of the remaining analysis weights minus one.
        """
        out = np.zeros(domains.n_domains)
        for d in range(domains.n_domains):
            rows = domains.codes == d
            if rows.any():
                out[d] = self.rows_df(rows)
        return out

    def rows_df(self, rows: np.ndarray) -> float:
        """Degrees of freedom of the design restricted to ``rows`` (R ``degf`` of that subset)."""
        return float(np.linalg.matrix_rank(np.unique(self.replicate_weights[rows], axis=0)) - 1)

    def mean_differences(
        self, variable: str, by: Sequence[str], group: str, a: object, b: object, level: float = 0.95
    ) -> pd.DataFrame:
        """``mean_a - mean_b`` in every domain of ``by`` (as :meth:`SurveyDesign.mean_differences`), replicate SEs."""
        return replicate_gaps.mean_differences(self, variable, list(by), group, a, b, level)

    def adjusted_differences(
        self,
        variable: str,
        by: Sequence[str],
        group: str,
        a: object,
        b: object,
        covariates: Sequence[str],
        level: float = 0.95,
    ) -> pd.DataFrame:
        """``a - b`` net of categorical ``covariates`` in every domain of ``by`` (one replicate svyglm per domain)."""
        return replicate_gaps.adjusted_differences(self, variable, list(by), group, a, b, list(covariates), level)

    def _df(self, domains: Domains, by: Sequence[str] | None, domain_df: bool) -> float | np.ndarray:
        return self.domain_df(domains) if by and domain_df else self.df

    def _domain_sums(self, dom: np.ndarray, n_dom: int, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Domain sums of ``w * values`` for the full-sample and every replicate weight."""
        full = np.bincount(dom, weights=self.weights * values, minlength=n_dom)
        rep = np.stack(
            [
                np.bincount(dom, weights=self.replicate_weights[:, r] * values, minlength=n_dom)
                for r in range(self.replicate_weights.shape[1])
            ]
        )
        return full, rep

    def _column(self, name: str) -> np.ndarray:
        if name not in self.data.columns:
            raise EstimationError(f"variable `{name}` not in the survey data")
        return self.data[name].to_numpy(dtype=float, na_value=np.nan)

    def _ratio_frame(
        self,
        name: str,
        numer: np.ndarray,
        denom: np.ndarray | None,
        by: Sequence[str] | None,
        level: float,
        domain_df: bool,
    ) -> pd.DataFrame:
        domains = make_domains(self.data, by)
        ok = domains.valid & ~np.isnan(numer) & (np.ones_like(numer, bool) if denom is None else ~np.isnan(denom))
        dom = np.maximum(domains.codes, 0)
        top_full, top_rep = self._domain_sums(dom, domains.n_domains, np.where(ok, numer, 0.0))
        if denom is None:
            est, reps = top_full, top_rep
        else:
            bottom_full, bottom_rep = self._domain_sums(dom, domains.n_domains, np.where(ok, denom, 0.0))
            with np.errstate(divide="ignore", invalid="ignore"):
                est, reps = top_full / bottom_full, top_rep / bottom_rep
        se = np.sqrt(self._variance(est, reps))
        n = np.bincount(dom, weights=ok.astype(float), minlength=domains.n_domains)
        df = self._df(domains, by, domain_df)
        return tidy_frame(domains.labels, name, est, se, n, np.full(domains.n_domains, np.nan), df, level)

    def mean(
        self, variables: Sequence[str], by: Sequence[str] | None = None, level: float = 0.95, domain_df: bool = True
    ) -> pd.DataFrame:
        """Domain means ``sum_d w y / sum_d w`` with replicate standard errors (columns as SurveyDesign.mean; deff NaN).

        With ``domain_df`` each domain's interval uses :meth:`domain_df`, otherwise the design's ``df``.
        """
        frames = []
        for name in [variables] if isinstance(variables, str) else variables:
            y = self._column(name)
            frames.append(self._ratio_frame(name, y, np.ones_like(y), by, level, domain_df))
        return pd.concat(frames, ignore_index=True)

    def total(
        self, variables: Sequence[str], by: Sequence[str] | None = None, level: float = 0.95, domain_df: bool = True
    ) -> pd.DataFrame:
        """Domain totals ``sum_d w y`` with replicate standard errors."""
        frames = [
            self._ratio_frame(name, self._column(name), None, by, level, domain_df)
            for name in ([variables] if isinstance(variables, str) else variables)
        ]
        return pd.concat(frames, ignore_index=True)

    def ratio(
        self,
        numerator: str,
        denominator: str,
        by: Sequence[str] | None = None,
        level: float = 0.95,
        domain_df: bool = True,
    ) -> pd.DataFrame:
        """Domain ratios ``sum_d w y / sum_d w x`` with replicate standard errors."""
        return self._ratio_frame(
            f"{numerator}/{denominator}", self._column(numerator), self._column(denominator), by, level, domain_df
        )

    def proportion(
        self,
        variable: str,
        by: Sequence[str] | None = None,
        level: float = 0.95,
        ci_method: str = "logit",
        domain_df: bool = True,
        categories: Sequence[object] | None = None,
    ) -> pd.DataFrame:
        """Share of each category of ``variable`` (or of those in ``categories``) per domain, with replicate SEs.

        Columns as :meth:`SurveyDesign.proportion` (``deff`` NaN). ``ci_method`` as
        there except ``likelihood``; ``logit`` is R ``svyciprop`` on a replicate
        design: the intercept of ``svyglm(y ~ 1, quasibinomial)`` refitted with
        every replicate weight (the same IRLS iterations as R), its replicate
        variance, and the Wald interval on the logit scale, on the domain's df.
        """
        if ci_method == "likelihood":
            raise EstimationError("ci_method='likelihood' is not available for replicate designs")
        if variable not in self.data.columns:
            raise EstimationError(f"variable `{variable}` not in the survey data")
        codes, levels = pd.factorize(self.data[variable], sort=True)
        if not len(levels):
            raise EstimationError(f"variable `{variable}` has no non-missing values")
        domains = make_domains(self.data, by)
        dom = np.maximum(domains.codes, 0)
        ok = domains.valid & (codes >= 0)
        df = np.broadcast_to(np.asarray(self._df(domains, by, domain_df), dtype=float), (domains.n_domains,))
        n_rows = np.bincount(dom, weights=domains.valid.astype(float), minlength=domains.n_domains)  # R nrow(design)
        frames = []
        for k, category in enumerate(levels):
            if categories is not None and category not in categories:
                continue
            indicator = np.where(codes >= 0, (codes == k).astype(float), np.nan)
            frame = self._ratio_frame(variable, indicator, np.ones_like(indicator), by, level, domain_df)
            frame.insert(1 + len(domains.labels.columns), "category", category)
            frame["n_category"] = np.bincount(dom, weights=(ok & (codes == k)).astype(float), minlength=len(df))
            frame["n_category"] = frame["n_category"].astype(np.int64)
            if ci_method == "logit":
                low, high = self._logit_intervals(domains, indicator, ok, level, df)
            else:
                low, high = proportion_interval(
                    frame["estimate"].to_numpy(), frame["se"].to_numpy(), n_rows, level, df, ci_method
                )
            frame["ci_low"], frame["ci_high"] = low, high
            frames.append(frame)
        out = pd.concat(frames, ignore_index=True)
        order = [*domains.labels.columns, "category"]
        return out.sort_values(order, kind="stable", key=category_sort_key).reset_index(drop=True)

    def _logit_intervals(
        self, domains: Domains, indicator: np.ndarray, ok: np.ndarray, level: float, df: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """R ``svyciprop(method = "logit")`` per domain: replicate refits of the logit intercept.

        A replicate that leaves the domain without weight, or with one answer only, has no finite
        logit, and a fit that does not converge has no usable one: the domain's interval is then
        NaN (R warns and keeps an arbitrary coefficient).
        """
        low, high = np.full(domains.n_domains, np.nan), np.full(domains.n_domains, np.nan)
        for d in range(domains.n_domains):
            rows = domains.codes == d
            used = rows & ok
            y = indicator[used]
            if not used.any() or y.min() == y.max():
                continue  # no respondents, or a share of 0 or 1: the logit interval is undefined
            x = np.ones((y.size, 1))
            fit = fit_glm(x, y, self.weights[used] / self.weights[rows].mean(), "quasibinomial")
            if not fit.converged:
                continue
            betas = np.empty((self.replicate_weights.shape[1], 1))
            for r in range(betas.shape[0]):
                w = self.replicate_weights[used, r]
                weighted = y[w > 0]
                if not weighted.size or weighted.min() == weighted.max():
                    betas[r] = np.nan
                    continue
                refit = fit_glm(x, y, w / w.sum(), "quasibinomial", start=fit.coef)
                betas[r] = refit.coef if refit.converged else np.nan
            half = float(t_quantile(level, df[d])) * np.sqrt(self.covariance(fit.coef, betas)[0, 0])
            low[d], high[d] = expit(fit.coef[0] - half), expit(fit.coef[0] + half)
        return low, high


def _stage1(design: SurveyDesign):
    if design.domain_mask is not None:
        raise DesignError("make replicate weights from the full design, not from a subset design")
    if design.linearization.calibration is not None:
        raise DesignError(
            "replicate weights from a calibrated design would not repeat the calibration; "
            "convert the uncalibrated design"
        )
    return design.linearization.stages[0]


def jackknife(design: SurveyDesign) -> ReplicateDesign:
    """Delete-one-PSU jackknife replicates (JK1 if unstratified, JKn if stratified), as R ``as.svrepdesign``.

    Replicate ``r`` drops PSU ``r`` and multiplies the other PSUs of its stratum by
    ``n_h / (n_h - 1)``; ``rscale_r = (1 - f_h)(n_h - 1) / n_h`` (first-stage fpc
    only). Lonely strata follow ``design.lonely_psu`` as R ``jknweights``.
    """
    stage = _stage1(design)
    w = design.weights
    n_h = stage.n_in_group
    lonely = n_h == 1
    replicates, rscales = [], []
    row_group = stage.group[stage.unit]
    for unit in range(stage.n_units):
        h = stage.group[unit]
        if lonely[h] or stage.fpc_factor[h] == 0:
            continue
        multiplier = np.where(row_group == h, n_h[h] / (n_h[h] - 1), 1.0)
        multiplier[stage.unit == unit] = 0.0
        replicates.append(w * multiplier)
        rscales.append(stage.fpc_factor[h] * (n_h[h] - 1) / n_h[h])
    scale = 1.0
    n_strata = stage.n_groups
    if lonely.any() and design.lonely_psu == "adjust":
        for h in np.flatnonzero(lonely):
            replicates.append(w * np.where(row_group == h, 0.0, n_strata / (n_strata - 1)))
            rscales.append((n_strata - 1) / n_strata)
    elif lonely.any() and design.lonely_psu == "average":
        scale = stage.n_units / len(replicates)
    if not replicates:
        raise DesignError("every stratum is sampled exhaustively or has one PSU: no jackknife replicates")
    if n_strata == 1:  # JK1: R puts the (n-1)/n factor in `scale`
        return ReplicateDesign(
            design.data, w, np.column_stack(replicates), scale=rscales[0], rscales=np.ones(len(rscales)), df=design.df
        )
    return ReplicateDesign(
        design.data, w, np.column_stack(replicates), scale=scale, rscales=np.array(rscales), df=design.df
    )


def bootstrap(design: SurveyDesign, replicates: int, rng: np.random.Generator) -> ReplicateDesign:
    """Rao-Wu rescaled bootstrap of PSUs within strata (``n_h - 1`` draws with replacement).

    Replicate multiplier of PSU ``j`` in stratum ``h``:
    ``1 - lam + lam * n_h / (n_h - 1) * m_j`` with ``m_j`` the times it was drawn and
    ``lam = sqrt(1 - f_h)`` (Rao, Wu and Yue 1992; ``lam = 1`` without fpc, as R
    ``bootweights``). Lonely strata keep multiplier 1. ``scale = 1 / (R - 1)``.

    Parameters
    ----------
    design : SurveyDesign
    replicates : int
    rng : numpy.random.Generator
        Seeded generator (the only source of randomness).
    """
    if replicates < 2:
        raise DesignError("bootstrap needs at least 2 replicates")
    stage = _stage1(design)
    multipliers = np.ones((stage.n_units, replicates))
    for h in range(stage.n_groups):
        units = np.flatnonzero(stage.group == h)
        n = units.size
        if n < 2:
            continue
        lam = np.sqrt(stage.fpc_factor[h])
        draws = rng.integers(0, n, size=(n - 1, replicates))
        counts = np.stack([np.bincount(draws[:, r], minlength=n) for r in range(replicates)], axis=1)
        multipliers[units] = 1 - lam + lam * n / (n - 1) * counts
    rep = design.weights[:, None] * multipliers[stage.unit]
    return ReplicateDesign(design.data, design.weights, rep, scale=1.0 / (replicates - 1), df=design.df)


def brr(design: SurveyDesign, fay_rho: float = 0.0, hadamard: np.ndarray | None = None) -> ReplicateDesign:
    """Balanced repeated replication, or Fay's method with ``fay_rho > 0``, as R ``as.svrepdesign(type = "BRR")``.

    Every stratum must have exactly two PSUs. Stratum ``h`` (in the order of
    the sorted stratum labels) takes row ``h + 1`` of a Hadamard matrix and
    replicate ``r`` its column ``r``: where the entry is ``+1`` the PSU that
    appears first in the data gets the multiplier ``2 - fay_rho`` and the other
    ``fay_rho``, and the other way round where it is ``-1``. The variance is
    ``sum_r (theta_r - mean_r theta_r)^2 / (R (1 - fay_rho)^2)`` (R ``svrVar``).

    Parameters
    ----------
    design : SurveyDesign
        A stratified design, uncalibrated and not a subset; its fpc is not used (as in R).
    fay_rho : float
        Fay's perturbation, ``0 <= fay_rho < 1``; 0 is plain BRR (half-samples).
    hadamard : ndarray, optional
        A Hadamard matrix (entries of two values; the larger is ``+1``) with more
        rows than strata. Default: Sylvester's of the smallest power of two above
        the number of strata, which is R's choice then too; for other sizes R's
        ``hadamard()`` may pick a smaller matrix (pass ``survey:::hadamard(n)`` to
        repeat R). Any choice balances the replicates: the variances of totals agree.

    Raises
    ------
    DesignError
        Without strata, with a stratum of other than two PSUs (naming them), or for an unusable matrix.
    """
    from scipy.linalg import hadamard as sylvester

    if not 0 <= fay_rho < 1:
        raise DesignError(f"fay_rho must be in [0, 1); got {fay_rho}")
    if design.strata is None:
        raise DesignError("BRR needs a stratified design with two PSUs per stratum")
    stage = _stage1(design)
    first_row = _first_rows(stage.unit, stage.group.size)
    unit_label = design.data[design.strata].astype(str).to_numpy()[first_row]  # each PSU's stratum
    if (stage.n_in_group != 2).any():
        wrong = sorted({unit_label[u] for u in np.flatnonzero(stage.n_in_group[stage.group] != 2)})
        raise DesignError(
            f"BRR needs exactly two PSUs in every stratum; stratum(s) {', '.join(wrong[:10])} have "
            "another number (use jackknife or bootstrap replicates instead)"
        )
    n_strata = stage.n_groups
    if hadamard is None:
        matrix = sylvester(1 << n_strata.bit_length()).astype(float)
    else:
        matrix = _signed_hadamard(np.asarray(hadamard), n_strata)
    order = {label: rank for rank, label in enumerate(sorted(set(unit_label)))}
    stratum_rank = np.array([order[label] for label in unit_label])
    units = np.arange(stage.group.size)
    # within a stratum: 0 for the PSU that appears first in the data, 1 for the other
    second = np.zeros(units.size, dtype=bool)
    for h in range(n_strata):
        members = units[stage.group == h]
        second[members[np.argmax(first_row[members])]] = True
    signs = matrix[1 + stratum_rank]  # units x replicates
    first_gets_more = np.where(second[:, None], -signs, signs) > 0
    multipliers = np.where(first_gets_more, 2.0 - fay_rho, fay_rho)
    rep = design.weights[:, None] * multipliers[stage.unit]
    return ReplicateDesign(design.data, design.weights, rep, scale=1.0 / (matrix.shape[1] * (1 - fay_rho) ** 2))


def _first_rows(unit: np.ndarray, n_units: int) -> np.ndarray:
    """The first data row of every unit."""
    first = np.full(n_units, unit.size, dtype=np.int64)
    np.minimum.at(first, unit, np.arange(unit.size))
    return first


def _signed_hadamard(matrix: np.ndarray, n_strata: int) -> np.ndarray:
    """``matrix`` as +1/-1 entries, checked to be a Hadamard matrix with more rows than ``n_strata``."""
    values = np.unique(matrix)
    if values.size != 2 or matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise DesignError("hadamard must be a square matrix of two values")
    if matrix.shape[0] <= n_strata:
        raise DesignError(f"hadamard needs more rows than the {n_strata} strata; it has {matrix.shape[0]}")
    signed = np.where(matrix == values[1], 1.0, -1.0)
    if not np.array_equal(signed @ signed.T, matrix.shape[0] * np.eye(matrix.shape[0])):
        raise DesignError("hadamard is not a Hadamard matrix (its rows are not orthogonal)")
    return signed
