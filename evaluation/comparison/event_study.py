"""Event-study (dynamic) TWFE regressions and the joint pre-trend test.

``y_it = sum_{k != -1} beta_k 1[rel_time_it = k] + alpha_i + gamma_t + e_it``
with eligible-voter weights, where ``rel_time`` counts elections from the
first treated election (0) and ``k = -1`` (the last election before the
pilot) is the reference.  Never-treated districts identify the election
effects, so every lead and lag is estimated (no binning).  With staggered
starts the lags mix cohorts with TWFE weights (Sun and Abraham 2021); the
Callaway-Sant'Anna dynamic aggregation in :mod:`~evaluation.comparison.staggered`
is the robust counterpart.  Leads are tested jointly, ``H0: beta_k = 0 for
all k <= -2``, by a Wald F test with the CRV1 covariance and ``(q, G-1)``
degrees of freedom.

References
----------
Sun, L. and Abraham, S. (2021). Estimating dynamic treatment effects in event
studies with heterogeneous treatment effects. J. Econometrics 225(2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.comparison.inference import crv1, t_inference, wald_test
from evaluation.comparison.twfe import fit_within
from evaluation.comparison.within import WithinProjector

REFERENCE = -1


@dataclass(frozen=True)
class EventStudyCoefficients:
    """The estimated leads and lags and their CRV1 covariance, for :mod:`~evaluation.comparison.sensitivity`.

    ``rel_time`` in increasing order without the reference (-1): the leads
    (``< -1``) first, then the lags (``>= 0``), as HonestDiD orders
    ``betahat``; ``coef`` and ``cov`` in that order; ``n_clusters`` the
    number of clusters behind ``cov``.
    """

    rel_time: np.ndarray
    coef: np.ndarray
    cov: np.ndarray
    n_clusters: int

    @property
    def num_pre(self) -> int:
        """Number of leads."""
        return int((self.rel_time < REFERENCE).sum())

    @property
    def num_post(self) -> int:
        """Number of lags (the first treated election and after)."""
        return int((self.rel_time > REFERENCE).sum())


def event_study(
    projector: WithinProjector,
    y: np.ndarray,
    rel_time: np.ndarray,
    clusters: np.ndarray,
    level: float,
) -> pd.DataFrame:
    """Estimate the event study; one row per relative time (see :func:`event_study_fit`)."""
    return event_study_fit(projector, y, rel_time, clusters, level)[0]


def event_study_fit(
    projector: WithinProjector,
    y: np.ndarray,
    rel_time: np.ndarray,
    clusters: np.ndarray,
    level: float,
) -> tuple[pd.DataFrame, EventStudyCoefficients]:
    """Estimate the event study; one row per relative time, and the coefficients with their covariance.

    Parameters
    ----------
    projector : WithinProjector
        Unit and period fixed effects with weights.
    y : np.ndarray
        Outcome (turnout in pp).
    rel_time : np.ndarray
        Elections since the first treated election; NaN for never-treated rows.
    clusters : np.ndarray
        Municipality labels.
    level : float
        Interval coverage (t with ``G - 1`` df).

    Returns
    -------
    pd.DataFrame
        ``rel_time``, ``estimate``, ``se``, ``ci_low``, ``ci_high``,
        ``pretrend_p_value`` (same on every row), ``pretrend_f``,
        ``pretrend_df``.  The reference row has estimate, se and bounds 0.
    EventStudyCoefficients
        The coefficients (without the reference) and their CRV1 covariance.
    """
    rel = np.asarray(rel_time, float)
    times = sorted({int(k) for k in rel[np.isfinite(rel)]} - {REFERENCE})
    x = np.column_stack([(rel == k).astype(float) for k in times])
    fit = fit_within(projector, y, x, tuple(f"rel_{k}" for k in times), clusters)
    cov = crv1(fit)
    df = fit.n_clusters - 1
    rows = [{"rel_time": REFERENCE, "estimate": 0.0, "se": 0.0, "ci_low": 0.0, "ci_high": 0.0}]
    for i, k in enumerate(times):
        inf = t_inference(float(fit.coef[i]), float(cov[i, i]), df, level)
        rows.append(
            {"rel_time": k, "estimate": inf.estimate, "se": inf.se, "ci_low": inf.ci_low, "ci_high": inf.ci_high}
        )
    leads = [i for i, k in enumerate(times) if k < REFERENCE]
    f_stat, p = (np.nan, np.nan)
    if leads:
        f_stat, p = wald_test(fit.coef, cov, np.eye(len(times))[leads], df)
    out = pd.DataFrame(rows).sort_values("rel_time").reset_index(drop=True)
    out["pretrend_p_value"] = p
    out["pretrend_f"] = f_stat
    out["pretrend_df"] = len(leads)
    return out, EventStudyCoefficients(np.array(times), np.asarray(fit.coef, float).copy(), cov, int(fit.n_clusters))
