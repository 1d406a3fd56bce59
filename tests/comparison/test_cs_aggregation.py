"""Callaway-Sant'Anna ATT(g,t), aggregations and their analytic SEs against csdid, with weights.

The numbers live in ``reference/cs_reference.json``; ``reference/make_cs_reference.py``
produced them (csdid 0.4.3, ``bstrap=False``).  The aggregated SEs include the
influence of the estimated cohort shares (``did::aggte``'s ``wif``).
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.comparison.staggered import CallawaySantAnna, Cell

REF = Path(__file__).parent / "reference"
NUMBERS = json.loads((REF / "cs_reference.json").read_text())
CONTROL = {"nevertreated": "never_treated", "notyettreated": "not_yet_treated"}


def _panel(name: str) -> tuple[dict, np.ndarray]:
    """Arrays of a reference panel: outcome, weight, cohort index, cluster index, period labels."""
    if name == "castle":
        d = pd.read_csv(REF / "castle.csv").sort_values(["sid", "year"])
        unit, time, y, w, cohort, cluster = "sid", "year", "l_homicide", "popwt", "effyear", "sid"
    else:
        d = pd.read_csv(REF / "staggered_panel.csv").sort_values(["id", "t"])
        d["cohort"] = np.where(d["first"] >= 0, d["first"] + 1, np.nan)
        unit, time, y, w, cohort, cluster = "id", "t", "y", "w", "cohort", "muni"
    periods = np.sort(d[time].unique())
    first = d.groupby(unit)[cohort].first().to_numpy()
    groups = np.where(np.isnan(first), -1, np.searchsorted(periods, np.nan_to_num(first)))
    arrays = dict(
        outcome=d[y].to_numpy().reshape(-1, len(periods)),
        weight=d.groupby(unit)[w].first().to_numpy(),
        groups=groups,
        cluster=pd.factorize(d.groupby(unit)[cluster].first())[0],
    )
    return arrays, periods


CASES = [(p, c) for p in ("castle", "staggered") for c in CONTROL]


@pytest.mark.parametrize(("panel", "control"), CASES)
def test_group_time_att_and_se(panel, control):
    arrays, periods = _panel(panel)
    ref = NUMBERS[f"{panel}_{control}"]
    gt = CallawaySantAnna(**arrays, control=CONTROL[control]).group_time()
    gt["cohort"], gt["time"] = periods[gt["group"]], periods[gt["period"]]
    ours = gt.set_index(["cohort", "time"])
    assert len(ours) == len(ref["group_time"])
    for g, t, att, se in ref["group_time"]:
        np.testing.assert_allclose(ours.loc[(g, t), "att"], att, atol=1e-6)
        np.testing.assert_allclose(ours.loc[(g, t), "se"], se, atol=1e-6)


@pytest.mark.parametrize(("panel", "control"), CASES)
def test_simple_and_group_aggregation(panel, control):
    arrays, periods = _panel(panel)
    ref = NUMBERS[f"{panel}_{control}"]
    cs = CallawaySantAnna(**arrays, control=CONTROL[control])
    for aggregation in ("simple", "group"):
        est, se = cs.aggregate(aggregation)
        np.testing.assert_allclose(est, ref[aggregation]["overall_att"], atol=1e-6)
        np.testing.assert_allclose(se, ref[aggregation]["overall_se"], atol=1e-6)
    for g, att, se in ref["group"]["by"]:
        est, psi = cs.cohort_influence(int(np.searchsorted(periods, g)))
        np.testing.assert_allclose([est, np.sqrt(psi @ psi)], [att, se], atol=1e-6)


@pytest.mark.parametrize(("panel", "control"), CASES)
def test_dynamic_aggregation(panel, control):
    arrays, _ = _panel(panel)
    ref = NUMBERS[f"{panel}_{control}"]["dynamic"]
    times, coef, cov = CallawaySantAnna(**arrays, control=CONTROL[control]).dynamic()
    assert times == [e for e, _, _ in ref["by"]]
    np.testing.assert_allclose(coef, [a for _, a, _ in ref["by"]], atol=1e-6)
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), [s for _, _, s in ref["by"]], atol=1e-6)
    post = np.array(times) >= 0
    a = post / post.sum()
    np.testing.assert_allclose([a @ coef, np.sqrt(a @ cov @ a)], [ref["overall_att"], ref["overall_se"]], atol=1e-6)


def test_share_influence_matters_with_weights():
    """Without the share term the weighted castle SE is about half csdid's (0.026 vs 0.051)."""
    arrays, _ = _panel("castle")
    cs = CallawaySantAnna(**arrays)
    est, psi = cs.aggregate_influence("simple")
    selected = cs.group_time().query("period >= group")
    size = {g: arrays["weight"][arrays["groups"] == g].sum() for g in selected["group"].unique()}
    share = selected["group"].map(size).to_numpy()
    share = share / share.sum()
    fixed = sum(a * cs._per_cluster(cs._cell(c)[1]) for a, c in zip(share, _cells(selected)))
    assert np.sqrt(fixed @ fixed) < 0.6 * np.sqrt(psi @ psi)
    np.testing.assert_allclose(np.sqrt(psi @ psi), NUMBERS["castle_nevertreated"]["simple"]["overall_se"], atol=1e-6)


def _cells(rows: pd.DataFrame) -> list[Cell]:
    return [Cell(int(r.group), int(r.period), int(r.base)) for r in rows.itertuples()]


@pytest.mark.parametrize("panel", ["castle", "staggered"])
def test_universal_base_event_study(panel):
    """The pipeline's event study: universal base, never-treated controls (csdid reports the base cell as 0)."""
    arrays, periods = _panel(panel)
    ref = NUMBERS[f"{panel}_universal"]
    cs = CallawaySantAnna(**arrays, base="universal")
    gt = cs.group_time()
    ours = gt.assign(cohort=periods[gt["group"]], time=periods[gt["period"]]).set_index(["cohort", "time"])
    base_cells = [(g, t) for g, t, att, _ in ref["group_time"] if t == periods[np.searchsorted(periods, g) - 1]]
    assert len(ours) == len(ref["group_time"]) - len(base_cells)
    for g, t, att, se in ref["group_time"]:
        if (g, t) not in base_cells:
            np.testing.assert_allclose(ours.loc[(g, t), ["att", "se"]].to_numpy(float), [att, se], atol=1e-6)
    times, coef, cov = cs.dynamic()
    by = [r for r in ref["dynamic"]["by"] if r[0] != -1]
    assert times == [e for e, _, _ in by]
    np.testing.assert_allclose(coef, [a for _, a, _ in by], atol=1e-6)
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), [s for _, _, s in by], atol=1e-6)
