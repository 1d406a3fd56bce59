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

import numpy as np
import pandas as pd

from evaluation.comparison.inference import crv1, t_inference, wald_test
from evaluation.comparison.twfe import fit_within
from evaluation.comparison.within import WithinProjector

REFERENCE = -1


def event_study(
    projector: WithinProjector,
    y: np.ndarray,
    rel_time: np.ndarray,
    clusters: np.ndarray,
    level: float,
) -> pd.DataFrame:
    """Estimate the event study; one row per relative time.

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
    return out
