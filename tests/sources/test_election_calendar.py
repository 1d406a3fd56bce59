"""Election calendars as data (evaluation/sources/calendars/*.csv): official dates, looked up, never computed."""

from __future__ import annotations

import tomllib

import pandas as pd
import pytest
import yaml
from shared import REPO

from evaluation.errors import InputFileError
from evaluation.sources import calendars
from evaluation.sources.codebook import apply_codebook, load_codebook
from evaluation.sources.readers import FileMetadata

# The official election days (Valgdirektoratet, valg.no; Valmyndigheten, val.se).
OFFICIAL = {
    "norway": {
        2009: "2009-09-14",
        2011: "2011-09-12",
        2013: "2013-09-09",
        2015: "2015-09-14",
        2017: "2017-09-11",
        2019: "2019-09-09",
        2021: "2021-09-13",
        2023: "2023-09-11",
        2025: "2025-09-08",
    },
    "sweden": {2010: "2010-09-19", 2014: "2014-09-14", 2018: "2018-09-09", 2022: "2022-09-11", 2026: "2026-09-13"},
}
TYPES = {
    "norway": {"parliamentary": range(2009, 2026, 4), "local": range(2011, 2024, 4), "county": range(2011, 2024, 4)},
    "sweden": {kind: range(2010, 2027, 4) for kind in ("parliamentary", "county", "local")},
}


@pytest.mark.parametrize("country", calendars.COUNTRIES)
def test_calendar_has_the_official_dates_and_types(country):
    calendar = calendars.load_calendar(country)
    dates = calendar.groupby("election_year")["election_date"].unique()
    assert {year: [str(d.date()) for d in days] for year, days in dates.items()} == {
        year: [day] for year, day in OFFICIAL[country].items()
    }
    listed = {kind: sorted(rows["election_year"]) for kind, rows in calendar.groupby("election_type")}
    assert listed == {kind: list(years) for kind, years in TYPES[country].items()}


def test_same_day_elections_are_separate_rows_that_share_a_date():
    sweden = calendars.load_calendar("sweden")
    assert (sweden.groupby("election_date")["election_type"].nunique() == 3).all()
    norway = calendars.load_calendar("norway")
    local_years = norway.loc[norway["election_type"] == "local", ["election_year", "election_date"]]
    county_years = norway.loc[norway["election_type"] == "county", ["election_year", "election_date"]]
    assert local_years.reset_index(drop=True).equals(county_years.reset_index(drop=True))


def test_lookup_per_row_and_unknown_election_stops():
    types = pd.Series(["parliamentary", "county", None, "unknown:x", "local"])
    years = pd.Series([2010, 2022, 2014, 2018, None])
    dates = calendars.election_dates("sweden", types, years, "f.csv")
    assert list(dates[:2]) == [pd.Timestamp("2010-09-19"), pd.Timestamp("2022-09-11")]
    assert dates[2:].isna().all()  # rows without a usable type or year are quarantined for that value, not dated
    with pytest.raises(
        InputFileError, match=r"^f.csv: no norway election parliamentary 2012, local 2013 in the election calendar"
    ):
        calendars.election_dates("norway", pd.Series(["parliamentary", "local"]), pd.Series([2012, 2013]), "f.csv")


def test_codebook_rule_gives_the_swedish_2010_date(tmp_path):
    """The old rule (second Sunday of September) gave 2010-09-12; the election was on 19 September."""
    codebook = tmp_path / "se.yaml"
    preset = yaml.safe_load((REPO / "config" / "codebooks" / "se_valmyndigheten_valdistrikt.yaml").read_text())
    codebook.write_text(yaml.safe_dump(preset, allow_unicode=True, sort_keys=False), encoding="utf-8")
    raw = pd.DataFrame(
        {
            "LÄNSKOD": ["01"],
            "KOMMUNKOD": ["80"],
            "VALDISTRIKTSKOD": ["0001"],
            "RÖSTBERÄTTIGADE": ["1000"],
            "RÖSTANDE": ["812"],
        }
    )
    data = apply_codebook(raw, FileMetadata(), load_codebook(codebook), "2010_L_per_valdistrikt.xlsx").data
    assert data["election_date"].tolist() == [pd.Timestamp("2010-09-19")]
    assert data["area_code"].tolist() == ["01800001"]


def test_calendars_are_package_data():
    package_data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "sources/calendars/*.csv" in package_data["evaluation"]
    assert sorted(p.name for p in calendars.FOLDER.glob("*.csv")) == [f"{c}.csv" for c in calendars.COUNTRIES]
