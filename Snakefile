# lokaldemokrati-eval: raw survey and turnout files -> validated tables -> estimates -> reports.
# Stages live in the `evaluation` package; every rule calls `python -m evaluation <stage>`.
# Also usable as a module of another workflow (README, "Software environments and module use").
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "rules/common.smk"
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
        PROGRAMME_REPORTS,
        pilot_reports,
        APPENDIX_REPORTS,
