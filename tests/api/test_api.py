"""evaluation.api against pyfixest and csdid, and its errors on bad input files.

Reference numbers: ``tests/comparison/reference/api_reference.json``
(pyfixest, ``make_api_reference.py``), ``cs_reference.json`` (csdid,
``make_cs_reference.py``), ``reference.json`` (pyfixest, ``make_reference.py``)
and ``tests/api/reference/cs_covariates.json`` (csdid with covariates and
anticipation, ``make_cs_covariates.py``).
"""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy import stats
from shared import REPO, TESTS

from evaluation import api
from evaluation.comparison.staggered import CallawaySantAnna
from evaluation.errors import EstimationError

REF = TESTS / "comparison" / "reference"
PYFIXEST = json.loads((REF / "api_reference.json").read_text())
CSDID = json.loads((REF / "cs_reference.json").read_text())
OLDER = json.loads((REF / "reference.json").read_text())
Z = stats.norm.ppf(0.975)


@pytest.fixture(scope="module")
def castle() -> pd.DataFrame:
    d = pd.read_csv(REF / "castle.csv")
    d["post"] = (d["year"] >= d["effyear"]).astype(int)
    return d


def _to_pyfixest_crv3(n_obs: int, n_params: int, g: int) -> float:
    """pyfixest scales the jackknife sum by the CRV1 factor; evaluation by (G-1)/G."""
    return (g / (g - 1) * (n_obs - 1) / (n_obs - n_params)) / ((g - 1) / g)


@pytest.mark.parametrize("weights", [None, "popwt"])
def test_did_matches_pyfixest_crv1_crv3(castle, weights):
    tag = "weighted" if weights else "unweighted"
    res = api.did(castle, "l_homicide", "sid", "year", "post", weights=weights, inference=("crv1", "crv3"))
    t = res.tidy().set_index("inference")
    crv1, crv3 = PYFIXEST[f"did_{tag}_crv1"], PYFIXEST[f"did_{tag}_crv3"]
    np.testing.assert_allclose(t.loc["crv1", "estimate"], crv1["coef"]["post"], atol=1e-9)
    np.testing.assert_allclose(t.loc["crv1", "std_error"], crv1["se"]["post"], atol=1e-9)
    factor = _to_pyfixest_crv3(550, 1 + 10 + 1, 50)  # K: treated, 10 year effects, the nested state effect as 1
    np.testing.assert_allclose(t.loc["crv3", "std_error"] * np.sqrt(factor), crv3["se"]["post"], atol=1e-9)
    q = stats.t.ppf(0.975, 49)
    np.testing.assert_allclose(t.loc["crv1", "conf_low"], crv1["coef"]["post"] - q * crv1["se"]["post"], atol=1e-9)


def test_did_weighted_clustered_panel_matches_pyfixest():
    d = pd.read_csv(REF / "weighted_panel.csv", dtype={"municipality_code": str, "area_code": str})
    res = api.did(
        d,
        "turnout_pp",
        "area_code",
        "election_year",
        "treated",
        cluster="municipality_code",
        weights="eligible_voters",
        inference=("crv1",),
    )
    ref = OLDER["weighted_panel"]
    row = res.tidy().iloc[0]
    np.testing.assert_allclose([row["estimate"], row["std_error"]], [ref["did_estimate"], ref["did_crv1_se_pyfixest"]])


