"""Design construction, validation errors and estimator invariants (no R needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from evaluation.errors import DesignError, EstimationError
from evaluation.survey import SurveyDesign


@pytest.fixture()
def small() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 400
    psu = rng.integers(0, 40, n)
    return pd.DataFrame(
        {
            "stratum": psu % 4,
            "psu": psu,
            "w": rng.uniform(1, 4, n),
            "y": rng.normal(size=n) + psu / 20,
            "group": rng.choice(["a", "b", "c"], n),
            "sex": rng.choice(["f", "m"], n),
            "binary": rng.integers(0, 2, n).astype(float),
        }
    )


def test_mean_columns_and_order(small):
    d = SurveyDesign(small, "w", strata="stratum", psu="psu")
    out = d.mean(["y", "binary"], by=["group", "sex"])
    assert list(out.columns) == ["variable", "group", "sex", "estimate", "se", "ci_low", "ci_high", "n", "deff", "df"]
    assert len(out) == 2 * 3 * 2
    assert list(out["variable"].unique()) == ["y", "binary"]
    assert out["n"].sum() == 2 * len(small)
    # each domain's df: its PSUs minus their strata (R degf(subset(design, ...)))
    cells = small.groupby(["group", "sex"]).agg(psu=("psu", "nunique"), strata=("stratum", "nunique"))
    expected = (cells["psu"] - cells["strata"]).to_numpy()
    assert_allclose(out["df"].to_numpy(), np.tile(expected, 2))
    assert (expected < 40 - 4).all()
    assert (d.mean(["y"], by=["group", "sex"], domain_df=False)["df"] == 40 - 4).all()


def test_domain_means_equal_weighted_means(small):
    d = SurveyDesign(small, "w", strata="stratum", psu="psu")
    out = d.mean(["y"], by=["group"]).set_index("group")["estimate"]
    expected = small.groupby("group").apply(lambda g: np.average(g["y"], weights=g["w"]), include_groups=False)
    assert_allclose(out.to_numpy(), expected.to_numpy())


def test_domain_variance_equals_indicator_variable(small):
    """Domain estimation = mean of y*1[d] over 1[d] as a ratio on the full design."""
    d = SurveyDesign(
        small.assign(yd=small["y"] * (small["group"] == "a"), ind=(small["group"] == "a") * 1.0),
        "w",
        strata="stratum",
        psu="psu",
    )
    domain = d.mean(["y"], by=["group"]).set_index("group").loc["a"]
    ratio = d.ratio("yd", "ind").iloc[0]
    assert_allclose([domain["estimate"], domain["se"]], [ratio["estimate"], ratio["se"]])


def test_missing_outcome_is_domain_estimation(small):
    data = small.copy()
    data.loc[data.index[::7], "y"] = np.nan
    d = SurveyDesign(data, "w", strata="stratum", psu="psu")
    with_na = d.mean(["y"]).iloc[0]
    data["present"] = data["y"].notna()
    by_present = SurveyDesign(data, "w", strata="stratum", psu="psu").mean(["y"], by=["present"])
    row = by_present[by_present["present"]].iloc[0]
    assert_allclose([with_na["estimate"], with_na["se"]], [row["estimate"], row["se"]])
    assert with_na["n"] == data["y"].notna().sum()


def test_missing_by_value_belongs_to_no_domain(small):
    data = small.astype({"group": object})
    data.loc[data.index[:10], "group"] = None
    out = SurveyDesign(data, "w", strata="stratum", psu="psu").mean(["y"], by=["group"])
    assert len(out) == 3 and out["n"].sum() == len(data) - 10


def test_fpc_fraction_equals_population_size(small):
    data = small.assign(N=200, frac=10 / 200)
    by_size = SurveyDesign(data, "w", strata="stratum", psu="psu", fpc="N").mean(["y"])
    by_fraction = SurveyDesign(data, "w", strata="stratum", psu="psu", fpc="frac").mean(["y"])
    assert_allclose(by_size["se"], by_fraction["se"])
    without = SurveyDesign(data, "w", strata="stratum", psu="psu").mean(["y"])
    assert_allclose(by_size["se"] ** 2, without["se"] ** 2 * (1 - 10 / 200))


def test_nest(small):
    data = small.assign(local_psu=small["psu"] // 4)  # labels reused across strata
    with pytest.raises(DesignError, match="nest=True"):
        SurveyDesign(data, "w", strata="stratum", psu="local_psu")
    nested = SurveyDesign(data, "w", strata="stratum", psu="local_psu", nest=True)
    plain = SurveyDesign(data, "w", strata="stratum", psu="psu")
    assert_allclose(nested.mean(["y"])["se"], plain.mean(["y"])["se"])


def test_lonely_psu_fails_by_default(small):
    data = small.assign(stratum=np.where(small["psu"] == 0, 99, small["stratum"]))
    with pytest.raises(DesignError, match="only one sampled unit"):
        SurveyDesign(data, "w", strata="stratum", psu="psu")
    SurveyDesign(data, "w", strata="stratum", psu="psu", lonely_psu="certainty")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(weights="nope"), "weights column"),
        (dict(weights="w", psu="nope"), "not in the data"),
        (dict(weights="w", lonely_psu="drop"), "lonely_psu"),
        (dict(weights="w", psu="psu", fpc=["a", "b"]), "fpc has 2"),
    ],
)
def test_design_errors(small, kwargs, message):
    with pytest.raises(DesignError, match=message):
        SurveyDesign(small, **kwargs)


def test_bad_weights_and_fpc(small):
    with pytest.raises(DesignError, match="negative"):
        SurveyDesign(small.assign(w=-1.0), "w")
    with pytest.raises(DesignError, match="more than 100%"):
        SurveyDesign(small.assign(N=5), "w", strata="stratum", psu="psu", fpc="N")
    with pytest.raises(DesignError, match="varies"):
        SurveyDesign(small.assign(N=np.arange(len(small)) + 100), "w", strata="stratum", psu="psu", fpc="N")


def test_estimation_errors(small):
    d = SurveyDesign(small, "w", strata="stratum", psu="psu")
    with pytest.raises(EstimationError, match="not numeric"):
        d.mean(["group"])
    with pytest.raises(EstimationError, match="not in the survey data"):
        d.mean(["missing"])
    with pytest.raises(EstimationError, match="ci_method"):
        d.proportion("group", ci_method="exact")
    with pytest.raises(EstimationError, match="not found"):
        d.contrast_means("y", ["group"], "a", "zz")


def test_proportions_sum_to_one(small):
    d = SurveyDesign(small, "w", strata="stratum", psu="psu")
    out = d.proportion("group", by=["sex"])
    assert_allclose(out.groupby("sex")["estimate"].sum(), 1.0)
    assert list(out.columns[:3]) == ["variable", "sex", "category"]
    # a binary proportion equals the mean of the indicator
    share = d.proportion("binary").set_index("category").loc[1.0]
    mean = d.mean(["binary"]).iloc[0]
    assert_allclose([share["estimate"], share["se"]], [mean["estimate"], mean["se"]])


def test_proportion_of_chosen_categories_is_the_full_table_s_rows(small):
    """``categories=`` computes only the shares asked for (what estimate publishes for a yes/no item), unchanged."""
    d = SurveyDesign(small, "w", strata="stratum", psu="psu")
    full = d.proportion("group", by=["sex"])
    chosen = d.proportion("group", by=["sex"], categories=["c", "a"])
    expected = full[full["category"].isin(["a", "c"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(chosen, expected, check_exact=True)
    nobody = d.proportion("binary", by=["sex"], categories=[1.0, 7.0]).set_index(["sex", "category"])
    assert (nobody.xs(7.0, level="category")[["estimate", "se", "n_category"]] == 0).all().all()
    assert (nobody.xs(7.0, level="category")["n"] == small.groupby("sex").size()).all()
    with pytest.raises(EstimationError, match="no categories"):
        d.proportion("binary", categories=[])


def test_contrast_of_two_periods_uses_covariance(small):
    """Panel: the same respondents in two waves; the difference SE accounts for the covariance."""
    wave1 = small.assign(wave=1)
    wave2 = small.assign(wave=2, y=small["y"] + 0.1 + np.random.default_rng(0).normal(0, 0.1, len(small)))
    d = SurveyDesign(pd.concat([wave1, wave2], ignore_index=True), "w", strata="stratum", psu="psu")
    out = d.contrast_means("y", ["wave"], 2, 1).iloc[0]
    se_independent = np.hypot(*d.mean(["y"], by=["wave"])["se"])
    assert out["se"] < 0.5 * se_independent
    assert out["covariance"] > 0
