"""Domain estimates: design-based means of every outcome by every group, area type and wave.

One survey design spans all waves (strata = municipality, PSU = respondent,
nested), so panel respondents who answer several waves are one cluster and
contrasts between waves get the right covariance. Domains (wave × area type ×
group) are estimated on the full design, never by subsetting.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from evaluation.errors import EstimationError
from evaluation.progress import progress
from evaluation.sources.replicate_weights import replicate_columns
from evaluation.survey import ReplicateDesign, SurveyDesign
from evaluation.survey.margins import calibration_margins
from evaluation.units import survey_units, unit_register
from evaluation.variables import Outcome

ESTIMATE_COLUMNS = [
    "outcome",
    "family",
    "kind",
    "group_variable",
    "group",
    "area_type",
    "municipality_code",
    "wave",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "n",
    "deff",
    "suppressed",
]
ALL = "all"
log = logging.getLogger(__name__)


def survey_design(
    survey: pd.DataFrame,
    areas: pd.DataFrame,
    lonely_psu: str,
    raking: list[list[str]],
    treated_unit: str = "municipality",
    replicates: dict[str, Any] | None = None,
) -> SurveyDesign | ReplicateDesign:
    """The all-waves design with the area type (pilot/control) of each respondent's treated unit.

    ``pilot_municipality`` is the code of the respondent's pilot unit (a
    municipality, or a district or area code by ``treated_unit``; see
    :mod:`evaluation.units`), missing for controls: the per-pilot series
    of the estimates are keyed by it (column ``municipality_code``).

    With raking margins the design starts from the design weights and is
    calibrated to the final ``weight`` on each wave's margins, so variances are
    calibration-aware (residuals of the margins, as R ``rake``); otherwise the
    final weights are the design weights. With ``replicates`` (the survey codebook's
    ``design.replicate_weights``) the variances come from the survey's own replicate
    weights instead (R ``svrepdesign(repweights, scale, rscales, mse)``).

    Raises
    ------
    EstimationError
        When ``replicates`` is given but the survey has no replicate-weight columns.
    """
    units = survey_units(survey, areas, treated_unit)
    pilot = units.isin(unit_register(areas, treated_unit)["unit_code"])
    roles = pd.Series(np.where(pilot, "pilot", "control"), index=survey.index)
    pilot_municipality = units.where(pilot)
    data = survey.assign(area_type=roles, pilot_municipality=pilot_municipality, **{ALL: ALL})
    if replicates is not None:
        columns = replicate_columns(data)
        if not columns:
            raise EstimationError(
                "the survey codebook declares replicate weights, but the weighted survey has no "
                "replicate_weight_ columns: rerun ingest with that codebook"
            )
        rscales = np.asarray(replicates["rscales"], dtype=float) if "rscales" in replicates else None
        return ReplicateDesign(
            data, "weight", columns, scale=replicates["scale"], rscales=rscales, mse=replicates["mse"]
        )
    if not raking:
        return SurveyDesign(data, weights="weight", strata="stratum", psu="psu", nest=True, lonely_psu=lonely_psu)
    design = SurveyDesign(data, weights="design_weight", strata="stratum", psu="psu", nest=True, lonely_psu=lonely_psu)
    return design.calibrated(data["weight"].to_numpy(float), calibration_margins(data, raking))


def outcome_means(
    design: SurveyDesign | ReplicateDesign, outcomes: dict[str, Outcome], by: list[str], level: float
) -> pd.DataFrame:
    """Domain means of every outcome; binary items get logit intervals (as R ``svyciprop``).

    A t interval around a share near 0 or 1 can cross the bounds; the logit
    interval stays inside (0, 1).
    """
    scales = [name for name, spec in outcomes.items() if spec.kind != "binary"]
    frames = [design.mean(scales, by=by, level=level)] if scales else []
    for name in (name for name, spec in outcomes.items() if spec.kind == "binary"):
        shares = design.proportion(name, by=by, level=level, ci_method="logit", categories=[1])
        frames.append(shares[shares["category"] == 1].drop(columns=["category", "n_category"]).assign(variable=name))
    return pd.concat(frames, ignore_index=True)


def domain_estimates(
    design: SurveyDesign | ReplicateDesign, outcomes: dict[str, Outcome], group_variables: list[str], level: float
) -> pd.DataFrame:
    """Means of every outcome by wave × area type × group, plus series for each pilot municipality.

    Proportions (binary items) are reported in percent, scales in their own points.
    """
    frames = []
    for group_variable in progress([ALL, *group_variables], "estimate: group variable", log):
        for area in ("area_type", ALL):
            by = ["wave", area, group_variable]
            table = outcome_means(design, outcomes, by, level)
            frames.append(
                table.rename(columns={"variable": "outcome", area: "area_type", group_variable: "group"}).assign(
                    group_variable=group_variable, municipality_code=ALL, **({"area_type": ALL} if area == ALL else {})
                )
            )
        per_pilot = outcome_means(design, outcomes, ["wave", "pilot_municipality", group_variable], level)
        frames.append(
            per_pilot.rename(
                columns={"variable": "outcome", "pilot_municipality": "municipality_code", group_variable: "group"}
            ).assign(group_variable=group_variable, area_type="municipality")
        )
    table = pd.concat(frames, ignore_index=True)
    table["group"] = table["group"].astype(str)
    table["family"] = table["outcome"].map({k: v.family for k, v in outcomes.items()})
    table["kind"] = table["outcome"].map({k: v.kind for k, v in outcomes.items()})
    return _as_percent(table)


def _as_percent(table: pd.DataFrame) -> pd.DataFrame:
    binary = table["kind"] == "binary"
    for column in ("estimate", "se", "ci_low", "ci_high"):
        table.loc[binary, column] = table.loc[binary, column] * 100
    return table
