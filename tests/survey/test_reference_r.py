"""Agreement with R `survey` 4.1 (numbers in reference/reference_values.csv, from make_reference.R)."""

from __future__ import annotations

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from evaluation.survey import ReplicateDesign, SurveyDesign, jackknife, poststratify, rake, svyglm

from .conftest import REFERENCE

TIGHT = 1e-9  # both sides compute the same formula in double precision
STYPES = ["E", "H", "M"]


def check(frame: pd.DataFrame, ref, case: str, terms: list[str], stats=("estimate", "se"), rtol=TIGHT):
    for stat in stats:
        assert_allclose(frame[stat].to_numpy(), ref.many(case, terms, stat), rtol=rtol, err_msg=f"{case} {stat}")


def test_degrees_of_freedom(dclus1, dstrat, dclus2, ref):
    assert dclus1.df == ref("dclus1", "", "degf") == 14
    assert dstrat.df == ref("dstrat", "", "degf") == 197
    assert dclus2.df == ref("dclus2", "", "degf") == 39


def test_cluster_mean_with_ci_and_deff(dclus1, ref):
    out = dclus1.mean(["api00"])
    check(out, ref, "dclus1_mean_api00", ["api00"], ("estimate", "se", "deff", "ci_low", "ci_high"))
    assert_allclose(out[["estimate", "se"]].to_numpy().ravel(), [644.17, 23.542], rtol=1e-4)
    replace = dclus1.mean(["api00"], deff_reference="srswr")
    check(replace, ref, "dclus1_mean_api00_deffreplace", ["api00"], ("deff",))


def test_stratified_mean(dstrat, ref):
    out = dstrat.mean(["api00"])
    check(out, ref, "dstrat_mean_api00", ["api00"], ("estimate", "se", "deff", "ci_low", "ci_high"))
    assert_allclose(out[["estimate", "se"]].to_numpy().ravel(), [662.29, 9.4089], rtol=1e-4)


def test_stratified_domains(dstrat, ref):
    check(dstrat.mean(["api00"], by=["stype"]), ref, "dstrat_by_stype_api00", STYPES, ("estimate", "se", "deff"))
    check(
        dstrat.mean(["api00"], by=["awards"]), ref, "dstrat_by_awards_api00", ["No", "Yes"], ("estimate", "se", "deff")
    )
    check(dstrat.total(["enroll"]), ref, "dstrat_total_enroll", ["enroll"], ("estimate", "se", "deff"))


def test_two_stage_mean(dclus2, ref):
    out = dclus2.mean(["api00"])
    check(out, ref, "dclus2_mean_api00", ["api00"], ("estimate", "se", "deff", "ci_low", "ci_high"))
    assert_allclose(out[["estimate", "se"]].to_numpy().ravel(), [670.81, 30.099], rtol=1e-4)
    check(dclus2.mean(["api00"], by=["stype"]), ref, "dclus2_by_stype_api00", STYPES)


def test_two_stage_missing_values(dclus2, ref):
    check(dclus2.total(["enroll"]), ref, "dclus2_total_enroll_narm", ["enroll"])
    check(dclus2.mean(["enroll"]), ref, "dclus2_mean_enroll_narm", ["enroll"])


def test_svyby_two_variables(dclus1, ref):
    # confint(svyby(...), df = degf(dclus1)): the full design's df for every domain
    out = dclus1.mean(["ell", "meals"], by=["stype"], domain_df=False)
    terms = [f"{s}:{v}" for v in ("ell", "meals") for s in STYPES]
    # svyby orders coefficients as E:ell, H:ell, M:ell, E:meals, ...
    check(out, ref, "dclus1_by_stype_ell_meals", terms, ("estimate", "se", "deff", "ci_low", "ci_high"))
    assert list(out["n"]) == [144, 14, 25] * 2


def test_two_by_columns(dclus1, ref):
    out = dclus1.mean(["api00"], by=["stype", "sch.wide"])
    terms = [f"{s}.{w}" for s, w in zip(out["stype"], out["sch.wide"])]
    check(out, ref, "dclus1_by_stype_schwide_api00", terms, ("estimate", "se", "deff"))


def test_missing_values_dropped_per_variable(dclus1, ref):
    check(dclus1.mean(["avg.ed"]), ref, "dclus1_mean_avged_narm", ["avg.ed"], ("estimate", "se", "deff"))
    check(dclus1.mean(["avg.ed"], by=["stype"]), ref, "dclus1_by_stype_avged_narm", STYPES, ("estimate", "se", "deff"))
    both = dclus1.mean(["avg.ed", "api00"])
    assert list(both["n"]) == [157, 183]