def test_did_organ_donations_all_methods():
    d = pd.read_csv(REF / "organ_donations.csv")
    res = api.did(d, "Rate", "State", "Quarter", "Treated", n_draws=199, seed=3)
    t = res.tidy()
    assert list(t.columns) == list(api.TIDY_COLUMNS)
    assert t["inference"].tolist() == ["crv1", "crv3", "wild", "permutation"]
    ref = OLDER["organ_donations"]
    np.testing.assert_allclose(t["estimate"], ref["estimate"], rtol=1e-10)
    np.testing.assert_allclose(t.loc[0, "std_error"], ref["crv1_se"], rtol=1e-10)
    assert np.isnan(t.loc[1, "std_error"])  # one treated state: the jackknife loses identification
    # 27 states, one treated: the permutation test is exhaustive (27 assignments), p = rank / 27
    p = t.loc[3, "p_value"]
    assert 0 < p <= 1 and np.isclose(p * 27, round(p * 27))
    again = api.did(d, "Rate", "State", "Quarter", "Treated", n_draws=199, seed=3).tidy()
    pd.testing.assert_frame_equal(t, again)
    assert "27 (State)" in res.summary()
    assert isinstance(res.plot(), Figure)


def test_did_conley_taber_with_one_treated_state():
    d = pd.read_csv(REF / "organ_donations.csv")
    t = api.did(d, "Rate", "State", "Quarter", "Treated", inference=("crv1", "conley_taber")).tidy()
    ct = t.iloc[1]
    assert ct["inference"] == "conley_taber" and ct["estimate"] == t.iloc[0]["estimate"]
    assert ct["conf_low"] < ct["estimate"] < ct["conf_high"]
    # 26 placebo states: p = (1 + #{|placebo| >= |estimate|}) / 27
    assert np.isclose(ct["p_value"] * 27, round(ct["p_value"] * 27))
    d2 = pd.read_csv(REF / "weighted_panel.csv", dtype={"municipality_code": str, "area_code": str})
    with pytest.raises(EstimationError, match="needs exactly one treated cluster"):
        api.did(d2, "turnout_pp", "area_code", "election_year", "treated", inference=("conley_taber",))


def test_did_permutation_on_clustered_pilots():
    d = pd.read_csv(REF / "weighted_panel.csv", dtype={"municipality_code": str, "area_code": str})
    res = api.did(
        d,
        "turnout_pp",
        "area_code",
        "election_year",
        "treated",
        cluster="municipality_code",
        weights="eligible_voters",
        inference=("wild", "permutation"),
        n_draws=99,
        seed=1,
    )
    t = res.tidy()
    assert t["p_value"].between(0, 1).all()
    assert (t["conf_low"] < t["estimate"]).all() and (t["estimate"] < t["conf_high"]).all()


@pytest.mark.parametrize("weights", [None, "popwt"])
def test_event_study_matches_pyfixest(castle, weights):
    ref = PYFIXEST[f"event_{'weighted' if weights else 'unweighted'}_crv1"]
    res = api.event_study(castle, "l_homicide", "sid", "year", "effyear", weights=weights)
    t = res.tidy()
    names = [f"event_time={-int(k[5:]) if k.startswith('rel_m') else int(k[4:])}" for k in ref["coef"]]
    assert t["term"].tolist() == names
    np.testing.assert_allclose(t["estimate"], list(ref["coef"].values()), atol=1e-9)
    np.testing.assert_allclose(t["std_error"], list(ref["se"].values()), atol=1e-9)
    assert res.pretrend["df"] == (9, 49) and 0 <= res.pretrend["p_value"] <= 1
    assert isinstance(res.plot(), Figure) and "pre-trend" in res.summary()


def test_sun_abraham_matches_pyfixest(castle):
    ref = PYFIXEST["sun_abraham_unweighted"]
    res = api.event_study(castle, "l_homicide", "sid", "year", "effyear", method="sun_abraham")
    t = res.tidy()
    assert t["term"].tolist() == [f"event_time={k}" for k in ref["event_time"]]
    np.testing.assert_allclose(t["estimate"], ref["estimate"], atol=1e-9)
    np.testing.assert_allclose(t["std_error"], ref["se"], atol=1e-9)
    # with one cohort per event time the interaction-weighted estimate is that cohort's coefficient; here
    # several cohorts share most event times, so it differs from the TWFE event study
    twfe = api.event_study(castle, "l_homicide", "sid", "year", "effyear").tidy()
    assert not np.allclose(t["estimate"], twfe["estimate"])


