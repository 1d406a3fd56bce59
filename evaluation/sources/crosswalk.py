"""Municipal and district code changes: map old codes onto today's codes.

A crosswalk is a CSV table with one row per (old code, new code) pair:
``old_code, new_code, valid_from, population_share``. From ``valid_from`` on,
``old_code`` no longer exists and its population lives in ``new_code``; a split
area has one row per successor, with population shares summing to 1 (a merger
has share 1). Records dated before a reform are carried through every later
reform (chains such as 2019 -> 2020 -> 2024 are followed), so a time series
compares like with like in today's geography.

Turnout counts of a split area are multiplied by the shares and summed into the
new codes. A survey respondent cannot be divided: a respondent in a split code
is quarantined with the reason. A code that is in neither the area register nor
the crosswalk is quarantined at ingest (reason ``crosswalk.code_unknown``, naming
the code, file and row), the same way validation quarantines unknown area codes
when no crosswalk is configured.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.errors import InputFileError
from evaluation.sources.codebook import QUARANTINE_COLUMNS
from evaluation.sources.readers import ReadOptions, read_file

CROSSWALK_COLUMNS = ["old_code", "new_code", "valid_from", "population_share"]
SHARE_TOLERANCE = 1e-6
COUNTS = ["eligible_voters", "votes_cast"]


@dataclass(frozen=True, eq=False)
class Crosswalk:
    """A checked crosswalk table (codes as text, ``valid_from`` as dates); hashed by identity."""

    path: Path
    table: pd.DataFrame

    def successors(self, code: str, date: pd.Timestamp) -> tuple[tuple[str, float], ...]:
        """Today's code(s) and population shares for ``code`` as it was on ``date``."""
        return _successors(self, code, pd.Timestamp(date))

    @property
    def old_codes(self) -> set[str]:
        return set(self.table["old_code"])


def load_crosswalk(path: Path) -> Crosswalk:
    """Read and check a crosswalk CSV (``,`` or ``;``; codes kept as text).

    Raises
    ------
    InputFileError
        Naming the file, row and what was expected: absent columns, unreadable
        dates or shares, shares outside (0, 1], or shares of one split not summing to 1.
    """
    path = Path(path)
    raw, _ = read_file(path, ReadOptions())
    absent = [c for c in CROSSWALK_COLUMNS if c not in raw.columns]
    if absent:
        raise InputFileError(f"{path}: crosswalk column(s) {absent} missing; expected {', '.join(CROSSWALK_COLUMNS)}")
    table = pd.DataFrame(
        {
            "old_code": raw["old_code"].astype(str).str.strip(),
            "new_code": raw["new_code"].astype(str).str.strip(),
            "valid_from": pd.to_datetime(raw["valid_from"], errors="coerce", format="%Y-%m-%d"),
            "population_share": pd.to_numeric(
                raw["population_share"].fillna("1").str.replace(",", "."), errors="coerce"
            ),
        }
    )
    _check_values(path, raw, table)
    _check_shares(path, table)
    return Crosswalk(path, table)


def _check_values(path: Path, raw: pd.DataFrame, table: pd.DataFrame) -> None:
    checks = [
        ("valid_from", table["valid_from"].isna(), "a date YYYY-MM-DD"),
        ("population_share", ~table["population_share"].between(0, 1, inclusive="right"), "a share in (0, 1]"),
        ("old_code", raw["old_code"].isna(), "a code"),
        ("new_code", raw["new_code"].isna(), "a code"),
    ]
    for column, bad, expected in checks:
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputFileError(f"{path}, row {row + 2}, column {column}: {raw[column].iloc[row]!r} is not {expected}")


def _check_shares(path: Path, table: pd.DataFrame) -> None:
    totals = table.groupby(["old_code", "valid_from"])["population_share"].sum()
    off = totals[(totals - 1).abs() > SHARE_TOLERANCE]
    if len(off):
        (code, date), total = next(iter(off.items()))
        raise InputFileError(
            f"{path}: population shares of old_code {code} (valid_from {date:%Y-%m-%d}) sum to {total:.4f}; "
            "the successors of one code must sum to 1"
        )


@cache
def _successors(crosswalk: Crosswalk, code: str, date: pd.Timestamp) -> tuple[tuple[str, float], ...]:
    table = crosswalk.table
    later = table[(table["old_code"] == code) & (table["valid_from"] > date)]
    if later.empty:
        return ((code, 1.0),)
    reform = later["valid_from"].min()
    result: dict[str, float] = {}
    for row in later[later["valid_from"] == reform].itertuples():
        for final, share in _successors(crosswalk, row.new_code, reform):
            result[final] = result.get(final, 0.0) + row.population_share * share
    return tuple(result.items())


def expand(crosswalk: Crosswalk, codes: pd.Series, dates: pd.Series) -> pd.DataFrame:
    """One row per (input row, today's code): columns ``row`` (input index), ``code``, ``share``."""
    pairs = pd.DataFrame(
        {"code": codes.astype(str).to_numpy(), "date": pd.to_datetime(dates).to_numpy()}, index=codes.index
    )
    mapping = {
        (code, date): crosswalk.successors(code, date) for code, date in pairs.drop_duplicates().itertuples(index=False)
    }
    rows, new_codes, shares = [], [], []
    for row, code, date in pairs.itertuples():
        for new_code, share in mapping[(code, date)]:
            rows.append(row)
            new_codes.append(new_code)
            shares.append(share)
    return pd.DataFrame({"row": rows, "code": new_codes, "share": shares})


