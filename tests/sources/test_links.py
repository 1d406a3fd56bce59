"""Survey respondents placed in their district through a finer code (here a postcode) and ``sources.area_links``."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from shared import REPO

from evaluation.demo.medborgarbudget import SURVEY_FILES, generate_medborgarbudget
from evaluation.errors import ConfigError, InputFileError

SCENARIO = yaml.safe_load((REPO / "config/scenarios/medborgarbudget.yaml").read_text(encoding="utf-8"))
WAVES = [1, 2]


@pytest.fixture
def postcode_survey(tmp_path, monkeypatch):
    """The medborgarbudget survey with the valdistrikt replaced by a postcode, a links file and ingest settings."""
    monkeypatch.setenv("LOKALDEMOKRATI_ID_KEY", "a-test-key-that-is-not-the-demo-key")
    raw = tmp_path / "raw"
    generate_medborgarbudget(raw, seed=5)
    (raw / "demo_manifest.json").unlink()  # edited files: not the demo's any more
    districts = set()
    for wave in WAVES:
        path = raw / SURVEY_FILES.format(wave=wave)
        survey = pd.read_csv(path, dtype=str)
        districts |= set(survey["valdistrikt"])
        survey.assign(postnummer="8" + survey["valdistrikt"].str[-6:]).drop(columns="valdistrikt").to_csv(
            path, index=False
        )
    pd.DataFrame({"postnummer": ["8" + d[-6:] for d in sorted(districts)], "valdistrikt": sorted(districts)}).to_csv(
        raw / "postnummer_valdistrikt.csv", index=False
    )
    codebook = yaml.safe_load((REPO / SCENARIO["sources"]["survey"]["codebook"]).read_text(encoding="utf-8"))
    del codebook["columns"]["area_code"]
    codebook["columns"]["link_code"] = {"variable": "postnummer", "type": "text", "required": True}
    (tmp_path / "panel.yaml").write_text(yaml.safe_dump(codebook, allow_unicode=True), encoding="utf-8")
    sources = {
        "areas": {**SCENARIO["sources"]["areas"], "codebook": str(REPO / SCENARIO["sources"]["areas"]["codebook"])},
        "survey": {
            "files": SCENARIO["sources"]["survey"]["files"],
            "waves": WAVES,
            "codebook": str(tmp_path / "panel.yaml"),
        },
        "area_links": {"file": "postnummer_valdistrikt.csv", "code": "postnummer", "area_code": "valdistrikt"},
    }
    settings = {
        "sources": sources,
        "pseudonymisation": {"key_env": "LOKALDEMOKRATI_ID_KEY"},
        "demo": False,
        "inject_faults": False,
        "variables": str(REPO / SCENARIO["variables"]),
    }
    return raw, settings


def test_respondents_get_the_district_of_their_postcode(postcode_survey, tmp_path):
    from evaluation.stages.ingest import ingest

    raw, settings = postcode_survey
    ingest(raw, tmp_path / "out", settings)
    survey = pd.read_parquet(tmp_path / "out" / "survey.parquet")
    original = pd.concat([pd.read_csv(raw / SURVEY_FILES.format(wave=w), dtype=str) for w in WAVES], ignore_index=True)
    assert (survey["area_code"].str[-6:] == original["postnummer"].str[1:]).all()
    assert survey["area_code"].str.startswith("19").all()


def test_a_postcode_missing_from_the_links_file_stops_ingest(postcode_survey, tmp_path):
    from evaluation.stages.ingest import ingest

    raw, settings = postcode_survey
    links = pd.read_csv(raw / "postnummer_valdistrikt.csv", dtype=str)
    links.iloc[1:].to_csv(raw / "postnummer_valdistrikt.csv", index=False)
    with pytest.raises(
        InputFileError,
        match=rf"link_code that .*postnummer_valdistrikt.csv does not list, e.g. '{links['postnummer'].iloc[0]}'",
    ):
        ingest(raw, tmp_path / "out", settings)
    assert not (tmp_path / "out" / "survey.parquet").exists()


def test_a_postcode_in_two_districts_stops_ingest(postcode_survey, tmp_path):
    from evaluation.stages.ingest import ingest

    raw, settings = postcode_survey
    links = pd.read_csv(raw / "postnummer_valdistrikt.csv", dtype=str)
    split = pd.DataFrame({"postnummer": [links["postnummer"].iloc[0]], "valdistrikt": [links["valdistrikt"].iloc[1]]})
    pd.concat([links, split]).to_csv(raw / "postnummer_valdistrikt.csv", index=False)
    with pytest.raises(ConfigError, match="lies in more than one district"):
        ingest(raw, tmp_path / "out", settings)
