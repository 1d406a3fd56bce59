"""Multiplier-bootstrap uniform bands of ``staggered_did`` (R ``did``'s ``cband = TRUE``).

Reference numbers: ``tests/api/reference/uniform_band.json`` (csdid's bootstrap
SEs and critical values, ``make_uniform_band.py``).
"""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from shared import TESTS

from evaluation import api
from evaluation.comparison.staggered import multiplier_draws

REF = TESTS / "comparison" / "reference"
CSDID = json.loads((TESTS / "api" / "reference" / "uniform_band.json").read_text())
Z = stats.norm.ppf(0.975)


def _fits() -> dict[str, api.StaggeredResult]:
    castle = pd.read_csv(REF / "castle.csv")
    panel = pd.read_csv(REF / "staggered_panel.csv")
    panel["cohort"] = panel["first"].where(panel["first"] >= 0) + 1
    return {
        "castle": api.staggered_did(castle, "l_homicide", "sid", "year", "effyear", weights="popwt"),
        "staggered": api.staggered_did(panel, "y", "id", "t", "cohort", weights="w", cluster="muni"),
    }


@pytest.fixture(scope="module")
def fits() -> dict[str, api.StaggeredResult]:
    return _fits()


def simulate(seed: int, n: int = 100, periods: int = 6, cohorts: tuple = (3, 4, 5)) -> pd.DataFrame:
    """Balanced panel: cohorts (and never treated) in equal parts; effect ``1 + e / 2`` at event time ``e >= 0``."""
    rng = np.random.default_rng(seed)
    k = len(cohorts)
    first = rng.choice([*cohorts, np.nan], size=n, p=[0.6 / k] * k + [0.4])
    t = np.tile(np.arange(1, periods + 1), n)
    g = np.repeat(first, periods)
    e = t - np.nan_to_num(g, nan=np.inf)
    y = np.repeat(rng.normal(size=n), periods) + 0.2 * t + true_effect(e) + rng.normal(size=n * periods)
    return pd.DataFrame({"id": np.repeat(np.arange(n), periods), "t": t, "y": y, "cohort": g})


def true_effect(e: np.ndarray) -> np.ndarray:
    return np.where(e >= 0, 1.0 + 0.5 * e, 0.0)


