# Shared by the rule files (the completed config, the paths of a run, per-rule resources) and the
# helper functions they call. No rules here: the lint wants functions and rules in separate files.
import json
import shlex
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

from evaluation.config import complete_config, stage_settings
from evaluation.demo.scales import scale_of
from evaluation.workflow import (
    evaluation_command,
    folder_above,
    raw_inputs,
    render_assets,
    report_languages,
    stage_code,
)

# checked against evaluation/schemas/config.schema.yaml, with the schema's defaults filled in and what
# demo.scale: national implies (survey waves, field periods, register source)
config.update(complete_config(config, workflow.configfiles[0] if workflow.configfiles else "config"))
SCALE = scale_of(config)

# The workflow's own files (report sources, software environments) are found from this folder, so that
# the workflow also runs as a module of another workflow, from another working directory. Paths in the
# config (paths.*, codebooks, variables, validation rules) are relative to the working directory.
WORKFLOW_DIR = Path(str(workflow.current_basedir)).parent
RAW = config["paths"]["raw"]
PROCESSED = config["paths"]["processed"]
RESULTS = f"{PROCESSED}/results"
REPORTS = config["paths"]["reports"]
LOGS = config["paths"]["logs"]
LANGUAGES = report_languages(config["report"])  # every report is rendered in each (the {lang} wildcard)
# Optional sources: without turnout or a survey, the rules that need them are left out of the workflow.
HAS_TURNOUT = "turnout" in config["sources"]
HAS_SURVEY = "survey" in config["sources"]
BENCHMARKS = f"{LOGS}/benchmarks"  # one Snakemake benchmark TSV per job; benchmarks/bench_stages.py tabulates them

# `python -m evaluation` with the venv's interpreter, or with the environment's under --sdm conda/apptainer.
# Rules receive it as a parameter (`{params.py}`).
PY = evaluation_command(sys.executable, bool(workflow.deployment_settings.deployment_method), WORKFLOW_DIR)

# Per rule: memory (MB) and runtime (minutes) a scheduler should reserve, per scale, from the measured
# peak RSS and wall time (benchmarks/bench_stages.py) with head room. `threads:` is set in each rule.
RESOURCES = {
    # measured (demo / national, 2 cores, bench_stages.py, December 2026): demo_data 3 s 0.3 GB / 38 s 0.8 GB;
    # ingest 2 s / 14 s 0.4 GB; validate 5 s / 9 s 0.5 GB; weight 2 s / 4 s 0.5 GB; estimate 8 s / 71 s 1.1 GB;
    # compare_turnout 2 s / 18 s 1.9 GB; compare_survey (each) 4 s / 60 s 1.4 GB; reports 2-5 s 0.3 GB each
    "demo_data": {"demo": (1000, 5), "national": (2500, 10)},
    "ingest": {"demo": (1000, 5), "national": (1500, 10)},
    "validate": {"demo": (1000, 5), "national": (1500, 10)},
    "weight": {"demo": (1000, 5), "national": (1500, 10)},
    "estimate": {"demo": (1000, 5), "national": (2000, 10)},
    "compare_turnout": {"demo": (1000, 5), "national": (3000, 10)},
    "compare_survey": {"demo": (1000, 5), "national": (3000, 15)},
    "compare": {"demo": (500, 5), "national": (1000, 5)},
    "represent": {"demo": (500, 5), "national": (1500, 10)},
    "uptake": {"demo": (500, 5), "national": (1500, 10)},
    "themes": {"demo": (1000, 5), "national": (2000, 10)},
    "provenance": {"demo": (500, 5), "national": (500, 5)},
    "data_quality_table": {"demo": (500, 5), "national": (1000, 5)},
    "report": {"demo": (1000, 10), "national": (1000, 10)},
}


def resources_of(rule):
    """``mem_mb`` and ``runtime`` of one kind of job at the configured scale (keyword arguments of `resources`)."""
    mem_mb, runtime = RESOURCES[rule][SCALE]
    return {"mem_mb": mem_mb, "runtime": runtime}


def settings_json(stage):
    """The config sections a stage uses, as a shell-quoted JSON argument (a params function, so that a
    ``{wave}`` in a file pattern is not taken for a wildcard)."""
    settings = shlex.quote(json.dumps(stage_settings(config, stage), sort_keys=True))
    return lambda wildcards: settings


def report_params(lang, **extra):
    """The ``--param`` arguments of a report render in ``lang`` (values as JSON, so that a code such as "0301" stays
    text)."""
    params = {
        "results": str(Path(RESULTS).resolve()),
        "lang": lang,
        "variables": str(Path(config["variables"]).resolve()),
        "demo": config["demo"]["enabled"] and config["report"]["demo_notice"],
        **extra,
    }
    return " ".join(shlex.quote(f"--param={key}={json.dumps(value)}") for key, value in params.items())


def pilot_reports(wildcards):
    """One report per treated unit (a pilot municipality, district or area), known once the area register has been read."""
    import csv

    with open(checkpoints.compare.get().output.pilots, encoding="utf-8") as handle:
        codes = [row["unit_code"] for row in csv.DictReader(handle)]
    return expand(f"{REPORTS}/{{lang}}/pilot_{{code}}.{{ext}}", lang=LANGUAGES, code=codes, ext=["html", "pdf"])


def provenance_config():
    """The config file whose checksum provenance.json records (the first one given to the workflow).

    Raises
    ------
    WorkflowError
        When the workflow was given no config file (a module configured from a dict only).
    """
    if not workflow.configfiles:
        raise WorkflowError(
            "provenance.json records the checksum of the config file: give the workflow one "
            "(configfile: in the workflow that uses this one as a module, or --configfile)"
        )
    return workflow.configfiles[0]
