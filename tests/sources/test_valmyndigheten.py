"""The Valmyndigheten preset (config/codebooks/se_valmyndigheten_valdistrikt.yaml) on workbooks in the real layout."""

import shutil

import openpyxl
import pandas as pd
import pytest
from shared import REPO, TESTS

from evaluation.errors import InputFileError
from evaluation.sources.codebook import apply_codebook, load_codebook
from evaluation.sources.file_sets import SourceFile
from evaluation.sources.readers import read_file
from evaluation.stages.ingest import ingest_turnout

PRESET = REPO / "config" / "codebooks" / "se_valmyndigheten_valdistrikt.yaml"
FIXTURES = TESTS / "fixtures" / "valmyndigheten"


def _harmonised(path):
    codebook = load_codebook(PRESET)
    raw, metadata = read_file(path, codebook.read)
    return apply_codebook(raw, metadata, codebook, path.name).data


def _by_hand(path, sheet):
    """Codes and counts read with openpyxl, independently of the preset."""
    rows = list(openpyxl.load_workbook(path, read_only=True)[sheet].iter_rows(values_only=True))
    table = pd.DataFrame(rows[1:], columns=rows[0])
    table["code"] = [f"{a:02d}{b:02d}{c:04d}" for a, b, c in zip(table.LÄNSKOD, table.KOMMUNKOD, table.VALDISTRIKTSKOD)]
    return table.set_index("code")


@pytest.mark.parametrize(("letter", "election_type"), [("R", "parliamentary"), ("K", "local")])
def test_preset_reads_the_2018_workbook_per_valdistrikt(letter, election_type):
    path = FIXTURES / f"2018_{letter}_per_valdistrikt.xlsx"
    data = _harmonised(path).set_index("area_code")
    expected = _by_hand(path, f"{letter} antal")
    assert list(data.index) == list(expected.index) == ["01800101", "01800102", "14800001", "14800000"]
    assert list(data["municipality_code"]) == ["0180", "0180", "1480", "1480"]
    assert set(data["election_type"]) == {election_type}
    assert set(data["election_year"]) == {2018}
    assert set(data["election_date"]) == {pd.Timestamp("2018-09-09")}
    physical = expected.index[expected.RÖSTBERÄTTIGADE > 0]
    assert data.loc[physical, "eligible_voters"].tolist() == expected.loc[physical, "RÖSTBERÄTTIGADE"].tolist()
    # turnout counts every ballot cast (blank and invalid included), as Valmyndigheten's VALDELTAGANDE does
    assert data.loc[physical, "turnout"].astype(float).round(4).tolist() == pytest.approx(
        (expected.loc[physical, "VALDELTAGANDE"] / 100).round(4).tolist(), abs=1e-4
    )
    ballots = expected[["OGEJ", "BLANK", "OG", "RÖSTER GILTIGA"]].sum(axis=1)
    assert data["votes_cast"].tolist() == ballots.tolist()


def test_same_day_elections_from_two_workbooks_are_two_elections():
    codebook = load_codebook(PRESET)
    files = [SourceFile(FIXTURES / f"2018_{letter}_per_valdistrikt.xlsx") for letter in ("R", "K")]
    data = ingest_turnout(files, codebook).data
    per_election = data.groupby(["election_type", "election_date"]).size()
    assert per_election.to_dict() == {
        ("local", pd.Timestamp("2018-09-09")): 4,
        ("parliamentary", pd.Timestamp("2018-09-09")): 4,
    }


def test_a_renamed_workbook_stops_naming_the_pattern(tmp_path):
    path = tmp_path / "riksdagsval_2018.xlsx"
    shutil.copy(FIXTURES / "2018_R_per_valdistrikt.xlsx", path)
    with pytest.raises(
        InputFileError, match=r"riksdagsval_2018.xlsx: the file name does not match .*file_name pattern"
    ):
        _harmonised(path)


def test_an_unknown_election_letter_in_the_name_stops(tmp_path):
    path = tmp_path / "2018_E_per_valdistrikt.xlsx"  # E: Europaparlamentsval, not an election of the calendar types
    book = openpyxl.load_workbook(FIXTURES / "2018_R_per_valdistrikt.xlsx")
    book["R antal"].title = "E antal"
    book.save(path)
    with pytest.raises(InputFileError, match=r"does not match the codebook's file_name pattern"):
        _harmonised(path)


def test_a_workbook_with_two_count_sheets_stops_naming_them(tmp_path):
    path = tmp_path / "2018_R_per_valdistrikt.xlsx"
    book = openpyxl.load_workbook(FIXTURES / "2018_R_per_valdistrikt.xlsx")
    book.copy_worksheet(book["R antal"]).title = "K antal"
    book.save(path)
    with pytest.raises(
        InputFileError, match=r"read.sheet pattern '\* antal' matches 2 sheets \(\['R antal', 'K antal'\]\)"
    ):
        _harmonised(path)


def test_a_workbook_without_the_count_sheet_stops(tmp_path):
    path = tmp_path / "2018_R_per_valdistrikt.xlsx"
    book = openpyxl.load_workbook(FIXTURES / "2018_R_per_valdistrikt.xlsx")
    del book["R antal"]
    book.save(path)
    with pytest.raises(InputFileError, match=r"matches 0 sheets .*the workbook has sheets \['R procent'\]"):
        _harmonised(path)


