"""The citizen panel of the demo: allocation, recruitment, retention and interview dates."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.demo.scales import FIRST_PANEL_YEAR, WAVE_MONTHS
from evaluation.demo.scenario import (
    MIN_CONTROL_RESPONDENTS,
    PILOT_RESPONDENTS,
    REFERENCE_YEAR,
    RESPONSE_FACTOR_UNDER_30,
    RESPONSE_PROPENSITY,
    RETENTION,
    DemoConfig,
    Population,
)


def wave_timing(wave: int, per_year: int = 2) -> tuple[int, int]:
    """(year, month) of a wave's interviews: odd waves in March, even waves in October (``per_year`` 2),
    or March, May, October and December (``per_year`` 4, the national scale)."""
    return FIRST_PANEL_YEAR + (wave - 1) // per_year, WAVE_MONTHS[per_year][(wave - 1) % per_year]


def respondents_per_pilot(config: DemoConfig) -> int:
    """Interviews per pilot municipality and wave: 150, or 40 % of the wave / n_pilots if smaller."""
    return min(PILOT_RESPONDENTS, int(0.4 * config.respondents_per_wave / config.n_pilots))


def allocate_respondents(munis: pd.DataFrame, config: DemoConfig) -> np.ndarray:
    """Completed interviews per municipality and wave.

    Each pilot gets ``respondents_per_pilot``; controls share the rest in proportion
    to their adult population with a minimum of 15 (largest-remainder rounding, so
    the allocation sums to ``respondents_per_wave``).
    """
    pilot = (munis["role"] == "pilot").to_numpy()
    per_pilot = respondents_per_pilot(config)
    rest = config.respondents_per_wave - per_pilot * pilot.sum()
    size = munis["population"].to_numpy()[~pilot].astype(float)
    at_min = np.zeros(len(size), dtype=bool)
    while True:
        share = np.where(at_min, 0.0, size) / size[~at_min].sum()
        alloc = np.where(at_min, MIN_CONTROL_RESPONDENTS, (rest - MIN_CONTROL_RESPONDENTS * at_min.sum()) * share)
        newly = ~at_min & (alloc < MIN_CONTROL_RESPONDENTS)
        if not newly.any():
            break
        at_min |= newly
    base = np.floor(alloc).astype(np.int64)
    base[np.argsort(-(alloc - base), kind="stable")[: rest - base.sum()]] += 1
    result = np.full(len(munis), per_pilot, dtype=np.int64)
    result[~pilot] = base
    return result


def recruitment_queue(rng: np.random.Generator, pop: Population, n_munis: int) -> tuple[np.ndarray, np.ndarray]:
    """Persons willing to respond, in random order grouped by municipality, and each group's start.

    A person is willing with probability RESPONSE_PROPENSITY[education]
    (x 0.8 under 30), so recruits over-represent the higher educated.
    """
    age = REFERENCE_YEAR - pop.birth_year
    propensity = np.array([0.0, *RESPONSE_PROPENSITY.values()])[pop.education]
    propensity = propensity * np.where(age < 30, RESPONSE_FACTOR_UNDER_30, 1.0)
    willing = np.flatnonzero(rng.random(len(propensity)) < propensity)
    key = pop.municipality[willing] + rng.random(len(willing))
    queue = willing[np.argsort(key, kind="stable")]
    starts = np.concatenate([[0], np.cumsum(np.bincount(pop.municipality[queue], minlength=n_munis))])
    return queue, starts


def retention_probability(education: np.ndarray, age: np.ndarray) -> np.ndarray:
    """P(staying for the next wave): lower for the young and the less educated, mean RETENTION."""
    x = 0.5 * (education == 3) - 0.5 * (education == 1) - 0.6 * (age < 30) + 0.2 * (age >= 60)
    low, high = -10.0, 10.0
    for _ in range(50):  # bisection on the intercept so that the mean equals RETENTION
        mid = (low + high) / 2
        low, high = (mid, high) if np.mean(1 / (1 + np.exp(-(mid + x)))) < RETENTION else (low, mid)
    return 1 / (1 + np.exp(-((low + high) / 2 + x)))


def draw_panel(rng: np.random.Generator, pop: Population, munis: pd.DataFrame, config: DemoConfig) -> pd.DataFrame:
    """Respondent-waves: columns person, wave, municipality, interview_date (datetime64[D]).

    Wave 1 recruits the allocation from the willing queue; each later wave keeps
    panel members with ``retention_probability`` and tops every municipality up
    to its allocation with new recruits (never someone who was in the panel).
    """
    target = allocate_respondents(munis, config)
    queue, starts = recruitment_queue(rng, pop, len(munis))
    used = np.zeros(len(munis), dtype=np.int64)
    current = np.empty(0, dtype=np.int64)
    frames = []
    for wave in range(1, config.n_waves + 1):
        year, month = wave_timing(wave, config.structure.waves_per_year)
        if wave > 1:
            keep = retention_probability(pop.education[current], year - pop.birth_year[current])
            current = current[rng.random(len(current)) < keep]
        have = np.bincount(pop.municipality[current], minlength=len(munis))
        take = np.clip(target - have, 0, np.diff(starts) - used)
        offsets = np.repeat(starts[:-1] + used - np.cumsum(take) + take, take) + np.arange(take.sum())
        used += take
        current = np.sort(np.concatenate([current, queue[offsets]]))
        first = np.datetime64(f"{year}-{month:02d}-01")
        frames.append(
            pd.DataFrame(
                {
                    "person": current,
                    "wave": wave,
                    "municipality": pop.municipality[current],
                    "interview_date": first + rng.integers(0, 31, len(current)).astype("timedelta64[D]"),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
