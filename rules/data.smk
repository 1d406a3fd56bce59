# Raw data in, canonical validated tables out.

RAW_FILES = [str(p) for p in raw_inputs(RAW, config["sources"])]
CODEBOOKS = [config["sources"][s]["codebook"] for s in ("areas", "turnout", "survey")]
INGESTED = f"{PROCESSED}/ingested"
VALIDATED = f"{PROCESSED}/validated"

if config["demo"]["enabled"]:

    rule demo_data:
        input:
            code=stage_code("evaluation.stages.demo"),
        output:
            RAW_FILES,
            truth=f"{RAW}/truth.json",
            manifest=f"{RAW}/demo_manifest.json",  # what the demo wrote: ingest may use the demo key only for these
        params:
            settings=settings_json("demo"),
        benchmark:
            f"{BENCHMARKS}/demo_data.tsv"
        threads: 1
        resources:
            **resources_of("demo_data"),
        log:
            f"{LOGS}/demo_data.log",
        shell:
            "{PY} --log {log} demo --out {RAW} --settings {params.settings}"


rule ingest:
    input:
        RAW_FILES,
        CODEBOOKS,
        config["variables"],
        code=stage_code("evaluation.stages.ingest", "evaluation.stages.faults"),
    output:
        areas=f"{INGESTED}/areas.parquet",
        turnout=f"{INGESTED}/turnout.parquet",
        survey=f"{INGESTED}/survey.parquet",
        nonresponse=f"{INGESTED}/item_nonresponse.parquet",
        quarantine=f"{INGESTED}/quarantine.parquet",
        accounting=f"{INGESTED}/row_accounting.csv",
        dictionary=f"{INGESTED}/data_dictionary.csv",
        masked=f"{INGESTED}/masked_values.csv",
        # declared only when configured, so that a missing one is rebuilt
        **({"register": f"{INGESTED}/register_turnout.parquet"} if "register" in config["sources"] else {}),
    params:
        settings=settings_json("ingest"),
        faults=(
            f" && {PY} inject-faults --ingested {INGESTED} --seed {config['demo']['seed']}"
            if config["demo"]["inject_faults"]
            else ""
        ),
    benchmark:
        f"{BENCHMARKS}/ingest.tsv"
    threads: 1
    resources:
        **resources_of("ingest"),
    log:
        f"{LOGS}/ingest.log",
    shell:
        "({PY} --log {log} ingest --raw {RAW} --out {INGESTED} --settings {params.settings}{params.faults})"


rule validate:
    input:
        rules.ingest.output,
        config["variables"],
        config["validation"]["rules"],
        code=stage_code("evaluation.stages.validate"),
    output:
        areas=f"{VALIDATED}/areas.parquet",
        turnout=f"{VALIDATED}/turnout.parquet",
        survey=f"{VALIDATED}/survey.parquet",
        quarantine=f"{VALIDATED}/quarantine.parquet",
        accounting=f"{VALIDATED}/row_accounting.csv",
        summary=f"{VALIDATED}/validation_summary.json",
        **({"data_docs": f"{VALIDATED}/data_docs/index.html"} if config["validation"]["data_docs"] else {}),
    params:
        settings=settings_json("validate"),
    benchmark:
        f"{BENCHMARKS}/validate.tsv"
    threads: 1
    resources:
        **resources_of("validate"),
    log:
        f"{LOGS}/validate.log",
    shell:
        "{PY} --log {log} validate --input {INGESTED} --out {VALIDATED} --settings {params.settings}"
