"""Stage ``weight``: rake each wave's design weights to the population margins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from evaluation.errors import ConfigError
from evaluation.outputs import write_csv, write_parquet
from evaluation.survey import weight_summary
from evaluation.survey.collapse import COLUMN, cell_labels, collapse_small_cells
from evaluation.survey.margins import population_margins, rake_wave


def weight(
    survey_path: Path, margins_path: Path | None, out_path: Path, summary_path: Path, config_settings: dict[str, Any]
) -> None:
    """Run the stage: add the column ``weight`` to the survey and write a weighting summary per wave.

    ``margins_path`` is needed only for ``weighting.method: rake``; otherwise the weights are the design weights.
    Raking cells below ``weighting.collapse_below`` respondents are merged first
    (:mod:`evaluation.survey.collapse`); the summary's ``collapsed_cells`` lists the
    merges of each wave, and the survey keeps the merged cells (``raking_cell_<k>``).
    """
    survey = pd.read_parquet(survey_path)
    weighting = config_settings["weighting"]
    survey["weight"] = survey["design_weight"].astype(float)
    merges: dict[int, list[str]] = {}
    if weighting["method"] == "rake":
        if margins_path is None:
            raise ConfigError("weighting.method is rake, but no margins file is given (sources.margins)")
        bounds = tuple(weighting["trim"]) if weighting["trim"] else None
        margins = population_margins(pd.read_csv(margins_path, dtype={"municipality_code": str}), weighting["margins"])
        cells: dict[str, pd.Series] = {}
        for wave, rows in survey.groupby("wave").groups.items():
            collapsed = collapse_small_cells(survey.loc[rows], margins, weighting["collapse_below"])
            merges[wave] = collapsed.merges
            for k, margin in enumerate(margins):
                name = COLUMN.format(k=k)
                if name in collapsed.columns:
                    cells.setdefault(name, cell_labels(survey, list(margin.index.names))).loc[rows] = collapsed.columns[
                        name
                    ]
            survey.loc[rows, "weight"] = rake_wave(
                survey.loc[rows].assign(**collapsed.columns),
                collapsed.margins,
                epsilon=weighting["epsilon"],
                max_iter=weighting["max_iter"],
                bounds=bounds,
            )
        survey = survey.assign(**cells)  # the raked cells of collapsed margins, for calibration-aware variances
    summary = pd.DataFrame(
        [
            {
                "wave": wave,
                **weight_summary(rows["weight"].to_numpy()),
                "collapsed_cells": "; ".join(merges.get(wave, [])),
            }
            for wave, rows in survey.groupby("wave")
        ]
    )
    write_parquet(survey, Path(out_path))
    write_csv(summary, Path(summary_path))
