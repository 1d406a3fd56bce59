"""Outcomes are declared once, in ``config/variables.yaml``: no stage or report names one, and a new one flows."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest
import yaml
from shared import REPO

from evaluation.comparison.programme import CompareOptions, compare_survey, compare_turnout, gather
from evaluation.config import load_config, report_outcomes
from evaluation.errors import ConfigError

sys.path.insert(0, str(REPO / "tests" / "comparison"))
from simulate import simulate_survey, simulate_turnout  # noqa: E402

OUTCOMES = list(yaml.safe_load((REPO / "config" / "variables.yaml").read_text(encoding="utf-8"))["outcomes"])


def test_no_outcome_is_named_in_the_package_or_the_reports():
    """Only the demo generator (and the codebooks and config in config/) may name an outcome."""
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, OUTCOMES)) + r")\b")
    files = [
        p
        for folder in ("evaluation", "reports")
        for p in (REPO / folder).rglob("*")
        if p.suffix in {".py", ".qmd", ".yaml", ".lua"} and "demo" not in p.relative_to(REPO).parts[:2]
    ]
    assert len(files) > 50
    named = [f"{p.relative_to(REPO)}: {m.group()}" for p in files for m in [pattern.search(p.read_text("utf-8"))] if m]
    assert named == []


def test_a_new_outcome_is_compared_under_its_own_name():
    rng = np.random.default_rng(5)
    turnout, areas = simulate_turnout(rng, n_municipalities=16, n_pilots=4, districts=(2, 4))
    survey = simulate_survey(rng, areas, n_respondents=1200, trust_effect=0.5)
    survey = survey.rename(columns={"trust_local_politicians": "trust_in_each_other", "voted_local": "helped_out"})
    options = CompareOptions(n_permutations=49, n_bootstrap=49, n_placebo_replications=5, n_placebo_draws=19)
    kinds = {"helped_out": "binary", "trust_in_each_other": "scale"}
    tables = gather(
        [
            compare_turnout(turnout, areas, seed=1, options=options),
            compare_survey(areas, survey, kinds, seed=1, options=options),
        ]
    )
    survey_rows = tables["effects"][tables["effects"]["outcome"] != "turnout"]
    assert list(dict.fromkeys(survey_rows["outcome"])) == ["helped_out", "trust_in_each_other"]
    binary = survey_rows[survey_rows["outcome"] == "helped_out"]["estimate"].abs()
    assert (binary > 1).any()  # a binary item is reported in percentage points


def test_report_outcomes_default_to_every_declared_outcome(monkeypatch):
    monkeypatch.chdir(REPO)
    config = load_config(REPO / "config" / "config.yaml")
    config["report"].update(headline_outcomes=None, gap_figures=None)
    resolved = report_outcomes(config)
    assert resolved["headline_outcomes"] == OUTCOMES
    assert resolved["gap_figures"] == [[outcome, "education"] for outcome in OUTCOMES]


@pytest.mark.parametrize(
    ("report", "message"),
    [
        ({"headline_outcomes": ["trust_in_aliens"]}, r"report\.headline_outcomes: 'trust_in_aliens' is not an outcome"),
        ({"gap_figures": [["voted_local", "gender"]]}, r"report\.gap_figures\[0\]: 'gender' has no gap in"),
    ],
)
def test_report_outcomes_must_be_declared(monkeypatch, tmp_path, report, message):
    monkeypatch.chdir(REPO)
    document = yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))
    document["report"].update(report)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(path)
