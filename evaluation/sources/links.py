"""A finer sub-municipal code of survey respondents (grunnkrets, postcode) mapped to their voting district.

A survey whose respondents carry a code finer than or different from the
district (canonical survey variable ``link_code``) is linked to the district
(``area_code``) through a two-column file, ``sources.area_links``: one row per
code with the district it lies in. Every code must name one district; a code
that spans two districts cannot place its respondents and stops the run, as
does a respondent whose code is not in the file.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evaluation.errors import ConfigError, InputFileError


def read_area_links(path: Path, code_column: str = "code", area_column: str = "area_code") -> pd.Series:
    """The district (``area_code``) of every code in the links file, indexed by the code (text).

    Raises
    ------
    ConfigError
        When the file lacks a column, a code or district is empty, or a code names two districts.
    """
    path = Path(path)
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", sep=None, engine="python")
    missing = [c for c in (code_column, area_column) if c not in table]
    if missing:
        raise ConfigError(f"{path}: column(s) {', '.join(missing)} missing (found: {', '.join(table.columns)})")
    codes, areas = table[code_column].str.strip(), table[area_column].str.strip()
    empty = codes.eq("") | areas.eq("")
    if empty.any():
        raise ConfigError(f"{path}: row {int(empty.idxmax()) + 2} has an empty {code_column} or {area_column}")
    pairs = pd.DataFrame({"code": codes, "area": areas}).drop_duplicates()
    spans = pairs["code"].duplicated(keep=False)
    if spans.any():
        code = pairs.loc[spans, "code"].iloc[0]
        found = ", ".join(sorted(pairs.loc[pairs["code"] == code, "area"]))
        raise ConfigError(
            f"{path}: {code_column} {code} lies in more than one district ({found}); every code must name one "
            f"district, or its respondents cannot be placed in a treated unit"
        )
    return pd.Series(pairs["area"].to_numpy(), index=pairs["code"].to_numpy(), name="area_code")


def link_survey(survey: pd.DataFrame, links: pd.Series, path: Path) -> pd.DataFrame:
    """``survey`` with ``area_code`` from its ``link_code`` through ``links`` (read from ``path``).

    Raises
    ------
    InputFileError
        When the survey has no ``link_code`` or a respondent's code is missing or not in the links file.
    """
    if "link_code" not in survey:
        raise InputFileError(f"{path}: sources.area_links is set, but the survey codebook maps no column to link_code")
    codes = survey["link_code"].astype("string").str.strip()
    unknown = codes.isna() | ~codes.isin(links.index)
    if unknown.any():
        waves = sorted(survey.loc[unknown, "wave"].unique()) if "wave" in survey else []
        example = codes[unknown].dropna()
        raise InputFileError(
            f"survey: {int(unknown.sum())} respondent(s) have a link_code that {path} does not list"
            + (f", e.g. {example.iloc[0]!r}" if len(example) else " (missing codes)")
            + (f" (waves {', '.join(map(str, waves[:5]))})" if waves else "")
        )
    return survey.assign(area_code=links.reindex(codes.to_numpy()).to_numpy())
