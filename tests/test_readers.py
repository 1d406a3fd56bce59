"""Readers: every format in, labels and user-missing codes kept, clear errors out."""

from __future__ import annotations

import pandas as pd
import pyreadstat
import pytest

from evaluation.errors import InputFileError
from evaluation.readers import ReadOptions, file_format, read_file


@pytest.fixture
def labelled(tmp_path):
    frame = pd.DataFrame({"kjonn": [1.0, 2.0, 97.0], "tillit": [3.0, 98.0, 10.0]})
    path = tmp_path / "panel.sav"
    pyreadstat.write_sav(
        frame, str(path), column_labels={"kjonn": "Kjønn", "tillit": "Tillit"},
        variable_value_labels={"kjonn": {1: "Mann", 2: "Kvinne", 97: "Vet ikke"}},
        missing_ranges={"kjonn": [97], "tillit": [97, 98]},
    )
    return frame, path


def test_spss_keeps_labels_and_user_missing_codes(labelled):
    _, path = labelled
    data, meta = read_file(path)
    assert data["kjonn"].tolist() == [1.0, 2.0, 97.0]  # user-missing code kept for its reason
    assert meta.column_labels["kjonn"] == "Kjønn"
    assert meta.value_labels["kjonn"][2] == "Kvinne"
    assert sorted(meta.missing_values["tillit"]) == [97, 98]


@pytest.mark.parametrize("writer, suffix", [(pyreadstat.write_dta, ".dta"), (pyreadstat.write_xport, ".xpt")])
def test_stata_and_sas_transport_files(tmp_path, writer, suffix):
    frame = pd.DataFrame({"x": [1.0, 2.0], "y": [0.5, 1.5]})
    path = tmp_path / f"file{suffix}"
    writer(frame, str(path))
    data, _ = read_file(path)
    assert data["x"].tolist() == [1.0, 2.0]


def test_csv_latin1_semicolon_decimal_comma_kept_as_text(tmp_path):
    path = tmp_path / "valg.csv"
    path.write_bytes("Kommunenummer;Kommunenavn;Oppmøteprosent\n0301;Bærum;63,4\n".encode("cp1252"))
    data, _ = read_file(path, ReadOptions(sep=";"))
    assert data.loc[0, "Kommunenummer"] == "0301"  # leading zero kept
    assert data.loc[0, "Kommunenavn"] == "Bærum"  # cp1252 detected
    assert data.loc[0, "Oppmøteprosent"] == "63,4"


def test_csv_with_bom_and_sniffed_separator(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes("\ufeffa\tb\n1\t2\n".encode("utf-8"))
    data, _ = read_file(path)
    assert list(data.columns) == ["a", "b"]


def test_excel_sheet_and_header_row(tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"ignore": ["title"]}).to_excel(writer, sheet_name="other", index=False)
        pd.DataFrame([["note", ""], ["code", "value"], ["0301", "5"]]).to_excel(writer, sheet_name="data", index=False, header=False)
    data, _ = read_file(path, ReadOptions(sheet="data", header_row=1))
    assert data.to_dict("records") == [{"code": "0301", "value": "5"}]


def test_parquet(tmp_path):
    path = tmp_path / "t.parquet"
    pd.DataFrame({"a": [1, 2]}).to_parquet(path)
    assert read_file(path)[0]["a"].tolist() == [1, 2]


def test_errors_name_the_file(tmp_path):
    empty = tmp_path / "empty.sav"
    empty.write_bytes(b"")
    with pytest.raises(InputFileError, match="empty.sav: file is empty"):
        read_file(empty)
    truncated = tmp_path / "broken.sav"
    truncated.write_bytes(b"$FL2@(#) IBM SPSS")
    with pytest.raises(InputFileError, match="broken.sav: cannot be read as spss"):
        read_file(truncated)
    with pytest.raises(InputFileError, match="missing.csv: file not found"):
        read_file(tmp_path / "missing.csv")
    with pytest.raises(InputFileError, match="unsupported file extension '.doc'"):
        file_format(tmp_path / "x.doc")
