"""The survey design object: data, weights and sampling structure (R ``svydesign``)."""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from evaluation.errors import DesignError
from evaluation.survey import adjusted, association, contrasts, estimators, quantiles, spread
from evaluation.survey.degrees import domain_degrees_of_freedom
from evaluation.survey.domains import make_domains
from evaluation.survey.estimators import DomainKeys, make_keys
from evaluation.survey.structure import build_stages
from evaluation.survey.variance import Calibration, Linearization


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


class SurveyDesign:
    """A probability sample: data, sampling weights, strata, clusters and fpc.

    Variances are Taylor-linearisation (ultimate-cluster, or multistage when an fpc
    is given for every stage), as R ``svydesign(ids, strata, weights, fpc)``.

    Parameters
    ----------
    data : DataFrame
        One row per respondent. Not copied; do not modify it while the design is used.
    weights : str
        Column of sampling weights (inverse inclusion probabilities, or calibrated
        weights scaled to the population): the number of population units a
        respondent represents.
    strata : str, optional
        Column of first-stage strata.
    psu : str or list of str, optional
        Column of primary sampling units (clusters); a list gives the units of
        successive stages (e.g. ``["district", "school"]``). Each row is its own
        PSU when omitted.
    fpc : str or list of str, optional
        Finite population correction per stage: population number of units in the
        stratum (or cluster, for later stages), or the sampling fraction if every
        value is <= 1. With fpc at every stage the variance is multistage (as R);
        otherwise only the first stage counts (ultimate cluster, with replacement).
    nest : bool, default False
        PSU labels are only unique within strata (relabel them as stratum x PSU).
    lonely_psu : {"fail", "remove", "certainty", "adjust", "average"}
        Handling of strata with a single sampled PSU, as R ``survey.lonely.psu``.
        ``"fail"`` raises DesignError when the design is created.

    Attributes
    ----------
    df : int
        Design degrees of freedom: number of PSUs (with a positive sampling
        weight, in the subset for :meth:`subset` designs) minus number of their
        strata (R ``degf``).
    domain_mask : ndarray of bool or None
        Rows of the subpopulation of a :meth:`subset` design (None: all rows).
    """

    def __init__(
        self,
        data: pd.DataFrame,
        weights: str,
        strata: str | None = None,
        psu: str | Sequence[str] | None = None,
        fpc: str | Sequence[str] | None = None,
        nest: bool = False,
        lonely_psu: str = "fail",
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise DesignError("data must be a pandas DataFrame")
        if weights not in data.columns:
            raise DesignError(f"weights column `{weights}` not in the data")
        w = data[weights].to_numpy(dtype=float, na_value=np.nan)
        if np.isnan(w).any() or (w < 0).any() or np.isinf(w).any():
            bad = int((np.isnan(w) | (w < 0) | np.isinf(w)).sum())
            raise DesignError(f"weights column `{weights}`: {bad} rows are missing, negative or infinite")
        stages = build_stages(data, strata, _as_list(psu), _as_list(fpc), nest, lonely_psu)
        self.data = data
        self.weights_column = weights
        self.strata, self.psu, self.fpc = strata, _as_list(psu), _as_list(fpc)
        self.nest, self.lonely_psu = nest, lonely_psu
        self.weights: np.ndarray = w
        self.design_weights: np.ndarray = w
        self.domain_mask: np.ndarray | None = None
        self.linearization = Linearization(tuple(stages))
        self.df: int = self._degrees_of_freedom()
        self._margins: list[tuple[np.ndarray, int]] = []
        self._calibration_matrix = False
        self._keys: dict[tuple[str, ...], DomainKeys] = {}

    def __repr__(self) -> str:
        stage1 = self.linearization.stages[0]
        cal = f", calibrated on {len(self._margins)} margin(s)" if self._margins else ""
        cal = ", calibrated (calibrate)" if self._calibration_matrix else cal
        sub = f", subset of {int(self.domain_mask.sum())} rows" if self.domain_mask is not None else ""
        return (
            f"SurveyDesign(n={len(self.data)}, strata={stage1.n_groups}, psu={stage1.n_units}, "
            f"stages={len(self.linearization.stages)}, df={self.df}{cal}{sub})"
        )

    def _degrees_of_freedom(self) -> int:
        rows = np.zeros(len(self.data), dtype=np.int64)
        if self.domain_mask is not None:
            rows[~self.domain_mask] = -1
        return int(domain_degrees_of_freedom(self.linearization.stages[0], self.design_weights, rows, 1)[0])

    def rows_kept(self) -> np.ndarray:
        """Rows that R's design object keeps, for the numbers of R that depend on ``nrow(design)``.

        All rows, except outside a :meth:`subset` of an uncalibrated design: R
        drops those rows, while a subset of a calibrated design keeps them with
        weight zero.
        """
        if self.domain_mask is None or self.linearization.calibration is not None:
            return np.ones(len(self.data), dtype=bool)
        return self.domain_mask

    def domain_keys(self, by: Sequence[str] | None) -> DomainKeys:
        """Domain codes and (unit, domain) keys for ``by`` (cached); only rows of the subset count."""
        key = tuple(_as_list(by))
        if key not in self._keys:
            domains = make_domains(self.data, key, self.domain_mask)
            self._keys[key] = make_keys(self.linearization.stages, domains)
        return self._keys[key]

    def domain_df(self, keys: DomainKeys) -> np.ndarray:
        """Degrees of freedom of each domain of ``keys`` (R ``degf(subset(design, domain))``)."""
        if "df" not in keys.cache:
            keys.cache["df"] = domain_degrees_of_freedom(
                self.linearization.stages[0], self.design_weights, keys.domains.codes, keys.domains.n_domains
            )
        return keys.cache["df"]

    def subset(self, mask: np.ndarray | pd.Series | Sequence[bool]) -> SurveyDesign:
        """The subpopulation ``mask`` as a design of its own, with R's domain semantics.

        As R ``subset(design, condition)``: the sampling structure of the full
        design is kept (rows outside the subset contribute zero to every
        estimate, strata keep their full number of PSUs, calibration keeps its
        full-sample projection), so estimates and standard errors equal the
        domain estimates of the full design; the degrees of freedom are the
        subset's (PSUs with rows in it minus their strata). A subset of a subset
        is their intersection.

        Parameters
        ----------
        mask : array of bool, shape (n_rows,)
            True for rows in the subpopulation (a boolean Series must have the
            data's index). Missing values are not allowed.

        Returns
        -------
        SurveyDesign
        """
        if isinstance(mask, pd.Series):
            if not mask.index.equals(self.data.index):
                raise DesignError("subset mask: a Series must have the same index as the design's data")
            if mask.isna().any():
                raise DesignError(f"subset mask has {int(mask.isna().sum())} missing values; use True or False")
        values = np.asarray(mask)
        if values.shape != (len(self.data),):
            raise DesignError(f"subset mask has shape {values.shape}; expected ({len(self.data)},), one per row")
        if values.dtype != bool:
            raise DesignError(f"subset mask must be boolean (True/False per row), got dtype {values.dtype}")
        if self.domain_mask is not None:
            values = values & self.domain_mask
        if not values.any():
            raise DesignError("subset mask selects no rows")
        new = copy.copy(self)
        new.domain_mask = values
        new._keys = {}
        new.df = new._degrees_of_freedom()
        return new

    def reweighted(self, weights: np.ndarray) -> SurveyDesign:
        """A copy with new sampling weights and the same sampling structure (uncalibrated designs only).

        Raises DesignError for a calibrated or subset design, whose variance
        would need the calibration (or the subset) redone.
        """
        if self.linearization.calibration is not None or self.domain_mask is not None:
            raise DesignError("new sampling weights need an uncalibrated full design (not calibrated, not a subset)")
        weights = np.asarray(weights, dtype=float)
        if weights.shape != self.weights.shape or not np.isfinite(weights).all() or (weights < 0).any():
            raise DesignError(f"new weights must be {self.weights.shape[0]} finite non-negative numbers")
        new = copy.copy(self)
        new.weights = new.design_weights = weights
        new._keys = {}
        new.df = new._degrees_of_freedom()
        return new

    def calibrated_matrix(self, weights: np.ndarray, matrix: np.ndarray) -> SurveyDesign:
        """A copy with calibrated ``weights`` whose variances remove the auxiliary variables ``matrix``.

        ``matrix`` (rows x auxiliary variables, as R's calibration model matrix)
        may hold numeric variables (GREG). Only an uncalibrated full design can be
        calibrated this way; the residuals use its weights as R ``calibrate``.
        """
        if self.domain_mask is not None or self.linearization.calibration is not None:
            raise DesignError("calibrate() needs an uncalibrated full design (calibrate once, before subsetting)")
        new = copy.copy(self)
        new.weights = np.asarray(weights, dtype=float)
        new._calibration_matrix = True
        stages = self.linearization.stages
        calibration = Calibration.from_matrix(sp.csr_matrix(matrix), new.weights, self.design_weights, stages)
        new.linearization = Linearization(stages, calibration)
        return new

    def calibrated(self, weights: np.ndarray, margins: Sequence[tuple[np.ndarray, int]]) -> SurveyDesign:
        """A copy with calibrated ``weights`` whose variances remove the calibration margins.

        Parameters
        ----------
        weights : ndarray
            New (calibrated) weights.
        margins : sequence of (codes, n_categories)
            Category codes per row of each margin the weights were calibrated to;
            they are added to any margins of earlier calibrations.
        """
        if self.domain_mask is not None:
            raise DesignError("calibrate the full design, then take the subset (a subset design cannot be calibrated)")
        if self._calibration_matrix:
            raise DesignError("a design calibrated by calibrate() cannot be calibrated again; calibrate once")
        new = copy.copy(self)
        new.weights = np.asarray(weights, dtype=float)
        new._margins = [*self._margins, *margins]
        stages = self.linearization.stages
        calibration = Calibration.build(
            [c for c, _ in new._margins], [k for _, k in new._margins], new.weights, self.design_weights, stages
        )
        new.linearization = Linearization(stages, calibration)
        return new

    def mean(
        self,
        variables: Sequence[str],
        by: Sequence[str] | None = None,
        level: float = 0.95,
        deff_reference: str = "srswor",
        domain_df: bool = True,
    ) -> pd.DataFrame:
        """Population means of ``variables`` in each domain of ``by``.

        Estimand: ``sum_{i in d} w_i y_i / sum_{i in d} w_i`` over respondents with
        non-missing ``y`` (R ``svyby(~y, ~by, design, svymean, na.rm = TRUE)``).

        Parameters
        ----------
        variables : list of str
            Numeric columns (binary 0/1 outcomes give proportions).
        by : list of str, optional
            Domain columns; domains are all observed combinations, estimated on the
            full design. Rows with a missing ``by`` value belong to no domain.
        level : float
            Confidence level of the t interval with ``df`` design degrees of freedom.
        deff_reference : {"srswor", "srswr"}
            Design effect relative to simple random sampling without replacement
            (R ``deff = TRUE``) or with replacement (R ``deff = "replace"``).
        domain_df : bool, default True
            Each domain's interval uses the domain's degrees of freedom (PSUs with
            rows in it minus their strata; R ``degf(subset(design, domain))``, as
            ``svyby(..., svyciprop, vartype = "ci")``); False uses the design's
            ``df`` for every domain (R ``confint(svyby(...), df = degf(design))``).

        Returns
        -------
        DataFrame
            One row per variable x domain: ``variable``, the ``by`` columns,
            ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``n`` (unweighted
            non-missing count), ``deff``, ``df`` (degrees of freedom of the interval).
        """
        return estimators.means(self, _as_list(variables), by, level, deff_reference, domain_df)

    def total(
        self,
        variables: Sequence[str],
        by: Sequence[str] | None = None,
        level: float = 0.95,
        deff_reference: str = "srswor",
        domain_df: bool = True,
    ) -> pd.DataFrame:
        """Population totals ``sum_{i in d} w_i y_i`` of ``variables`` per domain (R ``svytotal``).

        Same arguments and columns as :meth:`mean`; missing values count as not in the domain.
        """
        return estimators.totals(self, _as_list(variables), by, level, deff_reference, domain_df)

    def var(
        self,
        variables: Sequence[str],
        by: Sequence[str] | None = None,
        level: float = 0.95,
        domain_df: bool = True,
    ) -> pd.DataFrame:
        """Population variance of ``variables`` per domain (R ``svyvar``, ``svyby(..., svyvar)``).

        Estimand: ``sum_d w (y - ybar_d)^2 / sum_d w`` times ``n / (n - 1)``, ``n``
        the domain's respondents (see :func:`spread.variances`). Columns as
        :meth:`mean` without ``deff``.
        """
        return spread.variances(self, _as_list(variables), by, level, domain_df)

    def quantile(
        self,
        variables: Sequence[str],
        probs: Sequence[float] = (0.5,),
        by: Sequence[str] | None = None,
        level: float = 0.95,
        rule: str = "math",
        interval: str = "mean",
    ) -> pd.DataFrame:
        """Population quantiles with Woodruff intervals (R ``svyquantile``, ``svyby(..., svyquantile)``).

        Parameters
        ----------
        variables : list of str
        probs : sequence of float
            Probabilities in [0, 1] (0.5 = median).
        by : list of str, optional
        level : float
        rule : {"math", "school", "hf7"}
            Quantile rule, R ``qrule`` (``math``: inverse of the weighted
            distribution function, R's default).
        interval : {"mean", "xlogit", "asin", "beta"}
            Interval for the share below the quantile, R ``interval.type``.

        Returns
        -------
        DataFrame
            One row per variable x domain x probability: ``variable``, the ``by``
            columns, ``probability``, ``estimate``, ``se`` (half-width over the t
            quantile, as R), ``ci_low``, ``ci_high``, ``n``, ``df`` (the domain's
            non-missing rows, as R's ``na.rm = TRUE``). Missing values are dropped.
        """
        return quantiles.quantiles(self, _as_list(variables), probs, by, level, rule, interval)

    def ttest(self, variable: str, group: str | None = None, level: float = 0.95) -> pd.DataFrame:
        """Design-based t test of a zero mean, or of equal means in the two categories of ``group``.

        R ``svyttest(y ~ 0, design)`` / ``svyttest(y ~ group, design)``; see
        :func:`association.ttest`.
        """
        return association.ttest(self, variable, group, level)

    def chisq(self, row: str, col: str, statistic: str = "F") -> pd.DataFrame:
        """Rao-Scott test of association in the table ``row`` x ``col`` (R ``svychisq``).

        ``statistic="F"`` is the second-order (Satterthwaite) F test, R's default;
        ``"Chisq"`` the first-order correction. See :func:`association.chisq`.
        """
        return association.chisq(self, row, col, statistic)

    def ratio(
        self,
        numerator: str,
        denominator: str,
        by: Sequence[str] | None = None,
        level: float = 0.95,
        deff_reference: str = "srswor",
        domain_df: bool = True,
    ) -> pd.DataFrame:
        """Ratio of population totals ``sum_d w y / sum_d w x`` per domain (R ``svyratio``).

        Rows missing either variable are dropped. ``variable`` is ``"numerator/denominator"``.
        Other arguments as :meth:`mean`.
        """
        return estimators.ratios(self, numerator, denominator, by, level, deff_reference, domain_df)

    def proportion(
        self,
        variable: str,
        by: Sequence[str] | None = None,
        level: float = 0.95,
        ci_method: str = "logit",
        deff_reference: str = "srswor",
        domain_df: bool = True,
        categories: Sequence | None = None,
    ) -> pd.DataFrame:
        """Population share of each category of ``variable`` per domain.

        Estimand: ``sum_{i in d} w_i 1[y_i = k] / sum_{i in d} w_i`` over non-missing ``y``.

        Parameters
        ----------
        ci_method : {"logit", "likelihood", "xlogit", "wilson", "beta", "mean", "asin"}
            Interval for a proportion (see :func:`intervals.proportion_interval`);
            ``beta`` is Korn-Graubard, as R ``svyciprop(method = "beta")``;
            ``likelihood`` is R's design-scaled profile likelihood
            (:func:`likelihood.likelihood_interval`; one logistic fit per domain).
        domain_df : bool, default True
            Each domain's interval uses the domain's degrees of freedom (PSUs with
            rows in it minus their strata; R ``degf(subset(design, domain))``, as
            ``svyby(~I(y == k), ~by, design, svyciprop, vartype = "ci")``); False uses the design's
            ``df`` for every domain (R ``confint(svyby(...), df = degf(design))``).
        categories : sequence, optional
            Only these categories (default: every category in the data), as R
            ``svyciprop(~I(y == k))`` for each ``k``; each share is computed as it
            would be among all categories. A category no respondent chose has
            share 0 in every domain.

        Returns
        -------
        DataFrame
            Columns of :meth:`mean` plus ``category`` (after the ``by`` columns) and
            ``n_category`` (unweighted respondents in the category).
        """
        return estimators.proportions(self, variable, by, level, ci_method, deff_reference, domain_df, categories)

    def mean_vcov(self, variable: str, by: Sequence[str]) -> tuple[pd.Series, pd.DataFrame]:
        """Domain means of ``variable`` and their design covariance matrix (R ``svyby(covmat = TRUE)``).

        Returns
        -------
        estimates : Series indexed by domain label (tuple for several ``by`` columns)
        vcov : DataFrame, the same index on both axes
        """
        return contrasts.mean_vcov(self, variable, _as_list(by))

    def mean_differences(
        self, variable: str, by: Sequence[str], group: str, a: object, b: object, level: float = 0.95
    ) -> pd.DataFrame:
        """``mean_a - mean_b`` between categories ``a`` and ``b`` of ``group`` in every domain of ``by``.

        Same estimand and variance as :meth:`contrast_means` on ``by + [group]`` for each
        domain, computed for all domains at once. Returns ``by`` columns, ``variable``,
        ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``n_a``, ``n_b``, ``df``.
        """
        return contrasts.mean_differences(self, variable, _as_list(by), group, a, b, level)

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
        """``a - b`` adjusted for the categorical ``covariates`` in every domain of ``by`` (one svyglm per domain).

        The coefficient of ``1[group = a]`` in R ``svyglm(variable ~ g + factor(c1) + ...,
        design = subset(design, domain & group %in% c(a, b)))``, with its design-based
        SE and R's residual df; see :mod:`evaluation.survey.adjusted`. Returns ``by``
        columns, ``variable``, ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``n_a``,
        ``n_b``, ``df``, ``n_terms``.
        """
        return adjusted.adjusted_differences(self, variable, _as_list(by), group, a, b, list(covariates), level)

    def contrast_means(
        self, variable: str, by: Sequence[str], a: object, b: object, kind: str = "difference", level: float = 0.95
    ) -> pd.DataFrame:
        """Difference ``mean_a - mean_b`` (or ratio ``mean_a / mean_b``) of two domain means.

        The two domains may share PSUs (e.g. two waves of a panel, or two groups in
        the same municipalities); their covariance is included (R ``svycontrast`` on
        ``svyby(..., covmat = TRUE)``, delta method for the ratio).

        Parameters
        ----------
        variable : str
        by : list of str
        a, b : domain labels (a tuple when ``by`` has several columns)
        kind : {"difference", "ratio"}

        Returns
        -------
        DataFrame with one row: ``variable``, ``contrast``, ``estimate``, ``se``,
        ``ci_low``, ``ci_high``, ``df``, ``estimate_a``, ``estimate_b``, ``covariance``.
        """
        return contrasts.contrast_means(self, variable, _as_list(by), a, b, kind, level)
