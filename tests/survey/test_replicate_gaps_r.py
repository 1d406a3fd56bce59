"""Gaps on a replicate-weight design against R `survey` 4.1.1: raw differences of two groups' means
(svycontrast on svyby with covmat) and differences adjusted for categorical covariates (svyglm on
subset()), with supplied bootstrap weights. Numbers in reference/replicate_gaps_reference.csv, written
by reference/make_replicate_gaps.R."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from evaluation.survey import ReplicateDesign

from .conftest import REFERENCE, Reference

STYPES = ["E", "H", "M"]


@pytest.fixture(scope="module")
def gaps_ref() -> Reference:
    return Reference(REFERENCE / "replicate_gaps_reference.csv")


@pytest.fixture(scope="module")
def boot(apistrat, replicate_ref):
    weights = pd.read_csv(REFERENCE / "apistrat_bootstrap.csv")
    meals = np.select([apistrat["meals"] < 30, apistrat["meals"] < 60], ["low", "mid"], "high")
    data = pd.concat([apistrat, weights], axis=1).assign(
        high=(apistrat["api00"] > 650).astype(int),
        meals_band=meals,
        ell_band=np.where(apistrat["ell"] < 20, "low", "high"),
    )
    return ReplicateDesign(data, "pw", list(weights.columns), scale=replicate_ref("boot", "", "scale"))


@pytest.mark.parametrize("variable", ["api00", "high"])
def test_replicate_mean_differences_match_r(boot, gaps_ref, variable):
    out = boot.mean_differences(variable, ["stype"], "awards", "Yes", "No")
    assert list(out["stype"]) == STYPES
    assert_allclose(out["estimate"], gaps_ref.many(f"gap_{variable}", STYPES, "estimate"), rtol=1e-12)
    assert_allclose(out["se"], gaps_ref.many(f"gap_{variable}", STYPES, "se"), rtol=1e-9)
    assert (out["n_a"] + out["n_b"]).sum() == len(boot.data)


def test_replicate_adjusted_differences_match_r(boot, gaps_ref):
    out = boot.adjusted_differences("api00", ["stype"], "awards", "Yes", "No", ["meals_band", "ell_band"])
    for statistic in ("estimate", "se", "df", "n_terms"):
        assert_allclose(out[statistic], gaps_ref.many("adjusted_api00", STYPES, statistic), rtol=1e-9)


def test_replicate_adjusted_difference_drops_an_absent_level(boot):
    """A covariate level absent from a domain adds no column (R: NA), as on a linearised design."""
    only_elementary_low = boot.data["meals_band"].where(boot.data["stype"] != "E", "low")
    design = ReplicateDesign(
        boot.data.assign(meals_band=only_elementary_low), "pw", boot.replicate_weights, scale=boot.scale
    )
    out = design.adjusted_differences("api00", ["stype"], "awards", "Yes", "No", ["meals_band"]).set_index("stype")
    assert out.loc["E", "n_terms"] == 2 and out.loc["H", "n_terms"] == 4
    plain = design.mean_differences("api00", ["stype"], "awards", "Yes", "No").set_index("stype")
    assert_allclose(out.loc["E", ["estimate", "se"]], plain.loc["E", ["estimate", "se"]], rtol=1e-10)


def test_replicate_proportion_of_chosen_categories(boot):
    every = boot.proportion("high", by=["stype"])
    chosen = boot.proportion("high", by=["stype"], categories=[1])
    assert set(chosen["category"]) == {1}
    assert_allclose(chosen["estimate"], every[every["category"] == 1]["estimate"])
