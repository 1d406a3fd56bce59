"""Many turnout files per source (sources.turnout.files): names, glob patterns, per-file election constants."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from shared import REPO, TESTS

from evaluation.errors import ConfigError, InputFileError
from evaluation.sources.codebook import load_codebook
from evaluation.sources.file_sets import SourceFile, source_files
from evaluation.stages.ingest import ingest_turnout

FIXTURES = TESTS / "fixtures" / "valgresultat"
DISTRICTS = FIXTURES / "partifordeling_4_st_2021.csv"
PRESET = REPO / "config" / "codebooks" / "no_valgresultat_partifordeling_stemmekrets.yaml"


@pytest.fixture
def raw(tmp_path) -> Path:
    """One district export per election, as valgresultat.no names them (the same districts in each)."""
    folder = tmp_path / "raw"
    (folder / "valg").mkdir(parents=True)
    for name in ("partifordeling_4_st_2021.csv", "partifordeling_4_ko_2019.csv", "partifordeling_4_fy_2019.csv"):
        shutil.copy(DISTRICTS, folder / "valg" / name)
    return folder


def test_one_file_or_a_list_of_names_and_patterns(raw):
    assert source_files(raw, {"file": "x.csv"}) == [SourceFile(raw / "x.csv")]
    files = source_files(raw, {"files": ["valg/partifordeling_4_st_2021.csv", "valg/partifordeling_4_*_2019.csv"]})
    assert [f.path.name for f in files] == [
        "partifordeling_4_st_2021.csv",
        "partifordeling_4_fy_2019.csv",
        "partifordeling_4_ko_2019.csv",
    ]
    given = source_files(raw, {"files": [{"file": "valg/*st_2021.csv", "constants": {"election_year": 2021}}]})
    assert given == [SourceFile(raw / "valg" / "partifordeling_4_st_2021.csv", {"election_year": 2021})]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (["valg/*_2017.csv"], r"sources.turnout.files\[1\] \('valg/\*_2017.csv'\): the pattern matches no file in "),
        (
            ["valg/*st_2021.csv", "valg/partifordeling_4_*.csv"],
            r"files\[2\] .* is also given by sources.turnout.files\[1\]",
        ),
    ],
)
def test_patterns_that_match_nothing_or_twice_stop(raw, files, message):
    with pytest.raises(ConfigError, match=message):
        source_files(raw, {"files": files})


def test_files_with_the_same_name_in_two_folders_stop(raw):
    (raw / "other").mkdir()
    shutil.copy(DISTRICTS, raw / "other" / DISTRICTS.name)
    with pytest.raises(ConfigError, match="have the same name; rows record their file by name"):
        source_files(raw, {"files": ["*/partifordeling_4_st_2021.csv"]})


def test_every_file_gives_its_own_election(raw):
    turnout = ingest_turnout(source_files(raw, {"files": ["valg/partifordeling_4_*.csv"]}), load_codebook(PRESET))
    data = turnout.data
    assert sorted(set(zip(data["election_type"], data["election_year"]))) == [
        ("county", 2019),
        ("local", 2019),
        ("parliamentary", 2021),
    ]
    assert len(data) == 3 * 5 and data.groupby(["election_type", "election_year"]).size().eq(5).all()
    one = ingest_turnout([SourceFile(DISTRICTS)], load_codebook(PRESET)).data
    for _, election in data.groupby(["election_type", "election_year"]):
        assert election["eligible_voters"].tolist() == one["eligible_voters"].tolist()  # taken once in every file
    assert turnout.accounting["source_file"].tolist() == [
        "partifordeling_4_fy_2019.csv",
        "partifordeling_4_ko_2019.csv",
        "partifordeling_4_st_2021.csv",
    ]
    assert turnout.accounting["rows_read"].tolist() == [5, 5, 5]  # areas of each file


def test_constants_per_file_when_neither_columns_nor_name_carry_them(raw, tmp_path):
    preset = yaml.safe_load(PRESET.read_text(encoding="utf-8"))
    del preset["file_name"]
    codebook = tmp_path / "no_name.yaml"
    codebook.write_text(yaml.safe_dump(preset, allow_unicode=True, sort_keys=False), encoding="utf-8")
    shutil.copy(DISTRICTS, raw / "valg2019.csv")
    shutil.copy(DISTRICTS, raw / "valg2023.csv")
    entries = [
        {"file": "valg2019.csv", "constants": {"election_type": "local", "election_year": 2019}},
        {"file": "valg2023.csv", "constants": {"election_type": "local", "election_year": 2023}},
    ]
    data = ingest_turnout(source_files(raw, {"files": entries}), load_codebook(codebook)).data
    assert sorted(set(data["election_date"].astype(str))) == ["2019-09-09", "2023-09-11"]
    with pytest.raises(ConfigError, match="constants election_year also come from codebook .* give each once"):
        ingest_turnout([SourceFile(DISTRICTS, {"election_year": 2021})], load_codebook(PRESET))


def test_one_area_and_election_in_two_files_stops(raw):
    shutil.copy(DISTRICTS, raw / "2021-09-17_partifordeling_4_st_2021.csv")
    files = source_files(
        raw, {"files": ["valg/partifordeling_4_st_2021.csv", "2021-09-17_partifordeling_4_st_2021.csv"]}
    )
    with pytest.raises(
        InputFileError,
        match=r"5 area\(s\) and election\(s\) are in more than one turnout file, e\.g\. area_code 03010101, election_type parliamentary, election_year 2021 \(partifordeling_4_st_2021.csv, row 1; 2021-09-17_partifordeling_4_st_2021.csv, row 1\)",
    ):
        ingest_turnout(files, load_codebook(PRESET))


def test_ingest_stage_reads_a_files_list_as_it_reads_one_file(small_demo, ingest_settings, tmp_path):
    from evaluation.stages.ingest import ingest

    one = ingest(small_demo, tmp_path / "one", ingest_settings)
    name = ingest_settings["sources"]["turnout"].pop("file")
    ingest_settings["sources"]["turnout"]["files"] = [name.replace(".csv", "*.csv")]
    listed = ingest(small_demo, tmp_path / "listed", ingest_settings)
    for table in ("turnout", "accounting"):
        assert listed[table].read_bytes() == one[table].read_bytes()
