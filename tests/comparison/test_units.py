"""Treated units below the municipality: a synthetic medborgarbudget-like programme with known effects.

Eight municipalities of ten districts; four of them treat two named areas of
two or three districts each from 2016-03-01. The pilot municipalities also get
a municipality-wide turnout and trust shock from 2018 on that the pilots did
not cause: the within-municipality comparison removes it (municipality x
period effects), the across comparison cannot.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.comparison.programme import CompareOptions, compare_survey, compare_turnout
from evaluation.comparison.randomization import CohortAssignment
from evaluation.errors import EstimationError
from evaluation.units import comparison_register, register_units, survey_units, unit_register

START = "2016-03-01"
AREA_EFFECT_PP = 4.0
SHOCK_PP = 2.0
TRUST_EFFECT = 0.5
TRUST_SHOCK = 0.3
ELECTIONS = {2010: "2010-09-19", 2014: "2014-09-14", 2018: "2018-09-09", 2022: "2022-09-11"}
OPTIONS = dict(n_permutations=199, n_bootstrap=199, n_placebo_replications=5, n_placebo_draws=19, n_power_draws=19)


def _register() -> pd.DataFrame:
    rows = []
    for m in range(8):
        code = f"98{m:02d}"
        for d in range(10):
            area = f"{code}{d:04d}"
            unit = f"{code}-A{d // 3}" if m < 4 and d < 6 and (d // 3 < 1 or m % 2 == 0) else ""
            treated = bool(unit)
            rows.append(
                {
                    "area_code": area,
                    "area_name": f"Distrikt {d}",
                    "municipality_code": code,
                    "municipality_name": f"Kommun {m}",
                    "role": "pilot" if treated else "control",
                    "pilot_start": pd.Timestamp(START) if treated else pd.NaT,
                    "pilot_type": "participatory_budgeting" if treated else None,
                    "unit_code": unit,
                    "unit_name": f"Område {unit}" if unit else "",
                }
            )
    return pd.DataFrame(rows)


def _turnout(register: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    district_level = dict(zip(register["area_code"], rng.normal(0, 3, len(register)), strict=True))
    pilot_municipality = set(register.loc[register["role"] == "pilot", "municipality_code"])
    for _, r in register.iterrows():
        for year, date in ELECTIONS.items():
            for election_type in ("riksdag", "region", "kommun"):
                treated = r["role"] == "pilot" and pd.Timestamp(date) >= pd.Timestamp(START)
                shock = SHOCK_PP if r["municipality_code"] in pilot_municipality and year >= 2018 else 0.0
                pp = 80 + district_level[r["area_code"]] + 0.5 * (year - 2010) / 4 + shock
                pp += AREA_EFFECT_PP * treated + rng.normal(0, 0.3)
                rows.append(
                    {
                        "area_code": r["area_code"],
                        "municipality_code": r["municipality_code"],
                        "election_type": election_type,
                        "election_year": year,
                        "election_date": pd.Timestamp(date),
                        "eligible_voters": 1500,
                        "turnout": pp / 100,
                    }
                )
    return pd.DataFrame(rows)


def _survey(register: pd.DataFrame, rng: np.random.Generator, per_district: int = 12) -> pd.DataFrame:
    pilot_municipality = set(register.loc[register["role"] == "pilot", "municipality_code"])
    frames = []
    for wave, year in enumerate(range(2014, 2020), start=1):
        for _, r in register.iterrows():
            date = pd.Timestamp(f"{year}-10-15")
            treated = r["role"] == "pilot" and date >= pd.Timestamp(START)
            shock = TRUST_SHOCK if r["municipality_code"] in pilot_municipality and year >= 2018 else 0.0
            mean = 3 + 0.05 * wave + shock + TRUST_EFFECT * treated + (0.3 if r["role"] == "pilot" else 0.0)
            frames.append(
                pd.DataFrame(
                    {
                        "respondent_id": [f"{r['area_code']}-{wave}-{k}" for k in range(per_district)],
                        "wave": wave,
                        "interview_date": date,
                        "municipality_code": r["municipality_code"],
                        "area_code": r["area_code"],
                        "design_weight": 1.0,
                        "trust": mean + rng.normal(0, 0.5, per_district),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def programme():
    rng = np.random.default_rng(7)
    register = _register()
    return register, _turnout(register, rng), _survey(register, rng)


def _row(effects: pd.DataFrame, method: str, inference: str) -> pd.Series:
    rows = effects[(effects["method"] == method) & (effects["inference"] == inference)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_the_register_gives_each_district_its_area_and_each_area_one_row(programme):
    register, _, _ = programme
    units = register_units(register, "area")
    assert units.loc[units["area_code"] == "98000001", "unit_code"].item() == "9800-A0"
    assert units.loc[units["area_code"] == "98000009", "unit_code"].item() == "98000009"  # no area: its own unit
    pilots = unit_register(register, "area")
    assert list(pilots["unit_code"]) == ["9800-A0", "9800-A1", "9801-A0", "9802-A0", "9802-A1", "9803-A0"]
    assert set(pilots["n_districts"]) == {3}
    assert pilots["municipality_name"].iloc[0] == "Kommun 0"


def test_within_recovers_the_area_effect_that_a_municipal_shock_biases_across(programme):
    register, turnout, _ = programme
    options = CompareOptions(**OPTIONS, treated_unit="area", comparisons=("across", "within"))
    effects = compare_turnout(turnout, register, seed=1, options=options)["effects"]
    headline = effects[effects["estimand"] == "att_turnout"]
    within = _row(headline, "twfe_within", "crv1")
    across = _row(headline, "twfe", "crv1")
    assert within["ci_low"] < AREA_EFFECT_PP < within["ci_high"]
    assert abs(within["estimate"] - AREA_EFFECT_PP) < 0.3
    assert across["estimate"] > AREA_EFFECT_PP + 0.5 * SHOCK_PP  # the shock of the pilot municipalities
    # clusters are the units: 6 treated areas; within keeps the four pilot municipalities' 40 districts
    assert within["n_treated_clusters"] == 6
    assert within["n_clusters"] == 40 - 6 * 3 + 6
    permutation = _row(headline, "twfe_within", "permutation")
    assert permutation["p_value"] < 0.05


def test_within_survey_effect_at_the_area_level(programme):
    register, _, survey = programme
    options = CompareOptions(**OPTIONS, treated_unit="area", comparisons=("within",), min_n=10)
    tables = compare_survey(register, survey, {"trust": "scale"}, seed=3, options=options)
    row = _row(tables["effects"], "twfe_within", "crv1")
    assert row["ci_low"] < TRUST_EFFECT < row["ci_high"]
    assert not row["suppressed"]


def test_across_below_the_municipality_leaves_out_the_rest_of_pilot_municipalities(programme):
    register, _, _ = programme
    across = comparison_register(register, "across", "area")
    pilot_municipalities = {"9800", "9801", "9802", "9803"}
    rest = across[across["municipality_code"].isin(pilot_municipalities) & (across["role"] != "pilot")]
    assert rest.empty
    assert set(across["municipality_code"]) == {f"98{m:02d}" for m in range(8)}
    within = comparison_register(register, "within", "area")
    assert set(within["municipality_code"]) == pilot_municipalities


def test_the_randomization_test_redraws_treated_areas_within_their_municipality():
    observed = np.array([0, -1, -1, 0, 0, -1, -1, -1])
    strata = np.array(["a", "a", "a", "b", "b", "b", "b", "c"])
    assignment = CohortAssignment(observed, 1, strata)
    draws, exhaustive = assignment.draw(1000, np.random.default_rng(0))
    assert exhaustive and len(draws) == 3 * 6  # C(3,1) x C(4,2) x C(1,0)
    per_stratum = [(draws[:, strata == s] >= 0).sum(axis=1) for s in "abc"]
    assert all((counts == expected).all() for counts, expected in zip(per_stratum, (1, 2, 0), strict=True))
    random_draws, exhaustive = assignment.draw(5, np.random.default_rng(0))
    assert not exhaustive and ((random_draws[:, strata == "b"] >= 0).sum(axis=1) == 2).all()


def test_survey_respondents_are_linked_to_their_area(programme):
    register, _, survey = programme
    units = survey_units(survey, register, "area")
    assert (units[survey["area_code"] == "98000004"] == "9800-A1").all()
    assert (units[survey["area_code"] == "98000009"] == "98000009").all()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.assign(area_code="99999999"), "not in the area register"),
        (lambda s: s.drop(columns="area_code"), "needs the district they live in"),
        (lambda s: s.assign(area_code=s["area_code"].where(s.index > 0)), "1 respondent(s) have no area_code"),
        (lambda s: s.assign(municipality_code="9807"), "outside their municipality_code"),
    ],
)
def test_a_survey_that_cannot_be_linked_stops(programme, change, message):
    register, _, survey = programme
    with pytest.raises(EstimationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        survey_units(change(survey.head(50).copy()), register, "area")


def test_districts_of_one_area_must_agree_on_their_pilot_start(programme):
    register, _, _ = programme
    broken = register.copy()
    broken.loc[broken["area_code"] == "98000001", "pilot_start"] = pd.Timestamp("2017-03-01")
    with pytest.raises(EstimationError, match="unit 9800-A0 disagree on pilot_start"):
        register_units(broken, "area")


def test_within_needs_a_unit_below_the_municipality(programme):
    register, _, _ = programme
    with pytest.raises(EstimationError, match="needs design.treated_unit 'district' or 'area'"):
        comparison_register(register, "within", "municipality")
    with pytest.raises(EstimationError, match="no unit_code column"):
        register_units(register.drop(columns="unit_code"), "area")


def test_validation_names_the_area_whose_districts_disagree_and_accepts_mixed_municipalities(programme):
    from evaluation.validation.integrity import treated_unit_conflicts

    register, _, _ = programme
    assert treated_unit_conflicts(register, "area") == []  # pilot and control districts in one municipality
    assert treated_unit_conflicts(register, "municipality")  # ... which a municipality design cannot have
    broken = register.assign(source_row=range(2, len(register) + 2))
    broken.loc[broken["area_code"] == "98000001", "pilot_type"] = "youth_council"
    (message,) = treated_unit_conflicts(broken, "area")
    assert "area 9800-A0 has conflicting pilot_type values" in message and "row 3" in message


def test_coverage_counts_respondents_per_pilot_area_not_per_municipality(programme):
    from evaluation.validation.checks import pilot_coverage

    register, _, survey = programme
    area = "9800-A1"
    districts = set(register.loc[register["unit_code"] == area, "area_code"])
    without = survey[~(survey["area_code"].isin(districts) & survey["wave"].eq(3))]
    coverage = pilot_coverage(without, register, "area").set_index(["unit_code", "wave"])
    assert coverage.loc[(area, 3), "respondents"] == 0
    assert coverage.loc[(area, 3), "municipality_code"] == "9800"
    assert coverage.loc[(area, 2), "respondents"] == 12 * len(districts)
    assert coverage.loc[("9800-A0", 3), "respondents"] > 0  # the other area of the same municipality answered
    pilot_areas = register.loc[register["role"] == "pilot", "unit_code"].nunique()
    assert len(coverage) == pilot_areas * survey["wave"].nunique()
    by_municipality = pilot_coverage(without, register, "municipality").set_index(["unit_code", "wave"])
    assert by_municipality.loc[("9800", 3), "respondents"] > 0  # why the check must count per unit


def test_coverage_per_district_links_respondents_through_their_district(programme):
    from evaluation.validation.checks import pilot_coverage

    register, _, survey = programme
    first = register.loc[register["role"] == "pilot", "area_code"].iloc[0]
    survey = survey.assign(area_code=survey["area_code"].where(survey["area_code"] != first, "unknown"))
    coverage = pilot_coverage(survey, register, "district").set_index(["unit_code", "wave"])
    assert (coverage.loc[first, "respondents"] == 0).all()  # an unknown district counts for no unit
    with pytest.raises(EstimationError, match="needs the district they live in"):
        pilot_coverage(survey.drop(columns="area_code"), register, "district")
