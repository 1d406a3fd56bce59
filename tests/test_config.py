"""The config loader: schema defaults filled in one place, and errors that name the file and key."""

from __future__ import annotations

import copy

import pytest
from shared import REPO

from evaluation.config import complete_config, load_config, stage_settings
from evaluation.errors import ConfigError
from evaluation.schemas import load_yaml

CONFIG_FILE = REPO / "config" / "config.yaml"


@pytest.fixture
def raw_config(monkeypatch) -> dict:
    monkeypatch.chdir(REPO)
    return load_yaml(CONFIG_FILE)


def test_defaults_come_from_the_schema(raw_config):
    raw_config.pop("compare")
    raw_config["estimation"].pop("lonely_psu")
    raw_config["report"].pop("engine")
    config = complete_config(raw_config, CONFIG_FILE)
    assert config["compare"]["seed"] == 20261123
    assert config["compare"]["matching"] == {
        "method": "nearest",
        "n_neighbours": 3,
        "replacement": False,
        "variables": None,
    }
    assert config["estimation"]["lonely_psu"] == "adjust"
    assert config["report"]["engine"] == "auto"
    assert config["validation"]["rules"] == "config/validation.yaml"


def test_stage_settings_are_copies(monkeypatch):
    monkeypatch.chdir(REPO)
    config = load_config(CONFIG_FILE)
    settings = stage_settings(config, "validate")
    settings["validation"]["fail_on_quarantine_share"] = 1.0
    assert config["validation"]["fail_on_quarantine_share"] == 0.05


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["weighting"].update(trim=[5.0, 0.2]), r"weighting\.trim: \[5\.0, 0\.2\] must be \[lower, upper\]"),
        (
            lambda c: c["validation"]["field_periods"].update({"3": ["2020-03-31", "2020-03-01"]}),
            r"validation\.field_periods\.3: first interview day 2020-03-31 is after the last, 2020-03-01",
        ),
        (
            lambda c: c["estimation"]["group_variables"].append("income_decile"),
            r"estimation\.group_variables: 'income_decile' is not a group variable of config/variables\.yaml",
        ),
        (
            lambda c: c["weighting"]["margins"].append(["gender", "region"]),
            r"weighting\.margins\[3\]: 'region' is neither municipality_code nor a group variable",
        ),
        (lambda c: c["compare"].update(n_permutations=-1), r"at compare/n_permutations: -1 is less than the minimum"),
        (
            lambda c: c["report"].update(language="de"),
            r"at report/language: 'de' does not match '\^\(nb\|nn\|sv\|en\)\$'",
        ),
        (lambda c: c["report"].update(language=["nb", "de"]), r"at report/language/1: 'de' is not one of"),
        (
            lambda c: [c["sources"].pop(name) for name in ("turnout", "survey")],
            r"sources: nothing to compare; configure turnout, a survey or both",
        ),
        (
            lambda c: c["sources"].pop("margins"),
            r"sources\.margins: the survey is raked \(weighting\.method: rake\), so its margins file is needed",
        ),
        (
            lambda c: c["disclosure"].update(min_n=5),
            r"disclosure\.min_n: 5 is below 10; .* only with disclosure\.allow_min_n_below_10: true",
        ),
    ],
)
def test_config_errors_name_the_file_and_key(raw_config, change, message):
    config = copy.deepcopy(raw_config)
    change(config)
    with pytest.raises(ConfigError, match=message) as error:
        complete_config(config, CONFIG_FILE)
    assert str(CONFIG_FILE) in str(error.value)


def test_a_threshold_below_the_floor_needs_the_override(raw_config):
    raw_config["disclosure"] = {"min_n": 5, "allow_min_n_below_10": True}
    assert complete_config(raw_config, CONFIG_FILE)["disclosure"]["min_n"] == 5
    raw_config["disclosure"] = {"min_n": 10}
    assert complete_config(raw_config, CONFIG_FILE)["disclosure"]["allow_min_n_below_10"] is False
