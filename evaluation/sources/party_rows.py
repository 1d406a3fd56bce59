"""Party-row exports: one row per party and area, aggregated to one row per area and election.

valgresultat.no's party-distribution exports (``partifordeling_<level>_<type>_<year>.csv``)
give, per area, one row per party: the party's votes (``Antall stemmer totalt``) and the
area's number of eligible voters (``Antall stemmeberettigede``) repeated on every party
row. Summing the electorate over party rows would multiply it by the number of
parties; here the repeated columns are taken once and must be equal on every party
row of the area, and the vote columns are summed over the parties.

Party votes exclude blank and rejected ballots, so votes / eligible from such a file
is the share of eligible voters who voted for a party list (76.66 % in the 2021
stortingsvalg, against an official turnout of 77.2 % that counts every ballot).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from evaluation.errors import ConfigError, InputFileError

MAX_LISTED = 5  # areas (or rows) named in one message


@dataclass(frozen=True)
class PartyRows:
    """How a party-row file is aggregated (the codebook's ``party_rows`` section).

    ``party`` are the file's columns that together name the party of each row (code and name: local
    lists may share a code); ``repeated`` are the
    canonical columns every party row of an area repeats (taken once, checked equal);
    ``summed`` the canonical columns summed over the parties. Every other canonical
    column identifies the area and election.
    """

    party: tuple[str, ...]
    repeated: tuple[str, ...]
    summed: tuple[str, ...]
    totals: tuple[tuple[str, str], ...] = ()  # (canonical column, party text of the row holding the area's total)

    @classmethod
    def from_mapping(cls, mapping: dict[str, Any], columns: dict[str, str], where: str) -> PartyRows:
        """Parse the section; ``columns`` maps each canonical column of the codebook to its type.

        Raises
        ------
        ConfigError
            When a repeated or summed column is not a numeric column of the codebook, or is listed twice.
        """
        repeated, summed = tuple(mapping["repeated"]), tuple(mapping["summed"])
        totals = tuple((str(name), str(label).strip()) for name, label in (mapping.get("totals") or {}).items())
        for name in (*repeated, *summed, *(name for name, _ in totals)):
            if columns.get(name) not in {"integer", "number"}:
                raise ConfigError(
                    f"{where}/party_rows: {name!r} must be an integer or number column of the codebook's columns"
                )
        listed = repeated + summed + tuple(name for name, _ in totals)
        twice = sorted({name for name in listed if listed.count(name) > 1})
        if twice:
            raise ConfigError(
                f"{where}/party_rows: {', '.join(twice)} listed more than once in repeated, summed and totals"
            )
        party = (mapping["party"],) if isinstance(mapping["party"], str) else tuple(mapping["party"])
        return cls(party=party, repeated=repeated, summed=summed, totals=totals)


def aggregate(
    data: pd.DataFrame, party: pd.Series, spec: PartyRows, source_file: str, names: dict[str, str]
) -> pd.DataFrame:
    """One row per area and election from the party rows of one file.

    Parameters
    ----------
    data
        The canonical columns of every party row (index: 0-based data row of the file).
    party
        The party of each row (same index), from the file's ``spec.party`` columns (joined with `` / ``).
    spec
        Which columns are repeated and which summed.
    source_file
        The file name, for messages.
    names
        Canonical column -> the file's column, for messages.

    Returns
    -------
    pandas.DataFrame
        The area and election columns and the repeated columns as on every party row,
        the summed columns summed; indexed by the first party row of each area, in file order.

    Raises
    ------
    InputFileError
        When a party row has no party, a party appears twice for one area, a repeated
        column differs between the party rows of an area, a repeated or summed value is
        missing, or the summed votes exceed the eligible voters; naming the file, the
        area, the rows (1-based data rows, header not counted) and the values.
    """
    total_columns = [name for name, _ in spec.totals]
    keys = [c for c in data.columns if c not in spec.repeated and c not in spec.summed and c not in total_columns]
    labels = _area_labels(data, keys)
    no_party = party.isna() | (party.astype("string").str.strip() == "")
    if no_party.any():
        raise InputFileError(
            f"{source_file}: column {' / '.join(spec.party)} (the party of each row) is empty in rows "
            f"{_rows(data.index[no_party])}"
        )
    twice = pd.DataFrame({"area": labels, "party": party.astype(str).str.strip()}).duplicated(keep=False)
    if twice.any():
        first = data.index[twice][0]
        rows = data.index[
            twice & (labels == labels[first]) & (party.astype(str).str.strip() == str(party[first]).strip())
        ]
        raise InputFileError(
            f"{source_file}: party {str(party[first]).strip()!r} appears {len(rows)} times for {labels[first]} "
            f"(rows {_rows(rows)}); each party has one row per area (two exports concatenated, or a file of another level?)"
        )
    for column in (*spec.repeated, *spec.summed):
        missing = data[column].isna()
        if missing.any():
            raise InputFileError(
                f"{source_file}: column {names.get(column, column)} ({column}) has no value in rows "
                f"{_rows(data.index[missing])}; every party row of an area needs one"
            )
    groups = data.groupby(labels, sort=False)
    totals = {name: _total_rows(data, labels, party, name, label, source_file, names) for name, label in spec.totals}
    for column in spec.repeated:
        _check_repeated(data, labels, groups[column].nunique(), column, source_file, names)
    result = groups[keys + list(spec.repeated)].first()
    for column in spec.summed:
        result[column] = groups[column].sum()
    for column, values in totals.items():
        result[column] = values.reindex(result.index).to_numpy()
    first_rows = pd.Series(data.index, index=data.index).groupby(labels, sort=False).first()
    result.index = first_rows.reindex(result.index).to_numpy()
    _check_votes(result, labels, data, source_file, names)
    return result


def _total_rows(
    data: pd.DataFrame,
    labels: pd.Series,
    party: pd.Series,
    column: str,
    label: str,
    source_file: str,
    names: dict[str, str],
) -> pd.Series:
    """Each area's ``column`` from its one row whose party is ``label`` (indexed by area label).

    Raises
    ------
    InputFileError
        When an area has no such row, or its value there is missing; naming the areas and their rows.
    """
    is_total = party.astype(str).str.strip() == label
    lacking = [area for area in pd.unique(labels) if not is_total[labels == area].any()]
    if lacking:
        parts = [f"{area} (rows {_rows(data.index[labels == area])})" for area in lacking[:MAX_LISTED]]
        more = f" (and {len(lacking) - MAX_LISTED} more)" if len(lacking) > MAX_LISTED else ""
        raise InputFileError(
            f"{source_file}: {len(lacking)} area(s){more} have no row {label!r} in the party column, which holds "
            f"their {column} ({names.get(column, column)}): " + "; ".join(parts)
        )
    values = data.loc[is_total, column]
    if values.isna().any():
        raise InputFileError(
            f"{source_file}: column {names.get(column, column)} ({column}) has no value in the {label!r} rows "
            f"{_rows(values.index[values.isna()])}"
        )
    return pd.Series(values.to_numpy(), index=labels[is_total].to_numpy())


def _area_labels(data: pd.DataFrame, keys: list[str]) -> pd.Series:
    """A readable label of each row's area and election, e.g. ``area_code 01, election_year 2021``."""
    label = pd.Series("", index=data.index, dtype=object)
    for number, key in enumerate(keys):
        values = data[key]
        text = values.dt.strftime("%Y-%m-%d") if pd.api.types.is_datetime64_any_dtype(values) else values.astype(str)
        label = label + ("" if number == 0 else ", ") + f"{key} " + text.where(values.notna(), "(missing)")
    return label


