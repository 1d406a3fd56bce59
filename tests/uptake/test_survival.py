"""Time to decision: Kaplan-Meier against a hand computation, and the censoring of pending and withdrawn cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.errors import InputFileError
from evaluation.uptake.survival import decision_times, median_days


def test_kaplan_meier_median_by_hand():
    # S(5) = 7/8, S(8) = 7/8 * 6/7 = 0.75 (one of the two at 8 censored), S(12) = 0.75 * 4/5 = 0.6,
    # S(15) = 0.6 * 3/4 = 0.45 <= 0.5: the median is 15 (the naive median of the decided ones is 13.5)
    days = np.array([5, 8, 8, 12, 15, 20, 22, 30.0])
    decided = np.array([1, 1, 0, 1, 1, 0, 1, 1])
    median, low, high = median_days(days, decided, 0.95)
    assert median == 15.0 and low <= 15.0 <= high
    assert np.isnan(median_days(days, np.zeros(8, dtype=int), 0.95)[0])


def test_pending_cases_are_censored_at_the_as_of_date_and_withdrawn_ones_when_withdrawn():
    proposals = pd.DataFrame(
        {
            "submitted_date": pd.to_datetime(["2020-01-01", "2020-01-01", "2020-01-01"]),
            "decision_date": pd.to_datetime(["2020-01-31", None, "2020-01-11"]),
            "outcome": ["adopted", "pending", "withdrawn"],
        }
    )
    days, decided = decision_times(proposals, pd.Timestamp("2020-03-01"))
    assert days.tolist() == [30.0, 60.0, 10.0] and decided.tolist() == [1, 0, 0]


def test_a_decision_without_a_date_stops_with_the_row():
    proposals = pd.DataFrame(
        {
            "submitted_date": pd.to_datetime(["2020-01-01"]),
            "decision_date": pd.to_datetime([None]),
            "outcome": ["rejected"],
            "source_file": ["forslag.csv"],
            "source_row": [7],
        }
    )
    with pytest.raises(InputFileError, match="forslag.csv row 7 is rejected but has no decision_date"):
        decision_times(proposals, pd.Timestamp("2020-03-01"))
