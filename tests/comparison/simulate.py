"""Small simulated district panels in the canonical table layout, for tests and benchmarks."""

from __future__ import annotations

import numpy as np
import pandas as pd

ELECTIONS = [
    ("local", 2011, "2011-09-12"),
    ("parliamentary", 2013, "2013-09-09"),
    ("local", 2015, "2015-09-14"),
    ("parliamentary", 2017, "2017-09-11"),
    ("local", 2019, "2019-09-09"),
    ("parliamentary", 2021, "2021-09-13"),
    ("local", 2023, "2023-09-11"),
]


def simulate_turnout(
    rng: np.random.Generator,
    n_municipalities: int = 40,
    n_pilots: int = 7,
    starts: tuple[str, ...] = ("2018-01-01", "2020-01-01"),
    effect_pp: float = 0.0,
    low_education_extra_pp: float = 0.0,
    muni_shock_pp: float = 1.5,
    districts: tuple[int, int] = (2, 20),
    pilot_munis: np.ndarray | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(turnout, areas)`` for a panel with municipality x election shocks.

    Pilot municipalities (all their districts) start at ``starts`` in turn; the
    effect is ``effect_pp`` (+ ``low_education_extra_pp`` in districts with
    a share of higher education below 0.25) in treated elections.
    """
    n_d = rng.integers(districts[0], districts[1] + 1, size=n_municipalities)
    codes = [f"{3000 + j:04d}" for j in range(n_municipalities)]
    pilots = rng.choice(n_municipalities, n_pilots, replace=False) if pilot_munis is None else np.asarray(pilot_munis)
    start_of = {int(m): starts[i % len(starts)] for i, m in enumerate(pilots)}
    area_rows = []
    for j, code in enumerate(codes):
        edu = np.clip(rng.normal(0.3, 0.05) + rng.normal(0, 0.08, n_d[j]), 0.02, 0.9)
        for d in range(n_d[j]):
            pilot = j in start_of
            area_rows.append(
                {
                    "area_code": f"{code}{d + 1:04d}",
                    "municipality_code": code,
                    "role": "pilot" if pilot else "control",
                    "pilot_start": pd.Timestamp(start_of[j]) if pilot else pd.NaT,
                    "cohort": pd.Timestamp(start_of[j]).year if pilot else pd.NA,
                    "pilot_type": "citizen_panel" if pilot else None,
                    "share_higher_education": float(edu[d]),
                    "population": int(rng.integers(400, 6000)),
                }
            )
    areas = pd.DataFrame(area_rows)
    areas["cohort"] = areas["cohort"].astype("Int64")
    n_e = len(ELECTIONS)
    muni_idx = areas["municipality_code"].map({c: j for j, c in enumerate(codes)}).to_numpy()
    shock = rng.normal(0, muni_shock_pp, size=(n_municipalities, n_e))
    base = rng.normal(0, 4, len(areas)) - 20 * (areas["share_higher_education"].to_numpy() - 0.3)
    level = np.array([60.0 if t == "local" else 77.0 for t, _, _ in ELECTIONS]) + np.linspace(0, 3, n_e)
    rows = []
    for e, (etype, year, date) in enumerate(ELECTIONS):
        eligible = np.maximum(50, (areas["population"].to_numpy() * rng.uniform(0.95, 1.05, len(areas)))).round()
        treated = (areas["pilot_start"] <= pd.Timestamp(date)).to_numpy()
        low = areas["share_higher_education"].to_numpy() < 0.25
        p = (
            level[e]
            + base
            + shock[muni_idx, e]
            + treated * (effect_pp + low * low_education_extra_pp)
            + rng.normal(0, 1.0, len(areas))
        ) / 100
        votes = rng.binomial(eligible.astype(int), np.clip(p, 0.01, 0.99))
        rows.append(
            pd.DataFrame(
                {
                    "area_code": areas["area_code"],
                    "municipality_code": areas["municipality_code"],
                    "election_type": etype,
                    "election_year": year,
                    "election_date": pd.Timestamp(date),
                    "eligible_voters": eligible.astype(int),
                    "votes_cast": votes,
                    "turnout": votes / eligible,
                }
            )
        )
    return pd.concat(rows, ignore_index=True), areas


WAVE_DATES = pd.date_range("2019-04-01", periods=10, freq="6MS")
SURVEY_KINDS = {
    "voted_local": "binary",
    "attended_meeting": "binary",
    "trust_local_politicians": "scale",
    "satisfaction_democracy": "scale",
}
"""The outcomes of :func:`simulate_survey`, in codebook order, with their kinds."""
SURVEY_GAPS = {"education": ("higher", "compulsory")}
"""The gap of :func:`simulate_survey` that is compared: higher minus compulsory education."""


def simulate_survey(
    rng: np.random.Generator,
    areas: pd.DataFrame,
    n_respondents: int = 10_000,
    waves_each: int = 3,
    trust_effect: float = 0.0,
) -> pd.DataFrame:
    """Citizen-panel rows (canonical ``survey`` layout): each respondent answers ``waves_each`` consecutive waves."""
    munis = areas.groupby("municipality_code")["pilot_start"].min()
    codes = munis.index.to_numpy()
    muni_of = rng.choice(len(codes), n_respondents)
    first = rng.integers(1, 11 - waves_each + 1, n_respondents)
    edu = rng.choice(["compulsory", "upper_secondary", "higher"], n_respondents, p=[0.25, 0.4, 0.35])
    person = rng.normal(0, 1.5, n_respondents)
    muni_trust = rng.normal(6, 0.5, len(codes))
    rows = []
    for k in range(waves_each):
        wave = first + k
        date = WAVE_DATES[wave - 1] + pd.to_timedelta(rng.integers(0, 40, n_respondents), unit="D")
        start = munis.to_numpy()[muni_of]
        treated = np.asarray(date >= pd.DatetimeIndex(start))
        trust = np.clip(
            np.round(muni_trust[muni_of] + person + treated * trust_effect + rng.normal(0, 1.5, n_respondents)), 0, 10
        )
        frame = pd.DataFrame(
            {
                "respondent_id": [f"r{i:06d}" for i in range(n_respondents)],
                "wave": wave,
                "interview_date": date,
                "municipality_code": codes[muni_of],
                "design_weight": rng.uniform(0.5, 2.0, n_respondents),
                "education": edu,
                "trust_local_politicians": trust,
                "voted_local": (rng.random(n_respondents) < 0.7).astype(float),
                "attended_meeting": (rng.random(n_respondents) < 0.15 + 0.05 * treated).astype(float),
                "satisfaction_democracy": rng.integers(1, 5, n_respondents).astype(float),
            }
        )
        frame.loc[rng.random(n_respondents) < 0.05, "trust_local_politicians"] = np.nan
        rows.append(frame)
    return pd.concat(rows, ignore_index=True)


FIRST_RELEASE_OPTIONS = dict(
    n_permutations=199, n_bootstrap=199, n_placebo_replications=40, n_placebo_draws=99, n_power_draws=99
)
"""The compare options of the first release's snapshot (``reference/snapshot``)."""


def first_release_data() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Turnout, areas and survey of the test panel the first release's snapshot was made on."""
    rng = np.random.default_rng(42)
    turnout, areas = simulate_turnout(rng, n_municipalities=30, n_pilots=6, effect_pp=2.0, districts=(2, 8))
    return turnout, areas, simulate_survey(rng, areas, n_respondents=3000, trust_effect=0.5)


def first_release_tables() -> dict[str, pd.DataFrame]:
    """The ``compare`` tables of :func:`first_release_data` with the first release's options (seed 1)."""
    from evaluation.comparison.programme import compare

    turnout, areas, survey = first_release_data()
    return compare(turnout, areas, survey, outcomes=SURVEY_KINDS, gaps=SURVEY_GAPS, seed=1, **FIRST_RELEASE_OPTIONS)
