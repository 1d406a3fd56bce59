"""Time to decision with pending proposals censored: Kaplan-Meier (statsmodels ``SurvfuncRight``)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from evaluation.errors import InputFileError

DECIDED = ("adopted", "partly_adopted", "rejected")
"""Outcomes that are decisions; ``pending`` proposals are censored at the as-of date, ``withdrawn`` at withdrawal."""


def decision_times(proposals: pd.DataFrame, as_of: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """Days from submission to decision (event) or to censoring, and the event indicator.

    A decided proposal's time ends at its ``decision_date``; a pending one is
    censored at ``as_of``; a withdrawn one at its ``decision_date`` (the day it
    was withdrawn), or at ``as_of`` without one.

    Raises
    ------
    InputFileError
        When a decided proposal has no decision date (it cannot be timed).
    """
    decided = proposals["outcome"].isin(DECIDED).to_numpy()
    undated = decided & proposals["decision_date"].isna().to_numpy()
    if undated.any():
        row = proposals[undated].iloc[0]
        where = f"{row['source_file']} row {row['source_row']}" if "source_row" in proposals else "a proposal"
        raise InputFileError(f"proposals: {where} is {row['outcome']} but has no decision_date")
    end = proposals["decision_date"].where(proposals["outcome"] != "pending").fillna(as_of)
    days = (end - proposals["submitted_date"]).dt.days.to_numpy(dtype=float)
    return days, decided.astype(int)


def median_days(days: np.ndarray, decided: np.ndarray, level: float) -> tuple[float, float, float]:
    """Kaplan-Meier median days to decision with its interval (Brookmeyer-Crowley, log-log), NaN where not reached."""
    from statsmodels.duration.survfunc import SurvfuncRight  # noqa: PLC0415 - only this stage needs statsmodels

    if decided.sum() == 0:
        return np.nan, np.nan, np.nan
    curve = SurvfuncRight(days, decided)
    with warnings.catch_warnings():  # the log-log transform warns at survival 0 or 1, where the bound is open
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = curve.quantile_ci(0.5, alpha=1 - level, method="cloglog")
    median = curve.quantile(0.5)
    return tuple(float(v) if v is not None else np.nan for v in (median, low, high))
