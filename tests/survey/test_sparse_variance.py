"""The sparse (unit, domain)-pair variance equals the dense score-matrix variance (no R needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from evaluation.survey import SurveyDesign
from evaluation.survey.contrasts import mean_vcov
from evaluation.survey.estimators import column, domain_statistic

RTOL = 1e-12


def many_domains(seed: int = 11, n: int = 6000) -> pd.DataFrame:
    """~400 PSUs in 40 strata plus 3 lonely strata, two stages, ~300 domains, some only in some strata."""
    rng = np.random.default_rng(seed)
    psu = rng.integers(0, 400, n)
    stratum = np.where(psu < 3, 100 + psu, psu % 40)  # strata 100-102 have one PSU
    data = pd.DataFrame(
        {
            "stratum": stratum,
            "psu": psu,
            "ssu": rng.integers(0, 5, n),
            "w": rng.uniform(1, 6, n),
            "wave": rng.integers(1, 6, n),
            "group": rng.integers(0, 60, n),
            "y": rng.normal(size=n) + psu / 80,
            "x": rng.uniform(1, 3, n),
            "cat": rng.choice(["a", "b", "c"], n),
        }
    )
    data.loc[rng.random(n) < 0.1, "y"] = np.nan
    data.loc[rng.random(n) < 0.02, "wave"] = np.nan  # rows in no domain
    data.loc[data["stratum"] < 6, "group"] = 99  # a domain present in a few strata only
    data.loc[data["stratum"] == 100, "group"] = 98  # a domain only in a lonely stratum
    n_psu = data.groupby("stratum")["psu"].transform("nunique")
    data["fpc1"] = np.where(data["stratum"] == 7, n_psu, n_psu * 4)  # stratum 7 is a certainty stratum
    data["fpc2"] = data.groupby("psu")["ssu"].transform("nunique") * 3
    return data


DESIGNS = {
    "stratified clusters": dict(strata="stratum", psu="psu"),
    "stratified clusters, fpc": dict(strata="stratum", psu="psu", fpc="fpc1"),
    "two stages, fpc": dict(strata="stratum", psu=["psu", "ssu"], fpc=["fpc1", "fpc2"]),
    "clusters": dict(psu="psu"),
    "stratified elements": dict(strata="stratum"),
}


def both(
    design: SurveyDesign, by: list[str], numer: np.ndarray, denom: np.ndarray | None, ok: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    keys = design.domain_keys(by)
    ok = ok & keys.domains.valid
    dense = domain_statistic(design, keys, numer, denom, ok, dense=True)
    sparse = domain_statistic(design, keys, numer, denom, ok, dense=False)
    assert_array_equal(dense.estimate, sparse.estimate)
    return dense.variance, sparse.variance


@pytest.mark.parametrize("option", ["remove", "certainty", "adjust", "average"])
@pytest.mark.parametrize("kind", list(DESIGNS))
def test_sparse_equals_dense(option, kind):
    data = many_domains()
    design = SurveyDesign(data, "w", lonely_psu=option, **DESIGNS[kind])
    y, x = column(design, "y"), column(design, "x")
    by = ["wave", "group"]
    assert design.domain_keys(by).domains.n_domains > 250
    cases = {
        "mean": (y, np.ones_like(y), ~np.isnan(y)),
        "total": (y, None, ~np.isnan(y)),
        "ratio": (y, x, ~np.isnan(y)),
        "share": ((data["cat"] == "b").to_numpy(float), np.ones_like(y), np.ones_like(y, dtype=bool)),
    }
    for name, (numer, denom, ok) in cases.items():
        dense, sparse = both(design, by, numer, denom, ok)
        assert_array_equal(np.isnan(dense), np.isnan(sparse), err_msg=name)
        assert_allclose(sparse, dense, rtol=RTOL, atol=0, err_msg=f"{kind}, {option}: {name}")
        assert (dense[np.isfinite(dense)] >= 0).all()


def test_public_results_use_sparse_path_and_match_dense():
    """SurveyDesign.mean (sparse) agrees with the dense covariance diagonal of mean_vcov."""
    data = many_domains(seed=3)
    design = SurveyDesign(data, "w", strata="stratum", psu="psu", lonely_psu="adjust")
    out = design.mean(["y"], by=["wave", "group"])
    _, vcov = mean_vcov(design, "y", ["wave", "group"])
    assert_allclose(out["se"].to_numpy() ** 2, np.diag(vcov.to_numpy()), rtol=RTOL)


@pytest.mark.parametrize("option", ["adjust", "average"])
def test_contrast_uses_only_the_two_domains(option):
    """contrast_means (two domains) equals the entries of the full mean_vcov matrix."""
    data = many_domains(seed=4)
    design = SurveyDesign(data, "w", strata="stratum", psu="psu", lonely_psu=option)
    estimates, vcov = mean_vcov(design, "y", ["wave"])
    out = design.contrast_means("y", ["wave"], 3.0, 1.0).iloc[0]
    assert_allclose([out["estimate_a"], out["estimate_b"]], [estimates[3.0], estimates[1.0]], rtol=RTOL)
    assert_allclose(out["covariance"], vcov.loc[3.0, 1.0], rtol=1e-10)
    se = np.sqrt(vcov.loc[3.0, 3.0] + vcov.loc[1.0, 1.0] - 2 * vcov.loc[3.0, 1.0])
    assert_allclose(out["se"], se, rtol=1e-10)


def wave_calibrated(design: SurveyDesign, data: pd.DataFrame) -> SurveyDesign:
    """Raked per wave (as the weight stage does) on cat and group-parity margins; rows without a wave uncalibrated."""
    wave = data["wave"].to_numpy()
    valid = ~np.isnan(wave)
    wave_code = np.where(valid, np.nan_to_num(wave).astype(int) - 1, -1)
    cat = pd.factorize(data["cat"], sort=True)[0]
    parity = data["group"].to_numpy().astype(int) % 2
    margins = [(np.where(valid, wave_code * 3 + cat, -1), 15), (np.where(valid, wave_code * 2 + parity, -1), 10)]
    rng = np.random.default_rng(0)
    weights = design.weights * np.where(valid, rng.uniform(0.8, 1.25, len(data)), 1.0)
    return design.calibrated(weights, margins)


@pytest.mark.parametrize("option", ["remove", "certainty", "adjust"])
@pytest.mark.parametrize("kind", list(DESIGNS))
def test_calibrated_sparse_equals_dense(option, kind):
    """Calibrated designs (margins per wave, some rows outside every margin): sparse = dense (R-checked)."""
    from evaluation.survey import poststratify

    data = many_domains(seed=5)
    design = SurveyDesign(data, "w", lonely_psu=option, **DESIGNS[kind])
    designs = {
        "per wave": wave_calibrated(design, data),
        "poststratified": poststratify(design, data.groupby("cat")["w"].sum() * 1.2),
    }
    for label, calibrated in designs.items():
        y, x = column(calibrated, "y"), column(calibrated, "x")
        for by in (["wave", "group"], ["wave"], []):
            for name, (numer, denom) in {"mean": (y, np.ones_like(y)), "total": (y, None), "ratio": (y, x)}.items():
                dense, sparse = both(calibrated, by, numer, denom, ~np.isnan(y))
                assert_array_equal(np.isnan(dense), np.isnan(sparse))
                assert_allclose(
                    sparse,
                    dense,
                    rtol=1e-9,
                    atol=1e-12 * np.nanmax(dense),
                    err_msg=f"{kind}, {option}, {label}, by {by}: {name}",
                )


def test_calibration_changes_the_variance_and_is_used_by_default():
    data = many_domains(seed=6)
    design = SurveyDesign(data, "w", strata="stratum", psu="psu", lonely_psu="adjust")
    calibrated = wave_calibrated(design, data)
    fixed = SurveyDesign(
        data.assign(final=calibrated.weights), "final", strata="stratum", psu="psu", lonely_psu="adjust"
    )
    out = calibrated.mean(["y"], by=["wave"])
    same_weights = fixed.mean(["y"], by=["wave"])
    assert_allclose(out["estimate"], same_weights["estimate"], rtol=1e-12)
    assert not np.allclose(out["se"], same_weights["se"], rtol=1e-3)
    keys = calibrated.domain_keys(["wave"])
    y = column(calibrated, "y")
    ok = keys.domains.valid & ~np.isnan(y)
    default = domain_statistic(calibrated, keys, y, np.ones_like(y), ok)
    assert_allclose(
        default.variance, domain_statistic(calibrated, keys, y, np.ones_like(y), ok, dense=True).variance, rtol=1e-9
    )


def test_calibrated_average_option_is_dense():
    data = many_domains(seed=5)
    design = wave_calibrated(SurveyDesign(data, "w", strata="stratum", psu="psu", lonely_psu="average"), data)
    keys = design.domain_keys(["wave"])
    y = column(design, "y")
    ok = keys.domains.valid & ~np.isnan(y)
    assert_allclose(
        domain_statistic(design, keys, y, np.ones_like(y), ok).variance,
        domain_statistic(design, keys, y, np.ones_like(y), ok, dense=True).variance,
        rtol=1e-12,
    )
    from evaluation.errors import EstimationError

    with pytest.raises(EstimationError, match="average"):
        domain_statistic(design, keys, y, np.ones_like(y), ok, dense=False)