def test_a_workbook_without_röstande_names_the_column(tmp_path):
    path = tmp_path / "2018_R_per_valdistrikt.xlsx"
    book = openpyxl.load_workbook(FIXTURES / "2018_R_per_valdistrikt.xlsx")
    sheet = book["R antal"]
    column = [cell.value for cell in sheet[1]].index("RÖSTANDE") + 1
    sheet.cell(row=1, column=column).value = "RÖSTER"
    book.save(path)
    with pytest.raises(InputFileError, match=r"2018_R_per_valdistrikt.xlsx: column\(s\) 'RÖSTANDE' named in codebook"):
        _harmonised(path)


def test_a_district_with_an_unreadable_count_is_quarantined_with_row_and_column(tmp_path):
    path = tmp_path / "2018_R_per_valdistrikt.xlsx"
    book = openpyxl.load_workbook(FIXTURES / "2018_R_per_valdistrikt.xlsx")
    sheet = book["R antal"]
    column = [cell.value for cell in sheet[1]].index("RÖSTBERÄTTIGADE") + 1
    sheet.cell(row=3, column=column).value = "okänt"
    book.save(path)
    codebook = load_codebook(PRESET)
    raw, metadata = read_file(path, codebook.read)
    result = apply_codebook(raw, metadata, codebook, path.name)
    record = result.quarantine.iloc[0]
    assert (record["row_number"], record["column"], record["value"]) == (2, "RÖSTBERÄTTIGADE", "okänt")
    assert "expected a whole number" in record["reason"]
    assert "01800102" not in set(result.data["area_code"])


LONG_PRESET = REPO / "config" / "codebooks" / "se_valmyndigheten_roster_per_distrikt.yaml"
LONG = FIXTURES / "roster-per-distrikt-slutligt-antal-roster-inklusive-totalt-valdeltagande-riksdagsvalet-2022.xlsx"


def _long(path):
    codebook = load_codebook(LONG_PRESET)
    raw, metadata = read_file(path, codebook.read)
    return apply_codebook(raw, metadata, codebook, path.name).data.set_index("area_code")


def _long_by_hand(path):
    rows = list(openpyxl.load_workbook(path, read_only=True)["roster_RD"].iter_rows(values_only=True))
    table = pd.DataFrame(rows[1:], columns=[str(name).strip() for name in rows[0]])
    table["code"] = table["Valdistriktskod"].map(lambda code: f"{int(code):08d}")
    cast = table[table["Parti"].str.strip() == "Valdeltagande"].set_index("code")
    return cast["Röster"], table.groupby("code")["Röstberättigade"].first()


def test_long_preset_takes_the_ballots_cast_from_the_valdeltagande_row():
    data = _long(LONG)
    cast, eligible = _long_by_hand(LONG)
    assert list(data.index) == ["01800101", "01800102", "14800001", "14800000"]  # one row per district, file order
    assert list(data["municipality_code"]) == ["0180", "0180", "1480", "1480"]
    assert set(data["election_type"]) == {"parliamentary"}
    assert set(data["election_date"]) == {pd.Timestamp("2022-09-11")}
    assert data["votes_cast"].tolist() == cast.reindex(data.index).tolist()
    assert data["eligible_voters"].tolist() == eligible.reindex(data.index).tolist()  # taken once, not summed
    physical = data.index[data["eligible_voters"] > 0]
    expected = cast.reindex(physical) / eligible.reindex(physical)
    assert data.loc[physical, "turnout"].astype(float).tolist() == pytest.approx(expected.tolist())


def _edited_long(tmp_path, edit):
    path = tmp_path / LONG.name
    book = openpyxl.load_workbook(LONG)
    edit(book["roster_RD"])
    book.save(path)
    return path


def test_long_preset_reads_padded_header_names_and_number_codes(tmp_path):
    def edit(sheet):
        for cell in sheet[1]:
            cell.value = " " + cell.value
        column = [cell.value for cell in sheet[1]].index(" Valdistriktskod") + 1
        for row in range(2, sheet.max_row + 1):
            sheet.cell(row=row, column=column).value = int(sheet.cell(row=row, column=column).value)

    data = _long(_edited_long(tmp_path, edit))
    assert data[["votes_cast", "eligible_voters"]].equals(_long(LONG)[["votes_cast", "eligible_voters"]])


def test_a_district_without_its_valdeltagande_row_stops_naming_it(tmp_path):
    def edit(sheet):
        for row in range(sheet.max_row, 1, -1):
            if (
                sheet.cell(row=row, column=10).value == "Valdeltagande"
                and sheet.cell(row=row, column=6).value == "01800102"
            ):
                sheet.delete_rows(row)

    with pytest.raises(
        InputFileError, match=r"1 area\(s\) have no row 'Valdeltagande' .*votes_cast \(Röster\): area_code 01800102"
    ):
        _long(_edited_long(tmp_path, edit))


def test_a_district_whose_electorate_differs_between_rows_stops(tmp_path):
    def edit(sheet):
        sheet.cell(row=3, column=12).value = 1101

    with pytest.raises(
        InputFileError, match=r"column Röstberättigade \(eligible_voters\) must be the same on every party row"
    ):
        _long(_edited_long(tmp_path, edit))
