"""Replicate-weight designs against R `survey` 4.1.1: domain degrees of freedom,
proportions with intervals and svyglm, for a jackknife built from a design and
for supplied bootstrap weights (as a survey such as ESS ships them).

Numbers in reference/replicate_reference.csv, written by reference/make_replicate_reference.R.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from evaluation.errors import EstimationError
from evaluation.survey import ReplicateDesign, SurveyDesign, jackknife, svyglm

from .conftest import REFERENCE

STYPES = ["E", "H", "M"]
AWARDS = ["No", "Yes"]


@pytest.fixture(scope="module")
def jk(dclus1):
    data = dclus1.data.assign(yes=(dclus1.data["sch.wide"] == "Yes").astype(int))
    high_ed = (data["avg.ed"] > 2.5).astype(float).where(data["avg.ed"].notna())
    return jackknife(SurveyDesign(data.assign(high_ed=high_ed), "pw", psu="dnum", fpc="fpc"))


@pytest.fixture(scope="module")
def boot(apistrat, replicate_ref):
    weights = pd.read_csv(REFERENCE / "apistrat_bootstrap.csv")
    data = pd.concat([apistrat, weights], axis=1).assign(high=(apistrat["api00"] > 650).astype(int))
    return ReplicateDesign(data, "pw", list(weights.columns), scale=replicate_ref("boot", "", "scale"))


def test_replicate_degrees_of_freedom(jk, boot, replicate_ref):
    assert boot.df == replicate_ref("boot", "", "degf")
    assert_allclose(jk.mean(["api00"], by=["stype"])["df"], replicate_ref.many("jk_degf_stype", STYPES, "degf"))
    assert_allclose(boot.mean(["api00"], by=["awards"])["df"], replicate_ref.many("boot_degf_awards", AWARDS, "degf"))
    assert (jk.mean(["api00"], by=["stype"], domain_df=False)["df"] == jk.df).all()


@pytest.mark.parametrize("method", ["logit", "mean", "xlogit", "beta"])
def test_replicate_proportions(jk, boot, replicate_ref, method):
    for design, variable, by, case, terms in (
        (jk, "yes", "stype", f"jk_by_stype_ciprop_{method}", STYPES),
        (boot, "high", "awards", f"boot_by_awards_ciprop_{method}", AWARDS),
    ):
        out = design.proportion(variable, by=[by], ci_method=method)
        out = out[out["category"] == 1]
        for stat in ("estimate", "se", "ci_low", "ci_high"):
            # the replicate refits repeat R's IRLS iterations (start, weights summing to 1): ~1e-12
            assert_allclose(out[stat], replicate_ref.many(case, terms, stat), rtol=1e-10, err_msg=f"{case} {stat}")


def test_replicate_logit_interval_full_sample_and_missing(jk, replicate_ref):
    out = jk.proportion("yes").set_index("category").loc[1]
    ends = [replicate_ref("jk_ciprop_logit", "", s) for s in ("ci_low", "ci_high")]
    assert_allclose([out["ci_low"], out["ci_high"]], ends, rtol=1e-10)
    by = jk.proportion("high_ed", by=["stype"])
    by = by[by["category"] == 1.0]
    for stat in ("estimate", "se", "ci_low", "ci_high"):
        ref_values = replicate_ref.many("jk_by_stype_ciprop_avged_logit", STYPES, stat)
        assert_allclose(by[stat], ref_values, rtol=1e-10, err_msg=stat)


def test_replicate_likelihood_is_refused(jk):
    with pytest.raises(EstimationError, match="replicate"):
        jk.proportion("yes", ci_method="likelihood")


@pytest.mark.parametrize(
    "case, name, formula, family",
    [
        ("jk_glm_gauss", "jk", "api00 ~ ell + stype", "gaussian"),
        ("jk_glm_quasibinomial", "jk", "yes ~ ell + meals", "quasibinomial"),
        ("jk_glm_missing", "jk", "api00 ~ `avg.ed` + ell", "gaussian"),
        ("boot_glm_interaction", "boot", "api00 ~ ell * awards", "gaussian"),
        ("boot_glm_quasipoisson", "boot", "`api.stu` ~ ell + meals", "quasipoisson"),
    ],
)
def test_replicate_svyglm(request, replicate_ref, case, name, formula, family):
    fit = svyglm(request.getfixturevalue(name), formula, family=family)
    assert fit.influence is None
    assert fit.df_resid == replicate_ref(case, "", "df_residual")
    terms = list(fit.table["term"])
    for stat in ("estimate", "se", "p_value"):
        assert_allclose(fit.table[stat], replicate_ref.many(case, terms, stat), rtol=1e-10, err_msg=f"{case} {stat}")
    assert np.isfinite(fit.table["ci_low"]).all()
