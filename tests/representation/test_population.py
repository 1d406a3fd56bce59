import pandas as pd
import pytest

from evaluation.errors import InputFileError
from evaluation.representation.population import population_shares

MARGINS = pd.DataFrame(
    {
        "margin": ["gender_age"] * 4 + ["education"] * 2,
        "municipality_code": "9101",
        "gender": ["male", "male", "female", "female", None, None],
        "age_group": ["18-29", "60+", "18-29", "60+", None, None],
        "education": [None, None, None, None, "compulsory", "higher"],
        "population": [10, 30, 20, 40, 25, 75],
    }
)


def test_age_shares_sum_over_gender():
    shares = population_shares(MARGINS, "age_group").set_index("group")["population_share"]
    assert shares["18-29"] == pytest.approx(30 / 100)
    assert shares["60+"] == pytest.approx(70 / 100)


def test_education_shares():
    shares = population_shares(MARGINS, "education").set_index("group")["population_share"]
    assert shares["higher"] == pytest.approx(0.75)


def test_missing_variable_names_the_file():
    with pytest.raises(InputFileError, match="befolkning.csv: no column `income`"):
        population_shares(MARGINS, "income", source="befolkning.csv")
