"""Wald tests that the coefficients of some model terms are zero (R ``regTermTest``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from evaluation import distributions
from evaluation.errors import EstimationError
from evaluation.survey.regression import SurveyGLMResult, canonical_term


def term_test(fit: SurveyGLMResult, terms: str | Sequence[str], df: float | None = None) -> pd.DataFrame:
    """Design-based Wald test of ``H0: beta_S = 0`` for the coefficients of ``terms``.

    ``F = beta_S' V_S^-1 beta_S / q`` on ``q`` and ``df`` degrees of freedom
    (default the fit's residual df), as R ``regTermTest(model, ~terms)``
    (``method = "Wald"``); with ``df=inf`` the chi-square statistic
    ``beta_S' V_S^-1 beta_S`` on ``q`` df.

    Parameters
    ----------
    fit : SurveyGLMResult
    terms : str or list of str
        Model terms as written in the formula (``"stype"``, ``"ell:stype"``; the
        order of the variables in an interaction does not matter).
    df : float, optional

    Returns
    -------
    DataFrame with one row: ``terms``, ``statistic`` (F, or chi-square when ``df``
    is infinite), ``ndf``, ``ddf``, ``p_value``.
    """
    names = [terms] if isinstance(terms, str) else list(terms)
    wanted = [canonical_term(t) for t in names]
    missing = [t for t, c in zip(names, wanted) if c not in fit.terms]
    if missing:
        raise EstimationError(f"term(s) {missing} not in the model; its terms are {list(fit.terms)}")
    index = sorted({i for c in wanted for i in fit.terms[c]})
    beta = fit.table["estimate"].to_numpy()[index]
    vcov = fit.vcov.to_numpy()[np.ix_(index, index)]
    chisq = float(beta @ np.linalg.solve(vcov, beta))
    q = len(index)
    ddf = float(fit.df_resid if df is None else df)
    if np.isinf(ddf):
        statistic, p_value = chisq, distributions.chi2_sf(chisq, q)
    else:
        statistic = chisq / q
        p_value = distributions.f_sf(statistic, q, ddf)
    return pd.DataFrame(
        {"terms": [" + ".join(names)], "statistic": [statistic], "ndf": [q], "ddf": [ddf], "p_value": [p_value]}
    )
