"""Turnout plausibility warnings (evaluation/validation/turnout.py) and their place in the validate stage."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from shared import REPO

from evaluation.config import load_config, stage_settings
from evaluation.errors import ConfigError
from evaluation.validation.turnout import electorate_jumps, turnout_outside_range, turnout_warnings

SETTINGS = load_config(REPO / "config" / "config.yaml")["validation"]["turnout"]


def turnout_rows(rows: list[tuple[str, str, int, int, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["area_code", "election_type", "election_year", "eligible_voters", "turnout"])
    return frame.assign(
        municipality_code=frame["area_code"].str[:4], source_file="t.csv", source_row=range(1, len(frame) + 1)
    )


TABLE = turnout_rows(
    [
        ("03010001", "local", 2015, 1000, 0.61),
        ("03010001", "local", 2019, 1500, 0.62),  # +50 %: warned
        ("03010001", "parliamentary", 2017, 700, 0.78),  # another type: not compared with the local elections
        ("03010002", "local", 2015, 1000, 0.60),
        ("03010002", "local", 2019, 1100, 0.18),  # +10 %: fine; turnout 18 %: outside the local range
        ("03010002", "local", 2023, 600, 0.59),  # -45 % against 2019 (the consecutive election): warned
    ]
)


def test_electorate_jump_between_consecutive_elections_of_one_type_is_named():
    messages = electorate_jumps(TABLE, 0.3)
    assert messages == [
        "turnout: eligible voters changed by more than validation.turnout.max_electorate_change 30% between the "
        "local elections 2015 and 2019 in 1 area(s) whose code did not change: area 03010001 (municipality 0301): "
        "1000 -> 1500 (+50%) [t.csv, row 2]; a boundary change needs a crosswalk entry (sources.crosswalk), or a "
        "file holds another election's electorate",
        "turnout: eligible voters changed by more than validation.turnout.max_electorate_change 30% between the "
        "local elections 2019 and 2023 in 1 area(s) whose code did not change: area 03010002 (municipality 0301): "
        "1100 -> 600 (-45%) [t.csv, row 6]; a boundary change needs a crosswalk entry (sources.crosswalk), or a "
        "file holds another election's electorate",
    ]
    assert electorate_jumps(TABLE, 0.6) == []


def test_turnout_outside_the_historic_range_is_named():
    messages = turnout_outside_range(TABLE, {"local": [0.3, 0.95], "parliamentary": [0.8, 0.98]}, "norway")
    assert messages == [
        "turnout: 1 area(s) of the local election 2019 outside the historic norway range 30%-95% "
        "(validation.turnout.ranges.norway.local): area 03010002 (municipality 0301): 18.0% [t.csv, row 5]",
        "turnout: 1 area(s) of the parliamentary election 2017 outside the historic norway range 80%-98% "
        "(validation.turnout.ranges.norway.parliamentary): area 03010001 (municipality 0301): 78.0% [t.csv, row 3]",
    ]
    assert turnout_outside_range(TABLE, {"county": [0.3, 0.9]}, "norway") == []  # types without a range: unchecked


def test_settings_defaults_and_inverted_range():
    assert set(SETTINGS["ranges"]) == {"norway", "sweden"}
    assert len(turnout_warnings(TABLE, SETTINGS, "norway")) == 3  # two jumps, one local turnout below 30 %
    inverted = {**SETTINGS, "ranges": {"norway": {"local": [0.9, 0.3]}}}
    with pytest.raises(ConfigError, match=r"validation.turnout.ranges.norway.local: low 0.9 must be below high 0.3"):
        turnout_warnings(TABLE, inverted, "norway")
    no_ranges = {**SETTINGS, "ranges": {"norway": {"local": [0.3, 0.9]}}}
    assert (
        turnout_warnings(TABLE, no_ranges, "sweden")[-1]
        == "turnout: no validation.turnout.ranges.sweden; turnout ranges not checked"
    )


def test_validate_stage_reports_the_warnings_and_passes(ingested, tmp_path):
    from evaluation.stages.validate import validate

    folder = tmp_path / "ingested"
    shutil.copytree(ingested, folder)
    turnout = pd.read_parquet(folder / "turnout.parquet")
    first = turnout.sort_values(["election_type", "election_year"]).index[-1]  # an area's latest election
    turnout.loc[first, "eligible_voters"] = turnout.loc[first, "eligible_voters"] * 3
    turnout.loc[first, "turnout"] = turnout.loc[first, "votes_cast"] / turnout.loc[first, "eligible_voters"]
    turnout.to_parquet(folder / "turnout.parquet")
    settings = stage_settings(load_config(REPO / "config" / "config.yaml"), "validate")
    settings["variables"] = str(REPO / "config" / "variables.yaml")
    settings["validation"] |= {"field_periods": {}, "data_docs": False}
    paths = validate(folder, tmp_path / "out", settings)
    summary = json.loads(paths["summary"].read_text())
    assert summary["status"] == "passed"
    area = turnout.loc[first, "area_code"]
    jumps = [w for w in summary["tables"]["turnout"]["warnings"] if "max_electorate_change" in w]
    assert len(jumps) == 1 and f"area {area} " in jumps[0]
    assert f"-> {turnout.loc[first, 'eligible_voters']:.0f} (+" in jumps[0]
