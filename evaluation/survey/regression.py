"""Design-based generalised linear models (R ``svyglm``): R's IRLS fit, linearisation SEs."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaluation import distributions
from evaluation.errors import EstimationError
from evaluation.survey.degrees import domain_degrees_of_freedom
from evaluation.survey.intervals import t_interval
from evaluation.survey.irls import GLMFit, fit_glm
from evaluation.survey.prior_weights import prior_weight_scale
from evaluation.survey.replicates import ReplicateDesign

if TYPE_CHECKING:
    from evaluation.survey.design import SurveyDesign

FAMILIES = ("gaussian", "quasibinomial", "quasipoisson")
ALIASES = {"binomial": "quasibinomial"}  # the design-based fit is always quasi-likelihood
_TREATMENT = re.compile(r"\[T\.(.*)\]$")


@dataclass(frozen=True)
class SurveyGLMResult:
    """Fitted survey GLM.

    Attributes
    ----------
    table : DataFrame
        One row per coefficient: ``term``, ``estimate``, ``se``, ``statistic`` (t),
        ``p_value``, ``ci_low``, ``ci_high``, ``df``.
    vcov : DataFrame
        Design-based (linearisation) covariance of the coefficients.
    influence : ndarray, shape (n_rows, n_terms), or None
        Influence values of the coefficients (zero for rows not used); None for
        a replicate-weight design.
    df_resid : int
        Degrees of freedom of the rows used (complete cases in the design or
        subset) + 1 - number of coefficients (R ``svyglm``'s ``df.residual``);
        for a replicate design the design's df (R counts them before dropping
        incomplete rows) + 1 - number of coefficients.
    n : int
        Respondents used (complete cases).
    formula : str
        The model formula as fitted.
    family : str
        ``gaussian``, ``quasibinomial`` or ``quasipoisson``.
    terms : dict of str to tuple of int
        Model term (its variables sorted and joined by ``:``, e.g. ``ell:stype``)
        to the positions of its coefficients, for :func:`term_tests.term_test`.
    """

    table: pd.DataFrame
    vcov: pd.DataFrame
    influence: np.ndarray | None
    df_resid: int
    n: int
    formula: str = ""
    family: str = "gaussian"
    terms: dict[str, tuple[int, ...]] = field(default_factory=dict)


def _r_name(column: str) -> str:
    """formulaic column name in R's spelling: ``(Intercept)``, ``stypeH``, ``ell:stypeH``."""
    if column == "Intercept":
        return "(Intercept)"
    return ":".join(_TREATMENT.sub(r"\1", part) for part in column.split(":"))


def _formula(outcome_or_formula: str, predictors: Sequence[str] | None) -> str:
    if predictors is None:
        if "~" not in outcome_or_formula:
            raise EstimationError(f"svyglm: {outcome_or_formula!r} is not a formula (`y ~ x1 + x2`); give predictors")
        return outcome_or_formula
    rhs = " + ".join(f"`{p}`" for p in predictors) if predictors else "1"
    return f"`{outcome_or_formula}` ~ {rhs}"


