"""svyglm against R `survey` 4.1.1: formulas with factors and interactions, quasi families,
residual df after dropping incomplete rows, subset and calibrated designs.

Numbers in reference/glm_reference.csv, written by reference/make_glm_reference.R
(each row names the R call).
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from evaluation.errors import EstimationError
from evaluation.survey import SurveyDesign, poststratify, svyglm, term_test

STATS = ("estimate", "se", "statistic", "p_value", "ci_low", "ci_high")


@pytest.fixture(scope="module")
def designs(apiclus1, apistrat, apiclus2, pop_types):
    clus1 = SurveyDesign(apiclus1.assign(yes=(apiclus1["sch.wide"] == "Yes").astype(int)), "pw", psu="dnum", fpc="fpc")
    return {
        "dclus1": clus1,
        "dstrat": SurveyDesign(apistrat, "pw", strata="stype", fpc="fpc"),
        "dclus2": SurveyDesign(apiclus2, "w", psu=["dnum", "snum"], fpc=["fpc1", "fpc2"]),
        "dps": poststratify(clus1, pop_types),
    }


CASES = [
    ("dclus1_gauss_interaction", "dclus1", None, "api00 ~ ell * stype + meals", "gaussian"),
    ("dstrat_gauss_factor_by_factor", "dstrat", None, "api00 ~ stype * awards + ell", "gaussian"),
    ("dstrat_gauss_missing", "dstrat", None, "api00 ~ `acs.46` + ell", "gaussian"),
    ("dclus1_gauss_missing", "dclus1", None, "api00 ~ `avg.ed` + stype", "gaussian"),
    ("dclus1_quasibinomial", "dclus1", None, "yes ~ ell + stype", "quasibinomial"),
    ("dclus2_quasipoisson_missing", "dclus2", None, "enroll ~ api00 + stype", "quasipoisson"),
    ("dstrat_quasipoisson", "dstrat", None, "`api.stu` ~ ell + meals", "quasipoisson"),
    ("dclus1_subset_gauss", "dclus1", ("stype", "E"), "api00 ~ ell + meals", "gaussian"),
    ("dclus1_ps_gauss", "dps", None, "api00 ~ ell + stype", "gaussian"),
    ("dclus1_ps_subset_quasibinomial", "dps", ("stype", "E"), "yes ~ ell", "quasibinomial"),
]


@pytest.mark.parametrize("case, design_name, exclude, formula, family", CASES, ids=[c[0] for c in CASES])
def test_svyglm_matches_r(designs, glm_ref, case, design_name, exclude, formula, family):
    design = designs[design_name]
    if exclude is not None:
        design = design.subset((design.data[exclude[0]] != exclude[1]).to_numpy())
    fit = svyglm(design, formula, family=family)
    assert glm_ref(case, "", "converged") == 1
    assert fit.df_resid == glm_ref(case, "", "df_residual")
    assert fit.n == glm_ref(case, "", "n")
    terms = list(fit.table["term"])
    for stat in STATS:
        # the same IRLS iterations as R glm.fit (start values, stopping rule): agreement ~1e-12
        assert_allclose(fit.table[stat], glm_ref.many(case, terms, stat), rtol=1e-10, err_msg=f"{case} {stat}")
    assert (fit.table["df"] == fit.df_resid).all()


def test_missing_rows_reduce_residual_df(designs):
    """Auditors' case: the df are those of the complete cases, not of the full sample."""
    fit = svyglm(designs["dstrat"], "api00 ~ `acs.46` + ell")
    assert fit.n == 134
    assert fit.df_resid == 134 - 3 + 1 - 3  # complete cases in 3 strata, 3 coefficients
    assert fit.df_resid < designs["dstrat"].df + 1 - 3


def test_column_list_form_equals_formula(designs):
    by_columns = svyglm(designs["dclus1"], "api00", ["ell", "stype"])
    by_formula = svyglm(designs["dclus1"], "api00 ~ ell + stype")
    assert list(by_columns.table["term"]) == ["(Intercept)", "ell", "stypeH", "stypeM"]
    assert_allclose(by_columns.table[["estimate", "se"]], by_formula.table[["estimate", "se"]], rtol=1e-12)


@pytest.mark.parametrize(
    "formula, family, message",
    [
        ("api00 ~ ell", "poisson", "family"),
        ("api00", "gaussian", "not a formula"),
        ("api00 ~ no_such_column", "gaussian", "cannot be evaluated"),
        ("api00 ~ ell", "quasibinomial", r"\[0, 1\]"),
        ("{api00 - 1000} ~ ell", "quasipoisson", ">= 0"),
        ("api00 ~ ell + {ell * 2}", "gaussian", "collinear"),
    ],
)
def test_svyglm_rejects_bad_models(designs, formula, family, message):
    with pytest.raises(EstimationError, match=message):
        svyglm(designs["dclus1"], formula, family=family)


def test_svyglm_without_complete_cases(apiclus1):
    data = apiclus1.assign(empty=np.nan)
    design = SurveyDesign(data, "pw", psu="dnum", fpc="fpc")
    with pytest.raises(EstimationError, match="no complete cases"):
        svyglm(design, "api00 ~ empty")


def test_separation_stops_instead_of_reporting_a_fit(designs):
    """All schools with awards meet the target: R's glm.fit does not converge (25 iterations) and warns."""
    sub = designs["dps"].subset((designs["dps"].data["awards"] == "Yes").to_numpy())
    with pytest.raises(EstimationError, match="did not converge"):
        svyglm(sub, "yes ~ ell", family="quasibinomial")


@pytest.mark.parametrize(
    "case, design_name, formula, family, terms, df",
    [
        ("wald_interaction", "dclus1", "api00 ~ ell * stype + meals", "gaussian", "stype:ell", None),
        ("wald_two_terms", "dclus1", "api00 ~ ell * stype + meals", "gaussian", ["stype", "ell:stype"], None),
        ("wald_chisq", "dclus1", "api00 ~ ell * stype + meals", "gaussian", "stype", np.inf),
        ("wald_quasibinomial", "dclus1", "yes ~ ell + stype", "quasibinomial", "stype", None),
        ("wald_missing", "dstrat", "api00 ~ `acs.46` + ell + stype", "gaussian", ["acs.46", "ell"], None),
    ],
)
def test_term_test_matches_regtermtest(designs, glm_ref, case, design_name, formula, family, terms, df):
    fit = svyglm(designs[design_name], formula, family=family)
    out = term_test(fit, terms, df=df).iloc[0]
    for stat in ("statistic", "ndf", "p_value"):
        assert_allclose(out[stat], glm_ref(case, "", stat), rtol=1e-9, err_msg=f"{case} {stat}")
    assert out["ddf"] == (fit.df_resid if df is None else df)


def test_term_test_rejects_unknown_terms(designs):
    fit = svyglm(designs["dclus1"], "api00 ~ ell + stype")
    with pytest.raises(EstimationError, match="not in the model"):
        term_test(fit, "meals")


def test_formula_needs_one_outcome(designs):
    with pytest.raises(EstimationError, match="exactly one outcome"):
        svyglm(designs["dclus1"], "~ ell")
