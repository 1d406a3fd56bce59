"""Permutation pre-trend tests and per-pilot event studies.

*Programme pre-trend (permutation).*  The CRV1 Wald test of the event-study
leads over-rejects with few treated municipalities.  The randomization
counterpart uses the periods before the *earliest* pilot start (the common
pre-window, where no municipality is treated, so re-drawing the pilots is
exactly the null of parallel pre-trends without anticipation):

    y_it = sum_{k in window, k != last} delta_k 1[i is a pilot] 1[t = k] + alpha_i + gamma_t + e_it

with the problem's fixed effects and weights.  For the observed pilots and
for every re-drawn set (same number per cohort) the vector ``delta`` is
computed; the statistic is ``T_b = delta_b' Omega^{-1} delta_b`` with
``Omega`` the covariance of ``delta`` over all assignments (observed and
drawn), a permutation-invariant Hotelling-type statistic, and the p-value is
``(1 + #{T_b >= T}) / (1 + B)``.  It is exact under the sharp null but is not
studentised by municipality size (unlike the Ferman-Pinto test of the
effects); with fewer than two periods in the window it is NaN.

*Per-pilot event study.*  For one pilot municipality the dynamic TWFE against
the never-treated municipalities gives ``beta_k`` per election since its start;
each coefficient gets a Conley-Taber interval with the Ferman-Pinto size
correction from placebo event studies that give the pilot's start to each
control in turn (on the controls only).  Its pre-trend p-value compares
``sum_{k <= -2} beta_k^2 / sigma_k^2(M_1)`` with the same statistic of every
placebo (scaled by ``sigma_k^2(M_j)``).

References
----------
Conley, T. G. and Taber, C. R. (2011). REStat 93(1).
Ferman, B. and Pinto, C. (2019). REStat 101(3).
Roth, J. (2022). Pretest with caution: event-study estimates after testing for
parallel trends. AER: Insights 4(3).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from evaluation.comparison.did import DidProblem
from evaluation.comparison.event_study import REFERENCE
from evaluation.comparison.randomization import conley_taber_fp, size_model_variances
from evaluation.comparison.twfe import fit_within
from evaluation.comparison.within import WithinProjector


def _indicator_moments(
    projector: WithinProjector,
    row_cluster: np.ndarray,
    column: np.ndarray,
    n_columns: int,
    n_clusters: int,
    y: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``Z' W Z`` and ``Z' W M y`` for ``Z = M E``, ``E[:, j * K + k] = 1[row in municipality j] 1[column == k]``.

    Rows with ``column < 0`` are zero in ``E``.  ``Z`` is kept sparse plus low
    rank (:meth:`WithinProjector.transform_sparse`), never formed densely.
    """
    n = len(row_cluster)
    on = column >= 0
    e = sp.csr_matrix(
        (np.ones(on.sum()), (np.flatnonzero(on), row_cluster[on] * n_columns + column[on])),
        shape=(n, n_clusters * n_columns),
    )
    z = projector.transform_sparse(e)
    wz = z.scale_rows(projector.weights)
    return z.gram(wz), wz.tdot(projector.transform(y))


def pretrend_permutation(
    problem: DidProblem, period_date: np.ndarray, first_start: np.datetime64, n_draws: int, rng: np.random.Generator
) -> tuple[float, int]:
    """Permutation p-value of parallel pre-trends in the common pre-window (see module docstring).

    Parameters
    ----------
    problem : DidProblem
        The DiD problem (its rows, fixed effects, weights and assignment).
    period_date : np.ndarray
        Date of each row's period (election date or interview date).
    first_start : np.datetime64
        Earliest pilot start.
    n_draws : int
        Re-drawn assignments.
    rng : np.random.Generator

    Returns
    -------
    (p_value, n_restrictions)
        ``n_restrictions`` is the number of window periods minus one.
    """
    window = period_date < first_start
    if not window.any():
        return np.nan, 0
    sub = problem.subset(window)
    periods = np.unique(sub.projector.period)
    if len(periods) < 2:
        return np.nan, 0
    col = np.searchsorted(periods[:-1], sub.projector.period)  # last window period is the reference
    col = np.where(sub.projector.period == periods[-1], -1, col)
    n_k, n_j = len(periods) - 1, len(sub.assignment.observed)
    gram, rhs = _indicator_moments(sub.projector, sub.row_cluster, col, n_k, n_j, sub.y)
    gram = gram.reshape(n_j, n_k * n_j * n_k)
    pool = np.isin(np.arange(n_j), sub.row_cluster)
    draws, exhaustive = sub.assignment.draw(n_draws, rng, pool)
    select = (np.vstack([sub.assignment.observed, draws]) >= 0).astype(float)  # (1 + B) x J
    cross = np.einsum("bkil,bi->bkl", (select @ gram).reshape(len(select), n_k, n_j, n_k), select)
    ok = np.linalg.cond(cross) < 1e10
    delta = np.full((len(select), n_k), np.nan)
    delta[ok] = np.linalg.solve(cross[ok], (select[ok] @ rhs.reshape(n_j, n_k))[..., None])[..., 0]
    if not ok[0]:
        return np.nan, n_k
    # an enumeration contains the observed assignment: the reference set is the draws alone
    reference = delta[1:] if exhaustive else delta
    reference = reference[np.all(np.isfinite(reference), axis=1)]
    if len(reference) < n_k + 2:
        return np.nan, n_k
    centred = reference - reference.mean(axis=0)
    omega = np.linalg.pinv(centred.T @ centred / (len(centred) - 1), hermitian=True)
    t_obs = float(delta[0] @ omega @ delta[0])
    t_draws = np.einsum(
        "bk,kl,bl->b",
        delta[1:][np.all(np.isfinite(delta[1:]), axis=1)],
        omega,
        delta[1:][np.all(np.isfinite(delta[1:]), axis=1)],
    )
    exceed = int(np.sum(t_draws >= t_obs * (1 - 1e-10)))
    return (exceed / len(t_draws) if exhaustive else (1 + exceed) / (1 + len(t_draws))), n_k


