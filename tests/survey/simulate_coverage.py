"""Coverage of 95 % confidence intervals under repeated stratified two-stage cluster sampling.

A seeded synthetic finite population (strata of areas, areas of residents with
area random effects and education-group differences) is sampled again and again:
``m`` areas per stratum by simple random sampling, then ``k`` residents per area.
For each sample we estimate the domain means of a scale outcome (trust, 0-10) and
a binary outcome (voted) by education, and the gap between the highest and lowest
education group, and record whether the 95 % interval covers the population value.

Run ``python tests/survey/simulate_coverage.py --reps 1000`` for the table.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from evaluation.survey import SurveyDesign

N_STRATA, AREAS_PER_STRATUM, SAMPLED_AREAS, SAMPLED_PER_AREA = 8, 40, 8, 25


def make_population(rng: np.random.Generator) -> pd.DataFrame:
    """Finite population: 8 strata x 40 areas x 150-400 residents."""
    sizes = rng.integers(150, 400, N_STRATA * AREAS_PER_STRATUM)
    area = np.repeat(np.arange(sizes.size), sizes)
    stratum = area // AREAS_PER_STRATUM
    area_effect = rng.normal(0, 0.8, sizes.size)[area]
    education = rng.choice([0, 1, 2], area.size, p=[0.3, 0.45, 0.25])
    trust = np.clip(5 + 0.4 * stratum / N_STRATA + 0.6 * education + area_effect + rng.normal(0, 2, area.size), 0, 10)
    p_vote = 1 / (1 + np.exp(-(0.2 + 0.5 * education + 0.5 * area_effect)))
    return pd.DataFrame(
        {
            "stratum": stratum,
            "area": area,
            "education": education,
            "trust": trust,
            "voted": (rng.random(area.size) < p_vote).astype(float),
        }
    )


def true_values(population: pd.DataFrame) -> dict[tuple[str, str], float]:
    """Population domain means by education and the gap education 2 - education 0."""
    means = population.groupby("education")[["trust", "voted"]].mean()
    out = {}
    for variable in ("trust", "voted"):
        for level in (0, 1, 2):
            out[(variable, f"education={level}")] = means.loc[level, variable]
        out[(variable, "gap 2-0")] = means.loc[2, variable] - means.loc[0, variable]
    return out


def draw_sample(population: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Stratified two-stage sample (SRS of areas, then SRS of residents) with weights and fpc at both stages."""
    sizes = np.bincount(population["area"].to_numpy())
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rows = []
    for h in range(N_STRATA):
        areas = rng.choice(np.arange(h * AREAS_PER_STRATUM, (h + 1) * AREAS_PER_STRATUM), SAMPLED_AREAS, replace=False)
        rows += [starts[a] + rng.choice(sizes[a], SAMPLED_PER_AREA, replace=False) for a in areas]
    sample = population.iloc[np.concatenate(rows)].copy()
    sample["person"] = sample.index
    sample["areas_in_stratum"] = AREAS_PER_STRATUM
    sample["residents_in_area"] = sizes[sample["area"].to_numpy()]
    sample["w"] = (AREAS_PER_STRATUM / SAMPLED_AREAS) * sample["residents_in_area"] / SAMPLED_PER_AREA
    return sample


def estimate(sample: pd.DataFrame) -> dict[tuple[str, str], tuple[float, float]]:
    """Intervals for the domain means and the gap, from the two-stage design."""
    design = SurveyDesign(
        sample, "w", strata="stratum", psu=["area", "person"], fpc=["areas_in_stratum", "residents_in_area"]
    )
    means = design.mean(["trust", "voted"], by=["education"])
    out = {(r.variable, f"education={r.education}"): (r.ci_low, r.ci_high) for r in means.itertuples()}
    for variable in ("trust", "voted"):
        gap = design.contrast_means(variable, ["education"], 2, 0).iloc[0]
        out[(variable, "gap 2-0")] = (gap["ci_low"], gap["ci_high"])
    return out


def coverage(reps: int, seed: int = 20240501) -> pd.DataFrame:
    """Share of ``reps`` samples whose 95 % interval covers the population value, per estimand."""
    rng = np.random.default_rng(seed)
    population = make_population(rng)
    truth = true_values(population)
    hits = {key: 0 for key in truth}
    for _ in range(reps):
        intervals = estimate(draw_sample(population, rng))
        for key, value in truth.items():
            low, high = intervals[key]
            hits[key] += low <= value <= high
    return pd.DataFrame(
        [{"variable": k[0], "estimand": k[1], "true_value": truth[k], "coverage": hits[k] / reps} for k in truth]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20240501)
    args = parser.parse_args()
    print(coverage(args.reps, args.seed).to_string(index=False))


if __name__ == "__main__":
    main()
