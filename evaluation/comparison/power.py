"""Minimum detectable effects for a number of pilot municipalities.

The sampling variability of the DiD under no effect is measured directly on
the control municipalities: ``N`` fake pilots (cohort start dates taken in
turn from the observed cohorts) are drawn at random many times and the TWFE
DiD is computed for each draw.  With ``sd_N`` the standard deviation of these
placebo estimates, the minimum detectable effect for a two-sided test at
level ``alpha`` with power ``1 - kappa`` is (Bloom 1995)

    MDE_N = (z_{1 - alpha/2} + z_{1 - kappa}) * sd_N.

References
----------
Bloom, H. S. (1995). Minimum detectable effects: a simple way to report the
statistical power of experimental designs. Evaluation Review 19(5).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation import distributions
from evaluation.comparison.did import DidProblem


def minimum_detectable_effects(
    problem: DidProblem,
    n_pilots: list[int],
    *,
    n_draws: int,
    rng: np.random.Generator,
    alpha: float = 0.05,
    power: float = 0.8,
) -> pd.DataFrame:
    """MDE (units of the outcome) for each number of pilots in ``n_pilots``.

    Returns
    -------
    pd.DataFrame
        ``n_pilots``, ``sd_placebo``, ``mde``, ``alpha``, ``power``, ``n_draws``.
    """
    controls = problem.assignment.observed < 0
    sub = problem.subset(controls[problem.row_cluster])
    idx = np.flatnonzero(controls)
    n_cohorts = max(problem.assignment.n_cohorts, 1)
    z = distributions.normal_quantile(1 - alpha / 2) + distributions.normal_quantile(power)
    rows = []
    for n in n_pilots:
        if n < 1 or n >= len(idx):
            continue
        draws = np.full((n_draws, len(controls)), -1, dtype=np.int64)
        chosen = np.argsort(rng.random((n_draws, len(idx))), axis=1)[:, :n]
        draws[np.arange(n_draws)[:, None], idx[chosen]] = np.arange(n) % n_cohorts
        est = sub.single().influence(draws, np.array([1.0])).dot(sub.y)
        sd = float(np.nanstd(est, ddof=1))
        rows.append(
            {"n_pilots": n, "sd_placebo": sd, "mde": z * sd, "alpha": alpha, "power": power, "n_draws": n_draws}
        )
    return pd.DataFrame(rows)
