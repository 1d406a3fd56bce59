# Weighting, estimation and pilot-versus-control comparison.

MARGINS = f"{RAW}/{config['sources']['margins']['file']}" if "margins" in config["sources"] else None


if HAS_SURVEY:

    rule weight:
        input:
            **({"margins": MARGINS} if MARGINS else {}),
            survey=rules.validate.output.survey,
            code=stage_code("evaluation.stages.weight"),
        output:
            survey=f"{PROCESSED}/weighted/survey.parquet",
            summary=f"{RESULTS}/weighting_summary.csv",
        log:
            f"{LOGS}/weight.log",
        benchmark:
            f"{BENCHMARKS}/weight.tsv"
        conda:
            "../envs/pipeline.yaml"
        threads: 1
        resources:
            **resources_of("weight"),
        params:
            py=PY,
            margins=lambda wildcards, input: f"--margins {input.margins} " if "margins" in input.keys() else "",
            settings=settings_json("weight"),
        shell:
            "{params.py} --log {log} weight --survey {input.survey} {params.margins}--out {output.survey} "
            "--summary {output.summary} --settings {params.settings}"


if HAS_SURVEY:

    rule estimate:
        input:
            survey=rules.weight.output.survey,
            areas=rules.validate.output.areas,
            variables=config["variables"],
            code=stage_code("evaluation.stages.estimate"),
        output:
            estimates=f"{RESULTS}/estimates.csv",
            gaps=f"{RESULTS}/gaps.csv",
            adjusted_gaps=f"{RESULTS}/adjusted_gaps.csv",
        log:
            f"{LOGS}/estimate.log",
        benchmark:
            f"{BENCHMARKS}/estimate.tsv"
        # the longest jobs of the analysis start first, so that both cores finish it together
        priority: 2
        conda:
            "../envs/pipeline.yaml"
        threads: 1
        resources:
            **resources_of("estimate"),
        params:
            py=PY,
            settings=settings_json("estimate"),
        shell:
            "{params.py} --log {log} estimate --survey {input.survey} --areas {input.areas} --out {output.estimates} "
            "--settings {params.settings}"


# compare fans out: one job for turnout, `compare.survey_jobs` jobs for the survey outcomes, then a gather.
# Every part draws from its own random stream, so the tables do not depend on how the work is split.
PARTS = f"{PROCESSED}/compare_parts"
SURVEY_JOBS = config["compare"]["survey_jobs"]
SURVEY_SHARDS = range(1, SURVEY_JOBS + 1)
COMPARE_TABLES = {
    "turnout": [
        "effects",
        "event_study",
        "pilot_effects",
        "turnout_trends",
        "placebo_size",
        "power",
        "balance",
        "sensitivity",
    ],
    "survey": ["effects", "event_study", "pilot_effects", "outcomes"],
}
# result tables that only the turnout part writes
TURNOUT_ONLY_TABLES = ("turnout_trends", "placebo_size", "power", "balance", "sensitivity")
# BLAS and OpenMP pools of one thread from the start (the parts run side by side on the cores)
COMPARE_ENV = "OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1"
COMPARE_CODE = stage_code("evaluation.stages.compare")


if HAS_TURNOUT:

    rule compare_turnout:
        input:
            turnout=rules.validate.output.turnout,
            areas=rules.validate.output.areas,
            code=COMPARE_CODE,
        output:
            expand(f"{PARTS}/turnout/{{table}}.parquet", table=COMPARE_TABLES["turnout"]),
        log:
            f"{LOGS}/compare_turnout.log",
        benchmark:
            f"{BENCHMARKS}/compare_turnout.tsv"
        conda:
            "../envs/pipeline.yaml"
        threads: 1
        resources:
            **resources_of("compare_turnout"),
        params:
            py=f"{COMPARE_ENV} {PY}",
            out=lambda wildcards, output: str(Path(output[0]).parent),
            settings=settings_json("compare"),
        shell:
            "{params.py} --log {log} compare --part turnout --turnout {input.turnout} --areas {input.areas} "
            "--out {params.out} --settings {params.settings}"


if HAS_SURVEY:

    rule compare_survey:
        input:
            areas=rules.validate.output.areas,
            survey=rules.weight.output.survey,
            variables=config["variables"],
            code=COMPARE_CODE,
        output:
            expand(
                f"{PARTS}/survey_{{shard}}/{{table}}.parquet",
                table=COMPARE_TABLES["survey"],
                allow_missing=True,
            ),
        log:
            f"{LOGS}/compare_survey_{{shard}}.log",
        benchmark:
            f"{BENCHMARKS}/compare_survey_{{shard}}.tsv"
        wildcard_constraints:
            shard=r"\d+",
        priority: 1
        conda:
            "../envs/pipeline.yaml"
        threads: 1
        resources:
            **resources_of("compare_survey"),
        params:
            py=f"{COMPARE_ENV} {PY}",
            out=lambda wildcards, output: str(Path(output[0]).parent),
            shards=SURVEY_JOBS,
            settings=settings_json("compare"),
        shell:
            "{params.py} --log {log} compare --part survey --shard {wildcards.shard} --shards {params.shards} "
            "--areas {input.areas} --survey {input.survey} "
            "--out {params.out} --settings {params.settings}"


