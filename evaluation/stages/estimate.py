"""Stage ``estimate``: design-based estimates of every outcome by every group, area type and wave."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from evaluation.estimation.disclosure import disclosure_control
from evaluation.estimation.domains import ESTIMATE_COLUMNS, domain_estimates, survey_design
from evaluation.estimation.gaps import published_adjusted_gaps, published_gaps
from evaluation.outputs import write_csv
from evaluation.survey.collapse import raking_columns
from evaluation.variables import load_variables


def estimate(survey_path: Path, areas_path: Path, out_path: Path, config_settings: dict[str, Any]) -> None:
    """Run the stage: write the disclosure-checked estimates table, and next to it the group gaps (``gaps.csv``)
    and the gaps adjusted for the other group variables (``adjusted_gaps.csv``)."""
    variables = load_variables(Path(config_settings["variables"]))
    estimation = config_settings["estimation"]
    weighting = config_settings["weighting"]
    survey = pd.read_parquet(survey_path)
    raking = raking_columns(weighting["margins"], survey.columns) if weighting["method"] == "rake" else []
    design = survey_design(
        survey,
        pd.read_parquet(areas_path),
        estimation["lonely_psu"],
        raking,
        config_settings["design"]["treated_unit"],
        config_settings["replicates"],
    )
    table = domain_estimates(design, variables.outcomes, estimation["group_variables"], estimation["level"])
    table = disclosure_control(table, config_settings["disclosure"]["min_n"])
    write_csv(table[ESTIMATE_COLUMNS].sort_values(ESTIMATE_COLUMNS[:8]), Path(out_path))
    write_csv(published_gaps(design, variables, table, estimation["level"]), Path(out_path).with_name("gaps.csv"))
    adjusted = published_adjusted_gaps(design, variables, estimation["group_variables"], table, estimation["level"])
    write_csv(adjusted, Path(out_path).with_name("adjusted_gaps.csv"))
