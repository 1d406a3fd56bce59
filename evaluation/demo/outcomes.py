"""Answers of the demo panel: potential outcomes, pilot effects, population values and item non-response."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from evaluation.demo.panel import wave_timing
from evaluation.demo.scenario import (
    DONT_KNOW,
    EDUCATION_CODES,
    ITEMS,
    LATE_NAMES_FROM_WAVE,
    NONRESPONSE_RATES,
    POPULATION_ITEMS,
    REFUSED,
    DemoConfig,
    Item,
    Population,
    json_float,
)
from evaluation.demo.turnout import pilot_starts


def potential_outcomes(
    rng: np.random.Generator, item: Item, people: Population, year: int, wave_shift: float, municipal_trust: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Untreated and treated answers of ``people`` to ``item`` in one wave (common random numbers).

    ``wave_shift`` is the trend plus shock of the wave (logit units for binary
    items, scale points for scales); ``municipal_trust`` is the trust effect of
    each person's municipality.
    """
    age = year - people.birth_year
    person = people.participation_effect if item.kind == "binary" else people.trust_effect
    latent = (
        item.intercept
        + item.higher * (people.education == 3)
        + item.compulsory * (people.education == 1)
        + item.age_per_decade * (age - 45) / 10
        + item.immigrant * people.immigrant
        + item.person_loading * person
        + item.municipal_loading * municipal_trust
        + wave_shift
    )
    effect = item.effect + item.extra_effect_compulsory * (people.education == 1)
    if item.kind == "binary":
        p0 = 1 / (1 + np.exp(-latent))
        u = rng.random(len(latent))
        return (u < p0).astype(np.int64), (u < np.minimum(p0 + effect, 1.0)).astype(np.int64)
    latent = latent + rng.normal(0.0, item.noise_sd, len(latent))
    return (
        np.clip(np.rint(latent), item.low, item.high).astype(np.int64),
        np.clip(np.rint(latent + effect), item.low, item.high).astype(np.int64),
    )


def wave_shifts(rng: np.random.Generator, n_waves: int) -> np.ndarray:
    """Trend plus shock per item (rows, in ITEMS order) and wave (columns)."""
    trend = np.array([item.trend_per_wave for item in ITEMS])[:, None] * np.arange(n_waves)
    scale = np.array([0.05 if item.kind == "binary" else 0.05 * (item.high - item.low) / 4 for item in ITEMS])
    return trend + rng.normal(0.0, 1.0, (len(ITEMS), n_waves)) * scale[:, None]


def group_means(values: np.ndarray, groups: np.ndarray, labels: dict[int, str]) -> dict[str, float]:
    """Mean of ``values`` per code of ``groups`` (small non-negative integers), keyed by the code's label."""
    sums = np.bincount(groups, weights=values)
    counts = np.bincount(groups)
    return {label: json_float(sums[code] / counts[code]) for code, label in labels.items()}


def population_summary(
    y_obs: np.ndarray,
    y0: np.ndarray,
    y1: np.ndarray,
    pop: Population,
    pilot: np.ndarray,
    treated: np.ndarray,
    unit: str,
) -> dict[str, Any]:
    """Finite-population means of the observed-world outcome, and the pilots' untreated mean and ATT.

    ``unit`` names the unit of the ATT: ``pp`` (percentage points) or ``scale_points``.
    """
    scale = 100.0 if unit == "pp" else 1.0
    return {
        "all": json_float(y_obs.mean()),
        "by_role": {"pilot": json_float(y_obs[pilot].mean()), "control": json_float(y_obs[~pilot].mean())},
        "by_education": group_means(y_obs, pop.education, EDUCATION_CODES),
        "pilot_if_untreated": json_float(y0[pilot].mean()),
        "treated_share_of_pilot_adults": json_float(treated.sum() / pilot.sum()),
        f"att_among_treated_adults_{unit}": json_float(scale * (y1 - y0)[treated].mean()) if treated.any() else None,
    }


