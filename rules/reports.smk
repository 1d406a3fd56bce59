# Reports: Quarto documents rendered with Quarto when it is on PATH, else with the built-in renderer.

SHARED_REPORT_SOURCES = sorted(str(p) for p in Path("reports").glob("_*.qmd")) + ["reports/translations.yaml"]
REPORT_CODE = stage_code("evaluation.stages.render", "evaluation.reporting.*")
QUALITY_TABLE = f"{RESULTS}/data_quality.csv"
APPENDICES = ("data_quality", "methods")
# Reports beside the programme and pilot reports; `rule all` lists them.
APPENDIX_REPORTS = expand(f"{REPORTS}/{LANG}/{{document}}.{{ext}}", document=APPENDICES, ext=["html", "pdf"])
RESULT_TABLES = [
    rules.estimate.output[0],
    rules.estimate.output.gaps,
    QUALITY_TABLE,
    rules.provenance.output[0],
    rules.weight.output.summary,
    rules.validate.output.accounting,
    rules.validate.output.summary,
    *checkpoints.compare.rule.output,
]


rule data_quality_table:
    input:
        quarantine=rules.ingest.output.quarantine,
        nonresponse=rules.ingest.output.nonresponse,
        masked=rules.ingest.output.masked,
        survey=rules.ingest.output.survey,
        validated=[rules.validate.output.quarantine, rules.validate.output.accounting, rules.validate.output.summary],
        code=stage_code("evaluation.stages.data_quality"),
    output:
        QUALITY_TABLE,
    params:
        ingested=INGESTED,
        validated=VALIDATED,
    benchmark:
        f"{BENCHMARKS}/data_quality_table.tsv"
    threads: 1
    resources:
        **resources_of("data_quality_table"),
    log:
        f"{LOGS}/data_quality_table.log",
    shell:
        "{PY} --log {log} data-quality --ingested {params.ingested} --validated {params.validated} --out {output}"


def report_params(**extra):
    params = {
        "results": str(Path(RESULTS).resolve()),
        "lang": LANG,
        "variables": str(Path(config["variables"]).resolve()),
        "demo": config["demo"]["enabled"] and config["report"]["demo_notice"],
        **extra,
    }
    # values as JSON, so that a municipality code such as "0301" stays text
    return " ".join(shlex.quote(f"--param={key}={json.dumps(value)}") for key, value in params.items())


def pilot_reports(wildcards):
    """One report per pilot municipality, known once the area register has been read."""
    import csv

    with open(checkpoints.compare.get().output.pilots, encoding="utf-8") as handle:
        codes = [row["municipality_code"] for row in csv.DictReader(handle)]
    return expand(f"{REPORTS}/{LANG}/pilot_{{code}}.{{ext}}", code=codes, ext=["html", "pdf"])


rule programme_report:
    input:
        "reports/programme.qmd",
        SHARED_REPORT_SOURCES,
        RESULT_TABLES,
        REPORT_CODE,
    output:
        html=f"{REPORTS}/{LANG}/programme.html",
        pdf=f"{REPORTS}/{LANG}/programme.pdf",
    params:
        args=report_params(),
        engine=config["report"]["engine"],
    benchmark:
        f"{BENCHMARKS}/programme_report_{LANG}.tsv"
    threads: 1
    resources:
        **resources_of("report"),
    log:
        f"{LOGS}/report_programme_{LANG}.log",
    shell:
        "{PY} --log {log} render reports/programme.qmd {params.args} --html {output.html} --pdf {output.pdf} "
        "--engine {params.engine}"


rule pilot_report:
    input:
        "reports/pilot.qmd",
        SHARED_REPORT_SOURCES,
        RESULT_TABLES,
        REPORT_CODE,
    output:
        html=f"{REPORTS}/{LANG}/pilot_{{code}}.html",
        pdf=f"{REPORTS}/{LANG}/pilot_{{code}}.pdf",
    params:
        args=lambda wc: report_params(municipality=wc.code),
        engine=config["report"]["engine"],
    benchmark:
        f"{BENCHMARKS}/pilot_report_{{code}}_{LANG}.tsv"
    threads: 1
    resources:
        **resources_of("report"),
    log:
        f"{LOGS}/report_pilot_{{code}}_{LANG}.log",
    shell:
        "{PY} --log {log} render reports/pilot.qmd {params.args} --html {output.html} --pdf {output.pdf} "
        "--engine {params.engine}"


rule appendix_report:
    input:
        "reports/{document}.qmd",
        SHARED_REPORT_SOURCES,
        RESULT_TABLES,
        REPORT_CODE,
    output:
        html=f"{REPORTS}/{LANG}/{{document}}.html",
        pdf=f"{REPORTS}/{LANG}/{{document}}.pdf",
    wildcard_constraints:
        document="|".join(APPENDICES),
    params:
        args=report_params(),
        engine=config["report"]["engine"],
    benchmark:
        f"{BENCHMARKS}/appendix_report_{{document}}_{LANG}.tsv"
    threads: 1
    resources:
        **resources_of("report"),
    log:
        f"{LOGS}/report_{{document}}_{LANG}.log",
    shell:
        "{PY} --log {log} render reports/{wildcards.document}.qmd {params.args} --html {output.html} --pdf {output.pdf} "
        "--engine {params.engine}"
