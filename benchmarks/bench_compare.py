"""Wall time of the ``compare`` stage on the demo-size panel, broken down by part.

Run: ``python benchmarks/bench_compare.py [--repeat 3] [--draws 999] [--demo]``.

Default data: the simulated panel of ``tests/comparison/simulate.py`` at demo
size (40 municipalities, ~420 districts x 7 elections, 30,000 survey rows);
``--demo`` uses ``data/processed/{validated,weighted}`` instead (run the
pipeline first).  Each part is timed by wrapping the private part functions of
:mod:`evaluation.comparison.programme`; the first repetition is reported separately
because it pays for imports and caches.  Target (issue 6): compare <= 6 s.
Set ``OPENBLAS_NUM_THREADS=1`` on a loaded machine: the linear algebra is on
small matrices and BLAS threads only add contention.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "comparison"))

import evaluation.comparison.programme as stage  # noqa: E402
from evaluation.variables import load_variables  # noqa: E402

PARTS = {
    "_turnout_rows": "turnout DiD",
    "_triple_rows": "turnout triple difference",
    "_staggered": "Callaway-Sant'Anna",
    "_turnout_event_study": "turnout event study + permutation pre-trend",
    "_pilot_rows": "pilot effects (Conley-Taber)",
    "_survey_rows": "survey outcomes (cells)",
    "_respondent_fe_rows": "survey respondent FE panel",
    "_gap_rows": "survey gap triple difference",
    "_survey_event_study": "survey event studies",
    "_placebo_size": "placebo size",
    "_power": "power",
    "_matched_rows": "matched controls + matched DiD",
    "_pilot_event_studies": "per-pilot event studies",
}


def _data(demo: bool) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, str], dict]:
    """Turnout, areas, survey, the survey outcomes (name -> kind) and gaps of the demo run or of a simulation."""
    if demo:
        turnout = pd.read_parquet(REPO / "data/processed/validated/turnout.parquet")
        areas = pd.read_parquet(REPO / "data/processed/validated/areas.parquet")
        survey = pd.read_parquet(REPO / "data/processed/weighted/survey.parquet")
        variables = load_variables(REPO / "config" / "variables.yaml")
        kinds = {name: outcome.kind for name, outcome in variables.outcomes.items() if name in survey.columns}
        return turnout, areas, survey.assign(design_weight=survey["weight"]), kinds, variables.gaps
    from simulate import SURVEY_GAPS, SURVEY_KINDS, simulate_survey, simulate_turnout

    rng = np.random.default_rng(7)
    turnout, areas = simulate_turnout(rng, n_municipalities=40, n_pilots=7, effect_pp=1.0)
    areas = areas.assign(
        median_income=rng.normal(450_000, 40_000, len(areas)), share_immigrant=rng.uniform(0.05, 0.3, len(areas))
    )
    return turnout, areas, simulate_survey(rng, areas), SURVEY_KINDS, SURVEY_GAPS


def _instrument(totals: dict[str, float]) -> None:
    """Wrap the part functions so that each call adds its *exclusive* time to ``totals``."""
    stack: list[float] = []

    def wrap(name, fn):
        def timed(*args, **kwargs):
            stack.append(0.0)
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                inner = stack.pop()
                totals[name] += elapsed - inner
                if stack:
                    stack[-1] += elapsed

        return timed

    for name in PARTS:
        setattr(stage, name, wrap(name, getattr(stage, name)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--draws", type=int, default=999, help="permutation and bootstrap draws")
    parser.add_argument("--demo", action="store_true", help="use the demo pipeline's processed data")
    args = parser.parse_args()
    turnout, areas, survey, kinds, gaps = _data(args.demo)
    totals: dict[str, float] = defaultdict(float)
    _instrument(totals)
    walls = []
    for i in range(args.repeat):
        totals.clear()
        start = time.perf_counter()
        stage.compare(turnout, areas, survey, outcomes=kinds, n_permutations=args.draws, n_bootstrap=args.draws, seed=1)
        walls.append(time.perf_counter() - start)
        if i == 0:
            first = dict(totals)
    print(
        f"districts {turnout['area_code'].nunique()}, elections {turnout['election_date'].nunique()}, "
        f"survey rows {len(survey)}, draws {args.draws}"
    )
    print("| part | first run (s) | last run (s) |\n| --- | --- | --- |")
    for name, label in PARTS.items():
        print(f"| {label} | {first.get(name, 0.0):.2f} | {totals.get(name, 0.0):.2f} |")
    rest = walls[-1] - sum(totals.values())
    print(f"| other (panel, trends, assembly) | {walls[0] - sum(first.values()):.2f} | {rest:.2f} |")
    print(f"| **compare() total** | {walls[0]:.2f} | {walls[-1]:.2f} (best {min(walls):.2f}) |")


if __name__ == "__main__":
    main()
