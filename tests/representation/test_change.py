import numpy as np
import pytest

from evaluation.representation.change import dissimilarity_difference

Q = np.array([0.3, 0.3, 0.4])


def test_difference_hand_computation_and_interval():
    before = np.array([60, 140, 300])  # D = 0.20
    after = np.array([120, 150, 230])  # shares .24 .30 .46, D = 0.06
    est, low, high = dissimilarity_difference(before, Q, after, Q, np.random.default_rng(1), reps=4000)
    assert est == pytest.approx(0.06 - 0.20)
    assert low < est < high < 0


def test_reproducible_with_seed():
    a, b = np.array([5, 7, 8]), np.array([6, 6, 8])
    first = dissimilarity_difference(a, Q, b, Q, np.random.default_rng(7), reps=200)
    second = dissimilarity_difference(a, Q, b, Q, np.random.default_rng(7), reps=200)
    assert first == second
