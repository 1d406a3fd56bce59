"""valgresultat.no party-distribution exports through the presets no_valgresultat_partifordeling_*.yaml.

``fixtures/valgresultat/partifordeling_1_st_2021.csv`` is the real export of the 2021 stortingsvalg at
county level (public aggregate data, copied unchanged from valgresultat.no's layout; its README gives
76.66 % nationally). The level 2 and 4 fixtures are small files in the same layout (same columns,
semicolons, trailing semicolon, decimal comma), with invented numbers.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from shared import REPO, TESTS

from evaluation.errors import ConfigError, InputFileError
from evaluation.sources.codebook import load_codebook
from evaluation.stages.ingest import ingest_single

FIXTURES = TESTS / "fixtures" / "valgresultat"
REAL = FIXTURES / "partifordeling_1_st_2021.csv"
PRESETS = {
    level: REPO / "config" / "codebooks" / f"no_valgresultat_partifordeling_{name}.yaml"
    for level, name in ((1, "fylke"), (2, "kommune"), (4, "stemmekrets"))
}
TOLERANCE_PP = 0.005


def ingest(path: Path, level: int) -> pd.DataFrame:
    return ingest_single(path, load_codebook(PRESETS[level])).data


def party_rows(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    """The file's rows read with the csv module, independently of the ingest code."""
    with open(path, encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def expected_by_area(path: Path, key: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    """(eligible voters once, party votes summed) per area, from the raw rows."""
    eligible: dict[str, set[int]] = {}
    votes: dict[str, int] = {}
    for row in party_rows(path):
        area = "".join(row[k] for k in key)
        eligible.setdefault(area, set()).add(int(row["Antall stemmeberettigede"]))
        votes[area] = votes.get(area, 0) + int(row["Antall stemmer totalt"])
    assert all(len(values) == 1 for values in eligible.values())
    return {area: (values.pop(), votes[area]) for area, values in eligible.items()}


def test_real_county_export_gives_party_votes_over_eligible():
    turnout = ingest(REAL, 1)
    expected = expected_by_area(REAL, ("Fylkenummer",))
    assert len(turnout) == len(expected) == 19  # one row per county, not per party
    assert turnout["area_code"].is_unique
    for row in turnout.itertuples():
        eligible, votes = expected[row.area_code]
        assert (row.eligible_voters, row.votes_cast) == (eligible, votes)
        assert row.turnout == pytest.approx(votes / eligible, rel=1e-12)
    assert set(turnout["election_type"]) == {"parliamentary"} and set(turnout["election_year"]) == {2021}
    assert set(turnout["election_date"]) == {pd.Timestamp("2021-09-13")}
    # the electorate is taken once per county: the sum over party rows would be about 19 times larger
    raw_sum = sum(int(r["Antall stemmeberettigede"]) for r in party_rows(REAL))
    assert turnout["eligible_voters"].sum() == sum(e for e, _ in expected.values()) < raw_sum / 15


def test_real_county_export_matches_published_turnout():
    turnout = ingest(REAL, 1)
    national = 100 * turnout["votes_cast"].sum() / turnout["eligible_voters"].sum()
    ostfold = turnout.loc[turnout["area_code"] == "01"].iloc[0]
    assert abs(national - 76.66) < TOLERANCE_PP
    assert abs(100 * ostfold["votes_cast"] / ostfold["eligible_voters"] - 72.27) < TOLERANCE_PP
    assert abs(100 * ostfold["turnout"] - 72.27) < TOLERANCE_PP


def test_municipality_level_export():
    path = FIXTURES / "partifordeling_2_ko_2023.csv"
    turnout = ingest(path, 2)
    expected = expected_by_area(path, ("Kommunenummer",))
    assert sorted(turnout["area_code"]) == sorted(expected) == ["3001", "3002", "4601"]
    assert (turnout["municipality_code"] == turnout["area_code"]).all()
    for row in turnout.itertuples():
        eligible, votes = expected[row.area_code]
        assert (row.eligible_voters, row.votes_cast, row.turnout) == (eligible, votes, pytest.approx(votes / eligible))
    assert set(turnout["election_type"]) == {"local"} and set(turnout["election_date"]) == {pd.Timestamp("2023-09-11")}


def test_district_level_export():
    path = FIXTURES / "partifordeling_4_st_2021.csv"
    turnout = ingest(path, 4)
    expected = expected_by_area(path, ("Kommunenummer", "Stemmekretsnummer"))
    assert (
        sorted(turnout["area_code"]) == sorted(expected) == ["03010101", "03010102", "30010001", "30010002", "30010003"]
    )
    for row in turnout.itertuples():
        eligible, votes = expected[row.area_code]
        assert (row.eligible_voters, row.votes_cast, row.turnout) == (eligible, votes, pytest.approx(votes / eligible))
        assert row.area_code.startswith(row.municipality_code)
    # provenance: each area row points at its first party row (1-based data row)
    assert list(turnout.sort_values("source_row")["source_row"]) == [1, 6, 11, 16, 21]


def test_row_accounting_counts_areas():
    result = ingest_single(REAL, load_codebook(PRESETS[1]))
    accounting = result.accounting.iloc[0]
    assert (accounting["rows_read"], accounting["rows_kept"], accounting["rows_quarantined"]) == (19, 19, 0)


@pytest.mark.parametrize(
    "variant",
    ["bom", "cp1252", "crlf", "quoted", "date_prefixed_name"],
)
def test_layout_variants_give_the_same_table(tmp_path, variant):
    """What exports and spreadsheets do to the file: BOM, Windows encoding and line ends, quoted fields, renaming."""
    text = REAL.read_text(encoding="utf-8")
    name = REAL.name
    if variant == "quoted":
        lines = text.splitlines()
        text = (
            "\n".join([lines[0]] + [";".join(f'"{f}"' if f else f for f in line.split(";")) for line in lines[1:]])
            + "\n"
        )
    if variant == "date_prefixed_name":
        name = "2021-09-17_" + name
    path = tmp_path / name
    encoding = "cp1252" if variant == "cp1252" else "utf-8-sig" if variant == "bom" else "utf-8"
    path.write_bytes(text.replace("\n", "\r\n").encode(encoding) if variant == "crlf" else text.encode(encoding))
    plain = ingest(REAL, 1).drop(columns="source_file")
    pd.testing.assert_frame_equal(ingest(path, 1).drop(columns="source_file"), plain)


def write_variant(tmp_path: Path, source: Path, name: str, change) -> Path:
    """A copy of ``source`` named ``name`` with ``change(lines)`` applied (lines without the newline)."""
    lines = source.read_text(encoding="utf-8").splitlines()
    path = tmp_path / name
    path.write_text("\n".join(change(lines)) + "\n", encoding="utf-8")
    return path


def set_field(line: str, column: str, value: str, header: str) -> str:
    fields = line.split(";")
    fields[header.split(";").index(column)] = value
    return ";".join(fields)


def test_inconsistent_eligible_voters_stop_naming_area_and_rows(tmp_path):
    def change(lines):
        lines[5] = set_field(lines[5], "Antall stemmeberettigede", "224005", lines[0])  # Østfold's 5th party row
        return lines

    path = write_variant(tmp_path, REAL, REAL.name, change)
    with pytest.raises(InputFileError) as err:
        ingest(path, 1)
    message = str(err.value)
    assert message.startswith("partifordeling_1_st_2021.csv: column Antall stemmeberettigede (eligible_voters) must be")
    assert "area_code 01, election_type parliamentary, election_year 2021" in message
    assert "224004 in rows 1, 2, 3, 4, 6, ... (18 rows); 224005 in rows 5" in message


def test_votes_above_eligible_stop(tmp_path):
    def change(lines):
        lines[1] = set_field(lines[1], "Antall stemmer totalt", "150000", lines[0])  # Østfold: 262551 votes > 224004
        return lines

    path = write_variant(tmp_path, REAL, REAL.name, change)
    with pytest.raises(
        InputFileError,
        match=r"exceed the eligible voters \(Antall stemmeberettigede\): area_code 01, .*262551 votes over rows 1, 2, 3, 4, 5, \.\.\. \(19 rows\) against 224004 eligible",
    ):
        ingest(path, 1)


def test_party_twice_in_one_area_stops(tmp_path):
    path = write_variant(tmp_path, REAL, REAL.name, lambda lines: lines + lines[1:3])  # rows appended again
    with pytest.raises(
        InputFileError, match=r"party 'A / Arbeiderpartiet' appears 2 times for area_code 01, .* \(rows 1, 362\)"
    ):
        ingest(path, 1)


def test_district_file_read_with_the_county_preset_stops(tmp_path):
    """The level of the file is in its name; a district file renamed to level 1 repeats parties per county."""
    source = FIXTURES / "partifordeling_4_st_2021.csv"
    with pytest.raises(InputFileError, match="does not match the codebook's file_name pattern"):
        ingest(source, 1)
    renamed = tmp_path / "partifordeling_1_st_2021.csv"
    shutil.copy(source, renamed)
    with pytest.raises(InputFileError, match=r"party 'A / Arbeiderpartiet' appears 2 times for area_code 03"):
        ingest(renamed, 1)


def test_unreadable_party_row_stops_instead_of_undercounting(tmp_path):
    def change(lines):
        lines[3] = set_field(lines[3], "Antall stemmer totalt", "7 41x", lines[0])
        return lines

    path = write_variant(tmp_path, REAL, REAL.name, change)
    with pytest.raises(
        InputFileError,
        match=r"1 party row\(s\) cannot be used \(row 3, column Antall stemmer totalt, value '7 41x'.*undercounting",
    ):
        ingest(path, 1)


def test_empty_party_code_stops(tmp_path):
    def change(lines):
        lines[2] = set_field(lines[2], "Partikode", "", lines[0])
        return lines

    path = write_variant(tmp_path, REAL, REAL.name, change)
    with pytest.raises(
        InputFileError, match=r"column Partikode / Partinavn \(the party of each row\) is empty in rows 2$"
    ):
        ingest(path, 1)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "partifordeling_1_sa_2021.csv",
            "election_type code 'sa' in the file name is not in the codebook's file_name/recode/election_type (fy, ko, st)",
        ),
        ("partifordeling_1_st_2005.csv", "no norway election parliamentary 2005 in the election calendar"),
        ("valgresultat_2021.csv", "does not match the codebook's file_name pattern"),
    ],
)
def test_file_names_that_do_not_give_a_known_election_stop(tmp_path, name, message):
    path = tmp_path / name
    shutil.copy(REAL, path)
    with pytest.raises(InputFileError, match=re.escape(message)):
        ingest(path, 1)


