"""The ``compare`` stage: tables and columns, the first release's estimates, and the split into parts."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from simulate import (
    FIRST_RELEASE_OPTIONS,
    SURVEY_GAPS,
    SURVEY_KINDS,
    first_release_data,
    first_release_tables,
    simulate_survey,
    simulate_turnout,
)

from evaluation.comparison.panel import build_turnout_panel
from evaluation.comparison.programme import (
    EFFECT_COLUMNS,
    CompareOptions,
    compare,
    compare_survey,
    compare_turnout,
    gather,
    survey_shard,
    turnout_problem,
)
from evaluation.errors import EstimationError

SNAPSHOT = Path(__file__).parent / "reference" / "snapshot"


@pytest.fixture(scope="module")
def result():
    return first_release_tables()


OPTIONS = FIRST_RELEASE_OPTIONS


def test_tables_and_columns(result):
    assert set(result) == {
        "effects",
        "event_study",
        "pilot_effects",
        "turnout_trends",
        "placebo_size",
        "power",
        "balance",
        "sensitivity",
    }
    effects = result["effects"]
    assert list(effects.columns) == EFFECT_COLUMNS
    turnout = effects[(effects["estimand"] == "att_turnout") & (effects["method"] == "twfe")]
    assert set(turnout["inference"]) == {"crv1", "crv3", "wild_bootstrap_webb", "permutation"}
    assert turnout["estimate"].nunique() == 1
    assert {"gap_change_low_vs_high_education", "att_turnout_low_education", "att_trust_local_politicians"} <= set(
        effects["estimand"]
    )
    assert {"callaway_santanna", "callaway_santanna_not_yet_treated", "twfe_respondent_fe"} <= set(effects["method"])
    assert (turnout["n_treated_clusters"] == 6).all() and (turnout["n_clusters"] == 30).all()
    es = result["event_study"]
    assert {"outcome", "sample", "rel_time", "estimate", "se", "ci_low", "ci_high", "pretrend_p_value"} <= set(
        es.columns
    )
    assert (es.loc[es["rel_time"] == -1, "estimate"] == 0).all()
    pilots = result["pilot_effects"]
    assert set(pilots.loc[pilots["outcome"] == "turnout", "sample"]) == set(
        turnout_codes := result["turnout_trends"].query("sample != 'programme'")["sample"]
    )
    assert len(set(turnout_codes)) == 6 and (pilots["n_treated_clusters"] == 1).all()
    trends = result["turnout_trends"]
    assert set(trends.loc[trends["sample"] == "programme", "role"]) == {"pilot", "control"}
    assert trends["turnout_pp"].between(0, 100).all()
    size = result["placebo_size"]
    assert set(size["inference"]) == {"crv1", "crv3", "wild_bootstrap_webb", "permutation"}
    assert size["rejection_rate"].between(0, 1).all()
    # MDE falls with the number of pilots, up to Monte-Carlo error of the placebo SD (relative SE 1/sqrt(2(B-1)))
    power = result["power"]
    mc = 3 / np.sqrt(2 * (power["n_draws"].iloc[0] - 1))
    assert (power["mde"].iloc[1:].to_numpy() < power["mde"].iloc[:-1].to_numpy() * (1 + mc)).all()
    assert power["mde"].iloc[-1] < power["mde"].iloc[0] / 2


def test_new_estimands_and_tables(result):
    effects = result["effects"]
    matched = effects[effects["method"] == "twfe_matched"]
    assert set(matched["inference"]) == {"crv1", "crv3", "wild_bootstrap_webb", "permutation"}
    assert (matched["n_treated_clusters"] == 6).all() and (matched["n_clusters"] == 6 + 18).all()
    gap = effects[effects["estimand"] == "gap_change_trust_local_politicians_compulsory_vs_higher"]
    assert set(gap["inference"]) == {"crv1", "crv3", "wild_bootstrap_webb", "permutation"}
    panel = effects[effects["method"] == "twfe_respondent_fe"]
    assert "permutation" in set(panel["inference"])
    balance = result["balance"]
    assert set(balance["sample"]) == {"all_controls", "matched"} and balance["smd"].notna().all()
    es = result["event_study"]
    assert {"trust_local_politicians", "turnout"} <= set(es["outcome"])
    pilots = es[es["inference"] == "conley_taber_ferman_pinto"]
    assert pilots["sample"].nunique() == 6 and pilots["pretrend_p_value_permutation"].between(0, 1).all()
    programme = es[(es["outcome"] == "turnout") & (es["method"] == "twfe") & (es["sample"] == "programme")]
    assert programme["pretrend_p_value_permutation"].between(0, 1).all()


def test_same_estimates_as_the_first_release(result):
    """Everything that does not depend on random draws reproduces the first release's tables (snapshot
    written by reference/make_snapshot.py before the speed work) to floating-point rounding.

    Random streams changed when the stage was split into parts (each part draws its own), so
    bootstrap and permutation intervals and p-values, the permutation pre-trend p-values, the
    placebo-size check and the power table are not compared.
    """
    keys = {
        "effects": ["estimand", "outcome", "sample", "method", "inference"],
        "event_study": ["outcome", "sample", "method", "rel_time"],
        "pilot_effects": ["estimand", "outcome", "sample"],
    }
    drawn = {"effects": ["ci_low", "ci_high", "p_value"], "event_study": ["pretrend_p_value_permutation"]}
    for name in ("effects", "event_study", "pilot_effects", "turnout_trends"):
        old = pd.read_parquet(SNAPSHOT / f"{name}.parquet")
        new = result[name]
        if name in keys:
            new = old[keys[name]].merge(new, on=keys[name], how="left")
        new = new[old.columns].reset_index(drop=True)
        random_rows = old["inference"].isin(["wild_bootstrap_webb", "permutation"]) if name == "effects" else True
        for col in old.columns:
            if col in drawn.get(name, []):
                fixed = ~random_rows
                old_col, new_col = old.loc[fixed, col], new.loc[fixed, col]
            else:
                old_col, new_col = old[col], new[col]
            if pd.api.types.is_numeric_dtype(old[col]):
                np.testing.assert_allclose(
                    new_col.astype(float), old_col.astype(float), rtol=1e-9, atol=1e-12, err_msg=f"{name}.{col}"
                )
            else:
                assert new_col.astype(str).tolist() == old_col.astype(str).tolist(), f"{name}.{col}"


def test_parts_in_any_split_give_the_same_tables(result):
    """The stage's jobs (turnout, survey shards, gather) reproduce the in-process tables exactly."""
    turnout, areas, survey = first_release_data()
    options = CompareOptions(**OPTIONS)
    outcomes = {
        name: SURVEY_KINDS[name] for name in ("voted_local", "trust_local_politicians", "satisfaction_democracy")
    }
    shards = [
        compare_survey(areas, survey, survey_shard(outcomes, i, 2), seed=1, options=options, gaps=SURVEY_GAPS)
        for i in (1, 2)
    ]
    split = gather([compare_turnout(turnout, areas, seed=1, options=options), *shards])
    whole = gather(
        [
            compare_turnout(turnout, areas, seed=1, options=options),
            compare_survey(areas, survey, outcomes, seed=1, options=options, gaps=SURVEY_GAPS),
        ]
    )
    for name, table in whole.items():
        pd.testing.assert_frame_equal(table, split[name], check_exact=True, obj=name)
    assert set(whole["effects"]["outcome"]) == {"turnout", *outcomes}
    assert (
        result["effects"]
        .query("outcome == 'turnout'")
        .reset_index(drop=True)
        .equals(whole["effects"].query("outcome == 'turnout'").reset_index(drop=True))
    )


