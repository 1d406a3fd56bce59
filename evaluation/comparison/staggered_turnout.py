"""Callaway-Sant'Anna estimates of the turnout effect on the balanced district panel, with permutation inference."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.comparison.inference import t_inference, wald_test
from evaluation.comparison.influence import InfluenceDraws
from evaluation.comparison.panel import TurnoutPanel
from evaluation.comparison.randomization import CohortAssignment, SizeVarianceModel, StudentisedRandomizationTest
from evaluation.comparison.staggered import CallawaySantAnna, influence
from evaluation.comparison.within import WithinProjector


def callaway_santanna_turnout(
    panel: TurnoutPanel, n_permutations: int, level: float, rng: np.random.Generator
) -> tuple[list[dict], pd.DataFrame]:
    """Callaway-Sant'Anna on the balanced district panel: effect rows and dynamic event-study rows.

    Simple aggregation of the group-time ATTs with never-treated and with
    not-yet-treated controls (R ``did::aggte(type = "simple")``), each with its
    influence-function interval and a studentised permutation test over
    re-drawn cohort assignments; the dynamic event study uses the universal
    base period (every lead and lag against the last election before the pilot).
    """
    d = panel.data
    n_t = len(panel.elections)
    complete = d.groupby("area_code")["election_index"].transform("nunique") == n_t
    b = d.loc[complete].sort_values(["area_code", "election_index"])
    n_a = len(b) // n_t
    y = b["turnout_pp"].to_numpy().reshape(n_a, n_t)
    w = b["eligible_voters"].to_numpy().reshape(n_a, n_t).mean(axis=1)
    rel = b["rel_time"].to_numpy().reshape(n_a, n_t)[:, 0]
    groups = np.where(np.isfinite(rel), -rel, -1).astype(int)  # first treated election index
    unit = b["unit"].to_numpy().reshape(n_a, n_t)[:, 0]
    first = b["election_date"].to_numpy("datetime64[ns]").reshape(n_a, n_t)[0]
    cohort_group = np.searchsorted(first, panel.cohort_starts.to_numpy("datetime64[ns]"))
    proj = WithinProjector.build(
        b["area_code"].to_numpy(), b["election_index"].to_numpy(), b["eligible_voters"].to_numpy()
    )
    model = SizeVarianceModel(proj, b["unit"].to_numpy(), panel.units["size"].to_numpy())
    assignment = CohortAssignment(panel.units["cohort"].to_numpy(), len(panel.cohort_starts))
    present = np.isin(np.arange(len(assignment.observed)), unit)
    draws, exhaustive = assignment.draw(n_permutations, rng, present)
    draw_groups = np.where(draws[:, unit] >= 0, cohort_group[np.clip(draws[:, unit], 0, None)], -1)
    d_obs = b["treated"].to_numpy()
    rows, dyn = [], []
    n_treated = int(np.unique(unit[groups >= 0]).size)
    for control, method in (
        ("never_treated", "callaway_santanna"),
        ("not_yet_treated", "callaway_santanna_not_yet_treated"),
    ):
        cs = CallawaySantAnna(y, w, groups, unit, control=control)
        est, se = cs.aggregate("simple")
        n_cl = int(np.unique(unit).size)
        labels = dict(
            estimand="att_turnout",
            outcome="turnout",
            sample="programme",
            method=method,
            n_obs=len(b),
            n_clusters=n_cl,
            n_treated_clusters=n_treated,
        )
        rows.append(t_inference(est, se**2, n_cl - 1, level).tidy(inference="influence_function", **labels))
        h_all = influence(np.vstack([groups, draw_groups]), w, n_t, control=control).reshape(len(draws) + 1, -1).T
        test = StudentisedRandomizationTest(
            est,
            proj.transform(b["turnout_pp"].to_numpy()),
            -proj.transform(d_obs),
            h_all[:, 0],
            InfluenceDraws(h_all[:, 1:]),
            model,
            exhaustive,
        )
        rows.append(test.result(level).inference.tidy(inference="permutation", **labels))
        if control == "never_treated":
            # event study with the universal base (every lead and lag against the last election before the pilot)
            universal = CallawaySantAnna(y, w, groups, unit, control=control, base="universal")
            times, coef, cov = universal.dynamic()
            leads = [i for i, e in enumerate(times) if e < -1]
            f_stat, p = wald_test(coef, cov, np.eye(len(times))[leads], n_cl - 1) if leads else (np.nan, np.nan)
            dyn.append({"rel_time": -1, "estimate": 0.0, "se": 0.0, "ci_low": 0.0, "ci_high": 0.0})
            for e, c, v in zip(times, coef, np.diag(cov)):
                inf = t_inference(float(c), float(v), n_cl - 1, level)
                dyn.append({"rel_time": e, "estimate": c, "se": inf.se, "ci_low": inf.ci_low, "ci_high": inf.ci_high})
            dyn = [dict(r, pretrend_p_value=p, pretrend_f=f_stat, pretrend_df=len(leads)) for r in dyn]
    es = pd.DataFrame(dyn).sort_values("rel_time")
    es.insert(0, "method", "callaway_santanna")
    return rows, es
