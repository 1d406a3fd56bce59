"""The workflow used as a module of another workflow, in another folder (Snakemake's ``module`` / ``use rule``)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from shared import REPO, SMALL_DEMO

from evaluation.workflow import evaluation_command, folder_above

pytestmark = pytest.mark.e2e

OUTER_SNAKEFILE = """\
configfile: "analysis.yaml"


module lokaldemokrati:
    snakefile:
        "{snakefile}"
    config:
        config


use rule * from lokaldemokrati
"""


def outer_config() -> dict:
    """The repository's demo config, shrunk, with its own files (codebooks, variables, checks) named absolutely."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))
    config["demo"].update(
        seed=SMALL_DEMO["seed"],
        municipalities=SMALL_DEMO["n_municipalities"],
        pilots=SMALL_DEMO["n_pilots"],
        respondents_per_wave=SMALL_DEMO["respondents_per_wave"],
        waves=SMALL_DEMO["n_waves"],
    )
    config["sources"]["survey"]["waves"] = list(range(1, SMALL_DEMO["n_waves"] + 1))
    for source in ("areas", "turnout", "survey", "participants", "proposals"):
        config["sources"][source]["codebook"] = str(REPO / config["sources"][source]["codebook"])
    config["variables"] = str(REPO / "config" / "variables.yaml")
    config["validation"]["rules"] = str(REPO / "config" / "validation.yaml")
    config["report"]["language"] = "en"
    return config


@pytest.fixture(scope="module")
def outer(tmp_path_factory) -> Path:
    """A folder with a workflow of its own that uses every rule of this one; nothing of the repository copied."""
    folder = tmp_path_factory.mktemp("outer_workflow")
    (folder / "analysis.yaml").write_text(yaml.safe_dump(outer_config(), allow_unicode=True), encoding="utf-8")
    (folder / "Snakefile").write_text(OUTER_SNAKEFILE.format(snakefile=REPO / "Snakefile"), encoding="utf-8")
    return folder


def snakemake(folder: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "snakemake", "--cores", "2", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=folder, timeout=600)


def test_dry_run_plans_every_job_in_the_outer_folder(outer):
    result = snakemake(outer, "-n", "--quiet", "rules")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    for rule in ("demo_data", "ingest", "validate", "weight", "estimate", "compare_turnout", "compare_survey"):
        assert rule in output, output
    assert "provenance" in output and "programme_report" in output and "appendix_report" in output


def test_rules_can_be_renamed_on_import(outer, tmp_path):
    (tmp_path / "analysis.yaml").write_text((outer / "analysis.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    snakefile = OUTER_SNAKEFILE.format(snakefile=REPO / "Snakefile").replace(
        "use rule * from lokaldemokrati", "use rule * from lokaldemokrati as lk_*"
    )
    (tmp_path / "Snakefile").write_text(snakefile, encoding="utf-8")
    result = snakemake(tmp_path, "-n", "--quiet", "rules")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    for rule in ("lk_demo_data", "lk_ingest", "lk_compare", "lk_programme_report", "lk_all"):
        assert rule in output, output


def test_report_sources_come_from_the_module(outer):
    result = snakemake(outer, "-n", "-p", "reports/_output/en/methods.html")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    assert f"render {REPO / 'reports' / 'methods.qmd'} " in output, output


def test_first_stages_run_in_the_outer_folder(outer):
    started = time.monotonic()
    result = snakemake(outer, "data/processed/validated/validation_summary.json")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    assert time.monotonic() - started < 120
    accounting = pd.read_csv(outer / "data" / "processed" / "validated" / "row_accounting.csv")
    assert len(accounting) > 0
    assert (outer / "data" / "raw" / "demo" / "demo_manifest.json").is_file()
    assert (outer / "logs" / "ingest.log").is_file()
    assert not (REPO / "analysis.yaml").exists()


def test_folder_above():
    assert folder_above("data/raw/demo/area_register.csv", "area_register.csv") == "data/raw/demo"
    assert folder_above("/x/raw/sub/areas.csv", "sub/areas.csv") == "/x/raw"
    assert folder_above("areas.csv", "areas.csv") == "."
    with pytest.raises(ValueError, match="does not end in other.csv"):
        folder_above("data/raw/areas.csv", "other.csv")


def test_evaluation_command_with_and_without_a_software_environment():
    assert evaluation_command("/opt/my venv/bin/python", False, Path("/w")) == "'/opt/my venv/bin/python' -m evaluation"
    assert evaluation_command("/usr/bin/python3", True, Path("/my work")) == (
        "PYTHONPATH='/my work' python -m evaluation"
    )