def test_same_seed_same_tables():
    rng = np.random.default_rng(3)
    turnout, areas = simulate_turnout(rng, n_municipalities=20, n_pilots=4, districts=(2, 5))
    kw = dict(n_permutations=99, n_bootstrap=99, n_placebo_replications=10, n_placebo_draws=49, n_power_draws=49)
    a = compare(turnout, areas, seed=9, **kw)
    b = compare(turnout, areas, seed=9, **kw)
    for k in a:
        assert a[k].equals(b[k]), k


def test_pilot_survey_effects_resting_on_small_cells_are_withheld():
    """A pilot whose municipality x wave cell has fewer than min_n respondents gets no published survey effect."""
    from evaluation.comparison.survey import SurveyFrame
    from evaluation.comparison.timing import pilot_timing

    rng = np.random.default_rng(8)
    turnout, areas = simulate_turnout(rng, n_municipalities=16, n_pilots=4, districts=(2, 4))
    survey = simulate_survey(rng, areas, n_respondents=1600, trust_effect=0.5)
    kinds = {"trust_local_politicians": "scale"}
    smallest = (
        SurveyFrame.build(survey, pilot_timing(areas), kinds)
        .cells("trust_local_politicians")
        .groupby("unit")["respondents"]
        .min()
    )
    timing = pilot_timing(areas)
    pilots = timing.units.index[timing.units["cohort"] >= 0]
    min_n = int(np.median(smallest[pilots])) + 1  # some pilots fall below it, some do not
    options = CompareOptions(n_permutations=49, n_bootstrap=49, min_n=min_n)
    rows = compare_survey(areas, survey, kinds, seed=1, options=options)["pilot_effects"]
    codes = timing.units["unit_code"]
    expected_hidden = {codes.iloc[j] for j in pilots if smallest[j] < min_n}
    assert expected_hidden and expected_hidden != set(codes.iloc[pilots])
    hidden = rows[rows["suppressed"]]
    assert set(hidden["sample"]) == expected_hidden
    assert hidden["estimate"].isna().all() and hidden["ci_low"].isna().all()
    assert rows.loc[~rows["suppressed"], "estimate"].notna().all()