def _staggered(name: str, control: str) -> tuple[api.StaggeredResult, dict]:
    if name == "castle":
        d = pd.read_csv(REF / "castle.csv")
        res = api.staggered_did(d, "l_homicide", "sid", "year", "effyear", control=control, weights="popwt")
    else:
        d = pd.read_csv(REF / "staggered_panel.csv")
        d["cohort"] = np.where(d["first"] >= 0, d["first"] + 1, np.nan)
        res = api.staggered_did(d, "y", "id", "t", "cohort", control=control, weights="w", cluster="muni")
    return res, CSDID[f"{name}_{ {'never': 'nevertreated', 'not_yet': 'notyettreated'}[control] }"]


@pytest.mark.parametrize("name", ["castle", "staggered"])
@pytest.mark.parametrize("control", ["never", "not_yet"])
def test_staggered_did_matches_csdid(name, control):
    res, ref = _staggered(name, control)
    gt = res.att_gt()
    assert list(gt.columns) == ["cohort", "time", "estimate", "std_error"]
    assert len(gt) == len(ref["group_time"])
    ours = gt.set_index(["cohort", "time"])
    for g, t, att, se in ref["group_time"]:
        np.testing.assert_allclose(ours.loc[(g, t)].to_numpy(float), [att, se], atol=1e-6)
    simple = res.aggregate("simple").iloc[0]
    np.testing.assert_allclose(
        [simple["estimate"], simple["std_error"]],
        [ref["simple"]["overall_att"], ref["simple"]["overall_se"]],
        atol=1e-6,
    )
    np.testing.assert_allclose(simple["conf_low"], simple["estimate"] - Z * simple["std_error"], rtol=1e-12)
    for kind, prefix in (("group", "cohort="), ("dynamic", "event_time=")):
        table = res.aggregate(kind).set_index("term")
        expected = {f"{prefix}{k}": (a, s) for k, a, s in ref[kind]["by"]}
        expected["average"] = (ref[kind]["overall_att"], ref[kind]["overall_se"])
        assert table.index.tolist() == list(expected)
        np.testing.assert_allclose(table[["estimate", "std_error"]].to_numpy(), list(expected.values()), atol=1e-6)
    pd.testing.assert_frame_equal(res.tidy(), res.aggregate("simple"))
    assert isinstance(res.plot(), Figure) and "dynamic aggregation" in res.summary()


COVARIATES = TESTS / "api" / "reference"
CS_COVARIATES = json.loads((COVARIATES / "cs_covariates.json").read_text())


def _check_against_csdid(res: api.StaggeredResult, ref: dict) -> None:
    ours = res.att_gt().set_index(["cohort", "time"])
    assert len(ours) == len(ref["group_time"])
    for g, t, att, se in ref["group_time"]:
        np.testing.assert_allclose(ours.loc[(g, t)].to_numpy(float), [att, se], atol=1e-6)
    simple = res.aggregate("simple").iloc[0]
    np.testing.assert_allclose(
        [simple["estimate"], simple["std_error"]],
        [ref["simple"]["overall_att"], ref["simple"]["overall_se"]],
        atol=1e-6,
    )
    for kind, prefix in (("group", "cohort="), ("dynamic", "event_time=")):
        table = res.aggregate(kind).set_index("term")
        expected = {f"{prefix}{k}": (a, s) for k, a, s in ref[kind]["by"]}
        expected["average"] = (ref[kind]["overall_att"], ref[kind]["overall_se"])
        assert table.index.tolist() == list(expected)
        np.testing.assert_allclose(table[["estimate", "std_error"]].to_numpy(), list(expected.values()), atol=1e-6)


