"""Replicate weights declared in a survey codebook (design.replicate_weights): found, ordered, checked."""

from __future__ import annotations

import copy

import pandas as pd
import pytest
import yaml
from shared import REPO

from evaluation.config import complete_config, stage_settings
from evaluation.errors import ConfigError, InputFileError
from evaluation.schemas import load_yaml
from evaluation.sources.codebook import load_codebook
from evaluation.stages.ingest import ingest_survey

CODEBOOK = {
    "source": "A survey with bootstrap replicate weights",
    "kind": "survey",
    "design": {
        "weight": "design_weight",
        "replicate_weights": {"columns": "repwt[0-9]+", "scale": 0.5, "method": "bootstrap"},
    },
    "columns": {
        "respondent_id": {"variable": "idno", "type": "text", "required": True},
        "municipality_code": {"variable": "komnr", "type": "text", "required": True, "transform": "zero_pad_4"},
        "interview_date": {"variable": "dato", "type": "date", "required": True},
        "design_weight": {"variable": "vekt", "type": "number", "required": True},
        "voted_local": {"variable": "stemte", "type": "outcome", "recode": {1: 1, 2: 0}},
    },
}


def _wave(replicates: dict[str, list]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "idno": ["a", "b", "c", "d"],
            "komnr": ["301"] * 4,
            "dato": ["01.03.2024"] * 4,
            "vekt": [1.0, 2.0, 1.5, 0.5],
            "stemte": [1, 2, 1, 1],
            "OTHER": [7, 7, 7, 7],
            **replicates,
        }
    )


@pytest.fixture
def codebook(tmp_path):
    def make(document=CODEBOOK):
        path = tmp_path / "codebook.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        return load_codebook(path)

    return make


def test_replicate_weights_take_canonical_names_in_natural_order(tmp_path, codebook):
    # REPWT10 comes after REPWT2 (natural order, names matched ignoring case)
    wave = _wave({"REPWT10": [0.0, 4.0, 3.0, 1.0], "repwt1": [2.0, 0.0, 3.0, 1.0], "repwt2": [1.0, 2.0, 0.0, 1.0]})
    path = tmp_path / "wave1.csv"
    wave.to_csv(path, index=False)
    data = ingest_survey({1: path}, codebook(), key=b"test key").data
    assert [c for c in data.columns if c.startswith("replicate_weight_")] == [
        "replicate_weight_001",
        "replicate_weight_002",
        "replicate_weight_003",
    ]
    assert data["replicate_weight_001"].tolist() == [2.0, 0.0, 3.0, 1.0]
    assert data["replicate_weight_003"].tolist() == [0.0, 4.0, 3.0, 1.0]
    assert "OTHER" not in data.columns


def test_unusable_replicate_weights_quarantine_their_rows_with_reasons(tmp_path, codebook):
    wave = _wave({"repwt1": ["2.0", "", "x", "1.0"], "repwt2": ["1.0", "2.0", "0", "-1"]})
    path = tmp_path / "wave1.csv"
    wave.to_csv(path, index=False)
    result = ingest_survey({1: path}, codebook(), key=b"test key")
    assert len(result.data) == 1
    quarantine = result.quarantine.set_index("row_number")
    assert quarantine.loc[2, ["column", "reason"]].tolist() == ["repwt1", "replicate weight is missing"]
    assert quarantine.loc[3, ["column", "reason"]].tolist() == ["repwt1", "replicate weight is not a number"]
    assert quarantine.loc[4, ["column", "value", "reason"]].tolist() == ["repwt2", "-1", "replicate weight is negative"]
    accounting = result.accounting.iloc[0]
    assert accounting["rows_read"] == 4 and accounting["rows_quarantined"] == 3


