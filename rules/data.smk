# Raw data in, canonical validated tables out.

RAW_FILES = [str(p) for p in raw_inputs(RAW, config["sources"])]
AREAS_FILE = config["sources"]["areas"]["file"]  # relative to paths.raw: ingest finds the raw folder from it
CODEBOOKS = [
    config["sources"][s]["codebook"]
    for s in ("areas", "turnout", "survey", "participants", "proposals")
    if s in config["sources"]
]
HAS_PARTICIPANTS = "participants" in config["sources"]
HAS_PROPOSALS = "proposals" in config["sources"]
INGESTED = f"{PROCESSED}/ingested"
VALIDATED = f"{PROCESSED}/validated"

if config["demo"]["enabled"]:

    # manifest: what the demo wrote (ingest may use the demo key only for these files)
    rule demo_data:
        input:
            code=stage_code("evaluation.stages.demo"),
        output:
            RAW_FILES,
            truth=f"{RAW}/truth.json",
            manifest=f"{RAW}/demo_manifest.json",
        log:
            f"{LOGS}/demo_data.log",
        benchmark:
            f"{BENCHMARKS}/demo_data.tsv"
        conda:
            "../envs/pipeline.yaml"
        threads: 1
        resources:
            **resources_of("demo_data"),
        params:
            py=PY,
            out=lambda wildcards, output: str(Path(output.manifest).parent),
            settings=settings_json("demo"),
        shell:
            "{params.py} --log {log} demo --out {params.out} --settings {params.settings}"


# register: declared only when configured, so that a missing one is rebuilt
rule ingest:
    input:
        RAW_FILES,
        CODEBOOKS,
        config["variables"],
        areas=f"{RAW}/{AREAS_FILE}",
        code=stage_code("evaluation.stages.ingest", "evaluation.stages.faults"),
    output:
        **({"register": f"{INGESTED}/register_turnout.parquet"} if "register" in config["sources"] else {}),
        **({"turnout": f"{INGESTED}/turnout.parquet"} if HAS_TURNOUT else {}),
        **({"participants": f"{INGESTED}/participants.parquet"} if HAS_PARTICIPANTS else {}),
        **({"proposals": f"{INGESTED}/proposals.parquet"} if HAS_PROPOSALS else {}),
        **(
            {"survey": f"{INGESTED}/survey.parquet", "nonresponse": f"{INGESTED}/item_nonresponse.parquet"}
            if HAS_SURVEY
            else {}
        ),
        areas=f"{INGESTED}/areas.parquet",
        quarantine=f"{INGESTED}/quarantine.parquet",
        accounting=f"{INGESTED}/row_accounting.csv",
        dictionary=f"{INGESTED}/data_dictionary.csv",
        masked=f"{INGESTED}/masked_values.csv",
    log:
        f"{LOGS}/ingest.log",
    benchmark:
        f"{BENCHMARKS}/ingest.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        **resources_of("ingest"),
    params:
        py=PY,
        raw=lambda wildcards, input: folder_above(input.areas, AREAS_FILE),
        out=lambda wildcards, output: str(Path(output.areas).parent),
        settings=settings_json("ingest"),
        faults=lambda wildcards, output: (
            f" && {PY} inject-faults --ingested {Path(output.areas).parent} --seed {config['demo']['seed']}"
            if config["demo"]["inject_faults"]
            else ""
        ),
    shell:
        "({params.py} --log {log} ingest --raw {params.raw} --out {params.out} --settings {params.settings}"
        "{params.faults})"


rule validate:
    input:
        rules.ingest.output,
        config["variables"],
        config["validation"]["rules"],
        ingested_areas=rules.ingest.output.areas,
        code=stage_code("evaluation.stages.validate"),
    output:
        **({"data_docs": f"{VALIDATED}/data_docs/index.html"} if config["validation"]["data_docs"] else {}),
        **({"turnout": f"{VALIDATED}/turnout.parquet"} if HAS_TURNOUT else {}),
        **({"survey": f"{VALIDATED}/survey.parquet"} if HAS_SURVEY else {}),
        **({"participants": f"{VALIDATED}/participants.parquet"} if HAS_PARTICIPANTS else {}),
        **({"proposals": f"{VALIDATED}/proposals.parquet"} if HAS_PROPOSALS else {}),
        areas=f"{VALIDATED}/areas.parquet",
        quarantine=f"{VALIDATED}/quarantine.parquet",
        accounting=f"{VALIDATED}/row_accounting.csv",
        summary=f"{VALIDATED}/validation_summary.json",
    log:
        f"{LOGS}/validate.log",
    benchmark:
        f"{BENCHMARKS}/validate.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        **resources_of("validate"),
    params:
        py=PY,
        ingested=lambda wildcards, input: str(Path(input.ingested_areas).parent),
        out=lambda wildcards, output: str(Path(output.summary).parent),
        settings=settings_json("validate"),
    shell:
        "{params.py} --log {log} validate --input {params.ingested} --out {params.out} --settings {params.settings}"
