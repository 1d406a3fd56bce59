"""End to end: the Snakemake workflow on a small demo scenario in a temporary folder."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from report_run import snakemake
from shared import SMALL_DEMO, small_workflow

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory):
    """Copy the workflow to a temporary folder, shrink the demo, run everything once."""
    folder = small_workflow(tmp_path_factory.mktemp("workflow"))
    result = snakemake(folder)
    assert result.returncode == 0, result.stderr[-5000:]
    return folder


def test_every_expected_output(pipeline_run):
    folder = pipeline_run
    results = folder / "data" / "processed" / "results"
    for name in (
        "estimates.csv",
        "effects.csv",
        "event_study.csv",
        "pilot_effects.csv",
        "turnout_trends.csv",
        "pilots.csv",
        "provenance.json",
        "weighting_summary.csv",
        "adjusted_gaps.csv",
    ):
        assert (results / name).stat().st_size > 0, name
    pilots = pd.read_csv(results / "pilots.csv", dtype={"municipality_code": str})
    assert len(pilots) == SMALL_DEMO["n_pilots"]
    reports = folder / "reports" / "_output" / "en"
    for name in ["programme", *(f"pilot_{code}" for code in pilots["municipality_code"])]:
        html = (reports / f"{name}.html").read_text(encoding="utf-8")
        assert "Synthetic demo data" in html
        assert (reports / f"{name}.pdf").read_bytes().startswith(b"%PDF")
    assert (folder / "logs" / "estimate.log").exists()


def test_who_takes_part_is_in_the_reports(pipeline_run):
    """The participants source reaches the programme and pilot reports, pooled pilots against pooled controls."""
    reports = pipeline_run / "reports" / "_output" / "en"
    programme = (reports / "programme.html").read_text(encoding="utf-8")
    section = programme[programme.index("Who takes part?") :]
    assert "Participatory budget · Education" in section and "representation_change.csv" in section
    assert "data:image/png;base64," in section  # the representation-ratio figure
    pilots = pd.read_csv(pipeline_run / "data" / "processed" / "results" / "pilots.csv", dtype={"unit_code": str})
    pilot = (reports / f"pilot_{pilots['unit_code'].iloc[0]}.html").read_text(encoding="utf-8")
    assert "Who takes part?" in pilot and "Public meeting · Age group" in pilot


def test_is_input_used_is_in_the_reports(pipeline_run):
    """The proposals source reaches the reports: shares before and after, and the pilots' effect."""
    reports = pipeline_run / "reports" / "_output" / "en"
    programme = (reports / "programme.html").read_text(encoding="utf-8")
    section = re.sub(r"\s+", " ", programme[programme.index("Is input used?") :])
    assert "Citizen proposals · Pilot municipalities" in section and "percentage points more in the pilot" in section
    assert "uptake_effects.csv" in section


def test_themes_are_in_the_report_without_any_planted_identity(pipeline_run):
    truth = json.loads((pipeline_run / "data" / "raw" / "demo" / "truth.json").read_text())
    planted = [value for values in truth["proposals"]["texts"]["planted"].values() for value in values]
    reports = pipeline_run / "reports" / "_output" / "en"
    programme = (reports / "programme.html").read_text(encoding="utf-8")
    assert "What is input about?" in programme and "«" in programme  # the section with its quotes
    for report in reports.glob("*.html"):
        text = report.read_text(encoding="utf-8")
        assert not [value for value in planted if value in text], report.name


def test_turnout_effect_recovered(pipeline_run):
    folder = pipeline_run
    truth = json.loads((folder / "data" / "raw" / "demo" / "truth.json").read_text())
    effects = pd.read_csv(folder / "data" / "processed" / "results" / "effects.csv")
    primary = (
        (effects["estimand"] == "att_turnout") & (effects["method"] == "twfe") & (effects["inference"] == "permutation")
    )
    row = effects[primary & (effects["sample"] == "programme")].iloc[0]
    true_att = truth["turnout"]["realised_att_pp"]
    assert row["ci_low"] <= true_att <= row["ci_high"]


def test_turnout_effect_of_each_cohort_recovered(pipeline_run):
    """Each cohort of pilots against all controls, with the programme's inference (att_turnout_cohort_<year>)."""
    folder = pipeline_run
    truth = json.loads((folder / "data" / "raw" / "demo" / "truth.json").read_text())
    effects = pd.read_csv(folder / "data" / "processed" / "results" / "effects.csv")
    cohorts = truth["turnout"]["by_cohort"]
    assert len(cohorts) == 2
    for year, cohort in cohorts.items():
        rows = effects[(effects["estimand"] == f"att_turnout_cohort_{year}") & (effects["inference"] == "permutation")]
        (row,) = rows.itertuples()
        assert row.ci_low <= cohort["realised_att_pp"] <= row.ci_high, (year, row)
        assert row.n_treated_clusters < len(truth["pilots"])


def test_nothing_to_do_after_a_full_run(pipeline_run):
    result = snakemake(pipeline_run, "-n")
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr


def test_editing_a_template_reruns_only_renders(pipeline_run):
    # Snakemake ignores a touch that leaves the content unchanged, so edit the template
    template = pipeline_run / "reports" / "pilot.qmd"
    template.write_text(template.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    result = snakemake(pipeline_run, "-n", "--quiet", "rules")
    output = result.stdout + result.stderr
    assert "pilot_report" in output
    for rule in ("ingest", "validate", "weight", "estimate", "compare", "programme_report"):
        assert f"\n{rule} " not in output and f"{rule}  " not in output, output


def test_long_stages_log_their_progress(pipeline_run):
    """``tail -f logs/<stage>.log`` shows counts and elapsed times of ingest, estimate, compare and renders."""
    logs = pipeline_run / "logs"
    expected = {
        "ingest.log": r"ingest: survey wave 1/\d+ \(innbyggerpanel_bolge01\.sav\), \d+\.\d s",
        "estimate.log": r"estimate: group variable \d+/\d+ \(education\), \d+\.\d s",
        "compare_turnout.log": r"compare turnout: placebo size \(\d+ replications\) and power, \d+\.\d s",
        "compare_survey_1.log": r"compare survey: outcome 1/\d+ \(\w+\), \d+\.\d s",
    }
    for name, pattern in expected.items():
        assert re.search(pattern, (logs / name).read_text(encoding="utf-8")), name
    render = next(logs.glob("report_programme_*.log")).read_text(encoding="utf-8")
    assert re.search(r"render programme\.qmd: cell \d+/\d+ \(.+\), \d+\.\d s", render)
