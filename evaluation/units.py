"""Treated units: the level at which a programme assigned its pilots, from the area register alone.

The register has one row per voting district (stemmekrets / valdistrikt). The
evaluation design (config ``design``) names the level at which treatment was
assigned:

- ``municipality``: a whole municipality is a pilot (the Norwegian
  foregangskommuner). A municipality is a pilot when any of its districts is,
  from the earliest start of its pilot districts.
- ``district``: a voting district is the treated unit.
- ``area``: a named sub-municipal area made of districts (a medborgarbudget
  area); the register's ``unit_code`` column names the area of each district.
  A district without one is a unit of its own.

Every district of a district or area unit must agree on the unit's role,
pilot start, end and type, and lie in one municipality. Inference clusters at
the unit, and the randomization test re-draws units.

Two comparisons are possible below the municipality:

- ``across``: treated units against the units of municipalities without a
  pilot (the untreated rest of a pilot municipality is left out, as it is
  neither treated nor a clean control);
- ``within``: treated units against the rest of their own municipality, with
  municipality x period effects; the randomization test re-draws the treated
  units within each municipality.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.errors import EstimationError, InputFileError

TREATED_UNITS = ("municipality", "district", "area")
COMPARISONS = ("across", "within")
UNIT_FACTS = ("role", "pilot_start", "pilot_end", "pilot_type")
"""Register columns that every district of a district or area unit must agree on."""


def register_units(areas: pd.DataFrame, treated_unit: str = "municipality") -> pd.DataFrame:
    """The register with ``unit_code`` (text), the treated unit of every district.

    Raises
    ------
    EstimationError
        When the level is unknown, an ``area`` design has no ``unit_code``
        column, or the districts of a unit disagree on a fact of
        :data:`UNIT_FACTS` or on their municipality.
    """
    register = areas.copy()
    register["municipality_code"] = register["municipality_code"].astype(str)
    register["unit_code"] = unit_codes(register, treated_unit).to_numpy()
    if treated_unit == "municipality":
        return register
    register["area_code"] = register["area_code"].astype(str)
    _check_units_agree(register)
    return register


def unit_codes(areas: pd.DataFrame, treated_unit: str) -> pd.Series:
    """The treated unit of every register row, as text (not checked; see :func:`register_units`).

    Raises
    ------
    EstimationError
        When the level is unknown or an ``area`` design has no ``unit_code`` column.
    """
    if treated_unit not in TREATED_UNITS:
        raise EstimationError(f"design.treated_unit: {treated_unit!r} is not one of {', '.join(TREATED_UNITS)}")
    if treated_unit == "municipality":
        return areas["municipality_code"].astype(str)
    if treated_unit == "district":
        return areas["area_code"].astype(str)
    if "unit_code" not in areas:
        raise EstimationError(
            "areas: design.treated_unit is 'area' but the register has no unit_code column "
            "(the sub-municipal area of each district; map it in the area-register codebook)"
        )
    named = areas["unit_code"].astype("string").str.strip()
    return named.where(named.notna() & named.ne(""), areas["area_code"].astype("string")).astype(str)


def _check_units_agree(register: pd.DataFrame) -> None:
    facts = ["municipality_code", *(c for c in UNIT_FACTS if c in register)]
    for column in facts:
        values = register[column].astype("string").fillna("")
        spread = values.groupby(register["unit_code"]).nunique()
        if (spread > 1).any():
            unit = spread.index[spread > 1][0]
            seen = sorted(values[register["unit_code"] == unit].unique())
            raise EstimationError(
                f"areas: the districts of unit {unit} disagree on {column} ({' / '.join(v or '(empty)' for v in seen)}); "
                "every district of a treated unit needs the same value"
            )


def comparison_register(areas: pd.DataFrame, comparison: str, treated_unit: str = "municipality") -> pd.DataFrame:
    """The register rows a comparison uses, with ``unit_code``.

    ``across`` keeps the municipalities without a pilot and the pilot units (all
    districts at the municipality level); ``within`` keeps the municipalities
    with a pilot unit, all of their districts.

    Raises
    ------
    EstimationError
        For an unknown comparison, a ``within`` comparison of whole
        municipalities, or a ``within`` comparison where no pilot municipality
        has an untreated unit.
    """
    if comparison not in COMPARISONS:
        raise EstimationError(f"design.comparison: {comparison!r} is not one of {', '.join(COMPARISONS)}")
    register = register_units(areas, treated_unit)
    pilot = register["role"].astype(str).eq("pilot")
    pilot_municipality = register["municipality_code"].isin(register.loc[pilot, "municipality_code"])
    if comparison == "within":
        if treated_unit == "municipality":
            raise EstimationError(
                "design.comparison: 'within' compares treated areas with the rest of their municipality, "
                "so it needs design.treated_unit 'district' or 'area'"
            )
        kept = register[pilot_municipality]
        if kept["role"].astype(str).eq("pilot").all():
            raise EstimationError("design.comparison 'within': no pilot municipality has an untreated district")
        return kept.reset_index(drop=True)
    if treated_unit == "municipality":
        return register
    return register[pilot | ~pilot_municipality].reset_index(drop=True)


def unit_register(areas: pd.DataFrame, treated_unit: str = "municipality") -> pd.DataFrame:
    """One row per treated (pilot) unit: its code and name, municipality, type, start, end and number of districts.

    Public register facts; the reports are written per unit.
    """
    register = register_units(areas, treated_unit)
    pilots = register[register["role"].astype(str).eq("pilot")].copy()
    name_column = {"municipality": "municipality_name", "district": "area_name", "area": "unit_name"}[treated_unit]
    pilots["unit_name"] = pilots[name_column] if name_column in pilots else pilots["unit_code"]
    aggregations = {
        "unit_name": ("unit_name", "first"),
        "municipality_code": ("municipality_code", "first"),
    }
    if "pilot_start" in pilots:
        aggregations["pilot_start"] = ("pilot_start", "min")
    if "area_code" in pilots:
        aggregations["n_districts"] = ("area_code", "nunique")
    for column in ("municipality_name", "pilot_type", "pilot_end", "cohort", "cycles"):
        if column in pilots:
            aggregations[column] = (column, "max" if column == "pilot_end" else "first")
    table = pilots.groupby("unit_code", sort=True).agg(**aggregations).reset_index()
    if "cohort" not in table and "pilot_start" in table:  # the year of the start, as the demo register gives it
        table["cohort"] = pd.to_datetime(table["pilot_start"]).dt.year
    order = ["unit_code", "unit_name", "municipality_code", "municipality_name", "pilot_type", "pilot_start"]
    order += ["pilot_end", "cohort", "cycles", "n_districts"]
    return table[[c for c in order if c in table]].assign(treated_unit=treated_unit)


def _respondent_key(survey: pd.DataFrame, treated_unit: str) -> str:
    """The survey column that links a respondent to a unit below the municipality: ``area_code`` or ``unit_code``.

    Raises
    ------
    EstimationError
        When the survey has neither (``unit_code`` only links an ``area`` design).
    """
    if "area_code" in survey:
        return "area_code"
    if treated_unit == "area" and "unit_code" in survey:
        return "unit_code"
    raise EstimationError(
        f"survey: design.treated_unit is {treated_unit!r}, so every respondent needs the district they live in "
        "(column area_code" + (" or unit_code" if treated_unit == "area" else "") + "; map it in the survey codebook)"
    )


def respondent_unit_codes(survey: pd.DataFrame, areas: pd.DataFrame, treated_unit: str) -> pd.Series:
    """The treated unit of every respondent, missing where the code is not in the register.

    Not checked (see :func:`survey_units`): validation counts with it before
    its checks have judged the codes and the register.

    Raises
    ------
    EstimationError
        When a design below the municipality meets a survey without the respondents' district.
    """
    if treated_unit == "municipality":
        return survey["municipality_code"].astype(str).rename("unit_code")
    key = _respondent_key(survey, treated_unit)
    units = unit_codes(areas, treated_unit)
    links = areas["area_code"].astype(str) if key == "area_code" else units
    lookup = pd.Series(units.to_numpy(), index=links.to_numpy())
    return survey[key].astype("string").str.strip().map(lookup[~lookup.index.duplicated()]).rename("unit_code")


def survey_units(survey: pd.DataFrame, areas: pd.DataFrame, treated_unit: str = "municipality") -> pd.Series:
    """The treated unit (``unit_code``) of every survey respondent.

    At the municipality level the unit is the respondent's municipality. Below
    it the survey must carry the respondent's district (``area_code``, e.g. a
    valdistrikt, or a finer code mapped to one through the survey codebook's
    crosswalk) or, for an ``area`` design, the area itself (``unit_code``).

    Raises
    ------
    EstimationError
        When the survey has no such column, a respondent has no code, a code is
        not in the register, or a respondent's district lies in another
        municipality than the respondent's ``municipality_code``.
    """
    municipalities = survey["municipality_code"].astype(str)
    if treated_unit == "municipality":
        return municipalities.rename("unit_code")
    register = register_units(areas, treated_unit)
    key = _respondent_key(survey, treated_unit)
    codes, lookup = survey[key], register.drop_duplicates(key).set_index(key)
    text = codes.astype("string").str.strip()
    if text.isna().any() or text.eq("").any():
        missing = text.isna() | text.eq("")
        waves = sorted(survey.loc[missing, "wave"].unique()) if "wave" in survey else []
        raise EstimationError(
            f"survey: {int(missing.sum())} respondent(s) have no {key}"
            + (f" (waves {', '.join(map(str, waves[:5]))})" if waves else "")
            + f"; design.treated_unit {treated_unit!r} needs it for every respondent"
        )
    unknown = sorted(set(text) - set(lookup.index))
    if unknown:
        raise EstimationError(
            f"survey: {len(unknown)} {key}(s) not in the area register, e.g. {unknown[0]} "
            f"({int(text.isin(unknown).sum())} respondent(s))"
        )
    home = lookup["municipality_code"].reindex(text.to_numpy()).to_numpy()
    elsewhere = home != municipalities.to_numpy()
    if elsewhere.any():
        first = int(np.flatnonzero(elsewhere)[0])
        raise EstimationError(
            f"survey: {int(elsewhere.sum())} respondent(s) have a {key} outside their municipality_code, e.g. "
            f"{key} {text.iloc[first]} lies in municipality {home[first]}, the respondent's is {municipalities.iloc[first]}"
        )
    return pd.Series(lookup["unit_code"].reindex(text.to_numpy()).to_numpy(), index=survey.index, name="unit_code")


def municipal_periods(records: pd.DataFrame, areas: pd.DataFrame, date_column: str, source: str) -> pd.DataFrame:
    """``records`` with the ``role`` of their municipality and the ``period`` (``before``/``after``) of their date.

    A pilot municipality's ``after`` starts with the calendar year of its pilot
    start (participatory budgets, councils and proposals run in yearly cycles);
    a control municipality's with the programme's first start year, so that the
    controls' change over the same years is the reference for the pilots'.

    Raises
    ------
    InputFileError
        When a record's municipality is not in the area register, or the register has no pilot
        (``source`` names the records in the message).
    """
    starts = areas[areas["role"] == "pilot"].groupby("municipality_code")["pilot_start"].min().dt.year
    if starts.empty:
        raise InputFileError(f"{source}: the area register has no pilot, so there is no before and after")
    code = records["municipality_code"].astype(str)
    unknown = sorted(set(code) - set(areas["municipality_code"].astype(str)))
    if unknown:
        raise InputFileError(f"{source}: municipality {unknown[0]} is not in the area register")
    split = code.map(starts).fillna(starts.min())
    return records.assign(
        municipality_code=code,
        role=np.where(code.isin(starts.index), "pilot", "control"),
        period=np.where(records[date_column].dt.year >= split, "after", "before"),
    )
