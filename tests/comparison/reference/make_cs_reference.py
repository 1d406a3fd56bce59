"""Produce csdid reference numbers for Callaway-Sant'Anna with weights and clusters.

Run from the repository root in a throwaway environment (CI needs none of these packages):

    python3.11 -m venv /tmp/refenv
    /tmp/refenv/bin/pip install csdid==0.4.3 causaldata==0.1.5 pandas
    /tmp/refenv/bin/python tests/comparison/reference/make_cs_reference.py

It writes, next to this script:

* ``castle.csv``: causaldata's ``castle`` (Cheng and Hoekstra 2013, via
  Cunningham, *Causal Inference: The Mixtape*, ch. 9): log homicides per state
  and year 2000-2010, population weight ``popwt``; ``effyear`` (first year with
  ``post = 1``, empty for never treated) is derived here;
* ``cs_reference.json``: csdid 0.4.3 ``ATTgt(...).fit(est_method="dr",
  bstrap=False)`` group-time ATTs and ``aggte`` simple, group and dynamic
  aggregations with their analytic standard errors, for the castle panel
  (weighted by ``popwt``, unit-level influence) and for ``staggered_panel.csv``
  (weighted by ``w``, clustered by ``muni``), with never-treated and
  not-yet-treated controls (varying base), and never-treated controls with the
  universal base period (``*_universal``); and the castle states ever treated
  alone, unweighted, not-yet-treated controls (``castle_treated_only_*``).  Each case stores the call that produced it.
"""

from __future__ import annotations

import contextlib
import io
import json
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
from causaldata import castle
from csdid.att_gt import ATTgt

HERE = Path(__file__).parent
warnings.filterwarnings("ignore")


def castle_panel() -> pd.DataFrame:
    d = castle.load_pandas().data[["sid", "year", "l_homicide", "popwt", "post"]].copy()
    first = d[d["post"] > 0].groupby("sid")["year"].min()
    d["effyear"] = d["sid"].map(first)
    d = d.drop(columns="post").sort_values(["sid", "year"])
    d.to_csv(HERE / "castle.csv", index=False)
    return d


def run(
    d: pd.DataFrame, y: str, t: str, i: str, g: str, w: str, cluster: str | None, control: str, base: str = "varying"
) -> dict:
    data = d.assign(_g=d[g].fillna(0).astype(int))
    call = (
        f'ATTgt(yname="{y}", tname="{t}", idname="{i}", gname="{g} (NaN -> 0)", data=..., '
        f'control_group="{control}", weights_name="{w}", clustervar={cluster!r}).fit(est_method="dr", base_period="{base}", bstrap=False)'
    )
    att = ATTgt(
        yname=y,
        tname=t,
        idname=i,
        gname="_g",
        data=data,
        control_group=control,
        weights_name=w,
        clustervar=cluster,
    )
    with contextlib.redirect_stdout(io.StringIO()):
        att = att.fit(est_method="dr", base_period=base, bstrap=False)
    res = att.results
    out = {
        "call": call,
        "group_time": [
            [int(a), int(b), float(c), float(s)] for a, b, c, s in zip(res["group"], res["year"], res["att"], res["se"])
        ],
    }
    for typec in ("simple", "group", "dynamic"):
        with contextlib.redirect_stdout(io.StringIO()):  # aggte prints its summary
            agg = att.aggte(typec=typec, bstrap=False, cband=False, clustervars=cluster).atte
        entry = {"overall_att": float(agg["overall_att"]), "overall_se": float(np.ravel(agg["overall_se"])[0])}
        if typec != "simple":
            entry["by"] = [
                [int(e), float(a), float(s)]
                for e, a, s in zip(agg["egt"], np.ravel(agg["att_egt"]), np.ravel(agg["se_egt"]))
            ]
        out[typec] = entry
    return out


if __name__ == "__main__":
    cas = castle_panel()
    stag = pd.read_csv(HERE / "staggered_panel.csv")
    stag["cohort"] = np.where(stag["first"] >= 0, stag["first"] + 1, np.nan)  # periods are t = 1..7
    ref = {"versions": {"csdid": version("csdid"), "causaldata": version("causaldata")}}
    for control in ("nevertreated", "notyettreated"):
        ref[f"castle_{control}"] = run(cas, "l_homicide", "year", "sid", "effyear", "popwt", None, control)
        ref[f"staggered_{control}"] = run(stag, "y", "t", "id", "cohort", "w", "muni", control)
    treated_only = cas.dropna(subset=["effyear"])  # csdid drops the periods from the last cohort's start on
    ref["castle_treated_only_notyettreated"] = run(
        treated_only, "l_homicide", "year", "sid", "effyear", None, None, "notyettreated"
    )
    ref["castle_universal"] = run(
        cas, "l_homicide", "year", "sid", "effyear", "popwt", None, "nevertreated", "universal"
    )
    ref["staggered_universal"] = run(stag, "y", "t", "id", "cohort", "w", "muni", "nevertreated", "universal")
    (HERE / "cs_reference.json").write_text(json.dumps(ref, indent=1))
    print(json.dumps({k: v["simple"] for k, v in ref.items() if k != "versions"}, indent=1))
