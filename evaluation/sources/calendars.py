"""Election calendars as data: the date of each Norwegian and Swedish election, looked up, never computed.

The tables are package data (``evaluation/sources/calendars/<country>.csv``), one row
per election: ``election_year``, ``election_type`` (the canonical ``parliamentary``,
``local`` or ``county``), ``election_name`` (as the country calls it) and
``election_date`` (ISO). Elections held on the same day (Norway's kommunestyre- and
fylkestingsvalg, Sweden's riksdag, region and kommun elections) are separate rows
that share a date. Dates are the official election days: Norway's Monday (some
municipalities also open the polls on the Sunday before), Sweden's Sunday.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from evaluation.errors import ConfigError, InputFileError

FOLDER = Path(__file__).with_name("calendars")
COUNTRIES = ("norway", "sweden")
COLUMNS = ["election_year", "election_type", "election_name", "election_date"]
ELECTION_TYPES = ("parliamentary", "local", "county")


@lru_cache(maxsize=len(COUNTRIES))
def load_calendar(country: str) -> pd.DataFrame:
    """The election calendar of ``country`` (``norway`` or ``sweden``), checked.

    Returns
    -------
    pandas.DataFrame
        ``COLUMNS``, one row per election; ``election_year`` int, ``election_date`` datetime64.

    Raises
    ------
    ConfigError
        For an unknown country, or a table with missing columns, an unknown election
        type, a date that does not parse, a date outside its election year, or one
        election listed twice (naming the file and row).
    """
    if country not in COUNTRIES:
        raise ConfigError(f"election calendar {country!r} is not shipped; known: {', '.join(COUNTRIES)}")
    path = FOLDER / f"{country}.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    if list(table.columns) != COLUMNS:
        raise ConfigError(f"{path}: columns must be {COLUMNS}, found {list(table.columns)}")
    for row, record in enumerate(table.itertuples(index=False), start=1):
        where = f"{path}, row {row}"
        if record.election_type not in ELECTION_TYPES:
            raise ConfigError(f"{where}: election_type {record.election_type!r} is not one of {ELECTION_TYPES}")
        try:
            day = pd.Timestamp.fromisoformat(record.election_date)
        except ValueError:
            raise ConfigError(f"{where}: election_date {record.election_date!r} is not a date (YYYY-MM-DD)") from None
        if not record.election_year.isdigit() or day.year != int(record.election_year):
            raise ConfigError(f"{where}: election_date {record.election_date} is not in {record.election_year!r}")
    twice = table.duplicated(["election_year", "election_type"], keep=False)
    if twice.any():
        rows = ", ".join(str(i + 1) for i in table.index[twice])
        raise ConfigError(f"{path}: rows {rows} list the same election (year and type) twice")
    return table.assign(
        election_year=table["election_year"].astype(int), election_date=pd.to_datetime(table["election_date"])
    )


def election_dates(country: str, election_type: pd.Series, election_year: pd.Series, where: str) -> pd.Series:
    """The date of each row's election, from the calendar of ``country``.

    Rows without a year or a type, or with a type a recode did not know
    (``unknown:...``), get NaT: their rows are quarantined for that value.

    Parameters
    ----------
    country
        ``norway`` or ``sweden``.
    election_type, election_year
        The canonical election type and year of each row (same index).
    where
        The file and codebook key, for the error message.

    Raises
    ------
    InputFileError
        When a year and type are not in the calendar, naming them, the file and the
        calendar (which lists every election from 2009 to 2026).
    """
    calendar = load_calendar(country)
    lookup = dict(zip(zip(calendar["election_year"], calendar["election_type"]), calendar["election_date"]))
    types = election_type.astype("string")
    years = pd.to_numeric(election_year, errors="coerce")
    usable = types.notna() & years.notna() & ~types.str.startswith("unknown:").fillna(False)
    pairs = pd.Series(list(zip(years[usable].astype(int), types[usable])), index=types.index[usable], dtype=object)
    absent = sorted({pair for pair in pairs.unique() if pair not in lookup})
    if absent:
        listed = ", ".join(f"{kind} {year}" for year, kind in absent)
        known = ", ".join(f"{kind} {year}" for year, kind in sorted(lookup))
        raise InputFileError(
            f"{where}: no {country} election {listed} in the election calendar "
            f"{FOLDER / (country + '.csv')} (it lists {known}); check election_type and election_year"
        )
    dates = pd.Series(pd.NaT, index=types.index, dtype="datetime64[ns]")
    dates[usable] = pairs.map(lookup).astype("datetime64[ns]")
    return dates
