"""calibrate() against R `survey` 4.1.1: linear (GREG), raking and logit calibration,
bounds, numeric and interaction auxiliaries, estimates and their calibration-aware SEs.

Numbers in reference/calibration_reference.csv, written by reference/make_calibration_reference.R.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from evaluation.errors import DesignError, WeightingError
from evaluation.survey import SurveyDesign, calibrate, poststratify, rake

TIGHT = 1e-9
POP = pd.Series({"(Intercept)": 6194.0, "stypeH": 755.0, "stypeM": 1018.0, "api99": 3914069.0})


@pytest.fixture(scope="module")
def dclus1y(apiclus1):
    data = apiclus1.assign(yes=(apiclus1["sch.wide"] == "Yes").astype(int))
    return SurveyDesign(data, "pw", psu="dnum", fpc="fpc")


CASES = [
    ("linear", "~ stype + api99", POP, "linear", (-np.inf, np.inf)),
    ("raking", "~ stype + api99", POP, "raking", (-np.inf, np.inf)),
    ("logit", "~ stype + api99", POP, "logit", (0.7, 1.7)),
    ("linear_bounded", "~ stype + api99", POP, "linear", (0.7, 1.7)),
    (
        "linear_interaction",
        "~ stype * api99",
        pd.concat([POP, pd.Series({"stypeH:api99": 755.0 * 635, "stypeM:api99": 1018.0 * 630})]),
        "linear",
        (-np.inf, np.inf),
    ),
]


@pytest.mark.parametrize("case, formula, population, calfun, bounds", CASES, ids=[c[0] for c in CASES])
def test_calibrate_matches_r(dclus1y, calibration_ref, case, formula, population, calfun, bounds):
    cal = calibrate(dclus1y, formula, population, calfun=calfun, bounds=bounds)
    w = cal.weights
    for stat, value in (
        ("weight_sum", w.sum()),
        ("weight_first", w[0]),
        ("weight_min", w.min()),
        ("weight_max", w.max()),
    ):
        # the same Newton iterations as R's grake: R's stopping point, not only its limit
        assert_allclose(value, calibration_ref(case, "", stat), rtol=1e-10, err_msg=f"{case} {stat}")
    mean = cal.mean(["api00"]).iloc[0]
    total = cal.total(["enroll"]).iloc[0]
    for frame, term in ((mean, "api00"), (total, "enroll")):
        for stat in ("estimate", "se"):
            assert_allclose(frame[stat], calibration_ref(case, term, stat), rtol=TIGHT, err_msg=f"{case} {term} {stat}")
    by = cal.mean(["api00"], by=["awards"])
    for stat in ("estimate", "se"):
        expected = [calibration_ref(case, f"awards{k}", stat) for k in ("No", "Yes")]
        assert_allclose(by[stat], expected, rtol=TIGHT, err_msg=f"{case} by {stat}")
    share = cal.proportion("yes").set_index("category").loc[1]
    expected = [calibration_ref(case, "schwide", s) for s in ("ci_low", "ci_high")]
    assert_allclose([share["ci_low"], share["ci_high"]], expected, rtol=1e-8)


def test_calibrated_totals_are_met(dclus1y):
    cal = calibrate(dclus1y, "~ stype + api99", POP)
    data = cal.data
    assert_allclose(cal.weights.sum(), 6194.0, rtol=1e-12)
    assert_allclose(cal.weights[data["stype"] == "H"].sum(), 755.0, rtol=1e-12)
    assert_allclose((cal.weights * data["api99"]).sum(), 3914069.0, rtol=1e-12)


def test_two_stage_design(apiclus2, calibration_ref):
    design = SurveyDesign(apiclus2, "w", psu=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    cal = calibrate(design, "~ api99", pd.Series({"(Intercept)": 6194.0, "api99": 3914069.0}))
    out = cal.mean(["api00"]).iloc[0]
    assert_allclose(
        [out["estimate"], out["se"]], [calibration_ref("two_stage", "api00", s) for s in ("estimate", "se")]
    )
    assert_allclose(cal.weights.sum(), calibration_ref("two_stage", "", "weight_sum"), rtol=1e-12)


def test_linear_calibration_on_a_margin_equals_poststratification(dclus1, pop_types):
    cal = calibrate(dclus1, "~ stype", pd.Series({"(Intercept)": 6194.0, "stypeH": 755.0, "stypeM": 1018.0}))
    ps = poststratify(dclus1, pop_types)
    assert_allclose(cal.weights, ps.weights, rtol=1e-12)
    assert_allclose(cal.mean(["api00"])[["estimate", "se"]], ps.mean(["api00"])[["estimate", "se"]], rtol=1e-10)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"population": POP.drop("api99")}, WeightingError, "missing"),
        ({"population": pd.concat([POP, pd.Series({"meals": 1.0})])}, WeightingError, "unknown"),
        ({"calfun": "cubic"}, WeightingError, "calfun"),
        ({"calfun": "logit"}, WeightingError, "finite bounds"),
        ({"bounds": (1.1, 2.0)}, WeightingError, "lower < 1"),
        ({"formula": "~ no_such_column"}, WeightingError, "cannot be evaluated"),
        ({"bounds": (0.99, 1.01)}, WeightingError, "did not reach"),
    ],
)
def test_calibrate_rejects_bad_requests(dclus1y, kwargs, error, message):
    arguments = {"formula": "~ stype + api99", "population": POP, **kwargs}
    with pytest.raises(error, match=message):
        calibrate(dclus1y, **arguments)


def test_calibrate_missing_values_and_designs(dclus1y, pop_types):
    with pytest.raises(WeightingError, match="cannot be evaluated"):
        calibrate(dclus1y, "~ `avg.ed`", pd.Series({"(Intercept)": 6194.0, "avg.ed": 17000.0}))
    cal = calibrate(dclus1y, "~ stype + api99", POP)
    with pytest.raises(DesignError, match="calibrated"):
        rake(cal, [pop_types])
    with pytest.raises(DesignError, match="uncalibrated"):
        calibrate(poststratify(dclus1y, pop_types), "~ stype + api99", POP)


def test_margins_form(dclus1y, pop_types, pop_schwide, calibration_ref):
    """Margins are the indicators of their categories: the same column space as R's ~stype + sch.wide."""
    linear = calibrate(dclus1y, [pop_types, pop_schwide])
    case = "margins_linear"
    assert_allclose(linear.weights.min(), calibration_ref(case, "", "weight_min"), rtol=1e-10)
    assert_allclose(linear.weights.max(), calibration_ref(case, "", "weight_max"), rtol=1e-10)
    out = linear.mean(["api00"]).iloc[0]
    assert_allclose([out["estimate"], out["se"]], [calibration_ref(case, "api00", s) for s in ("estimate", "se")])
    raking = calibrate(dclus1y, [pop_types, pop_schwide], calfun="raking")
    case = "margins_raking"
    # another parametrisation of the same raking model: Newton stops at a different point within epsilon
    assert_allclose(raking.weights.max(), calibration_ref(case, "", "weight_max"), rtol=1e-6)
    out = raking.mean(["api00"]).iloc[0]
    assert_allclose(
        [out["estimate"], out["se"]], [calibration_ref(case, "api00", s) for s in ("estimate", "se")], rtol=1e-6
    )
    # and raking by calibrate agrees with rake(), whose variance projects the same margins
    raked = rake(dclus1y, [pop_types, pop_schwide], epsilon=1e-12, max_iter=200)
    assert_allclose(raking.weights, raked.weights, rtol=1e-6)
    assert_allclose(raking.mean(["api00"])["se"], raked.mean(["api00"])["se"], rtol=1e-6)


def test_margins_form_rejects_population_and_unknown_categories(dclus1y, pop_types):
    with pytest.raises(WeightingError, match="do not give population"):
        calibrate(dclus1y, [pop_types], POP)
    with pytest.raises(WeightingError, match="no population total"):
        calibrate(dclus1y, [pop_types.drop("H")])
