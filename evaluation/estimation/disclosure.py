"""Disclosure control: no published estimate rests on fewer than ``min_n`` respondents,
and no suppressed estimate can be derived from published ones by subtraction.

Primary suppression blanks every cell whose unweighted ``n`` is below ``min_n``.
Secondary (complementary) suppression then protects those cells against
differencing. The estimates table holds totals and the parts they are made of
(:data:`ESTIMATE_MARGINS`):

- a domain for all respondents (``group_variable = all``) and one domain per
  category of each group variable;
- the whole sample (``area_type = all``) and its pilot and control parts;
- all pilots (``area_type = pilot``) and each pilot municipality.

Rule: when the total of such a margin is published and exactly one of its parts
is suppressed, the published part with the smallest ``n`` is suppressed too (the
total itself when no other part is published). Only sums of two or more hidden
parts can then be derived. The rule is applied to every margin until nothing
changes, since one suppression can create a single hidden part in another margin.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

SUPPRESSED_VALUES = ["estimate", "se", "ci_low", "ci_high", "deff"]
ALL = "all"


@dataclass(frozen=True)
class Margin:
    """A published total and the parts that add up to it.

    Attributes
    ----------
    name : str
        Short description, for messages.
    keys : tuple of str
        Columns that are equal for a total and its parts.
    is_total, is_part : callable
        Boolean masks of the table's total rows and part rows.
    split_by : tuple of str
        Further columns that split the parts into separate sets, each adding up
        to the total on its own (e.g. each group variable).
    """

    name: str
    keys: tuple[str, ...]
    is_total: Callable[[pd.DataFrame], pd.Series]
    is_part: Callable[[pd.DataFrame], pd.Series]
    split_by: tuple[str, ...] = ()


ESTIMATE_MARGINS: tuple[Margin, ...] = (
    Margin(
        "group categories",
        ("outcome", "area_type", "municipality_code", "wave"),
        lambda t: t["group_variable"] == ALL,
        lambda t: t["group_variable"] != ALL,
        split_by=("group_variable",),
    ),
    Margin(
        "pilot and control",
        ("outcome", "group_variable", "group", "wave"),
        lambda t: (t["area_type"] == ALL) & (t["municipality_code"] == ALL),
        lambda t: t["area_type"].isin(["pilot", "control"]) & (t["municipality_code"] == ALL),
    ),
    Margin(
        "pilot municipalities",
        ("outcome", "group_variable", "group", "wave"),
        lambda t: (t["area_type"] == "pilot") & (t["municipality_code"] == ALL),
        lambda t: t["area_type"] == "municipality",
    ),
)
"""The margins of ``results/estimates.csv`` (see :func:`evaluation.estimation.domains.domain_estimates`)."""


def suppress_small_cells(table: pd.DataFrame, min_n: int, n_column: str = "n") -> pd.DataFrame:
    """Blank the figures of every row whose unweighted ``n`` is below ``min_n`` (primary suppression).

    The row stays (so a report can show that a cell exists but is suppressed),
    with ``suppressed = True``, its figures set to NaN and its exact n hidden.
    """
    result = table.copy()
    return _blank(result.assign(suppressed=False), result[n_column] < min_n, n_column)


def suppress_complements(table: pd.DataFrame, margins: Sequence[Margin], n_column: str = "n") -> pd.DataFrame:
    """Secondary suppression: no margin with a published total has exactly one hidden part.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`suppress_small_cells` (``suppressed`` column, hidden ``n``).
    margins : sequence of Margin
        Totals and their parts, e.g. :data:`ESTIMATE_MARGINS`.
    n_column : str
        Unweighted number of respondents.

    Returns
    -------
    DataFrame
        A copy in which, for each margin whose total is published and exactly one
        part is suppressed, the published part with the smallest ``n`` (or, with
        no published part left, the total) is suppressed as well, repeated until
        no margin changes.
    """
    result = table.copy()
    changed = True
    while changed:
        changed = False
        for margin in margins:
            extra = _complements(result, margin, n_column)
            if extra.any():
                result = _blank(result, pd.Series(extra, index=result.index), n_column)
                changed = True
    return result


def disclosure_control(table: pd.DataFrame, min_n: int, margins: Sequence[Margin] = ESTIMATE_MARGINS) -> pd.DataFrame:
    """Primary then secondary suppression of an estimates table (see the module docstring)."""
    return suppress_complements(suppress_small_cells(table, min_n), margins)


def _blank(table: pd.DataFrame, rows: pd.Series, n_column: str) -> pd.DataFrame:
    table["suppressed"] = table["suppressed"] | rows
    for column in SUPPRESSED_VALUES:
        if column in table:
            table.loc[rows, column] = np.nan
    table[n_column] = table[n_column].astype("Int64").mask(rows)
    return table


def _complements(table: pd.DataFrame, margin: Margin, n_column: str) -> np.ndarray:
    """Positions of rows to suppress so that no published total of ``margin`` has exactly one hidden part."""
    keys, part_keys = list(margin.keys), [*margin.keys, *margin.split_by]
    rows = table.assign(_position=np.arange(len(table)))
    totals = rows[margin.is_total(table)]
    parts = rows[margin.is_part(table)].merge(totals.loc[~totals["suppressed"], keys], on=keys)
    hidden = parts.groupby(part_keys, dropna=False)["suppressed"].transform("sum")
    exposed = parts[hidden == 1]
    extra = np.zeros(len(table), dtype=bool)
    published = exposed[~exposed["suppressed"]]
    extra[published.loc[published.groupby(part_keys, dropna=False)[n_column].idxmin(), "_position"]] = True
    alone = exposed[exposed.groupby(part_keys, dropna=False)["suppressed"].transform("all")]
    extra[totals.merge(alone[keys].drop_duplicates(), on=keys)["_position"]] = True
    return extra


def suppress_contrasts(contrasts: pd.DataFrame, estimates: pd.DataFrame) -> pd.DataFrame:
    """Blank each contrast ``group_a - group_b`` whose group estimates are not both published.

    Publishing a difference next to one of its two terms reveals the other, so a
    contrast is published only when ``estimates`` (after :func:`disclosure_control`)
    publishes both. ``n`` is the sum of the two groups' respondents.

    Parameters
    ----------
    contrasts : DataFrame
        ``outcome``, ``group_variable``, ``group_a``, ``group_b``, ``area_type``, ``wave``
        and the figures of :data:`SUPPRESSED_VALUES`.
    estimates : DataFrame
        Disclosure-checked estimates with ``suppressed`` and ``n`` (the
        ``municipality_code = all`` rows are used).
    """
    keys = ["outcome", "group_variable", "area_type", "wave"]
    cells = estimates[estimates["municipality_code"] == ALL][[*keys, "group", "n", "suppressed"]]
    result = contrasts.copy()
    for side in ("a", "b"):
        side_cells = cells.rename(
            columns={"group": f"group_{side}", "n": f"n_{side}", "suppressed": f"suppressed_{side}"}
        )
        result = result.merge(side_cells, on=[*keys, f"group_{side}"], how="left")
    hidden = result["suppressed_a"].fillna(True).astype(bool) | result["suppressed_b"].fillna(True).astype(bool)
    result["n"] = (result["n_a"] + result["n_b"]).astype("Int64")
    result["suppressed"] = False
    return _blank(result, hidden, "n").drop(columns=["n_a", "n_b", "suppressed_a", "suppressed_b"])