def test_effects_by_pilot_type_compare_each_type_with_all_controls():
    """Each type's effect is the programme estimate on the controls and that type's pilots, with the same inference."""
    rng = np.random.default_rng(11)
    turnout, areas = simulate_turnout(rng, n_municipalities=24, n_pilots=6, effect_pp=2.0, districts=(2, 4))
    survey = simulate_survey(rng, areas, n_respondents=2400, trust_effect=0.5)
    starts = areas[areas["role"] == "pilot"].groupby("municipality_code")["pilot_start"].min().sort_values()
    youth = areas["municipality_code"].isin(starts.index[-2:]) & (areas["role"] == "pilot")  # started within the survey
    areas.loc[youth, "pilot_type"] = "youth_council"
    options = CompareOptions(n_permutations=49, n_bootstrap=49, n_placebo_replications=5, n_placebo_draws=19)
    effects = compare_turnout(turnout, areas, seed=3, options=options)["effects"]
    survey_effects = compare_survey(areas, survey, {"trust_local_politicians": "scale"}, seed=3, options=options)[
        "effects"
    ]
    for pilot_type in ("citizen_panel", "youth_council"):
        register = areas[(areas["role"] != "pilot") | (areas["pilot_type"] == pilot_type)]
        panel = build_turnout_panel(turnout[turnout["area_code"].isin(register["area_code"])], register)
        expected = turnout_problem(panel).fit().coef[0]
        rows = effects[effects["estimand"] == f"att_turnout_type_{pilot_type}"]
        turnout_rows = effects[(effects["estimand"] == "att_turnout") & (effects["method"] == "twfe")]
        assert set(rows["inference"]) == set(turnout_rows["inference"])  # the same inference as the programme
        assert rows["estimate"].iloc[0] == pytest.approx(expected, rel=1e-12)
        assert (
            rows["n_treated_clusters"] == register.loc[register["role"] == "pilot", "municipality_code"].nunique()
        ).all()
        survey_rows = survey_effects[survey_effects["estimand"] == f"att_trust_local_politicians_type_{pilot_type}"]
        assert len(survey_rows) and survey_rows["estimate"].notna().all()
    single = compare_turnout(turnout, areas.assign(pilot_type="citizen_panel"), seed=3, options=options)["effects"]
    assert not single["estimand"].str.contains("_type_").any()  # one type: nothing to split


