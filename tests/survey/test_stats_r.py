"""Variances, quantiles, t tests and Rao-Scott tests against R `survey` 4.1.1.

Numbers in reference/stats_reference.csv, written by reference/make_stats_reference.R
(each row names the R call).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from evaluation.errors import DesignError, EstimationError, WeightingError
from evaluation.survey import SurveyDesign, poststratify, trim_weights
from evaluation.survey.quantiles import quantile_rule

from .conftest import REFERENCE

TIGHT = 1e-9
STYPES = ["E", "H", "M"]


@pytest.fixture(scope="module")
def dps(dclus1, pop_types):
    return poststratify(dclus1, pop_types)


def _pair(frame, ref, case, term=""):
    for stat in ("estimate", "se"):
        assert_allclose(frame[stat].to_numpy(), [ref(case, term, stat)], rtol=TIGHT, err_msg=f"{case} {stat}")


def test_variances(dclus1, dstrat, dps, stats_ref):
    _pair(dclus1.var(["api00"]), stats_ref, "dclus1_var_api00")
    _pair(dstrat.var(["api00"]), stats_ref, "dstrat_var_api00")
    _pair(dclus1.var(["avg.ed"]), stats_ref, "dclus1_var_avged_narm")
    _pair(dps.var(["api00"]), stats_ref, "dclus1_ps_var_api00")
    for variable, case in (("api00", "dclus1_by_stype_var_api00"), ("avg.ed", "dclus1_by_stype_var_avged")):
        out = dclus1.var([variable], by=["stype"])
        for stat in ("estimate", "se"):
            assert_allclose(out[stat], stats_ref.many(case, STYPES, stat), rtol=TIGHT, err_msg=f"{case} {stat}")


def _quantiles(out, ref, case, probs):
    terms = [f"{p:g}" for p in probs]
    for stat in ("estimate", "ci_low", "ci_high", "se"):
        assert_allclose(out[stat], ref.many(case, terms, stat), rtol=TIGHT, err_msg=f"{case} {stat}")


def test_quantiles(dclus1, dstrat, dclus2, dps, stats_ref):
    probs = [0.1, 0.25, 0.5, 0.75, 0.9]
    _quantiles(dclus1.quantile(["api00"], probs), stats_ref, "dclus1_q_api00", probs)
    _quantiles(dstrat.quantile(["api00"], [0.25, 0.5, 0.75]), stats_ref, "dstrat_q_api00", [0.25, 0.5, 0.75])
    _quantiles(dclus2.quantile(["api00"]), stats_ref, "dclus2_q_api00", [0.5])
    _quantiles(dclus1.quantile(["avg.ed"], [0.25, 0.5]), stats_ref, "dclus1_q_avged_narm", [0.25, 0.5])
    _quantiles(dps.quantile(["api00"], [0.5, 0.9]), stats_ref, "dclus1_ps_q_api00", [0.5, 0.9])


@pytest.mark.parametrize("rule", ["school", "hf7"])
def test_quantile_rules(dstrat, stats_ref, rule):
    probs = [0.25, 0.5, 0.75]
    _quantiles(dstrat.quantile(["api00"], probs, rule=rule), stats_ref, f"dstrat_q_api00_{rule}", probs)


@pytest.mark.parametrize("interval", ["xlogit", "asin", "beta"])
def test_quantile_intervals(dclus1, stats_ref, interval):
    probs = [0.25, 0.5]
    _quantiles(dclus1.quantile(["api00"], probs, interval=interval), stats_ref, f"dclus1_q_api00_{interval}", probs)


def test_domain_medians(dclus1, stats_ref):
    out = dclus1.quantile(["api00"], by=["stype"])
    for stat in ("estimate", "se", "ci_low", "ci_high"):
        ref_values = stats_ref.many("dclus1_by_stype_median_api00", STYPES, stat)
        assert_allclose(out[stat], ref_values, rtol=TIGHT, err_msg=stat)
    assert list(out["df"]) == [14, 7, 11]  # each domain's own df


def test_quantile_rule_by_hand():
    x, w = np.array([3.0, 1.0, 2.0, 4.0]), np.ones(4)
    assert quantile_rule(x, w, 0.5) == 2.0  # cumulative share reaches 0.5 exactly at 2
    assert quantile_rule(x, w, 0.5, "school") == 2.5
    assert quantile_rule(x, w, 0.6) == 3.0
    assert quantile_rule(x, np.array([1.0, 1.0, 0.0, 1.0]), 0.5) == 3.0  # zero weight ignored


@pytest.mark.parametrize(
    "kwargs, message",
    [({"probs": [1.5]}, "probabilities"), ({"rule": "hf3"}, "rule"), ({"interval": "score"}, "interval")],
)
def test_quantile_rejects_bad_arguments(dclus1, kwargs, message):
    with pytest.raises(EstimationError, match=message):
        dclus1.quantile(["api00"], **kwargs)


@pytest.mark.parametrize(
    "case, design_name, variable, group",
    [
        ("dclus1_ttest_awards", "dclus1", "api00", "awards"),
        ("dstrat_ttest_schwide", "dstrat", "api00", "sch.wide"),
        ("dclus1_ttest_avged_awards", "dclus1", "avg.ed", "awards"),
        ("dclus1_ps_ttest_awards", "dps", "api00", "awards"),
    ],
)
def test_two_sample_ttest(request, stats_ref, case, design_name, variable, group):
    design = request.getfixturevalue(design_name)
    out = design.ttest(variable, group).iloc[0]
    for stat in ("estimate", "statistic", "df", "p_value", "ci_low", "ci_high"):
        assert_allclose(out[stat], stats_ref(case, "", stat), rtol=TIGHT, err_msg=f"{case} {stat}")


def test_one_sample_ttest(apiclus1, stats_ref):
    data = apiclus1.assign(growth=apiclus1["api00"] - apiclus1["api99"])
    out = SurveyDesign(data, "pw", psu="dnum", fpc="fpc").ttest("growth").iloc[0]
    for stat in ("estimate", "statistic", "df", "p_value", "ci_low", "ci_high"):
        assert_allclose(out[stat], stats_ref("dclus1_ttest_growth_zero", "", stat), rtol=TIGHT, err_msg=stat)


def test_ttest_needs_a_binary_group(dclus1):
    with pytest.raises(EstimationError, match="two categories"):
        dclus1.ttest("api00", "stype")
    with pytest.raises(EstimationError, match="two categories"):
        dclus1.ttest("api00", "api99")


def _chisq(out, ref, case, first_order=False):
    row = out.iloc[0]
    for stat in ("statistic", "p_value") + (() if first_order else ("ndf", "ddf")):
        assert_allclose(row[stat], ref(case, "", stat), rtol=TIGHT, err_msg=f"{case} {stat}")


def test_rao_scott_second_order(dclus1, dstrat, dclus2, dps, stats_ref):
    _chisq(dclus1.chisq("sch.wide", "stype"), stats_ref, "dclus1_chisq_F_schwide_stype")
    _chisq(dstrat.chisq("awards", "stype"), stats_ref, "dstrat_chisq_F_awards_stype")
    _chisq(dclus2.chisq("sch.wide", "both"), stats_ref, "dclus2_chisq_F_schwide_both")
    _chisq(dps.chisq("awards", "stype"), stats_ref, "dclus1_ps_chisq_F_awards_stype")
    sub = dclus1.subset((dclus1.data["stype"] != "E").to_numpy())
    _chisq(sub.chisq("sch.wide", "awards"), stats_ref, "dclus1_subset_chisq_F")


def test_rao_scott_first_order(dclus1, stats_ref):
    out = dclus1.chisq("sch.wide", "stype", statistic="Chisq")
    _chisq(out, stats_ref, "dclus1_chisq_Chisq_schwide_stype", first_order=True)
    assert out["ndf"].item() == stats_ref("dclus1_chisq_Chisq_schwide_stype", "", "df")


def test_rao_scott_with_missing_values(apiclus1, stats_ref):
    edcat = pd.read_csv(REFERENCE / "apiclus1_edcat.csv")["edcat"]
    design = SurveyDesign(apiclus1.assign(edcat=edcat.to_numpy()), "pw", psu="dnum", fpc="fpc")
    _chisq(design.chisq("edcat", "stype"), stats_ref, "dclus1_chisq_F_edcat_stype_missing")


def test_chisq_rejects_bad_input(dclus1):
    with pytest.raises(EstimationError, match="statistic"):
        dclus1.chisq("sch.wide", "stype", statistic="lincom")
    high_schools = dclus1.subset((dclus1.data["stype"] == "H").to_numpy())
    with pytest.raises(EstimationError, match="a table needs two"):
        high_schools.chisq("sch.wide", "stype")


@pytest.mark.parametrize(
    "case, design_name, kwargs",
    [
        ("trim_dstrat_upper", "dstrat", {"upper": 40}),
        ("trim_dstrat_lower", "dstrat", {"lower": 18}),
        ("trim_dstrat_strict", "dstrat", {"upper": 35, "strict": True}),
        ("trim_dclus2_upper", "dclus2", {"upper": 60}),
    ],
)
def test_trim_weights_matches_r(request, stats_ref, case, design_name, kwargs):
    trimmed = trim_weights(request.getfixturevalue(design_name), **kwargs)
    w = trimmed.weights
    assert_allclose([w.sum(), w.min(), w.max()], [stats_ref(case, "", s) for s in ("sum", "min", "max")], rtol=1e-12)
    _pair(trimmed.mean(["api00"]), stats_ref, case)
    total = trimmed.total(["enroll"]).iloc[0]
    expected = [stats_ref(case, "", s) for s in ("total", "total_se")]
    assert_allclose([total["estimate"], total["se"]], expected, rtol=TIGHT)


def test_trim_weights_rejects_impossible_requests(dstrat, dclus1, pop_types):
    with pytest.raises(WeightingError, match="mean weight"):
        trim_weights(dstrat, upper=21, strict=True)
    with pytest.raises(WeightingError, match="below"):
        trim_weights(dstrat, upper=10, lower=20)
    with pytest.raises(DesignError, match="uncalibrated"):
        trim_weights(poststratify(dclus1, pop_types), upper=30)
    assert trim_weights(dstrat, upper=100).weights.tolist() == dstrat.weights.tolist()


def test_bad_columns_are_named(dclus1, dstrat):
    with pytest.raises(EstimationError, match="group `nope`"):
        dclus1.ttest("api00", "nope")
    with pytest.raises(EstimationError, match="variable `nope`"):
        dclus1.chisq("nope", "stype")
    with pytest.raises(WeightingError, match="every weight"):
        trim_weights(dstrat, upper=10)
    with pytest.raises(DesignError, match="finite non-negative"):
        dstrat.reweighted(np.ones(3))


@pytest.mark.parametrize("statistic", ["Wald", "adjWald"])
def test_wald_tests_of_association(apiclus1, dclus1, dstrat, pop_types, stats_ref, statistic):
    _chisq(dclus1.chisq("sch.wide", "stype", statistic), stats_ref, f"dclus1_chisq_{statistic}_schwide_stype")
    _chisq(dstrat.chisq("awards", "stype", statistic), stats_ref, f"dstrat_chisq_{statistic}_awards_stype")
    edcat = pd.read_csv(REFERENCE / "apiclus1_edcat.csv")["edcat"]
    design = SurveyDesign(apiclus1.assign(edcat=edcat.to_numpy()), "pw", psu="dnum", fpc="fpc")
    ps = poststratify(design, pop_types)  # calibrated, with missing values in one variable
    _chisq(ps.chisq("edcat", "stype", statistic), stats_ref, f"dclus1_ps_chisq_{statistic}_edcat")
