"""Geography of the demo: municipalities (sizes, names, pilots and cohorts) and their voting districts."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from evaluation.demo.scenario import (
    COHORT_STARTS,
    DISTRICT_NAMES,
    FIRST_MUNICIPALITY_CODE,
    NAME_QUALIFIERS,
    PILOT_TYPES,
    PREFIXES,
    STRUCTURES,
    SUFFIXES,
    DemoConfig,
    Structure,
)


def municipality_sizes(rng: np.random.Generator, n: int, per_municipality: int = 20_000) -> np.ndarray:
    """Adults 18+ per municipality: log-normal, one city of ~200-250k, about ``per_municipality`` x n in total."""
    total = per_municipality * n
    largest = min(rng.uniform(200_000, 250_000), 0.35 * total)
    rest = np.exp(rng.normal(np.log(8_000), 1.0, n - 1))
    rest = np.clip(rest * (total - largest) / rest.sum(), 2_000, 0.6 * largest)
    return np.round(np.concatenate([[largest], rest])).astype(np.int64)


def municipality_names(rng: np.random.Generator, n: int) -> list[str]:
    """Unique invented names such as 'Tiurvik' (prefix + suffix syllables)."""
    combos = [p + s for p in PREFIXES for s in SUFFIXES]
    if n > len(combos):  # national scale: 'Nord-Tiurvik', 'Sør-Tiurvik' as well
        combos += [q + c for q in NAME_QUALIFIERS for c in combos]
    return [combos[i] for i in rng.choice(len(combos), n, replace=False)]


def choose_pilots(rng: np.random.Generator, sizes: np.ndarray, trust: np.ndarray, n_pilots: int) -> np.ndarray:
    """Indices of the pilot municipalities.

    One of the three largest and one of the five smallest municipalities, the rest
    drawn with weights that favour low trust (exp(-1.5 z) for the standardised
    municipal trust effect z).
    """
    by_size = np.argsort(sizes, kind="stable")
    large = rng.choice(by_size[-3:])
    small = rng.choice(by_size[:5])
    others = np.setdiff1d(np.arange(len(sizes)), [large, small])
    weights = np.exp(-1.5 * (trust[others] - trust.mean()) / trust.std())
    rest = rng.choice(others, n_pilots - 2, replace=False, p=weights / weights.sum())
    return np.sort(np.concatenate([[large, small], rest]))


def build_municipalities(rng: np.random.Generator, config: DemoConfig) -> pd.DataFrame:
    """One row per municipality with its size, latent profile, effects and pilot role.

    Columns: municipality_code, municipality_name, population (adults 18+),
    size_z (standardised log size), ses (latent socioeconomic level), trust_effect
    (scale points on 0-10 trust items), turnout_effect (probability), growth
    (yearly growth of the electorate), role, pilot_start (date or None),
    pilot_type, cohort.
    """
    n = config.n_municipalities
    sizes = municipality_sizes(rng, n, config.structure.adults_per_municipality)
    log_size = np.log(sizes)
    size_z = (log_size - log_size.mean()) / log_size.std()
    trust = rng.normal(0.0, 0.35, n)
    munis = pd.DataFrame(
        {
            "municipality_code": [str(FIRST_MUNICIPALITY_CODE + i) for i in range(n)],
            "municipality_name": municipality_names(rng, n),
            "population": sizes,
            "size_z": size_z,
            "ses": 0.5 * size_z + rng.normal(0.0, 0.6, n),
            "trust_effect": trust,
            "turnout_effect": rng.normal(0.0, 0.02, n) + 0.02 * trust,
            "growth": rng.normal(0.006, 0.006, n),
        }
    )
    return assign_pilots(rng, munis, choose_pilots(rng, sizes, trust, config.n_pilots), config.structure.cohort_starts)


def assign_pilots(
    rng: np.random.Generator,
    munis: pd.DataFrame,
    pilots: np.ndarray,
    cohort_starts: tuple[dt.date, ...] = COHORT_STARTS,
) -> pd.DataFrame:
    """Add role, cohort, pilot_start and pilot_type.

    The shuffled pilots are split over the cohorts in order, earlier cohorts
    taking the remainder (two cohorts: the first ceil(n/2) start in 2019).
    """
    n_pilots = len(pilots)
    shuffled = rng.permutation(pilots)
    starts = np.arange(n_pilots) * len(cohort_starts) // n_pilots
    types = rng.permutation(np.resize(np.array(PILOT_TYPES), n_pilots))
    munis = munis.assign(role="control", pilot_start=None, pilot_type="", cohort="")
    for index, start, pilot_type in zip(shuffled, starts, types):
        munis.loc[index, ["role", "pilot_start", "pilot_type", "cohort"]] = [
            "pilot",
            cohort_starts[start],
            str(pilot_type),
            str(cohort_starts[start].year),
        ]
    return munis


def build_districts(
    rng: np.random.Generator, munis: pd.DataFrame, structure: Structure = STRUCTURES["demo"]
) -> pd.DataFrame:
    """One row per voting district: codes, name, adult population and latent profile.

    The number of districts (3-12) grows with municipality size; district
    populations split the municipality's adults (at least 30 % of an equal share
    each).  ``ses`` is the district's latent socioeconomic level (municipality
    level + district deviation); ``immigrant_logit`` drives immigrant background.
    """
    log_size = np.log(munis["population"].to_numpy())
    span = (log_size - log_size.min()) / (log_size.max() - log_size.min())
    low, high = structure.districts
    counts = np.clip(
        np.rint(structure.district_base + structure.district_slope * span + rng.normal(0, 1, len(munis))), low, high
    ).astype(int)
    parts = []
    for index, (count, muni) in enumerate(zip(counts, munis.itertuples())):
        shares = 0.3 / count + 0.7 * rng.dirichlet(np.full(count, 4.0))
        names = (
            [DISTRICT_NAMES[0], *rng.choice(DISTRICT_NAMES[1:], count - 1, replace=False)]
            if count <= len(DISTRICT_NAMES)
            else district_names(rng, count)
        )
        parts.append(
            pd.DataFrame(
                {
                    "municipality": index,
                    "district_number": [f"{k:04d}" for k in range(1, count + 1)],
                    "area_name": names,
                    "population": rng.multinomial(muni.population, shares),
                }
            )
        )
    districts = pd.concat(parts, ignore_index=True)
    muni_index = districts["municipality"].to_numpy()
    n = len(districts)
    ses = munis["ses"].to_numpy()[muni_index] + rng.normal(0.0, 0.6, n)
    return districts.assign(
        area_code=munis["municipality_code"].to_numpy()[muni_index] + districts["district_number"],
        ses=ses,
        immigrant_logit=(
            np.log(0.13 / 0.87) + 0.4 * munis["size_z"].to_numpy()[muni_index] - 0.35 * ses + rng.normal(0.0, 0.4, n)
        ),
        median_income=np.round(430_000 + 50_000 * ses + rng.normal(0.0, 35_000, n), -2).astype(np.int64),
    )


def district_names(rng: np.random.Generator, count: int) -> list[str]:
    """Names for a municipality with more districts than DISTRICT_NAMES: 'Sentrum', then 'Moen', 'Moen 2', ..."""
    rest = [
        f"{name} {k}" if k > 1 else name
        for k in range(1, count // len(DISTRICT_NAMES) + 2)
        for name in DISTRICT_NAMES[1:]
    ]
    return [DISTRICT_NAMES[0], *rng.choice(rest, count - 1, replace=False)]
