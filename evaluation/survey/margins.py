"""Raking margins: population totals from a long margins file, per-wave raking and calibration codes.

Respondents with a missing value on a raking variable keep their design weight
times the mean raking factor of their wave (they are not dropped).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.errors import ConfigError
from evaluation.survey.design import SurveyDesign
from evaluation.survey.weighting import rake


def population_margins(margins: pd.DataFrame, dimensions: list[list[str]]) -> list[pd.Series]:
    """Population totals for each raking dimension, summed from the long margins file.

    Parameters
    ----------
    margins
        Long table with a ``margin`` column, category columns and ``population``.
    dimensions
        The raking margins, each a list of column names (e.g. ``["gender", "age_group"]``).
        A dimension is summed from the first margin table that has all its columns.
    """
    result = []
    for dims in dimensions:
        source = None
        for _, table in margins.groupby("margin", sort=True):
            if table[dims].notna().all().all():
                source = table
                break
        if source is None:
            raise ConfigError(f"weighting margin {dims}: no margin in the population file has all of these columns")
        totals = source.groupby(dims)["population"].sum()
        totals.index = totals.index.set_names(dims)
        result.append(totals.astype(float))
    return result


def calibration_margins(survey: pd.DataFrame, dimensions: list[list[str]]) -> list[tuple[np.ndarray, int]]:
    """The category of every row in each raking margin, per wave, for calibration-aware variances.

    Each wave is raked to its own margins, so a category is (wave, margin cell).
    Rows missing a raking variable were not raked (see :func:`rake_wave`): code
    ``-1`` in every margin.
    """
    columns = sorted({name for dims in dimensions for name in dims})
    complete = survey[columns].notna().all(axis=1).to_numpy()
    margins = []
    for dims in dimensions:
        codes = np.full(len(survey), -1, dtype=np.int64)
        cell, cells = pd.factorize(
            pd.MultiIndex.from_frame(survey.loc[complete, ["wave", *dims]].astype(str)), sort=True
        )
        codes[complete] = cell
        margins.append((codes, len(cells)))
    return margins


def rake_wave(
    wave_data: pd.DataFrame,
    margins: list[pd.Series],
    *,
    epsilon: float = 1e-7,
    max_iter: int = 50,
    bounds: tuple[float, float] | None = None,
) -> np.ndarray:
    """Raked weights for one wave (design weights scaled for incomplete rows).

    ``epsilon``, ``max_iter`` and ``bounds`` (on adjusted / design weight) are
    those of :func:`evaluation.survey.rake`.
    """
    dims = sorted({name for m in margins for name in m.index.names})
    complete = wave_data[dims].notna().all(axis=1).to_numpy()
    design = SurveyDesign(wave_data[complete], weights="design_weight")
    raked = rake(design, margins, epsilon=epsilon, max_iter=max_iter, bounds=bounds)
    weights = wave_data["design_weight"].to_numpy(dtype=float).copy()
    factors = raked.weights / weights[complete]
    weights[complete] = raked.weights
    weights[~complete] *= factors.mean()
    return weights
