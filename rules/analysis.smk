# Weighting, estimation and pilot-versus-control comparison.

MARGINS = f"{RAW}/{config['sources']['margins']['file']}"


rule weight:
    input:
        survey=rules.validate.output.survey,
        margins=MARGINS,
        code=stage_code("evaluation.stages.weight"),
    output:
        survey=f"{PROCESSED}/weighted/survey.parquet",
        summary=f"{RESULTS}/weighting_summary.csv",
    params:
        settings=settings_json("weight"),
    benchmark:
        f"{BENCHMARKS}/weight.tsv"
    threads: 1
    resources:
        **resources_of("weight"),
    log:
        f"{LOGS}/weight.log",
    shell:
        "{PY} --log {log} weight --survey {input.survey} --margins {input.margins} --out {output.survey} "
        "--summary {output.summary} --settings {params.settings}"


rule estimate:
    input:
        survey=rules.weight.output.survey,
        areas=rules.validate.output.areas,
        variables=config["variables"],
        code=stage_code("evaluation.stages.estimate"),
    output:
        f"{RESULTS}/estimates.csv",
        gaps=f"{RESULTS}/gaps.csv",
    params:
        settings=settings_json("estimate"),
    benchmark:
        f"{BENCHMARKS}/estimate.tsv"
    threads: 1
    resources:
        **resources_of("estimate"),
    log:
        f"{LOGS}/estimate.log",
    shell:
        "{PY} --log {log} estimate --survey {input.survey} --areas {input.areas} --out {output[0]} "
        "--settings {params.settings}"


# compare fans out: one job for turnout, `compare.survey_jobs` jobs for the survey outcomes, then a gather.
# Every part draws from its own random stream, so the tables do not depend on how the work is split.
PARTS = f"{PROCESSED}/compare_parts"
SURVEY_JOBS = config["compare"]["survey_jobs"]
COMPARE_TABLES = {
    "turnout": ["effects", "event_study", "pilot_effects", "turnout_trends", "placebo_size", "power", "balance"],
    "survey": ["effects", "event_study", "pilot_effects"],
}
COMPARE_ENV = "OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1"
COMPARE_CODE = stage_code("evaluation.stages.compare")


rule compare_turnout:
    input:
        turnout=rules.validate.output.turnout,
        areas=rules.validate.output.areas,
        code=COMPARE_CODE,
    output:
        expand(f"{PARTS}/turnout/{{table}}.parquet", table=COMPARE_TABLES["turnout"]),
    params:
        settings=settings_json("compare"),
        out=f"{PARTS}/turnout",
    benchmark:
        f"{BENCHMARKS}/compare_turnout.tsv"
    threads: 1
    resources:
        **resources_of("compare_turnout"),
    log:
        f"{LOGS}/compare_turnout.log",
    shell:
        "{COMPARE_ENV} {PY} --log {log} compare --part turnout --turnout {input.turnout} --areas {input.areas} "
        "--out {params.out} --settings {params.settings}"


rule compare_survey:
    input:
        turnout=rules.validate.output.turnout,
        areas=rules.validate.output.areas,
        survey=rules.weight.output.survey,
        code=COMPARE_CODE,
    output:
        expand(f"{PARTS}/survey_{{shard}}/{{table}}.parquet", table=COMPARE_TABLES["survey"], allow_missing=True),
    params:
        settings=settings_json("compare"),
        out=f"{PARTS}/survey_{{shard}}",
        shards=SURVEY_JOBS,
    wildcard_constraints:
        shard=r"\d+",
    benchmark:
        f"{BENCHMARKS}/compare_survey_{{shard}}.tsv"
    threads: 1
    resources:
        **resources_of("compare_survey"),
    log:
        f"{LOGS}/compare_survey_{{shard}}.log",
    shell:
        "{COMPARE_ENV} {PY} --log {log} compare --part survey --shard {wildcards.shard} --shards {params.shards} "
        "--turnout {input.turnout} --areas {input.areas} --survey {input.survey} "
        "--out {params.out} --settings {params.settings}"


checkpoint compare:
    input:
        rules.compare_turnout.output,
        expand(rules.compare_survey.output, shard=range(1, SURVEY_JOBS + 1)),
        areas=rules.validate.output.areas,
        code=stage_code("evaluation.stages.gather"),
    output:
        effects=f"{RESULTS}/effects.csv",
        event_study=f"{RESULTS}/event_study.csv",
        pilot_effects=f"{RESULTS}/pilot_effects.csv",
        turnout_trends=f"{RESULTS}/turnout_trends.csv",
        placebo_size=f"{RESULTS}/placebo_size.csv",
        power=f"{RESULTS}/power.csv",
        balance=f"{RESULTS}/balance.csv",
        pilots=f"{RESULTS}/pilots.csv",
    params:
        parts=[f"{PARTS}/turnout", *(f"{PARTS}/survey_{shard}" for shard in range(1, SURVEY_JOBS + 1))],
        out=RESULTS,
    benchmark:
        f"{BENCHMARKS}/compare.tsv"
    threads: 1
    resources:
        **resources_of("compare"),
    log:
        f"{LOGS}/compare.log",
    shell:
        "{PY} --log {log} compare-gather --parts {params.parts} --areas {input.areas} --out {params.out}"


rule provenance:
    input:
        RAW_FILES,
        config=workflow.configfiles[0],
    output:
        f"{RESULTS}/provenance.json",
    params:
        settings=settings_json("provenance"),
    benchmark:
        f"{BENCHMARKS}/provenance.tsv"
    threads: 1
    resources:
        **resources_of("provenance"),
    log:
        f"{LOGS}/provenance.log",
    shell:
        "{PY} --log {log} provenance --config {input.config} --out {output} --settings {params.settings} {RAW_FILES}"
