"""The finite adult population of the demo: every person of every district, and the districts' realised shares."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.demo.scenario import EDUCATION_SHARES, REFERENCE_YEAR, Population


def draw_ages(rng: np.random.Generator, n: int) -> np.ndarray:
    """Ages in the reference year: flat from 18 to 64, then falling linearly to 95."""
    ages = np.arange(18, 96)
    weights = np.where(ages < 65, 1.0, 1.0 - 0.95 * (ages - 64) / 31)
    return rng.choice(ages, n, p=weights / weights.sum())


def build_population(rng: np.random.Generator, districts: pd.DataFrame) -> Population:
    """Every adult of every district with gender, birth year, education, income and background.

    Education follows an ordered logit in the district's ``ses`` and age (younger
    and higher-ses persons are more educated) with cut points at the quantiles
    that give the national shares EDUCATION_SHARES.  Income
    deciles are national deciles of a latent income driven by education, ses, age
    and background.
    """
    counts = districts["population"].to_numpy()
    district = np.repeat(np.arange(len(districts)), counts)
    n = len(district)
    ses = districts["ses"].to_numpy()[district]
    age = draw_ages(rng, n)
    score = 0.7 * ses - 0.025 * (age - 45) + rng.logistic(0.0, 1.0, n)
    cuts = np.quantile(score, np.cumsum(EDUCATION_SHARES)[:2])
    education = 1 + (score > cuts[0]).astype(np.int64) + (score > cuts[1]).astype(np.int64)
    immigrant_p = 1 / (1 + np.exp(-districts["immigrant_logit"].to_numpy()[district]))
    immigrant = (rng.random(n) < immigrant_p).astype(np.int64)
    income = 0.7 * (education - 2) + 0.3 * ses - 0.0012 * (age - 50) ** 2 - 0.3 * immigrant + rng.normal(0.0, 1.0, n)
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(income, kind="stable")] = np.arange(n)
    return Population(
        district=district,
        municipality=districts["municipality"].to_numpy()[district],
        gender=rng.integers(1, 3, n),
        birth_year=REFERENCE_YEAR - age,
        education=education,
        income_decile=rank * 10 // n + 1,
        immigrant=immigrant,
        participation_effect=rng.normal(0.0, 1.0, n),
        trust_effect=rng.normal(0.0, 1.0, n),
    )


def add_register_shares(districts: pd.DataFrame, pop: Population) -> pd.DataFrame:
    """Add share_higher_education and share_immigrant as realised in the population (4 decimals)."""
    counts = districts["population"].to_numpy()
    n = len(districts)
    higher = np.bincount(pop.district, weights=pop.education == 3, minlength=n)
    immigrant = np.bincount(pop.district, weights=pop.immigrant, minlength=n)
    return districts.assign(
        share_higher_education=np.round(higher / counts, 4),
        share_immigrant=np.round(immigrant / counts, 4),
    )


def low_education_cutoff(districts: pd.DataFrame) -> float:
    """The 1/3 quantile of share_higher_education over all districts (lowest third: share <= cutoff)."""
    return float(np.quantile(districts["share_higher_education"].to_numpy(), 1 / 3))
