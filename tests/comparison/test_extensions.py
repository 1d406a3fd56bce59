"""Matching, gap triple differences, event studies, pre-trend permutation tests and the fast paths."""

import numpy as np
import pandas as pd
import pytest
from simulate import SURVEY_KINDS, simulate_survey, simulate_turnout

from evaluation.comparison.influence import treatment_draws
from evaluation.comparison.matching import MatchingSpec, balance_table, match_controls
from evaluation.comparison.panel import build_turnout_panel
from evaluation.comparison.programme import turnout_problem
from evaluation.comparison.randomization import SizeVarianceModel
from evaluation.comparison.survey import SurveyFrame
from evaluation.comparison.timing import pilot_timing
from evaluation.comparison.twfe import fit_within
from evaluation.comparison.within import WithinProjector
from evaluation.errors import EstimationError


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(21)
    turnout, areas = simulate_turnout(rng, n_municipalities=30, n_pilots=6, effect_pp=2.0, districts=(2, 8))
    areas = areas.assign(
        median_income=rng.normal(450_000, 40_000, len(areas)), share_immigrant=rng.uniform(0.05, 0.3, len(areas))
    )
    return turnout, areas


def test_influence_basis_equals_explicit_refits(data):
    """The basis computation of h_b gives the same statistics as refitting every draw."""
    problem = turnout_problem(build_turnout_panel(*data), triple="education")
    draws, _ = problem.assignment.draw(6, np.random.default_rng(0))
    c = np.array([0.0, 1.0])
    h = problem.influence(draws, c)
    treatment = treatment_draws(problem.exposure, problem.row_cluster, draws)
    for b in range(len(draws)):
        fit = fit_within(
            problem.projector, problem.y, treatment[:, [b]] * problem.multipliers, problem.names, problem.row_cluster
        )
        np.testing.assert_allclose(h.dot(problem.y)[b], c @ fit.coef, rtol=1e-9)
        np.testing.assert_allclose(
            h.dense()[:, b], fit.weights * (fit.x_tilde @ (fit.bread @ c)), rtol=1e-7, atol=1e-12
        )


def test_quadratic_forms_equal_direct_variance(data):
    problem = turnout_problem(build_turnout_panel(*data))
    draws, _ = problem.assignment.draw(20, np.random.default_rng(1))
    h = problem.influence(draws, np.array([1.0]))
    model = SizeVarianceModel(problem.projector, problem.row_cluster, problem.cluster_size)
    resid = problem.fit().resid
    a = model.cell_influence(h)
    direct = np.sum(a * np.matmul(model.covariances(resid), a), axis=(0, 1))
    np.testing.assert_allclose(model.quadratic_forms(h).variance(model.fit(resid)), direct, rtol=1e-9)
    assert np.all(np.linalg.eigvalsh(model.covariances(resid)) > -1e-9)


def test_matching_uses_no_post_period_outcome(data):
    turnout, areas = data
    panel = build_turnout_panel(turnout, areas)
    spec = MatchingSpec(n_neighbours=2)
    before = match_controls(panel, areas, spec)
    late = pd.to_datetime(turnout["election_date"]) >= panel.cohort_starts.min()
    scrambled = turnout.assign(
        turnout=np.where(late, np.random.default_rng(2).uniform(0.2, 0.9, len(turnout)), turnout["turnout"])
    )
    after = match_controls(build_turnout_panel(scrambled, areas), areas, spec)
    np.testing.assert_array_equal(before.weights, after.weights)
    pilot = panel.units["cohort"].to_numpy() >= 0
    assert before.weights[pilot].tolist() == [1.0] * 6 and (before.weights[~pilot] > 0).sum() == 12


@pytest.mark.parametrize(
    "spec",
    [
        MatchingSpec(n_neighbours=1, replacement=True),
        MatchingSpec(method="synthetic"),
        MatchingSpec(variables=("turnout_trend", "share_higher_education")),
    ],
)
def test_matching_improves_balance_on_matched_variables(data, spec):
    panel = build_turnout_panel(*data)
    result = match_controls(panel, data[1], spec)
    table = (
        balance_table(result, panel.units["cohort"].to_numpy() >= 0, spec.method)
        .pivot(index="variable", columns="sample", values="smd")
        .abs()
    )
    assert set(table.index) == set(spec.variables or result.features.columns)
    assert table["matched"].mean() < table["all_controls"].mean()


def test_matching_config_errors():
    with pytest.raises(EstimationError, match="nearest"):
        MatchingSpec.from_config({"method": "optimal"})
    assert MatchingSpec.from_config(None) == MatchingSpec()


def test_gap_triple_difference_on_cells_equals_respondent_level(data):
    """The cell triple difference equals the respondent-level weighted regression with the same fixed effects."""
    turnout, areas = data
    survey = simulate_survey(np.random.default_rng(4), areas, n_respondents=3000, trust_effect=0.5)
    frame = SurveyFrame.build(survey, pilot_timing(areas), SURVEY_KINDS)
    cell = frame.gap_problem("trust_local_politicians", "education", low="compulsory", high="higher").fit()
    d = frame.data.loc[
        frame.data["trust_local_politicians"].notna() & frame.data["education"].isin(["compulsory", "higher"])
    ]
    low = d["education"].eq("compulsory").to_numpy()
    proj = WithinProjector.build(
        d["unit"].to_numpy() * 2 + low, d["wave"].to_numpy() * 2 + low, d["design_weight"].to_numpy()
    )
    x = d["treated"].to_numpy()[:, None] * np.column_stack([np.ones(len(d)), low])
    person = fit_within(
        proj, d["trust_local_politicians"].to_numpy(), x, ("treated", "treated_x_compulsory"), d["unit"].to_numpy()
    )
    np.testing.assert_allclose(cell.coef, person.coef, rtol=1e-9)