def test_every_declared_gap_is_compared():
    """Each declared gap (a, b) gets the triple difference of b against a, named after its groups."""
    from evaluation.comparison.survey import SurveyFrame
    from evaluation.comparison.timing import pilot_timing

    rng = np.random.default_rng(21)
    turnout, areas = simulate_turnout(rng, n_municipalities=16, n_pilots=4, districts=(2, 4))
    survey = simulate_survey(rng, areas, n_respondents=2400, trust_effect=0.5)
    survey["gender"] = rng.choice(["female", "male"], len(survey))
    gaps = {**SURVEY_GAPS, "gender": ("male", "female"), "income_quintile": ("5", "1")}  # no income column
    options = CompareOptions(n_permutations=49, n_bootstrap=49)
    kinds = {"trust_local_politicians": "scale"}
    effects = compare_survey(areas, survey, kinds, seed=2, options=options, gaps=gaps)["effects"]
    estimands = set(effects["estimand"])
    assert {
        "gap_change_trust_local_politicians_compulsory_vs_higher",
        "gap_change_trust_local_politicians_female_vs_male",
    } <= estimands
    assert not any("_1_vs_5" in e for e in estimands)  # a gap of a column the survey lacks is left out
    frame = SurveyFrame.build(survey, pilot_timing(areas), kinds)
    expected = frame.gap_problem("trust_local_politicians", "gender", low="female", high="male").fit().coef[1]
    rows = effects[effects["estimand"] == "gap_change_trust_local_politicians_female_vs_male"]
    assert rows["estimate"].iloc[0] == pytest.approx(expected, rel=1e-12)
    assert set(rows["inference"]) == {"crv1", "crv3", "wild_bootstrap_webb", "permutation"}


def test_turnout_triple_differences_for_every_district_profile():
    """Each profile the register has (education, income, immigrant share) gets its own triple difference."""
    rng = np.random.default_rng(17)
    turnout, areas = simulate_turnout(rng, n_municipalities=20, n_pilots=5, effect_pp=2.0, districts=(3, 6))
    areas = areas.assign(median_income=rng.normal(450_000, 40_000, len(areas)))  # no share_immigrant column
    options = CompareOptions(n_permutations=49, n_bootstrap=49, n_placebo_replications=5, n_placebo_draws=19)
    effects = compare_turnout(turnout, areas, seed=4, options=options)["effects"]
    estimands = set(effects["estimand"])
    for profile in ("education", "income"):
        assert {
            f"att_turnout_low_{profile}",
            f"att_turnout_other_{profile}",
            f"gap_change_low_vs_high_{profile}",
        } <= estimands
    assert not any("immigrant" in e for e in estimands)
    panel = build_turnout_panel(turnout, areas)
    low = panel.data["low_income"].to_numpy()
    income = areas.set_index("area_code").loc[panel.data["area_code"], "median_income"].to_numpy()
    assert low.astype(bool).tolist() == (income <= np.quantile(areas["median_income"], 1 / 3)).tolist()
    expected = turnout_problem(panel, triple="income").fit().coef[1]
    rows = effects[effects["estimand"] == "gap_change_low_vs_high_income"]
    assert rows["estimate"].iloc[0] == pytest.approx(expected, rel=1e-12)


def test_same_day_elections_are_separate_elections_with_one_effect_per_type():
    """Sweden votes for riksdag, region and kommun on one day: three elections, one date, no crash."""
    rng = np.random.default_rng(31)
    turnout, areas = simulate_turnout(rng, n_municipalities=20, n_pilots=5, effect_pp=2.0, districts=(2, 4))
    county = turnout.assign(
        election_type="county", turnout=(turnout["turnout"] - 0.1 + rng.normal(0, 0.01, len(turnout))).clip(0.05, 0.95)
    )
    same_day = pd.concat([turnout, county], ignore_index=True)
    assert same_day.groupby("election_date")["election_type"].nunique().max() == 2
    panel = build_turnout_panel(same_day, areas)
    assert len(panel.elections) == 2 * turnout[["election_type", "election_year"]].drop_duplicates().shape[0]
    same = panel.data.groupby(["area_code", "election_date"])["rel_time"]
    assert same.nunique(dropna=False).max() == 1  # same-day elections share their event time
    options = CompareOptions(n_permutations=49, n_bootstrap=49, n_placebo_replications=5, n_placebo_draws=19)
    effects = compare_turnout(same_day, areas, seed=5, options=options)["effects"]
    estimands = set(effects["estimand"])
    types = set(same_day["election_type"])
    assert {"att_turnout", *(f"att_turnout_election_{t}" for t in types)} <= estimands
    assert not effects["method"].str.startswith("callaway_santanna").any()  # needs periods ordered in time
    alone = compare_turnout(county, areas, seed=5, options=options)["effects"]
    expected = alone.query("estimand == 'att_turnout' and method == 'twfe' and inference == 'crv1'")["estimate"]
    rows = effects.query("estimand == 'att_turnout_election_county' and inference == 'crv1'")["estimate"]
    assert rows.iloc[0] == pytest.approx(expected.iloc[0], rel=1e-12)
    with pytest.raises(EstimationError, match=r"the county election of \d+ has two dates"):
        moved = county.assign(election_date=county["election_date"] + pd.Timedelta(days=7))
        build_turnout_panel(pd.concat([same_day, moved.iloc[:1]], ignore_index=True), areas)


