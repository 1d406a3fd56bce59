"""csdid reference numbers for Callaway-Sant'Anna with covariates and anticipation.

Run from the repository root in a throwaway environment (CI needs none of these packages):

    python3.11 -m venv /tmp/api_ref
    /tmp/api_ref/bin/pip install csdid==0.4.3 pandas
    /tmp/api_ref/bin/python tests/api/reference/make_cs_covariates.py

It writes, next to this script:

* ``cs_covariates_panel.csv``: a simulated balanced panel (seed 20261202) of
  300 units in 8 periods, cohorts 3-6 and never treated (``cohort`` empty),
  unit weight ``w``, cluster ``muni`` (60), a time-invariant covariate ``x1``
  and a time-varying ``x2`` that both shift the trend and the cohort
  membership, so conditional and unconditional estimates differ;
* ``cs_covariates.json``: csdid ``ATTgt(..., xformla="y ~ x1 + x2").fit(est_method=...,
  bstrap=False)`` group-time ATTs and ``aggte`` simple, group and dynamic
  aggregations with their analytic standard errors, for ``est_method`` dr, ipw
  and reg, never-treated and not-yet-treated controls, weighted by ``w``;
  anticipation 1 (dr); and one case clustered by ``muni``.  Each case
  stores the call that produced it.
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
from csdid.att_gt import ATTgt

HERE = Path(__file__).parent
warnings.filterwarnings("ignore")


def simulate(seed: int = 20261202, n: int = 300, periods: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    score = 0.8 * x1 + rng.normal(size=n)
    cohort = np.select([score > 1.2, score > 0.5, score > 0.0, score > -0.5], [3, 4, 5, 6], np.nan)
    w = rng.uniform(200, 3000, size=n)
    muni = rng.integers(0, 60, size=n)
    alpha = rng.normal(size=n)
    rows = []
    for t in range(1, periods + 1):
        x2 = 0.3 * x1 + 0.1 * t + rng.normal(scale=0.5, size=n)
        effect = np.where(
            np.isfinite(cohort) & (t >= np.nan_to_num(cohort, nan=99) - 1), 0.5 + 0.2 * (t - np.nan_to_num(cohort)), 0
        )
        y = alpha + 0.3 * t + 0.4 * x1 * t + 0.5 * x2 + effect + rng.normal(scale=0.7, size=n)
        rows.append(
            pd.DataFrame(
                {"id": np.arange(n), "t": t, "y": y, "x1": x1, "x2": x2, "w": w, "muni": muni, "cohort": cohort}
            )
        )
    return pd.concat(rows).sort_values(["id", "t"], kind="stable").reset_index(drop=True)


def run(d: pd.DataFrame, control: str, est_method: str, anticipation: int = 0, cluster: str | None = None) -> dict:
    call = (
        f'ATTgt(yname="y", tname="t", idname="id", gname="cohort (NaN -> 0)", data=..., xformla="y ~ x1 + x2", '
        f'control_group="{control}", anticipation={anticipation}, weights_name="w", clustervar={cluster!r})'
        f'.fit(est_method="{est_method}", base_period="varying", bstrap=False)'
    )
    att = ATTgt(
        yname="y",
        tname="t",
        idname="id",
        gname="_g",
        data=d.assign(_g=d["cohort"].fillna(0).astype(int)),
        xformla="y ~ x1 + x2",
        control_group=control,
        anticipation=anticipation,
        weights_name="w",
        clustervar=cluster,
    )
    with contextlib.redirect_stdout(io.StringIO()):
        att = att.fit(est_method=est_method, base_period="varying", bstrap=False)
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
    panel = simulate()
    panel.to_csv(HERE / "cs_covariates_panel.csv", index=False)
    ref = {"versions": {"csdid": version("csdid"), "drdid": version("drdid")}}
    for control in ("nevertreated", "notyettreated"):
        for method in ("dr", "ipw", "reg"):
            ref[f"{control}_{method}"] = run(panel, control, method)
        ref[f"{control}_dr_anticipation1"] = run(panel, control, "dr", anticipation=1)
    ref["nevertreated_dr_cluster"] = run(panel, "nevertreated", "dr", cluster="muni")
    (HERE / "cs_covariates.json").write_text(json.dumps(ref, indent=1))
    print(json.dumps({k: v["simple"] for k, v in ref.items() if k != "versions"}, indent=1))
