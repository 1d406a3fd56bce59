"""Report helpers: wording, locale formatting, disclosure control and tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.disclosure import suppress_small_cells
from evaluation.errors import ConfigError
from evaluation.reporting.i18n import LANGUAGES, Translator
from evaluation.reporting.tables import markdown_table
from evaluation.reporting.text import effect_sentence

from shared import REPO


def translator(lang: str) -> Translator:
    return Translator.load(lang, REPO / "reports" / "translations.yaml", REPO / "config" / "variables.yaml")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_word_exists_in_every_language(lang):
    t = translator(lang)
    assert t("summary")
    assert t.outcome("trust_local_politicians")
    assert t.group("education", "compulsory")


def test_numbers_follow_the_locale():
    assert translator("nb").number(12345.678, 1) == "12\u00a0345,7"
    assert translator("sv").number(-0.25, 2) == "\u22120,25"
    assert translator("en").number(12345.678, 1) == "12,345.7"
    assert translator("nn").number(float("nan")) == "·"


def test_effect_sentence_says_we_cannot_tell_when_the_interval_spans_zero():
    t = translator("en")
    unclear = effect_sentence(t, "Turnout", "the pilots", 0.8, -0.3, 2.1, "unit_pp")
    assert unclear.startswith("We cannot tell whether the pilot changed turnout")
    assert "includes zero" in unclear
    up = effect_sentence(t, "Turnout", "the pilots", 2.1, 0.4, 3.8, "unit_pp")
    assert up == "Turnout rose 2.1 percentage points more in the pilots than in comparable municipalities (95 % interval 0.4 to 3.8)."
    down = effect_sentence(translator("nb"), "Valgdeltakelsen", "Fjellvik", -1.5, -2.5, -0.5, "unit_pp")
    assert down.startswith("Valgdeltakelsen falt 1,5 prosentpoeng mer i Fjellvik")


def test_unknown_language_is_a_config_error():
    with pytest.raises(ConfigError, match="'de' is not one of"):
        translator("de")


def test_small_cells_are_suppressed():
    table = pd.DataFrame({"estimate": [5.0, 6.0], "se": [0.1, 0.2], "ci_low": [4.8, 5.6], "ci_high": [5.2, 6.4], "n": [19, 20], "deff": [1.1, 1.2]})
    result = suppress_small_cells(table, min_n=20)
    assert result["suppressed"].tolist() == [True, False]
    assert np.isnan(result.loc[0, ["estimate", "se", "ci_low", "ci_high", "deff"]].astype(float)).all()
    assert pd.isna(result.loc[0, "n"]) and result.loc[1, "n"] == 20
    assert table.loc[0, "estimate"] == 5.0  # input left untouched


def test_markdown_table_escapes_pipes_and_sizes_columns():
    text = markdown_table(pd.DataFrame({"a": ["x|y"], "long column": [1]}))
    lines = text.splitlines()
    assert lines[2] == "| x\\|y | 1 |"
    assert lines[1] == "| :---- | -----------: |"
