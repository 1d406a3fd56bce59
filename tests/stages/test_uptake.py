"""The proposals source end to end: ingest, validate and uptake on the demo, whose truths must come out.

The demo's proposals are adopted 15 points more often, mentioned 25 points
more often and decided faster in pilots from their start year
(evaluation/demo/proposals.py).
"""

from __future__ import annotations

import copy
import json
import shutil

import pandas as pd
import pytest
from shared import REPO

from evaluation.config import load_config, stage_settings
from evaluation.stages.ingest import ingest
from evaluation.stages.uptake import uptake
from evaluation.stages.validate import validate


def _validate_settings() -> dict:
    settings = stage_settings(load_config(REPO / "config" / "config.yaml"), "validate")
    settings["validation"] = {**settings["validation"], "data_docs": False, "field_periods": {}}
    settings["validation"]["rules"] = str(REPO / settings["validation"]["rules"])
    settings["variables"] = str(REPO / settings["variables"])
    return settings


@pytest.fixture(scope="module")
def uptake_run(small_demo, ingested, tmp_path_factory):
    validated = tmp_path_factory.mktemp("validated")
    validate(ingested, validated, _validate_settings())
    results = tmp_path_factory.mktemp("results")
    settings = {**stage_settings(load_config(REPO / "config" / "config.yaml"), "uptake"), "n_permutations": 499}
    uptake(validated / "proposals.parquet", validated / "areas.parquet", results, settings)
    tables = {
        name: pd.read_csv(results / f"{name}.csv", dtype={"municipality_code": str})
        for name in ("uptake", "uptake_effects")
    }
    return tables, json.loads((small_demo / "truth.json").read_text(encoding="utf-8"))["proposals"]


def test_the_pilots_effect_on_uptake_is_recovered(uptake_run):
    tables, truth = uptake_run
    effects = tables["uptake_effects"].set_index(["arena", "estimand", "inference"])
    adopted = effects.loc[("all", "att_adopted_share", "permutation")]
    assert adopted["conf_low"] <= truth["pilot_uptake_pp"] <= adopted["conf_high"] and adopted["conf_low"] > 0
    mentioned = effects.loc[("all", "att_mentioned_share", "permutation")]
    true_mentioned = 100 * (truth["mentioned_share"]["pilots_after_start"] - truth["mentioned_share"]["usual"])
    assert mentioned["conf_low"] <= true_mentioned <= mentioned["conf_high"]


def test_median_days_to_decision_are_recovered(uptake_run):
    tables, truth = uptake_run
    pooled = (
        tables["uptake"]
        .query("arena == 'all' and municipality_code == 'all' and group_variable == 'all'")
        .set_index(["role", "period"])
    )
    expected = {("control", "before"): "usual", ("control", "after"): "usual", ("pilot", "after"): "pilots_after_start"}
    for cell, kind in expected.items():
        row = pooled.loc[cell]
        assert row["median_days_low"] <= truth["median_days_to_decision"][kind] <= row["median_days_high"], cell


def test_uptake_by_topic_and_proposer_group(uptake_run):
    tables, _ = uptake_run
    table = tables["uptake"]
    groups = table[table["group_variable"] != "all"]
    assert set(groups["group_variable"]) == {"topic", "proposer_group"} and (groups["municipality_code"] == "all").all()
    # the groups of a variable add up to the cell
    cell = dict(arena="all", role="pilot", period="after")
    total = table.query("arena == 'all' and municipality_code == 'all' and role == 'pilot' and period == 'after'")
    for variable in ("topic", "proposer_group"):
        parts = groups[(groups["group_variable"] == variable) & (groups[list(cell)] == pd.Series(cell)).all(axis=1)]
        assert parts["n_proposals"].sum() == total.loc[total["group_variable"] == "all", "n_proposals"].iloc[0]


def test_small_cells_are_withheld(uptake_run):
    tables, _ = uptake_run
    table = tables["uptake"]
    hidden = table[table["suppressed"]]
    assert (table.loc[~table["suppressed"], "n_decided"] >= 20).all()
    assert hidden[["adopted_share", "median_days", "mentioned_share"]].isna().all().all()


def test_a_decision_dated_before_its_submission_is_quarantined(small_demo, ingest_settings, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(small_demo, raw)
    path = raw / "innbyggerforslag_saker.csv"
    records = pd.read_csv(path, dtype=str, keep_default_na=False)
    decided = records.index[records["vedtaksdato"] != ""][3]
    records.loc[decided, "vedtaksdato"] = "01.01.2015"
    records.to_csv(path, index=False)
    ingest(raw, tmp_path / "ingested", copy.deepcopy(ingest_settings))
    validate(tmp_path / "ingested", tmp_path / "validated", _validate_settings())
    quarantine = pd.read_parquet(tmp_path / "validated" / "quarantine.parquet")
    rows = quarantine[quarantine["source_file"] == "innbyggerforslag_saker.csv"]
    assert rows["row_number"].astype(int).tolist() == [decided + 1]
    assert rows["reason"].iloc[0].startswith("proposals.decided_after_submitted")
    assert rows["column"].iloc[0] == "decision_date, submitted_date"
    kept = pd.read_parquet(tmp_path / "validated" / "proposals.parquet")
    assert len(kept) == len(records) - 1


def test_an_outcome_word_the_codebook_does_not_know_is_quarantined_with_its_column(
    small_demo, ingest_settings, tmp_path
):
    raw = tmp_path / "raw"
    shutil.copytree(small_demo, raw)
    path = raw / "innbyggerforslag_saker.csv"
    records = pd.read_csv(path, dtype=str, keep_default_na=False)
    records.loc[5, "utfall"] = "sendt tilbake"  # a relabelled outcome: neither adopted, rejected nor pending
    records.to_csv(path, index=False)
    ingest(raw, tmp_path / "ingested", copy.deepcopy(ingest_settings))
    validate(tmp_path / "ingested", tmp_path / "validated", _validate_settings())
    quarantine = pd.read_parquet(tmp_path / "validated" / "quarantine.parquet")  # ingest's and validate's
    rows = quarantine[quarantine["source_file"] == "innbyggerforslag_saker.csv"]
    assert rows["row_number"].astype(int).tolist() == [6] and rows["column"].iloc[0] == "utfall"
    assert (
        rows["reason"]
        .iloc[0]
        .endswith("expected one of the labels 'vedtatt', 'delvis vedtatt', 'avslatt', 'trukket', 'under behandling'")
    )
    assert len(pd.read_parquet(tmp_path / "validated" / "proposals.parquet")) == len(records) - 1
