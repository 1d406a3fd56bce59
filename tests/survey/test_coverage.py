"""Repeated-sampling coverage of domain means and gaps (slow: ~25 s for 1000 samples)."""

from __future__ import annotations

import pytest

from .simulate_coverage import coverage


@pytest.mark.slow
def test_95_percent_intervals_cover_93_to_97_percent():
    table = coverage(reps=1000, seed=20240501)
    assert table["coverage"].between(0.93, 0.97).all(), table.to_string()