@pytest.mark.parametrize("case", [k for k in CS_COVARIATES if k != "versions"])
def test_staggered_covariates_and_anticipation_match_csdid(case):
    """Doubly robust, IPW and regression cells, anticipation and clusters against csdid (``call`` in the json)."""
    d = pd.read_csv(COVARIATES / "cs_covariates_panel.csv")
    res = api.staggered_did(
        d,
        "y",
        "id",
        "t",
        "cohort",
        control="never" if case.startswith("never") else "not_yet",
        weights="w",
        cluster="muni" if case.endswith("cluster") else None,
        covariates=["x1", "x2"],
        est_method=case.split("_")[1],
        anticipation=1 if case.endswith("anticipation1") else 0,
    )
    _check_against_csdid(res, CS_COVARIATES[case])
    assert "x1, x2" in res.summary()


def test_covariates_change_the_estimate_and_intercept_only_is_unconditional():
    """The covariates matter on the reference panel; without them every est_method is the 2x2 DiD."""
    d = pd.read_csv(COVARIATES / "cs_covariates_panel.csv")
    plain = api.staggered_did(d, "y", "id", "t", "cohort", weights="w").att_gt()
    dr = api.staggered_did(d, "y", "id", "t", "cohort", weights="w", covariates=["x1"]).att_gt()
    assert np.max(np.abs(plain["estimate"] - dr["estimate"])) > 0.05
    for method in ("ipw", "reg"):
        other = api.staggered_did(d, "y", "id", "t", "cohort", weights="w", est_method=method).att_gt()
        pd.testing.assert_frame_equal(other, plain)


@pytest.mark.parametrize(
    ("edit", "covariates", "message"),
    [
        (lambda d: d, ["x9"], r"covariates\[0\]='x9': no such column"),
        (lambda d: d.assign(x1=d["x1"].astype(object).where(d.index != 5, "high")), ["x1"], r"covariate column 'x1'"),
        (lambda d: d.assign(x2=d["x2"].where(d.index != 7)), ["x1", "x2"], r"covariate column 'x2': missing.*1 row"),
        (lambda d: d.assign(x1=2.0), ["x1"], r"covariate column 'x1': constant \(2 on every row\)"),
    ],
    ids=["missing", "not numeric", "NaN", "constant"],
)
def test_bad_covariates_name_the_column(tmp_path, edit, covariates, message):
    d = _reread(edit(pd.read_csv(COVARIATES / "cs_covariates_panel.csv")), tmp_path)
    with pytest.raises(EstimationError, match=message):
        api.staggered_did(d, "y", "id", "t", "cohort", weights="w", covariates=covariates)


def test_anticipation_needs_a_period_before_the_window():
    d = pd.read_csv(COVARIATES / "cs_covariates_panel.csv")
    with pytest.raises(EstimationError, match=r"cohort column 'cohort': cohort 3 .*no period before its anticipation"):
        api.staggered_did(d, "y", "id", "t", "cohort", anticipation=2)


def test_staggered_drops_units_treated_in_the_first_period(castle):
    d = castle.copy()
    first_year = d["sid"].isin([1, 2])
    d.loc[first_year, "effyear"] = 2000
    with pytest.warns(UserWarning, match="dropped 2 unit"):
        res = api.staggered_did(d, "l_homicide", "sid", "year", "effyear", weights="popwt")
    without = api.staggered_did(d[~first_year], "l_homicide", "sid", "year", "effyear", weights="popwt")
    pd.testing.assert_frame_equal(res.aggregate("dynamic"), without.aggregate("dynamic"))


