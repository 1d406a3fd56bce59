"""The within-block Gram variance of raked designs equals the unit-by-unit (dense) variance, and knows its limits."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from evaluation.survey import SurveyDesign
from evaluation.survey.estimators import _gram_variance, column, domain_statistic
from evaluation.survey.gram import block_gram
from tests.survey.test_sparse_variance import DESIGNS, many_domains, wave_calibrated


def influence_of_mean(design: SurveyDesign, by: list[str], variable: str) -> tuple[np.ndarray, object]:
    """Row influence of the domain means of ``variable`` by ``by`` (as domain_statistic forms it)."""
    keys = design.domain_keys(by)
    y = column(design, variable)
    ok = keys.domains.valid & ~np.isnan(y)
    w = np.where(ok, design.weights, 0.0)
    n_dom = keys.domains.n_domains
    total = np.bincount(keys.dom, weights=w, minlength=n_dom)
    mean = np.bincount(keys.dom, weights=w * np.where(ok, y, 0.0), minlength=n_dom) / total
    return np.where(ok, w * (np.nan_to_num(y) - mean[keys.dom]) / total[keys.dom], 0.0), keys


@pytest.mark.parametrize("kind", list(DESIGNS))
def test_gram_path_is_taken_and_exact(kind):
    """Domains inside one wave of a design raked wave by wave: the Gram formula applies and equals the dense one."""
    data = many_domains(seed=5)
    design = wave_calibrated(SurveyDesign(data, "w", lonely_psu="adjust", **DESIGNS[kind]), data)
    assert block_gram(design.linearization) is not None
    influence, keys = influence_of_mean(design, ["wave", "group"], "y")
    fast = _gram_variance(design, keys, influence)
    assert fast is not None
    y = column(design, "y")
    ok = keys.domains.valid & ~np.isnan(y)
    dense = domain_statistic(design, keys, y, np.ones_like(y), ok, dense=True).design_variance
    assert_allclose(fast, dense, rtol=1e-10, atol=1e-14 * dense.max())


def test_domain_across_blocks_is_left_to_the_unit_sum():
    """A domain over all waves spans the calibration blocks: no Gram layout, the direct sum is used."""
    data = many_domains(seed=5)
    design = wave_calibrated(SurveyDesign(data, "w", strata="stratum", psu="psu", lonely_psu="adjust"), data)
    influence, keys = influence_of_mean(design, ["group"], "y")
    assert _gram_variance(design, keys, influence) is None
    y = column(design, "y")
    ok = keys.domains.valid & ~np.isnan(y)
    sparse = domain_statistic(design, keys, y, np.ones_like(y), ok, dense=False).design_variance
    dense = domain_statistic(design, keys, y, np.ones_like(y), ok, dense=True).design_variance
    assert_allclose(sparse, dense, rtol=1e-9)


def test_cancellation_is_left_to_the_unit_sum():
    """The share of a raking category within its wave has (almost) no variance: the Gram terms cancel, so it
    declines, and the direct sum gives the dense answer."""
    data = many_domains(seed=5)
    data["in_cat_a"] = (data["cat"] == "a").astype(float)
    design = wave_calibrated(SurveyDesign(data, "w", strata="stratum", psu="psu", lonely_psu="adjust"), data)
    influence, keys = influence_of_mean(design, ["wave"], "in_cat_a")
    assert _gram_variance(design, keys, influence) is None
    share = column(design, "in_cat_a")
    ok = keys.domains.valid
    sparse = domain_statistic(design, keys, share, np.ones_like(share), ok, dense=False).design_variance
    dense = domain_statistic(design, keys, share, np.ones_like(share), ok, dense=True).design_variance
    assert sparse.max() < 1e-20
    assert_allclose(sparse, dense, atol=1e-20)


def test_uncalibrated_rows_of_a_calibrated_unit_decline():
    """A row outside every margin whose PSU has calibrated rows in the domain's wave: the Gram layout declines."""
    data = many_domains(seed=5)
    data["wave_copy"] = data["wave"]
    data.loc[data.index[:40], "cat"] = np.nan  # these rows get no margin codes below
    design = SurveyDesign(data, "w", strata="stratum", psu="psu", lonely_psu="adjust")
    wave = data["wave"].to_numpy()
    valid = ~np.isnan(wave) & data["cat"].notna().to_numpy()
    wave_code = np.where(~np.isnan(wave), np.nan_to_num(wave).astype(int) - 1, -1)
    cat = data["cat"].map({"a": 0, "b": 1, "c": 2}).fillna(-1).to_numpy().astype(int)
    calibrated = design.calibrated(design.weights, [(np.where(valid, wave_code * 3 + cat, -1), 15)])
    influence, keys = influence_of_mean(calibrated, ["wave"], "y")
    assert _gram_variance(calibrated, keys, influence) is None
    layout = block_gram(calibrated.linearization).layout(
        calibrated.linearization.calibration,
        calibrated.linearization.stages,
        keys.domains.codes,
        keys.dom,
        keys.domains.n_domains,
    )
    assert layout is None


def test_rounding_noise_in_the_calibration_matrix_is_not_inverted():
    """A singular X'DX whose null value came out as 5e-15 of its scale (above numpy's default cut-off of 1e-15, as
    happened in a raked wave of the demo): the generalised inverse drops it, so it stays of the size of the true
    inverse and still solves every consistent system."""
    import scipy.sparse as sp

    from evaluation.survey.variance import block_pinv

    rng = np.random.default_rng(3)
    basis, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    values = np.array([2e4, 7e3, 3e2, 2e4 * 5e-15])
    matrix = (basis * values) @ basis.T
    inverse = block_pinv(sp.csr_matrix(matrix)).toarray()
    assert_allclose(matrix @ inverse @ matrix, matrix, atol=1e-9 * values[0])
    assert np.abs(inverse).max() < 1.0
    assert np.abs(np.linalg.pinv(matrix)).max() > 1e9  # the default cut-off would have inverted the noise
