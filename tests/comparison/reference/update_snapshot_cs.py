"""Refresh, in ``snapshot/*.parquet``, only the columns that the Callaway-Sant'Anna share influence changed.

Issue 15, item 3: the aggregated Callaway-Sant'Anna standard errors now include
the influence of the estimated cohort shares (R ``did::aggte``'s ``wif``;
checked against csdid in ``test_cs_aggregation.py``).  That changes, and only
changes, the interval columns of the Callaway-Sant'Anna rows: in ``effects``
the ``influence_function`` rows' ``se``, ``ci_low``, ``ci_high``, ``p_value``;
in ``event_study`` the ``callaway_santanna`` rows' ``se``, ``ci_low``,
``ci_high``, ``pretrend_p_value``, ``pretrend_f``.  Every other value of the
first release's snapshot is kept as it was.  Run once from the repository root:

    .venv/bin/python tests/comparison/reference/update_snapshot_cs.py
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from simulate import SURVEY_KINDS, simulate_survey, simulate_turnout  # noqa: E402

from evaluation.comparison.programme import compare  # noqa: E402

CHANGED = {
    "effects": (
        ["estimand", "outcome", "sample", "method", "inference"],
        lambda d: d["method"].str.startswith("callaway_santanna") & (d["inference"] == "influence_function"),
        ["se", "ci_low", "ci_high", "p_value"],
    ),
    "event_study": (
        ["outcome", "sample", "method", "rel_time"],
        lambda d: d["method"] == "callaway_santanna",
        ["se", "ci_low", "ci_high", "pretrend_p_value", "pretrend_f"],
    ),
}

if __name__ == "__main__":
    rng = np.random.default_rng(42)
    turnout, areas = simulate_turnout(rng, n_municipalities=30, n_pilots=6, effect_pp=2.0, districts=(2, 8))
    survey = simulate_survey(rng, areas, n_respondents=3000, trust_effect=0.5)
    result = compare(
        turnout,
        areas,
        survey,
        outcomes=SURVEY_KINDS,
        n_permutations=199,
        n_bootstrap=199,
        seed=1,
        n_placebo_replications=40,
        n_placebo_draws=99,
        n_power_draws=99,
    )
    for name, (keys, rows, columns) in CHANGED.items():
        path = HERE / "snapshot" / f"{name}.parquet"
        old = pd.read_parquet(path)
        new = old[keys].merge(result[name], on=keys, how="left")
        mask = rows(old).to_numpy()
        for col in columns:
            print(
                f"{name}.{col}: {int(mask.sum())} rows, max |change| {np.nanmax(np.abs(new[col] - old[col])[mask]):.6g}"
            )
            old.loc[mask, col] = new.loc[mask, col].to_numpy()
        old.to_parquet(path, index=False)
