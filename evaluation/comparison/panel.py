"""The area x election turnout panel with treatment timing.

One row per voting district and election, built from the canonical
``turnout`` and ``areas`` tables (docs/data-contracts.md).  A district is
treated in an election when ``election_date >= pilot_start``.  An election is a
type and year: elections held on one day (Sweden's riksdag, region and kommun
elections) are separate elections with their own fixed effects.  Event time
counts *election days* (local and parliamentary alike) from the first on or
after the start: ``rel_time = 0`` is the first treated election day and
``rel_time = -1`` the last one before the pilot (the reference); same-day
elections share their event time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.comparison.timing import with_cohorts
from evaluation.errors import EstimationError
from evaluation.units import register_units

TURNOUT_COLUMNS = (
    "area_code",
    "municipality_code",
    "election_type",
    "election_year",
    "election_date",
    "eligible_voters",
    "turnout",
)
AREA_COLUMNS = ("area_code", "municipality_code", "role", "pilot_start")
DISTRICT_PROFILES = {
    "education": "share_higher_education",
    "income": "median_income",
    "immigrant_share": "share_immigrant",
}
"""Socioeconomic district profiles of the area register: name -> column. A district is ``low_<name>`` when its
column is in the lowest tercile over all districts; the turnout triple differences compare low with the rest."""


def _require(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise EstimationError(f"{name}: missing column(s) {', '.join(missing)}")


@dataclass(frozen=True)
class TurnoutPanel:
    """Area x election panel ready for estimation.

    Attributes
    ----------
    data : pd.DataFrame
        One row per area and election: ``area_code``, ``municipality_code``,
        ``election_index`` (0 = first election by date), ``election_date``,
        ``eligible_voters``, ``turnout_pp`` (turnout x 100), ``pilot_start``,
        ``treated`` (0/1), ``pilot_end`` (NaT unless the pilot has ended),
        ``rel_time`` (NaN for controls), ``low_<profile>``
        for each profile of :data:`DISTRICT_PROFILES` the register has (district
        in the lowest tercile of its column over all districts, e.g.
        ``low_education``), ``unit_code`` and ``unit`` (index ``0..J-1`` of the
        treated unit, see :mod:`evaluation.units`).
    elections : pd.DataFrame
        ``election_index``, ``election_type``, ``election_year``, ``election_date``.
    units : pd.DataFrame
        ``unit_code``, ``municipality_code`` (the unit's municipality),
        ``pilot_start`` (earliest pilot start, NaT for controls), ``cohort``
        (index into :attr:`cohort_starts`, -1 never), ``size`` (mean eligible
        voters per election).
    cohort_starts : pd.DatetimeIndex
        Distinct pilot start dates, sorted.
    """

    data: pd.DataFrame
    elections: pd.DataFrame
    units: pd.DataFrame
    cohort_starts: pd.DatetimeIndex

    def exposure(self, rows: pd.DataFrame | None = None) -> np.ndarray:
        """``n x C`` matrix: would the row be treated if its unit were in cohort ``c``."""
        rows = self.data if rows is None else rows
        dates = rows["election_date"].to_numpy("datetime64[ns]")
        return (dates[:, None] >= self.cohort_starts.to_numpy("datetime64[ns]")[None, :]).astype(float)

    @property
    def n_pilot_units(self) -> int:
        """Number of treated units (municipalities with a pilot district, pilot districts or pilot areas)."""
        return int((self.units["cohort"] >= 0).sum())


def _start_dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, errors="coerce").astype("datetime64[ns]")


def build_turnout_panel(turnout: pd.DataFrame, areas: pd.DataFrame, treated_unit: str = "municipality") -> TurnoutPanel:
    """Join turnout to the area register and derive treatment timing per treated unit.

    Parameters
    ----------
    turnout : pd.DataFrame
        Canonical ``turnout.parquet``.
    areas : pd.DataFrame
        Canonical ``areas.parquet`` (or the part a comparison uses).
    treated_unit : str
        ``municipality``, ``district`` or ``area`` (:func:`evaluation.units.register_units`).

    Raises
    ------
    EstimationError
        When columns are missing, an area in ``turnout`` is not in the register,
        a pilot area has no start date, or eligible voters / turnout are invalid.
    """
    _require(turnout, TURNOUT_COLUMNS, "turnout")
    _require(areas, AREA_COLUMNS, "areas")
    profiles = {name: column for name, column in DISTRICT_PROFILES.items() if column in areas}
    reg = register_units(areas, treated_unit)[[*AREA_COLUMNS, "unit_code", *profiles.values()]].copy()
    reg["pilot_end"] = _start_dates(areas["pilot_end"]) if "pilot_end" in areas else pd.NaT
    reg["area_code"] = reg["area_code"].astype(str)
    reg["pilot_start"] = _start_dates(reg["pilot_start"])
    if reg["area_code"].duplicated().any():
        dup = reg.loc[reg["area_code"].duplicated(), "area_code"].iloc[0]
        raise EstimationError(f"areas: area_code {dup} appears more than once")
    is_pilot = reg["role"].astype(str).eq("pilot")
    if reg.loc[is_pilot, "pilot_start"].isna().any():
        bad = reg.loc[is_pilot & reg["pilot_start"].isna(), "area_code"].iloc[0]
        raise EstimationError(f"areas: pilot area {bad} has no pilot_start")
    reg.loc[~is_pilot, ["pilot_start", "pilot_end"]] = pd.NaT
    for name, column in profiles.items():
        values = pd.to_numeric(reg[column], errors="coerce")
        reg[f"low_{name}"] = (values <= values.quantile(1 / 3)).astype(float)
    reg = reg.drop(columns=list(profiles.values()))

    t = turnout[list(TURNOUT_COLUMNS)].copy()
    t["area_code"] = t["area_code"].astype(str)
    t["election_date"] = _start_dates(t["election_date"])
    unknown = sorted(set(t["area_code"]) - set(reg["area_code"]))
    if unknown:
        raise EstimationError(f"turnout: {len(unknown)} area_code(s) not in the area register, e.g. {unknown[0]}")
    bad = ~(t["eligible_voters"].gt(0) & t["turnout"].between(0, 1))
    if bad.any():
        row = t.loc[bad].iloc[0]
        raise EstimationError(
            f"turnout: area {row['area_code']} election {row['election_year']}: eligible_voters must be > 0 and turnout in 0-1 "
            f"({int(bad.sum())} row(s))"
        )
    elections = (
        t[["election_type", "election_year", "election_date"]]
        .drop_duplicates()
        .sort_values(["election_date", "election_type"])
        .reset_index(drop=True)
    )
    twice = elections.duplicated(["election_type", "election_year"], keep=False)
    if twice.any():
        first = elections[twice].iloc[0]
        raise EstimationError(
            f"turnout: the {first['election_type']} election of {first['election_year']} has two dates "
            f"({', '.join(str(d.date()) for d in elections.loc[twice, 'election_date'].iloc[:2])})"
        )
    elections["election_index"] = np.arange(len(elections))  # same-day elections (Sweden's) are separate elections
    data = t.drop(columns="municipality_code").merge(reg, on="area_code", how="left", validate="many_to_one")
    data = data.merge(
        elections[["election_type", "election_year", "election_index"]], on=["election_type", "election_year"]
    )
    data["turnout_pp"] = 100.0 * data["turnout"].astype(float)
    data["eligible_voters"] = data["eligible_voters"].astype(float)
    data["treated"] = (data["election_date"] >= data["pilot_start"]).astype(float)
    days = np.unique(elections["election_date"].to_numpy("datetime64[ns]"))  # event time counts election days
    starts = data["pilot_start"].to_numpy("datetime64[ns]")
    first_treated = np.searchsorted(days, starts, side="left").astype(float)
    first_treated[np.isnat(starts)] = np.nan
    day_index = np.searchsorted(days, data["election_date"].to_numpy("datetime64[ns]"))
    data["rel_time"] = day_index - first_treated
    units = (
        data.groupby("unit_code", sort=True)
        .agg(
            municipality_code=("municipality_code", "first"),
            pilot_start=("pilot_start", "min"),
            voters=("eligible_voters", "sum"),
            n_elections=("election_index", "nunique"),
        )
        .reset_index()
    )
    units["size"] = units["voters"] / units["n_elections"]
    units, cohort_starts = with_cohorts(units)
    data["unit"] = pd.Categorical(data["unit_code"], categories=units["unit_code"]).codes.astype(np.int64)
    data = data.sort_values(["area_code", "election_index"]).reset_index(drop=True)
    columns = ["unit_code", "municipality_code", "pilot_start", "cohort", "size"]
    return TurnoutPanel(data, elections, units[columns], cohort_starts)
