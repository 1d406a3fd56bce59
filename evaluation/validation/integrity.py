"""Checks across rows and stages that expectations on single rows cannot make.

- one truth per treated unit: the districts of a treated unit (a municipality,
  or a district or area by ``design.treated_unit``) agree on its role, pilot
  start, end, type and name, and an area lies in one municipality;
- quarantine limits over ingest and validation together, per table, per input
  file (a survey wave) and per election;
- pilot coverage in the turnout data: every pilot municipality has districts in
  every election.

Each function returns messages (empty when all is well) that name the file, the
municipality, wave or election, and what was expected; the ``validate`` stage
stops the run on them.
"""

from __future__ import annotations

import pandas as pd

from evaluation.errors import EstimationError
from evaluation.units import unit_codes

TREATMENT_COLUMNS = ("role", "pilot_start", "pilot_end", "pilot_type", "municipality_name")
AREA_COLUMNS = ("municipality_code", "unit_name")
"""Also agreed on by the districts of one area (a treated unit below the municipality)."""
ACCOUNTING_KEYS = ["table", "source_file"]


def treated_unit_conflicts(areas: pd.DataFrame, treated_unit: str = "municipality") -> list[str]:
    """Treated units whose districts disagree on ``role``, ``pilot_start``, ``pilot_end``, ``pilot_type`` or a name.

    Treatment is assigned per unit (``design.treated_unit``), so its districts
    must agree (a missing value disagrees with a present one). At the
    municipality level, mixed pilot and control districts would need a treated
    unit below the municipality, which the design then has to declare.
    """
    if "municipality_code" not in areas:
        return []
    try:
        units = unit_codes(areas, treated_unit)
    except EstimationError as exc:
        return [str(exc)]
    kind = "municipality" if treated_unit == "municipality" else treated_unit
    columns = [*TREATMENT_COLUMNS, *(AREA_COLUMNS if treated_unit != "municipality" else ())]
    messages = []
    source = areas["source_file"].astype(str).iloc[0] if "source_file" in areas and len(areas) else "area register"
    for column in (c for c in columns if c in areas):
        values = areas[column].astype("string").fillna("(missing)")
        distinct = values.groupby(units).unique()
        for unit, found in distinct[distinct.map(len) > 1].items():
            rows = _rows_of(areas, units == unit, values)
            messages.append(
                f"{source}: {kind} {unit} has conflicting {column} values "
                f"{', '.join(repr(v) for v in sorted(found))} ({rows}); every district of a {kind} must carry "
                f"the same {column}, as treatment is assigned per {kind} (design.treated_unit: {treated_unit})"
            )
    return messages


def pilot_ends_before_start(areas: pd.DataFrame) -> list[str]:
    """Districts whose ``pilot_end`` is not after their ``pilot_start``, naming the file and rows."""
    if "pilot_end" not in areas or "pilot_start" not in areas:
        return []
    start = pd.to_datetime(areas["pilot_start"], errors="coerce")
    end = pd.to_datetime(areas["pilot_end"], errors="coerce")
    bad = areas[end.notna() & (start.isna() | (end <= start))]
    if bad.empty:
        return []
    source = areas["source_file"].astype(str).iloc[0] if "source_file" in areas else "area register"
    rows = ", ".join(str(int(r)) for r in bad["source_row"].head(5)) if "source_row" in bad else f"{len(bad)} rows"
    return [f"{source}: pilot_end must be after pilot_start (and needs one) in {len(bad)} district(s), rows {rows}"]


def _rows_of(areas: pd.DataFrame, members: pd.Series, values: pd.Series) -> str:
    """The rows of each value (at most three per value), e.g. ``'2019-08-01' in rows 14, 15, 16; '2020-08-01' in row 17``."""
    rows = areas.loc[members.to_numpy()]
    if "source_row" not in rows:
        return f"{len(rows)} districts"
    parts = []
    for value, group in rows["source_row"].groupby(values.loc[rows.index], sort=True):
        listed = ", ".join(str(int(r)) for r in group.head(3)) + (", ..." if len(group) > 3 else "")
        parts.append(f"{value!r} in row{'s' if len(group) > 1 else ''} {listed}")
    return "; ".join(parts)


def quarantine_share_failures(accounting: pd.DataFrame, limit: float) -> list[str]:
    """Tables and input files that lose more than ``limit`` of their rows to quarantine (ingest and validation).

    Parameters
    ----------
    accounting
        Rows read and quarantined per ``table`` and ``source_file``, with
        ``rows_read``, ``quarantined_ingest`` and ``quarantined_validate``.
    limit
        The configured ``validation.fail_on_quarantine_share``.
    """
    lost = accounting.assign(lost=accounting["quarantined_ingest"] + accounting["quarantined_validate"])
    messages = []
    for table, rows in lost.groupby("table", sort=False):
        read, gone = int(rows["rows_read"].sum()), int(rows["lost"].sum())
        if read and gone / read > limit:
            messages.append(
                f"{table}: {gone} of {read} rows quarantined (at ingest and validation), more than "
                f"fail_on_quarantine_share {limit:.0%}; see validated/quarantine.parquet"
            )
    for row in lost.itertuples():
        if row.rows_read and row.lost / row.rows_read > limit and (lost["table"] == row.table).sum() > 1:
            messages.append(
                f"{row.source_file} ({row.table}): {row.lost} of {row.rows_read} rows quarantined (at "
                f"ingest and validation), more than fail_on_quarantine_share {limit:.0%}"
            )
    return messages


def election_share_failures(turnout: pd.DataFrame, quarantined: pd.Index, limit: float) -> list[str]:
    """Elections that lose more than ``limit`` of their turnout rows to validation quarantine."""
    if not {"election_year", "election_type"} <= set(turnout) or not len(turnout):
        return []
    keys = turnout["election_type"].astype(str) + " " + turnout["election_year"].astype("string").fillna("?")
    share = keys.iloc[list(quarantined)].value_counts().div(keys.value_counts(), fill_value=0).fillna(0)
    return [
        f"turnout, {election} election: {share[election]:.0%} of its rows quarantined, more than "
        f"fail_on_quarantine_share {limit:.0%}"
        for election in share.index
        if share[election] > limit
    ]


def turnout_coverage_gaps(turnout: pd.DataFrame, areas: pd.DataFrame) -> list[str]:
    """Pilot municipalities without turnout rows in an election that other municipalities have."""
    if not {"role", "municipality_code"} <= set(areas) or "municipality_code" not in turnout or not len(turnout):
        return []
    pilots = sorted(areas.loc[areas["role"] == "pilot", "municipality_code"].astype(str).unique())
    keys = ["election_type", "election_year"]
    if not set(keys) <= set(turnout):
        return []
    elections = turnout[keys].drop_duplicates()
    present = set(
        zip(
            turnout["municipality_code"].astype(str),
            turnout["election_type"].astype(str),
            turnout["election_year"].astype(str),
        )
    )
    source = turnout["source_file"].astype(str).iloc[0] if "source_file" in turnout else "turnout"
    return [
        f"{source}: pilot municipality {code} has no turnout rows for the {kind} election {year}"
        for code in pilots
        for kind, year in elections.astype(str).itertuples(index=False)
        if (code, kind, year) not in present
    ]
