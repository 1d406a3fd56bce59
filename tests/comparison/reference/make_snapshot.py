"""Write ``snapshot/*.parquet``: the ``compare`` tables of the first release on the test panel.

Produced with the code before the speed work (commit of issue 6, first
helper) and kept so that ``test_compare.py::test_same_results_as_before_the_speed_work``
shows that the faster code gives the same tables for the same seed.  Rerun
only when a result is meant to change:

    .venv/bin/python tests/comparison/reference/make_snapshot.py
"""

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from simulate import SURVEY_GAPS, SURVEY_KINDS, simulate_survey, simulate_turnout  # noqa: E402

from evaluation.comparison.programme import compare  # noqa: E402

TABLES = ("effects", "event_study", "pilot_effects", "turnout_trends", "placebo_size", "power")

if __name__ == "__main__":
    rng = np.random.default_rng(42)
    turnout, areas = simulate_turnout(rng, n_municipalities=30, n_pilots=6, effect_pp=2.0, districts=(2, 8))
    survey = simulate_survey(rng, areas, n_respondents=3000, trust_effect=0.5)
    result = compare(
        turnout,
        areas,
        survey,
        outcomes=SURVEY_KINDS,
        gaps=SURVEY_GAPS,
        n_permutations=199,
        n_bootstrap=199,
        seed=1,
        n_placebo_replications=40,
        n_placebo_draws=99,
        n_power_draws=99,
    )
    (HERE / "snapshot").mkdir(exist_ok=True)
    for name in TABLES:
        result[name].to_parquet(HERE / "snapshot" / f"{name}.parquet", index=False)
