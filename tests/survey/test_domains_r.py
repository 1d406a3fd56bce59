"""Domain degrees of freedom and subset() designs against R `survey` 4.1.1.

Numbers in reference/domain_reference.csv, written by reference/make_domain_reference.R
(each row names the R call that produced it).
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from evaluation.errors import DesignError, EstimationError
from evaluation.survey import SurveyDesign, jackknife, poststratify
from evaluation.survey.intervals import proportion_interval
from evaluation.survey.rspline import spline

TIGHT = 1e-9
STYPES = ["E", "H", "M"]
METHODS = ["logit", "xlogit", "asin", "beta", "mean"]


@pytest.fixture(scope="module")
def dclus1y(apiclus1):
    data = apiclus1.assign(yes=(apiclus1["sch.wide"] == "Yes").astype(int))
    return SurveyDesign(data, weights="pw", psu="dnum", fpc="fpc")


@pytest.fixture(scope="module")
def dstrat_e(apistrat):
    data = apistrat.assign(is_e=(apistrat["stype"] == "E").astype(int))
    return SurveyDesign(data, weights="pw", strata="stype", fpc="fpc")


def test_domain_degrees_of_freedom(dclus1, dclus2, dstrat, domain_ref):
    out = dclus1.mean(["api00"], by=["stype"])
    assert_allclose(out["df"], domain_ref.many("dclus1_degf_stype", STYPES, "degf"))
    assert_allclose(dclus2.mean(["api00"], by=["stype"])["df"], domain_ref.many("dclus2_degf_stype", STYPES, "degf"))
    assert_allclose(
        dstrat.mean(["api00"], by=["awards"])["df"], domain_ref.many("dstrat_degf_awards", ["No", "Yes"], "degf")
    )
    both = dclus1.mean(["api00"], by=["stype", "awards"])
    terms = [f"{s}.{a}" for s, a in zip(both["stype"], both["awards"])]
    assert_allclose(both["df"], domain_ref.many("dclus1_degf_stype_awards", terms, "degf"))


@pytest.mark.parametrize("method", METHODS)
def test_domain_proportion_intervals_use_domain_df(dclus1y, dstrat_e, domain_ref, method):
    out = dclus1y.proportion("yes", by=["stype"], ci_method=method)
    out = out[out["category"] == 1]
    case = f"dclus1_by_stype_ciprop_{method}"
    for stat in ("estimate", "se"):
        assert_allclose(out[stat], domain_ref.many(case, STYPES, stat), rtol=TIGHT)
    # R's logit and likelihood fit a glm (convergence ~1e-11); the others are closed form.
    for stat in ("ci_low", "ci_high"):
        assert_allclose(out[stat], domain_ref.many(case, STYPES, stat), rtol=1e-8, err_msg=stat)
    strat = dstrat_e.proportion("is_e", by=["awards"], ci_method=method)
    strat = strat[strat["category"] == 1]
    case = f"dstrat_by_awards_ciprop_E_{method}"
    for stat in ("estimate", "se", "ci_low", "ci_high"):
        assert_allclose(strat[stat], domain_ref.many(case, ["No", "Yes"], stat), rtol=1e-8, err_msg=stat)


def test_two_stage_domain_proportion_intervals(apiclus2, domain_ref):
    data = apiclus2.assign(yes=(apiclus2["sch.wide"] == "Yes").astype(int))
    design = SurveyDesign(data, weights="w", psu=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    out = design.proportion("yes", by=["stype"])
    out = out[out["category"] == 1]
    for stat in ("estimate", "se", "ci_low", "ci_high"):
        assert_allclose(out[stat], domain_ref.many("dclus2_by_stype_ciprop_logit", STYPES, stat), rtol=1e-8)


def test_full_design_df_still_available(dclus1y):
    out = dclus1y.proportion("yes", by=["stype"], domain_df=False)
    assert (out["df"] == 14).all()
    narrow = dclus1y.proportion("yes", by=["stype"])
    h = (out["stype"] == "H") & (out["category"] == 1)
    # the H domain has 7 df: its interval is wider than with the design's 14
    assert narrow.loc[h, "ci_high"].item() > out.loc[h, "ci_high"].item()


@pytest.mark.parametrize("stype", STYPES)
def test_subset_design(dclus1y, domain_ref, stype):
    sub = dclus1y.subset(dclus1y.data["stype"] == stype)
    case = f"dclus1_subset_{stype}"
    assert sub.df == domain_ref(f"{case}_ciprop_schwide", "", "degf")
    stats = ("estimate", "se", "ci_low", "ci_high")
    mean = sub.mean(["api00"]).iloc[0]
    assert_allclose([mean[s] for s in stats], [domain_ref(f"{case}_mean_api00", "api00", s) for s in stats], rtol=TIGHT)
    total = sub.total(["enroll"]).iloc[0]
    assert_allclose([total[s] for s in stats], [domain_ref(f"{case}_total_enroll", "enroll", s) for s in stats])
    avged = sub.mean(["avg.ed"]).iloc[0]  # missing values dropped, df still the subset's
    assert_allclose([avged[s] for s in stats], [domain_ref(f"{case}_mean_avged", "avg.ed", s) for s in stats])
    share = sub.proportion("yes").set_index("category").loc[1]
    assert_allclose(
        [share[s] for s in stats], [domain_ref(f"{case}_ciprop_schwide", "Yes", s) for s in stats], rtol=1e-8
    )
    assert sub.mean(["api00"])["n"].item() == int((dclus1y.data["stype"] == stype).sum())


def test_subset_of_stratified_and_two_stage_designs(dstrat, dclus2, domain_ref):
    stats = ("estimate", "se", "ci_low", "ci_high")
    sub = dstrat.subset(dstrat.data["awards"] == "Yes")
    assert sub.df == domain_ref("dstrat_subset_awardsYes", "", "degf")
    out = sub.mean(["api00"]).iloc[0]
    assert_allclose(
        [out[s] for s in stats], [domain_ref("dstrat_subset_awardsYes_mean_api00", "api00", s) for s in stats]
    )
    by = sub.mean(["api00"], by=["stype"])
    for s in ("estimate", "se"):
        assert_allclose(by[s], domain_ref.many("dstrat_subset_awardsYes_by_stype_api00", STYPES, s), rtol=TIGHT)
    sub2 = dclus2.subset(dclus2.data["stype"] == "E")
    assert sub2.df == domain_ref("dclus2_subset_E", "", "degf")
    out = sub2.mean(["api00"]).iloc[0]
    assert_allclose([out[s] for s in stats], [domain_ref("dclus2_subset_E_mean_api00", "api00", s) for s in stats])


def test_subset_of_calibrated_design(dclus1, pop_types, domain_ref):
    ps = poststratify(dclus1, pop_types)
    sub = ps.subset(ps.data["sch.wide"] == "Yes")
    assert sub.df == domain_ref("dclus1_ps_subset_schwideYes", "", "degf")
    stats = ("estimate", "se", "ci_low", "ci_high")
    out = sub.mean(["api00"]).iloc[0]
    case = "dclus1_ps_subset_schwideYes_mean_api00"
    assert_allclose([out[s] for s in stats], [domain_ref(case, "api00", s) for s in stats], rtol=TIGHT)
    total = sub.total(["enroll"]).iloc[0]
    case = "dclus1_ps_subset_schwideYes_total_enroll"
    assert_allclose([total["estimate"], total["se"]], [domain_ref(case, "enroll", s) for s in ("estimate", "se")])


def test_subset_equals_domain_of_full_design(dclus1):
    sub = dclus1.subset(dclus1.data["stype"] == "H")
    full = dclus1.mean(["api00"], by=["stype"]).set_index("stype").loc["H"]
    out = sub.mean(["api00"]).iloc[0]
    assert_allclose([out["estimate"], out["se"], out["df"]], [full["estimate"], full["se"], full["df"]], rtol=TIGHT)
    # a by inside a subset: only the subset's rows, domains outside it are absent
    by = sub.mean(["api00"], by=["awards"])
    assert set(by["awards"]) <= {"No", "Yes"} and by["n"].sum() == 14
    nested = sub.subset(dclus1.data["awards"].eq("Yes").to_numpy())
    assert nested.mean(["api00"])["n"].item() == int(
        ((dclus1.data["stype"] == "H") & (dclus1.data["awards"] == "Yes")).sum()
    )


@pytest.mark.parametrize(
    "mask, message",
    [
        (np.ones(5, dtype=bool), "shape"),
        (np.ones(183), "boolean"),
        (np.zeros(183, dtype=bool), "no rows"),
    ],
)
def test_subset_rejects_bad_masks(dclus1, mask, message):
    with pytest.raises(DesignError, match=message):
        dclus1.subset(mask)


def test_subset_rejects_missing_and_misaligned_series(dclus1):
    mask = (dclus1.data["stype"] == "H").astype(object)
    mask.iloc[3] = None
    with pytest.raises(DesignError, match="missing"):
        dclus1.subset(mask)
    with pytest.raises(DesignError, match="index"):
        dclus1.subset((dclus1.data["stype"] == "H").reset_index(drop=True).set_axis(range(1, 184)))


def test_subset_design_cannot_be_calibrated(dclus1, pop_types):
    sub = dclus1.subset(dclus1.data["stype"] != "H")
    with pytest.raises(DesignError, match="calibrate the full design"):
        poststratify(sub, pop_types)


def test_subset_design_cannot_make_replicates(dclus1):
    with pytest.raises(DesignError, match="full design"):
        jackknife(dclus1.subset(dclus1.data["stype"] != "H"))


def _share(out, category=1):
    return out[out["category"] == category]


def test_likelihood_interval_matches_r(dclus1, ref):
    data = dclus1.data.assign(yes=(dclus1.data["sch.wide"] == "Yes").astype(int))
    design = SurveyDesign(data, weights="pw", psu="dnum", fpc="fpc")
    out = _share(design.proportion("yes", ci_method="likelihood"))
    case = "dclus1_ciprop_schwide_likelihood"
    assert_allclose(
        [out["ci_low"].item(), out["ci_high"].item()],
        [ref(case, "Yes", "ci_low"), ref(case, "Yes", "ci_high")],
        rtol=1e-9,
    )


@pytest.mark.parametrize("level", [0.9, 0.99])
def test_likelihood_interval_other_levels(dclus1, domain_ref, level):
    out = dclus1.proportion("stype", ci_method="likelihood", level=level).set_index("category").loc["H"]
    case = f"dclus1_ciprop_stypeH_likelihood_{round(level * 100)}"
    assert_allclose(
        [out["ci_low"], out["ci_high"]], [domain_ref(case, "H", s) for s in ("ci_low", "ci_high")], rtol=1e-9
    )


def test_likelihood_intervals_by_domain(dclus1y, dstrat_e, dclus1, pop_types, domain_ref):
    stats = ("estimate", "se", "ci_low", "ci_high")
    out = _share(dclus1y.proportion("yes", by=["stype"], ci_method="likelihood"))
    for s in stats:
        assert_allclose(out[s], domain_ref.many("dclus1_by_stype_ciprop_likelihood", STYPES, s), rtol=1e-9, err_msg=s)
    strat = _share(dstrat_e.proportion("is_e", by=["awards"], ci_method="likelihood"))
    for s in stats:
        ref_values = domain_ref.many("dstrat_by_awards_ciprop_E_likelihood", ["No", "Yes"], s)
        assert_allclose(strat[s], ref_values, rtol=1e-9, err_msg=s)
    # calibrated design: every domain is fitted on its subset of the post-stratified design
    data = dclus1.data.assign(high=(dclus1.data["api00"] > 650).astype(int))
    ps = poststratify(SurveyDesign(data, weights="pw", psu="dnum", fpc="fpc"), pop_types)
    cal = _share(ps.proportion("high", by=["awards"], ci_method="likelihood"))
    for s in stats:
        ref_values = domain_ref.many("dclus1_ps_by_awards_ciprop_likelihood", ["No", "Yes"], s)
        assert_allclose(cal[s], ref_values, rtol=1e-9, err_msg=s)


def test_likelihood_intervals_with_missing_values(dclus1, domain_ref):
    high = (dclus1.data["avg.ed"] > 2.5).astype(float).where(dclus1.data["avg.ed"].notna())
    design = SurveyDesign(dclus1.data.assign(high_ed=high), weights="pw", psu="dnum", fpc="fpc")
    out = _share(design.proportion("high_ed", by=["stype"], ci_method="likelihood"), 1.0)
    for s in ("estimate", "se", "ci_low", "ci_high"):
        ref_values = domain_ref.many("dclus1_by_stype_ciprop_avged_likelihood", STYPES, s)
        assert_allclose(out[s], ref_values, rtol=1e-9, err_msg=s)


def test_likelihood_interval_of_calibrated_subset(dclus1y, pop_types, domain_ref):
    sub = poststratify(dclus1y, pop_types).subset((dclus1y.data["stype"] != "E").to_numpy())
    out = _share(sub.proportion("yes", ci_method="likelihood"))
    case = "dclus1_ps_subset_ciprop_likelihood"
    assert_allclose(
        [out["ci_low"].item(), out["ci_high"].item()],
        [domain_ref(case, "yes", s) for s in ("ci_low", "ci_high")],
        rtol=1e-9,
    )


def test_fmm_spline_matches_r(domain_ref):
    x = np.array([0, 0.3, 0.7, 1.5, 2.0, 2.2, 3.1])
    grid, values = spline(x, np.sin(x) * np.exp(x / 3))
    assert len(grid) == 21 and grid[0] == 0 and grid[-1] == 3.1
    index = [1, 5, 10, 19]
    assert_allclose(values[index], domain_ref.many("spline_fmm", [str(i) for i in index], "y"), rtol=1e-13)


def test_likelihood_needs_the_data():
    with pytest.raises(EstimationError, match="needs the data"):
        proportion_interval(np.array([0.5]), np.array([0.1]), np.array([10]), 0.95, 5.0, "likelihood")


def test_beta_intervals_count_rows_as_r(dclus1, pop_types, domain_ref):
    """R's Korn-Graubard interval uses nrow(design): missing rows count, a calibrated design keeps every row."""
    high_ed = (dclus1.data["avg.ed"] > 2.5).astype(float).where(dclus1.data["avg.ed"].notna())
    data = dclus1.data.assign(high_ed=high_ed, high=(dclus1.data["api00"] > 650).astype(int))
    design = SurveyDesign(data, weights="pw", psu="dnum", fpc="fpc")
    ends = ("ci_low", "ci_high")
    full = _share(design.proportion("high_ed", ci_method="beta"), 1.0)
    assert_allclose(full[list(ends)].to_numpy()[0], [domain_ref("dclus1_ciprop_avged_beta", "", s) for s in ends])
    by = _share(design.proportion("high_ed", by=["stype"], ci_method="beta"), 1.0)
    for s in ends:
        assert_allclose(by[s], domain_ref.many("dclus1_by_stype_ciprop_avged_beta", STYPES, s), rtol=1e-9)
    ps = poststratify(design, pop_types)
    cal = _share(ps.proportion("high", ci_method="beta"))
    assert_allclose(cal[list(ends)].to_numpy()[0], [domain_ref("dclus1_ps_ciprop_high_beta", "", s) for s in ends])
    cal_by = _share(ps.proportion("high", by=["awards"], ci_method="beta"))
    for s in ends:
        assert_allclose(cal_by[s], domain_ref.many("dclus1_ps_by_awards_ciprop_beta", ["No", "Yes"], s), rtol=1e-9)


def test_likelihood_interval_is_nan_where_a_share_is_0_or_1(dclus1y):
    # every school with awards meets its target: the share of "yes" is 1 there
    out = dclus1y.proportion("yes", by=["awards"], ci_method="likelihood")
    certain = out[(out["awards"] == "Yes") & (out["category"] == 1)].iloc[0]
    assert certain["estimate"] == 1.0 and np.isnan(certain["ci_low"]) and np.isnan(certain["ci_high"])
    other = out[(out["awards"] == "No") & (out["category"] == 1)].iloc[0]
    assert 0 < other["ci_low"] < other["estimate"] < other["ci_high"] < 1
