"""The ``compare`` stage: tables, columns and speed."""

import time

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from simulate import simulate_survey, simulate_turnout

from evaluation.compare import EFFECT_COLUMNS, compare

SNAPSHOT = Path(__file__).parent / "reference" / "snapshot"


@pytest.fixture(scope="module")
def result():
    rng = np.random.default_rng(42)
    turnout, areas = simulate_turnout(rng, n_municipalities=30, n_pilots=6, effect_pp=2.0, districts=(2, 8))
    survey = simulate_survey(rng, areas, n_respondents=3000, trust_effect=0.5)
    return compare(turnout, areas, survey, n_permutations=199, n_bootstrap=199, rng=np.random.default_rng(1),
                   n_placebo_replications=40, n_placebo_draws=99, n_power_draws=99)


def test_tables_and_columns(result):
    assert set(result) == {"effects", "event_study", "pilot_effects", "turnout_trends", "placebo_size", "power", "balance"}
    effects = result["effects"]
    assert list(effects.columns) == EFFECT_COLUMNS
    turnout = effects[(effects["estimand"] == "att_turnout") & (effects["method"] == "twfe")]
    assert set(turnout["inference"]) == {"crv1", "crv3", "wild_bootstrap_webb", "permutation"}
    assert turnout["estimate"].nunique() == 1
    assert {"gap_change_low_vs_high_education", "att_turnout_low_education", "att_trust_local_politicians"} <= set(effects["estimand"])
    assert {"callaway_santanna", "callaway_santanna_not_yet_treated", "twfe_respondent_fe"} <= set(effects["method"])
    assert (turnout["n_treated_clusters"] == 6).all() and (turnout["n_clusters"] == 30).all()
    es = result["event_study"]
    assert {"outcome", "sample", "rel_time", "estimate", "se", "ci_low", "ci_high", "pretrend_p_value"} <= set(es.columns)
    assert (es.loc[es["rel_time"] == -1, "estimate"] == 0).all()
    pilots = result["pilot_effects"]
    assert set(pilots.loc[pilots["outcome"] == "turnout", "sample"]) == set(
        turnout_codes := result["turnout_trends"].query("sample != 'programme'")["sample"])
    assert len(set(turnout_codes)) == 6 and (pilots["n_treated_clusters"] == 1).all()
    trends = result["turnout_trends"]
    assert set(trends.loc[trends["sample"] == "programme", "role"]) == {"pilot", "control"}
    assert trends["turnout_pp"].between(0, 100).all()
    size = result["placebo_size"]
    assert set(size["inference"]) == {"crv1", "crv3", "wild_bootstrap_webb", "permutation"}
    assert size["rejection_rate"].between(0, 1).all()
    assert (result["power"]["mde"].diff().dropna() < 0).all()


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


def test_same_results_as_before_the_speed_work(result):
    """Tables of the first release (snapshot written by reference/make_snapshot.py before the
    speed work, same seed) are reproduced to floating-point rounding."""
    keys = {"effects": ["estimand", "outcome", "sample", "method", "inference"],
            "event_study": ["outcome", "sample", "method", "rel_time"], "pilot_effects": ["estimand", "outcome", "sample"]}
    for name in ("effects", "event_study", "pilot_effects", "turnout_trends", "placebo_size", "power"):
        old = pd.read_parquet(SNAPSHOT / f"{name}.parquet")
        new = result[name]
        if name in keys:
            new = old[keys[name]].merge(new, on=keys[name], how="left")
        new = new[old.columns].reset_index(drop=True)
        for col in old.columns:
            if pd.api.types.is_numeric_dtype(old[col]):
                np.testing.assert_allclose(new[col].astype(float), old[col].astype(float), rtol=1e-9, atol=1e-12, err_msg=f"{name}.{col}")
            else:
                assert new[col].astype(str).tolist() == old[col].astype(str).tolist(), f"{name}.{col}"


def test_same_seed_same_tables():
    rng = np.random.default_rng(3)
    turnout, areas = simulate_turnout(rng, n_municipalities=20, n_pilots=4, districts=(2, 5))
    kw = dict(n_permutations=99, n_bootstrap=99, n_placebo_replications=10, n_placebo_draws=49, n_power_draws=49)
    a = compare(turnout, areas, rng=np.random.default_rng(9), **kw)
    b = compare(turnout, areas, rng=np.random.default_rng(9), **kw)
    for k in a:
        assert a[k].equals(b[k]), k


@pytest.mark.slow
def test_speed_on_a_realistic_panel():
    rng = np.random.default_rng(7)
    turnout, areas = simulate_turnout(rng, n_municipalities=40, n_pilots=7, effect_pp=1.0)
    survey = simulate_survey(rng, areas)
    assert 380 <= turnout["area_code"].nunique() <= 500 and len(survey) == 30_000
    start = time.perf_counter()
    compare(turnout, areas, survey, rng=np.random.default_rng(1))
    assert time.perf_counter() - start < 15
