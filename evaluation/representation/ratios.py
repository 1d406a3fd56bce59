"""Participant shares against population shares: representation ratios and dissimilarity.

Estimands, per cell (arena x municipality x period) and group variable:

- participant share ``p_i = x_i / n`` of category ``i`` (``x_i`` participants of
  ``n`` with a known value), with an exact Clopper-Pearson interval;
- population share ``q_i`` from the population margins, taken as known (a
  register count, no sampling error);
- representation ratio ``p_i / q_i``; its interval is the Clopper-Pearson
  interval of ``p_i`` divided by ``q_i`` (exact because ``q_i`` is fixed);
- dissimilarity index ``D = 1/2 sum_i |p_i - q_i|``. For shares, ``D`` is also
  the smallest share of participants one would have to replace (move to other
  categories) to make their composition match the population's, so one number
  answers both questions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation import distributions
from evaluation.errors import InputFileError


def clopper_pearson(successes: np.ndarray, trials: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Clopper-Pearson) interval of a binomial proportion, as R ``binom.test``.

    Parameters
    ----------
    successes, trials : array of int
        Counts; ``0 <= successes <= trials``, ``trials > 0``.
    level : float
        Coverage, e.g. 0.95.

    Returns
    -------
    (low, high) : arrays of float
        Bounds of the proportion; 0 when ``successes == 0``, 1 when ``successes == trials``.
    """
    x, n = np.asarray(successes, dtype=float), np.asarray(trials, dtype=float)
    alpha = 1.0 - level
    with np.errstate(invalid="ignore"):
        low = np.where(x == 0, 0.0, distributions.beta_quantile(alpha / 2, x, n - x + 1))
        high = np.where(x == n, 1.0, distributions.beta_quantile(1 - alpha / 2, x + 1, n - x))
    return low, high


def representation_table(
    counts: pd.DataFrame, population: pd.DataFrame, keys: list[str], level: float = 0.95
) -> pd.DataFrame:
    """Representation ratios of each category within each cell.

    Parameters
    ----------
    counts : DataFrame
        Columns ``keys``, ``group_variable``, ``group`` and ``count`` (participants).
    population : DataFrame
        Columns ``municipality_code``, ``group_variable``, ``group`` and
        ``population_share`` (summing to 1 within municipality and group variable).
    keys : list of str
        Columns of a cell, including ``municipality_code``.
    level : float
        Coverage of the intervals.

    Returns
    -------
    DataFrame
        One row per cell and category with ``count``, ``n``, ``participant_share``,
        ``population_share``, ``ratio``, ``ratio_low`` and ``ratio_high``.
    """
    cell = [*keys, "group_variable"]
    unknown = counts.merge(population, on=["municipality_code", "group_variable", "group"], how="left", indicator=True)
    if (unknown["_merge"] == "left_only").any():
        row = unknown[unknown["_merge"] == "left_only"].iloc[0]
        raise InputFileError(
            f"participants: category `{row['group']}` of `{row['group_variable']}` in municipality "
            f"{row['municipality_code']} has no population margin"
        )
    # every category of the population, with 0 where no participant has it
    grid = counts[cell].drop_duplicates().merge(population, on=["municipality_code", "group_variable"])
    table = grid.merge(counts, on=[*cell, "group"], how="left")
    table["count"] = table["count"].fillna(0).astype(int)
    table["n"] = table.groupby(cell)["count"].transform("sum")
    table["participant_share"] = table["count"] / table["n"]
    low, high = clopper_pearson(table["count"].to_numpy(), table["n"].to_numpy(), level)
    table["ratio"] = table["participant_share"] / table["population_share"]
    table["ratio_low"] = low / table["population_share"]
    table["ratio_high"] = high / table["population_share"]
    return table.reset_index(drop=True)


def dissimilarity(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Dissimilarity index ``1/2 sum |p_i - q_i|`` per cell and group variable (also the share to replace)."""
    cell = [*keys, "group_variable"]
    gap = (table["participant_share"] - table["population_share"]).abs()
    result = table.assign(_gap=gap).groupby(cell, dropna=False).agg(n=("n", "first"), dissimilarity=("_gap", "sum"))
    result["dissimilarity"] = result["dissimilarity"] / 2
    return result.reset_index()


def suppress(table: pd.DataFrame, keys: list[str], min_n: int) -> pd.DataFrame:
    """Blank categories with fewer than ``min_n`` participants, and protect them against differencing.

    The cell total ``n`` is published, so one hidden category (or hidden
    categories adding to fewer than ``min_n``) could be derived by subtraction;
    then the smallest published category of the cell is hidden too, repeated
    until nothing changes. A cell whose ``n`` is below ``min_n`` is hidden whole.
    """
    result = table.copy()
    result["suppressed"] = (result["count"] < min_n) | (result["n"] < min_n)
    cell = [*keys, "group_variable"]
    changed = True
    while changed:
        changed = False
        for _, rows in result.groupby(cell, dropna=False):
            hidden = rows[rows["suppressed"]]
            shown = rows[~rows["suppressed"]]
            if hidden.empty or shown.empty:
                continue
            if len(hidden) == 1 or hidden["count"].sum() < min_n:
                result.loc[shown["count"].idxmin(), "suppressed"] = True
                changed = True
    blank = ["count", "participant_share", "ratio", "ratio_low", "ratio_high"]
    result[blank] = result[blank].astype(float).mask(result["suppressed"])
    return result
