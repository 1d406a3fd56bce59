"""``staggered_did``: Callaway-Sant'Anna group-time ATTs on a DataFrame.

Thin layer over :class:`evaluation.comparison.staggered.CallawaySantAnna`: the
columns are checked and reshaped into the balanced ``units x periods`` arrays
the core takes.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from evaluation.api import columns as col
from evaluation.api.results import StaggeredResult, tidy_frame, tidy_row
from evaluation.comparison.inference import t_inference
from evaluation.comparison.staggered import CallawaySantAnna
from evaluation.errors import EstimationError

CONTROL = {"never": "never_treated", "not_yet": "not_yet_treated"}
METHOD = "influence_function"
EST_METHODS = ("dr", "ipw", "reg")


def _balanced(data: pd.DataFrame, unit: str, time: str, periods: np.ndarray) -> pd.DataFrame:
    """Rows sorted by unit and period; stops unless every unit has exactly one row per period."""
    counts = data.groupby([unit, time]).size()
    if (counts > 1).any():
        u, t = counts[counts > 1].index[0]
        raise EstimationError(
            f"unit column {unit!r}: unit {col.show(u)} has {counts.max()} rows in period {col.show(t)}; expected one"
        )
    per_unit = counts.groupby(level=0).size()
    short = per_unit[per_unit < len(periods)]
    if len(short):
        raise EstimationError(
            f"time column {time!r}: unit {col.show(short.index[0])} is observed in {short.iloc[0]} of {len(periods)} periods "
            f"({len(short)} unit(s) incomplete); staggered_did needs a balanced panel"
        )
    return data.sort_values([unit, time], kind="stable")


def _row(term: str, estimate: float, psi: np.ndarray, level: float) -> dict:
    """Tidy row with a normal interval; a zero influence (one unit on each side of every cell) has no SE."""
    variance = float(psi @ psi)
    return tidy_row(term, t_inference(estimate, variance if variance > 0 else np.nan, np.inf, level), METHOD)


def staggered_did(
    data: pd.DataFrame,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    *,
    control: str = "never",
    weights: str | None = None,
    cluster: str | None = None,
    covariates: Sequence[str] | None = None,
    est_method: str = "dr",
    anticipation: int = 0,
    level: float = 0.95,
) -> StaggeredResult:
    """Callaway and Sant'Anna (2021) group-time ATTs and their aggregations, as R ``did::att_gt`` + ``aggte``.

    Parallel trends unconditional or given ``covariates``, varying base
    period, balanced panel.  ``ATT(g, t)`` is the weighted 2x2 DiD of cohort
    ``g`` against the comparison group (with covariates, the doubly robust,
    IPW or regression estimator of Sant'Anna and Zhao 2020, as ``did``'s
    ``est_method``); the aggregations weight cohorts by their share of
    (weighted) units, and their standard errors include the influence of the
    estimated shares.  Standard errors are the analytic influence-function
    ones (csdid ``bstrap=False``; with ``cluster``, the influence summed per
    cluster, as csdid's analytic clustered SE), intervals and p-values normal.
    Event times of the dynamic aggregation count periods (positions among the
    panel's distinct ``time`` values): R ``did``'s ``t - g`` when the periods
    are consecutive integers.

    Parameters
    ----------
    data : pd.DataFrame
        Balanced long panel: one row per unit and period.
    outcome, unit, time : str
        Column names; ``time`` must be numeric.
    cohort : str
        First treated period (a value of ``time``); NaN or 0 for never
        treated.  Units treated in the first period cannot be used and are
        dropped with a warning, as R ``did`` does; so are, with
        ``control="not_yet"`` and no never-treated unit, the periods from the
        last cohort's start on (that cohort is then the comparison group).
    control : {"never", "not_yet"}
        Comparison group: never-treated units, or units not yet treated.
    weights : str, optional
        Unit weights (constant within unit), for example eligible voters.
    cluster : str, optional
        Cluster column (constant within unit); default ``unit``.
    covariates : sequence of str, optional
        Numeric covariate columns of conditional parallel trends (R ``did``'s
        ``xformla = ~ x1 + x2``); a cell uses their values in the earlier of
        its two periods, as ``did`` does.
    est_method : {"dr", "ipw", "reg"}
        Estimator of a cell with covariates: doubly robust (the default of
        ``did``), normalised inverse probability weighting, or outcome
        regression.  Without covariates all three are the 2x2 DiD.
    anticipation : int
        Periods before the cohort's start in which the treatment may already
        act (``did``'s ``anticipation``, counted in periods of the panel):
        cells from ``cohort - anticipation`` on are compared with the period
        before it, and not-yet-treated comparison units must start after
        ``max(t, base) + anticipation``.
    level : float
        Interval coverage.

    Returns
    -------
    StaggeredResult
        ``.att_gt()``, ``.aggregate("simple" | "group" | "dynamic")``,
        ``.tidy()`` (the simple aggregation), ``.summary()``, ``.plot()``;
        ``band="uniform"`` on ``att_gt`` and ``aggregate`` gives did's
        multiplier-bootstrap simultaneous band (``cband = TRUE``).

    Raises
    ------
    EstimationError
        A missing column, a missing unit or time, a constant outcome, an
        unbalanced panel, a cohort that is not a period of the panel or
        differs within a unit, weights or clusters that vary within a unit,
        no never-treated unit with ``control="never"``, a covariate that is
        missing, not numeric or constant, a cohort without a period before
        its anticipation window.
    """
    if control not in CONTROL:
        raise EstimationError(f"control: expected 'never' or 'not_yet', got {control!r}")
    if est_method not in EST_METHODS:
        raise EstimationError(f"est_method: expected one of {', '.join(map(repr, EST_METHODS))}, got {est_method!r}")
    if isinstance(anticipation, bool) or not isinstance(anticipation, (int, np.integer)) or anticipation < 0:
        raise EstimationError(f"anticipation: expected a whole number of periods >= 0, got {anticipation!r}")
    covariates = [covariates] if isinstance(covariates, str) else list(covariates or [])
    cluster = unit if cluster is None else cluster
    col.require_columns(data, outcome=outcome, unit=unit, time=time, cohort=cohort, cluster=cluster, weights=weights)
    col.require_columns(data, **{f"covariates[{k}]": c for k, c in enumerate(covariates)})
    for c in covariates:
        x = col.numeric(data, c, "covariate")
        if np.ptp(x) == 0:
            raise EstimationError(
                f"covariate column {c!r}: constant ({x[0]:g} on every row); it is collinear with the intercept"
            )
    col.labels(data, unit, "unit")
    col.labels(data, cluster, "cluster")
    periods = col.periods(data, time)
    col.outcome(data, outcome)
    for column, role in ((cohort, "cohort"), (weights, "weights"), (cluster, "cluster")):
        if column is not None:
            col.constant_within(data, column, unit, role)
    d = _balanced(data, unit, time, periods)
    cohort_values = pd.to_numeric(d[cohort], errors="coerce")
    if control == "not_yet" and cohort_values.notna().all() and not (cohort_values == 0).any():
        last = cohort_values.max()
        warnings.warn(
            f"staggered_did: no never-treated unit; dropped the periods from {last:g} on, so that cohort {last:g} "
            "is the comparison group of the last periods, as R did does",
            stacklevel=2,
        )
        keep = d[time].to_numpy(float) < last
        d = d.loc[keep].assign(**{cohort: cohort_values.where(cohort_values != last)[keep]})
        periods = periods[periods < last]
    g = col.cohorts(d, cohort, periods)
    first = g == 0
    if first.any():
        warnings.warn(
            f"staggered_did: dropped {len(pd.unique(d.loc[first, unit]))} unit(s) already treated in the first "
            f"period ({periods[0]:g}), as R did does",
            stacklevel=2,
        )
        d, g = d.loc[~first], g[~first]
    n_t = len(periods)
    early = (g >= 0) & (g <= anticipation)
    if anticipation and early.any():
        raise EstimationError(
            f"cohort column {cohort!r}: cohort {periods[g[early][0]]:g} in {col.rows(d, early)} has no period before "
            f"its anticipation window of {anticipation} period(s) (the panel starts in {periods[0]:g}); "
            "drop those units or lower anticipation"
        )
    if control == "never" and not (g < 0).any():
        raise EstimationError(f"cohort column {cohort!r}: no never-treated unit (NaN or 0); use control='not_yet'")
    core = CallawaySantAnna(
        outcome=col.outcome(d, outcome).reshape(-1, n_t),
        weight=col.weights(d, weights)[::n_t],
        groups=g[::n_t],
        cluster=pd.factorize(d[cluster].to_numpy()[::n_t])[0],
        control=CONTROL[control],
        covariates=(
            np.stack([col.numeric(d, c, "covariate").reshape(-1, n_t) for c in covariates], axis=-1)
            if covariates
            else None
        ),
        est_method=est_method,
        anticipation=int(anticipation),
    )
    gt, gt_influence = core.group_time_influence()
    group_time = pd.DataFrame(
        {
            "cohort": periods[gt["group"]],
            "time": periods[gt["period"]],
            "estimate": gt["att"],
            "std_error": gt["se"].where(gt["se"] > 0),  # as csdid: no SE from one unit on each side
        }
    )
    simple = [_row("simple", *core.aggregate_influence("simple"), level)]
    cohorts = sorted(gt["group"].unique())
    per_cohort = [core.cohort_influence(c) for c in cohorts]
    group = [_row(f"cohort={periods[c]:g}", *pair, level) for c, pair in zip(cohorts, per_cohort)]
    group.append(_row("average", *core.aggregate_influence("group"), level))
    event_times = core.event_times()
    pairs = [core.aggregate_influence("dynamic", e) for e in event_times]
    dynamic = [_row(f"event_time={e}", est, psi, level) for e, (est, psi) in zip(event_times, pairs)]
    post = [p for e, p in zip(event_times, pairs) if e >= 0]
    dynamic.append(
        _row("average", float(np.mean([e for e, _ in post])), np.mean([psi for _, psi in post], axis=0), level)
    )
    notes = {
        "units": len(core.weight),
        "periods": f"{n_t} ({periods[0]:g} to {periods[-1]:g})",
        "cohorts": ", ".join(f"{periods[c]:g}" for c in cohorts),
        "control group": CONTROL[control].replace("_", " "),
        "covariates": f"{', '.join(covariates)} ({est_method})" if covariates else "none",
        "anticipation": f"{anticipation} period(s)",
        "weights": weights or "none",
        "clusters": f"{int(core.cluster.max()) + 1} ({cluster})",
        "level": level,
    }
    aggregations = {"simple": tidy_frame(simple), "group": tidy_frame(group), "dynamic": tidy_frame(dynamic)}
    influence = {
        "att_gt": gt_influence,
        "group": np.column_stack([psi for _, psi in per_cohort]),
        "dynamic": np.column_stack([psi for _, psi in pairs]),
    }
    return StaggeredResult(group_time, aggregations, notes, influence, level)
