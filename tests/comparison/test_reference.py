"""Estimates and cluster-robust SEs against pyfixest / statsmodels / differences numbers.

The numbers live in ``reference/reference.json``; ``reference/make_reference.py``
produced them (pyfixest 0.60, differences 0.3, statsmodels 0.15).
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.comparison.inference import crv1, crv3
from evaluation.comparison.staggered import CallawaySantAnna
from evaluation.comparison.twfe import fit_within
from evaluation.comparison.within import WithinProjector

REF = Path(__file__).parent / "reference"
NUMBERS = json.loads((REF / "reference.json").read_text())


def test_organ_donations_matches_pyfixest_and_statsmodels():
    d = pd.read_csv(REF / "organ_donations.csv")
    proj = WithinProjector.build(d["State"].to_numpy(), d["Quarter"].to_numpy(), np.ones(len(d)))
    fit = fit_within(proj, d["Rate"].to_numpy(), d[["Treated"]].to_numpy(), ("Treated",), d["State"].to_numpy())
    ref = NUMBERS["organ_donations"]
    se = np.sqrt(crv1(fit)[0, 0])
    np.testing.assert_allclose(fit.coef[0], -0.022459, atol=5e-7)
    np.testing.assert_allclose(se, 0.006131, atol=5e-7)
    np.testing.assert_allclose(fit.coef[0], ref["estimate"], rtol=1e-10)
    np.testing.assert_allclose(se, ref["crv1_se"], rtol=1e-10)
    np.testing.assert_allclose(se, ref["statsmodels_dummies_crv1_se_nested_k"], rtol=1e-10)
    assert fit.n_params == 7 and fit.n_clusters == ref["n_clusters"]
    # one treated state: leaving California out loses identification, so CRV3 is undefined
    assert np.isnan(crv3(fit)).all()


@pytest.fixture(scope="module")
def weighted_panel():
    d = pd.read_csv(REF / "weighted_panel.csv", dtype={"municipality_code": str, "area_code": str})
    return d, NUMBERS["weighted_panel"]


def test_weighted_did_crv1_crv3(weighted_panel):
    d, ref = weighted_panel
    proj = WithinProjector.build(
        d["area_code"].to_numpy(), d["election_year"].to_numpy(), d["eligible_voters"].to_numpy()
    )
    fit = fit_within(
        proj, d["turnout_pp"].to_numpy(), d[["treated"]].to_numpy(), ("treated",), d["municipality_code"].to_numpy()
    )
    np.testing.assert_allclose(fit.coef[0], ref["did_estimate"], rtol=1e-9)
    np.testing.assert_allclose(np.sqrt(crv1(fit)[0, 0]), ref["did_crv1_se_pyfixest"], rtol=1e-9)
    # pyfixest scales the jackknife sum by the CRV1 factor; ours by (G-1)/G (MacKinnon, Nielsen and Webb 2023)
    g, n, k = fit.n_clusters, fit.n_obs, fit.n_params
    to_pyfixest = (g / (g - 1) * (n - 1) / (n - k)) / ((g - 1) / g)
    np.testing.assert_allclose(np.sqrt(crv3(fit)[0, 0] * to_pyfixest), ref["did_crv3_se_pyfixest"], rtol=1e-9)


def test_weighted_triple_difference(weighted_panel):
    d, ref = weighted_panel
    proj = WithinProjector.build(
        d["area_code"].to_numpy(), d["election_low"].to_numpy(), d["eligible_voters"].to_numpy()
    )
    fit = fit_within(
        proj,
        d["turnout_pp"].to_numpy(),
        d[["treated", "treated_low"]].to_numpy(),
        ("treated", "treated_low"),
        d["municipality_code"].to_numpy(),
    )
    np.testing.assert_allclose(fit.coef, ref["ddd_estimate"], rtol=1e-9)
    np.testing.assert_allclose(np.sqrt(np.diag(crv1(fit))), ref["ddd_crv1_se"], rtol=1e-9)


@pytest.mark.parametrize("control", ["never_treated", "not_yet_treated"])
def test_callaway_santanna_matches_differences(control):
    d = pd.read_csv(REF / "staggered_panel.csv").sort_values(["id", "t"])
    n_t = d["t"].nunique()
    y = d["y"].to_numpy().reshape(-1, n_t)
    first = d.groupby("id")["first"].first().to_numpy()
    cs = CallawaySantAnna(
        y, d.groupby("id")["w"].first().to_numpy(), first, d.groupby("id")["muni"].first().to_numpy(), control=control
    )
    ref = NUMBERS["staggered"][control]
    gt = cs.group_time().set_index(["group", "period"])["att"]
    for g, t, att in ref["group_time"]:
        np.testing.assert_allclose(gt.loc[(g, t)], att, atol=1e-6)
    assert len(gt) == len(ref["group_time"])
    np.testing.assert_allclose(cs.aggregate("simple")[0], ref["simple"], atol=1e-6)
    for e, att in ref["event"].items():
        np.testing.assert_allclose(cs.aggregate("dynamic", int(e))[0], att, atol=1e-6)
    for g, att in ref["cohort"].items():
        np.testing.assert_allclose(_cohort(cs, int(g)), att, atol=1e-6)


def test_group_time_att_is_the_weighted_two_by_two():
    d = pd.read_csv(REF / "staggered_panel.csv").sort_values(["id", "t"])
    n_t = d["t"].nunique()
    y = d["y"].to_numpy().reshape(-1, n_t)
    first = d.groupby("id")["first"].first().to_numpy()
    w = d.groupby("id")["w"].first().to_numpy()
    cs = CallawaySantAnna(y, w, first, d.groupby("id")["muni"].first().to_numpy())
    gt = cs.group_time().set_index(["group", "period"])["att"]
    g, t = 3, 5
    treated, never = first == g, first < 0
    diff = y[:, t] - y[:, g - 1]
    direct = np.average(diff[treated], weights=w[treated]) - np.average(diff[never], weights=w[never])
    np.testing.assert_allclose(gt.loc[(g, t)], direct, rtol=1e-12)


def _cohort(cs: CallawaySantAnna, g: int) -> float:
    gt = cs.group_time()
    post = gt[(gt["group"] == g) & (gt["period"] >= g)]
    return float(post["att"].mean())