def simulate_answers(
    rng: np.random.Generator, pop: Population, munis: pd.DataFrame, panel: pd.DataFrame, config: DemoConfig
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, list[dict[str, Any]]]]:
    """Answers of every respondent-wave, their individual effects and the population values.

    Returns
    -------
    answers
        ``panel`` plus one column per outcome (observed answer, before item non-response).
    effects
        Treated respondent-waves: ``education`` and one column per outcome with y(1) - y(0).
    population_values
        Per population item a list with one summary per wave (see ``population_summary``).
    """
    muni_trust = munis["trust_effect"].to_numpy()
    pilot_start = pilot_starts(munis)
    pilot_pop = (munis["role"] == "pilot").to_numpy()[pop.municipality]
    shifts = wave_shifts(rng, config.n_waves)
    answers, effects = [], []
    values: dict[str, list[dict[str, Any]]] = {name: [] for name in POPULATION_ITEMS}
    for wave in range(1, config.n_waves + 1):
        year, month = wave_timing(wave, config.structure.waves_per_year)
        rows = panel[panel["wave"] == wave]
        person = rows["person"].to_numpy()
        people = pop.take(person)
        treated = pilot_start[rows["municipality"].to_numpy()] <= rows["interview_date"].to_numpy()
        pop_treated = pilot_start[pop.municipality] <= np.datetime64(f"{year}-{month:02d}-01", "D")
        wave_answers = {}
        wave_effects = {"education": people.education[treated]}
        for index, item in enumerate(ITEMS):
            shift = shifts[index, wave - 1]
            if item.outcome in POPULATION_ITEMS:
                y0_pop, y1_pop = potential_outcomes(rng, item, pop, year, shift, muni_trust[pop.municipality])
                y_pop = np.where(pop_treated, y1_pop, y0_pop)
                unit = "pp" if item.kind == "binary" else "scale_points"
                summary = population_summary(y_pop, y0_pop, y1_pop, pop, pilot_pop, pop_treated, unit)
                values[item.outcome].append({"wave": wave, "interview_month": f"{year}-{month:02d}", **summary})
                y0, y1 = y0_pop[person], y1_pop[person]
            else:
                y0, y1 = potential_outcomes(rng, item, people, year, shift, muni_trust[people.municipality])
            wave_answers[item.outcome] = np.where(treated, y1, y0)
            wave_effects[item.outcome] = (y1 - y0)[treated]
        answers.append(rows.assign(**wave_answers))
        effects.append(pd.DataFrame(wave_effects))
    return pd.concat(answers, ignore_index=True), pd.concat(effects, ignore_index=True), values


def survey_effect_summary(effects: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Structural, expected and realised pilot effects per outcome, overall and by education.

    ``expected_att`` averages the structural effect over the treated respondent-waves
    (it differs from ``structural_effect`` only for items with an extra effect for
    compulsory education); ``realised_att`` is the mean of y(1) - y(0) over them.
    """
    summary = {}
    for item in ITEMS:
        unit, scale = ("pp", 100.0) if item.kind == "binary" else ("scale_points", 1.0)
        structural = {
            label: item.effect + item.extra_effect_compulsory * (code == 1) for code, label in EDUCATION_CODES.items()
        }
        realised = effects.groupby("education")[item.outcome].mean()
        expected = item.effect + item.extra_effect_compulsory * (effects["education"] == 1).mean()
        summary[item.outcome] = {
            "spss_variable": item.variable,
            f"spss_variable_from_wave_{LATE_NAMES_FROM_WAVE}": item.late_variable,
            "kind": item.kind,
            "range": [item.low, item.high],
            f"structural_effect_{unit}": json_float(scale * item.effect),
            f"structural_effect_by_education_{unit}": {k: json_float(scale * v) for k, v in structural.items()},
            f"expected_att_{unit}": json_float(scale * expected),
            f"realised_att_{unit}": json_float(scale * effects[item.outcome].mean()),
            f"realised_att_by_education_{unit}": {
                label: json_float(scale * realised.get(code, np.nan)) for code, label in EDUCATION_CODES.items()
            },
        }
    return summary


def add_item_nonresponse(rng: np.random.Generator, answers: pd.DataFrame) -> pd.DataFrame:
    """Replace each item answer independently by 97 (2 %) or 98 (1 %)."""
    out = answers.copy()
    for item in ITEMS:
        u = rng.random(len(out))
        values = out[item.outcome].to_numpy()
        out[item.outcome] = np.where(
            u < NONRESPONSE_RATES[DONT_KNOW], DONT_KNOW, np.where(u < sum(NONRESPONSE_RATES.values()), REFUSED, values)
        )
    return out
