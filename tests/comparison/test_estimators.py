"""Within-transformation, wild bootstrap, event study and panel construction."""

from dataclasses import replace

import numpy as np
import pytest
from simulate import simulate_turnout

from evaluation.comparison.event_study import event_study
from evaluation.comparison.inference import crv1
from evaluation.comparison.panel import build_turnout_panel
from evaluation.comparison.programme import turnout_problem
from evaluation.comparison.twfe import solve_wls
from evaluation.comparison.wild_bootstrap import WEBB_POINTS, WildClusterBootstrap, webb_weights
from evaluation.comparison.within import WithinProjector
from evaluation.errors import EstimationError


@pytest.fixture(scope="module")
def panel():
    turnout, areas = simulate_turnout(np.random.default_rng(11), n_municipalities=30, n_pilots=6, effect_pp=2.0)
    return build_turnout_panel(turnout, areas)


def test_projection_equals_dummy_regression_on_unbalanced_weighted_panel():
    rng = np.random.default_rng(0)
    n_unit, n_period = 40, 6
    unit = np.repeat(np.arange(n_unit), n_period)
    period = np.tile(np.arange(n_period), n_unit)
    keep = rng.random(len(unit)) > 0.2
    unit, period = unit[keep], period[keep]
    w = rng.uniform(1, 10, len(unit))
    x = rng.normal(size=(len(unit), 2))
    y = x @ [1.0, -2.0] + rng.normal(size=n_unit)[unit] + rng.normal(size=n_period)[period] + rng.normal(size=len(unit))
    proj = WithinProjector.build(unit, period, w)
    beta, _ = solve_wls(proj.transform(x), proj.transform(y), w)
    dummies = np.column_stack([x, np.eye(n_unit)[unit], np.eye(n_period)[period][:, 1:]])
    sw = np.sqrt(w)
    full, *_ = np.linalg.lstsq(dummies * sw[:, None], y * sw, rcond=None)
    np.testing.assert_allclose(beta, full[:2], rtol=1e-10)


def test_sparse_projection_equals_dense_projection():
    """transform_sparse keeps M E as sparse minus low rank; every product equals the dense M E's."""
    import scipy.sparse as sp

    rng = np.random.default_rng(1)
    unit = rng.integers(0, 30, 400)
    period = rng.integers(0, 5, 400)
    proj = WithinProjector.build(unit, period, rng.uniform(1, 5, 400))
    e = sp.random(400, 12, density=0.1, random_state=2, format="csr")
    z, dense = proj.transform_sparse(e), proj.transform(e.toarray())
    u, a, x = (
        rng.normal(size=(400, 3)),
        sp.random(7, 400, density=0.2, random_state=3, format="csr"),
        rng.normal(size=(12, 4)),
    )
    np.testing.assert_allclose(z.matmul(np.eye(12)), dense, atol=1e-12)
    np.testing.assert_allclose(z.matmul(x), dense @ x, atol=1e-12)
    np.testing.assert_allclose(z.rmatmul(a), a @ dense, atol=1e-12)
    np.testing.assert_allclose(z.tdot(u), dense.T @ u, atol=1e-12)
    wz = z.scale_rows(proj.weights)
    np.testing.assert_allclose(z.gram(wz), dense.T @ (proj.weights[:, None] * dense), atol=1e-10)


def test_wild_bootstrap_matches_explicit_refits(panel):
    fit = turnout_problem(panel, triple="education").fit()
    v = webb_weights(5, fit.n_clusters, np.random.default_rng(3))
    assert set(np.unique(v)) <= set(WEBB_POINTS)
    c, r = np.array([0.0, 1.0]), 0.3
    boot = WildClusterBootstrap(fit, c, v)
    a = fit.bread @ c
    beta_r = fit.coef - a * (c @ fit.coef - r) / (c @ a)  # restricted estimate
    u = fit.y_tilde - fit.x_tilde @ beta_r
    explicit = []
    for draw in v:
        y_star = fit.projector.transform(fit.x_tilde @ beta_r + u * draw[fit.clusters])
        coef, _ = solve_wls(fit.x_tilde, y_star, fit.weights)
        refit = replace(fit, coef=coef, y_tilde=y_star, resid=y_star - fit.x_tilde @ coef)
        explicit.append((c @ coef - r) / np.sqrt(c @ crv1(refit) @ c))
    np.testing.assert_allclose(boot._t_star(r), explicit, rtol=1e-8)
    # the non-nested code path (explicit projection of every cluster's residuals) gives the same statistics
    slow = WildClusterBootstrap(replace(fit, unit_nested=False), c, v)
    np.testing.assert_allclose(slow._t_star(r) * np.sqrt(slow.factor / boot.factor), explicit, rtol=1e-8)


def test_panel_timing_and_low_education(panel):
    d = panel.data
    pilots = d[d["pilot_start"].notna()]
    assert ((pilots["election_date"] >= pilots["pilot_start"]) == (pilots["treated"] == 1)).all()
    first = pilots[pilots["rel_time"] == 0]
    assert (first["treated"] == 1).all()
    assert (pilots.loc[pilots["rel_time"] == -1, "treated"] == 0).all()
    assert d.loc[d["pilot_start"].isna(), "rel_time"].isna().all()
    share = d.drop_duplicates("area_code")["low_education"].mean()
    assert abs(share - 1 / 3) < 0.02


def test_panel_errors_name_the_problem():
    turnout, areas = simulate_turnout(np.random.default_rng(1), n_municipalities=8, n_pilots=2)
    with pytest.raises(EstimationError, match="not in the area register"):
        build_turnout_panel(turnout, areas.iloc[1:])
    bad = turnout.copy()
    bad.loc[0, "turnout"] = 1.4
    with pytest.raises(EstimationError, match="turnout in 0-1"):
        build_turnout_panel(bad, areas)


def test_event_study_reference_and_pretrend(panel):
    d = panel.data
    proj = WithinProjector.build(
        d["area_code"].to_numpy(), d["election_index"].to_numpy(), d["eligible_voters"].to_numpy()
    )
    es = event_study(
        proj, d["turnout_pp"].to_numpy(), d["rel_time"].to_numpy(), d["municipality_code"].to_numpy(), 0.95
    )
    ref = es[es["rel_time"] == -1].iloc[0]
    assert ref["estimate"] == 0 and ref["se"] == 0
    assert es["pretrend_p_value"].nunique() == 1 and 0 <= es["pretrend_p_value"].iloc[0] <= 1
    post = es[es["rel_time"] >= 0]
    assert (post["ci_low"] < post["estimate"]).all()
