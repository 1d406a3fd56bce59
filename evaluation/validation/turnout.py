"""Plausibility warnings on the turnout table that single-row expectations cannot give.

- an electorate that jumps between two consecutive elections of one type in an area
  whose code did not change (after the crosswalk, every row is in today's codes): a
  boundary change that needs a crosswalk entry, or eligible voters of another election;
- turnout outside the range seen historically for the country and election type.

Both return warnings (the ``validate`` stage reports them in the summary; they stop
nothing). The hard turnout checks live elsewhere: party rows whose eligible voters
differ, and party votes above the eligible voters, stop ingest
(:mod:`evaluation.sources.party_rows`); a row with more votes than eligible voters is
quarantined by ``turnout.votes_at_most_eligible`` (``config/validation.yaml``; set its
severity to ``fail`` to stop instead).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from evaluation.errors import ConfigError

MAX_LISTED = 10  # areas named per warning before "and N more"


def electorate_jumps(turnout: pd.DataFrame, max_change: float) -> list[str]:
    """Areas whose eligible voters change by more than ``max_change`` between consecutive elections of one type.

    Parameters
    ----------
    turnout
        Canonical turnout rows (``area_code``, ``election_type``, ``election_year``,
        ``eligible_voters``; ``municipality_code``, ``source_file`` and ``source_row`` when present).
    max_change
        The largest accepted relative change, ``|eligible_t / eligible_{t-1} - 1|``
        (``validation.turnout.max_electorate_change``).

    Returns
    -------
    list of str
        One warning per election type and pair of elections, naming each area (at most
        ``MAX_LISTED``), its electorate in both elections and the change.
    """
    needed = {"area_code", "election_type", "election_year", "eligible_voters"}
    if not needed <= set(turnout) or not len(turnout):
        return []
    rows = turnout.assign(eligible=pd.to_numeric(turnout["eligible_voters"], errors="coerce").astype(float))
    rows = rows.sort_values(["election_type", "area_code", "election_year"], kind="stable")
    previous = rows.groupby(["election_type", "area_code"], sort=False)[["election_year", "eligible"]].shift()
    change = rows["eligible"] / previous["eligible"] - 1
    jumped = rows.assign(previous_year=previous["election_year"], previous=previous["eligible"], change=change)
    jumped = jumped[(previous["eligible"] > 0) & (change.abs() > max_change)]
    messages = []
    for (kind, before, after), group in jumped.groupby(["election_type", "previous_year", "election_year"], sort=True):
        listed = "; ".join(
            f"area {row.area_code}{_municipality(row)}: {row.previous:.0f} -> {row.eligible:.0f} ({row.change:+.0%})"
            f"{_where(row)}"
            for row in group.head(MAX_LISTED).itertuples()
        )
        more = f"; and {len(group) - MAX_LISTED} more areas" if len(group) > MAX_LISTED else ""
        messages.append(
            f"turnout: eligible voters changed by more than validation.turnout.max_electorate_change "
            f"{max_change:.0%} between the {kind} elections {int(before)} and {int(after)} in {len(group)} area(s) "
            f"whose code did not change: {listed}{more}; a boundary change needs a crosswalk entry "
            "(sources.crosswalk), or a file holds another election's electorate"
        )
    return messages


def turnout_outside_range(turnout: pd.DataFrame, ranges: dict[str, list[float]], country: str) -> list[str]:
    """Areas whose turnout lies outside the historic range of ``country`` for their election type.

    Parameters
    ----------
    turnout
        Canonical turnout rows (``area_code``, ``election_type``, ``election_year``, ``turnout`` as a share).
    ranges
        Election type -> ``[low, high]`` (shares) for the country (``validation.turnout.ranges.<country>``);
        an election type without a range is not checked.
    country
        For the message.

    Returns
    -------
    list of str
        One warning per election, naming each area outside the range (at most ``MAX_LISTED``) and its turnout.
    """
    if not {"area_code", "election_type", "election_year", "turnout"} <= set(turnout) or not len(turnout):
        return []
    share = pd.to_numeric(turnout["turnout"], errors="coerce").astype(float)
    low = turnout["election_type"].map({kind: bounds[0] for kind, bounds in ranges.items()}).astype(float)
    high = turnout["election_type"].map({kind: bounds[1] for kind, bounds in ranges.items()}).astype(float)
    outside = turnout[(share < low) | (share > high)].assign(share=share)
    messages = []
    for (kind, year), group in outside.groupby(["election_type", "election_year"], sort=True):
        bounds = ranges[kind]
        listed = "; ".join(
            f"area {row.area_code}{_municipality(row)}: {row.share:.1%}{_where(row)}"
            for row in group.head(MAX_LISTED).itertuples()
        )
        more = f"; and {len(group) - MAX_LISTED} more areas" if len(group) > MAX_LISTED else ""
        messages.append(
            f"turnout: {len(group)} area(s) of the {kind} election {year} outside the historic {country} range "
            f"{bounds[0]:.0%}-{bounds[1]:.0%} (validation.turnout.ranges.{country}.{kind}): {listed}{more}"
        )
    return messages


def _municipality(row) -> str:
    code = getattr(row, "municipality_code", None)
    return f" (municipality {code})" if code is not None and code == code else ""


def _where(row) -> str:
    source, line = getattr(row, "source_file", None), getattr(row, "source_row", None)
    return f" [{source}, row {line}]" if source is not None and line is not None else ""


def turnout_warnings(turnout: pd.DataFrame, settings: dict[str, Any], country: str) -> list[str]:
    """Both checks with the ``validation.turnout`` settings (``max_electorate_change``, ``ranges``) for ``country``."""
    ranges = settings["ranges"].get(country)
    for kind, (low, high) in (ranges or {}).items():
        if low >= high:
            raise ConfigError(f"validation.turnout.ranges.{country}.{kind}: low {low} must be below high {high}")
    unchecked = [] if ranges else [f"turnout: no validation.turnout.ranges.{country}; turnout ranges not checked"]
    return (
        electorate_jumps(turnout, settings["max_electorate_change"])
        + turnout_outside_range(turnout, ranges or {}, country)
        + unchecked
    )
