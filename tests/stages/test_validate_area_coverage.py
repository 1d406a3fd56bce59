"""The validate stage checks coverage per treated area: a pilot area without respondents stops the run.

The raw files are the medborgarbudget seed programme's (treated unit: area);
one pilot area loses its respondents in one wave while the other districts of
its municipality still answer.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from snakemake.utils import update_config

from evaluation.config import complete_config, stage_settings
from evaluation.demo.medborgarbudget import generate_medborgarbudget
from evaluation.errors import ValidationFailed
from evaluation.schemas import load_yaml
from evaluation.stages.ingest import ingest
from evaluation.stages.validate import validate

REPO = Path(__file__).resolve().parents[2]
SCENARIO = REPO / "config" / "scenarios" / "medborgarbudget.yaml"


def _config() -> dict:
    config = load_yaml(REPO / "config" / "config.yaml")
    update_config(config, load_yaml(SCENARIO))
    config["variables"] = str(REPO / config["variables"])
    for source in config["sources"].values():
        if source and "codebook" in source:
            source["codebook"] = str(REPO / source["codebook"])
    return complete_config(config, SCENARIO)


def _ingest_and_validate(raw: Path, tmp_path: Path) -> None:
    config = _config()
    ingest_settings = stage_settings(config, "ingest")
    ingest(raw, tmp_path / "ingested", ingest_settings)
    settings = stage_settings(config, "validate")
    settings["validation"] = {**settings["validation"], "data_docs": False}
    validate(tmp_path / "ingested", tmp_path / "validated", settings)


def test_a_pilot_area_without_respondents_in_a_wave_stops_the_run(tmp_path):
    raw = tmp_path / "raw"
    truth = generate_medborgarbudget(raw, seed=5)
    area, districts = next(iter(truth["pilots"].items()))
    wave_file = raw / "medborgarpanel_vag3.csv"
    wave = pd.read_csv(wave_file, dtype=str)
    in_area = wave["valdistrikt"].isin(districts)
    same_municipality = wave["kommun"].eq(area.split("-")[0]) & ~in_area
    assert in_area.any() and same_municipality.any()  # the municipality still answers
    wave[~in_area].to_csv(wave_file, index=False)
    with pytest.raises(
        ValidationFailed, match=rf"unit_code={area}, municipality_code={area.split('-')[0]}, wave=3, respondents=0"
    ):
        _ingest_and_validate(raw, tmp_path)
    assert not (tmp_path / "validated" / "survey.parquet").exists()


def test_the_unchanged_programme_passes_coverage(tmp_path):
    raw = tmp_path / "raw"
    generate_medborgarbudget(raw, seed=5)
    _ingest_and_validate(raw, tmp_path)
    assert (tmp_path / "validated" / "survey.parquet").exists()
