"""Codebooks: schema errors name file and key; recodes, missing reasons and per-wave names work."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from shared import REPO

from evaluation.errors import ConfigError, InputFileError
from evaluation.sources.codebook import apply_codebook, load_codebook
from evaluation.sources.readers import FileMetadata


def write_codebook(tmp_path, document):
    path = tmp_path / "codebook.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


CODEBOOK = {
    "source": "test panel",
    "kind": "survey",
    "missing_codes": {97: "dont_know", 98: "refused"},
    "columns": {
        "respondent_id": {"variable": "id", "type": "text", "required": True},
        "interview_date": {"variable": "dato", "type": "date", "required": True},
        "gender": {"variable": "kjonn", "type": "category", "recode": {1: "male", 2: "female"}},
        "age": {"variable": "fodt", "type": "integer", "transform": "age_from_birth_year"},
        "income_quintile": {
            "variable": "desil",
            "type": "category",
            "transform": "deciles_to_quintiles",
            "recode": {i: str(i) for i in range(1, 6)},
        },
        "trust": {"variable": {"1-2": "tillit", "3": "k12a"}, "type": "outcome"},
        "reversed": {"variable": "omvendt", "type": "outcome", "transform": "reverse"},
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


def raw_frame(trust_name="tillit"):
    return pd.DataFrame(
        {
            "id": ["a", "b", None, "d"],
            "dato": pd.to_datetime(["2020-03-01", "2020-03-02", "2020-03-03", "2020-03-04"]),
            "kjonn": [1.0, 2.0, 97.0, 5.0],
            "fodt": [1990.0, 1950.0, 2000.0, 1975.0],
            "desil": [1.0, 10.0, 4.0, np.nan],
            trust_name: [3.0, 98.0, 10.0, 97.0],
            "omvendt": [1.0, 4.0, 2.0, 3.0],
        }
    )


def test_codebook_schema_error_names_file_and_key(tmp_path):
    broken = {**CODEBOOK, "columns": {"x": {"variable": "x", "type": "colour"}}}
    with pytest.raises(ConfigError, match=r"(?s)codebook.yaml.*columns/x/type"):
        load_codebook(write_codebook(tmp_path, broken))


def test_recodes_missing_reasons_and_quarantine(tmp_path):
    codebook = load_codebook(write_codebook(tmp_path, CODEBOOK))
    result = apply_codebook(raw_frame(), FileMetadata(), codebook, "w1.sav", wave=1)
    data = result.data
    assert list(data.index) == [0, 1, 3]  # row 3 (id missing) quarantined
    assert result.quarantine[["source_file", "row_number", "column"]].values.tolist() == [["w1.sav", 3, "id"]]
    assert data["gender"].tolist() == ["male", "female", "unknown:5"]  # unknown code flagged for validation
    assert data["age"].tolist() == [30, 70, 45]
    assert data["age_group"].tolist() == ["30-44", "60+", "45-59"]
    assert data["income_quintile"].tolist()[:2] == ["1", "5"]
    assert data["trust"].isna().tolist() == [False, True, True]
    assert data["reversed"].tolist() == [4.0, 1.0, 2.0]
    reasons = result.nonresponse.sort_values(["variable", "row"])[["row", "variable", "reason"]].values.tolist()
    assert [2, "gender", "dont_know"] in reasons
    assert [1, "trust", "refused"] in reasons and [3, "trust", "dont_know"] in reasons
    assert [3, "income_quintile", "system_missing"] in reasons


def test_per_wave_variable_names(tmp_path):
    codebook = load_codebook(write_codebook(tmp_path, CODEBOOK))
    result = apply_codebook(raw_frame("k12a"), FileMetadata(), codebook, "w3.sav", wave=3)
    assert result.data["trust"].tolist()[0] == 3.0
    with pytest.raises(InputFileError, match=r"w2.sav: column\(s\) 'tillit'"):
        apply_codebook(raw_frame("k12a"), FileMetadata(), codebook, "w2.sav", wave=2)


def test_user_missing_codes_from_file_metadata(tmp_path):
    document = {**CODEBOOK, "missing_codes": {}}
    codebook = load_codebook(write_codebook(tmp_path, document))
    result = apply_codebook(raw_frame(), FileMetadata(missing_values={"tillit": [97, 98]}), codebook, "w1.sav", wave=1)
    trust = result.nonresponse[result.nonresponse["variable"] == "trust"]
    assert set(trust["reason"]) == {"missing_code_97", "missing_code_98"}


def test_text_numbers_with_decimal_comma_and_thousands(tmp_path):
    document = {
        "source": "turnout",
        "kind": "turnout",
        "read": {"decimal": ",", "thousands": " "},
        "columns": {
            "eligible": {"variable": "Stemmeberettigede", "type": "integer", "required": True},
            "share": {"variable": "Prosent", "type": "number", "transform": "percent_to_share"},
        },
    }
    codebook = load_codebook(write_codebook(tmp_path, document))
    raw = pd.DataFrame({"Stemmeberettigede": ["1 234", "x", "12,5"], "Prosent": ["63,4", "50,0", "50,0"]})
    result = apply_codebook(raw, FileMetadata(), codebook, "valg.csv")
    assert result.data["eligible"].tolist() == [1234]
    assert result.data["share"].tolist() == [pytest.approx(0.634)]
    assert result.quarantine["reason"].tolist() == [
        "required value for eligible is missing: suppressed_confidential",  # "x": the office's masking symbol
        "missing or unreadable required value for eligible (integer): expected a whole number (decimal mark ',', "
        "thousands separator space, no-break space, narrow no-break space, '.')",  # 12,5 is not rounded
    ]


def test_range_recode_rescale_constants_and_case_insensitive_names(tmp_path):
    document = {
        "source": "other survey",
        "kind": "survey",
        "missing_codes": {8: "dont_know", 9: "refused", ".a": "not_asked"},
        "constants": {"wave_label": "spring"},
        "columns": {
            "education": {
                "variable": "skolar",
                "type": "category",
                "recode": {"0-9": "compulsory", "10-12": "upper_secondary", "13-30": "higher"},
            },
            "trust": {"variable": "tillit", "type": "outcome", "transform": "rescale", "scale": [7, 1], "to": [0, 10]},
            "reversed": {"variable": "omvendt", "type": "outcome", "transform": "reverse", "scale": [1, 4]},
        },
    }
    codebook = load_codebook(write_codebook(tmp_path, document))
    raw = pd.DataFrame(
        {"SKOLAR": [7.0, 12.0, 16.0, 40.0], "TILLIT": [1.0, 7.0, 8.0, np.nan], "OMVENDT": [1.0, 1.0, 2.0, 2.0]}
    )
    tags = {"TILLIT": pd.Series([".a"], index=[3])}
    result = apply_codebook(raw, FileMetadata(missing_tags=tags), codebook, "other.sav")
    assert result.data["education"].tolist() == ["compulsory", "upper_secondary", "higher", "unknown:40"]
    assert result.data["trust"].tolist()[:2] == [10.0, 0.0]
    assert result.data["reversed"].tolist() == [4.0, 4.0, 3.0, 3.0]  # declared scale, not the observed range
    assert result.data["wave_label"].unique().tolist() == ["spring"]
    reasons = result.nonresponse.set_index(["variable", "row"])["reason"].to_dict()
    assert reasons == {("trust", 2): "dont_know", ("trust", 3): "not_asked"}


def test_bad_recode_key_and_rescale_without_scale_name_the_key(tmp_path):
    bad = {
        "source": "s",
        "kind": "survey",
        "columns": {"education": {"variable": "e", "type": "category", "recode": {"low": "x"}}},
    }
    with pytest.raises(ConfigError, match="columns/education/recode: recode key 'low'"):
        load_codebook(write_codebook(tmp_path, bad))
    bad = {
        "source": "s",
        "kind": "survey",
        "columns": {"trust": {"variable": "t", "type": "outcome", "transform": "rescale"}},
    }
    with pytest.raises(ConfigError, match="columns/trust: transform rescale needs scale"):
        load_codebook(write_codebook(tmp_path, bad))


def test_shipped_codebooks_are_valid():

    folder = REPO / "config" / "codebooks"
    for path in folder.glob("*.yaml"):
        if not path.name.startswith("TEMPLATE_"):
            load_codebook(path)