checkpoint compare:
    input:
        turnout=rules.compare_turnout.output if HAS_TURNOUT else [],
        survey=expand(rules.compare_survey.output, shard=SURVEY_SHARDS) if HAS_SURVEY else [],
        areas=rules.validate.output.areas,
        code=stage_code("evaluation.stages.gather"),
    output:
        **{name: f"{RESULTS}/{name}.csv" for name in (TURNOUT_ONLY_TABLES if HAS_TURNOUT else ())},
        effects=f"{RESULTS}/effects.csv",
        event_study=f"{RESULTS}/event_study.csv",
        pilot_effects=f"{RESULTS}/pilot_effects.csv",
        pilots=f"{RESULTS}/pilots.csv",
    log:
        f"{LOGS}/compare.log",
    benchmark:
        f"{BENCHMARKS}/compare.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        **resources_of("compare"),
    params:
        py=PY,
        # the part folders: turnout, then the survey shards 1, 2, ... (expand's order)
        parts=lambda wildcards, input: list(dict.fromkeys(str(Path(p).parent) for p in [*input.turnout, *input.survey])),
        out=lambda wildcards, output: str(Path(output.effects).parent),
        settings=settings_json("compare"),
    shell:
        "{params.py} --log {log} compare-gather --parts {params.parts} --areas {input.areas} --out {params.out} "
        "--settings {params.settings}"


if HAS_PARTICIPANTS:

    rule represent:
        input:
            participants=rules.validate.output.participants,
            areas=rules.validate.output.areas,
            margins=MARGINS,
            variables=config["variables"],
            code=stage_code("evaluation.stages.represent"),
        output:
            representation=f"{RESULTS}/representation.csv",
            change=f"{RESULTS}/representation_change.csv",
        log:
            f"{LOGS}/represent.log",
        benchmark:
            f"{BENCHMARKS}/represent.tsv"
        conda:
            "../envs/pipeline.yaml"
        threads: 1
        resources:
            **resources_of("represent"),
        params:
            py=PY,
            out=lambda wildcards, output: str(Path(output.representation).parent),
            settings=settings_json("represent"),
        shell:
            "{params.py} --log {log} represent --participants {input.participants} --areas {input.areas} "
            "--margins {input.margins} --out {params.out} --settings {params.settings}"


if HAS_PROPOSALS:

    rule uptake:
        input:
            proposals=rules.validate.output.proposals,
            areas=rules.validate.output.areas,
            code=stage_code("evaluation.stages.uptake"),
        output:
            uptake=f"{RESULTS}/uptake.csv",
            effects=f"{RESULTS}/uptake_effects.csv",
        log:
            f"{LOGS}/uptake.log",
        benchmark:
            f"{BENCHMARKS}/uptake.tsv"
        conda:
            "../envs/pipeline.yaml"
        threads: 1
        resources:
            **resources_of("uptake"),
        params:
            py=PY,
            out=lambda wildcards, output: str(Path(output.uptake).parent),
            settings=settings_json("uptake"),
        shell:
            "{params.py} --log {log} uptake --proposals {input.proposals} --areas {input.areas} --out {params.out} "
            "--settings {params.settings}"


if HAS_PROPOSALS:

    rule themes:
        input:
            proposals=rules.validate.output.proposals,
            areas=rules.validate.output.areas,
            code=stage_code("evaluation.stages.themes"),
        output:
            themes=f"{RESULTS}/themes.csv",
            counts=f"{RESULTS}/theme_counts.csv",
            quotes=f"{RESULTS}/theme_quotes.csv",
        log:
            f"{LOGS}/themes.log",
        benchmark:
            f"{BENCHMARKS}/themes.tsv"
        conda:
            "../envs/pipeline.yaml"
        threads: 1
        resources:
            **resources_of("themes"),
        params:
            py=PY,
            out=lambda wildcards, output: str(Path(output.themes).parent),
            settings=settings_json("themes"),
        shell:
            "{params.py} --log {log} themes --proposals {input.proposals} --areas {input.areas} --out {params.out} "
            "--settings {params.settings}"


rule provenance:
    input:
        raw=RAW_FILES,
        config=provenance_config(),
    output:
        provenance=f"{RESULTS}/provenance.json",
    log:
        f"{LOGS}/provenance.log",
    benchmark:
        f"{BENCHMARKS}/provenance.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        **resources_of("provenance"),
    params:
        py=PY,
        settings=settings_json("provenance"),
    shell:
        "{params.py} --log {log} provenance --config {input.config} --out {output.provenance} "
        "--settings {params.settings} {input.raw}"
