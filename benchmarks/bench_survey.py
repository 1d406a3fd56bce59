"""Benchmark of design-based domain means: evaluation.survey vs R survey (and svy, if importable).

Synthetic data (seeded): ROWS respondents in PSUS clusters nested in STRATA strata,
OUTCOMES outcomes (half binary, half 0-10 scales with cluster effects, 5 % missing)
and a domain variable with DOMAINS levels. We time the design plus the domain
means of every outcome (per-outcome missing values dropped), and peak memory
(traced by Python, and relative to the size of the data frame).
When ``Rscript`` is on the PATH, R ``survey`` runs ``svydesign`` + ``svyby(svymean,
na.rm = TRUE)`` for every outcome on the same data (via a temporary CSV) and we
report the largest relative difference of estimates and standard errors.

Cases (``--case``):

``default``
    the options below (1,000,000 rows, 50 strata, 2,000 PSUs, 8 outcomes, 20 domains).
``many-domains``
    national scale: 1,000,000 rows, 350 strata, 20,000 PSUs, 8 outcomes, 3,000
    domains (target: < 3 s per call, peak traced memory < 3x the data).
``panel``
    the pipeline's estimate stage: 30,000 rows (10 waves), strata = 60
    municipalities, PSU = respondent (~13,000, ``nest=True``), 9 outcomes, by
    wave x municipality x education (1,800 domains; target: < 0.3 s per call).

``--dense`` also times the dense (unit x domain) variance for comparison (the
method used before the sparse pair variance; avoid it for large cases).

    python benchmarks/bench_survey.py [--case many-domains] [--rows 1000000] [--skip-r] [--dense]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.survey import SurveyDesign

R_SCRIPT = r"""
suppressMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
df <- read.csv(args[1])
outcomes <- strsplit(args[2], ",")[[1]]
elapsed <- system.time({
  d <- svydesign(id = ~psu, strata = ~stratum, weights = ~w, data = df)
  res <- lapply(outcomes, function(v) {
    b <- svyby(as.formula(paste0("~", v)), ~domain, d, svymean, na.rm = TRUE)
    data.frame(variable = v, domain = b$domain, estimate = coef(b), se = SE(b))
  })
})[["elapsed"]]
write.csv(do.call(rbind, res), args[3], row.names = FALSE)
cat(sprintf("%.6f\n", elapsed))
"""


def make_data(rows: int, strata: int, psus: int, outcomes: int, domains: int, seed: int) -> pd.DataFrame:
    """Synthetic respondents with stratum, psu, weight, domain and outcomes y0..y{k-1}."""
    rng = np.random.default_rng(seed)
    psu = rng.integers(0, psus, rows)
    stratum = psu % strata
    effect = rng.normal(0, 1, psus)[psu]
    data = {
        "stratum": stratum,
        "psu": psu,
        "w": rng.uniform(0.5, 3.0, strata)[stratum] * rng.uniform(0.8, 1.2, rows),
        "domain": rng.integers(0, domains, rows),
    }
    for k in range(outcomes):
        if k % 2:
            y = (rng.random(rows) < 1 / (1 + np.exp(-0.5 * effect))).astype(float)
        else:
            y = np.clip(np.round(5 + effect + rng.normal(0, 2, rows)), 0, 10)
        y[rng.random(rows) < 0.05] = np.nan
        data[f"y{k}"] = y
    return pd.DataFrame(data)


def make_panel_data(
    rows: int, municipalities: int, respondents: int, waves: int, outcomes: int, seed: int
) -> pd.DataFrame:
    """Panel survey as in the estimate stage: respondents (PSUs) in municipalities (strata) over waves.

    ``psu`` is the respondent number within the municipality (reused across
    municipalities: ``nest=True``); ``respondent`` is unique (for R) and
    ``domain`` codes wave x municipality x education (for comparing with R).
    """
    rng = np.random.default_rng(seed)
    respondent = rng.integers(0, respondents, rows)
    municipality = respondent % municipalities
    education = rng.integers(0, 3, respondents)[respondent]
    wave = rng.integers(1, waves + 1, rows)
    effect = rng.normal(0, 1, respondents)[respondent]
    data = {
        "stratum": municipality,
        "municipality_code": municipality,
        "psu": respondent // municipalities,
        "respondent": respondent,
        "wave": wave,
        "education": education,
        "domain": (wave * municipalities + municipality) * 3 + education,
        "w": rng.uniform(0.5, 3.0, municipalities)[municipality] * rng.uniform(0.8, 1.2, rows),
    }
    for k in range(outcomes):
        if k % 2:
            y = (rng.random(rows) < 1 / (1 + np.exp(-0.5 * effect))).astype(float)
        else:
            y = np.clip(np.round(5 + effect + rng.normal(0, 2, rows)), 0, 10)
        y[rng.random(rows) < 0.05] = np.nan
        data[f"y{k}"] = y
    return pd.DataFrame(data)


CASES = {
    "default": None,
    "many-domains": dict(rows=1_000_000, strata=350, psus=20_000, outcomes=8, domains=3_000),
    "panel": dict(rows=30_000, strata=60, psus=13_000, outcomes=9, domains=1_800),
}


def run_python(
    data: pd.DataFrame, outcomes: list[str], panel: bool = False, dense: bool = False
) -> tuple[dict[str, float], pd.DataFrame]:
    """Times (design, first and repeated domain means) and peak traced memory."""
    if panel:
        design_args = dict(strata="stratum", psu="psu", nest=True, lonely_psu="adjust")
        by = ["wave", "municipality_code", "education"]
    else:
        design_args, by = dict(strata="stratum", psu="psu"), ["domain"]
    t0 = time.perf_counter()
    design = SurveyDesign(data, "w", **design_args)
    t1 = time.perf_counter()
    result = design.mean(outcomes, by=by)
    t2 = time.perf_counter()
    design.mean(outcomes, by=by)
    t3 = time.perf_counter()
    tracemalloc.start()
    SurveyDesign(data, "w", **design_args).mean(outcomes, by=by)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    data_mb = data.memory_usage(deep=True).sum() / 2**20
    times = {
        "design": t1 - t0,
        "means (first call)": t2 - t1,
        "means (cached domains)": t3 - t2,
        "design + means": t2 - t0,
        "data frame MB": data_mb,
        "peak traced MB": peak / 2**20,
        "peak traced / data": peak / 2**20 / data_mb,
    }
    if dense:
        times["means, dense variance (before)"] = time_dense(design, outcomes, by)
    if panel:
        result["domain"] = (
            result["wave"] * data["municipality_code"].nunique() + result["municipality_code"]
        ) * 3 + result["education"]
    return times, result


def time_dense(design: SurveyDesign, outcomes: list[str], by: list[str]) -> float:
    """Seconds for the same means with the dense (unit x domain) score-matrix variance."""
    from evaluation.survey import estimators

    original = estimators.domain_statistic

    def dense(*args, **kwargs):
        return original(*args, **{**kwargs, "dense": True})

    estimators.domain_statistic = dense
    try:
        t0 = time.perf_counter()
        design.mean(outcomes, by=by)
        return time.perf_counter() - t0
    finally:
        estimators.domain_statistic = original


def run_r(data: pd.DataFrame, outcomes: list[str], timeout: float) -> tuple[float, pd.DataFrame] | str:
    """Elapsed seconds of R survey (design + svyby per outcome) and its results, or why it did not run."""
    if shutil.which("Rscript") is None:
        return "Rscript not found"
    with tempfile.TemporaryDirectory() as tmp:
        csv, script, out = Path(tmp, "data.csv"), Path(tmp, "bench.R"), Path(tmp, "out.csv")
        data.to_csv(csv, index=False)
        script.write_text(R_SCRIPT)
        try:
            run = subprocess.run(
                ["Rscript", str(script), str(csv), ",".join(outcomes), str(out)],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return f"timed out after {timeout:g} s"
        if run.returncode != 0:
            return f"failed: {run.stderr.strip()[-300:]}"
        return float(run.stdout.strip().splitlines()[-1]), pd.read_csv(out)


def run_svy(data: pd.DataFrame, outcomes: list[str]) -> float | str:
    """Elapsed seconds of the `svy` package (Taylor domain means), if it is importable."""
    try:
        import polars as pl
        import svy
    except ImportError as exc:
        return f"not importable ({exc.name})"
    try:
        frame = pl.from_pandas(data)
        t0 = time.perf_counter()
        sample = svy.Sample(data=frame, design=svy.Design(stratum="stratum", psu="psu", wgt="w"))
        for y in outcomes:
            sample.estimation.mean(y=y, by="domain", drop_nulls=True)
        return time.perf_counter() - t0
    except Exception as exc:  # noqa: BLE001 - report any API mismatch instead of failing the benchmark
        return f"failed: {type(exc).__name__}: {exc}"[:200]


def compare(ours: pd.DataFrame, theirs: pd.DataFrame) -> str:
    """Largest relative differences of estimates and SEs between our results and R's."""
    merged = ours.merge(theirs, on=["variable", "domain"], suffixes=("", "_r"))
    rel = {c: float(np.max(np.abs(merged[c] / merged[f"{c}_r"] - 1))) for c in ("estimate", "se")}
    return f"{len(merged)} domain means; max relative difference estimate {rel['estimate']:.1e}, se {rel['se']:.1e}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--case", choices=list(CASES), default="default", help="preset sizes (override the options below)"
    )
    parser.add_argument("--dense", action="store_true", help="also time the dense variance (slow, large)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--strata", type=int, default=50)
    parser.add_argument("--psus", type=int, default=2_000)
    parser.add_argument("--outcomes", type=int, default=8)
    parser.add_argument("--domains", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-r", action="store_true")
    parser.add_argument("--r-timeout", type=float, default=3600)
    args = parser.parse_args()
    if CASES[args.case]:
        for name, value in CASES[args.case].items():
            setattr(args, name, value)

    panel = args.case == "panel"
    if panel:
        data = make_panel_data(args.rows, args.strata, args.psus, 10, args.outcomes, args.seed)
        print(
            f"{args.rows:,} rows (10 waves), {args.strata} strata, {data['respondent'].nunique():,} PSUs "
            f"(respondents), {args.outcomes} outcomes, {data['domain'].nunique():,} domains "
            "(wave x municipality x education)"
        )
    else:
        data = make_data(args.rows, args.strata, args.psus, args.outcomes, args.domains, args.seed)
        print(
            f"{args.rows:,} respondents, {args.strata} strata, {args.psus} PSUs, {args.outcomes} outcomes, "
            f"{args.domains} domains"
        )
    outcomes = [f"y{k}" for k in range(args.outcomes)]
    times, ours = run_python(data, outcomes, panel, args.dense)
    if panel:  # R and svy see a unique respondent id as PSU (same design as nest=True)
        data = data.assign(psu=data["respondent"])
    rows = [("evaluation.survey", step, value) for step, value in times.items()]
    rows.append(("process", "max RSS MB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    svy_result = run_svy(data, outcomes)
    rows.append(("svy", "design + means", svy_result))
    if not args.skip_r:
        r_result = run_r(data, outcomes, args.r_timeout)
        if isinstance(r_result, str):
            rows.append(("R survey", "design + svyby", r_result))
        else:
            rows.append(("R survey", "design + svyby", r_result[0]))
            print("agreement with R:", compare(ours, r_result[1]))
    width = max(len(r[0]) + len(r[1]) for r in rows) + 4
    for tool, step, value in rows:
        shown = f"{value:10.3f}" if isinstance(value, float) else f"{value:>10}"
        print(f"{tool + ' / ' + step:<{width}}{shown}")


if __name__ == "__main__":
    main()
