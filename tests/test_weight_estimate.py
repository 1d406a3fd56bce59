"""The weight and estimate stages: raking per wave, and calibration-aware variances of the estimates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from evaluation.estimation.domains import survey_design
from evaluation.survey import SurveyDesign, rake
from evaluation.survey.margins import calibration_margins, rake_wave

DIMENSIONS = [["municipality_code"], ["gender", "age_group"], ["education"]]
WEIGHTING = {"method": "rake", "margins": DIMENSIONS, "epsilon": 1e-10, "max_iter": 200}


def panel(n_waves: int, n: int = 1500, seed: int = 3) -> pd.DataFrame:
    """A stratified sample per wave (strata = municipality, PSU = respondent) with unequal design weights."""
    rng = np.random.default_rng(seed)
    frames = []
    for wave in range(1, n_waves + 1):
        muni = rng.choice(["0101", "0102", "0103", "0104"], n, p=[0.4, 0.3, 0.2, 0.1])
        education = rng.choice(["compulsory", "upper_secondary", "higher"], n, p=[0.3, 0.4, 0.3])
        frames.append(
            pd.DataFrame(
                {
                    "respondent_id": [f"r{wave}-{i}" for i in range(n)],
                    "wave": wave,
                    "municipality_code": muni,
                    "gender": rng.choice(["female", "male"], n),
                    "age_group": rng.choice(["18-34", "35-64", "65+"], n),
                    "education": education,
                    "design_weight": rng.uniform(50, 150, n),
                    "y": rng.normal(5, 2, n) + 1.5 * (education == "higher") + 0.8 * (muni == "0101"),
                }
            )
        )
    data = pd.concat(frames, ignore_index=True)
    data.loc[rng.random(len(data)) < 0.02, "education"] = None  # not raked: design weight times the mean factor
    return data.assign(stratum=data["municipality_code"], psu=data["respondent_id"])


def population(data: pd.DataFrame) -> list[pd.Series]:
    """Population totals that differ from the weighted sample's (so raking moves the weights)."""
    rng = np.random.default_rng(9)
    total = 1_000_000.0
    margins = []
    for dims in DIMENSIONS:
        cells = data.dropna(subset=dims).groupby(dims).size()
        share = cells / cells.sum() * rng.uniform(0.8, 1.2, len(cells))
        margins.append((share / share.sum() * total).rename("population"))
    return margins


AREAS = pd.DataFrame(
    {"municipality_code": ["0101", "0102", "0103", "0104"], "role": ["pilot", "control", "control", "control"]}
)


def weighted(data: pd.DataFrame) -> pd.DataFrame:
    margins = population(data)
    weights = np.concatenate(
        [
            rake_wave(rows, margins, epsilon=WEIGHTING["epsilon"], max_iter=WEIGHTING["max_iter"])
            for _, rows in data.groupby("wave")
        ]
    )
    return data.assign(weight=weights)


def test_raked_weights_hit_every_margin_in_every_wave():
    data = weighted(panel(3))
    complete = data[[c for dims in DIMENSIONS for c in dims]].notna().all(axis=1)
    for _, rows in data[complete].groupby("wave"):
        for dims, target in zip(DIMENSIONS, population(panel(3))):
            assert_allclose(rows.groupby(dims)["weight"].sum().reindex(target.index), target, rtol=1e-8)


def test_calibration_margins_are_per_wave_and_skip_rows_that_were_not_raked():
    data = panel(2)
    margins = calibration_margins(data, DIMENSIONS)
    incomplete = data["education"].isna().to_numpy()
    for (codes, size), dims in zip(margins, DIMENSIONS):
        assert (codes[incomplete] == -1).all() and (codes[~incomplete] >= 0).all()
        assert size == data.loc[~incomplete, ["wave", *dims]].drop_duplicates().shape[0]
        # one code per (wave, cell), never shared between waves
        pairs = pd.DataFrame({"code": codes[~incomplete], "wave": data.loc[~incomplete, "wave"].to_numpy()})
        assert (pairs.groupby("code")["wave"].nunique() == 1).all()


