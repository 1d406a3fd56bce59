"""Validation: generated GX suites quarantine bad rows with a reason, fail checks stop the run."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from shared import REPO

from evaluation.config import load_config, stage_settings
from evaluation.errors import ValidationFailed
from evaluation.stages.validate import validate

SETTINGS = stage_settings(load_config(REPO / "config" / "config.yaml"), "validate")
SETTINGS["variables"] = str(REPO / "config" / "variables.yaml")
SETTINGS["validation"] |= {"field_periods": {}, "fail_on_quarantine_share": 0.05}


@pytest.fixture
def faulty(ingested, tmp_path):
    """A copy of the ingested small demo with known faults injected."""
    folder = tmp_path / "ingested"
    shutil.copytree(ingested, folder)
    survey = pd.read_parquet(folder / "survey.parquet")
    survey.loc[0, "trust_local_politicians"] = 14.0  # outside 0-10
    survey.loc[1, "design_weight"] = -3.0  # negative weight
    survey.loc[2, "gender"] = "unknown:5"  # unknown code
    survey = pd.concat([survey, survey.iloc[[5]]], ignore_index=True)  # duplicated respondent-wave
    survey.to_parquet(folder / "survey.parquet", index=False)
    turnout = pd.read_parquet(folder / "turnout.parquet")
    turnout.loc[0, "votes_cast"] = turnout.loc[0, "eligible_voters"] + 10  # turnout over 100 %
    turnout.loc[1, "area_code"] = "99999999"  # not in the register
    turnout.to_parquet(folder / "turnout.parquet", index=False)
    accounting = pd.read_csv(folder / "row_accounting.csv")
    first_wave = accounting["source_file"] == "innbyggerpanel_bolge01.sav"
    accounting.loc[first_wave, ["rows_read", "rows_kept"]] += 1  # the duplicated row was read too
    accounting.to_csv(folder / "row_accounting.csv", index=False)
    return folder, survey, turnout


def test_clean_demo_passes_untouched(ingested, tmp_path):
    validate(ingested, tmp_path / "out", SETTINGS)
    summary = json.loads((tmp_path / "out" / "validation_summary.json").read_text())
    assert all(
        check["success"]
        for table in summary["tables"].values()
        for check in table["checks"]
        if check["severity"] != "warn"
    )
    kept = pd.read_parquet(tmp_path / "out" / "survey.parquet")
    assert len(kept) == len(pd.read_parquet(ingested / "survey.parquet"))


def test_faulty_rows_quarantined_with_reason(faulty, tmp_path):
    folder, survey, turnout = faulty
    validate(folder, tmp_path / "out", SETTINGS)
    quarantine = pd.read_parquet(tmp_path / "out" / "quarantine.parquet")
    reasons = quarantine.set_index(["source_file", "row_number"])["reason"]
    first = survey.iloc[0]
    assert reasons[(first["source_file"], str(first["source_row"]))].startswith("survey.trust_local_politicians.range")
    assert reasons[(survey.iloc[1]["source_file"], str(survey.iloc[1]["source_row"]))].startswith(
        "survey.weight_positive"
    )
    assert reasons[(survey.iloc[2]["source_file"], str(survey.iloc[2]["source_row"]))].startswith(
        "survey.gender.categories"
    )
    duplicated = survey.iloc[5]
    assert reasons[(duplicated["source_file"], str(duplicated["source_row"]))].str.startswith(
        "survey.respondent_wave_unique"
    ).tolist() == [True, True]
    turnout_reasons = set(quarantine.loc[quarantine["source_file"] == "valgdeltakelse_stemmekretser.csv", "reason"])
    assert {r.split(":")[0] for r in turnout_reasons} == {"turnout.votes_at_most_eligible", "turnout.area_in_register"}
    kept = pd.read_parquet(tmp_path / "out" / "survey.parquet")
    assert len(kept) == len(survey) - 5  # rows 0, 1, 2 and both copies of the duplicate
    accounting = pd.read_csv(tmp_path / "out" / "row_accounting.csv")
    assert (accounting["rows_read"] == accounting["rows_kept"] + accounting["rows_quarantined"]).all()
    assert accounting["quarantined_validate"].sum() == 7


def test_fail_severity_stops_with_file_and_column(ingested, tmp_path):
    folder = tmp_path / "ingested"
    shutil.copytree(ingested, folder)
    areas = pd.read_parquet(folder / "areas.parquet")
    pilots = areas.index[areas["role"] == "pilot"]
    areas.loc[pilots[0], "pilot_start"] = pd.NaT
    areas.to_parquet(folder / "areas.parquet", index=False)
    with pytest.raises(
        ValidationFailed, match=r"areas \(areas.pilot_has_start.*pilot_start.*area_register.csv row \d+"
    ):
        validate(folder, tmp_path / "out", SETTINGS)
    assert not (tmp_path / "out" / "areas.parquet").exists()  # no output left as if complete


def test_too_many_quarantined_rows_stop_the_run(ingested, tmp_path):
    folder = tmp_path / "ingested"
    shutil.copytree(ingested, folder)
    survey = pd.read_parquet(folder / "survey.parquet")
    survey.loc[: len(survey) // 10, "design_weight"] = np.nan
    survey.to_parquet(folder / "survey.parquet", index=False)
    with pytest.raises(
        ValidationFailed,
        match=r"survey: 241 of 2400 rows quarantined .*\n.*innbyggerpanel_bolge01.sav \(survey\): 241 of 600",
    ):
        validate(folder, tmp_path / "out", SETTINGS)


def test_suites_written_as_data(ingested, tmp_path):
    validate(ingested, tmp_path / "out", SETTINGS)
    suite = json.loads((tmp_path / "out" / "suites" / "survey.json").read_text())
    ids = {e["meta"]["check_id"] for e in suite["expectations"]}
    assert {"survey.respondent_wave_unique", "survey.trust_local_politicians.range", "survey.weight_positive"} <= ids


def test_severity_override_from_config(faulty, tmp_path):
    folder, _, _ = faulty
    settings = {
        **SETTINGS,
        "validation": {**SETTINGS["validation"], "severity": {"turnout.votes_at_most_eligible": "fail"}},
    }
    with pytest.raises(ValidationFailed, match="votes cast <= eligible voters"):
        validate(folder, tmp_path / "out", settings)


def test_data_docs_and_summary_per_input(ingested, tmp_path):
    validate(ingested, tmp_path / "out", SETTINGS)
    docs = tmp_path / "out" / "data_docs"
    assert (docs / "index.html").exists()
    assert {p.stem for p in docs.glob("validations/*/*/*/*.html")} == {
        "areas",
        "turnout",
        "survey",
        "participants",
        "proposals",
        "pilot_coverage",
    }
    for page in docs.rglob("*.html"):  # offline: nothing is loaded from another host
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"<(script|img)[^>]*src=[\"']https?://|<link[^>]*href=[\"']https?://", text), page
        assert "expectation" in text.lower()
    summary = json.loads((tmp_path / "out" / "validation_summary.json").read_text())
    wave1 = summary["inputs"]["innbyggerpanel_bolge01.sav"]
    assert wave1["table"] == "survey" and wave1["rows_quarantined"] == 0 and "survey.weight_positive" in wave1["checks"]


def test_injected_faults_are_quarantined(ingested, tmp_path):
    from evaluation.demo.faults import inject_faults

    folder = tmp_path / "ingested"
    shutil.copytree(ingested, folder)
    faults = inject_faults(folder, np.random.default_rng(3))
    settings = stage_settings(load_config(REPO / "config" / "config.yaml"), "validate")
    settings["variables"] = str(REPO / "config" / "variables.yaml")
    validate(folder, tmp_path / "out", {**settings, "validation": {**settings["validation"], "data_docs": False}})
    quarantine = pd.read_parquet(tmp_path / "out" / "quarantine.parquet")
    assert sorted(zip(quarantine["source_file"], quarantine["row_number"].astype(int))) == sorted(
        zip(faults["source_file"], faults["source_row"])
    )
    assert {r.split(":")[0] for r in quarantine["reason"]} == {
        "survey.trust_local_politicians.range",
        "survey.weight_positive",
        "survey.gender.categories",
        "survey.interview_date.field_period_end",
        "survey.respondent_wave_unique",
        "turnout.votes_at_most_eligible",
        "turnout.area_in_register",
    }


def test_cli_exits_1_with_message_on_failed_validation(ingested, tmp_path):
    import subprocess
    import sys

    folder = tmp_path / "ingested"
    shutil.copytree(ingested, folder)
    areas = pd.read_parquet(folder / "areas.parquet")
    areas.loc[areas.index[areas["role"] == "pilot"][0], "pilot_start"] = pd.NaT
    areas.to_parquet(folder / "areas.parquet", index=False)
    settings = json.dumps({**SETTINGS, "validation": {**SETTINGS["validation"], "data_docs": False}})
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "evaluation",
            "validate",
            "--input",
            str(folder),
            "--out",
            str(tmp_path / "out"),
            "--settings",
            settings,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert "error: validate: validation of" in done.stderr
    assert "areas (areas.pilot_has_start, expect_column_values_to_not_be_null on pilot_start)" in done.stderr
    assert not (tmp_path / "out" / "survey.parquet").exists()
