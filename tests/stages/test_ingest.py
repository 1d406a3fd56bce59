"""Ingest of the demo files: canonical tables, pseudonymised ids, every row accounted for."""

from __future__ import annotations

import pandas as pd
import pytest

from evaluation.errors import ConfigError
from evaluation.sources.pseudonymise import pseudonymisation_key, pseudonymise
from evaluation.stages.ingest import ingest


def test_canonical_tables(ingested, small_demo):
    survey = pd.read_parquet(ingested / "survey.parquet")
    turnout = pd.read_parquet(ingested / "turnout.parquet")
    areas = pd.read_parquet(ingested / "areas.parquet")
    assert set(survey["wave"]) == {1, 2, 3, 4}
    assert set(survey["gender"].dropna()) <= {"male", "female"}
    assert set(survey["education"].dropna()) == {"compulsory", "upper_secondary", "higher"}
    assert set(survey["age_group"].dropna()) <= {"18-29", "30-44", "45-59", "60+"}
    assert survey["trust_local_politicians"].between(0, 10).all() or survey["trust_local_politicians"].isna().any()
    assert survey["trust_local_politicians"].dropna().between(0, 10).all()
    assert set(turnout["election_type"]) == {"local", "parliamentary"}
    assert turnout["area_code"].isin(areas["area_code"]).all()
    assert (turnout["election_date"].dt.day_of_week == 0).all()  # a Monday in September
    assert turnout["turnout"].between(0, 1).all()


def test_original_ids_never_reach_processed(ingested, small_demo):
    import pyreadstat

    raw, _ = pyreadstat.read_sav(str(small_demo / "innbyggerpanel_bolge01.sav"))
    survey = pd.read_parquet(ingested / "survey.parquet")
    assert not set(raw["Resp_ID"]) & set(survey["respondent_id"])
    text = b"".join(p.read_bytes() for p in ingested.iterdir())
    assert raw["Resp_ID"].iloc[0].encode() not in text


def test_pseudonyms_are_stable_across_waves(ingested):
    survey = pd.read_parquet(ingested / "survey.parquet")
    per_respondent = survey.groupby("respondent_id")["wave"].nunique()
    assert (per_respondent > 1).mean() > 0.5  # a panel: most respondents answer several waves


def test_row_accounting(ingested, small_demo):
    accounting = pd.read_csv(ingested / "row_accounting.csv")
    assert (accounting["rows_read"] == accounting["rows_kept"] + accounting["rows_quarantined"]).all()
    turnout_rows = sum(1 for _ in open(small_demo / "valgdeltakelse_stemmekretser.csv", encoding="utf-8")) - 1
    assert accounting.set_index("source_file").loc["valgdeltakelse_stemmekretser.csv", "rows_read"] == turnout_rows


def test_item_nonresponse_reasons(ingested):
    missing = pd.read_parquet(ingested / "item_nonresponse.parquet")
    assert set(missing["reason"]) >= {"dont_know", "refused"}
    survey = pd.read_parquet(ingested / "survey.parquet")
    assert survey["trust_local_politicians"].isna().sum() == (missing["variable"] == "trust_local_politicians").sum()


def test_data_dictionary_of_the_demo(ingested):
    dictionary = pd.read_csv(ingested / "data_dictionary.csv", dtype=str, keep_default_na=False)
    trust = dictionary.query("source_file == 'innbyggerpanel_bolge01.sav' and variable == 'tillit_lokalpolitikere'")
    assert trust[["canonical", "variable_label", "code", "value_label", "missing"]].values.tolist() == [
        ["trust_local_politicians", "Tillit til lokalpolitikerne", "", "", "False"],
        ["trust_local_politicians", "Tillit til lokalpolitikerne", "0", "Ingen tillit", "False"],
        ["trust_local_politicians", "Tillit til lokalpolitikerne", "10", "Full tillit", "False"],
        ["trust_local_politicians", "Tillit til lokalpolitikerne", "97", "Vet ikke", "True"],
        ["trust_local_politicians", "Tillit til lokalpolitikerne", "98", "Vil ikke svare", "True"],
    ]
    assert set(dictionary["wave"]) == {"", "1", "2", "3", "4"}


def test_key_required_outside_demo(monkeypatch):
    monkeypatch.delenv("LD_TEST_KEY", raising=False)
    with pytest.raises(ConfigError, match="LD_TEST_KEY is not set"):
        pseudonymisation_key("LD_TEST_KEY", demo=False)
    monkeypatch.setenv("LD_TEST_KEY", "secret")
    assert pseudonymisation_key("LD_TEST_KEY", demo=False) == b"secret"
    ids = pd.Series(["x", "y", "x"])
    hashed = pseudonymise(ids, b"secret")
    assert hashed[0] == hashed[2] != hashed[1]
    assert pseudonymise(ids, b"other")[0] != hashed[0]


def test_pseudonyms_of_normalised_ids_agree():
    forms = pd.Series([452, 452.0, "452.0", " 452", "452\u00a0", None], dtype=object)
    hashed = pseudonymise(forms, b"secret")
    assert hashed[:5].nunique() == 1
    assert hashed[0] == pseudonymise(pd.Series(["452"]), b"secret")[0]
    assert pd.isna(hashed[5])


def test_quarantined_survey_rows_are_counted(small_demo, ingest_settings, tmp_path):
    import shutil

    import pyreadstat

    raw = tmp_path / "raw"
    shutil.copytree(small_demo, raw)
    wave_file = raw / "innbyggerpanel_bolge02.sav"
    data, meta = pyreadstat.read_sav(str(wave_file), user_missing=True)
    data.loc[[3, 7], "vekt_design"] = float("nan")
    pyreadstat.write_sav(
        data, str(wave_file), column_labels=meta.column_labels, variable_value_labels=meta.variable_value_labels
    )
    ingest(raw, tmp_path / "out", ingest_settings)
    accounting = pd.read_csv(tmp_path / "out" / "row_accounting.csv").set_index("source_file")
    assert accounting.loc["innbyggerpanel_bolge02.sav", "rows_quarantined"] == 2
    quarantine = pd.read_parquet(tmp_path / "out" / "quarantine.parquet")
    assert sorted(quarantine["row_number"].astype(int)) == [4, 8]
    assert set(quarantine["column"]) == {"vekt_design"}
