"""A new source is added by writing a codebook alone (docs/bring-your-own-data.md).

An SPSS file "from another survey": other variable names, missing codes 8/9
(don't know/refused), trust 1-7 with 1 = full trust, birth year, education in
years of schooling. The same data in every supported format ingests through the
same codebook, and every row is accounted for.
"""

from __future__ import annotations

import pandas as pd
import pyreadstat
import pytest
import yaml

from evaluation.sources.codebook import load_codebook
from evaluation.stages.ingest import ingest_single, ingest_survey

CODEBOOK = {
    "source": "Lokalundersøkelsen (another survey)",
    "kind": "survey",
    "missing_codes": {8: "dont_know", 9: "refused"},
    "columns": {
        "respondent_id": {"variable": "lopenr", "type": "text", "required": True},
        "municipality_code": {"variable": "komnr", "type": "text", "required": True, "transform": "zero_pad_4"},
        "interview_date": {"variable": "dato", "type": "date", "required": True},
        "design_weight": {"variable": "vekt", "type": "number", "required": True},
        "gender": {"variable": "kjoenn", "type": "category", "recode": {1: "female", 2: "male"}},
        "age": {"variable": "faar", "type": "integer", "transform": "age_from_birth_year"},
        "education": {
            "variable": "skolear",
            "type": "category",
            "missing_codes": {99: "refused"},  # 9 years is an answer
            "recode": {"0-10": "compulsory", "11-13": "upper_secondary", "14-25": "higher"},
        },
        "trust_local_politicians": {
            "variable": "tillit",
            "type": "outcome",
            "transform": "rescale",
            "scale": [7, 1],
            "to": [0, 10],
        },
        "voted_local": {"variable": "stemte", "type": "outcome", "recode": {1: 1, 2: 0}},
    },
    "derived": {
        "age_group": {
            "rule": "cut",
            "from": ["age"],
            "breaks": [18, 30, 45, 60],
            "labels": ["18-29", "30-44", "45-59", "60+"],
        }
    },
}

RAW = pd.DataFrame(
    {
        "lopenr": ["r1", "r2", "r3", "r4", ""],
        "komnr": ["301", "301", "4601", "4601", "301"],
        "dato": pd.to_datetime(["2024-03-01"] * 5),
        "vekt": [1.0, 0.5, 2.0, 1.5, 1.0],
        "kjoenn": [1.0, 2.0, 2.0, 8.0, 1.0],
        "faar": [1990.0, 1950.0, 2001.0, 1975.0, 1980.0],
        "skolear": [9.0, 12.0, 17.0, 9.0, 13.0],
        "tillit": [1.0, 7.0, 4.0, 8.0, 9.0],
        "stemte": [1.0, 2.0, 1.0, 9.0, 1.0],
    }
)


def write(frame: pd.DataFrame, path) -> None:
    suffix = path.suffix
    if suffix in {".sav", ".zsav"}:
        pyreadstat.write_sav(
            frame,
            str(path),
            compress=suffix == ".zsav",
            missing_ranges={"tillit": [8, 9], "stemte": [8, 9]},
            variable_value_labels={"kjoenn": {1: "Kvinne", 2: "Mann", 8: "Vet ikke"}},
        )
    elif suffix == ".dta":
        pyreadstat.write_dta(frame, str(path))
    elif suffix == ".xpt":
        pyreadstat.write_xport(frame, str(path))
    elif suffix == ".por":
        pyreadstat.write_por(frame, str(path))
    elif suffix == ".csv":
        frame.to_csv(path, index=False, sep=";", decimal=",", encoding="cp1252", date_format="%Y-%m-%d")
    elif suffix == ".xlsx":
        frame.to_excel(path, index=False, sheet_name="svar")
    else:
        frame.to_parquet(path)


@pytest.fixture
def codebook(tmp_path):
    path = tmp_path / "lokalundersokelsen.yaml"
    document = dict(CODEBOOK)
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_codebook(path)


def test_another_survey_through_a_codebook_alone(tmp_path, codebook):
    path = tmp_path / "lokal_2024.sav"
    write(RAW, path)
    result = ingest_survey({1: path}, codebook, key=b"test key")
    data = result.data.set_index(result.data["source_row"])
    assert data["municipality_code"].tolist() == ["0301", "0301", "4601", "4601"]
    assert data["gender"].tolist() == ["female", "male", "male", None]
    assert data["age"].tolist() == [34, 74, 23, 49] and data["age_group"].tolist() == ["30-44", "60+", "18-29", "45-59"]
    assert data["education"].tolist() == ["compulsory", "upper_secondary", "higher", "compulsory"]
    assert data["trust_local_politicians"].tolist()[:3] == pytest.approx([10.0, 0.0, 5.0])
    assert data["voted_local"].tolist()[:3] == [1.0, 0.0, 1.0]
    reasons = result.nonresponse.set_index("variable")["reason"]
    assert reasons["gender"] == "dont_know" and reasons["voted_local"] == "refused"
    assert set(reasons["trust_local_politicians"]) == {"dont_know", "refused"}
    assert result.accounting.iloc[0][["rows_read", "rows_kept", "rows_quarantined"]].tolist() == [5, 4, 1]
    assert result.quarantine["value"].tolist() == ["(id withheld)"]


@pytest.mark.parametrize("suffix", [".sav", ".zsav", ".por", ".dta", ".xpt", ".csv", ".xlsx", ".parquet"])
def test_row_accounting_in_every_format(tmp_path, suffix):
    document = dict(CODEBOOK, read={"sep": ";", "decimal": ",", "sheet": "svar"})
    document["columns"] = {k: v for k, v in CODEBOOK["columns"].items() if k not in {"interview_date", "age"}}
    document.pop("derived")
    document["kind"] = "areas"  # no id hashing needed: any kind reads through the same path
    cb_path = tmp_path / "cb.yaml"
    cb_path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    frame = RAW.drop(columns=["dato"])
    if suffix == ".xpt":
        frame = frame.rename(columns=str.upper)  # case-insensitive names
    path = tmp_path / f"lokal{suffix}"
    write(frame, path)
    result = ingest_single(path, load_codebook(cb_path))
    counts = result.accounting.iloc[0]
    assert counts["rows_read"] == 5
    assert counts["rows_read"] == counts["rows_kept"] + counts["rows_quarantined"]
    assert counts["rows_quarantined"] == 1 and len(result.data) == 4
    assert result.data["education"].tolist() == ["compulsory", "upper_secondary", "higher", "compulsory"]