def pilot_event_study(
    problem: DidProblem,
    rel_time: np.ndarray,
    election: np.ndarray,
    pilot: int,
    first_election: np.ndarray,
    level: float,
) -> pd.DataFrame:
    """Event study of one pilot municipality with Conley-Taber-FP intervals (see module docstring).

    Parameters
    ----------
    problem : DidProblem
        The programme turnout problem (all rows).
    rel_time : np.ndarray
        Elections since the row's own first treated election (NaN for controls).
    election : np.ndarray
        Election index of each row.
    pilot : int
        Municipality index of the pilot.
    first_election : np.ndarray
        First treated election index per cohort.
    level : float
        Interval coverage.

    Returns
    -------
    pd.DataFrame
        ``rel_time``, ``estimate``, ``se`` (size-model sd of the placebos),
        ``ci_low``, ``ci_high``, ``pretrend_p_value_permutation``,
        ``pretrend_permutation_df``, ``n_placebos``; empty with fewer than five
        controls.
    """
    controls = problem.assignment.observed < 0
    ctrl_rows = controls[problem.row_cluster]
    idx = np.flatnonzero(controls)
    if len(idx) < 5:
        return pd.DataFrame()
    mine = problem.row_cluster == pilot
    times = sorted({int(k) for k in rel_time[mine] if np.isfinite(k)} - {REFERENCE})
    keep = mine | ctrl_rows
    sub = problem.subset(keep)
    x = np.column_stack([(rel_time[keep] == k).astype(float) for k in times])
    estimate = fit_within(sub.projector, sub.y, x, tuple(f"rel_{k}" for k in times), sub.row_cluster).coef
    # placebos: the pilot's start given to each control alone, on the controls only
    ctrl = problem.subset(ctrl_rows)
    rel_placebo = election[ctrl_rows] - first_election[problem.assignment.observed[pilot]]
    col = np.array([times.index(int(r)) if int(r) in times else -1 for r in rel_placebo])
    n_k = len(times)
    gram, rhs = _indicator_moments(ctrl.projector, ctrl.row_cluster, col, n_k, len(controls), ctrl.y)
    cross = gram.reshape(len(controls), n_k, len(controls), n_k)[idx, :, idx, :]  # each control's own block
    rhs = rhs.reshape(len(controls), n_k)[idx]
    ok = np.linalg.cond(cross) < 1e10
    placebo = np.linalg.solve(cross[ok], rhs[ok][..., None])[..., 0]
    size = problem.cluster_size[idx][ok]
    rows, scaled_obs, scaled_placebo = [], 0.0, np.zeros(len(placebo))
    for i, k in enumerate(times):
        inf = conley_taber_fp(float(estimate[i]), placebo[:, i], size, float(problem.cluster_size[pilot]), level)
        rows.append(
            {"rel_time": k, "estimate": inf.estimate, "se": inf.se, "ci_low": inf.ci_low, "ci_high": inf.ci_high}
        )
        if k < REFERENCE:
            var_j, var_1 = size_model_variances(placebo[:, i], size, float(problem.cluster_size[pilot]))
            scaled_obs += estimate[i] ** 2 / var_1
            scaled_placebo += placebo[:, i] ** 2 / var_j
    n_leads = sum(k < REFERENCE for k in times)
    p = (1 + np.sum(scaled_placebo >= scaled_obs)) / (1 + len(placebo)) if n_leads else np.nan
    rows.append({"rel_time": REFERENCE, "estimate": 0.0, "se": 0.0, "ci_low": 0.0, "ci_high": 0.0})
    out = pd.DataFrame(rows).sort_values("rel_time").reset_index(drop=True)
    return out.assign(pretrend_p_value_permutation=p, pretrend_permutation_df=n_leads, n_placebos=len(placebo))
