"""Bad inputs about identifiers and the files' own metadata, with real SPSS, Stata, CSV and Excel files.

Each case asserts either the exact error (our own type, naming the file and the
wave, variable or column) or the exact right value.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
import yaml

from evaluation.errors import ConfigError, InputFileError
from evaluation.sources.codebook import load_codebook
from evaluation.stages.ingest import ingest_survey

KEY = b"test key"
BASE_COLUMNS = {
    "respondent_id": {"variable": "Resp_ID", "type": "text", "required": True},
    "municipality_code": {"variable": "kommune", "type": "text", "required": True, "transform": "zero_pad_4"},
}


def codebook(folder: Path, **columns) -> Path:
    """A survey codebook with an id, a municipality and ``columns`` (canonical name -> spec)."""
    path = folder / "panel.codebook.yaml"
    doc = {"source": "test panel", "kind": "survey", "missing_codes": {97: "dont_know", 98: "refused"},
           "columns": {**BASE_COLUMNS, **columns}}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def frame(ids, **columns) -> pd.DataFrame:
    """Wave data: ids, municipality 301 and the given columns."""
    return pd.DataFrame({"Resp_ID": ids, "kommune": ["301"] * len(ids), **columns})


def ingest_waves(files: dict[int, Path], book: Path, **kwargs):
    return ingest_survey(files, load_codebook(book), KEY, **kwargs)


# --------------------------------------------------------------------------- identifiers

def test_same_respondent_in_sav_csv_and_xlsx_waves_has_one_pseudonym(tmp_path):
    pyreadstat.write_sav(frame([452.0, 453.0]), str(tmp_path / "w1.sav"))
    frame(["452.0", "453.0"]).to_csv(tmp_path / "w2.csv", index=False)
    frame([" 452", "453\u00a0"]).to_excel(tmp_path / "w3.xlsx", index=False)
    pyreadstat.write_dta(frame([452, 453]).astype({"Resp_ID": "int32"}), str(tmp_path / "w4.dta"))
    files = {1: tmp_path / "w1.sav", 2: tmp_path / "w2.csv", 3: tmp_path / "w3.xlsx", 4: tmp_path / "w4.dta"}
    survey = ingest_waves(files, codebook(tmp_path)).data
    assert survey["respondent_id"].nunique() == 2
    assert survey.groupby("respondent_id")["wave"].apply(sorted).tolist() == [[1, 2, 3, 4]] * 2


def test_unicode_forms_of_one_text_id_are_one_respondent(tmp_path):
    frame(["Bj\u00f8rn-7", "Jose\u0301-1"]).to_csv(tmp_path / "w1.csv", index=False)  # composed ø, decomposed é
    frame(["Bj\u00f8rn-7 ", "Jos\u00e9-1"]).to_csv(tmp_path / "w2.csv", index=False)
    survey = ingest_waves({1: tmp_path / "w1.csv", 2: tmp_path / "w2.csv"}, codebook(tmp_path)).data
    assert survey["respondent_id"].nunique() == 2


def test_id_column_in_other_case_is_found_in_every_wave(tmp_path):
    frame(["1", "2"]).to_csv(tmp_path / "w1.csv", index=False)
    frame(["1", "2"]).rename(columns={"Resp_ID": "RESP_ID"}).to_csv(tmp_path / "w2.csv", index=False)
    survey = ingest_waves({1: tmp_path / "w1.csv", 2: tmp_path / "w2.csv"}, codebook(tmp_path)).data
    assert survey["respondent_id"].nunique() == 2
    assert len(survey) == 4


def test_missing_id_column_names_file_and_column(tmp_path):
    frame(["1", "2"]).rename(columns={"Resp_ID": "respondent"}).to_csv(tmp_path / "w1.csv", index=False)
    with pytest.raises(InputFileError, match=r"w1\.csv: column\(s\) 'Resp_ID' named in codebook .*panel\.codebook\.yaml"):
        ingest_waves({1: tmp_path / "w1.csv"}, codebook(tmp_path))


def test_ambiguous_id_column_names_file_and_column(tmp_path):
    frame(["1", "2"]).assign(RESP_ID=["3", "4"]).to_csv(tmp_path / "w1.csv", index=False)
    book = codebook(tmp_path, respondent_id={"variable": "resp_id", "type": "text", "required": True})
    with pytest.raises(InputFileError, match=r"w1\.csv: .*'resp_id'"):  # matches Resp_ID and RESP_ID
        ingest_waves({1: tmp_path / "w1.csv"}, book)


def test_survey_codebook_without_respondent_id_is_a_config_error(tmp_path):
    book = codebook(tmp_path)
    doc = yaml.safe_load(book.read_text(encoding="utf-8"))
    del doc["columns"]["respondent_id"]
    book.write_text(yaml.safe_dump(doc), encoding="utf-8")
    frame(["1"]).to_csv(tmp_path / "w1.csv", index=False)
    with pytest.raises(ConfigError, match=r"panel\.codebook\.yaml: a survey codebook needs a column respondent_id"):
        ingest_waves({1: tmp_path / "w1.csv"}, book)