def _event_rows(table: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    rows = table[table["term"].str.startswith("event_time=")]
    return rows, rows["term"].str.removeprefix("event_time=").astype(int).to_numpy()


def _covers(rows: pd.DataFrame, truth: np.ndarray) -> bool:
    return bool(np.all((rows["conf_low"] <= truth) & (truth <= rows["conf_high"])))


def test_uniform_band_covers_every_event_time_at_the_nominal_rate():
    """200 simulated panels with 7 event times (-3..3): the band covers all at ~95%, pointwise intervals do not."""
    uniform = pointwise = 0
    n_rep = 200
    for seed in range(n_rep):
        res = api.staggered_did(simulate(seed), "y", "id", "t", "cohort")
        rows, e = _event_rows(res.aggregate("dynamic"))
        band, _ = _event_rows(res.aggregate("dynamic", band="uniform", n_boot=499, seed=seed))
        assert len(e) == 7
        pointwise += _covers(rows, true_effect(e))
        uniform += _covers(band, true_effect(e))
    assert 0.92 <= uniform / n_rep <= 0.99
    assert pointwise / n_rep <= uniform / n_rep - 0.1


@pytest.mark.parametrize("name", ["castle", "staggered"])
@pytest.mark.parametrize("kind", ["group", "dynamic"])
def test_band_is_wider_than_pointwise_and_below_bonferroni(fits, name, kind):
    res = fits[name]
    pointwise = res.aggregate(kind)
    band = res.aggregate(kind, band="uniform", seed=11)
    k = len(band) - 1  # the average row keeps its pointwise interval
    crit = band.attrs["critical_value"]
    assert Z < crit < stats.norm.ppf(1 - 0.05 / (2 * k))
    width = (band["conf_high"] - band["conf_low"]) / (pointwise["conf_high"] - pointwise["conf_low"])
    assert (width.iloc[:k] > 1).all()
    half = (band["conf_high"] - band["estimate"]).iloc[:k]
    np.testing.assert_allclose(half, crit * band["std_error"].iloc[:k], rtol=1e-12)
    assert (band["inference"].iloc[:k] == "uniform band (multiplier bootstrap)").all()
    pd.testing.assert_frame_equal(band.iloc[k:], pointwise.iloc[k:])
    pd.testing.assert_frame_equal(band[["term", "estimate"]], pointwise[["term", "estimate"]])


def test_one_event_time_gives_the_pointwise_critical_value():
    """Two periods, one cohort: one event time, so the sup-t band is the bootstrap pointwise interval."""
    res = api.staggered_did(simulate(3, n=300, periods=2, cohorts=(2,)), "y", "id", "t", "cohort")
    pointwise = res.aggregate("dynamic")
    band = res.aggregate("dynamic", band="uniform", n_boot=4999, seed=7)
    assert band["term"].tolist() == ["event_time=0", "average"]
    assert band.attrs["critical_value"] == pytest.approx(Z, abs=0.1)
    np.testing.assert_allclose(band["std_error"].iloc[0], pointwise["std_error"].iloc[0], rtol=0.05)
    np.testing.assert_allclose(band["p_value"].iloc[0], pointwise["p_value"].iloc[0], atol=0.02)


def test_same_seed_same_band_and_defaults_unchanged(fits):
    res = fits["staggered"]
    first = res.aggregate("dynamic", band="uniform", n_boot=199, seed=5)
    again = res.aggregate("dynamic", band="uniform", n_boot=199, seed=5)
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    assert (
        first.attrs
        == again.attrs
        == {"critical_value": first.attrs["critical_value"], "n_boot": 199, "multipliers": "rademacher"}
    )
    other = res.aggregate("dynamic", band="uniform", n_boot=199, seed=6)
    assert other.attrs["critical_value"] != first.attrs["critical_value"]
    pd.testing.assert_frame_equal(
        res.aggregate("dynamic", band="pointwise"), res.aggregate("dynamic"), check_exact=True
    )
    assert res.aggregate("dynamic").attrs == {} and res.att_gt().attrs == {}
    assert list(res.att_gt().columns) == ["cohort", "time", "estimate", "std_error"]


@pytest.mark.parametrize("name", ["castle", "staggered"])
def test_adjusted_p_value_agrees_with_the_band(fits, name):
    """The sup-t p-value is below 1 - level exactly when the band excludes 0."""
    for table in (
        fits[name].aggregate("dynamic", band="uniform", seed=2).iloc[:-1],
        fits[name].att_gt("uniform", seed=2),
    ):
        excludes = (table["conf_low"] > 0) | (table["conf_high"] < 0)
        assert ((table["p_value"] < 0.05) == excludes).all()
        assert excludes.any() and not excludes.all()


def test_multipliers_have_mean_zero_and_unit_variance():
    rng = np.random.default_rng(1)
    for kind, support in (("rademacher", [-1, 1]), ("mammen", [(1 - np.sqrt(5)) / 2, (1 + np.sqrt(5)) / 2])):
        v = multiplier_draws(rng, 4000, 50, kind)
        assert v.shape == (4000, 50)
        np.testing.assert_allclose(np.unique(v), support)
        assert abs(v.mean()) < 0.01 and abs(v.var() - 1) < 0.01
    assert abs(np.mean(multiplier_draws(rng, 4000, 50, "mammen") ** 3) - 1) < 0.05  # Mammen's third moment is 1


def test_mammen_multipliers_give_a_similar_band(fits):
    res = fits["staggered"]
    rademacher = res.aggregate("dynamic", band="uniform", n_boot=4999, seed=1)
    mammen = res.aggregate("dynamic", band="uniform", n_boot=4999, seed=1, multipliers="mammen")
    assert mammen.attrs["multipliers"] == "mammen"
    assert mammen.attrs["critical_value"] == pytest.approx(rademacher.attrs["critical_value"], abs=0.15)
    np.testing.assert_allclose(mammen["std_error"], rademacher["std_error"], rtol=0.1)


@pytest.mark.parametrize("name", ["castle", "staggered"])
def test_bootstrap_ses_and_critical_values_match_csdid(fits, name):
    """csdid draws its own multipliers: agreement up to bootstrap noise of 20000 draws each."""
    res, ref = fits[name], CSDID[name]
    n_boot = CSDID["biters"]
    for kind in ("group", "dynamic"):
        band = res.aggregate(kind, band="uniform", n_boot=n_boot, seed=3)
        k = len(ref[kind]["se"])
        prefix = "cohort=" if kind == "group" else "event_time="
        assert band["term"].iloc[:k].tolist() == [f"{prefix}{e}" for e in ref[kind]["egt"]]
        np.testing.assert_allclose(band["std_error"].iloc[:k], ref[kind]["se"], rtol=0.06)
        assert band.attrs["critical_value"] == pytest.approx(ref[kind]["crit_val"], abs=0.08)
    cells = res.att_gt("uniform", n_boot=n_boot, seed=3)
    assert cells[["cohort", "time"]].astype(int).to_numpy().tolist() == ref["att_gt"]["cells"]
    np.testing.assert_allclose(cells["std_error"], ref["att_gt"]["se"], rtol=0.06)
    assert cells.attrs["critical_value"] == pytest.approx(ref["att_gt"]["crit_val"], abs=0.08)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: r.aggregate("dynamic", band="uniform", n_boot=1), "n_boot: expected a whole number"),
        (lambda r: r.aggregate("dynamic", band="uniform", n_boot=99.5), "n_boot: expected a whole number"),
        (lambda r: r.aggregate("dynamic", band="uniform", n_boot=True), "n_boot: expected a whole number"),
        (lambda r: r.aggregate("dynamic", band="simultaneous"), "band must be one of 'pointwise', 'uniform'"),
        (lambda r: r.att_gt(band="sup-t"), "band must be one of"),
        (lambda r: r.aggregate("dynamic", band="uniform", multipliers="webb"), "multipliers must be one of"),
        (lambda r: r.aggregate("simple", band="uniform"), "use type 'group' or 'dynamic'"),
        (lambda r: r.aggregate("calendar", band="uniform"), "type must be one of"),
    ],
)
def test_bad_band_arguments_say_so(fits, call, message):
    with pytest.raises(ValueError, match=message):
        call(fits["castle"])
