"""The programme's representation tables on small hand-made data: periods, pooling, counts, suppression."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from evaluation.errors import InputFileError
from evaluation.representation.programme import representation_tables
from evaluation.units import municipal_periods

AREAS = pd.DataFrame(
    {
        "area_code": ["01010001", "01020001", "01030001"],
        "municipality_code": ["0101", "0102", "0103"],
        "role": ["pilot", "pilot", "control"],
        "pilot_start": pd.to_datetime(["2019-08-01", "2021-01-15", None]),
    }
)
# 0101: 1000 people, 60 % higher educated; 0102: 3000, 20 %; 0103: 2000, 50 %
MARGINS = pd.DataFrame(
    {
        "margin": "education",
        "municipality_code": ["0101", "0101", "0102", "0102", "0103", "0103"],
        "education": ["higher", "other", "higher", "other", "higher", "other"],
        "population": [600, 400, 600, 2400, 1000, 1000],
    }
)


def _participants(rows: list[tuple[str, str, str, int]]) -> pd.DataFrame:
    """(municipality, date, education, how many) -> one row per participant."""
    frames = [
        pd.DataFrame({"arena": "pb", "municipality_code": [m] * k, "participation_date": [d] * k, "education": [e] * k})
        for m, d, e, k in rows
    ]
    data = pd.concat(frames, ignore_index=True)
    return data.assign(participation_date=pd.to_datetime(data["participation_date"]))


PEOPLE = _participants(
    [
        ("0101", "2018-05-01", "higher", 80),
        ("0101", "2018-05-01", "other", 20),
        ("0101", "2019-03-01", "higher", 60),  # the start year counts as after, also before the start day
        ("0101", "2019-03-01", "other", 40),
        ("0102", "2020-05-01", "higher", 30),
        ("0102", "2020-05-01", "other", 30),
        ("0102", "2022-05-01", "higher", 20),
        ("0102", "2022-05-01", "other", 40),
        ("0103", "2018-05-01", "higher", 50),
        ("0103", "2018-05-01", "other", 30),
        ("0103", "2020-05-01", "higher", 40),
        ("0103", "2020-05-01", "other", 40),
    ]
)


def _tables(people: pd.DataFrame, min_n: int = 10) -> dict[str, pd.DataFrame]:
    return representation_tables(
        people, MARGINS, AREAS, ["education"], min_n=min_n, level=0.95, rng=np.random.default_rng(1), reps=500
    )


def test_periods_split_at_the_start_year_and_controls_at_the_first_start():
    periods = municipal_periods(PEOPLE, AREAS, "participation_date", "participants")
    by = periods.groupby(["municipality_code", "period"]).size()
    assert by[("0101", "before")] == 100 and by[("0101", "after")] == 100
    assert by[("0102", "before")] == 60 and by[("0102", "after")] == 60  # 0102 starts in 2021
    assert by[("0103", "before")] == 80 and by[("0103", "after")] == 80  # split at 2019, the first start
    assert set(periods.loc[periods["municipality_code"] == "0103", "role"]) == {"control"}


def test_dissimilarity_and_ratios_by_hand():
    change = _tables(PEOPLE)["representation_change"].set_index(["municipality_code", "role"])
    # 0101: before 80 % higher vs 60 % -> D = 0.2; after 60 % -> D = 0
    assert_allclose(
        change.loc[("0101", "pilot"), ["dissimilarity_before", "dissimilarity_after", "change"]], [0.2, 0.0, -0.2]
    )
    # pooled pilots, before: 0101 (100 people, 80 higher) + 0102 (60, 30 higher) = 110/160 higher, against
    # (100 * 0.6 + 60 * 0.2) / 160 = 0.45 -> D = 0.6875 - 0.45; after: 80/160 against (100*0.6 + 60*0.2)/160
    pooled = change.loc[("all", "pilot")]
    assert_allclose(pooled["dissimilarity_before"], 110 / 160 - 0.45)
    assert_allclose(pooled["dissimilarity_after"], 80 / 160 - 0.45)
    ratios = _tables(PEOPLE)["representation"]
    row = ratios[
        (ratios["municipality_code"] == "0102") & (ratios["period"] == "after") & (ratios["group"] == "higher")
    ]
    assert_allclose(row["ratio"], (20 / 60) / 0.2)
    assert (row["ratio_low"] < row["ratio"]).all() and (row["ratio"] < row["ratio_high"]).all()


def test_a_count_column_gives_the_same_tables_as_one_row_per_participant():
    aggregated = PEOPLE.groupby(list(PEOPLE.columns), as_index=False).size().rename(columns={"size": "count"})
    for name in ("representation", "representation_change"):
        pd.testing.assert_frame_equal(_tables(aggregated)[name], _tables(PEOPLE)[name])


def test_small_periods_are_withheld():
    change = _tables(PEOPLE, min_n=70)["representation_change"].set_index(["municipality_code", "role"])
    assert change.loc[("0102", "pilot"), "suppressed"] and np.isnan(change.loc[("0102", "pilot"), "change"])
    assert not change.loc[("0101", "pilot"), "suppressed"]


@pytest.mark.parametrize(
    "people, message",
    [
        (PEOPLE.assign(municipality_code="0199"), "municipality 0199 is not in the area register"),
        (PEOPLE.assign(count=0.5), "count 0.5 in row 1 is not a whole number >= 1"),
    ],
)
def test_bad_participant_rows_stop_with_a_message(people, message):
    with pytest.raises(InputFileError, match=message):
        _tables(people)