def apply_to_turnout(
    turnout: pd.DataFrame, crosswalk: Crosswalk, register_areas: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Carry turnout rows into today's area codes; split counts by population share and sum.

    Parameters
    ----------
    turnout
        Canonical turnout rows with ``source_file`` and ``source_row`` provenance.
    crosswalk
        The code changes.
    register_areas
        Today's areas (``area_code``, ``municipality_code``).

    Returns
    -------
    turnout, quarantine
        ``eligible_voters`` and ``votes_cast`` become numbers (fractional where an
        area was split); ``municipality_code`` comes from the register for mapped
        rows; ``source_row`` is the first raw row that contributed to a row.
    """
    pieces = expand(crosswalk, turnout["area_code"], turnout["election_date"])
    known = pieces["code"].isin(set(register_areas["area_code"]))
    bad_rows = pieces.loc[~known, "row"].unique()
    quarantine = _unknown_codes(turnout.loc[bad_rows], "area_code", crosswalk, pieces[~known])
    pieces = pieces[~pieces["row"].isin(bad_rows)]
    rows = turnout.loc[pieces["row"]].reset_index(drop=True)
    rows[COUNTS] = rows[COUNTS].astype(float).mul(pieces["share"].to_numpy(), axis=0)
    mapped = rows["area_code"].to_numpy() != pieces["code"].to_numpy()
    rows["area_code"] = pieces["code"].to_numpy()
    municipality = register_areas.drop_duplicates("area_code").set_index("area_code")["municipality_code"]
    rows.loc[mapped, "municipality_code"] = rows.loc[mapped, "area_code"].map(municipality)
    keys = ["area_code", "election_type", "election_year"]
    other = [c for c in rows.columns if c not in {*keys, *COUNTS, "turnout"}]
    summed = rows.groupby(keys, sort=False, as_index=False).agg(
        {**{c: "sum" for c in COUNTS}, **{c: "first" for c in other if c != "source_row"}, "source_row": "min"}
    )
    summed["turnout"] = summed["votes_cast"] / summed["eligible_voters"]
    return summed[[c for c in turnout.columns if c in summed]], quarantine


def apply_to_survey(
    survey: pd.DataFrame, crosswalk: Crosswalk, register_municipalities: set[str], date_column: str = "interview_date"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Carry respondents' municipality codes into today's codes.

    A respondent in a code that was split cannot be assigned to one successor and
    is quarantined with the reason; so is one whose code is unknown.
    """
    pieces = expand(crosswalk, survey["municipality_code"], survey[date_column])
    split = pieces["row"].duplicated(keep=False)
    unknown = ~split & ~pieces["code"].isin(register_municipalities)
    quarantine = pd.concat(
        [
            _split_codes(survey.loc[pieces.loc[split, "row"].unique()], crosswalk, date_column),
            _unknown_codes(survey.loc[pieces.loc[unknown, "row"]], "municipality_code", crosswalk, pieces[unknown]),
        ],
        ignore_index=True,
    )
    keep = pieces[~split & ~unknown]
    result = survey.loc[keep["row"]].copy()
    result["municipality_code"] = keep["code"].to_numpy()
    return result, quarantine


def _unknown_codes(rows: pd.DataFrame, column: str, crosswalk: Crosswalk, pieces: pd.DataFrame) -> pd.DataFrame:
    if rows.empty:
        return pd.DataFrame(columns=QUARANTINE_COLUMNS)
    final = pieces.drop_duplicates("row").set_index("row")["code"]
    in_crosswalk = rows[column].isin(crosswalk.old_codes)
    reasons = np.where(
        in_crosswalk,
        "crosswalk.target_unknown: "
        + column
        + " "
        + rows[column].astype(str)
        + " maps via the crosswalk to "
        + final.reindex(rows.index).astype(str)
        + ", which is not in the area register",
        "crosswalk.code_unknown: "
        + column
        + " "
        + rows[column].astype(str)
        + " in "
        + rows["source_file"].astype(str)
        + " row "
        + rows["source_row"].astype(str)
        + " is neither in the area register nor in "
        + crosswalk.path.name,
    )
    return _records(rows, column, reasons)


def _split_codes(rows: pd.DataFrame, crosswalk: Crosswalk, date_column: str) -> pd.DataFrame:
    if rows.empty:
        return pd.DataFrame(columns=QUARANTINE_COLUMNS)
    reasons = [
        f"crosswalk.split: municipality_code {code} was split ("
        + ", ".join(f"{new} {share:.2f}" for new, share in crosswalk.successors(code, date))
        + "); a respondent cannot be assigned to one successor"
        for code, date in zip(rows["municipality_code"], rows[date_column])
    ]
    return _records(rows, "municipality_code", np.array(reasons, dtype=object))


def _records(rows: pd.DataFrame, column: str, reasons: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_file": rows["source_file"].to_numpy(),
            "row_number": rows["source_row"].to_numpy(),
            "stage": "ingest",
            "column": column,
            "value": rows[column].astype(str).to_numpy(),
            "reason": reasons,
        }
    )