def test_estimate_variances_are_those_of_the_raked_design():
    """One wave: the stage's design gives the estimates and SEs of rake() (R-checked) on the design weights."""
    data = weighted(panel(1)).dropna(subset=["education"])
    stage = survey_design(data, AREAS, "adjust", DIMENSIONS)
    reference = rake(
        SurveyDesign(data, "design_weight", strata="stratum", psu="psu", nest=True, lonely_psu="adjust"),
        population(panel(1)),
        epsilon=1e-10,
        max_iter=200,
    )
    assert_allclose(stage.weights, reference.weights, rtol=1e-8)
    for by in (["wave"], ["wave", "gender"], ["wave", "education"], ["wave", "municipality_code"]):
        ours, theirs = stage.mean(["y"], by=by), reference.mean(["y"], by=by)
        assert_allclose(ours["estimate"], theirs["estimate"], rtol=1e-8)
        assert_allclose(ours["se"], theirs["se"], rtol=1e-6)


@pytest.mark.parametrize("n_waves", [1, 3])
def test_calibration_aware_ses_differ_from_fixed_weights(n_waves):
    """Raking on education and municipality, which predict y, lowers the SE of the overall mean in each wave."""
    data = weighted(panel(n_waves))
    calibrated = survey_design(data, AREAS, "adjust", DIMENSIONS).mean(["y"], by=["wave"])
    fixed = survey_design(data, AREAS, "adjust", []).mean(["y"], by=["wave"])
    assert_allclose(calibrated["estimate"], fixed["estimate"], rtol=1e-12)
    assert (calibrated["se"] < fixed["se"]).all()


REFERENCE = Path(__file__).parent / "survey" / "reference"


def test_two_wave_panel_matches_r_survey():
    """Panel over two waves, each raked to its own margins: weights, estimates and SEs of R survey
    (reference/make_raked_panel.R: rake() on wave x margin cells, svyby by wave x group)."""
    data = pd.read_csv(REFERENCE / "raked_panel.csv", dtype={"municipality_code": str, "respondent_id": str})
    data = data.assign(stratum=data["municipality_code"], psu=data["respondent_id"])
    totals = pd.read_csv(REFERENCE / "raked_panel_margins.csv", dtype={"category": str})
    dims = [["municipality_code"], ["gender"], ["education"]]
    weights = np.empty(len(data))
    for wave, rows in data.groupby("wave"):
        this_wave = totals[totals["wave"] == wave]
        margins = [
            this_wave[this_wave["variable"] == d[0]].set_index("category")["population"].rename_axis(d[0]) for d in dims
        ]
        weights[rows.index] = rake_wave(rows, margins, epsilon=1e-13, max_iter=500)
    r_weights = pd.read_csv(REFERENCE / "raked_panel_weights.csv").iloc[0]
    assert_allclose([weights.sum(), weights[0]], [r_weights["weight_sum"], r_weights["first_weight"]], rtol=1e-9)
    design = survey_design(data.assign(weight=weights), AREAS, "adjust", dims)
    reference = pd.read_csv(REFERENCE / "raked_panel_reference.csv", dtype={"group": str})
    for variable, expected in reference.groupby("group_variable"):
        by = ["wave"] if variable == "all" else ["wave", variable]
        ours = design.mean(["y"], by=by).rename(columns={variable: "group"})
        ours = ours.assign(group=ours["group"].astype(str) if variable != "all" else "all")
        merged = expected.merge(ours, on=["wave", "group"], suffixes=("_r", ""), validate="one_to_one")
        assert len(merged) == len(expected)
        assert_allclose(merged["estimate"], merged["estimate_r"], rtol=1e-9, err_msg=variable)
        assert_allclose(merged["se"], merged["se_r"], rtol=1e-9, err_msg=variable)
