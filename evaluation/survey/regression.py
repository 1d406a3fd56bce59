"""Design-based generalised linear models (R ``svyglm``): statsmodels point estimates, linearisation SEs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from evaluation.errors import EstimationError
from evaluation.survey.intervals import t_interval

if TYPE_CHECKING:
    from evaluation.survey.design import SurveyDesign

FAMILIES = {"gaussian": sm.families.Gaussian, "binomial": sm.families.Binomial}


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
    influence : ndarray, shape (n_rows, n_terms)
        Influence values of the coefficients (zero for rows not used).
    df_resid : int
        Design df + 1 - number of coefficients (R ``svyglm``).
    n : int
        Respondents used (complete cases).
    """

    table: pd.DataFrame
    vcov: pd.DataFrame
    influence: np.ndarray
    df_resid: int
    n: int


def model_matrix(data: pd.DataFrame, predictors: Sequence[str]) -> pd.DataFrame:
    """Intercept plus predictors; non-numeric predictors become treatment dummies named as R (``stypeH``)."""
    parts = [pd.DataFrame({"(Intercept)": np.ones(len(data))}, index=data.index)]
    for name in predictors:
        if name not in data.columns:
            raise EstimationError(f"predictor `{name}` not in the survey data")
        col = data[name]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            parts.append(col.astype(float).to_frame(name))
        else:
            levels = pd.Index(pd.unique(col.dropna())).sort_values()
            dummies = pd.DataFrame({f"{name}{lev}": (col == lev).astype(float) for lev in levels[1:]}, index=data.index)
            dummies[col.isna()] = np.nan
            parts.append(dummies)
    return pd.concat(parts, axis=1)


def svyglm(
    design: SurveyDesign, outcome: str, predictors: Sequence[str], family: str = "gaussian", level: float = 0.95
) -> SurveyGLMResult:
    """Fit a linear or logistic regression to a survey sample.

    Estimand: the census (population) regression coefficients, estimated by the
    weighted estimating equations ``sum_i w_i x_i (y_i - mu_i) = 0``. Standard errors
    are the linearisation (sandwich) variance of the design, including calibration
    (R ``svyglm``; ``family="binomial"`` is ``quasibinomial()``).

    Parameters
    ----------
    design : SurveyDesign
    outcome : str
        Outcome column (0/1 for ``binomial``).
    predictors : list of str
        Predictor columns; strings/categoricals get treatment dummies (first level reference).
    family : {"gaussian", "binomial"}
    level : float
        Confidence level (t with ``df_resid`` degrees of freedom).

    Returns
    -------
    SurveyGLMResult
    """
    if family not in FAMILIES:
        raise EstimationError(f"family={family!r}; use one of {list(FAMILIES)}")
    if outcome not in design.data.columns:
        raise EstimationError(f"outcome `{outcome}` not in the survey data")
    x_frame = model_matrix(design.data, predictors)
    y_all = design.data[outcome].to_numpy(dtype=float, na_value=np.nan)
    used = ~np.isnan(y_all) & ~x_frame.isna().any(axis=1).to_numpy() & (design.weights > 0)
    x, y, w = x_frame.to_numpy()[used], y_all[used], design.weights[used]
    if family == "binomial" and not np.isin(y, (0.0, 1.0)).all():
        raise EstimationError(f"outcome `{outcome}` must be 0/1 for family='binomial'")
    if np.linalg.matrix_rank(x) < x.shape[1]:
        raise EstimationError(f"predictors {list(predictors)} are collinear in the {used.sum()} complete cases")
    fit = sm.GLM(y, x, family=FAMILIES[family](), var_weights=w / w.mean()).fit()
    mu = fit.fittedvalues
    working = w * (mu * (1 - mu) if family == "binomial" else 1.0)
    bread = np.linalg.inv(x.T @ (working[:, None] * x))
    influence = np.zeros((len(y_all), x.shape[1]))
    influence[used] = (x * (w * (y - mu))[:, None]) @ bread
    vcov = design.linearization.covariance(influence)
    df_resid = design.df + 1 - x.shape[1]
    se = np.sqrt(np.diag(vcov))
    estimate = np.asarray(fit.params)
    statistic = estimate / se
    low, high = t_interval(estimate, se, level, df_resid)
    terms = list(x_frame.columns)
    table = pd.DataFrame(
        {
            "term": terms,
            "estimate": estimate,
            "se": se,
            "statistic": statistic,
            "p_value": 2 * stats.t.sf(np.abs(statistic), df_resid),
            "ci_low": low,
            "ci_high": high,
            "df": df_resid,
        }
    )
    return SurveyGLMResult(table, pd.DataFrame(vcov, index=terms, columns=terms), influence, df_resid, int(used.sum()))
