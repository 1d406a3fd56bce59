"""The uptake tables of a programme: what became of citizens' proposals, before and after the pilots start.

Per arena (and all arenas), municipality (and the pilots and the controls
pooled, ``all``) and period (before, and from the calendar year of the pilot
start; :func:`evaluation.units.municipal_periods`), and for the pooled cells
also per topic and proposer group where the records have them
(``group_variable``, ``group``; ``all`` otherwise):

- the share of decided proposals that were adopted or partly adopted, with its
  exact (Clopper-Pearson) interval;
- the median days from submission to decision, Kaplan-Meier with pending and
  withdrawn proposals censored (:mod:`.survival`);
- the share of decisions that mention the citizens' input, where recorded.

A cell with fewer than ``min_n`` decided proposals is withheld. The effect of
the pilots on each share is a difference in differences on the decided
proposals (pilot municipalities after their start against before, against the
controls' change), with the few-treated inference of the rest of the
programme: the studentised permutation test that re-assigns municipalities'
pilot status, and CRV1 (:func:`evaluation.api.did`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.api import did
from evaluation.representation.ratios import clopper_pearson
from evaluation.units import municipal_periods
from evaluation.uptake.survival import decision_times, median_days

ALL = "all"
ADOPTED = ("adopted", "partly_adopted")
SHARES = {"adopted": "adopted_share", "mentioned": "mentioned_share"}
BREAKDOWNS = ("topic", "proposer_group")
"""Columns the pooled cells are also cut by, where the records have them."""
UPTAKE_COLUMNS = [
    "arena",
    "municipality_code",
    "role",
    "period",
    "group_variable",
    "group",
    "n_proposals",
    "n_decided",
    "adopted_share",
    "adopted_low",
    "adopted_high",
    "median_days",
    "median_days_low",
    "median_days_high",
    "n_mentioned_known",
    "mentioned_share",
    "mentioned_low",
    "mentioned_high",
    "suppressed",
]
WITHHELD = [
    "adopted_share",
    "adopted_low",
    "adopted_high",
    "median_days",
    "median_days_low",
    "median_days_high",
    "mentioned_share",
    "mentioned_low",
    "mentioned_high",
]
"""The values of a cell with fewer than ``min_n`` decided proposals (its counts stay)."""


def uptake_tables(
    proposals: pd.DataFrame, areas: pd.DataFrame, *, min_n: int, level: float, seed: int, n_permutations: int
) -> dict[str, pd.DataFrame]:
    """The ``uptake`` and ``uptake_effects`` tables (see the module docstring).

    The as-of date of pending proposals is the latest date in the records (a
    submission or a decision).
    """
    records = municipal_periods(proposals, areas, "submitted_date", "proposals")
    as_of = max(records["submitted_date"].max(), records["decision_date"].max())
    days, decided = decision_times(records, as_of)
    records = records.assign(
        days=days,
        decided=decided,
        adopted=np.where(decided == 1, records["outcome"].isin(ADOPTED).astype(float), np.nan),
        mentioned=pd.to_numeric(records["mentioned"], errors="coerce").where(decided == 1)
        if "mentioned" in records
        else np.nan,
    )
    pooled = [records, records.assign(municipality_code=ALL)]
    every = pd.concat([*pooled, *(frame.assign(arena=ALL) for frame in pooled)], ignore_index=True)
    cells = [every.assign(group_variable=ALL, group=ALL)]
    for variable in (name for name in BREAKDOWNS if name in records and records[name].notna().any()):
        known = every[(every["municipality_code"] == ALL) & every[variable].notna()]
        cells.append(known.assign(group_variable=variable, group=known[variable].astype(str)))
    keys = ["arena", "municipality_code", "role", "period", "group_variable", "group"]
    rows = [_cell(key, cell, level) for key, cell in pd.concat(cells, ignore_index=True).groupby(keys, sort=True)]
    table = pd.DataFrame(rows, columns=UPTAKE_COLUMNS)
    table["suppressed"] = table["n_decided"] < min_n
    table[WITHHELD] = table[WITHHELD].astype(float).mask(table["suppressed"])
    return {"uptake": table, "uptake_effects": _effects(records, level, seed, n_permutations)}


def _cell(key: tuple, cell: pd.DataFrame, level: float) -> dict:
    arena, code, role, period, variable, group = key
    decided = cell["decided"] == 1
    adopted = int(cell.loc[decided, "adopted"].sum())
    n_decided = int(decided.sum())
    known = cell["mentioned"].notna()
    mentioned = int(cell.loc[known, "mentioned"].sum())
    adopted_ci = clopper_pearson(np.array([adopted]), np.array([max(n_decided, 1)]), level)
    mentioned_ci = clopper_pearson(np.array([mentioned]), np.array([max(int(known.sum()), 1)]), level)
    median, low, high = median_days(cell["days"].to_numpy(), cell["decided"].to_numpy(), level)
    return {
        "arena": arena,
        "municipality_code": code,
        "role": role,
        "period": period,
        "group_variable": variable,
        "group": group,
        "n_proposals": len(cell),
        "n_decided": n_decided,
        "adopted_share": adopted / n_decided if n_decided else np.nan,
        "adopted_low": float(adopted_ci[0][0]) if n_decided else np.nan,
        "adopted_high": float(adopted_ci[1][0]) if n_decided else np.nan,
        "median_days": median,
        "median_days_low": low,
        "median_days_high": high,
        "n_mentioned_known": int(known.sum()),
        "mentioned_share": mentioned / known.sum() if known.any() else np.nan,
        "mentioned_low": float(mentioned_ci[0][0]) if known.any() else np.nan,
        "mentioned_high": float(mentioned_ci[1][0]) if known.any() else np.nan,
        "suppressed": False,
    }


def _effects(records: pd.DataFrame, level: float, seed: int, n_permutations: int) -> pd.DataFrame:
    """Difference in differences of each share (percentage points), per arena and over all arenas."""
    decided = records[records["decided"] == 1].assign(
        after=lambda f: (f["period"] == "after").astype(int),
        treated=lambda f: ((f["role"] == "pilot") & (f["period"] == "after")).astype(int),
    )
    frames = []
    for arena in [*sorted(decided["arena"].unique()), ALL]:
        rows = decided if arena == ALL else decided[decided["arena"] == arena]
        for outcome, share in SHARES.items():
            data = rows[rows[outcome].notna()].assign(y=lambda f, o=outcome: 100 * f[o])
            if data.empty or data["y"].nunique() < 2 or data["treated"].nunique() < 2:
                continue
            result = did(
                data,
                "y",
                "municipality_code",
                "after",
                "treated",
                inference=("crv1", "permutation"),
                n_draws=n_permutations,
                seed=seed,
                level=level,
            )
            tidy = result.tidy()
            frames.append(
                tidy.assign(
                    arena=arena,
                    estimand=f"att_{share}",
                    n_proposals=len(data),
                    n_pilots=int(data.loc[data["role"] == "pilot", "municipality_code"].nunique()),
                    n_controls=int(data.loc[data["role"] == "control", "municipality_code"].nunique()),
                )
            )
    columns = ["arena", "estimand", "inference", "estimate", "std_error", "conf_low", "conf_high", "p_value"]
    columns += ["n_proposals", "n_pilots", "n_controls"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)
