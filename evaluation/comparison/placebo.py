"""Placebo checks: single-pilot Conley-Taber placebos and the placebo-size check.

*Single pilot.*  With one treated municipality cluster-robust standard errors
are invalid.  :func:`single_pilot_effect` estimates the DiD of one pilot
municipality against the control municipalities and takes its interval and
p-value from placebo DiDs that give the pilot's start date to each control
in turn (Conley and Taber 2011, with the Ferman and Pinto 2019 size
correction; see :func:`~evaluation.comparison.randomization.conley_taber_fp`).

*Placebo size.*  :func:`placebo_size` drops the real pilots, assigns the same
number of fake pilots per cohort among the controls, and records how often
each inference method rejects ``H0: no effect`` at 5 %.  A valid method
rejects about 5 % of the time (Monte-Carlo standard error
``sqrt(0.05 * 0.95 / R)`` for ``R`` replications).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.comparison.did import METHODS, DidProblem, infer
from evaluation.comparison.inference import Inference
from evaluation.comparison.randomization import SizeVarianceModel, conley_taber_fp
from evaluation.errors import EstimationError


def single_pilot_effect(problem: DidProblem, pilot: int, level: float) -> tuple[Inference, int, int]:
    """DiD of municipality ``pilot`` against never-treated municipalities, with a Conley-Taber-FP interval.

    Returns
    -------
    (Inference, n_obs, n_placebos)
        ``se`` is the size-model standard deviation of the placebos at the
        pilot's size (not a cluster-robust standard error).
    """
    controls = problem.assignment.observed < 0
    cohort = int(problem.assignment.observed[pilot])
    keep = (problem.row_cluster == pilot) | controls[problem.row_cluster]
    sub = problem.subset(keep)
    estimate = float(sub.fit().coef[0])
    ctrl_rows = controls[problem.row_cluster]
    ctrl = problem.subset(ctrl_rows)
    idx = np.flatnonzero(controls)
    if len(idx) < 5:
        raise EstimationError(f"single-pilot effect: only {len(idx)} control municipalities for placebos")
    draws = np.full((len(idx), len(controls)), -1, dtype=np.int64)
    draws[np.arange(len(idx)), idx] = cohort
    placebo = ctrl.single().influence(draws, np.array([1.0])).dot(ctrl.y)
    ok = np.isfinite(placebo)
    inf = conley_taber_fp(
        estimate, placebo[ok], problem.cluster_size[idx][ok], float(problem.cluster_size[pilot]), level
    )
    return inf, int(keep.sum()), int(ok.sum())


def placebo_size(
    problem: DidProblem,
    *,
    n_replications: int,
    n_draws: int,
    rng: np.random.Generator,
    methods: tuple[str, ...] = METHODS,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Rejection rates of each inference method under fake pilots among the controls.

    The real pilots are dropped.  ``n_replications`` fake assignments (same
    number of pilots per cohort) are drawn among the controls; each is tested
    with every method at level ``alpha``.  Under ``H0: beta = 0`` the
    restricted residuals do not depend on the fake assignment, so the
    randomization statistics of one common set of ``n_draws`` reference
    assignments serve every replication (the reference draws are independent
    of the fake pilots, which keeps each test exact).

    Returns
    -------
    pd.DataFrame
        ``inference``, ``rejection_rate``, ``mc_se`` (``sqrt(alpha (1 - alpha) / R)``),
        ``n_replications`` (replications where the method gave a p-value),
        ``alpha``, ``n_fake_pilots``, ``n_draws``.
    """
    controls = problem.assignment.observed < 0
    sub = problem.subset(controls[problem.row_cluster])
    draws, _ = sub.assignment.draw(n_replications + n_draws, rng, pool=controls)
    fakes = draws[:n_replications]
    rejections: dict[str, list[bool]] = {m: [] for m in methods}
    if "permutation" in methods:
        h = sub.single().influence(draws, np.array([1.0]))
        resid = sub.projector.transform(sub.y)
        model = SizeVarianceModel(sub.projector, sub.row_cluster, sub.cluster_size)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.abs(h.dot(resid)) / np.sqrt(model.quadratic_forms(h).variance(model.fit(resid)))
        reference = t[n_replications:][np.isfinite(t[n_replications:])]
        for t_r in t[:n_replications]:
            if np.isfinite(t_r):
                p = (1 + np.sum(reference >= t_r * (1 - 1e-10))) / (1 + len(reference))
                rejections["permutation"].append(bool(p < alpha))
    others = tuple(m for m in methods if m != "permutation")
    for fake in fakes:
        res = infer(
            sub.with_assignment(fake),
            np.array([1.0]),
            n_permutations=n_draws,
            n_bootstrap=n_draws,
            level=1 - alpha,
            rng=rng,
            methods=others,
            intervals=False,
        )
        for m, r in res.items():
            if np.isfinite(r.p_value):
                rejections[m].append(bool(r.p_value < alpha))
    rows = []
    for m, rej in rejections.items():
        rate = float(np.mean(rej)) if rej else np.nan
        rows.append(
            {
                "inference": m,
                "rejection_rate": rate,
                "mc_se": float(np.sqrt(alpha * (1 - alpha) / max(len(rej), 1))),
                "n_replications": len(rej),
                "alpha": alpha,
                "n_fake_pilots": int(sub.assignment.counts.sum()),
                "n_draws": n_draws,
            }
        )
    return pd.DataFrame(rows)