def test_totals(dclus1, ref):
    check(dclus1.total(["enroll"]), ref, "dclus1_total_enroll", ["enroll"], ("estimate", "se", "deff", "ci_low"))
    check(
        dclus1.total(["enroll"], by=["stype"]), ref, "dclus1_by_stype_total_enroll", STYPES, ("estimate", "se", "deff")
    )


def test_ratio(dclus1, ref):
    out = dclus1.ratio("api.stu", "enroll")
    check(out, ref, "dclus1_ratio_apistu_enroll", ["api.stu/enroll"])
    assert_allclose(out[["estimate", "se"]].to_numpy().ravel(), [0.8497087, 0.008386297], rtol=1e-6)
    check(dclus1.ratio("api.stu", "enroll", by=["stype"]), ref, "dclus1_by_stype_ratio_apistu_enroll", STYPES)


def test_category_shares(dclus1, ref):
    out = dclus1.proportion("stype", ci_method="mean")
    check(out, ref, "dclus1_mean_stype_shares", [f"stype{s}" for s in STYPES], ("estimate", "se", "deff"))
    by = dclus1.proportion("sch.wide", by=["stype"])
    terms = [f"{s}:sch.wide{c}" for c in ("No", "Yes") for s in STYPES]
    by = by.sort_values(["category", "stype"])
    check(by, ref, "dclus1_by_stype_schwide_shares", terms)


@pytest.mark.parametrize("method", ["logit", "xlogit", "asin", "beta", "mean"])
def test_proportion_intervals(dclus1, ref, method):
    data = dclus1.data.assign(yes=(dclus1.data["sch.wide"] == "Yes").astype(int))
    design = SurveyDesign(data, weights="pw", psu="dnum", fpc="fpc")
    out = design.proportion("yes", ci_method=method).set_index("category").loc[1]
    case = f"dclus1_ciprop_schwide_{method}"
    assert_allclose([out["estimate"], out["se"]], [ref(case, "Yes", "estimate"), ref(case, "Yes", "se")], rtol=1e-9)
    # R's logit fits a glm (convergence ~1e-11); the others are closed form.
    assert_allclose(
        [out["ci_low"], out["ci_high"]], [ref(case, "Yes", "ci_low"), ref(case, "Yes", "ci_high")], rtol=1e-8
    )


@pytest.mark.parametrize("method", ["logit", "beta", "mean"])
def test_small_proportion_intervals(dclus1, ref, method):
    out = dclus1.proportion("stype", ci_method=method).set_index("category").loc["H"]
    case = f"dclus1_ciprop_stypeH_{method}"
    assert_allclose([out["ci_low"], out["ci_high"]], [ref(case, "H", "ci_low"), ref(case, "H", "ci_high")], rtol=1e-8)


def test_wilson_interval_is_inside_unit_interval(dclus1):
    out = dclus1.proportion("stype", ci_method="wilson")
    assert (out["ci_low"] > 0).all() and (out["ci_high"] < 1).all()
    assert (out["ci_low"] < out["estimate"]).all() and (out["estimate"] < out["ci_high"]).all()


def test_domain_covariance_and_contrasts(dclus1, ref):
    estimates, vcov = dclus1.mean_vcov("api00", ["stype"])
    assert_allclose(vcov.loc["E", "H"], ref("dclus1_by_stype_api00_vcov", "E,H", "cov"), rtol=TIGHT)
    assert_allclose(vcov.loc["E", "E"], ref("dclus1_by_stype_api00_vcov", "E,E", "cov"), rtol=TIGHT)
    diff = dclus1.contrast_means("api00", ["stype"], "E", "H")
    check(diff, ref, "dclus1_contrast_E_minus_H", ["contrast"])
    ratio = dclus1.contrast_means("api00", ["stype"], "E", "H", kind="ratio")
    check(ratio, ref, "dclus1_contrast_E_over_H", ["contrast"])


def test_poststratify(dclus1, ref, pop_types):
    ps = poststratify(dclus1, pop_types)
    out = ps.mean(["api00"])
    check(out, ref, "dclus1_ps_mean_api00", ["api00"], ("estimate", "se", "deff"))
    assert_allclose(out[["estimate", "se"]].to_numpy().ravel(), [642.31, 23.921], rtol=1e-4)
    check(ps.mean(["api00"], by=["sch.wide"]), ref, "dclus1_ps_by_schwide_api00", ["No", "Yes"])
    check(ps.total(["enroll"]), ref, "dclus1_ps_total_enroll", ["enroll"])


def test_rake_matches_r_default_at_printed_precision(dclus1, ref, pop_types, pop_schwide):
    # R's rake() stops when cell totals move by < 1 (control epsilon = 1): looser than ours.
    raked = rake(dclus1, [pop_types, pop_schwide])
    out = raked.mean(["api00"])
    assert_allclose(out[["estimate", "se"]].to_numpy().ravel(), [641.23, 23.704], rtol=5e-5)
    check(out, ref, "dclus1_rake_mean_api00", ["api00"], rtol=2e-6)
    check(raked.mean(["api00"], by=["stype"]), ref, "dclus1_rake_by_stype_api00", STYPES, rtol=1e-5)


