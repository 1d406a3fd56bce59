"""Tests of the synthetic demo scenario (evaluation.demo.generate) against docs/data-contracts.md."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from evaluation.cli import main
from evaluation.demo.generate import DemoConfig, generate_demo
from evaluation.errors import ConfigError

SMALL = DemoConfig(n_municipalities=20, n_pilots=6, respondents_per_wave=600)
CSV_FILES = ("area_register.csv", "valgdeltakelse_stemmekretser.csv", "befolkning_marginer.csv")
AREA_COLUMNS = [
    "area_code",
    "area_name",
    "municipality_code",
    "municipality_name",
    "role",
    "pilot_start",
    "pilot_type",
    "cohort",
    "population",
    "share_higher_education",
    "median_income",
    "share_immigrant",
]
TURNOUT_COLUMNS = [
    "Kommunenummer",
    "Kommunenavn",
    "Stemmekretsnummer",
    "Stemmekretsnavn",
    "Valgtype",
    "Valgår",
    "Antall stemmeberettigede",
    "Antall forhåndsstemmer",
    "Antall valgtingsstemmer",
    "Antall stemmer totalt",
    "Oppmøteprosent",
]
MARGIN_COLUMNS = ["margin", "municipality_code", "gender", "age_group", "education", "population"]
BACKGROUND = [
    "Resp_ID",
    "kommune",
    "intervjudato",
    "vekt_design",
    "kjonn",
    "fodselsar",
    "utdanning",
    "inntekt_desil",
    "innvandrerbakgrunn",
]
PARTICIPATION = [
    "delt_stemte_lokalvalg",
    "delt_kontaktet_politiker",
    "delt_folkemote",
    "delt_hoering_budsjett",
    "delt_underskrift",
]
EARLY_TRUST = ["tillit_lokalpolitikere", "tillit_kommunestyret", "tillit_administrasjonen"]
LATE_TRUST = ["k12a", "k12b", "k12c"]
SATISFACTION = "tilfredshet_lokaldemokrati"


def items(wave: int) -> list[str]:
    return [*PARTICIPATION, *(EARLY_TRUST if wave <= 5 else LATE_TRUST), SATISFACTION]


def read_text(path: Path, sep: str = ",") -> pd.DataFrame:
    return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8")


def read_wave(directory: Path, wave: int, user_missing: bool = True) -> tuple[pd.DataFrame, object]:
    return pyreadstat.read_sav(directory / f"innbyggerpanel_bolge{wave:02d}.sav", user_missing=user_missing)


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("small")
    return out, generate_demo(out, SMALL)


@pytest.fixture(scope="module")
def small_again(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("small_again")
    return out, generate_demo(out, SMALL)


@pytest.fixture(scope="module")
def default(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("default")
    return out, generate_demo(out)


def test_files_have_contract_columns(small):
    out, _ = small
    assert list(read_text(out / "area_register.csv").columns) == AREA_COLUMNS
    assert list(read_text(out / "valgdeltakelse_stemmekretser.csv", sep=";").columns) == TURNOUT_COLUMNS
    assert list(read_text(out / "befolkning_marginer.csv").columns) == MARGIN_COLUMNS
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    assert {"seed", "config", "pilots", "turnout", "survey", "population_values"} <= set(truth)
    for wave in range(1, SMALL.n_waves + 1):
        data, _ = read_wave(out, wave)
        assert list(data.columns) == BACKGROUND + items(wave)


def test_codes_and_categories_follow_contract(small):
    out, _ = small
    areas = read_text(out / "area_register.csv")
    assert areas["municipality_code"].str.fullmatch(r"\d{4}").all()
    assert (areas["area_code"].str.len() == 8).all()
    assert (areas["area_code"].str[:4] == areas["municipality_code"]).all()
    assert set(areas["role"]) == {"pilot", "control"}
    controls = areas[areas["role"] == "control"]
    assert (controls[["pilot_start", "pilot_type", "cohort"]] == "").all().all()
    pilots = areas[areas["role"] == "pilot"]
    assert set(pilots["pilot_type"]) <= {"citizen_panel", "participatory_budgeting", "youth_council"}
    assert (pilots["cohort"] == pilots["pilot_start"].str[:4]).all()
    margins = read_text(out / "befolkning_marginer.csv")
    gender_age = margins[margins["margin"] == "gender_age"]
    education = margins[margins["margin"] == "education"]
    assert set(gender_age["gender"]) == {"male", "female"} and (gender_age["education"] == "").all()
    assert set(gender_age["age_group"]) == {"18-29", "30-44", "45-59", "60+"}
    assert set(education["education"]) == {"compulsory", "upper_secondary", "higher"}
    assert (education[["gender", "age_group"]] == "").all().all()


def test_margins_and_weights_add_up_to_register_population(small):
    out, _ = small
    register = read_text(out / "area_register.csv").astype({"population": int})
    adults = register.groupby("municipality_code")["population"].sum()
    margins = read_text(out / "befolkning_marginer.csv").astype({"population": int})
    for _, margin in margins.groupby("margin"):
        pd.testing.assert_series_equal(margin.groupby("municipality_code")["population"].sum(), adults)
    data, _ = read_wave(out, 3)
    weighted = data.groupby("kommune")["vekt_design"].sum()
    np.testing.assert_allclose(weighted.to_numpy(), adults.loc[weighted.index].to_numpy())


def test_same_seed_gives_identical_files(small, small_again):
    (first, truth_first), (second, truth_second) = small, small_again
    for name in (*CSV_FILES, "truth.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert truth_first == truth_second
    for wave in (1, SMALL.n_waves):
        pd.testing.assert_frame_equal(read_wave(first, wave)[0], read_wave(second, wave)[0])


def test_other_seed_differs_and_cli_works(small, tmp_path):
    out = tmp_path / "cli"
    settings = {
        "enabled": True,
        "scale": "demo",
        "seed": 7,
        "municipalities": 20,
        "pilots": 6,
        "respondents_per_wave": 600,
        "waves": 3,
    }
    assert main(["demo", "--out", str(out), "--settings", json.dumps(settings)]) == 0
    assert sorted(p.name for p in out.glob("*.sav")) == [f"innbyggerpanel_bolge0{w}.sav" for w in (1, 2, 3)]
    for name in CSV_FILES:
        assert (out / name).read_bytes() != (small[0] / name).read_bytes(), name


def test_spss_labels_and_user_missing_survive(small):
    out, _ = small
    for wave in (1, 6):
        data, meta = read_wave(out, wave)
        for name in items(wave):
            assert meta.missing_ranges[name] == [{"lo": 97.0, "hi": 97.0}, {"lo": 98.0, "hi": 98.0}]
            assert meta.variable_value_labels[name][97] == "Vet ikke"
            assert meta.variable_value_labels[name][98] == "Vil ikke svare"
            assert meta.column_names_to_labels[name]
            assert {97.0, 98.0} <= set(data[name].unique())
        assert meta.variable_value_labels["kjonn"] == {1: "Mann", 2: "Kvinne"}
        assert meta.variable_value_labels["utdanning"][3] == "Universitet/høyskole"
        assert meta.variable_value_labels[items(wave)[5]][10] == "Full tillit"
        assert isinstance(data["intervjudato"].iloc[0], dt.date)
        plain, _ = read_wave(out, wave, user_missing=False)
        trust = items(wave)[5]
        assert plain[trust].isna().mean() == pytest.approx(0.03, abs=0.015)
        assert plain[trust].dropna().between(0, 10).all()
        assert plain[SATISFACTION].dropna().between(1, 4).all()


def test_interview_dates_follow_wave_calendar(small):
    out, _ = small
    for wave, (year, month) in {1: (2019, 3), 2: (2019, 10), 5: (2021, 3), 10: (2023, 10)}.items():
        dates = pd.to_datetime(read_wave(out, wave)[0]["intervjudato"])
        assert (dates.dt.year == year).all() and (dates.dt.month == month).all()


def test_turnout_is_valid(small):
    out, _ = small
    turnout = read_text(out / "valgdeltakelse_stemmekretser.csv", sep=";")
    counts = turnout[TURNOUT_COLUMNS[6:10]].astype(int)
    eligible, advance, day, total = (counts[c] for c in TURNOUT_COLUMNS[6:10])
    assert (total <= eligible).all() and (total == advance + day).all()
    rate = total / eligible
    assert ((rate > 0) & (rate < 1)).all()
    percent = turnout["Oppmøteprosent"].str.replace(",", ".").astype(float)
    assert turnout["Oppmøteprosent"].str.fullmatch(r"\d{1,3},\d").all()
    np.testing.assert_allclose(percent, 100 * rate, atol=0.051)
    years = turnout.groupby("Valgtype")["Valgår"].unique().map(lambda v: sorted(v.tolist()))
    assert years["Kommunestyre- og fylkestingsvalg"] == ["2011", "2015", "2019", "2023"]
    assert years["Stortingsvalg"] == ["2013", "2017", "2021"]
    assert turnout["Stemmekretsnummer"].str.fullmatch(r"\d{4}").all()


def test_pilots_and_cohorts(small, default):
    for (out, truth), config, per_cohort in (
        (small, SMALL, {"2019": 3, "2021": 3}),
        (default, DemoConfig(), {"2019": 4, "2021": 3}),
    ):
        areas = read_text(out / "area_register.csv")
        pilots = areas[areas["role"] == "pilot"].drop_duplicates("municipality_code")
        assert len(pilots) == config.n_pilots == len(truth["pilots"])
        assert pilots["cohort"].value_counts().to_dict() == per_cohort
        assert set(pilots["pilot_start"]) == {"2019-08-01", "2021-08-01"}
        assert sorted(p["municipality_code"] for p in truth["pilots"]) == sorted(pilots["municipality_code"])


def test_naive_did_recovers_turnout_effect(default):
    """Local elections, cohort 2019 vs controls, 2019+2023 vs 2011+2015: mean district turnout."""
    out, truth = default
    areas = read_text(out / "area_register.csv")
    turnout = read_text(out / "valgdeltakelse_stemmekretser.csv", sep=";")
    turnout["area_code"] = turnout["Kommunenummer"] + turnout["Stemmekretsnummer"]
    turnout["rate"] = turnout["Antall stemmer totalt"].astype(int) / turnout["Antall stemmeberettigede"].astype(int)
    local = turnout[turnout["Valgtype"] == "Kommunestyre- og fylkestingsvalg"].merge(areas, on="area_code")
    local = local[local["cohort"] != "2021"]
    means = local.groupby([local["cohort"] == "2019", local["Valgår"] >= "2019"])["rate"].mean()
    did_pp = 100 * ((means[True, True] - means[True, False]) - (means[False, True] - means[False, False]))
    cutoff = truth["turnout"]["low_education_third"]["cutoff_share"]
    cohort = areas[areas["cohort"] == "2019"]
    expected_pp = np.where(
        cohort["share_higher_education"].astype(float) <= cutoff,
        truth["turnout"]["effect_pp_low_education_third"],
        truth["turnout"]["effect_pp"],
    ).mean()
    assert abs(did_pp - expected_pp) < 1.0
    assert 2.5 <= truth["turnout"]["realised_att_pp"] <= 4.0


def test_survey_truth_is_consistent(default):
    _, truth = default
    outcomes = truth["survey"]["outcomes"]
    assert truth["survey"]["placebo_outcome"] == "signed_petition"
    assert outcomes["signed_petition"]["realised_att_pp"] == 0.0
    trust = outcomes["trust_local_politicians"]
    assert 0.3 < trust["realised_att_scale_points"] < 0.5
    assert trust["realised_att_by_education_scale_points"]["compulsory"] == pytest.approx(0.7, abs=0.1)
    assert outcomes["took_part_consultation"]["realised_att_pp"] == pytest.approx(5.0, abs=1.5)
    wave_two = truth["population_values"]["trust_local_politicians"]["by_wave"][1]
    assert wave_two["att_among_treated_adults_scale_points"] == pytest.approx(0.4, abs=0.05)
    assert truth["population_values"]["voted_local"]["by_wave"][0]["att_among_treated_adults_pp"] is None


def test_unweighted_panel_overrepresents_higher_education(small):
    out, _ = small
    margins = read_text(out / "befolkning_marginer.csv").astype({"population": int})
    education = margins[margins["margin"] == "education"].groupby("education")["population"].sum()
    data, _ = read_wave(out, 1)
    assert (data["utdanning"] == 3).mean() > education["higher"] / education.sum() + 0.05


def test_wave_sizes_and_panel_overlap(small):
    out, _ = small
    ids = [set(read_wave(out, wave)[0]["Resp_ID"]) for wave in range(1, SMALL.n_waves + 1)]
    for wave_ids in ids:
        assert abs(len(wave_ids) - SMALL.respondents_per_wave) <= 0.05 * SMALL.respondents_per_wave
    for previous, current in zip(ids, ids[1:]):
        assert 0.7 <= len(previous & current) / len(previous) <= 0.9


def test_invalid_config_raises(tmp_path):
    with pytest.raises(ConfigError, match="n_pilots"):
        generate_demo(tmp_path, DemoConfig(n_pilots=1))
    with pytest.raises(ConfigError, match="respondents_per_wave"):
        generate_demo(tmp_path, DemoConfig(respondents_per_wave=900))
