"""Participants of the demo's participation arenas, drawn from the population with a known skew.

Each year from :data:`YEARS`, every municipality's participatory budget
(``medborgerbudsjett``) and public meetings (``folkemote``) draw their
participants from the municipality's adults, with replacement, with weights
``exp(x' b)`` on higher and compulsory education and on the age groups 18-29
and 60+ (:data:`ARENAS`). In a pilot municipality, from the year its pilot
started, the arenas reach out: the coefficients are multiplied by
:data:`PILOT_BROADENING`, so the participants look more like the population.

The truth is exact: a participant of a cell is a draw from the weighted
population, so the expected share of each category is its weighted share, and
the truth gives the dissimilarity index ``D = 1/2 sum |p - q|`` of those shares
against the population margins (the 2019 population) per arena, municipality,
period and group variable. The periods are the years before and from the
calendar year of the pilot start (for a control municipality, of the
programme's first start), as :mod:`evaluation.representation.programme` splits them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evaluation.demo.scenario import AGE_GROUPS, EDUCATION_CODES, GENDER_CODES, REFERENCE_YEAR, Population, json_float

PARTICIPANTS_FILE = "deltakere_medvirkning.csv"
YEARS = tuple(range(2016, 2024))
PILOT_BROADENING = 0.3  # pilots' coefficients from the start year, as a share of the usual ones
UNKNOWN_EDUCATION = 9  # the file's code for an unknown education (a missing code in its codebook)
STREAM = 1717  # the participants' own random stream: the other demo files do not change with them
TWO_DIGITS = np.array([f"{n:02d}" for n in range(100)], dtype=object)  # day and month numbers as in dd.mm.yyyy
AGE_GROUP_TOPS = np.array([high for _, high, _ in AGE_GROUPS])


@dataclass(frozen=True)
class Arena:
    """Participants per municipality and year, and the log-weights of their selection."""

    name: str
    per_year: int
    higher: float
    compulsory: float
    young: float  # 18-29
    old: float  # 60+


ARENAS = (
    Arena("medborgerbudsjett", 120, higher=0.8, compulsory=-0.6, young=-0.4, old=0.5),
    Arena("folkemote", 50, higher=1.0, compulsory=-0.8, young=-0.8, old=0.9),
)


def _log_weight(arena: Arena, people: Population, year: int, broadened: bool) -> np.ndarray:
    age = year - people.birth_year
    factor = PILOT_BROADENING if broadened else 1.0
    return factor * (
        arena.higher * (people.education == 3)
        + arena.compulsory * (people.education == 1)
        + arena.young * (age < 30)
        + arena.old * (age >= 60)
    )


def simulate_participants(seed: int, pop: Population, munis: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The participants file (one row per participant) and its truth.

    Returns
    -------
    frame
        Columns ``arena``, ``kommune``, ``dato`` (dd.mm.yyyy), ``kjonn`` (1 male,
        2 female), ``fodselsar``, ``utdanning`` (1-3; 9 unknown for 1 %).
    truth
        ``arenas`` (the selection coefficients), ``pilot_broadening`` and
        ``dissimilarity``: one record per arena, municipality, period and group
        variable with the expected dissimilarity of the participants.
    """
    rng = np.random.default_rng([seed, STREAM])
    codes = munis["municipality_code"].to_numpy()
    starts = munis["pilot_start"].to_numpy()
    first_start = min(int(str(start)[:4]) for start in starts if start)
    order = np.argsort(pop.municipality, kind="stable")
    bounds = np.searchsorted(pop.municipality[order], np.arange(len(munis) + 1))
    frames, truth = [], []
    for m, code in enumerate(codes):
        members = order[bounds[m] : bounds[m + 1]]
        people = pop.take(members)
        start_year = int(str(starts[m])[:4]) if starts[m] else None
        population = _composition(people, REFERENCE_YEAR, np.ones(len(members)))
        weights = {}  # (arena, year) -> selection weights of the municipality's adults, for the draw and the truth
        for arena in ARENAS:
            for year in YEARS:
                broadened = start_year is not None and year >= start_year
                weight = weights[(arena.name, year)] = np.exp(_log_weight(arena, people, year, broadened))
                chosen = rng.choice(len(members), size=arena.per_year, p=weight / weight.sum())
                day = rng.integers(1, 29, arena.per_year)
                month = rng.integers(1, 13, arena.per_year)
                education = people.education[chosen]
                frames.append(
                    {
                        "arena": np.full(arena.per_year, arena.name, dtype=object),
                        "kommune": np.full(arena.per_year, code, dtype=object),
                        "dato": TWO_DIGITS[day] + "." + TWO_DIGITS[month] + f".{year}",
                        "kjonn": people.gender[chosen],
                        "fodselsar": people.birth_year[chosen],
                        "utdanning": np.where(rng.random(arena.per_year) < 0.01, UNKNOWN_EDUCATION, education),
                    }
                )
            for period, years in _periods(start_year or first_start).items():
                expected = [_composition(people, year, weights[(arena.name, year)]) for year in years]
                for variable in population:
                    shares = np.mean([e[variable] for e in expected], axis=0)
                    gap = np.abs(shares - population[variable]).sum() / 2
                    truth.append(
                        {
                            "arena": arena.name,
                            "municipality_code": str(code),
                            "role": "pilot" if start_year is not None else "control",
                            "period": period,
                            "group_variable": variable,
                            "dissimilarity": json_float(gap),
                        }
                    )
    coefficients = {a.name: {k: v for k, v in vars(a).items() if k != "name"} for a in ARENAS}
    columns = {name: np.concatenate([frame[name] for frame in frames]) for name in frames[0]}
    return pd.DataFrame(columns), {
        "file": PARTICIPANTS_FILE,
        "codebook": "config/codebooks/demo_participants.yaml",
        "years": list(YEARS),
        "arenas": coefficients,
        "pilot_broadening": PILOT_BROADENING,
        "description": (
            "participants drawn with replacement from the municipality's adults with weights exp(x'b); pilots' "
            "coefficients times pilot_broadening from their start year; dissimilarity is that of the expected "
            "participants' composition (mean over the period's years) against the 2019 population; periods split at "
            "the pilot's start year (controls: the programme's first start year)"
        ),
        "dissimilarity": truth,
    }


def _periods(start_year: int) -> dict[str, list[int]]:
    """Years before and from the start year (a pilot's own; for a control, the programme's first)."""
    return {"before": [y for y in YEARS if y < start_year], "after": [y for y in YEARS if y >= start_year]}


def _composition(people: Population, year: int, weight: np.ndarray) -> dict[str, np.ndarray]:
    """Weighted shares of each category of gender, age group (at ``year``) and education, in code order."""
    age = np.searchsorted(AGE_GROUP_TOPS, year - people.birth_year)
    columns = {
        "gender": (people.gender - 1, len(GENDER_CODES)),
        "age_group": (age, len(AGE_GROUPS)),
        "education": (people.education - 1, len(EDUCATION_CODES)),
    }
    total = weight.sum()
    return {name: np.bincount(codes, weights=weight, minlength=n) / total for name, (codes, n) in columns.items()}