def _check_repeated(
    data: pd.DataFrame, labels: pd.Series, distinct: pd.Series, column: str, source_file: str, names: dict[str, str]
) -> None:
    """Every party row of an area must carry the same value of a repeated column."""
    differ = distinct[distinct > 1].index
    if not len(differ):
        return
    parts = []
    for area in differ[:MAX_LISTED]:
        rows = data.loc[labels == area, column]
        by_value = "; ".join(
            f"{_format(value)} in rows {_rows(group.index)}" for value, group in rows.groupby(rows, sort=True)
        )
        parts.append(f"{area}: {by_value}")
    more = f" (and {len(differ) - MAX_LISTED} more areas)" if len(differ) > MAX_LISTED else ""
    raise InputFileError(
        f"{source_file}: column {names.get(column, column)} ({column}) must be the same on every party row of an "
        f"area, but differs in {len(differ)} area(s){more}: " + " | ".join(parts)
    )


def _check_votes(
    result: pd.DataFrame, labels: pd.Series, data: pd.DataFrame, source_file: str, names: dict[str, str]
) -> None:
    """Votes summed over the parties above the eligible voters stop the run (areas with 0 eligible are left to validation)."""
    if not {"votes_cast", "eligible_voters"} <= set(result):
        return
    eligible, votes = result["eligible_voters"].astype(float), result["votes_cast"].astype(float)
    over = (eligible > 0) & (votes > eligible)
    if not over.any():
        return
    areas = labels.loc[result.index[over]]
    parts = [
        f"{area}: {_format(votes[row])} votes over rows {_rows(data.index[labels == area])} against "
        f"{_format(eligible[row])} eligible"
        for row, area in list(areas.items())[:MAX_LISTED]
    ]
    raise InputFileError(
        f"{source_file}: the votes of {int(over.sum())} area(s), summed over their party rows "
        f"({names.get('votes_cast', 'votes_cast')}), exceed the eligible voters "
        f"({names.get('eligible_voters', 'eligible_voters')}): " + " | ".join(parts)
    )


def _rows(index: pd.Index) -> str:
    """1-based data rows, at most ``MAX_LISTED`` written out."""
    listed = ", ".join(str(int(row) + 1) for row in index[:MAX_LISTED])
    return listed + (f", ... ({len(index)} rows)" if len(index) > MAX_LISTED else "")


def _format(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else str(number)
