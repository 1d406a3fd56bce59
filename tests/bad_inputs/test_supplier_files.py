"""Files as suppliers send them: dates, headers, numbers, encodings and codebooks that must not fool ingest.

Each case writes a real file (and its codebook) in ``tmp_path`` and reads it the way
the ingest stage does: ``read_file`` with the codebook's read options, then
``apply_codebook``. It asserts either the exact values or the exact error, which
names the file and the column, row or key.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from evaluation.errors import ConfigError, InputFileError
from evaluation.sources.codebook import Harmonised, apply_codebook, load_codebook
from evaluation.sources.readers import read_file

CANONICAL = ["voted_local", "trust_local_politicians", "gender", "education", "age_group"]


def write_codebook(folder: Path, columns: dict[str, Any], kind: str = "areas", **extra: Any) -> Path:
    """A codebook of ``kind`` with ``columns`` (and top-level keys such as ``read``) in ``folder``."""
    path = folder / f"{kind}.codebook.yaml"
    document = {"source": "supplier", "kind": kind, "columns": columns, **extra}
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def write_csv(folder: Path, name: str, lines: list[str], encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def ingest_file(path: Path, codebook: Path) -> Harmonised:
    """Read ``path`` through ``codebook`` as the ingest stage does; check rows read = kept + quarantined."""
    book = load_codebook(codebook, CANONICAL)
    raw, metadata = read_file(path, book.read)
    result = apply_codebook(raw, metadata, book, path.name)
    assert len(raw) == len(result.data) + len(result.quarantine)
    return result


AREA = {"area_code": {"variable": "krets", "type": "text", "required": True}}


def pilot_start(spec: dict[str, Any]) -> dict[str, Any]:
    return {**AREA, "pilot_start": {"variable": "oppstart", "type": "date", **spec}}


# Item 1: dates are declared, never guessed.


def test_norwegian_day_first_dates_by_default(tmp_path):
    lines = ["krets;oppstart", "0301001;01.08.2019", "0301002;13.01.2020", "0301003;"]
    data = write_csv(tmp_path, "omrader.csv", lines)
    result = ingest_file(data, write_codebook(tmp_path, pilot_start({}), read={"sep": ";"}))
    assert result.data["pilot_start"].tolist()[:2] == [pd.Timestamp("2019-08-01"), pd.Timestamp("2020-01-13")]
    assert pd.isna(result.data["pilot_start"].iloc[2])  # empty: missing, not quarantined
    assert result.quarantine.empty


def test_iso_dates_without_a_declared_format_stop_the_run(tmp_path):
    data = write_csv(tmp_path, "omrader.csv", ["krets;oppstart", "0301001;2019-08-01", "0301002;2020-01-13"])
    with pytest.raises(InputFileError) as error:
        ingest_file(data, write_codebook(tmp_path, pilot_start({}), read={"sep": ";"}))
    assert str(error.value) == (
        "omrader.csv: column oppstart (pilot_start): none of its 2 values is a date written '%d.%m.%Y' "
        "(row 1: '2019-08-01'); declare the column's format in the codebook"
    )


def test_a_value_that_does_not_fit_the_format_is_quarantined_with_its_reason(tmp_path):
    # 08/01/2019 could be either day or month first: it does not fit %d.%m.%Y and is never resolved
    data = write_csv(
        tmp_path, "omrader.csv", ["krets;oppstart", "0301001;01.08.2019", "0301002;08/01/2019", "0301003;31.02.2019"]
    )
    result = ingest_file(data, write_codebook(tmp_path, pilot_start({}), read={"sep": ";"}))
    assert result.data["pilot_start"].tolist() == [pd.Timestamp("2019-08-01")]
    assert result.quarantine[["row_number", "column", "value", "reason"]].to_dict("records") == [
        {
            "row_number": 2,
            "column": "oppstart",
            "value": "08/01/2019",
            "reason": "unreadable value for pilot_start: expected a date written '%d.%m.%Y'",
        },
        {
            "row_number": 3,
            "column": "oppstart",
            "value": "31.02.2019",
            "reason": "unreadable value for pilot_start: expected a date written '%d.%m.%Y'",
        },
    ]


def test_two_digit_years_need_a_pivot_year(tmp_path):
    with pytest.raises(ConfigError) as error:
        load_codebook(write_codebook(tmp_path, pilot_start({"format": "%d.%m.%y"})))
    assert str(error.value).startswith(
        f"{tmp_path / 'areas.codebook.yaml'}: columns/pilot_start: format '%d.%m.%y' "
        "has a two-digit year (%y); set pivot_year"
    )
    data = write_csv(tmp_path, "omrader.csv", ["krets;oppstart", "0301001;01.08.19", "0301002;01.08.45"])
    codebook = write_codebook(tmp_path, pilot_start({"format": "%d.%m.%y", "pivot_year": 2030}), read={"sep": ";"})
    result = ingest_file(data, codebook)
    assert result.data["pilot_start"].tolist() == [pd.Timestamp("2019-08-01"), pd.Timestamp("1945-08-01")]


def test_excel_serials_and_unix_seconds_only_when_declared(tmp_path):
    data = write_csv(tmp_path, "omrader.csv", ["krets;oppstart", "0301001;43678", "0301002;43678.75"])
    serial = ingest_file(data, write_codebook(tmp_path, pilot_start({"format": "excel_serial"}), read={"sep": ";"}))
    assert serial.data["pilot_start"].tolist() == [pd.Timestamp("2019-08-01")] * 2
    with pytest.raises(InputFileError, match=r"^omrader.csv: column oppstart \(pilot_start\): none of its 2 values"):
        ingest_file(data, write_codebook(tmp_path, pilot_start({}), read={"sep": ";"}))
    epoch = write_csv(tmp_path, "epoch.csv", ["krets;oppstart", "0301001;1564617600"])
    unix = ingest_file(epoch, write_codebook(tmp_path, pilot_start({"format": "unix_seconds"}), read={"sep": ";"}))
    assert unix.data["pilot_start"].tolist() == [pd.Timestamp("2019-08-01")]


def test_unix_seconds_are_dated_in_the_local_time_zone(tmp_path):
    """23:30 UTC on 31 July 2019 is 01:30 on 1 August in Oslo: the Norwegian date, not the UTC one."""
    epoch = write_csv(tmp_path, "epoch.csv", ["krets;oppstart", "0301001;1564615800", "0301002;1577836799"])
    local = ingest_file(epoch, write_codebook(tmp_path, pilot_start({"format": "unix_seconds"}), read={"sep": ";"}))
    assert local.data["pilot_start"].tolist() == [pd.Timestamp("2019-08-01"), pd.Timestamp("2020-01-01")]
    utc = pilot_start({"format": "unix_seconds", "timezone": "UTC"})
    assert ingest_file(epoch, write_codebook(tmp_path, utc, read={"sep": ";"})).data["pilot_start"].tolist() == [
        pd.Timestamp("2019-07-31"),
        pd.Timestamp("2019-12-31"),
    ]
    with pytest.raises(ConfigError, match=r"columns/pilot_start: timezone 'Oslo' is not an IANA time zone"):
        ingest_file(epoch, write_codebook(tmp_path, pilot_start({"format": "unix_seconds", "timezone": "Oslo"})))


def test_zoned_timestamps_in_a_parquet_file_are_dated_in_the_local_time_zone(tmp_path):
    stamps = pd.to_datetime(["2019-07-31 23:30", "2019-08-01 12:00"]).tz_localize("UTC")
    path = tmp_path / "omrader.parquet"
    pd.DataFrame({"krets": ["0301001", "0301002"], "oppstart": stamps}).to_parquet(path)
    result = ingest_file(path, write_codebook(tmp_path, pilot_start({})))
    assert result.data["pilot_start"].tolist() == [pd.Timestamp("2019-08-01")] * 2


def test_missing_codes_and_masking_symbols_in_a_date_column_are_missing_with_their_reason(tmp_path):
    lines = ["krets;oppstart", "0301001;01.08.2019", "0301002;99.99.9999", "0301003;..", "0301004;31.02.2019"]
    data = write_csv(tmp_path, "omrader.csv", lines)
    spec = pilot_start({"missing_codes": {"99.99.9999": "not_started"}})
    result = ingest_file(data, write_codebook(tmp_path, spec, read={"sep": ";"}))
    assert result.data["pilot_start"].tolist()[:1] == [pd.Timestamp("2019-08-01")]
    assert result.data["pilot_start"].iloc[1:].isna().all()
    assert result.nonresponse.to_dict("records") == [
        {"row": 1, "variable": "pilot_start", "reason": "not_started"},
        {"row": 2, "variable": "pilot_start", "reason": "suppressed_not_available"},
    ]
    assert result.quarantine[["row_number", "value"]].to_dict("records") == [{"row_number": 4, "value": "31.02.2019"}]
    required = {
        **AREA,
        "pilot_start": {"variable": "oppstart", "type": "date", "required": True, **spec["pilot_start"]},
    }
    strict = ingest_file(data, write_codebook(tmp_path, required, read={"sep": ";"}))
    assert strict.quarantine["reason"].tolist()[:2] == [
        "required value for pilot_start is missing: not_started",
        "required value for pilot_start is missing: suppressed_not_available",
    ]


def test_a_date_outside_the_plausible_window_stops_the_run(tmp_path):
    data = write_csv(tmp_path, "omrader.csv", ["krets;oppstart", "0301001;01.08.2019", "0301002;01.08.1019"])
    with pytest.raises(InputFileError) as error:
        ingest_file(data, write_codebook(tmp_path, pilot_start({}), read={"sep": ";"}))
    assert str(error.value).startswith(
        f"omrader.csv: column oppstart (pilot_start): 1 date(s) outside the plausible window 1900-01-01 to "
        f"{dt.date.today().year + 1}-"
    )
    assert "(row 2: '01.08.1019')" in str(error.value)
    window = pilot_start({"earliest": "2015-01-01", "latest": "2018-12-31"})
    with pytest.raises(InputFileError, match=r"window 2015-01-01 to 2018-12-31 \(row 1: '01.08.2019'"):
        ingest_file(data, write_codebook(tmp_path, window, read={"sep": ";"}))


def test_typed_dates_of_stata_and_parquet_files_are_read_as_they_are(tmp_path):
    import pyreadstat

    codebook = write_codebook(tmp_path, pilot_start({}))  # the text default %d.%m.%Y does not apply to typed dates
    stata = tmp_path / "omrader.dta"
    pyreadstat.write_dta(
        pd.DataFrame({"krets": ["1", "2"], "oppstart": [dt.date(2019, 8, 1), dt.date(2020, 1, 13)]}), str(stata)
    )
    assert ingest_file(stata, codebook).data["pilot_start"].tolist() == [
        pd.Timestamp("2019-08-01"),
        pd.Timestamp("2020-01-13"),
    ]
    parquet = tmp_path / "omrader.parquet"
    late_evening = pd.to_datetime(["2019-08-01 23:30"]).tz_localize("Europe/Oslo")  # 21:30 UTC: still 1 August
    pd.DataFrame({"krets": ["1"], "oppstart": late_evening}).to_parquet(parquet)
    assert ingest_file(parquet, codebook).data["pilot_start"].tolist() == [pd.Timestamp("2019-08-01")]


# Item 3: headers.


def test_duplicated_csv_header_names_both_positions(tmp_path):
    # pandas would read the second one as "stemmer.1" and the codebook would bind the first silently
    data = write_csv(tmp_path, "valg.csv", ["krets;stemmer;berettigede;stemmer", "0301001;410;600;395"])
    with pytest.raises(InputFileError) as error:
        ingest_file(data, write_codebook(tmp_path, AREA, read={"sep": ";"}))
    assert str(error.value) == (
        f"{data}: column name 'stemmer' appears twice in the header (columns 2 and 4); every column needs its own name"
    )


def test_duplicated_excel_header(tmp_path):
    path = tmp_path / "omrader.xlsx"
    pd.DataFrame([["0301001", "Sentrum", "Sentrum vest"]], columns=["krets", "navn", "navn "]).rename(
        columns={"navn ": "navn"}
    ).to_excel(path, index=False)
    with pytest.raises(InputFileError) as error:
        read_file(path)
    assert str(error.value) == (
        f"{path}, sheet 0: column name 'navn' appears twice in the header (columns 2 and 3); "
        "every column needs its own name"
    )


def test_header_names_equal_but_for_case_stop_ingest(tmp_path):
    data = write_csv(tmp_path, "omrader.csv", ["Krets;navn;KRETS", "0301001;Sentrum;0301999"])
    with pytest.raises(InputFileError) as error:
        ingest_file(data, write_codebook(tmp_path, AREA, read={"sep": ";"}))
    assert str(error.value) == (
        f"omrader.csv: column 'krets' named in codebook {tmp_path / 'areas.codebook.yaml'} (columns/area_code) matches "
        "'Krets' (column 1) and 'KRETS' (column 3) when case is ignored; rename one of them"
    )


# Item 5: numbers as statistics offices write them.

TURNOUT = {
    "area_code": {"variable": "krets", "type": "text", "required": True},
    "eligible_voters": {"variable": "berettigede", "type": "integer", "required": True},
    "votes_cast": {"variable": "stemmer", "type": "integer"},
}


def test_thousands_separators_of_statistics_offices(tmp_path):
    lines = ["krets;berettigede;stemmer", "1;1\u00a0234;1 000", "2;12\u202f345;9.876", "3;1.234.567;0"]
    data = write_csv(tmp_path, "valg.csv", lines)
    result = ingest_file(data, write_codebook(tmp_path, TURNOUT, kind="turnout", read={"sep": ";", "decimal": ","}))
    assert result.data["eligible_voters"].tolist() == [1234, 12345, 1234567]
    assert result.data["votes_cast"].tolist() == [1000, 9876, 0]


def test_badly_grouped_number_and_non_integer_are_quarantined_not_rounded(tmp_path):
    data = write_csv(tmp_path, "valg.csv", ["krets;berettigede;stemmer", "1;1.5;10", "2;600;410,5", "3;600;410"])
    result = ingest_file(data, write_codebook(tmp_path, TURNOUT, kind="turnout", read={"sep": ";", "decimal": ","}))
    assert result.data["votes_cast"].tolist() == [410]
    expected = (
        "expected a whole number (decimal mark ',', thousands separator space, no-break space, "
        "narrow no-break space, '.')"
    )
    assert result.quarantine[["row_number", "column", "value", "reason"]].to_dict("records") == [
        {
            "row_number": 1,
            "column": "berettigede",
            "value": "1.5",
            "reason": f"missing or unreadable required value for eligible_voters (integer): {expected}",
        },
        {
            "row_number": 2,
            "column": "stemmer",
            "value": "410,5",
            "reason": f"unreadable value for votes_cast: {expected}",
        },
    ]


def test_masking_symbols_are_suppressed_values_with_their_reason(tmp_path):
    data = write_csv(tmp_path, "valg.csv", ["krets;berettigede;stemmer", "1;..;10", "2;600;:", "3;700;x", "4;800;-"])
    result = ingest_file(data, write_codebook(tmp_path, TURNOUT, kind="turnout", read={"sep": ";", "decimal": ","}))
    assert result.quarantine[["row_number", "reason"]].to_dict("records") == [
        {"row_number": 1, "reason": "required value for eligible_voters is missing: suppressed_not_available"},
    ]
    assert result.data["votes_cast"].isna().all()  # suppressed, with the reason kept, not unreadable
    assert result.nonresponse.to_dict("records") == [
        {"row": 0, "variable": "eligible_voters", "reason": "suppressed_not_available"},
        {"row": 1, "variable": "votes_cast", "reason": "suppressed_confidential"},
        {"row": 2, "variable": "votes_cast", "reason": "suppressed_confidential"},
        {"row": 3, "variable": "votes_cast", "reason": "suppressed_nil"},
    ]


# Item 6: encoding over the whole file.


def long_latin1_file(tmp_path: Path) -> Path:
    """A latin-1 CSV whose only non-ASCII byte comes after the first MiB."""
    lines = ["krets;navn"] + [f"{k:07d};Sentrum" for k in range(140_000)] + ["0301999;Bærum"]
    path = write_csv(tmp_path, "omrader.csv", lines, encoding="latin-1")
    assert path.stat().st_size > 1 << 20
    return path


def test_latin1_byte_after_the_first_mib_is_read_right(tmp_path):
    path = long_latin1_file(tmp_path)
    codebook = write_codebook(tmp_path, {**AREA, "area_name": {"variable": "navn", "type": "text"}}, read={"sep": ";"})
    result = ingest_file(path, codebook)
    assert result.data["area_name"].iloc[-1] == "Bærum"


def test_declared_encoding_that_fails_names_line_and_byte(tmp_path):
    path = long_latin1_file(tmp_path)
    codebook = write_codebook(tmp_path, AREA, read={"sep": ";", "encoding": "utf-8"})
    with pytest.raises(InputFileError) as error:
        ingest_file(path, codebook)
    offset = 11 + 140_000 * 16 + len("0301999;B")
    assert str(error.value) == (
        f"{path}: does not decode as the declared read.encoding 'utf-8': line 140002, "
        f"byte offset {offset} (0-based), byte 0xe6 (invalid continuation byte)"
    )


def test_dos_nordic_bytes_are_not_guessed(tmp_path):
    # cp865 writes ø as 0x9b, which cp1252 would read as '›' without a word
    lines = ["krets;navn", "0301001;Sentrum", "0301002;Sk\u00f8yen"]
    path = write_csv(tmp_path, "omrader.csv", lines, encoding="cp865")
    with pytest.raises(InputFileError, match=r"is not utf-8: line 3, byte offset 37 \(0-based\), byte 0x9b"):
        read_file(path)
    codebook = write_codebook(
        tmp_path, {**AREA, "area_name": {"variable": "navn", "type": "text"}}, read={"sep": ";", "encoding": "cp865"}
    )
    assert ingest_file(path, codebook).data["area_name"].tolist() == ["Sentrum", "Skøyen"]


# Item 10: codebook checks at load time.

SURVEY = {"respondent_id": {"variable": "id", "type": "text", "required": True}}


def test_overlapping_recode_ranges_stop_at_load(tmp_path):
    columns = {
        **SURVEY,
        "education": {
            "variable": "utd",
            "type": "category",
            "recode": {"1-3": "compulsory", "3-5": "upper_secondary", 6: "higher"},
        },
    }
    path = write_codebook(tmp_path, columns, kind="survey")
    with pytest.raises(ConfigError) as error:
        load_codebook(path)
    assert str(error.value) == (f"{path}: columns/education/recode: recode keys '1-3' and '3-5' overlap (3 is in both)")


def test_per_wave_variable_maps_with_gaps_or_overlaps(tmp_path):
    gap = {**SURVEY, "trust_local_politicians": {"variable": {"1-5": "q12", "7-10": "k12a"}, "type": "outcome"}}
    path = write_codebook(tmp_path, gap, kind="survey")
    with pytest.raises(ConfigError) as error:
        load_codebook(path)
    assert str(error.value) == (
        f"{path}: columns/trust_local_politicians/variable: no variable name for wave(s) 6 "
        "(between keys '1-5' and '7-10')"
    )
    overlap = {**SURVEY, "trust_local_politicians": {"variable": {"1-5": "q12", "5-10": "k12a"}, "type": "outcome"}}
    with pytest.raises(ConfigError, match=r"variable: wave keys '1-5' and '5-10' overlap \(wave 5 is in both\)"):
        load_codebook(write_codebook(tmp_path, overlap, kind="survey"))


def test_unknown_canonical_name_lists_the_known_and_suggests_the_closest(tmp_path):
    columns = {**SURVEY, "trust_local_politician": {"variable": "q12", "type": "outcome"}}
    path = write_codebook(tmp_path, columns, kind="survey")
    with pytest.raises(ConfigError) as error:
        load_codebook(path, CANONICAL)
    assert str(error.value).startswith(
        f"{path}: columns/trust_local_politician: 'trust_local_politician' is not a canonical variable; "
        "did you mean 'trust_local_politicians'? known for kind survey: age, age_group, area_code, design_weight"
    )


def test_ingest_stage_checks_the_codebook_names_at_load(small_demo, ingest_settings, tmp_path):
    from evaluation.stages.ingest import ingest

    document = yaml.safe_load(Path(ingest_settings["sources"]["survey"]["codebook"]).read_text(encoding="utf-8"))
    document["columns"]["trust_councl"] = document["columns"].pop("trust_council")  # a typo in a renamed item
    path = tmp_path / "panel.codebook.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    ingest_settings["sources"]["survey"]["codebook"] = str(path)
    expected = (
        rf"^{path}: columns/trust_councl: 'trust_councl' is not a canonical variable; "
        r"did you mean 'trust_council'\? known for kind survey: "
    )
    with pytest.raises(ConfigError, match=expected):
        ingest(small_demo, tmp_path / "ingested", ingest_settings)
    assert not (tmp_path / "ingested" / "survey.parquet").exists()


def test_excel_cells_keep_their_type(tmp_path):
    # a date cell is a date and a number cell a number, whatever the text format of the codebook says
    path = tmp_path / "omrader.xlsx"
    frame = pd.DataFrame(
        {"krets": ["0301001", "0301002"], "oppstart": [dt.datetime(2019, 8, 1), "01.09.2020"], "andel": [0.5, "0,25"]}
    )
    frame.to_excel(path, index=False)
    columns = {**pilot_start({}), "share_immigrant": {"variable": "andel", "type": "number"}}
    result = ingest_file(path, write_codebook(tmp_path, columns, read={"decimal": ","}))
    assert result.data["pilot_start"].tolist() == [pd.Timestamp("2019-08-01"), pd.Timestamp("2020-09-01")]
    assert result.data["share_immigrant"].tolist() == [0.5, 0.25]
    assert result.data["area_code"].tolist() == ["0301001", "0301002"]