def test_party_rows_only_for_numeric_columns_and_turnout(tmp_path):
    text = PRESETS[1].read_text(encoding="utf-8")
    wrong_column = tmp_path / "a.yaml"
    wrong_column.write_text(text.replace("summed: [votes_cast]", "summed: [area_code]"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"party_rows: 'area_code' must be an integer or number column"):
        load_codebook(wrong_column)
    twice = tmp_path / "b.yaml"
    twice.write_text(text.replace("summed: [votes_cast]", "summed: [votes_cast, eligible_voters]"), encoding="utf-8")
    with pytest.raises(ConfigError, match="eligible_voters listed more than once"):
        load_codebook(twice)
    constant_too = tmp_path / "c.yaml"
    constant_too.write_text(
        text.replace("kind: turnout\n", "kind: turnout\nconstants: {election_year: 2021}\n"), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="file_name gives election_year, which constants/election_year gives as well"):
        load_codebook(constant_too)


def test_local_lists_sharing_a_party_code_are_separate_parties(tmp_path):
    """Two local lists with one code in one municipality (kommunestyrevalg) are two parties, not a duplicate."""
    source = FIXTURES / "partifordeling_2_ko_2023.csv"

    def change(lines):
        header = lines[0]
        extra = set_field(set_field(lines[1], "Partikode", "LOK", header), "Partinavn", "Bygdelista", header)
        other = set_field(set_field(lines[1], "Partikode", "LOK", header), "Partinavn", "Byliste", header)
        return [
            *lines,
            set_field(extra, "Antall stemmer totalt", "10", header),
            set_field(other, "Antall stemmer totalt", "5", header),
        ]

    path = write_variant(tmp_path, source, source.name, change)
    before, after = ingest(source, 2).set_index("area_code"), ingest(path, 2).set_index("area_code")
    assert after.loc["3001", "votes_cast"] == before.loc["3001", "votes_cast"] + 15
    assert after.loc["3001", "eligible_voters"] == before.loc["3001", "eligible_voters"]
