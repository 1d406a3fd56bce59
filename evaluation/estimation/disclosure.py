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

The parts need not add up to the total: respondents with a missing or unknown
group value are in the total but in no category. That *remainder* (the total's
n minus the sum of its parts' n) is a cell no table publishes, but anyone can
derive it, so it is treated as a hidden part.

Rule, for every margin whose total is published: what a reader can derive by
subtraction, the total minus its published parts (the hidden parts and the
remainder together), must be empty or rest on at least ``min_n`` respondents,
and a hidden part is never the only unknown (a positive remainder is one).
When either fails, the published part with the smallest ``n`` is suppressed too
(the total itself when no part is published). A remainder of at least
``min_n`` may be derived; it is never a row, so the parts hidden beside it are
protected in their other margins, where the rule hides a second part. The rule
is applied to every margin until nothing changes, since one suppression can
expose a part of another margin. The counts are the true ones, taken before the
primary suppression hides them.
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


def suppress_complements(
    table: pd.DataFrame, margins: Sequence[Margin], min_n: int, true_n: pd.Series, n_column: str = "n"
) -> pd.DataFrame:
    """Secondary suppression: nothing derivable by subtraction from a published total rests on too few respondents.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`suppress_small_cells` (``suppressed`` column, hidden ``n``).
    margins : sequence of Margin
        Totals and their parts, e.g. :data:`ESTIMATE_MARGINS`.
    min_n : int
        Smallest number of respondents a published or derivable cell may rest on.
    true_n : Series
        The unweighted counts before primary suppression, aligned with ``table``.
    n_column : str
        Unweighted number of respondents.

    Returns
    -------
    DataFrame
        A copy in which, for each margin whose total is published, the total
        minus its published parts is empty or rests on at least ``min_n``
        respondents, and no hidden part is the only unknown (see the module
        docstring); repeated until no margin changes.
    """
    result = table.assign(_true_n=true_n.to_numpy())
    changed = True
    while changed:
        changed = False
        for margin in margins:
            extra = _complements(result, margin, min_n)
            if extra.any():
                result = _blank(result, pd.Series(extra, index=result.index), n_column)
                changed = True
    return result.drop(columns="_true_n")


def disclosure_control(table: pd.DataFrame, min_n: int, margins: Sequence[Margin] = ESTIMATE_MARGINS) -> pd.DataFrame:
    """Primary then secondary suppression of an estimates table (see the module docstring)."""
    return suppress_complements(suppress_small_cells(table, min_n), margins, min_n, table["n"])


def remainders(table: pd.DataFrame, margin: Margin, n_column: str = "n") -> pd.DataFrame:
    """What subtraction reveals in ``margin``: each published total's n minus the n of its published parts.

    Parameters
    ----------
    table : DataFrame
        A disclosure-checked (published) table with ``suppressed`` and ``n``.
    margin : Margin
        The total and the parts that add up to it.

    Returns
    -------
    DataFrame
        One row per published total and set of parts (``margin.keys`` and
        ``margin.split_by``) with ``derivable_n``, the respondents in the hidden
        parts and the remainder together. A reader can compute it from the table.
    """
    keys, part_keys = list(margin.keys), [*margin.keys, *margin.split_by]
    totals = table[margin.is_total(table) & ~table["suppressed"]][[*keys, n_column]]
    parts = table[margin.is_part(table)].merge(totals.rename(columns={n_column: "_total_n"}), on=keys)
    published = parts[n_column].where(~parts["suppressed"].astype(bool), 0).astype(float)
    grouped = parts.assign(_published_n=published).groupby(part_keys, dropna=False)
    sums = grouped.agg(total_n=("_total_n", "first"), published_n=("_published_n", "sum")).reset_index()
    return sums.assign(derivable_n=sums["total_n"] - sums["published_n"])[[*part_keys, "derivable_n"]]


def _blank(table: pd.DataFrame, rows: pd.Series, n_column: str) -> pd.DataFrame:
    table["suppressed"] = table["suppressed"] | rows
    for column in SUPPRESSED_VALUES:
        if column in table:
            table.loc[rows, column] = np.nan
    table[n_column] = table[n_column].astype("Int64").mask(rows)
    return table


def _complements(table: pd.DataFrame, margin: Margin, min_n: int) -> np.ndarray:
    """Positions of rows to suppress so that no published total of ``margin`` exposes a cell (module docstring)."""
    keys, part_keys = list(margin.keys), [*margin.keys, *margin.split_by]
    rows = table.assign(_position=np.arange(len(table)))
    totals = rows[margin.is_total(table)]
    published_totals = totals.loc[~totals["suppressed"], [*keys, "_true_n"]].rename(columns={"_true_n": "_total_n"})
    parts = rows[margin.is_part(table)].merge(published_totals, on=keys)
    parts["_hidden_n"] = parts["_true_n"].where(parts["suppressed"], 0)
    grouped = parts.groupby(part_keys, dropna=False)
    hidden = grouped["suppressed"].transform("sum")
    remainder = parts["_total_n"] - grouped["_true_n"].transform("sum")
    derivable = grouped["_hidden_n"].transform("sum") + remainder
    exposed = parts[((hidden == 1) & (remainder == 0)) | ((derivable > 0) & (derivable < min_n))]
    extra = np.zeros(len(table), dtype=bool)
    published = exposed[~exposed["suppressed"]]
    extra[published.loc[published.groupby(part_keys, dropna=False)["_true_n"].idxmin(), "_position"]] = True
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
