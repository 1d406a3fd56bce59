import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaluation.errors import InputFileError
from evaluation.representation.ratios import clopper_pearson, dissimilarity, representation_table, suppress

KEYS = ["arena", "municipality_code", "period"]


def _tables():
    counts = pd.DataFrame(
        {
            "arena": "pb_vote",
            "municipality_code": "9101",
            "period": 2021,
            "group_variable": "age_group",
            "group": ["18-29", "30-44", "60+"],
            "count": [6, 14, 30],
        }
    )
    population = pd.DataFrame(
        {
            "municipality_code": "9101",
            "group_variable": "age_group",
            "group": ["18-29", "30-44", "60+"],
            "population_share": [0.3, 0.3, 0.4],
        }
    )
    return counts, population


def test_ratios_match_hand_computation():
    counts, population = _tables()
    table = representation_table(counts, population, KEYS)
    # n = 50: shares 0.12, 0.28, 0.60; ratios 0.4, 0.9333, 1.5
    np.testing.assert_allclose(table["participant_share"], [0.12, 0.28, 0.60])
    np.testing.assert_allclose(table["ratio"], [0.4, 0.28 / 0.3, 1.5])
    d = dissimilarity(table, KEYS)
    # 1/2 (0.18 + 0.02 + 0.20) = 0.20
    assert d["dissimilarity"].item() == pytest.approx(0.20)


@pytest.mark.parametrize(("x", "n"), [(0, 7), (1, 7), (6, 50), (30, 50), (12, 12)])
def test_clopper_pearson_matches_scipy(x, n):
    low, high = clopper_pearson(np.array([x]), np.array([n]))
    ref = stats.binomtest(x, n).proportion_ci(confidence_level=0.95, method="exact")
    np.testing.assert_allclose([low[0], high[0]], [ref.low, ref.high], rtol=1e-10, atol=1e-12)


def test_suppression_protects_against_differencing():
    counts, population = _tables()
    table = representation_table(counts, population, KEYS)
    result = suppress(table, KEYS, min_n=10)
    # 18-29 (6) hidden; alone it is derivable from n, so 30-44 (14) is hidden too
    assert result["suppressed"].tolist() == [True, True, False]
    assert result["ratio"].isna().tolist() == [True, True, False]


def test_category_without_participants_counts_in_dissimilarity():
    counts, population = _tables()
    table = representation_table(counts[counts["group"] != "18-29"], population, KEYS)
    assert table.set_index("group").loc["18-29", "count"] == 0
    # n = 44: |0 - .3| + |14/44 - .3| + |30/44 - .4|, halved
    expected = 0.5 * (0.3 + abs(14 / 44 - 0.3) + abs(30 / 44 - 0.4))
    assert dissimilarity(table, KEYS)["dissimilarity"].item() == pytest.approx(expected)


def test_category_without_margin_stops():
    counts, population = _tables()
    with pytest.raises(InputFileError, match="category `60\\+` of `age_group`"):
        representation_table(counts, population[population["group"] != "60+"], KEYS)
