"""The parts of the demo's ``truth.json``: pilots, turnout and survey effects, population values."""

from __future__ import annotations

from typing import Any

import pandas as pd

from evaluation.demo.outcomes import survey_effect_summary
from evaluation.demo.panel import allocate_respondents, wave_timing
from evaluation.demo.scenario import (
    DONT_KNOW,
    EDUCATION_CODES,
    ELECTION_TYPE_LABELS,
    ITEMS,
    NONRESPONSE_RATES,
    PLACEBO_OUTCOME,
    REFUSED,
    RESPONSE_FACTOR_UNDER_30,
    RESPONSE_PROPENSITY,
    RETENTION,
    TURNOUT_EFFECT,
    TURNOUT_EFFECT_LOW_EDUCATION,
    DemoConfig,
    Population,
    json_float,
)
from evaluation.demo.turnout import election_date, turnout_effect_summary
from evaluation.demo.writers import spss_name


def pilot_list(munis: pd.DataFrame, districts: pd.DataFrame) -> list[dict[str, Any]]:
    """The pilot municipalities with code, name, cohort, start, type, adult population and districts."""
    n_districts = districts.groupby("municipality").size()
    return [
        {
            "municipality_code": m.municipality_code,
            "municipality_name": m.municipality_name,
            "cohort": int(m.cohort),
            "pilot_start": m.pilot_start.isoformat(),
            "pilot_type": m.pilot_type,
            "adult_population": int(m.population),
            "n_districts": int(n_districts[index]),
        }
        for index, m in zip(munis.index, munis.itertuples())
        if m.role == "pilot"
    ]


def turnout_truth(turnout: pd.DataFrame, munis: pd.DataFrame, districts: pd.DataFrame, cutoff: float) -> dict[str, Any]:
    """The turnout part of truth.json."""
    cohort = munis["cohort"].to_numpy()[districts["municipality"].to_numpy()][turnout["district"].to_numpy()]
    low = districts["share_higher_education"].to_numpy() <= cutoff
    return {
        "description": (
            "Pilot effect on the turnout probability of a district in every election held on or "
            "after pilot_start (local and parliamentary). ATTs are weighted by eligible voters over "
            "treated district-elections; 'expected' uses the structural effect, 'realised' the "
            "difference between the coupled potential vote counts."
        ),
        "effect_pp": 100 * TURNOUT_EFFECT,
        "effect_pp_low_education_third": 100 * TURNOUT_EFFECT_LOW_EDUCATION,
        "low_education_third": {
            "rule": "share_higher_education <= cutoff, cutoff = 1/3 quantile over all districts in area_register.csv",
            "cutoff_share": json_float(cutoff),
            "n_districts": int(low.sum()),
            "n_districts_total": int(len(districts)),
        },
        "elections": [
            {"election_type": t, "election_year": y, "election_date": election_date(y).isoformat()}
            for t, y in turnout[["election_type", "election_year"]].drop_duplicates().itertuples(index=False)
        ],
        **turnout_effect_summary(turnout),
        "by_cohort": {c: turnout_effect_summary(turnout[cohort == c]) for c in sorted(set(munis["cohort"]) - {""})},
        "by_election_type": {
            t: turnout_effect_summary(turnout[turnout["election_type"] == t]) for t in ELECTION_TYPE_LABELS
        },
    }


def wave_calendar(wave: int, per_year: int = 2) -> dict[str, Any]:
    """File, season and interview month of one wave."""
    year, month = wave_timing(wave, per_year)
    return {
        "wave": wave,
        "file": f"innbyggerpanel_bolge{wave:02d}.sav",
        "season": "spring" if month < 7 else "autumn",
        "interview_month": f"{year}-{month:02d}",
        "trust_variables": [spss_name(item, wave) for item in ITEMS if item.outcome.startswith("trust_")],
    }


def survey_truth(
    answers: pd.DataFrame, effects: pd.DataFrame, munis: pd.DataFrame, config: DemoConfig
) -> dict[str, Any]:
    """The survey part of truth.json."""
    sizes = answers.groupby("wave").size()
    persons = [set(answers.loc[answers["wave"] == w, "person"]) for w in range(1, config.n_waves + 1)]
    overlap = [len(a & b) / len(a) for a, b in zip(persons, persons[1:])]
    return {
        "description": (
            "Pilot effects on respondents of pilot municipalities interviewed on or after "
            "pilot_start. Binary items: effect on the probability of 'Ja' in percentage points; "
            "scales: effect in scale points. 'realised' = mean of y(1) - y(0) over treated "
            "respondent-waves (before item non-response)."
        ),
        "placebo_outcome": PLACEBO_OUTCOME,
        "waves": [wave_calendar(wave, config.structure.waves_per_year) for wave in range(1, config.n_waves + 1)],
        "n_treated_respondent_waves": int(len(effects)),
        "outcomes": survey_effect_summary(effects),
        "sampling": {
            "respondents_per_wave_target": config.respondents_per_wave,
            "respondents_by_wave": [int(sizes[w]) for w in range(1, config.n_waves + 1)],
            "allocation_by_municipality": dict(
                zip(munis["municipality_code"], map(int, allocate_respondents(munis, config)))
            ),
            "response_propensity_by_education": {EDUCATION_CODES[k]: v for k, v in RESPONSE_PROPENSITY.items()},
            "response_propensity_factor_under_30": RESPONSE_FACTOR_UNDER_30,
            "retention_target_share": RETENTION,
            "retained_share_of_previous_wave": [json_float(x) for x in overlap],
            "item_nonresponse_rates": {
                "97_dont_know": NONRESPONSE_RATES[DONT_KNOW],
                "98_refused": NONRESPONSE_RATES[REFUSED],
            },
            "design_weight": "municipality adult population / respondents in that municipality in that wave",
        },
    }


def population_truth(values: dict[str, list[dict[str, Any]]], pop: Population) -> dict[str, Any]:
    """The population-values part of truth.json."""
    return {
        "description": (
            "Finite-population values per wave over all adults of the population (the register "
            "behind area_register.csv and befolkning_marginer.csv), using each person's outcome "
            "in the observed world (treated outcome for pilot municipalities from pilot_start). "
            "'pilot_if_untreated' is the mean of all pilot residents without the programme; "
            "'att_among_treated_adults' the mean treated-minus-untreated outcome over the pilot "
            "residents whose pilot had started by the wave (null before any start)."
        ),
        "n_adults": int(len(pop.district)),
        "voted_local": {
            "unit": "means are shares 0-1; the ATT is in percentage points",
            "by_wave": values["voted_local"],
        },
        "trust_local_politicians": {
            "unit": "means are in scale points 0-10; the ATT is in scale points",
            "by_wave": values["trust_local_politicians"],
        },
    }
