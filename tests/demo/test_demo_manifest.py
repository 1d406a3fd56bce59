"""The demo manifest: the generator overwrites only its own files; only its unchanged files get the demo key."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from shared import SMALL_DEMO

from evaluation.demo.generate import DemoConfig, generate_demo
from evaluation.demo.manifest import MANIFEST
from evaluation.errors import ConfigError
from evaluation.sources.pseudonymise import DEMO_KEY, pseudonymise
from evaluation.stages.ingest import ingest

KEY_ENV = "LOKALDEMOKRATI_ID_KEY"
REAL_TURNOUT = (
    "Kommunenummer;Kommunenavn;Stemmekretsnummer;Stemmekretsnavn;Valgtype;Valgår;Antall stemmeberettigede\n"
    "0301;Oslo;0101;Sentrum;Stortingsvalg;2021;4312\n"
    "0301;Oslo;0102;Grünerløkka;Stortingsvalg;2021;5120\n"
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def demo_copy(small_demo, tmp_path) -> Path:
    """A copy of the small demo's raw folder, manifest included."""
    return Path(shutil.copytree(small_demo, tmp_path / "raw"))


@pytest.fixture
def no_key(monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)


def test_manifest_lists_every_file_written_with_its_checksum(small_demo):
    files = json.loads((small_demo / MANIFEST).read_text(encoding="utf-8"))["files"]
    written = sorted(p.name for p in small_demo.iterdir() if p.name != MANIFEST)
    assert sorted(files) == written
    assert len(written) == 5 + SMALL_DEMO["n_waves"] + 1  # five CSVs, the waves, truth.json
    assert all(files[name] == sha256(small_demo / name) for name in written)


def test_generator_overwrites_its_own_files(demo_copy, small_demo):
    (demo_copy / "truth.json").unlink()  # a file of the manifest that is missing is written again
    generate_demo(demo_copy, DemoConfig(**SMALL_DEMO))
    assert (demo_copy / "area_register.csv").read_bytes() == (small_demo / "area_register.csv").read_bytes()
    assert (demo_copy / "truth.json").read_bytes() == (small_demo / "truth.json").read_bytes()
    files = json.loads((demo_copy / MANIFEST).read_text(encoding="utf-8"))["files"]
    assert files["area_register.csv"] == sha256(demo_copy / "area_register.csv")


def test_generator_refuses_a_folder_with_a_real_csv(demo_copy):
    real = demo_copy / "valgdeltakelse_2021.csv"
    real.write_text(REAL_TURNOUT, encoding="utf-8")
    manifest = (demo_copy / MANIFEST).read_bytes()
    truth = (demo_copy / "truth.json").read_bytes()
    with pytest.raises(ConfigError, match=r"did not write .*valgdeltakelse_2021\.csv"):
        generate_demo(demo_copy, DemoConfig(**SMALL_DEMO))
    assert real.read_text(encoding="utf-8") == REAL_TURNOUT
    assert (demo_copy / MANIFEST).read_bytes() == manifest and (demo_copy / "truth.json").read_bytes() == truth


