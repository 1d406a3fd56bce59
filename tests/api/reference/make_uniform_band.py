"""csdid reference numbers for the multiplier-bootstrap uniform bands.

Run from the repository root in a throwaway environment (CI needs none of these packages):

    python3.11 -m venv /tmp/refenv
    /tmp/refenv/bin/pip install csdid==0.4.3 pandas
    /tmp/refenv/bin/python tests/api/reference/make_uniform_band.py

It writes ``uniform_band.json`` next to this script: csdid's bootstrap
standard errors and simultaneous critical value (``bstrap=True, cband=True``,
``biters`` below, Rademacher multipliers, seeded through ``np.random.seed``)
for the dynamic and group aggregations and the group-time cells of the castle
panel (weighted by ``popwt``, unit multipliers) and of ``staggered_panel.csv``
(weighted by ``w``, one multiplier per ``muni``), never-treated controls,
varying base.  They are Monte Carlo numbers: the test compares them with
evaluation's own draws at a tolerance for bootstrap noise.
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
REF = HERE.parent.parent / "comparison" / "reference"
BITERS = 20000
SEED = 20261215
CASES = ("castle", "staggered")
warnings.filterwarnings("ignore")


def run(d: pd.DataFrame, y: str, t: str, i: str, g: str, w: str, cluster: str | None) -> dict:
    call = (
        f'ATTgt(yname="{y}", tname="{t}", idname="{i}", gname="{g} (NaN -> 0)", data=..., weights_name="{w}", '
        f"clustervar={cluster!r}, cband=True, biters={BITERS}).fit(est_method='dr', bstrap=True); "
        f"aggte(typec=..., bstrap=True, cband=True, biters={BITERS}, clustervars={cluster!r}); "
        f"np.random.seed({SEED}) before each"
    )
    np.random.seed(SEED)
    att = ATTgt(
        yname=y,
        tname=t,
        idname=i,
        gname="_g",
        data=d.assign(_g=d[g].fillna(0).astype(int)),
        weights_name=w,
        clustervar=cluster,
        cband=True,
        biters=BITERS,
    )
    with contextlib.redirect_stdout(io.StringIO()):
        att = att.fit(est_method="dr", base_period="varying", bstrap=True)
    res = att.results
    out = {
        "call": call,
        "att_gt": {
            "cells": [[int(a), int(b)] for a, b in zip(res["group"], res["year"])],
            "se": [float(s) for s in res["se"]],
            "crit_val": float(np.ravel(res["c"])[0]),
        },
    }
    for typec in ("group", "dynamic"):
        np.random.seed(SEED)
        with contextlib.redirect_stdout(io.StringIO()):  # aggte prints its summary
            agg = att.aggte(typec=typec, bstrap=True, cband=True, biters=BITERS, clustervars=cluster).atte
        out[typec] = {
            "egt": [int(e) for e in agg["egt"]],
            "se": [float(s) for s in np.ravel(agg["se_egt"])],
            "crit_val": float(agg["crit_val_egt"]),
        }
    return out


if __name__ == "__main__":
    castle = pd.read_csv(REF / "castle.csv")
    panel = pd.read_csv(REF / "staggered_panel.csv")
    panel["cohort"] = np.where(panel["first"] >= 0, panel["first"] + 1, np.nan)  # periods are t = 1..7
    ref = {
        "versions": {"csdid": version("csdid"), "numpy": version("numpy")},
        "biters": BITERS,
    }
    ref["castle"] = run(castle, "l_homicide", "year", "sid", "effyear", "popwt", None)
    ref["staggered"] = run(panel, "y", "t", "id", "cohort", "w", "muni")
    (HERE / "uniform_band.json").write_text(json.dumps(ref, indent=1))
    print({name: {kind: ref[name][kind]["crit_val"] for kind in ("att_gt", "group", "dynamic")} for name in CASES})