def _design_matrices(
    design: SurveyDesign | ReplicateDesign, formula: str
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, dict[str, tuple[int, ...]]]:
    """Model matrix, outcome, used-row mask (complete cases in the subset with positive weight) and terms."""
    from formulaic import model_matrix  # imported here: it takes 0.2 s, and most runs fit no formula
    from formulaic.errors import FormulaicError

    data = design.data.reset_index(drop=True)
    try:
        matrices = model_matrix(formula, data, na_action="drop")
    except (FormulaicError, NameError, SyntaxError, KeyError, ValueError, TypeError) as exc:
        raise EstimationError(f"svyglm formula {formula!r} cannot be evaluated on the survey data: {exc}") from exc
    lhs, rhs = getattr(matrices, "lhs", None), getattr(matrices, "rhs", None)  # "~ x" gives a single matrix
    if lhs is None or rhs is None or lhs.shape[1] != 1:
        raise EstimationError(f"svyglm formula {formula!r} needs exactly one outcome on the left of `~`")
    rows = np.asarray(rhs.index, dtype=np.int64)
    used = np.zeros(len(data), dtype=bool)
    used[rows] = True
    if getattr(design, "domain_mask", None) is not None:
        used &= design.domain_mask
    used &= design.weights > 0
    x_frame = pd.DataFrame(np.nan, index=data.index, columns=[_r_name(c) for c in rhs.columns])
    x_frame.iloc[rows] = np.asarray(rhs, dtype=float)
    y = np.full(len(data), np.nan)
    y[rows] = np.asarray(lhs, dtype=float)[:, 0]
    terms = {
        canonical_term(str(term)): tuple(int(i) for i in index) for term, index in rhs.model_spec.term_indices.items()
    }
    return x_frame, y, used, terms


def canonical_term(term: str) -> str:
    """A term's variables sorted and joined by ``:`` (R ``regTermTest``'s canonical order)."""
    return ":".join(sorted(part.strip().strip("`") for part in term.split(":")))


def _converged(fit: GLMFit, formula: str, family: str, maxit: int, what: str) -> GLMFit:
    if not fit.converged:
        raise EstimationError(
            f"svyglm {formula!r}: the {family} fit{what} did not converge in {maxit} iterations "
            "(raise maxit, or check for separation: an outcome constant within a predictor's category)"
        )
    return fit


def _replicate_fit(
    design: ReplicateDesign, x: np.ndarray, y: np.ndarray, used: np.ndarray, family: str, control: tuple, formula: str
) -> tuple[np.ndarray, np.ndarray, int]:
    """Coefficients, replicate covariance and residual df, as R ``svyglm.svyrep.design``.

    The full-sample fit uses the weights divided by their mean over all rows;
    each replicate refits from the full-sample coefficients with its weights
    normalised to sum 1, as R does (``glm.fit(start = beta0, weights = w / sum(w))``).
    """
    epsilon, maxit = control
    full = _converged(
        fit_glm(x, y, design.weights[used] / design.weights.mean(), family, epsilon, maxit), formula, family, maxit, ""
    )
    betas = np.empty((design.replicate_weights.shape[1], x.shape[1]))
    for r in range(betas.shape[0]):
        w = design.replicate_weights[used, r]
        refit = fit_glm(x, y, w / w.sum(), family, epsilon, maxit, start=full.coef)
        betas[r] = _converged(refit, formula, family, maxit, f" with replicate weights {r}").coef
    return full.coef, design.covariance(full.coef, betas), int(design.df) + 1 - x.shape[1]