def test_programme_survey_effects_resting_on_small_pilot_cells_are_withheld():
    """A gap whose rarer group has fewer than min_n pilot respondents in a wave is withheld; the main effect is not."""
    rng = np.random.default_rng(23)
    turnout, areas = simulate_turnout(rng, n_municipalities=16, n_pilots=4, districts=(2, 4))
    survey = simulate_survey(rng, areas, n_respondents=2400, trust_effect=0.5)
    survey["immigrant_background"] = np.where(rng.random(len(survey)) < 0.02, "yes", "no")
    kinds = {"trust_local_politicians": "scale"}
    options = CompareOptions(n_permutations=49, n_bootstrap=49, min_n=20)
    gaps = {"immigrant_background": ("no", "yes")}
    effects = compare_survey(areas, survey, kinds, seed=2, options=options, gaps=gaps)["effects"]
    gap = effects[effects["estimand"] == "gap_change_trust_local_politicians_yes_vs_no"]
    assert len(gap) and gap["suppressed"].all() and gap[["estimate", "ci_low", "p_value"]].isna().all().all()
    main = effects[effects["estimand"] == "att_trust_local_politicians"]
    assert len(main) and not main["suppressed"].any() and main["estimate"].notna().all()
    open_gaps = compare_survey(
        areas, survey, kinds, seed=2, options=CompareOptions(n_permutations=49, n_bootstrap=49), gaps=gaps
    )
    assert not open_gaps["effects"]["suppressed"].any()  # without a threshold nothing is withheld


def test_an_item_about_the_last_election_is_treated_only_after_the_first_election_since_the_start():
    """'Voted in the last local election', asked after the start but before any election since: not treated."""
    from evaluation.comparison.survey import SurveyFrame
    from evaluation.comparison.timing import pilot_timing

    rng = np.random.default_rng(41)
    turnout, areas = simulate_turnout(rng, n_municipalities=16, n_pilots=4, districts=(2, 4))
    survey = simulate_survey(rng, areas, n_respondents=2400, trust_effect=0.5)
    timing = pilot_timing(areas)
    local = sorted(turnout.loc[turnout["election_type"] == "local", "election_date"].unique())
    kinds = {"voted_local": "binary", "trust_local_politicians": "scale"}
    frame = SurveyFrame.build(survey, timing, kinds, references={"voted_local": local})
    cells = frame.cells("voted_local")
    now = frame.cells("trust_local_politicians")
    assert (cells["treated"] <= now["treated"]).all() and (cells["treated"] < now["treated"]).any()
    starts = timing.units["pilot_start"].to_numpy("datetime64[ns]")[frame.data["unit"].to_numpy()]
    interview = frame.data["interview_date"].to_numpy("datetime64[ns]")
    last = np.array(
        [
            max([d for d in np.asarray(local, "datetime64[ns]") if d <= i], default=np.datetime64("NaT"))
            for i in interview
        ]
    )
    expected = (last >= starts).astype(float)  # by hand: the last local election on or before the interview
    treated, _ = frame._exposure(frame.data, "voted_local")
    assert treated.tolist() == expected.tolist()
    options = CompareOptions(n_permutations=49, n_bootstrap=49)
    with_reference = compare_survey(areas, survey, kinds, seed=3, options=options, references={"voted_local": local})
    without = compare_survey(areas, survey, kinds, seed=3, options=options)
    pick = "estimand == 'att_voted_local' and method == 'twfe' and inference == 'crv1'"
    assert (
        with_reference["effects"].query(pick)["estimate"].iloc[0] != without["effects"].query(pick)["estimate"].iloc[0]
    )
    trust = "estimand == 'att_trust_local_politicians' and method == 'twfe' and inference == 'crv1'"
    assert (
        with_reference["effects"].query(trust)["estimate"].iloc[0]
        == without["effects"].query(trust)["estimate"].iloc[0]
    )


