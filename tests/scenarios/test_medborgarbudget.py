"""End to end: the medborgarbudget seed programme recovers its truths (treated areas, their respondents, effects).

One run of ``snakemake --configfile config/scenarios/medborgarbudget.yaml`` on a
copy of the workflow (about 25 s on 2 cores, Swedish reports included).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from report_run import snakemake
from shared import small_workflow

SCENARIO = "config/scenarios/medborgarbudget.yaml"
OUTCOMES = {"att_turnout": "turnout", "att_trust_municipality": "trust_municipality"}
OUTCOMES |= {"att_trust_politicians": "trust_politicians", "att_took_part_budget": "took_part_budget"}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = small_workflow(tmp_path_factory.mktemp("medborgarbudget"))
    result = snakemake(folder, "--configfile", SCENARIO)
    assert result.returncode == 0, result.stderr[-5000:]
    return folder


def _results(run, name: str) -> pd.DataFrame:
    return pd.read_csv(run / "data/processed/medborgarbudget/results" / name, dtype={"unit_code": str, "sample": str})


def _truth(run) -> dict:
    return json.loads((run / "data/raw/medborgarbudget/truth.json").read_text(encoding="utf-8"))


def test_the_treated_units_are_the_areas_of_the_register(run):
    truth, pilots = _truth(run), _results(run, "pilots.csv")
    assert list(pilots["unit_code"]) == sorted(truth["pilots"])
    assert list(pilots["n_districts"]) == [len(truth["pilots"][code]) for code in pilots["unit_code"]]
    assert set(pilots["treated_unit"]) == {"area"}
    assert sorted(pilots["municipality_code"].astype(str).unique()) == truth["pilot_municipalities"]


@pytest.mark.parametrize("method", ["twfe", "twfe_within"])
@pytest.mark.parametrize("estimand", sorted(OUTCOMES))
def test_both_comparisons_cover_the_known_effects(run, estimand, method):
    truth, effects = _truth(run), _results(run, "effects.csv")
    expected = truth["turnout"]["att_turnout_pp"] if estimand == "att_turnout" else truth["survey"][OUTCOMES[estimand]]
    for inference in ("crv1", "permutation"):
        row = effects[(effects["estimand"] == estimand) & (effects["method"] == method)]
        row = row[row["inference"] == inference].iloc[0]
        assert row["ci_low"] < expected < row["ci_high"], (estimand, method, inference, row.to_dict())
        assert row["n_treated_clusters"] == len(truth["pilots"])  # clustered and re-drawn at the area


def test_within_uses_the_pilot_municipalities_only(run):
    truth, effects = _truth(run), _results(run, "effects.csv")
    register = pd.read_csv(run / "data/raw/medborgarbudget/omradesregister.csv", dtype=str)
    in_pilot_municipalities = register[register["Kommunkod"].isin(truth["pilot_municipalities"])]
    treated_districts = sum(len(d) for d in truth["pilots"].values())
    units = len(in_pilot_municipalities) - treated_districts + len(truth["pilots"])
    within = effects[(effects["estimand"] == "att_turnout") & (effects["method"] == "twfe_within")]
    assert set(within["n_clusters"]) == {units}


def test_respondents_are_counted_in_their_area(run):
    estimates = _results(run, "estimates.csv").astype({"municipality_code": str})
    per_area = estimates[(estimates["area_type"] == "municipality") & (estimates["group_variable"] == "all")]
    assert set(per_area["municipality_code"]) == set(_truth(run)["pilots"])  # per-pilot series keyed by area


def test_swedish_reports_per_area_name_their_municipality(run):
    pilots = _results(run, "pilots.csv")
    first = pilots.iloc[0]
    html = (run / f"reports/_output/medborgarbudget/sv/pilot_{first['unit_code']}.html").read_text(encoding="utf-8")
    assert f"{first['unit_name']} ({first['municipality_name']})" in html
    assert "jämförbara områden" in html and "försöksområdena är få" in html  # the pilots are areas
    assert "jämförbara kommuner" not in html and "försökskommunerna är få" not in html
    assert (run / "reports/_output/medborgarbudget/sv/programme.pdf").stat().st_size > 10_000


def test_the_within_comparison_alone_runs_to_the_reports(tmp_path):
    """``design.comparison: within``: no across tables, the within effects cover the truths, every report renders."""
    folder = small_workflow(tmp_path / "within")
    (folder / "within.yaml").write_text("design: {treated_unit: area, comparison: within}\n", encoding="utf-8")
    result = snakemake(folder, "--configfile", SCENARIO, "within.yaml")
    assert result.returncode == 0, result.stderr[-5000:]
    truth, effects = _truth(folder), _results(folder, "effects.csv")
    assert set(effects["method"]) == {"twfe_within"}
    turnout = effects[(effects["estimand"] == "att_turnout") & (effects["inference"] == "permutation")].iloc[0]
    assert turnout["ci_low"] < truth["turnout"]["att_turnout_pp"] < turnout["ci_high"]
    assert _results(folder, "placebo_size.csv").empty
    for name in ("programme", "methods", "data_quality", f"pilot_{sorted(truth['pilots'])[0]}"):
        assert (folder / f"reports/_output/medborgarbudget/sv/{name}.pdf").exists(), name