def svyglm(
    design: SurveyDesign | ReplicateDesign,
    formula: str,
    predictors: Sequence[str] | None = None,
    family: str = "gaussian",
    level: float = 0.95,
    *,
    epsilon: float = 1e-8,
    maxit: int = 25,
) -> SurveyGLMResult:
    """Fit a generalised linear model to a survey sample (R ``svyglm``).

    Estimand: the census (population) regression coefficients, estimated by the
    weighted estimating equations ``sum_i w_i x_i (y_i - mu_i) = 0``. Standard
    errors are the linearisation (sandwich) variance of the design, including
    calibration; the t statistics use R's residual degrees of freedom,
    ``degf(complete-case design) + 1 - p``.

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
        A :meth:`SurveyDesign.subset` design fits the subpopulation with the full
        design's variance, as R ``svyglm(..., design = subset(...))``; a
        replicate design gives replicate standard errors (R ``svrepglm``).
    formula : str
        A Wilkinson formula as in R (``"api00 ~ ell * stype + meals"``; parsed by
        ``formulaic``): string and categorical columns get treatment contrasts
        with the first sorted level as reference, ``a:b`` and ``a*b`` give
        interactions, ``C(x)`` makes a numeric column a factor,
        ``{expression}`` evaluates Python (``{`sch.wide` == 'Yes'}``); names with
        dots may need backticks. Term names are spelt as R (``(Intercept)``,
        ``stypeH``, ``ell:stypeH``). Or, with ``predictors``, the outcome column.
    predictors : list of str, optional
        Predictor columns (each a main effect) when ``formula`` is an outcome column.
    family : {"gaussian", "quasibinomial", "quasipoisson"}
        Identity, logit and log link (``"binomial"`` is accepted for ``quasibinomial``).
        The outcome must lie in [0, 1] for quasibinomial and be >= 0 for quasipoisson.
    level : float
        Confidence level (t with ``df_resid`` degrees of freedom).
    epsilon, maxit : float, int
        Convergence control of the IRLS fit, as R ``glm.control`` (same defaults
        and the same iterations as R ``glm.fit``, see :func:`irls.fit_glm`); a fit
        that has not converged after ``maxit`` iterations stops with an error.

    Returns
    -------
    SurveyGLMResult

    Notes
    -----
    Rows with a missing value in any model variable are dropped (R
    ``na.action = na.omit``), and so are rows with zero weight. Collinear
    model columns stop with an error (R would report ``NA`` coefficients).
    A factor interacted with a variable without its own main effect is coded
    with reduced rank by ``formulaic``, where R uses all its levels.
    """
    family = ALIASES.get(family, family)
    if family not in FAMILIES:
        raise EstimationError(f"family={family!r}; use one of {FAMILIES}")
    formula = _formula(formula, predictors)
    x_frame, y_all, used, term_index = _design_matrices(design, formula)
    if not used.any():
        raise EstimationError(f"svyglm {formula!r}: no complete cases with positive weight")
    x, y, w = x_frame.to_numpy()[used], y_all[used], design.weights[used]
    if family == "quasibinomial" and ((y < 0) | (y > 1)).any():
        raise EstimationError(f"svyglm {formula!r}: the outcome must lie in [0, 1] for family='quasibinomial'")
    if family == "quasipoisson" and (y < 0).any():
        raise EstimationError(f"svyglm {formula!r}: the outcome must be >= 0 for family='quasipoisson'")
    if np.linalg.matrix_rank(x) < x.shape[1]:
        raise EstimationError(
            f"svyglm {formula!r}: model columns {list(x_frame.columns)} are collinear in the {int(used.sum())} "
            "complete cases"
        )
    if isinstance(design, ReplicateDesign):
        estimate, vcov, df_resid = _replicate_fit(design, x, y, used, family, (epsilon, maxit), formula)
        influence = None
    else:
        fit = _converged(
            fit_glm(x, y, w / prior_weight_scale(design), family, epsilon, maxit), formula, family, maxit, ""
        )
        influence = np.zeros((len(y_all), x.shape[1]))
        influence[used] = (x * fit.score[:, None]) @ fit.bread
        vcov = design.linearization.covariance(influence)
        complete = np.where(used, 0, -1)
        stage = design.linearization.stages[0]
        df_resid = int(domain_degrees_of_freedom(stage, design.design_weights, complete, 1)[0]) + 1 - x.shape[1]
        estimate = fit.coef
    se = np.sqrt(np.diag(vcov))
    statistic = estimate / se
    low, high = t_interval(estimate, se, level, df_resid)
    terms = list(x_frame.columns)
    table = pd.DataFrame(
        {
            "term": terms,
            "estimate": estimate,
            "se": se,
            "statistic": statistic,
            "p_value": 2 * distributions.t_sf(np.abs(statistic), df_resid),
            "ci_low": low,
            "ci_high": high,
            "df": df_resid,
        }
    )
    return SurveyGLMResult(
        table,
        pd.DataFrame(vcov, index=terms, columns=terms),
        influence,
        df_resid,
        int(used.sum()),
        formula,
        family,
        term_index,
    )
