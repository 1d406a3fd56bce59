# Weighting, estimation and pilot-versus-control comparison.

MARGINS = f"{RAW}/{config['sources']['margins']['file']}"


rule weight:
    input:
        survey=rules.validate.output.survey,
        margins=MARGINS,
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
        "{PY} weight --survey {input.survey} --margins {input.margins} --out {output.survey} "
        "--summary {output.summary} --settings {params.settings} > {log} 2>&1"


rule estimate:
    input:
        survey=rules.weight.output.survey,
        areas=rules.validate.output.areas,
        variables=config["variables"],
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
        "{PY} estimate --survey {input.survey} --areas {input.areas} --out {output[0]} "
        "--settings {params.settings} > {log} 2>&1"


checkpoint compare:
    input:
        turnout=rules.validate.output.turnout,
        areas=rules.validate.output.areas,
        survey=rules.weight.output.survey,
    output:
        effects=f"{RESULTS}/effects.csv",
        event_study=f"{RESULTS}/event_study.csv",
        pilot_effects=f"{RESULTS}/pilot_effects.csv",
        turnout_trends=f"{RESULTS}/turnout_trends.csv",
        placebo_size=f"{RESULTS}/placebo_size.csv",
        power=f"{RESULTS}/power.csv",
        pilots=f"{RESULTS}/pilots.csv",
    params:
        settings=settings_json("compare"),
        out=RESULTS,
    benchmark:
        f"{BENCHMARKS}/compare.tsv"
    threads: 1
    resources:
        **resources_of("compare"),
    log:
        f"{LOGS}/compare.log",
    shell:
        "OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 {PY} compare --turnout {input.turnout} --areas {input.areas} --survey {input.survey} "
        "--out {params.out} --settings {params.settings} > {log} 2>&1"


rule provenance:
    input:
        RAW_FILES,
        config=workflow.configfiles[0],
    output:
        f"{RESULTS}/provenance.json",
    benchmark:
        f"{BENCHMARKS}/provenance.tsv"
    threads: 1
    resources:
        **resources_of("provenance"),
    log:
        f"{LOGS}/provenance.log",
    shell:
        "{PY} provenance --config {input.config} --out {output} {RAW_FILES} > {log} 2>&1"
