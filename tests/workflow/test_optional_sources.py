"""Every source but the area register is optional: a survey-only and a turnout-only run, end to end."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from report_run import appendix_targets, snakemake
from shared import small_workflow

pytestmark = pytest.mark.e2e

SURVEY_TABLES = ("estimates.csv", "gaps.csv", "adjusted_gaps.csv", "weighting_summary.csv")
TURNOUT_TABLES = ("turnout_trends.csv", "placebo_size.csv", "power.csv", "balance.csv")
ALWAYS = ("effects.csv", "event_study.csv", "pilot_effects.csv", "pilots.csv", "data_quality.csv", "provenance.json")


def run_without(tmp_path_factory, source: str) -> Path:
    folder = small_workflow(tmp_path_factory.mktemp(f"without_{source}"), draws=49, without=(source,))
    result = snakemake(folder, "all", *appendix_targets())
    assert result.returncode == 0, result.stderr[-5000:]
    return folder


@pytest.fixture(scope="module")
def survey_only(tmp_path_factory) -> Path:
    return run_without(tmp_path_factory, "turnout")


@pytest.fixture(scope="module")
def turnout_only(tmp_path_factory) -> Path:
    return run_without(tmp_path_factory, "survey")


def results(folder: Path) -> Path:
    return folder / "data" / "processed" / "results"


def report_text(folder: Path, name: str) -> str:
    return (folder / "reports" / "_output" / "en" / f"{name}.html").read_text(encoding="utf-8")


def test_a_survey_alone_is_estimated_compared_and_reported(survey_only):
    folder = results(survey_only)
    assert all((folder / name).exists() for name in (*ALWAYS, *SURVEY_TABLES))
    assert not any((folder / name).exists() for name in TURNOUT_TABLES)
    assert not (survey_only / "data" / "processed" / "ingested" / "turnout.parquet").exists()
    effects = pd.read_csv(folder / "effects.csv")
    assert len(effects) and "turnout" not in set(effects["outcome"])
    assert {"trust_local_politicians", "voted_local"} <= set(effects["outcome"])
    assert "no election data" in report_text(survey_only, "programme")
    pilots = pd.read_csv(folder / "pilots.csv", dtype={"municipality_code": str})
    assert all(
        (survey_only / "reports" / "_output" / "en" / f"pilot_{c}.pdf").exists() for c in pilots["municipality_code"]
    )


def test_turnout_alone_is_compared_and_reported(turnout_only):
    folder = results(turnout_only)
    assert all((folder / name).exists() for name in (*ALWAYS, *TURNOUT_TABLES))
    assert not any((folder / name).exists() for name in SURVEY_TABLES)
    assert not (turnout_only / "data" / "processed" / "weighted").exists()
    effects = pd.read_csv(folder / "effects.csv")
    assert set(effects["outcome"]) == {"turnout"}
    assert "no survey" in report_text(turnout_only, "programme")
    quality = pd.read_csv(folder / "data_quality.csv")
    assert "nonresponse" not in set(quality["section"])
