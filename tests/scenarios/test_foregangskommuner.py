"""End to end: the foregangskommuner seed programme recovers its truths in its own folders.

One run of ``snakemake --configfile config/scenarios/foregangskommuner.yaml`` on a
copy of the workflow whose config.yaml has the shrunk test demo (the scenario is
layered on it), bokmål reports included.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from report_run import snakemake
from shared import SMALL_DEMO, small_workflow

SCENARIO = "config/scenarios/foregangskommuner.yaml"
NAME = "foregangskommuner"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = small_workflow(tmp_path_factory.mktemp(NAME), lang="en")
    result = snakemake(folder, "--configfile", SCENARIO)
    assert result.returncode == 0, result.stderr[-5000:]
    return folder


def _truth(run) -> dict:
    return json.loads((run / "data/raw" / NAME / "truth.json").read_text(encoding="utf-8"))


def _effects(run) -> pd.DataFrame:
    return pd.read_csv(run / "data/processed" / NAME / "results" / "effects.csv")


def test_the_scenario_writes_only_to_its_own_folders(run):
    assert not (run / "data/raw/demo").exists()
    assert not (run / "data/processed/results").exists()
    assert (run / "logs" / NAME / "estimate.log").exists()


def test_the_turnout_effect_is_covered(run):
    truth, effects = _truth(run), _effects(run)
    primary = (effects["estimand"] == "att_turnout") & (effects["method"] == "twfe")
    row = effects[primary & (effects["inference"] == "permutation") & (effects["sample"] == "programme")].iloc[0]
    assert row["ci_low"] <= truth["turnout"]["realised_att_pp"] <= row["ci_high"], row.to_dict()


def test_the_reports_are_in_bokmal(run):
    pilots = pd.read_csv(run / "data/processed" / NAME / "results" / "pilots.csv", dtype={"unit_code": str})
    assert len(pilots) == SMALL_DEMO["n_pilots"]
    reports = run / "reports/_output" / NAME / "nb"
    assert (reports / "programme.html").stat().st_size > 10_000
    assert (reports / "programme.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("outcome", ["trust_local_politicians", "trust_council", "took_part_consultation"])
def test_the_survey_effects_are_covered(run, outcome):
    truth, effects = _truth(run)["survey"]["outcomes"][outcome], _effects(run)
    expected = truth.get("realised_att_pp", truth.get("realised_att_scale_points"))
    rows = effects[(effects["estimand"] == f"att_{outcome}") & (effects["method"] == "twfe")]
    row = rows[(rows["inference"] == "permutation") & (rows["sample"] == "programme")].iloc[0]
    assert row["ci_low"] <= expected <= row["ci_high"], row.to_dict()
