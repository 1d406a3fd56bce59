"""The participants source end to end: ingest, validate and represent on the demo, whose truths must come out.

The demo draws participants with a known skew (more higher educated and older
people) that pilots reduce from their start year (evaluation/demo/participants.py).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from shared import REPO

from evaluation.config import load_config, stage_settings
from evaluation.stages.represent import represent
from evaluation.stages.validate import validate


@pytest.fixture(scope="module")
def represented(small_demo, ingested, tmp_path_factory):
    config = load_config(REPO / "config" / "config.yaml")
    settings = stage_settings(config, "validate")
    settings["validation"] = {**settings["validation"], "data_docs": False, "field_periods": {}}
    settings["variables"] = str(REPO / settings["variables"])
    settings["validation"]["rules"] = str(REPO / settings["validation"]["rules"])
    validated = tmp_path_factory.mktemp("validated")
    validate(ingested, validated, settings)
    results = tmp_path_factory.mktemp("results")
    represent_settings = {**stage_settings(config, "represent"), "variables": str(REPO / "config/variables.yaml")}
    represent(
        validated / "participants.parquet",
        validated / "areas.parquet",
        small_demo / "befolkning_marginer.csv",
        results,
        represent_settings,
    )
    read = {
        name: pd.read_csv(results / f"{name}.csv", dtype={"municipality_code": str})
        for name in ("representation", "representation_change")
    }
    return read, json.loads((small_demo / "truth.json").read_text(encoding="utf-8"))["participants"], validated


def test_every_participant_row_is_accounted_for(represented, small_demo):
    _, truth, validated = represented
    raw = pd.read_csv(small_demo / truth["file"])
    kept = pd.read_parquet(validated / "participants.parquet")
    accounting = pd.read_csv(validated / "row_accounting.csv")
    row = accounting[accounting["table"] == "participants"].iloc[0]
    assert len(kept) == row["rows_kept"] == row["rows_read"] - row["rows_quarantined"] == len(raw)


def test_pilots_broaden_participation_and_controls_do_not(represented):
    tables, truth, _ = represented
    change = tables["representation_change"]
    education = change[(change["municipality_code"] == "all") & (change["group_variable"] == "education")]
    for arena in truth["arenas"]:
        pilots = education[(education["arena"] == arena) & (education["role"] == "pilot")].iloc[0]
        controls = education[(education["arena"] == arena) & (education["role"] == "control")].iloc[0]
        assert pilots["ci_high"] < 0, f"{arena}: the pilots' education skew fell ({pilots['change']:.3f})"
        assert controls["ci_low"] <= 0 <= controls["ci_high"], f"{arena}: no change among controls"


def test_per_pilot_changes_cover_the_truth(represented):
    tables, truth, _ = represented
    expected = pd.DataFrame(truth["dissimilarity"]).pivot_table(
        index=["arena", "municipality_code", "role", "group_variable"], columns="period", values="dissimilarity"
    )
    change = tables["representation_change"]
    rows = change[
        (change["role"] == "pilot") & (change["municipality_code"] != "all") & (change["group_variable"] == "education")
    ]
    merged = rows.join(expected, on=["arena", "municipality_code", "role", "group_variable"])
    true_change = merged["after"] - merged["before"]
    covered = (merged["ci_low"] <= true_change) & (true_change <= merged["ci_high"])
    assert len(merged) >= 6 and covered.mean() >= 0.75
    # the estimated levels are near the expected ones (D is biased up a little in small cells)
    assert np.abs(merged["dissimilarity_before"] - merged["before"]).max() < 0.12


def test_published_ratios_never_show_a_small_count(represented):
    tables, _, _ = represented
    table = tables["representation"]
    shown = table[~table["suppressed"]]
    assert (shown["count"] >= 20).all() and table.loc[table["suppressed"], "ratio"].isna().all()
    # a cell with one hidden category hides a second, so the hidden one cannot be had by subtraction
    hidden = (
        table[table["suppressed"]].groupby(["arena", "municipality_code", "role", "period", "group_variable"]).size()
    )
    cells = table.groupby(["arena", "municipality_code", "role", "period", "group_variable"]).size()
    assert ((hidden >= 2) | (hidden == cells.reindex(hidden.index))).all()