def test_generator_refuses_a_modified_demo_file(demo_copy):
    areas = demo_copy / "area_register.csv"
    areas.write_text(areas.read_text(encoding="utf-8").replace("Sentrum", "Sentrum øst", 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"area_register\.csv"):
        generate_demo(demo_copy, DemoConfig(**SMALL_DEMO))
    assert "Sentrum øst" in areas.read_text(encoding="utf-8")


def test_generator_refuses_files_without_a_manifest(demo_copy):
    (demo_copy / MANIFEST).unlink()
    with pytest.raises(ConfigError, match=r"did not write .*area_register\.csv"):
        generate_demo(demo_copy, DemoConfig(**SMALL_DEMO))


def test_demo_stage_refuses_a_raw_folder_with_other_files(demo_copy):
    from evaluation.stages.demo import write_demo

    (demo_copy / "notes.txt").write_text("field notes\n", encoding="utf-8")
    settings = {
        "seed": SMALL_DEMO["seed"],
        "municipalities": SMALL_DEMO["n_municipalities"],
        "pilots": SMALL_DEMO["n_pilots"],
        "respondents_per_wave": SMALL_DEMO["respondents_per_wave"],
        "waves": SMALL_DEMO["n_waves"],
    }
    with pytest.raises(ConfigError, match=r"notes\.txt"):
        write_demo(demo_copy, settings)


def test_unchanged_demo_files_use_the_demo_key(demo_copy, ingest_settings, tmp_path, no_key):
    ingest(demo_copy, tmp_path / "ingested", ingest_settings)
    survey = pd.read_parquet(tmp_path / "ingested" / "survey.parquet")
    raw = pd.read_spss(demo_copy / "innbyggerpanel_bolge01.sav", convert_categoricals=False)
    expected = set(pseudonymise(raw["Resp_ID"], DEMO_KEY.encode("utf-8")))
    assert set(survey.loc[survey["wave"] == 1, "respondent_id"]) == expected


def test_modified_demo_file_needs_a_key_and_nothing_is_written(demo_copy, ingest_settings, tmp_path, no_key):
    areas = demo_copy / "area_register.csv"
    areas.write_text(areas.read_text(encoding="utf-8").replace("Sentrum", "Sentrum øst", 1), encoding="utf-8")
    out = tmp_path / "ingested"
    with pytest.raises(
        ConfigError,
        match=rf"{KEY_ENV} is not set.*not listed unchanged in .*{MANIFEST}: "
        rf".*area_register\.csv.*export {KEY_ENV}=",
    ):
        ingest(demo_copy, out, ingest_settings)
    assert not out.exists()


def test_real_csv_among_the_inputs_needs_a_key(demo_copy, ingest_settings, tmp_path, no_key):
    """A real turnout file put in the demo folder under the demo's name is not demo data."""
    (demo_copy / "valgdeltakelse_stemmekretser.csv").write_text(REAL_TURNOUT, encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"{KEY_ENV} is not set.*valgdeltakelse_stemmekretser\.csv"):
        ingest(demo_copy, tmp_path / "ingested", ingest_settings)
    assert not (tmp_path / "ingested").exists()


def test_real_data_without_a_manifest_needs_a_key(demo_copy, ingest_settings, tmp_path, no_key):
    (demo_copy / MANIFEST).unlink()
    with pytest.raises(ConfigError, match=rf"{KEY_ENV} is not set.*innbyggerpanel_bolge01\.sav"):
        ingest(demo_copy, tmp_path / "ingested", ingest_settings)
    assert not (tmp_path / "ingested").exists()


def test_demo_disabled_needs_a_key(small_demo, ingest_settings, tmp_path, no_key):
    with pytest.raises(ConfigError, match=rf"{KEY_ENV} is not set: .*real data \(demo.enabled is false\)"):
        ingest(small_demo, tmp_path / "ingested", {**ingest_settings, "demo": False})
    assert not (tmp_path / "ingested").exists()


def test_demo_key_refused_for_real_data(demo_copy, ingest_settings, tmp_path, monkeypatch):
    (demo_copy / MANIFEST).unlink()
    monkeypatch.setenv(KEY_ENV, DEMO_KEY)
    with pytest.raises(ConfigError, match=rf"{KEY_ENV} holds the public demo key.*real data"):
        ingest(demo_copy, tmp_path / "ingested", ingest_settings)
    assert not (tmp_path / "ingested").exists()


def test_real_data_with_a_key_uses_that_key(demo_copy, ingest_settings, tmp_path, monkeypatch):
    (demo_copy / MANIFEST).unlink()
    monkeypatch.setenv(KEY_ENV, "a secret of the research team")
    ingest(demo_copy, tmp_path / "ingested", ingest_settings)
    survey = pd.read_parquet(tmp_path / "ingested" / "survey.parquet")
    raw = pd.read_spss(demo_copy / "innbyggerpanel_bolge01.sav", convert_categoricals=False)
    expected = set(pseudonymise(raw["Resp_ID"], b"a secret of the research team"))
    assert set(survey.loc[survey["wave"] == 1, "respondent_id"]) == expected
