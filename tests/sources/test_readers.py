"""Readers: every format in, labels and user-missing codes kept, clear errors out."""

from __future__ import annotations

import pandas as pd
import pyreadstat
import pytest

from evaluation.errors import InputFileError
from evaluation.sources.readers import ReadOptions, file_format, read_file


@pytest.fixture
def labelled(tmp_path):
    frame = pd.DataFrame({"kjonn": [1.0, 2.0, 97.0], "tillit": [3.0, 98.0, 10.0]})
    path = tmp_path / "panel.sav"
    pyreadstat.write_sav(
        frame,
        str(path),
        column_labels={"kjonn": "Kjønn", "tillit": "Tillit"},
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
        pd.DataFrame([["note", ""], ["code", "value"], ["0301", "5"]]).to_excel(
            writer, sheet_name="data", index=False, header=False
        )
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


def test_zsav_and_por(tmp_path):
    frame = pd.DataFrame({"kjonn": [1.0, 2.0, 97.0]})
    zsav = tmp_path / "panel.zsav"
    pyreadstat.write_sav(
        frame, str(zsav), compress=True, missing_ranges={"kjonn": [97]}, variable_value_labels={"kjonn": {2: "Kvinne"}}
    )
    data, meta = read_file(zsav)
    assert data["kjonn"].tolist() == [1.0, 2.0, 97.0] and meta.missing_values["kjonn"] == [97.0]
    assert meta.value_labels["kjonn"][2] == "Kvinne"
    por = tmp_path / "panel.por"
    pyreadstat.write_por(frame, str(por))
    data, _ = read_file(por)
    assert data["KJONN"].tolist() == [1.0, 2.0, 97.0]  # portable files upper-case names


def test_stata_extended_missing_values_become_missing_with_tag(tmp_path):
    frame = pd.DataFrame({"tillit": pd.Series([3.0, "a", "b", 7.0], dtype=object)})
    path = tmp_path / "survey.dta"
    pyreadstat.write_dta(
        frame,
        str(path),
        missing_user_values={"tillit": ["a", "b"]},
        variable_value_labels={"tillit": {3: "tre", "a": "vet ikke"}},
    )
    data, meta = read_file(path)
    assert data["tillit"].isna().tolist() == [False, True, True, False]
    assert meta.missing_tags["tillit"].to_dict() == {1: ".a", 2: ".b"}
    assert meta.value_labels["tillit"][".a"] == "vet ikke"


HAVEN_SAS = "/usr/lib/R/site-library/haven/examples/iris.sas7bdat"


@pytest.mark.skipif(
    not __import__("os").path.exists(HAVEN_SAS), reason="no .sas7bdat on this machine (pyreadstat cannot write one)"
)
def test_sas7bdat_from_haven_examples():
    data, _ = read_file(HAVEN_SAS)
    assert len(data) == 150 and "Species" in data.columns


def test_broken_sas7bdat_names_file(tmp_path):
    path = tmp_path / "register.sas7bdat"
    path.write_bytes(b"not a sas file" * 10)
    with pytest.raises(InputFileError, match="register.sas7bdat: cannot be read as sas"):
        read_file(path)


def test_excel_missing_sheet_and_wrong_separator_are_clear(tmp_path):
    path = tmp_path / "book.xlsx"
    pd.DataFrame({"a": [1]}).to_excel(path, sheet_name="data", index=False)
    with pytest.raises(InputFileError, match=r"book.xlsx: sheet 'valg' not found; the workbook has sheets \['data'\]"):
        read_file(path, ReadOptions(sheet="valg"))
    csv = tmp_path / "valg.csv"
    csv.write_text("Kommunenummer;Antall\n0301;5\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="valg.csv: read.sep is ',' .* separated by ';'"):
        read_file(csv, ReadOptions(sep=","))


@pytest.mark.parametrize("suffix", [".sav", ".csv", ".parquet"])
def test_chunks_keep_file_row_positions(tmp_path, suffix):
    from evaluation.sources.readers import available_columns, iter_chunks

    frame = pd.DataFrame({"a": [float(i) for i in range(7)], "b": ["x"] * 7})
    path = tmp_path / f"f{suffix}"
    {
        ".sav": lambda: pyreadstat.write_sav(frame, str(path)),
        ".csv": lambda: frame.to_csv(path, index=False),
        ".parquet": lambda: frame.to_parquet(path),
    }[suffix]()
    assert available_columns(path) == ["a", "b"]
    chunks = list(iter_chunks(path, columns=["a"], chunksize=3))
    assert [list(c.index) for c, _ in chunks] == [[0, 1, 2], [3, 4, 5], [6]]
    assert all(list(c.columns) == ["a"] for c, _ in chunks)


def test_utf16_with_bom_is_read(tmp_path):
    # Excel's "Unicode text" export: UTF-16 with a byte-order mark, tab separated
    path = tmp_path / "eksport.txt"
    path.write_bytes("krets\tnavn\n0301001\tSkøyen\n".encode("utf-16"))
    data, _ = read_file(path)
    assert data.to_dict("list") == {"krets": ["0301001"], "navn": ["Skøyen"]}


def test_cp1252_without_ambiguous_bytes_is_read_when_undeclared(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(("navn;n\n" + "Oslo;1\n" * 200_000 + "Tromsø;2\n").encode("cp1252"))  # ø after the first MiB
    data, _ = read_file(path, ReadOptions(sep=";"))
    assert data["navn"].iloc[-1] == "Tromsø"


def test_duplicated_names_in_a_parquet_file(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "a.parquet"
    pq.write_table(pa.table([[1], [2]], names=["x", "x"]), path)
    with pytest.raises(InputFileError) as error:
        read_file(path)
    assert str(error.value) == (
        f"{path}: column name 'x' appears twice in the header (columns 1 and 2); every column needs its own name"
    )
