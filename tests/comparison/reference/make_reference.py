"""Produce the reference numbers the comparison tests check against.

Run from the repository root with the dev extra installed (pyfixest,
causaldata, differences):

    .venv/bin/python tests/comparison/reference/make_reference.py

It writes, next to this script:

* ``organ_donations.csv``: causaldata's ``organ_donations`` (Kessler and Roth
  2014 via Huntington-Klein, *The Effect*, ch. 18) with ``Treated`` =
  California from 2011 Q3;
* ``weighted_panel.csv``: a small simulated weighted district panel with two
  cohorts (seed 20240611);
* ``staggered_panel.csv``: a simulated balanced panel for Callaway-Sant'Anna;
* ``reference.json``: pyfixest 0.60 TWFE estimates with CRV1/CRV3,
  statsmodels OLS-with-dummies cluster covariance, and ``differences`` 0.3
  group-time and aggregated ATTs.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyfixest as pf
import statsmodels.formula.api as smf
from causaldata import organ_donations
from differences import ATTgt

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))
from simulate import simulate_turnout  # noqa: E402

warnings.filterwarnings("ignore")


def organ() -> dict:
    d = organ_donations.load_pandas().data
    d["Treated"] = ((d["State"] == "California") & d["Quarter"].isin(["Q32011", "Q42011", "Q12012"])).astype(int)
    d.to_csv(HERE / "organ_donations.csv", index=False)
    m = pf.feols("Rate ~ Treated | State + Quarter", data=d, vcov={"CRV1": "State"})
    sm = smf.ols("Rate ~ Treated + C(State) + C(Quarter)", data=d).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(d["State"])[0]}
    )
    n, k, g = len(d), sm.df_model + 1, d["State"].nunique()
    # statsmodels' cluster factor G/(G-1)(N-1)/(N-K) counts every state dummy in K; rescale to fixest's nested K (= 7)
    to_nested = ((n - 1) / (n - 7)) / ((n - 1) / (n - k))
    return {
        "estimate": float(m.coef()["Treated"]),
        "crv1_se": float(m.se()["Treated"]),
        "statsmodels_estimate": float(sm.params["Treated"]),
        "statsmodels_dummies_crv1_se_nested_k": float(sm.bse["Treated"] * np.sqrt(to_nested)),
        "n_obs": n,
        "n_clusters": g,
    }


def weighted() -> dict:
    rng = np.random.default_rng(20240611)
    turnout, areas = simulate_turnout(rng, n_municipalities=25, n_pilots=5, effect_pp=1.5, districts=(2, 6))
    d = turnout.merge(areas[["area_code", "pilot_start", "share_higher_education"]], on="area_code")
    d["treated"] = (d["election_date"] >= d["pilot_start"]).astype(int)
    d["turnout_pp"] = 100 * d["turnout"]
    d["low"] = (
        d["share_higher_education"] <= d.drop_duplicates("area_code")["share_higher_education"].quantile(1 / 3)
    ).astype(int)
    d["treated_low"] = d["treated"] * d["low"]
    d["election_low"] = d["election_year"].astype(str) + "_" + d["low"].astype(str)
    d.drop(columns=["pilot_start"]).to_csv(HERE / "weighted_panel.csv", index=False)
    out = {}
    for vc in ("CRV1", "CRV3"):
        m = pf.feols(
            "turnout_pp ~ treated | area_code + election_year",
            data=d,
            weights="eligible_voters",
            vcov={vc: "municipality_code"},
        )
        out[f"did_{vc.lower()}_se_pyfixest"] = float(m.se()["treated"])
        out["did_estimate"] = float(m.coef()["treated"])
    m = pf.feols(
        "turnout_pp ~ treated + treated_low | area_code + election_low",
        data=d,
        weights="eligible_voters",
        vcov={"CRV1": "municipality_code"},
    )
    out["ddd_estimate"] = m.coef()[["treated", "treated_low"]].tolist()
    out["ddd_crv1_se"] = m.se()[["treated", "treated_low"]].tolist()
    out["n_obs"], out["n_clusters"] = len(d), int(d["municipality_code"].nunique())
    return out


def staggered() -> dict:
    rng = np.random.default_rng(7)
    n_a, n_t = 150, 7
    muni = np.repeat(np.arange(30), 5)
    g = rng.choice([-1, -1, 2, 3, 5], 30)[muni]
    w = rng.uniform(100, 2000, n_a)
    y = rng.normal(0, 1, (n_a, 1)) + 0.5 * np.arange(n_t)[None] + rng.normal(0, 1, (n_a, n_t))
    for i in range(n_a):
        if g[i] > 0:
            y[i, g[i] :] += 1 + 0.3 * np.arange(n_t - g[i])
    d = pd.DataFrame(
        {
            "id": np.repeat(np.arange(n_a), n_t),
            "t": np.tile(np.arange(n_t), n_a) + 1,
            "y": y.ravel(),
            "w": np.repeat(w, n_t),
            "muni": np.repeat(muni, n_t),
            "first": np.repeat(g, n_t),
        }
    )
    d.to_csv(HERE / "staggered_panel.csv", index=False)
    d2 = d.assign(cohort=np.where(d["first"] >= 0, d["first"] + 1, np.nan)).set_index(["id", "t"])
    out = {}
    for control in ("never_treated", "not_yet_treated"):
        att = ATTgt(data=d2, cohort_column="cohort")
        res = att.fit("y", control_group=control, weights_column="w", progress_bar=False)
        gt = res.results if hasattr(res, "results") else att.results()
        gt = gt.reset_index()
        gt.columns = ["_".join(str(x) for x in c if x) if isinstance(c, tuple) else c for c in gt.columns]
        out[control] = {
            "group_time": [[int(r.iloc[0]) - 1, int(r.iloc[2]) - 1, float(r.iloc[3])] for _, r in gt.iterrows()],
            "simple": float(att.aggregate("simple").iloc[0, 0]),
            "event": {int(k): float(v) for k, v in att.aggregate("event").iloc[:, 0].items()},
            "cohort": {int(k) - 1: float(v) for k, v in att.aggregate("cohort").iloc[:, 0].items()},
        }
    return out


if __name__ == "__main__":
    ref = {
        "organ_donations": organ(),
        "weighted_panel": weighted(),
        "staggered": staggered(),
        "versions": {"pyfixest": pf.__version__, "differences": __import__("differences").__version__},
    }
    (HERE / "reference.json").write_text(json.dumps(ref, indent=2))
    print(json.dumps(ref, indent=2)[:3000])
