"""Produce pyfixest reference numbers for ``evaluation.api.did`` and ``event_study`` on the castle panel.

Run from the repository root in a throwaway environment (CI needs none of these packages):

    python3.11 -m venv /tmp/refenv
    /tmp/refenv/bin/pip install pyfixest==0.60.0 pandas
    /tmp/refenv/bin/python tests/comparison/reference/make_api_reference.py

It reads ``castle.csv`` (written by ``make_cs_reference.py``) and writes
``api_reference.json``: for each case the pyfixest call, the coefficients and
their standard errors.  ``post`` (the treatment dummy) is ``year >= effyear``;
the event-study regressors are dummies ``rel_<k>`` (``rel_m<k>`` for leads)
for every observed ``k = year - effyear`` other than the reference ``-1``;
never-treated states have none.  ``sun_abraham_unweighted`` is pyfixest's
saturated (Sun-Abraham) event study aggregated per event time.
"""

from __future__ import annotations

import json
import warnings
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import pyfixest as pf
from pyfixest.did.saturated_twfe import SaturatedEventStudy

HERE = Path(__file__).parent
warnings.filterwarnings("ignore")


def fit(formula: str, data: pd.DataFrame, weights: str | None, vcov: dict) -> dict:
    m = pf.feols(formula, data=data, weights=weights, vcov=vcov)
    return {
        "call": f'pf.feols("{formula}", data=castle, weights={weights!r}, vcov={vcov!r})',
        "coef": {k: float(v) for k, v in m.coef().items()},
        "se": {k: float(v) for k, v in m.se().items()},
        "n_obs": int(m._N),
    }


if __name__ == "__main__":
    d = pd.read_csv(HERE / "castle.csv")
    d["post"] = (d["year"] >= d["effyear"]).astype(int)  # NaN effyear -> 0
    rel = d["year"] - d["effyear"]
    names = []
    for k in sorted(int(k) for k in rel.dropna().unique() if k != -1):
        names.append(f"rel_m{-k}" if k < 0 else f"rel_{k}")
        d[names[-1]] = (rel == k).astype(int)
    ref = {"versions": {"pyfixest": version("pyfixest")}}
    for w in (None, "popwt"):
        tag = "weighted" if w else "unweighted"
        for vc in ("CRV1", "CRV3"):
            ref[f"did_{tag}_{vc.lower()}"] = fit("l_homicide ~ post | sid + year", d, w, {vc: "sid"})
        ref[f"event_{tag}_crv1"] = fit(f"l_homicide ~ {' + '.join(names)} | sid + year", d, w, {"CRV1": "sid"})
    d["g"] = d["effyear"].fillna(0).astype(int)
    sa = SaturatedEventStudy(
        d, yname="l_homicide", idname="sid", tname="year", gname="g", cluster="sid", display_warning=False
    )
    sa.estimate()
    # pyfixest 0.60's aggregate() looks these up on the fitted model; hand them over
    sa.mod._res_cohort_eventtime_dict, sa.mod._gname = sa._res_cohort_eventtime_dict, sa._gname
    agg = sa.aggregate()
    ref["sun_abraham_unweighted"] = {
        "call": 'SaturatedEventStudy(castle, yname="l_homicide", idname="sid", tname="year", gname="g (NaN -> 0)", '
        'cluster="sid").aggregate()',
        "event_time": [int(k) for k in agg.index],
        "estimate": agg["Estimate"].astype(float).tolist(),
        "se": agg["Std. Error"].astype(float).tolist(),
    }
    (HERE / "api_reference.json").write_text(json.dumps(ref, indent=1))
    print(json.dumps({k: v for k, v in ref.items() if k.startswith("did")}, indent=1))