def test_rake_matches_r_converged(dclus1, ref, pop_types, pop_schwide):
    raked = rake(dclus1, [pop_types, pop_schwide], epsilon=1e-12, max_iter=200)
    # R approximates the calibration projection by 10 backfitting sweeps: agreement ~1e-8.
    check(raked.mean(["api00"]), ref, "dclus1_raketight_mean_api00", ["api00"], rtol=1e-7)
    check(raked.mean(["api00"], by=["stype"]), ref, "dclus1_raketight_by_stype_api00", STYPES, rtol=1e-7)
    check(raked.total(["enroll"]), ref, "dclus1_raketight_total_enroll", ["enroll"], rtol=1e-7)
    assert_allclose(raked.weights.sum(), ref("dclus1_raketight_weights", "sum", "value"), rtol=1e-10)
    assert_allclose(raked.weights[0], ref("dclus1_raketight_weights", "first", "value"), rtol=1e-9)


@pytest.mark.parametrize("option", ["remove", "certainty", "adjust", "average"])
def test_lonely_psu_options(apiclus1, ref, option):
    strata = pd.read_csv(REFERENCE / "apiclus1_lonely_strata.csv")
    data = apiclus1.assign(lstrat=strata["lstrat"].to_numpy())
    design = SurveyDesign(data, weights="pw", strata="lstrat", psu="dnum", lonely_psu=option)
    assert design.df == ref(f"lonely_{option}", "", "degf")
    check(design.mean(["api00"]), ref, f"lonely_{option}_mean_api00", ["api00"])
    check(design.mean(["api00"], by=["stype"]), ref, f"lonely_{option}_by_stype_api00", STYPES)


def test_jackknife_jk1(dclus1, ref):
    jk = jackknife(dclus1)
    out = jk.mean(["api00"])
    check(out, ref, "dclus1_jk1_mean_api00", ["api00"])
    assert_allclose(out["se"], 26.329, rtol=2e-5)
    assert jk.df == 14
    check(jk.mean(["api00"], by=["stype"]), ref, "dclus1_jk1_by_stype_api00", STYPES)
    check(jk.ratio("api.stu", "enroll"), ref, "dclus1_jk1_ratio_apistu_enroll", ["api.stu/enroll"])


def test_jackknife_without_fpc(apiclus1, ref):
    jk = jackknife(SurveyDesign(apiclus1, weights="pw", psu="dnum"))
    check(jk.mean(["api00"]), ref, "dclus1nofpc_jk1_mean_api00", ["api00"])


def test_jackknife_jkn_stratified(dstrat, ref):
    check(jackknife(dstrat).mean(["api00"]), ref, "dstrat_jkn_mean_api00", ["api00"])


def test_supplied_replicate_weights_reproduce_jk1(dclus1, ref):
    jk = jackknife(dclus1)
    data = dclus1.data.copy()
    names = [f"rep{r}" for r in range(jk.replicate_weights.shape[1])]
    data[names] = jk.replicate_weights
    supplied = ReplicateDesign(data, "pw", names, scale=14 / 15 * (757 - 15) / 757)
    assert supplied.df == 14
    check(supplied.mean(["api00"]), ref, "dclus1_jk1_mean_api00", ["api00"])


@pytest.mark.parametrize(
    "case, design_name, outcome, predictors, family",
    [
        ("dclus1_svyglm_api00_ell_meals", "dclus1", "api00", ["ell", "meals"], "gaussian"),
        ("dstrat_svyglm_api00_ell_meals_stype", "dstrat", "api00", ["ell", "meals", "stype"], "gaussian"),
        ("dclus1_svyglm_logit_schwide", "dclus1", "yes", ["ell", "meals"], "binomial"),
    ],
)
def test_svyglm(request, ref, case, design_name, outcome, predictors, family):
    design = request.getfixturevalue(design_name)
    if outcome == "yes":
        data = design.data.assign(yes=(design.data["sch.wide"] == "Yes").astype(int))
        design = SurveyDesign(data, weights="pw", psu="dnum", fpc="fpc")
    fit = svyglm(design, outcome, predictors, family=family)
    terms = list(fit.table["term"])
    # R's glm stops IRLS at a relative deviance change of 1e-8: agreement ~2e-7 for the logistic fit.
    rtol = TIGHT if family == "gaussian" else 1e-6
    check(fit.table, ref, case, terms, rtol=rtol)
    if case == "dclus1_svyglm_api00_ell_meals":
        assert fit.df_resid == ref(case, "", "df_residual")
