"""District turnout of the demo's elections, with coupled potential outcomes of the pilot effect."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from evaluation.demo.scenario import (
    ADVANCE_SHARE,
    BASE_TURNOUT,
    ELECTIONS,
    REFERENCE_YEAR,
    TURNOUT_EFFECT,
    TURNOUT_EFFECT_LOW_EDUCATION,
    json_float,
)


def election_date(year: int) -> dt.date:
    """Second Monday of September of ``year`` (Norwegian election day)."""
    first = dt.date(year, 9, 1)
    return first + dt.timedelta(days=(7 - first.weekday()) % 7 + 7)


def pilot_starts(munis: pd.DataFrame) -> np.ndarray:
    """Pilot start per municipality as datetime64[D] (NaT for controls, so every comparison is False)."""
    return np.array([np.datetime64(s, "D") if s else np.datetime64("NaT", "D") for s in munis["pilot_start"]])


def simulate_turnout(
    rng: np.random.Generator,
    munis: pd.DataFrame,
    districts: pd.DataFrame,
    cutoff: float,
    elections: tuple[tuple[str, int], ...] = ELECTIONS,
) -> pd.DataFrame:
    """Eligible voters and votes per district and election, with coupled potential outcomes.

    Turnout probability (untreated) = base for the election type + 0.04 per SD of
    share_higher_education - 0.05 x (share_immigrant - mean) + municipality effect
    + election shock + municipality-election and district-election noise.
    ``votes_untreated`` ~ Binomial(eligible, p); ``votes_treated`` adds
    Binomial(eligible - votes_untreated, effect / (1 - p)), so it is
    Binomial(eligible, p + effect) and never below the untreated votes.
    """
    n_d, n_m = len(districts), len(munis)
    muni = districts["municipality"].to_numpy()
    edu = districts["share_higher_education"].to_numpy()
    imm = districts["share_immigrant"].to_numpy()
    profile = (
        0.04 * (edu - edu.mean()) / edu.std()
        - 0.05 * (imm - imm.mean())
        + munis["turnout_effect"].to_numpy()[muni]
        + rng.normal(0.0, 0.012, n_d)
    )
    starts = pilot_starts(munis)[muni]
    effect_if_treated = np.where(edu <= cutoff, TURNOUT_EFFECT_LOW_EDUCATION, TURNOUT_EFFECT)
    growth = munis["growth"].to_numpy()[muni]
    frames = []
    for election_type, year in elections:
        day = election_date(year)
        p0 = np.clip(
            BASE_TURNOUT[election_type]
            + rng.normal(0.0, 0.012)
            + profile
            + rng.normal(0.0, 0.006, n_m)[muni]
            + rng.normal(0.0, 0.008, n_d),
            0.25,
            0.95,
        )
        citizens = 0.98 if election_type == "local" else 0.98 * (1 - 0.55 * imm)
        eligible = np.rint(
            districts["population"].to_numpy() * (1 + growth) ** (year - REFERENCE_YEAR) * citizens
        ).astype(np.int64)
        treated = starts <= np.datetime64(day, "D")
        effect = np.where(treated, effect_if_treated, 0.0)
        votes0 = rng.binomial(eligible, p0)
        votes1 = votes0 + rng.binomial(eligible - votes0, effect / (1 - p0))
        votes = np.where(treated, votes1, votes0)
        advance_p = np.clip(ADVANCE_SHARE[year] + rng.normal(0.0, 0.04, n_d), 0.05, 0.9)
        frames.append(
            pd.DataFrame(
                {
                    "district": np.arange(n_d),
                    "election_type": election_type,
                    "election_year": year,
                    "election_date": day.isoformat(),
                    "eligible": eligible,
                    "votes": votes,
                    "advance": rng.binomial(votes, advance_p),
                    "treated": treated,
                    "effect": effect,
                    "votes_untreated": votes0,
                    "votes_treated": votes1,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def turnout_effect_summary(turnout: pd.DataFrame) -> dict[str, Any]:
    """Expected and realised eligible-weighted effects (pp) over treated district-elections."""
    treated = turnout[turnout["treated"]]
    eligible = treated["eligible"].sum()
    return {
        "n_treated_district_elections": int(len(treated)),
        "expected_att_pp": json_float(100 * (treated["effect"] * treated["eligible"]).sum() / eligible),
        "realised_att_pp": json_float(100 * (treated["votes_treated"] - treated["votes_untreated"]).sum() / eligible),
    }
