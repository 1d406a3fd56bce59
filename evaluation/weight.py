"""Stage ``weight``: rake each wave's design weights to the population margins.

Respondents with a missing value on a raking variable keep their design weight
times the mean raking factor of their wave (they are not dropped).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluation.errors import ConfigError
from evaluation.survey import SurveyDesign, rake, weight_summary



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


def raking_dimensions(weighting: dict[str, Any]) -> list[list[str]]:
    """The configured raking margins (each a list of columns); none unless ``method`` is ``rake``."""
    return [list(dims) for dims in weighting["margins"]] if weighting["method"] == "rake" else []


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
        cell, cells = pd.factorize(pd.MultiIndex.from_frame(survey.loc[complete, ["wave", *dims]].astype(str)), sort=True)
        codes[complete] = cell
        margins.append((codes, len(cells)))
    return margins


def rake_wave(wave_data: pd.DataFrame, margins: list[pd.Series], weighting: dict[str, Any]) -> np.ndarray:
    """Raked weights for one wave (design weights scaled for incomplete rows)."""
    dims = sorted({name for m in margins for name in m.index.names})
    complete = wave_data[dims].notna().all(axis=1).to_numpy()
    design = SurveyDesign(wave_data[complete], weights="design_weight")
    trim = weighting.get("trim")
    raked = rake(design, margins, epsilon=weighting.get("epsilon", 1e-7), max_iter=weighting.get("max_iter", 50), bounds=tuple(trim) if trim else None)
    weights = wave_data["design_weight"].to_numpy(dtype=float).copy()
    factors = raked.weights / weights[complete]
    weights[complete] = raked.weights
    weights[~complete] *= factors.mean()
    return weights


def weight(survey_path: Path, margins_path: Path, out_path: Path, summary_path: Path, config_settings: dict[str, Any]) -> None:
    """Run the stage: add the column ``weight`` to the survey and write a weighting summary per wave."""
    survey = pd.read_parquet(survey_path)
    weighting = config_settings["weighting"]
    survey["weight"] = survey["design_weight"].astype(float)
    if weighting["method"] == "rake":
        margins = population_margins(pd.read_csv(margins_path, dtype={"municipality_code": str}), weighting["margins"])
        for _, rows in survey.groupby("wave").groups.items():
            survey.loc[rows, "weight"] = rake_wave(survey.loc[rows], margins, weighting)
    summary = pd.DataFrame(
        [{"wave": wave, **weight_summary(rows["weight"].to_numpy())} for wave, rows in survey.groupby("wave")]
    )
    for path in (out_path, summary_path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    survey.to_parquet(out_path, index=False)
    summary.to_csv(summary_path, index=False)
