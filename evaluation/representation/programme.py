"""The representation tables of a programme: who takes part in each arena, before and after the pilots start.

Participants are counted per arena, municipality and period (before, and
from the calendar year of the pilot start; :func:`evaluation.units.municipal_periods`). Besides each
municipality, the pilots and the controls are pooled (``municipality_code``
``all``), against their municipalities' populations weighted by their
participants (:func:`pooled_population`).

Tables:

- ``representation``: per cell (arena, municipality, role, period) and group
  category the participants' share, the population share and the
  representation ratio with its exact interval (:mod:`.ratios`), under
  disclosure control (:func:`.ratios.suppress`);
- ``representation_change``: per arena, municipality, role and group variable
  the dissimilarity index before and after and its change with a bootstrap
  interval (:mod:`.change`); withheld where a period has fewer than ``min_n``
  participants.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.errors import InputFileError
from evaluation.representation.change import dissimilarity_difference
from evaluation.representation.population import population_shares
from evaluation.representation.ratios import dissimilarity, representation_table, suppress
from evaluation.units import municipal_periods

ALL = "all"
CELL = ["arena", "municipality_code", "role", "period"]
PERIODS = ("before", "after")
CHANGE_COLUMNS = [
    "arena",
    "municipality_code",
    "role",
    "group_variable",
    "n_before",
    "n_after",
    "dissimilarity_before",
    "dissimilarity_after",
    "change",
    "ci_low",
    "ci_high",
    "suppressed",
]


def participant_counts(participants: pd.DataFrame, group_variables: list[str]) -> pd.DataFrame:
    """Participants per cell and category of each group variable (known values only), municipalities and pooled.

    A ``count`` column gives the participants of an aggregated row (default one per row).
    """
    weight = participants["count"] if "count" in participants else pd.Series(1, index=participants.index)
    if (weight < 1).any() or (weight % 1 != 0).any():
        row = participants.index[(weight < 1) | (weight % 1 != 0)][0]
        where = (
            f"{participants.loc[row, 'source_file']} row {participants.loc[row, 'source_row']}"
            if "source_row" in participants
            else f"row {row + 1}"
        )
        raise InputFileError(f"participants: count {float(weight[row]):g} in {where} is not a whole number >= 1")
    frames = []
    for variable in group_variables:
        known = participants[variable].notna()
        rows = participants[known].assign(count=weight[known], group=participants.loc[known, variable].astype(str))
        counts = rows.groupby([*CELL, "group"], as_index=False)["count"].sum()
        pooled = rows.assign(municipality_code=ALL).groupby([*CELL, "group"], as_index=False)["count"].sum()
        frames.append(pd.concat([counts, pooled], ignore_index=True).assign(group_variable=variable))
    return pd.concat(frames, ignore_index=True)


def pooled_population(shares: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    """The population each pooled cell is compared with: its municipalities' shares weighted by their participants.

    A pooled cell (pilots or controls of one arena and period) holds participants
    of several municipalities of different sizes; it matches "the population"
    when each municipality's participants match its own population, so its
    reference shares are ``sum_m n_m q_m / sum_m n_m`` over the cell's
    municipalities ``m`` with ``n_m`` participants (of a known value).

    Parameters
    ----------
    shares : DataFrame
        :func:`population_shares` of one group variable.
    counts : DataFrame
        The municipalities' participant counts of that variable (cells of :data:`CELL`).

    Returns
    -------
    DataFrame
        Rows of ``shares`` keyed by a pooled cell's key (``all:<arena>:<role>:<period>``) in ``municipality_code``.
    """
    sizes = counts.groupby(CELL, as_index=False)["count"].sum()
    weighted = sizes.merge(shares, on="municipality_code")
    weighted["weighted"] = weighted["count"] * weighted["population_share"]
    pooled = weighted.groupby(["arena", "role", "period", "group_variable", "group"], as_index=False).agg(
        population=("population", "sum"), weighted=("weighted", "sum")
    )
    pooled["population_share"] = pooled["weighted"] / pooled.groupby(["arena", "role", "period"])["weighted"].transform(
        "sum"
    )
    pooled["municipality_code"] = _pooled_key(pooled)
    return pooled[["municipality_code", "group_variable", "group", "population", "population_share"]]


def _pooled_key(frame: pd.DataFrame) -> pd.Series:
    return ALL + ":" + frame["arena"] + ":" + frame["role"] + ":" + frame["period"]


def representation_tables(
    participants: pd.DataFrame,
    margins: pd.DataFrame,
    areas: pd.DataFrame,
    group_variables: list[str],
    *,
    min_n: int,
    level: float,
    rng: np.random.Generator,
    reps: int = 2000,
) -> dict[str, pd.DataFrame]:
    """The ``representation`` and ``representation_change`` tables (see the module docstring).

    Parameters
    ----------
    participants : DataFrame
        Validated participants: ``arena``, ``municipality_code``, ``participation_date``,
        group variables, optionally ``count``.
    margins : DataFrame
        The population margins file (``municipality_code``, group columns, ``population``).
    areas : DataFrame
        The validated area register (``municipality_code``, ``role``, ``pilot_start``).
    group_variables : list of str
        Group variables that both the participants and the margins have.
    min_n, level : int, float
        Disclosure threshold and interval coverage.
    rng : numpy.random.Generator
        Seeded generator for the bootstrap intervals of the change.
    """
    counts = participant_counts(
        municipal_periods(participants, areas, "participation_date", "participants"), group_variables
    )
    margins = margins.assign(municipality_code=margins["municipality_code"].astype(str))
    tables = []
    for variable in group_variables:
        rows = counts[counts["group_variable"] == variable]
        own = rows["municipality_code"] != ALL
        shares = population_shares(margins, variable)
        population = pd.concat([shares, pooled_population(shares, rows[own])], ignore_index=True)
        rows = rows.assign(municipality_code=rows["municipality_code"].where(own, _pooled_key(rows)))
        table = representation_table(rows, population, CELL, level)
        table["municipality_code"] = table["municipality_code"].str.replace(r"^all:.*", ALL, regex=True)
        tables.append(table)
    table = pd.concat(tables, ignore_index=True)
    change = _changes(table, rng, reps, level, min_n)
    published = suppress(table, CELL, min_n)
    columns = [*CELL, "group_variable", "group", "count", "n", "participant_share", "population_share"]
    published = published[[*columns, "ratio", "ratio_low", "ratio_high", "suppressed"]]
    return {
        "representation": published.sort_values(
            [*CELL[:3], "group_variable", "period", "group"], kind="stable"
        ).reset_index(drop=True),
        "representation_change": change,
    }


def _changes(table: pd.DataFrame, rng: np.random.Generator, reps: int, level: float, min_n: int) -> pd.DataFrame:
    """Dissimilarity before and after, and its change with a bootstrap interval, per arena, municipality, variable."""
    index = dissimilarity(table, CELL).set_index([*CELL, "group_variable"])
    rows = []
    for (arena, code, role, variable), cells in table.groupby(["arena", "municipality_code", "role", "group_variable"]):
        by_period = {period: cells[cells["period"] == period].sort_values("group") for period in PERIODS}
        if any(frame.empty for frame in by_period.values()):
            continue
        before, after = by_period["before"], by_period["after"]
        n_before, n_after = int(before["n"].iloc[0]), int(after["n"].iloc[0])
        estimate, low, high = dissimilarity_difference(
            before["count"].to_numpy(),
            before["population_share"].to_numpy(),
            after["count"].to_numpy(),
            after["population_share"].to_numpy(),
            rng,
            reps=reps,
            level=level,
        )
        hidden = min(n_before, n_after) < min_n
        rows.append(
            {
                "arena": arena,
                "municipality_code": code,
                "role": role,
                "group_variable": variable,
                "n_before": n_before,
                "n_after": n_after,
                "dissimilarity_before": index.loc[(arena, code, role, "before", variable), "dissimilarity"],
                "dissimilarity_after": index.loc[(arena, code, role, "after", variable), "dissimilarity"],
                "change": estimate,
                "ci_low": low,
                "ci_high": high,
                "suppressed": hidden,
            }
        )
    change = pd.DataFrame(rows, columns=CHANGE_COLUMNS)
    values = ["dissimilarity_before", "dissimilarity_after", "change", "ci_low", "ci_high"]
    change[values] = change[values].astype(float).mask(change["suppressed"])
    return change