def test_not_yet_without_never_treated_drops_the_last_periods(castle):
    """As R did: the last cohort (2010) becomes the comparison group; the periods from 2010 on are dropped."""
    treated_only = castle.dropna(subset=["effyear"])
    with pytest.warns(UserWarning, match="dropped the periods from 2010 on"):
        res = api.staggered_did(treated_only, "l_homicide", "sid", "year", "effyear", control="not_yet")
    by_hand = treated_only[treated_only["year"] < 2010].assign(
        effyear=treated_only["effyear"].where(treated_only["effyear"] < 2010)
    )
    expected = api.staggered_did(by_hand, "l_homicide", "sid", "year", "effyear", control="not_yet")
    pd.testing.assert_frame_equal(res.att_gt(), expected.att_gt())
    assert res.att_gt()["time"].max() == 2009
    ref = CSDID["castle_treated_only_notyettreated"]
    ours = res.att_gt().set_index(["cohort", "time"])
    assert len(ours) == len(ref["group_time"])
    for g, t, att, se in ref["group_time"]:
        np.testing.assert_allclose(ours.loc[(g, t)].to_numpy(float), [att, se], atol=1e-6)
    # cohort 2006 (Florida) against 2010 (one state) in 2009: one unit a side, csdid reports no SE either
    assert np.isnan(ours.loc[(2006, 2009), "std_error"])
    for kind in ("simple", "group", "dynamic"):
        last = res.aggregate(kind).iloc[-1]
        np.testing.assert_allclose(
            [last["estimate"], last["std_error"]], [ref[kind]["overall_att"], ref[kind]["overall_se"]], atol=1e-6
        )


def test_a_cell_without_comparison_units_stops():
    """The core refuses a group-time cell whose comparison group is empty (before, it gave 0 with SE 0)."""
    outcome = np.arange(12.0).reshape(4, 3) ** 1.5
    groups = np.array([1, 1, 2, 2])  # no never-treated: nothing to compare with
    cs = CallawaySantAnna(outcome, np.ones(4), groups, np.arange(4), control="never_treated")
    with pytest.raises(EstimationError, match=r"cell \(cohort 1, period 1\) has no never-treated comparison"):
        cs.group_time()


# --- bad input files: each is written to disk and read back, as a researcher's file would be ---


def _reread(d: pd.DataFrame, tmp_path: Path) -> pd.DataFrame:
    path = tmp_path / "panel.csv"
    d.to_csv(path, index=False)
    return pd.read_csv(path)


def _did(d):
    return api.did(d, "l_homicide", "sid", "year", "post", inference=("crv1",))


def _event(d):
    return api.event_study(d, "l_homicide", "sid", "year", "effyear")


def _cs(d):
    return api.staggered_did(d, "l_homicide", "sid", "year", "effyear")


def _set(column, rows, value):
    def edit(d):
        d = d.copy()
        d[column] = d[column].astype(object) if isinstance(value, str) else d[column]
        d.loc[rows, column] = value
        return d

    return edit


BAD = [
    ("missing column", lambda d: d.drop(columns="post"), [_did], r"treated='post': no such column"),
    ("missing column", lambda d: d.drop(columns="effyear"), [_event, _cs], r"cohort='effyear': no such column"),
    ("NaN unit", _set("sid", [3], np.nan), [_did, _event, _cs], r"unit column 'sid': missing value in 1 row"),
    ("NaN time", _set("year", [4, 5], np.nan), [_did], r"time column 'year': missing value in 2 row"),
    ("NaN time", _set("year", [4, 5], np.nan), [_event, _cs], r"time column 'year': missing"),
    ("non-binary treated", _set("post", [7], 2), [_did], r"treated column 'post': values 2 .*expected 0 or 1"),
    ("text treated", _set("post", [7], "yes"), [_did], r"treated column 'post': values 'yes'"),
    ("constant outcome", _set("l_homicide", slice(None), 1.5), [_did, _event, _cs], r"outcome column 'l_homicide'"),
    ("NaN outcome", _set("l_homicide", [9], np.nan), [_did, _event, _cs], r"outcome column 'l_homicide': missing"),
    ("cohort after the panel", lambda d: d.assign(effyear=d["effyear"].replace(2010, 2012)), [_event, _cs], r"2012"),
    ("cohort before the panel", lambda d: d.assign(effyear=d["effyear"].replace(2006, 1990)), [_event, _cs], r"1990"),
    ("cohort not a period", lambda d: d.assign(effyear=d["effyear"].replace(2008, 2008.5)), [_cs], r"2008.5"),
    (
        "cohort 0 is a period",
        lambda d: d.assign(year=d["year"] - 2000, effyear=(d["effyear"] - 2000).fillna(0)),
        [_event, _cs],
        r"0 in 319 row.*ambiguous",
    ),
    ("cohort varies in unit", _set("effyear", [0], 2009), [_event, _cs], r"cohort column 'effyear': differs"),
]


