"""Disclosure control: no published estimate rests on fewer than ``min_n`` respondents."""

from __future__ import annotations

import numpy as np
import pandas as pd

SUPPRESSED_VALUES = ["estimate", "se", "ci_low", "ci_high", "deff"]


def suppress_small_cells(table: pd.DataFrame, min_n: int, n_column: str = "n") -> pd.DataFrame:
    """Blank the figures of every row whose unweighted ``n`` is below ``min_n``.

    The row stays (so a report can show that a cell exists but is suppressed),
    with ``suppressed = True``, its figures set to NaN and its exact n hidden.
    """
    result = table.copy()
    small = result[n_column] < min_n
    result["suppressed"] = small
    for column in SUPPRESSED_VALUES:
        if column in result:
            result.loc[small, column] = np.nan
    result[n_column] = result[n_column].astype("Int64").mask(small)
    return result
