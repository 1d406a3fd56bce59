# lokaldemokrati-eval: raw survey and turnout files -> validated tables -> estimates -> reports.
# Stages live in the `evaluation` package; every rule calls `python -m evaluation <stage>`.
import json
import shlex
import sys
from pathlib import Path

from snakemake.utils import min_version, validate

from evaluation import stage_settings

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "config/config.schema.yaml")

RAW = config["paths"]["raw"]
PROCESSED = config["paths"]["processed"]
RESULTS = f"{PROCESSED}/results"
REPORTS = config["paths"]["reports"]
LOGS = config["paths"]["logs"]
LANG = config["report"]["language"]
PY = f"{shlex.quote(sys.executable)} -m evaluation"


def settings_json(stage):
    """The config sections a stage uses, as a shell-quoted JSON argument."""
    return shlex.quote(json.dumps(stage_settings.STAGES[stage](config), sort_keys=True))


include: "rules/data.smk"
include: "rules/analysis.smk"
include: "rules/reports.smk"


rule all:
    default_target: True
    input:
        rules.programme_report.output,
        pilot_reports,
        APPENDIX_REPORTS,
