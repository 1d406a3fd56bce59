"""``did`` and ``event_study``: two-way fixed-effects regressions on a DataFrame.

Thin layer over :mod:`evaluation.comparison` (``fit_within``, ``infer``,
``crv1``, ``wald_test``): the columns are checked and converted, the numbers
come from the validated cores.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from evaluation.api import columns as col
from evaluation.api.results import DidResult, EventStudyResult, tidy_frame, tidy_row
from evaluation.comparison.did import DidProblem, infer
from evaluation.comparison.inference import crv1, t_inference, wald_test
from evaluation.comparison.placebo import single_pilot_effect
from evaluation.comparison.randomization import CohortAssignment
from evaluation.comparison.twfe import fit_within
from evaluation.comparison.within import WithinProjector
from evaluation.errors import EstimationError

INFERENCE = {"crv1": "crv1", "crv3": "crv3", "wild": "wild_bootstrap_webb", "permutation": "permutation"}
RANDOMIZED = ("permutation", "conley_taber")  # re-assign whole clusters


def _assignment(cluster: np.ndarray, time: np.ndarray, treated: np.ndarray, column: str, cluster_column: str):
    """Cohorts for the randomization test: each cluster's set of treated periods.

    Returns ``(row_cluster, exposure, assignment)``; stops when treatment is
    not assigned by cluster and period (the test re-draws whole clusters).
    """
    row_cluster, cluster_labels = pd.factorize(cluster)
    period, _ = pd.factorize(time)
    cell = pd.DataFrame({"j": row_cluster, "s": period, "d": treated})
    mixed = cell.groupby(["j", "s"])["d"].transform("nunique").to_numpy() > 1
    if mixed.any():
        j = cluster_labels[row_cluster[mixed][0]]
        raise EstimationError(
            f"treated column {column!r}: units of cluster {col.show(j)} ({cluster_column!r}) differ in treatment in the same "
            "period; the permutation test re-assigns whole clusters, so treatment must be set by cluster and period "
            "(drop 'permutation' and 'conley_taber' from inference=)"
        )
    treated_periods = cell[cell["d"] > 0].groupby("j")["s"].agg(lambda s: tuple(sorted(set(s))))
    patterns = sorted(set(treated_periods))
    index = {p: c for c, p in enumerate(patterns)}
    observed = np.full(len(cluster_labels), -1)
    observed[treated_periods.index.to_numpy()] = [index[p] for p in treated_periods]
    exposure = np.column_stack([np.isin(period, p).astype(float) for p in patterns])
    return row_cluster, exposure, CohortAssignment(observed, len(patterns))


def did(
    data: pd.DataFrame,
    outcome: str,
    unit: str,
    time: str,
    treated: str,
    *,
    cluster: str | None = None,
    weights: str | None = None,
    inference: Sequence[str] = ("crv1", "crv3", "wild", "permutation"),
    n_draws: int = 999,
    seed: int | None = None,
    level: float = 0.95,
) -> DidResult:
    """Two-way fixed-effects difference-in-differences, ``outcome ~ treated | unit + time``.

    The estimand is the (weighted) TWFE coefficient of the 0/1 ``treated``
    column, as pyfixest ``feols("y ~ treated | unit + time", weights=...)``
    or R ``fixest::feols``.

    Parameters
    ----------
    data : pd.DataFrame
        Long panel, one row per unit and period (repeated rows are allowed).
    outcome, unit, time, treated : str
        Column names; ``treated`` holds 0/1 (or booleans).
    cluster : str, optional
        Cluster column (default ``unit``).  Clusters are also the units the
        permutation test re-assigns.
    weights : str, optional
        Analytic weights (default none).
    inference : sequence of str
        Any of ``"crv1"`` (fixest's small-sample factor, t with ``G - 1``
        df), ``"crv3"`` (cluster jackknife ``(G-1)/G sum (b_g - b)^2``,
        MacKinnon, Nielsen and Webb 2023; pyfixest's CRV3 multiplies the same
        sum by the CRV1 factor instead), ``"wild"`` (restricted wild cluster
        bootstrap, Webb weights, test-inversion interval) and
        ``"permutation"`` (studentised randomization test re-assigning the
        clusters' treatment patterns, Ferman-Pinto variance model with
        cluster size = the cluster's total weight per period).  With one
        treated cluster, ``"conley_taber"`` gives the Conley-Taber interval
        with the Ferman-Pinto size correction (placebo DiDs giving the
        treated cluster's pattern to each never-treated cluster; its
        ``std_error`` is the size model's placebo standard deviation).
    n_draws : int
        Bootstrap and permutation draws.
    seed : int, optional
        Seed of the ``numpy.random.Generator`` used for the draws.
    level : float
        Interval coverage.

    Returns
    -------
    DidResult
        ``.tidy()`` has one row per inference method (term ``treated``).

    Raises
    ------
    EstimationError
        A missing column, a missing unit or time, a non-binary ``treated``, a
        constant outcome, a non-positive weight, an unknown inference method,
        or (for ``"permutation"``) treatment that varies within a cluster and
        period.
    """
    cluster = unit if cluster is None else cluster
    col.require_columns(data, outcome=outcome, unit=unit, time=time, treated=treated, cluster=cluster, weights=weights)
    unknown = [m for m in inference if m not in (*INFERENCE, "conley_taber")]
    if unknown or not inference:
        raise EstimationError(
            f"inference: unknown method(s) {unknown}; expected some of {', '.join(INFERENCE)}, conley_taber"
        )
    units = col.labels(data, unit, "unit")
    times = col.labels(data, time, "time")
    clusters = col.labels(data, cluster, "cluster")
    y = col.outcome(data, outcome)
    d = col.binary(data, treated)
    w = col.weights(data, weights)
    if any(m in RANDOMIZED for m in inference):
        row_cluster, exposure, assignment = _assignment(clusters, times, d, treated, cluster)
    else:
        row_cluster = pd.factorize(clusters)[0]
        exposure, assignment = d[:, None], CohortAssignment(np.full(row_cluster.max() + 1, -1), 1)
    n_periods = len(pd.unique(times))
    size = np.bincount(row_cluster, weights=w) / n_periods
    problem = DidProblem(
        projector=WithinProjector.build(units, times, w),
        y=y,
        treatment=d,
        multipliers=np.ones((len(y), 1)),
        names=(treated,),
        row_cluster=row_cluster,
        exposure=exposure,
        assignment=assignment,
        cluster_size=size,
    )
    fit = problem.fit()
    methods = tuple(INFERENCE[m] for m in inference if m in INFERENCE)
    results = infer(
        problem,
        np.ones(1),
        n_permutations=n_draws,
        n_bootstrap=n_draws,
        level=level,
        rng=np.random.default_rng(seed),
        methods=methods,
        fit=fit,
    )
    if "conley_taber" in inference:
        pilots = np.flatnonzero(assignment.observed >= 0)
        if len(pilots) != 1:
            raise EstimationError(
                f"inference='conley_taber': needs exactly one treated cluster ({cluster!r}), found {len(pilots)}"
            )
        results["conley_taber"] = single_pilot_effect(problem, int(pilots[0]), level)[0]
    rows = [tidy_row(treated, results[INFERENCE.get(m, m)], m) for m in inference]
    notes = {
        "observations": fit.n_obs,
        "clusters": f"{fit.n_clusters} ({cluster})",
        "treated clusters": problem.n_treated_clusters,
        "weights": weights or "none",
        "draws (wild, permutation)": n_draws,
        "seed": seed,
        "level": level,
    }
    return DidResult(tidy_frame(rows), notes)


def _event_regressors(
    g: np.ndarray, rel: np.ndarray, w: np.ndarray, times: list[int], method: str
) -> tuple[np.ndarray, tuple[str, ...], np.ndarray]:
    """Regressors, their names and the matrix ``A`` with event-time coefficients ``A beta``.

    ``twfe``: one dummy per event time, ``A = I``.  ``sun_abraham``: one dummy
    per cohort and event time; event time ``k`` averages its cohorts'
    coefficients with weights ``n_gk / sum_g n_gk`` (``n_gk`` the weight of
    cohort ``g``'s rows at event time ``k``), treated as fixed (fixest
    ``sunab``, pyfixest ``SaturatedEventStudy.aggregate``).
    """
    if method == "twfe":
        x = np.column_stack([(rel == k).astype(float) for k in times])
        return x, tuple(f"event_time={k}" for k in times), np.eye(len(times))
    cells = sorted({(int(c), int(k)) for c, k in zip(g, rel) if c >= 0 and int(k) in times})
    x = np.column_stack([((g == c) & (rel == k)).astype(float) for c, k in cells])
    mass = w @ x
    combine = np.array([[m if k == e else 0.0 for (_, k), m in zip(cells, mass)] for e in times])
    combine /= combine.sum(axis=1, keepdims=True)
    return x, tuple(f"cohort={c}:event_time={k}" for c, k in cells), combine


def event_study(
    data: pd.DataFrame,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    *,
    ref: int = -1,
    cluster: str | None = None,
    weights: str | None = None,
    method: str = "twfe",
    level: float = 0.95,
) -> EventStudyResult:
    """Event study: dynamic TWFE, ``outcome ~ sum_{k != ref} 1[event_time = k] | unit + time``, or Sun-Abraham.

    ``event_time`` counts periods (positions among the panel's distinct
    ``time`` values) from the unit's cohort; never-treated units have no
    event-time dummy.  Same estimand as pyfixest ``feols("y ~ i(rel, ref=-1)
    | unit + time")`` with ``rel`` the event time.  CRV1 standard errors and
    t intervals with ``G - 1`` df; leads (``k < ref``) are tested jointly by a
    Wald F test with ``(q, G - 1)`` df.

    Parameters
    ----------
    data : pd.DataFrame
        Long panel.
    outcome, unit, time : str
        Column names; ``time`` must be numeric (it orders the periods).
    cohort : str
        First treated period of the unit (a value of ``time``); NaN or 0 for
        never treated.
    ref : int
        Omitted (reference) event time.
    cluster : str, optional
        Cluster column (default ``unit``).
    weights : str, optional
        Analytic weights.
    method : {"twfe", "sun_abraham"}
        ``"sun_abraham"``: the interaction-weighted estimator of Sun and
        Abraham (2021): cohort x event-time dummies, never-treated units as
        the comparison group, averaged per event time with the cohorts'
        (weighted) shares of the rows at that event time, the shares treated
        as fixed; same numbers as pyfixest ``SaturatedEventStudy`` and its
        ``aggregate()`` (pyfixest uses normal instead of t intervals).
    level : float
        Interval coverage.

    Returns
    -------
    EventStudyResult
        ``.tidy()`` has one row per event time other than ``ref``.

    Raises
    ------
    EstimationError
        Bad columns (see :func:`did`), a cohort that is not a period of the
        panel or differs within a unit, no never-treated unit, or collinear
        event-time dummies.
    """
    if method not in ("twfe", "sun_abraham"):
        raise EstimationError(f"event_study: method must be 'twfe' or 'sun_abraham', got {method!r}")
    cluster = unit if cluster is None else cluster
    col.require_columns(data, outcome=outcome, unit=unit, time=time, cohort=cohort, cluster=cluster, weights=weights)
    units = col.labels(data, unit, "unit")
    clusters = col.labels(data, cluster, "cluster")
    periods = col.periods(data, time)
    y = col.outcome(data, outcome)
    w = col.weights(data, weights)
    col.constant_within(data, cohort, unit, "cohort")
    g = col.cohorts(data, cohort, periods)
    if not (g < 0).any():
        raise EstimationError(
            f"cohort column {cohort!r}: no never-treated unit (NaN or 0); with every unit treated the event-time "
            "dummies are collinear with the time effects"
        )
    position = np.searchsorted(periods, col.numeric(data, time, "time"))
    rel = np.where(g >= 0, position - g, np.nan)
    times = sorted({int(k) for k in rel[np.isfinite(rel)]} - {ref})
    if ref not in set(rel[np.isfinite(rel)].astype(int)):
        raise EstimationError(f"event_study: no treated unit is observed at the reference event time ref={ref}")
    x, names, combine = _event_regressors(g, rel, w, times, method)
    fit = fit_within(WithinProjector.build(units, position, w), y, x, names, clusters)
    coef, cov = combine @ fit.coef, combine @ crv1(fit) @ combine.T
    df = fit.n_clusters - 1
    rows = [
        tidy_row(f"event_time={k}", t_inference(float(b), float(v), df, level), "crv1")
        for k, b, v in zip(times, coef, np.diag(cov))
    ]
    leads = [i for i, k in enumerate(times) if k < ref]
    f_stat, p = wald_test(coef, cov, np.eye(len(times))[leads], df) if leads else (np.nan, np.nan)
    pretrend = {"F": f_stat, "df": (len(leads), df), "p_value": p}
    notes = {
        "method": method,
        "observations": fit.n_obs,
        "clusters": f"{fit.n_clusters} ({cluster})",
        "weights": weights or "none",
    }
    return EventStudyResult(tidy_frame(rows), np.array(times), ref, pretrend, notes)
