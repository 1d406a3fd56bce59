"""Balanced repeated replication and Fay's method against R `survey` 4.1.1.

Numbers in reference/brr_reference.csv, written by reference/make_brr_reference.R
(with the sample brr_sample.csv and R's 12 x 12 Hadamard matrix for 9 strata).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from evaluation.errors import DesignError
from evaluation.survey import SurveyDesign, brr

from .conftest import REFERENCE

GROUPS = ["a", "b", "c"]


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "brr_sample.csv")


def _design(data: pd.DataFrame) -> SurveyDesign:
    return SurveyDesign(data, "w", strata="stratum", psu="psu")


def _check(design, brr_ref, case: str) -> None:
    assert design.replicate_weights.shape[1] == brr_ref(case, "", "replicates")
    assert_allclose(design.scale, brr_ref(case, "", "scale"), rtol=1e-14)
    assert design.df == brr_ref(case, "", "degf")
    for variable in ("y", "yes"):
        mean = design.mean([variable]).iloc[0]
        assert_allclose(mean["estimate"], brr_ref(case, variable, "mean"), rtol=1e-12)
        assert_allclose(mean["se"], brr_ref(case, variable, "mean_se"), rtol=1e-9)
    total = design.total(["y"]).iloc[0]
    assert_allclose(total["se"], brr_ref(case, "y", "total_se"), rtol=1e-9)
    by = design.mean(["y"], by=["g"])
    assert_allclose(by["estimate"], brr_ref.many(case, GROUPS, "mean"), rtol=1e-12)
    assert_allclose(by["se"], brr_ref.many(case, GROUPS, "mean_se"), rtol=1e-9)


def test_brr_matches_r(sample, brr_ref):
    _check(brr(_design(sample)), brr_ref, "brr")


def test_fay_matches_r(sample, brr_ref):
    _check(brr(_design(sample), fay_rho=0.5), brr_ref, "fay")


def test_brr_with_r_hadamard_matrix_for_nine_strata(sample, brr_ref):
    nine = sample[sample["stratum"].isin([f"s{h:02d}" for h in range(1, 10)])].reset_index(drop=True)
    matrix = pd.read_csv(REFERENCE / "brr_hadamard_9.csv").to_numpy()  # 12 x 12: not Sylvester's
    _check(brr(_design(nine), hadamard=matrix), brr_ref, "brr9")
    default = brr(_design(nine))  # Sylvester's 16 x 16: other replicates, the same total variance
    assert default.replicate_weights.shape[1] == 16
    assert_allclose(default.total(["y"]).iloc[0]["se"], brr_ref("brr9", "y", "total_se"), rtol=1e-9)


def test_brr_total_variance_is_the_linearised_one(sample, brr_ref):
    """Full orthogonal balance: for a total, BRR reproduces the two-PSU-per-stratum linearisation exactly."""
    for rho in (0.0, 0.3):
        se = brr(_design(sample), fay_rho=rho).total(["y"]).iloc[0]["se"]
        assert_allclose(se, brr_ref("linearised", "y", "total_se"), rtol=1e-12)


def test_brr_refuses_strata_with_other_than_two_psus(sample):
    three = pd.concat([sample, sample[sample["psu"] == "p01"].assign(psu="p99")], ignore_index=True)
    with pytest.raises(DesignError, match=r"exactly two PSUs in every stratum; stratum\(s\) s01 have"):
        brr(_design(three))
    with pytest.raises(DesignError, match="stratified design"):
        brr(SurveyDesign(sample, "w", psu="psu"))
    with pytest.raises(DesignError, match=r"fay_rho must be in \[0, 1\)"):
        brr(_design(sample), fay_rho=1.0)


def test_brr_refuses_a_matrix_that_is_not_hadamard(sample):
    with pytest.raises(DesignError, match="more rows than the 12 strata"):
        brr(_design(sample), hadamard=np.ones((8, 8)) - 2 * np.eye(8))
    bad = np.ones((16, 16))
    bad[1, 0] = -1
    with pytest.raises(DesignError, match="not a Hadamard matrix"):
        brr(_design(sample), hadamard=bad)
