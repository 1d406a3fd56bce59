"""Adjusted gaps (one svyglm per domain) against R survey on the raked two-wave panel.

Reference: reference/make_adjusted_gaps.R (svyglm on subset(raked, wave & area & the two groups)).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from evaluation.estimation.domains import survey_design
from evaluation.survey import SurveyDesign
from evaluation.survey.margins import rake_wave
from tests.shared import TESTS
from tests.stages.test_weight_estimate import AREAS

REFERENCE = TESTS / "survey" / "reference"
DIMENSIONS = [["municipality_code"], ["gender"], ["education"]]


@pytest.fixture(scope="module")
def raked() -> SurveyDesign:
    """The panel raked wave by wave as R's rake(), with area (0101 pilot) and a binary outcome."""
    data = pd.read_csv(REFERENCE / "raked_panel.csv", dtype={"municipality_code": str, "respondent_id": str})
    data = data.assign(stratum=data["municipality_code"], psu=data["respondent_id"])
    totals = pd.read_csv(REFERENCE / "raked_panel_margins.csv", dtype={"category": str})
    weights = np.empty(len(data))
    for wave, rows in data.groupby("wave"):
        this_wave = totals[totals["wave"] == wave]
        margins = [
            this_wave[this_wave["variable"] == d[0]].set_index("category")["population"].rename_axis(d[0])
            for d in DIMENSIONS
        ]
        weights[rows.index] = rake_wave(rows, margins, epsilon=1e-13, max_iter=500)
    data = data.assign(
        weight=weights,
        area=np.where(data["municipality_code"] == "0101", "pilot", "control"),
        y_binary=(data["y"] > 6).astype(float),
    )
    return survey_design(data, AREAS, "adjust", DIMENSIONS)


def test_adjusted_gaps_match_r_svyglm(raked):
    reference = pd.read_csv(REFERENCE / "adjusted_gaps_reference.csv")
    checked = 0
    for (variable, a, b, covariates, outcome, area), expected in reference.groupby(
        ["group_variable", "group_a", "group_b", "covariates", "outcome", "area"]
    ):
        by = ["wave", "all" if area == "all" else "area"]
        ours = raked.adjusted_differences(outcome, by, variable, a, b, covariates.split("+"))
        ours = ours[ours[by[1]] == area].set_index("wave").loc[expected["wave"]]
        assert_allclose(ours["estimate"], expected["estimate"], rtol=1e-9, err_msg=f"{variable} {outcome} {area}")
        assert_allclose(ours["se"], expected["se"], rtol=1e-9, err_msg=f"{variable} {outcome} {area}")
        assert (ours["df"].to_numpy() == expected["df"].to_numpy()).all(), expected["command"].iloc[0]
        checked += len(expected)
    assert checked == len(reference) == 24


def test_without_covariates_it_is_the_raw_gap(raked):
    """No covariates: the regression coefficient is the difference of the two domain means, with its SE."""
    adjusted = raked.adjusted_differences("y", ["wave"], "education", "higher", "compulsory", [])
    raw = raked.mean_differences("y", ["wave"], "education", "higher", "compulsory")
    assert_allclose(adjusted["estimate"], raw["estimate"], rtol=1e-12)
    assert_allclose(adjusted["se"], raw["se"], rtol=1e-10)


def test_a_gap_the_covariates_determine_is_not_estimated(raked):
    """When the group is a function of a covariate in the domain, there is no adjusted gap (NaN), not a number."""
    data = raked.data.assign(copy_of_gender=raked.data["gender"])
    design = SurveyDesign(data, "weight", strata="stratum", psu="psu", nest=True, lonely_psu="adjust")
    out = design.adjusted_differences("y", ["wave"], "gender", "female", "male", ["copy_of_gender"])
    assert out["estimate"].isna().all() and out["se"].isna().all()