def test_a_wave_without_the_replicates_or_with_another_count_stops_the_run(tmp_path, codebook):
    first, second = tmp_path / "wave1.csv", tmp_path / "wave2.csv"
    _wave({"repwt1": [1.0] * 4, "repwt2": [1.0] * 4}).to_csv(first, index=False)
    _wave({"repwt1": [1.0] * 4}).to_csv(second, index=False)
    with pytest.raises(
        InputFileError,
        match=r"wave2.csv: 1 replicate-weight columns match 'repwt\[0-9\]\+', but the earlier waves have 2",
    ):
        ingest_survey({1: first, 2: second}, codebook(), key=b"test key")
    _wave({}).to_csv(second, index=False)
    with pytest.raises(InputFileError, match=r"wave2.csv: no column matches design.replicate_weights.columns"):
        ingest_survey({1: first, 2: second}, codebook(), key=b"test key")


def test_rscales_must_match_the_number_of_replicates(tmp_path, codebook):
    document = copy.deepcopy(CODEBOOK)
    document["design"]["replicate_weights"]["rscales"] = [1.0, 1.0, 1.0]
    path = tmp_path / "wave1.csv"
    _wave({"repwt1": [1.0] * 4, "repwt2": [1.0] * 4}).to_csv(path, index=False)
    with pytest.raises(InputFileError, match="2 replicate-weight columns, but design.replicate_weights.rscales has 3"):
        ingest_survey({1: path}, codebook(document), key=b"test key")


def _config_with(codebook_path, method):
    document = load_yaml(REPO / "config" / "config.yaml")
    document["variables"] = str(REPO / document["variables"])
    document["sources"]["survey"]["codebook"] = str(codebook_path)
    document["weighting"]["method"] = method
    return document


def test_the_estimate_stage_gets_the_declared_replicates_and_raking_them_is_refused(tmp_path):
    path = tmp_path / "codebook.yaml"
    path.write_text(yaml.safe_dump(CODEBOOK, sort_keys=False), encoding="utf-8")
    config = complete_config(_config_with(path, "none"), REPO / "config" / "config.yaml")
    assert stage_settings(config, "estimate")["replicates"] == {
        "columns": "repwt[0-9]+",
        "scale": 0.5,
        "method": "bootstrap",
        "mse": False,
        "combined_weights": True,
    }
    with pytest.raises(ConfigError, match=r"weighting.method: rake, but the survey codebook .* declares replicate"):
        complete_config(_config_with(path, "rake"), REPO / "config" / "config.yaml")
    demo = complete_config(_config_with(REPO / "config" / "codebooks" / "demo_panel.yaml", "rake"), REPO / "config")
    assert stage_settings(demo, "estimate")["replicates"] is None


def test_replicate_multipliers_are_multiplied_by_the_full_sample_weight(tmp_path, codebook):
    document = copy.deepcopy(CODEBOOK)
    document["design"]["replicate_weights"]["combined_weights"] = False
    path = tmp_path / "wave1.csv"
    _wave({"repwt1": [2.0, 0.0, 1.0, 1.0], "repwt2": [0.0, 2.0, 1.0, 2.0]}).to_csv(path, index=False)
    data = ingest_survey({1: path}, codebook(document), key=b"test key").data
    assert data["replicate_weight_001"].tolist() == [2.0, 0.0, 1.5, 0.5]  # vekt 1.0, 2.0, 1.5, 0.5
    assert data["replicate_weight_002"].tolist() == [0.0, 4.0, 1.5, 1.0]


def test_a_pattern_that_is_not_a_regular_expression_names_the_codebook_and_key(tmp_path, codebook):
    document = copy.deepcopy(CODEBOOK)
    document["design"]["replicate_weights"]["columns"] = "repwt[0-9"
    with pytest.raises(ConfigError, match=r"codebook.yaml: design/replicate_weights/columns: 'repwt\[0-9' is not a"):
        codebook(document)


def test_a_pattern_that_matches_the_full_sample_weight_stops_the_run(tmp_path, codebook):
    document = copy.deepcopy(CODEBOOK)
    document["design"]["replicate_weights"]["columns"] = "(repwt[0-9]+|vekt)"  # would count vekt as a replicate
    path = tmp_path / "wave1.csv"
    _wave({"repwt1": [1.0] * 4}).to_csv(path, index=False)
    with pytest.raises(InputFileError, match="wave1.csv: column vekt matches .* but the codebook reads design_weight"):
        ingest_survey({1: path}, codebook(document), key=b"test key")
