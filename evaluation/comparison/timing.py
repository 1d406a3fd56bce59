"""When each treated unit's pilot started, from the area register alone (the survey comparison needs no turnout)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.errors import EstimationError
from evaluation.units import register_units

TIMING_COLUMNS = ("area_code", "municipality_code", "role", "pilot_start")


@dataclass(frozen=True)
class PilotTiming:
    """Treatment timing per treated unit (see :mod:`evaluation.units`).

    Attributes
    ----------
    units : pd.DataFrame
        ``unit_code`` (sorted), ``municipality_code`` (the unit's municipality),
        ``pilot_start`` (earliest start of its pilot districts, NaT for
        controls), ``pilot_end`` (latest end, NaT while a pilot runs or when the
        register has no ``pilot_end``) and ``cohort`` (index into
        :attr:`cohort_starts`, -1 never treated).
    cohort_starts : pd.DatetimeIndex
        Distinct pilot start dates, sorted.
    """

    units: pd.DataFrame
    cohort_starts: pd.DatetimeIndex


def pilot_timing(areas: pd.DataFrame, treated_unit: str = "municipality") -> PilotTiming:
    """The timing of every treated unit of the canonical ``areas`` table.

    Raises
    ------
    EstimationError
        When a column is missing or a pilot area has no start date.
    """
    missing = [c for c in TIMING_COLUMNS if c not in areas.columns]
    if missing:
        raise EstimationError(f"areas: missing column(s) {', '.join(missing)}")
    register = register_units(areas, treated_unit)[[*TIMING_COLUMNS, "unit_code"]].copy()
    start = pd.to_datetime(register["pilot_start"], errors="coerce").astype("datetime64[ns]")
    is_pilot = register["role"].astype(str).eq("pilot")
    if start[is_pilot].isna().any():
        raise EstimationError(
            f"areas: pilot area {register.loc[is_pilot & start.isna(), 'area_code'].iloc[0]} has no pilot_start"
        )
    register["pilot_start"] = start.where(is_pilot)
    end = areas["pilot_end"] if "pilot_end" in areas else pd.Series(pd.NaT, index=areas.index)
    register["pilot_end"] = pd.to_datetime(end, errors="coerce").astype("datetime64[ns]").where(is_pilot)
    units = (
        register.groupby("unit_code", sort=True)
        .agg(
            municipality_code=("municipality_code", "first"),
            pilot_start=("pilot_start", "min"),
            pilot_end=("pilot_end", "max"),
        )
        .reset_index()
    )
    return PilotTiming(*with_cohorts(units))


def with_cohorts(units: pd.DataFrame) -> tuple[pd.DataFrame, pd.DatetimeIndex]:
    """``units`` with ``cohort`` (index of its ``pilot_start`` among the distinct starts, -1 for controls), and the starts."""
    cohort_starts = pd.DatetimeIndex(np.sort(units["pilot_start"].dropna().unique()))
    cohort = np.where(units["pilot_start"].isna(), -1, cohort_starts.get_indexer(units["pilot_start"]))
    return units.assign(cohort=cohort), cohort_starts
