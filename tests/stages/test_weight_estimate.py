"""The weight and estimate stages: raking per wave, and calibration-aware variances of the estimates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from shared import TESTS

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


REFERENCE = TESTS / "survey" / "reference"


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


# --------------------------------------------------------------------------- small raking cells


def margins_file(data: pd.DataFrame, folder: Path) -> Path:
    """The long margins file of :func:`population` (one ``margin`` per dimension)."""
    frames = [
        totals.reset_index().assign(margin="+".join(dims))
        for dims, totals in zip(DIMENSIONS, population(data), strict=True)
    ]
    path = folder / "margins.csv"
    pd.concat(frames, ignore_index=True).to_csv(path, index=False)
    return path


def test_an_empty_raking_cell_is_merged_with_its_neighbour_and_recorded(tmp_path):
    """A wave with no 65+ women: that cell joins 35-64 women, raking succeeds, and the summary says so."""
    from evaluation.stages.weight import weight
    from evaluation.survey.collapse import collapse_small_cells

    data = panel(2, n=800)
    margins_path = margins_file(data, tmp_path)
    data = data[~((data["wave"] == 2) & (data["gender"] == "female") & (data["age_group"] == "65+"))]
    wave = data[data["wave"] == 2]
    margins = population(panel(2, n=800))
    collapsed = collapse_small_cells(wave, margins, 5)
    complete = wave.dropna(subset=["municipality_code", "gender", "age_group", "education"])  # the rows raked
    n_women = int(((complete["gender"] == "female") & (complete["age_group"] == "35-64")).sum())
    assert collapsed.merges == [
        f"gender x age_group: female + 65+ (0 respondents) merged with female + 35-64 ({n_women})"
    ]
    merged = collapsed.margins[1]
    assert merged.name == margins[1].name and merged.index.name == "raking_cell_1"
    assert merged.sum() == pytest.approx(margins[1].sum())
    assert merged["female + 35-64 + female + 65+"] == pytest.approx(
        margins[1][("female", "35-64")] + margins[1][("female", "65+")]
    )
    assert collapsed.margins[0] is margins[0] and collapsed.margins[2] is margins[2]  # nothing to merge there

    survey_path = tmp_path / "survey.parquet"
    data.to_parquet(survey_path)
    settings = {"weighting": {**WEIGHTING, "trim": None, "collapse_below": 5}}
    weight(survey_path, margins_path, tmp_path / "weighted.parquet", tmp_path / "summary.csv", settings)
    summary = pd.read_csv(tmp_path / "summary.csv", keep_default_na=False)
    assert summary["collapsed_cells"].tolist() == ["", collapsed.merges[0]]
    weighted_survey = pd.read_parquet(tmp_path / "weighted.parquet")
    rows = weighted_survey[weighted_survey["wave"] == 2].dropna(subset=["gender", "age_group", "education"])
    women_35_plus = rows.loc[rows["raking_cell_1"] == "female + 35-64 + female + 65+", "weight"].sum()
    assert women_35_plus == pytest.approx(merged["female + 35-64 + female + 65+"], rel=1e-6)
    from evaluation.survey.collapse import raking_columns

    raking = raking_columns(DIMENSIONS, weighted_survey.columns)
    assert raking == [["municipality_code"], ["raking_cell_1"], ["education"]]  # variances use the merged cells
    design = survey_design(weighted_survey, AREAS, "adjust", raking)
    assert np.isfinite(design.mean(["y"], by=["wave"])["se"]).all()
    with pytest.raises(Exception, match="65"):  # without collapsing, the empty cell stops raking
        settings["weighting"]["collapse_below"] = 0
        weight(survey_path, margins_path, tmp_path / "w0.parquet", tmp_path / "s0.csv", settings)
