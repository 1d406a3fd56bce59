# Reports: Quarto documents rendered with Quarto when it is on PATH, else with the built-in renderer.


wildcard_constraints:
    lang="nb|nn|sv|en",


REPORT_SOURCES = WORKFLOW_DIR / "reports"
SHARED_REPORT_SOURCES = sorted(str(p) for p in REPORT_SOURCES.glob("_*.qmd")) + [
    str(REPORT_SOURCES / "translations.yaml")
]
# the renderer's code and its assets (Lua filter, style sheet, Typst header): changing any of them re-renders
REPORT_CODE = stage_code("evaluation.stages.render", "evaluation.reporting.*") + render_assets()
QUALITY_TABLE = f"{RESULTS}/data_quality.csv"
APPENDICES = ("data_quality", "methods")
# Reports beside the programme and pilot reports; `rule all` lists them.
APPENDIX_REPORTS = expand(
    f"{REPORTS}/{{lang}}/{{document}}.{{ext}}", lang=LANGUAGES, document=APPENDICES, ext=["html", "pdf"]
)
PROGRAMME_REPORTS = expand(f"{REPORTS}/{{lang}}/programme.{{ext}}", lang=LANGUAGES, ext=["html", "pdf"])
RESULT_TABLES = [
    *(
        [
            rules.estimate.output.estimates,
            rules.estimate.output.gaps,
            rules.estimate.output.adjusted_gaps,
            rules.weight.output.summary,
        ]
        if HAS_SURVEY
        else []
    ),
    QUALITY_TABLE,
    rules.provenance.output.provenance,
    rules.validate.output.accounting,
    rules.validate.output.summary,
    *checkpoints.compare.rule.output,
    *(rules.represent.output if HAS_PARTICIPANTS else []),
    *(rules.uptake.output if HAS_PROPOSALS else []),
    *(rules.themes.output if HAS_PROPOSALS else []),
]


rule data_quality_table:
    input:
        **({"nonresponse": rules.ingest.output.nonresponse, "survey": rules.ingest.output.survey} if HAS_SURVEY else {}),
        quarantine=rules.ingest.output.quarantine,
        masked=rules.ingest.output.masked,
        validated=[
            rules.validate.output.quarantine,
            rules.validate.output.accounting,
            rules.validate.output.summary,
        ],
        validation_summary=rules.validate.output.summary,
        code=stage_code("evaluation.stages.data_quality"),
    output:
        quality=QUALITY_TABLE,
    log:
        f"{LOGS}/data_quality_table.log",
    benchmark:
        f"{BENCHMARKS}/data_quality_table.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        **resources_of("data_quality_table"),
    params:
        py=PY,
        ingested=lambda wildcards, input: str(Path(input.quarantine).parent),
        validated=lambda wildcards, input: str(Path(input.validation_summary).parent),
    shell:
        "{params.py} --log {log} data-quality --ingested {params.ingested} --validated {params.validated} "
        "--out {output.quality}"


rule programme_report:
    input:
        source=REPORT_SOURCES / "programme.qmd",
        shared=SHARED_REPORT_SOURCES,
        results=RESULT_TABLES,
        code=REPORT_CODE,
    output:
        html=f"{REPORTS}/{{lang}}/programme.html",
        pdf=f"{REPORTS}/{{lang}}/programme.pdf",
    log:
        f"{LOGS}/report_programme_{{lang}}.log",
    benchmark:
        f"{BENCHMARKS}/programme_report_{{lang}}.tsv"
    priority: 1  # the longest report starts first
    conda:
        "../envs/reports.yaml"
    threads: 1
    resources:
        **resources_of("report"),
    params:
        py=PY,
        args=lambda wildcards: report_params(wildcards.lang),
        engine=config["report"]["engine"],
    shell:
        "{params.py} --log {log} render {input.source} {params.args} --html {output.html} --pdf {output.pdf} "
        "--engine {params.engine} --warm"


rule pilot_report:
    input:
        source=REPORT_SOURCES / "pilot.qmd",
        shared=SHARED_REPORT_SOURCES,
        results=RESULT_TABLES,
        code=REPORT_CODE,
    output:
        html=f"{REPORTS}/{{lang}}/pilot_{{code}}.html",
        pdf=f"{REPORTS}/{{lang}}/pilot_{{code}}.pdf",
    log:
        f"{LOGS}/report_pilot_{{code}}_{{lang}}.log",
    benchmark:
        f"{BENCHMARKS}/pilot_report_{{code}}_{{lang}}.tsv"
    conda:
        "../envs/reports.yaml"
    threads: 1
    resources:
        **resources_of("report"),
    params:
        py=PY,
        args=lambda wildcards: report_params(wildcards.lang, municipality=wildcards.code),
        engine=config["report"]["engine"],
    shell:
        "{params.py} --log {log} render {input.source} {params.args} --html {output.html} --pdf {output.pdf} "
        "--engine {params.engine} --warm"


rule appendix_report:
    input:
        source=f"{REPORT_SOURCES}/{{document}}.qmd",
        shared=SHARED_REPORT_SOURCES,
        results=RESULT_TABLES,
        code=REPORT_CODE,
    output:
        html=f"{REPORTS}/{{lang}}/{{document}}.html",
        pdf=f"{REPORTS}/{{lang}}/{{document}}.pdf",
    log:
        f"{LOGS}/report_{{document}}_{{lang}}.log",
    benchmark:
        f"{BENCHMARKS}/appendix_report_{{document}}_{{lang}}.tsv"
    wildcard_constraints:
        document="|".join(APPENDICES),
    conda:
        "../envs/reports.yaml"
    threads: 1
    resources:
        **resources_of("report"),
    params:
        py=PY,
        args=lambda wildcards: report_params(wildcards.lang),
        engine=config["report"]["engine"],
    shell:
        "{params.py} --log {log} render {input.source} {params.args} --html {output.html} --pdf {output.pdf} "
        "--engine {params.engine} --warm"
