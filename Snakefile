# lokaldemokrati-eval: raw survey and turnout files -> validated tables -> estimates -> reports.
# Stages live in the `evaluation` package; every rule calls `python -m evaluation <stage>`.
import json
import shlex
import sys
from pathlib import Path

from snakemake.utils import min_version

from evaluation.config import complete_config, stage_settings
from evaluation.demo.scales import scale_of
from evaluation.workflow import raw_inputs, stage_code

min_version("9.0")


configfile: "config/config.yaml"


# checked against evaluation/schemas/config.schema.yaml, with the schema's defaults filled in and what
# demo.scale: national implies (survey waves, field periods, register source)
config.update(complete_config(config, workflow.configfiles[0] if workflow.configfiles else "config"))
SCALE = scale_of(config)

RAW = config["paths"]["raw"]
PROCESSED = config["paths"]["processed"]
RESULTS = f"{PROCESSED}/results"
REPORTS = config["paths"]["reports"]
LOGS = config["paths"]["logs"]
LANG = config["report"]["language"]
PY = f"{shlex.quote(sys.executable)} -m evaluation"


BENCHMARKS = f"{LOGS}/benchmarks"  # one Snakemake benchmark TSV per job; benchmarks/bench_stages.py tabulates them

# Per rule: memory (MB) and runtime (minutes) a scheduler should reserve, per scale, from the measured
# peak RSS and wall time (benchmarks/bench_stages.py) with head room. `threads:` is set in each rule.
RESOURCES = {
    # measured (demo / national, 2 cores, bench_stages.py, December 2026): demo_data 3 s 0.3 GB / 38 s 0.8 GB;
    # ingest 2 s / 14 s 0.4 GB; validate 5 s / 9 s 0.5 GB; weight 2 s / 4 s 0.5 GB; estimate 8 s / 71 s 1.1 GB;
    # compare_turnout 2 s / 18 s 1.9 GB; compare_survey (each) 4 s / 60 s 1.4 GB; reports 2-5 s 0.3 GB each
    "demo_data":          {"demo": (1000, 5), "national": (2500, 10)},
    "ingest":             {"demo": (1000, 5), "national": (1500, 10)},
    "validate":           {"demo": (1000, 5), "national": (1500, 10)},
    "weight":             {"demo": (1000, 5), "national": (1500, 10)},
    "estimate":           {"demo": (1000, 5), "national": (2000, 10)},
    "compare_turnout":    {"demo": (1000, 5), "national": (3000, 10)},
    "compare_survey":     {"demo": (1000, 5), "national": (3000, 15)},
    "compare":            {"demo": (500, 5), "national": (1000, 5)},
    "provenance":         {"demo": (500, 5), "national": (500, 5)},
    "data_quality_table": {"demo": (500, 5), "national": (1000, 5)},
    "report":             {"demo": (1000, 10), "national": (1000, 10)},
}


def resources_of(rule):
    """``mem_mb`` and ``runtime`` of a rule at the configured scale (keyword arguments for `resources:`)."""
    mem_mb, runtime = RESOURCES[rule][SCALE]
    return {"mem_mb": mem_mb, "runtime": runtime}


def settings_json(stage):
    """The config sections a stage uses, as a shell-quoted JSON argument."""
    return shlex.quote(json.dumps(stage_settings(config, stage), sort_keys=True))


include: "rules/data.smk"
include: "rules/analysis.smk"
include: "rules/reports.smk"


# small bookkeeping jobs run in the main Snakemake process, not as cluster jobs
localrules:
    all,
    provenance,
    data_quality_table,
    compare,


rule all:
    default_target: True
    input:
        rules.programme_report.output,
        pilot_reports,
        APPENDIX_REPORTS,
