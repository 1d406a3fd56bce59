"""Size and coverage of the few-treated-cluster inference (seeded simulations)."""

import math

import numpy as np
import pytest
from simulate import simulate_turnout

from evaluation.comparison.did import infer
from evaluation.comparison.panel import build_turnout_panel
from evaluation.comparison.placebo import placebo_size, single_pilot_effect
from evaluation.comparison.programme import turnout_problem
from evaluation.comparison.randomization import CohortAssignment


def test_assignment_keeps_cohorts_and_enumerates_small_designs():
    a = CohortAssignment(np.array([0, -1, 1, -1, -1, 0, -1]), 2)
    draws, exhaustive = a.draw(500, np.random.default_rng(0))
    assert exhaustive and len(draws) == a.n_assignments(np.ones(7, bool)) == math.comb(7, 2) * 5
    assert len({tuple(r) for r in draws}) == len(draws)
    assert (np.sort(draws, axis=1) == np.sort(a.observed)).all()
    big = CohortAssignment(np.r_[np.zeros(4, int), np.ones(3, int), -np.ones(53, int)], 2)
    draws, exhaustive = big.draw(300, np.random.default_rng(1))
    assert not exhaustive and draws.shape == (300, 60)
    assert ((draws == 0).sum(axis=1) == 4).all() and ((draws == 1).sum(axis=1) == 3).all()


def test_size_under_no_effect_seven_treated_of_sixty():
    """7 fake pilots among 60 control municipalities, no effect.

    2 data sets x 400 fake assignments = 800 tests per method; the Monte-Carlo
    standard error of a 5 % rejection rate is sqrt(0.05 * 0.95 / 800) = 0.77
    percentage points, so 5 % +- 2 % is a +-2.6 MC-se band.  CRV1 treats 60
    clusters as plenty and over-rejects because only 7 are treated.
    """
    rates = {"crv1": [], "permutation": []}
    for seed in (101, 202):
        turnout, areas = simulate_turnout(
            np.random.default_rng(seed), n_municipalities=67, n_pilots=7, effect_pp=0.0, muni_shock_pp=2.0
        )
        table = placebo_size(
            turnout_problem(build_turnout_panel(turnout, areas)),
            n_replications=400,
            n_draws=199,
            rng=np.random.default_rng(seed),
            methods=("crv1", "permutation"),
        )
        assert (table["n_fake_pilots"] == 7).all()
        for _, row in table.iterrows():
            rates[row["inference"]].append(row["rejection_rate"])
    perm, crv = np.mean(rates["permutation"]), np.mean(rates["crv1"])
    assert 0.03 <= perm <= 0.07, perm
    assert crv > perm + 0.02, (crv, perm)


def test_known_effect_is_covered():
    """Effect 2 pp: 8 seeded data sets, each method's interval covers the truth in at least 7."""
    covered = {"crv3": 0, "wild_bootstrap_webb": 0, "permutation": 0}
    estimates = []
    for seed in range(8):
        rng = np.random.default_rng(1000 + seed)
        turnout, areas = simulate_turnout(rng, n_municipalities=40, n_pilots=8, effect_pp=2.0)
        res = infer(
            turnout_problem(build_turnout_panel(turnout, areas)),
            np.array([1.0]),
            n_permutations=199,
            n_bootstrap=199,
            level=0.95,
            rng=rng,
            methods=tuple(covered),
        )
        estimates.append(res["permutation"].estimate)
        for m, r in res.items():
            covered[m] += r.ci_low <= 2.0 <= r.ci_high
    assert all(c >= 7 for c in covered.values()), covered
    assert abs(np.mean(estimates) - 2.0) < 0.6


def test_single_pilot_conley_taber():
    rng = np.random.default_rng(5)
    turnout, areas = simulate_turnout(
        rng, n_municipalities=40, n_pilots=1, effect_pp=8.0, muni_shock_pp=1.0, districts=(8, 12)
    )
    problem = turnout_problem(build_turnout_panel(turnout, areas))
    pilot = int(np.flatnonzero(problem.assignment.observed >= 0)[0])
    inf, n_obs, n_placebos = single_pilot_effect(problem, pilot, 0.95)
    assert n_placebos == 39 and n_obs == len(problem.y)
    assert inf.ci_low <= 8.0 <= inf.ci_high
    assert inf.p_value == pytest.approx(1 / 40)


def test_ferman_pinto_studentisation_matters_when_pilots_are_large():
    """No effect; the 7 pilots are the municipalities with the most districts, so their mean turnout
    is far less noisy than a random municipality's (no common municipality shock).  Plain coefficient
    permutation (RI-beta) compares the pilots' precise estimate with noisier placebo estimates and
    rarely rejects; the Ferman-Pinto studentised statistic keeps the size near 5 %.

    100 data sets: Monte-Carlo se of a 5 % rate is 2.2 points (seeded; observed 5 % vs 1 %).
    """
    rejections = {"studentised": 0, "unstudentised": 0}
    for rep in range(100):
        seed = 500 + rep
        n_districts = np.random.default_rng(seed).integers(2, 41, size=40)  # the first draw of simulate_turnout
        turnout, areas = simulate_turnout(
            np.random.default_rng(seed),
            n_municipalities=40,
            pilot_munis=np.argsort(n_districts)[-7:],
            muni_shock_pp=0.0,
            districts=(2, 40),
        )
        problem = turnout_problem(build_turnout_panel(turnout, areas))
        test = problem.permutation_test(problem.fit(), np.array([1.0]), 199, np.random.default_rng(seed))
        rejections["studentised"] += test.p_value(0.0) < 0.05
        p_beta = (1 + np.sum(np.abs(test.p0) >= abs(test.estimate) * (1 - 1e-10))) / (1 + len(test.p0))
        rejections["unstudentised"] += p_beta < 0.05
    assert 2 <= rejections["studentised"] <= 9, rejections
    assert rejections["unstudentised"] <= rejections["studentised"] - 3, rejections
