"""Disclosure control against differencing, when group categories do not add up to the total.

Respondents with a missing group value are in every total but in no category.
The remainder "total minus the published categories" is then a cell a reader
can compute, and it must rest on at least ``min_n`` respondents or force a
complementary suppression. The survey here is built so that it has such
remainders; the checks read only what the estimate stage publishes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from shared import REPO, reduced_variables

from evaluation.config import load_config, stage_settings
from evaluation.estimation.disclosure import ESTIMATE_MARGINS, disclosure_control, remainders
from evaluation.stages.estimate import estimate

MIN_N = 20
OUTCOME = "trust_local_politicians"
GROUPS = ["gender", "education"]
KEYS = ["outcome", "area_type", "municipality_code", "wave"]


def cells(rows: list[tuple[str, str, int]], **keys) -> pd.DataFrame:
    """An estimates table of one area and wave: (group_variable, group, n) rows."""
    base = {"outcome": OUTCOME, "area_type": "all", "municipality_code": "all", "wave": 1, **keys}
    return pd.DataFrame([{**base, "group_variable": v, "group": g, "n": n} for v, g, n in rows]).assign(
        estimate=5.0, se=0.1, ci_low=4.8, ci_high=5.2, deff=1.0
    )


def test_a_small_remainder_hides_the_smallest_category():
    """120 respondents, 5 without a gender: publishing both genders would reveal those 5."""
    table = cells([("all", "all", 120), ("gender", "female", 60), ("gender", "male", 55)])
    result = disclosure_control(table, MIN_N)
    assert result["suppressed"].tolist() == [False, False, True]
    derivable = remainders(result, ESTIMATE_MARGINS[0])["derivable_n"]
    assert derivable.tolist() == [60]  # male and the 5 without a gender, together


def test_a_large_remainder_may_be_derived():
    """25 respondents without a gender are a cell of their own that passes the threshold."""
    table = cells([("all", "all", 125), ("gender", "female", 60), ("gender", "male", 40)])
    assert not disclosure_control(table, MIN_N)["suppressed"].any()


def test_a_remainder_protects_a_hidden_part_only_when_their_sum_passes():
    """A hidden category of 8 beside 6 without a value: 14 derivable respondents are too few."""
    table = cells(
        [
            ("all", "all", 114),
            ("education", "compulsory", 8),
            ("education", "upper_secondary", 40),
            ("education", "higher", 60),
        ]
    )
    result = disclosure_control(table, MIN_N)
    assert result["suppressed"].tolist() == [False, True, True, False]
    assert remainders(result, ESTIMATE_MARGINS[0])["derivable_n"].tolist() == [54]


def test_two_hidden_parts_whose_sum_is_small_hide_a_third():
    """Two primary cells of 11 and 7 add up to 18: their sum must not be derivable either."""
    table = cells(
        [("all", "all", 100), ("gender", "a", 11), ("gender", "b", 7), ("gender", "c", 25), ("gender", "d", 57)]
    )
    assert disclosure_control(table, MIN_N)["suppressed"].tolist() == [False, True, True, True, False]


# --------------------------------------------------------------------------- through the estimate stage


def survey(seed: int = 11) -> pd.DataFrame:
    """One wave in three pilot and two control municipalities; some group values missing in each."""
    rng = np.random.default_rng(seed)
    sizes = {"0101": 140, "0102": 90, "0103": 60, "0201": 200, "0202": 150}
    frames = []
    for municipality, n in sizes.items():
        frame = pd.DataFrame(
            {
                "respondent_id": [f"{municipality}-{i}" for i in range(n)],
                "wave": 1,
                "municipality_code": municipality,
                "gender": rng.choice(["female", "male"], n),
                "education": rng.choice(["compulsory", "upper_secondary", "higher"], n, p=[0.15, 0.45, 0.40]),
                "weight": rng.uniform(50, 150, n),
                OUTCOME: rng.integers(0, 11, n).astype(float),
            }
        )
        missing = rng.integers(1, 9)  # 1..8 respondents without a gender, in every municipality
        frame.loc[frame.index[:missing], "gender"] = None
        frame.loc[frame.index[-3:], "education"] = None
        frames.append(frame)
    data = pd.concat(frames, ignore_index=True)
    return data.assign(stratum=data["municipality_code"], psu=data["respondent_id"])


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(raw n by domain, published estimates, published gaps) of the estimate stage on :func:`survey`."""
    folder = tmp_path_factory.mktemp("differencing")
    reduced_variables(folder / "variables.yaml", OUTCOME, GROUPS, "education")
    data = survey()
    data.to_parquet(folder / "survey.parquet")
    roles = ["pilot", "pilot", "pilot", "control", "control"]
    pd.DataFrame({"municipality_code": ["0101", "0102", "0103", "0201", "0202"], "role": roles}).to_parquet(
        folder / "areas.parquet"
    )
    settings = stage_settings(load_config(REPO / "config" / "config.yaml"), "estimate")
    settings["variables"] = str(folder / "variables.yaml")
    settings["estimation"]["group_variables"] = GROUPS
    settings["weighting"]["method"] = "none"
    settings["disclosure"]["min_n"] = MIN_N
    estimate(folder / "survey.parquet", folder / "areas.parquet", folder / "estimates.csv", settings)
    read = {"dtype": {"group": str, "municipality_code": str, "group_a": str, "group_b": str}}
    return data, pd.read_csv(folder / "estimates.csv", **read), pd.read_csv(folder / "gaps.csv", **read)


def test_the_survey_has_small_remainders(published):
    """The case can fail: without the remainder rule, categories of 0101..0202 would expose 1..8 respondents."""
    data, _, _ = published
    no_gender = data["gender"].isna().groupby(data["municipality_code"]).sum()
    assert ((no_gender >= 1) & (no_gender < MIN_N)).all()


@pytest.mark.parametrize("margin", ESTIMATE_MARGINS, ids=lambda m: m.name)
def test_no_remainder_derivable_from_the_published_table_is_small(published, margin):
    """For every published total: total n minus its published parts' n is 0 or at least min_n."""
    _, estimates, _ = published
    derivable = remainders(estimates, margin)
    small = derivable[(derivable["derivable_n"] > 0) & (derivable["derivable_n"] < MIN_N)]
    assert small.empty, small
    assert len(derivable), "the margin must have published totals to check"


def test_categories_are_published_where_the_remainder_allows(published):
    """The rule hides what it must, not everything: some gender and education categories stay published."""
    _, estimates, _ = published
    parts = estimates[estimates["group_variable"].isin(GROUPS)]
    assert (~parts["suppressed"]).sum() > 0 and parts["suppressed"].sum() > 0


def test_gaps_follow_the_categories(published):
    """A gap is published only when both its groups are, so it cannot reopen a hidden category."""
    _, estimates, gaps = published
    shown = estimates[(estimates["municipality_code"] == "all") & ~estimates["suppressed"]]
    shown = set(zip(shown["area_type"], shown["wave"], shown["group"]))
    for row in gaps.itertuples():
        both = (row.area_type, row.wave, row.group_a) in shown and (row.area_type, row.wave, row.group_b) in shown
        assert row.suppressed != both and np.isnan(row.estimate) != both