@pytest.mark.parametrize(("case", "edit", "calls", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_the_column(castle, tmp_path, case, edit, calls, message):
    d = _reread(edit(castle), tmp_path)
    for call in calls:
        with pytest.raises(EstimationError, match=message):
            call(d)


def test_bad_weights_and_panel_shape(castle, tmp_path):
    d = _reread(castle.assign(popwt=castle["popwt"].where(castle.index != 11, 0)), tmp_path)
    with pytest.raises(EstimationError, match=r"weights column 'popwt': weight <= 0 in 1 row"):
        api.did(d, "l_homicide", "sid", "year", "post", weights="popwt", inference=("crv1",))
    with pytest.raises(EstimationError, match=r"weights column 'popwt': differs within unit"):
        api.staggered_did(d, "l_homicide", "sid", "year", "effyear", weights="popwt")
    unbalanced = _reread(castle.drop(index=[20]), tmp_path)
    with pytest.raises(EstimationError, match=r"unit 2 is observed in 10 of 11 periods.*balanced"):
        _cs(unbalanced)
    doubled = _reread(pd.concat([castle, castle.iloc[[0]]]), tmp_path)
    with pytest.raises(EstimationError, match=r"unit 1 has 2 rows in period 2000"):
        _cs(doubled)


def test_permutation_needs_treatment_set_by_cluster(castle, tmp_path):
    d = castle.assign(region=castle["sid"] % 5)
    d = _reread(d, tmp_path)
    with pytest.raises(EstimationError, match=r"units of cluster .* differ in treatment in the same period"):
        api.did(d, "l_homicide", "sid", "year", "post", cluster="region", inference=("permutation",))


def test_unbuilt_options_say_so(castle):
    with pytest.raises(EstimationError, match="est_method: expected one of 'dr', 'ipw', 'reg'"):
        api.staggered_did(castle, "l_homicide", "sid", "year", "effyear", covariates=["popwt"], est_method="ols")
    with pytest.raises(EstimationError, match="anticipation: expected a whole number"):
        api.staggered_did(castle, "l_homicide", "sid", "year", "effyear", anticipation=-1)
    with pytest.raises(EstimationError, match="method must be"):
        api.event_study(castle, "l_homicide", "sid", "year", "effyear", method="callaway")
    with pytest.raises(EstimationError, match="unknown method"):
        api.did(castle, "l_homicide", "sid", "year", "post", inference=("bootstrap",))
    treated_only = castle.dropna(subset=["effyear"])
    with pytest.raises(EstimationError, match="no never-treated unit"):
        api.staggered_did(treated_only, "l_homicide", "sid", "year", "effyear")
    for method in ("twfe", "sun_abraham"):
        with pytest.raises(EstimationError, match="no never-treated unit"):
            api.event_study(treated_only, "l_homicide", "sid", "year", "effyear", method=method)
    with pytest.raises(ValueError, match="type must be one of"):
        api.staggered_did(castle, "l_homicide", "sid", "year", "effyear").aggregate("calendar")


def test_quickstart_runs(monkeypatch):
    """Every ``python`` block of docs/api.md runs, in order, in one namespace, from the repository root."""
    root = REPO
    text = (root / "docs" / "api.md").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)
    assert len(blocks) >= 5
    monkeypatch.chdir(root)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "docs/api.md", "exec"), namespace)  # noqa: S102 - the page's own examples
    assert isinstance(namespace["figure"], Figure)
    assert list(namespace["cs"].aggregate("dynamic").columns) == list(api.TIDY_COLUMNS)
