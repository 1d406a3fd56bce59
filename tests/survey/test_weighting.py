"""Raking, post-stratification, cell weights and weight summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from evaluation.errors import DesignError, WeightingError
from evaluation.survey import bootstrap, capped_cell_weights, jackknife, poststratify, rake, weight_summary


def test_rake_hits_margins(dclus1, pop_types, pop_schwide):
    raked = rake(dclus1, [pop_types, pop_schwide])
    data = dclus1.data.assign(w=raked.weights)
    assert_allclose(data.groupby("stype")["w"].sum(), pop_types.to_numpy(), rtol=1e-7)
    assert_allclose(data.groupby("sch.wide")["w"].sum(), pop_schwide.to_numpy(), rtol=1e-7)


def test_rake_on_multiindex_margin_equals_poststratify(dclus1):
    cells = pd.Series(
        [1000.0, 3421, 200, 555, 300, 718],
        index=pd.MultiIndex.from_product([["E", "H", "M"], ["No", "Yes"]], names=["stype", "sch.wide"]),
    )
    raked = rake(dclus1, [cells])
    ps = poststratify(dclus1, cells)
    assert_allclose(raked.weights, ps.weights)
    assert_allclose(raked.mean(["api00"])["se"], ps.mean(["api00"])["se"])


def test_rake_empty_category_names_margin_and_category(dclus1, pop_types):
    margin = pd.Series([1000.0, 5194.0, 1.0], index=pd.Index(["No", "Yes", "Maybe"], name="sch.wide"))
    with pytest.raises(WeightingError, match=r"sch.wide.*'Maybe'.*no respondents"):
        rake(dclus1, [pop_types, margin])


def test_rake_unknown_sample_category(dclus1):
    with pytest.raises(WeightingError, match="sample category 'M' has no population total"):
        rake(dclus1, [pd.Series([1.0, 2.0], index=pd.Index(["E", "H"], name="stype"))])


def test_rake_non_convergence(dclus1, pop_types, pop_schwide):
    with pytest.raises(WeightingError, match="did not converge"):
        rake(dclus1, [pop_types, pop_schwide], bounds=(0.99, 1.01))
    inconsistent = pop_schwide * 2  # totals that disagree with pop_types
    with pytest.raises(WeightingError, match="margin `"):
        rake(dclus1, [pop_types, inconsistent], max_iter=20)


def test_rake_bounds_respected(dclus1, pop_types, pop_schwide):
    raked = rake(dclus1, [pop_types, pop_schwide], bounds=(0.5, 2.0))
    g = raked.weights / dclus1.weights
    assert g.min() >= 0.5 - 1e-12 and g.max() <= 2.0 + 1e-12


def test_calibration_reduces_se_of_calibrated_variable(dclus1):
    """Post-stratifying on stype makes the estimated stype shares exact: SE 0."""
    totals = pd.Series([4421.0, 755.0, 1018.0], index=pd.Index(["E", "H", "M"], name="stype"))
    ps = poststratify(dclus1, totals)
    shares = ps.proportion("stype")
    assert_allclose(shares["estimate"], totals / totals.sum())
    assert_allclose(shares["se"], 0.0, atol=1e-12)


def test_weight_summary():
    s = weight_summary(np.array([1.0, 1.0, 2.0, 4.0]))
    assert s["n"] == 4 and s["sum_weights"] == 8.0
    assert_allclose(s["effective_n"], 64 / 22)
    assert_allclose(s["kish_deff"], 4 * 22 / 64)
    assert weight_summary(np.ones(10))["kish_deff"] == 1.0


def test_weight_summary_accepts_design(dclus1):
    assert weight_summary(dclus1)["n"] == 183


def test_capped_cell_weights():
    rng = np.random.default_rng(5)
    data = pd.DataFrame(
        {
            "age": rng.choice(["18-29", "30-59", "60+"], 1000, p=[0.05, 0.5, 0.45]),
            "gender": rng.choice(["f", "m"], 1000),
        }
    )
    population = pd.Series(
        [0.2, 0.2, 0.25, 0.25, 0.05, 0.05],
        index=pd.MultiIndex.from_product([["18-29", "30-59", "60+"], ["f", "m"]], names=["age", "gender"]),
    )
    w = capped_cell_weights(data, population)
    assert_allclose(w.mean(), 1.0)
    assert w.min() >= 0.2 - 1e-9 and w.max() <= 5.0 + 1e-9
    assert w.max() == pytest.approx(5.0)  # young respondents are capped
    uncapped = capped_cell_weights(data, population, bounds=(1e-3, 1e3))
    share = uncapped.groupby([data["age"], data["gender"]]).sum() / len(data)
    assert_allclose(share.to_numpy(), population.to_numpy())


def test_capped_cell_weights_empty_cell():
    data = pd.DataFrame({"age": ["a", "a", "b"], "gender": ["f", "m", "f"]})
    population = pd.Series(
        [1.0, 1, 1, 1], index=pd.MultiIndex.from_product([["a", "b"], ["f", "m"]], names=["age", "gender"])
    )
    with pytest.raises(WeightingError, match=r"\('b', 'm'\).*no respondents"):
        capped_cell_weights(data, population)


def test_poststratify_design_respects_two_stage(dclus2):
    totals = dclus2.data.groupby("stype")["w"].sum() * 1.1
    ps = poststratify(dclus2, totals)
    assert_allclose(ps.weights.sum(), totals.sum())
    assert np.isfinite(ps.mean(["api00"])["se"]).all()


def test_replicates_refuse_calibrated_design(dclus1, pop_types):
    with pytest.raises(DesignError, match="calibrated"):
        jackknife(poststratify(dclus1, pop_types))


def test_bootstrap_is_seeded_and_close_to_linearisation(dclus1):
    a = bootstrap(dclus1, 400, np.random.default_rng(11)).mean(["api00"])
    b = bootstrap(dclus1, 400, np.random.default_rng(11)).mean(["api00"])
    assert_allclose(a["se"], b["se"])
    assert a["se"].iloc[0] == pytest.approx(dclus1.mean(["api00"])["se"].iloc[0], rel=0.2)