def test_periods_after_a_pilot_ended_are_estimated_apart_from_those_during_it():
    """Pilots that ended get an effect during the pilot and one after its end, each with the programme's inference."""
    from dataclasses import replace

    rng = np.random.default_rng(43)
    turnout, areas = simulate_turnout(rng, n_municipalities=20, n_pilots=5, effect_pp=2.0, districts=(2, 4))
    pilots = areas["role"] == "pilot"
    areas["pilot_end"] = pd.NaT
    areas.loc[pilots, "pilot_end"] = pd.to_datetime(areas.loc[pilots, "pilot_start"]) + pd.DateOffset(years=3)
    options = CompareOptions(n_permutations=49, n_bootstrap=49, n_placebo_replications=5, n_placebo_draws=19)
    effects = compare_turnout(turnout, areas, seed=6, options=options)["effects"]
    assert {"att_turnout_during", "att_turnout_after"} <= set(effects["estimand"])
    panel = build_turnout_panel(turnout, areas)
    d = panel.data
    after = (d["election_date"] > d["pilot_end"]).to_numpy()
    expected = turnout_problem(replace(panel, data=d[~after].reset_index(drop=True))).fit().coef[0]
    during = effects.query("estimand == 'att_turnout_during' and inference == 'crv1'")["estimate"].iloc[0]
    assert during == pytest.approx(expected, rel=1e-12)
    assert set(effects.loc[effects["estimand"] == "att_turnout_after", "inference"]) == {
        "crv1",
        "crv3",
        "wild_bootstrap_webb",
        "permutation",
    }
    running = compare_turnout(turnout, areas.drop(columns="pilot_end"), seed=6, options=options)["effects"]
    assert not running["estimand"].isin(["att_turnout_during", "att_turnout_after"]).any()


def test_a_pilot_end_before_its_start_stops_validation():
    from evaluation.validation.integrity import pilot_ends_before_start

    areas = pd.DataFrame(
        {
            "area_code": ["1", "2", "3"],
            "pilot_start": ["2019-08-01", "2019-08-01", None],
            "pilot_end": ["2022-06-30", "2019-01-01", None],
            "source_file": "omrader.csv",
            "source_row": [1, 2, 3],
        }
    )
    assert pilot_ends_before_start(areas) == [
        "omrader.csv: pilot_end must be after pilot_start (and needs one) in 1 district(s), rows 2"
    ]


def test_survey_outcomes_are_split_at_the_pilot_end_too():
    rng = np.random.default_rng(44)
    turnout, areas = simulate_turnout(rng, n_municipalities=16, n_pilots=4, districts=(2, 4))
    survey = simulate_survey(rng, areas, n_respondents=2400, trust_effect=0.5)
    pilots = areas["role"] == "pilot"
    areas["pilot_end"] = pd.NaT
    areas.loc[pilots, "pilot_end"] = pd.to_datetime(areas.loc[pilots, "pilot_start"]) + pd.DateOffset(years=2)
    options = CompareOptions(n_permutations=49, n_bootstrap=49)
    effects = compare_survey(areas, survey, {"trust_local_politicians": "scale"}, seed=4, options=options)["effects"]
    rows = effects[
        effects["estimand"].isin(["att_trust_local_politicians_during", "att_trust_local_politicians_after"])
    ]
    assert set(rows["estimand"]) == {"att_trust_local_politicians_during", "att_trust_local_politicians_after"}
    assert rows["estimate"].notna().all()
