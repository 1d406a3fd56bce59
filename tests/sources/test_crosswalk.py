"""Crosswalk: merges and splits carried through chains of reforms; unknown codes quarantined."""

from __future__ import annotations

import pandas as pd
import pytest

from evaluation.errors import InputFileError
from evaluation.sources.crosswalk import apply_to_survey, apply_to_turnout, load_crosswalk

# 2020: A and B merge into M; 2024: M splits into P (0.7) and Q (0.3). R is unchanged.
CROSSWALK = """old_code,new_code,valid_from,population_share
A,M,2020-01-01,1
B,M,2020-01-01,1
M,P,2024-01-01,0.7
M,Q,2024-01-01,0.3
"""


@pytest.fixture
def crosswalk(tmp_path):
    path = tmp_path / "kodeendringer.csv"
    path.write_text(CROSSWALK, encoding="utf-8")
    return load_crosswalk(path)


def turnout_rows(codes, year):
    n = len(codes)
    return pd.DataFrame(
        {
            "area_code": codes,
            "municipality_code": ["old"] * n,
            "election_type": ["local"] * n,
            "election_year": [year] * n,
            "election_date": pd.Timestamp(f"{year}-09-09"),
            "eligible_voters": [100] * n,
            "votes_cast": [60, 40, 50, 70][:n],
            "turnout": 0.0,
            "source_file": "valg.csv",
            "source_row": range(1, n + 1),
        }
    )


REGISTER = pd.DataFrame({"area_code": ["P", "Q", "R"], "municipality_code": ["mP", "mQ", "mR"]})


def test_chain_of_reforms(crosswalk):
    assert crosswalk.successors("A", pd.Timestamp("2019-09-09")) == (("P", 0.7), ("Q", 0.3))
    assert crosswalk.successors("M", pd.Timestamp("2021-09-13")) == (("P", 0.7), ("Q", 0.3))
    assert crosswalk.successors("P", pd.Timestamp("2025-09-08")) == (("P", 1.0),)


def test_turnout_split_and_merge_sum_into_new_codes(crosswalk):
    data, quarantine = apply_to_turnout(turnout_rows(["A", "B", "R"], 2019), crosswalk, REGISTER)
    assert quarantine.empty
    result = data.set_index("area_code")
    assert result.loc["P", "eligible_voters"] == pytest.approx(140.0)  # (100 + 100) * 0.7
    assert result.loc["Q", "votes_cast"] == pytest.approx(30.0)  # (60 + 40) * 0.3
    assert result.loc["P", "turnout"] == pytest.approx(0.5)
    assert result.loc["R", "votes_cast"] == 50 and result.loc["R", "municipality_code"] == "old"  # untouched
    assert result.loc["Q", "municipality_code"] == "mQ" and result.loc["P", "source_row"] == 1
    assert data["eligible_voters"].sum() == pytest.approx(300.0)  # nobody lost or double counted


def test_unknown_code_is_quarantined_naming_code_file_and_row(crosswalk):
    data, quarantine = apply_to_turnout(turnout_rows(["R", "ZZ"], 2019), crosswalk, REGISTER)
    assert data["area_code"].tolist() == ["R"]
    record = quarantine.iloc[0]
    assert (record["row_number"], record["value"]) == (2, "ZZ")
    assert "area_code ZZ in valg.csv row 2 is neither in the area register nor in kodeendringer.csv" in record["reason"]


def test_survey_respondents_in_split_codes_are_quarantined(crosswalk):
    survey = pd.DataFrame(
        {
            "municipality_code": ["A", "M", "P", "X"],
            "interview_date": pd.to_datetime(["2019-05-01", "2023-05-01", "2024-05-01", "2024-05-01"]),
            "source_file": "w1.sav",
            "source_row": [1, 2, 3, 4],
        }
    )
    data, quarantine = apply_to_survey(survey, crosswalk, {"P", "Q"})
    assert data["municipality_code"].tolist() == ["P"]
    assert quarantine["row_number"].tolist() == [1, 2, 4]
    assert quarantine["reason"].iloc[0].startswith("crosswalk.split: municipality_code A was split (P 0.70, Q 0.30)")
    assert quarantine["reason"].iloc[2].startswith("crosswalk.code_unknown")


def test_crosswalk_file_errors_name_row_and_column(tmp_path):
    path = tmp_path / "cw.csv"
    path.write_text(
        "old_code,new_code,valid_from,population_share\nA,M,2020-01-01,0.6\nA,N,2020-01-01,0.3\n", encoding="utf-8"
    )
    with pytest.raises(InputFileError, match="shares of old_code A .* sum to 0.9000"):
        load_crosswalk(path)
    path.write_text("old_code,new_code,valid_from,population_share\nA,M,1.1.2020,1\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"cw.csv, row 2, column valid_from: '1.1.2020' is not a date"):
        load_crosswalk(path)


def test_ingest_with_crosswalk_accounts_for_every_row(small_demo, ingest_settings, tmp_path):
    import copy
    import shutil

    raw = tmp_path / "raw"
    shutil.copytree(small_demo, raw)
    turnout_file = raw / "valgdeltakelse_stemmekretser.csv"
    turnout = pd.read_csv(turnout_file, sep=";", dtype=str)
    areas = pd.read_csv(raw / "area_register.csv", dtype=str)
    municipality = areas["municipality_code"].iloc[0]
    first_area = areas.loc[areas["municipality_code"] == municipality, "area_code"].iloc[0]
    # Before the (invented) 2020 reform, district 9999 of the municipality existed; it was split in two.
    old = turnout[(turnout["Kommunenummer"] == municipality) & (turnout["Valgår"] == "2019")].iloc[[0]].copy()
    old["Stemmekretsnummer"] = "9999"
    second_area = areas.loc[areas["municipality_code"] == municipality, "area_code"].iloc[1]
    pd.concat([turnout, old, old.assign(Kommunenummer="9998")]).to_csv(turnout_file, sep=";", index=False)
    (raw / "kodeendringer.csv").write_text(
        f"old_code,new_code,valid_from,population_share\n{municipality}9999,{first_area},2020-01-01,0.5\n"
        f"{municipality}9999,{second_area},2020-01-01,0.5\n",
        encoding="utf-8",
    )
    settings = copy.deepcopy(ingest_settings)
    settings["sources"]["crosswalk"] = {"file": "kodeendringer.csv"}
    from evaluation.stages.ingest import ingest

    ingest(raw, tmp_path / "out", settings)
    accounting = pd.read_csv(tmp_path / "out" / "row_accounting.csv").set_index("source_file")
    row = accounting.loc["valgdeltakelse_stemmekretser.csv"]
    assert row["rows_read"] == len(turnout) + 2 and row["rows_quarantined"] == 1  # the 9998 row: unknown code
    assert (accounting["rows_read"] == accounting["rows_kept"] + accounting["rows_quarantined"]).all()
    result = pd.read_parquet(tmp_path / "out" / "turnout.parquet")
    assert not result["area_code"].str.endswith("9999").any()
    assert set(result["area_code"]) <= set(areas["area_code"])
