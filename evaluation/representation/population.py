"""Population shares per municipality and group variable, from the population margins file."""

from __future__ import annotations

import pandas as pd

from evaluation.errors import InputFileError


def population_shares(margins: pd.DataFrame, group_variable: str, source: str = "margins") -> pd.DataFrame:
    """Share of each category of ``group_variable`` in each municipality's population.

    Parameters
    ----------
    margins : DataFrame
        The margins file as the weight stage reads it: ``municipality_code``,
        one column per group variable (empty where a row does not split by it)
        and ``population`` (persons). A variable that appears in several
        margins (e.g. ``age_group`` only in ``gender_age``) is summed over the
        rows that carry it, so the other variables of that margin add up.
    group_variable : str
        Column to take the shares of.
    source : str
        File name, for messages.

    Returns
    -------
    DataFrame
        ``municipality_code``, ``group_variable``, ``group``, ``population`` and
        ``population_share`` (summing to 1 within each municipality).
    """
    if group_variable not in margins.columns:
        raise InputFileError(f"{source}: no column `{group_variable}`; the margins have {list(margins.columns)}")
    rows = margins[margins[group_variable].notna() & (margins[group_variable].astype(str) != "")]
    if "margin" in rows:
        # one margin is enough: every margin that carries the variable has the same totals
        rows = rows[rows["margin"] == rows["margin"].iloc[0]] if len(rows) else rows
    if rows.empty:
        raise InputFileError(f"{source}: no rows give population counts by `{group_variable}`")
    totals = rows.groupby(["municipality_code", group_variable], as_index=False)["population"].sum()
    totals = totals.rename(columns={group_variable: "group"}).assign(group_variable=group_variable)
    totals["population_share"] = totals["population"] / totals.groupby("municipality_code")["population"].transform(
        "sum"
    )
    return totals[["municipality_code", "group_variable", "group", "population", "population_share"]]
