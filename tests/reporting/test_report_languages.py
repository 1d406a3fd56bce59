"""Report languages: complete translations, no Norwegian in a Swedish report, language switch reruns only reports."""

from __future__ import annotations

import re

import pytest
import yaml
from report_run import pipeline_folder, snakemake, visible_text
from shared import REPO, small_workflow

from evaluation.rendering.engine import render_report
from evaluation.reporting.i18n import LANGUAGES, UNITS_VARIANT, Translator

TRANSLATIONS = yaml.safe_load((REPO / "reports" / "translations.yaml").read_text(encoding="utf-8"))
VARIABLES = yaml.safe_load((REPO / "config" / "variables.yaml").read_text(encoding="utf-8"))


def _labels() -> dict[str, dict[str, str]]:
    """Every translated text: translations.yaml, and labels and categories of config/variables.yaml."""
    labels = dict(TRANSLATIONS)
    labels |= {f"outcome {name}": spec["labels"] for name, spec in VARIABLES["outcomes"].items()}
    for name, spec in VARIABLES["group_variables"].items():
        labels[f"group {name}"] = spec["labels"]
        labels |= {f"group {name}={category}": words for category, words in spec["categories"].items()}
    return labels


def _words(lang: str) -> set[str]:
    return {w.lower() for text in _labels().values() for w in re.findall(r"\w+", re.sub(r"\{\w+\}", " ", text[lang]))}


def test_every_text_has_all_four_languages():
    incomplete = {
        key: sorted(set(LANGUAGES) - set(text)) for key, text in _labels().items() if set(text) != set(LANGUAGES)
    }
    assert not incomplete
    empty = [key for key, text in _labels().items() if not all(str(text[lang]).strip() for lang in LANGUAGES)]
    assert not empty


def test_placeholders_are_the_same_in_every_language():
    for key, text in TRANSLATIONS.items():
        names = {lang: set(re.findall(r"\{(\w+)\}", text[lang])) for lang in LANGUAGES}
        assert len({frozenset(n) for n in names.values()}) == 1, (key, names)


@pytest.fixture(scope="module")
def swedish_text(tmp_path_factory) -> str:
    """The programme report and the data-quality report rendered in Swedish from the shared run's results."""
    run = pipeline_folder(tmp_path_factory)
    out = tmp_path_factory.mktemp("sv")
    params = {
        "results": str(run / "data" / "processed" / "results"),
        "variables": str(REPO / "config" / "variables.yaml"),
        "lang": "sv",
        "demo": True,
    }
    texts = []
    for name in ("programme", "data_quality"):
        render_report(REPO / "reports" / f"{name}.qmd", params, out / f"{name}.html", None, engine="builtin")
        texts.append(visible_text((out / f"{name}.html").read_text(encoding="utf-8")))
    return " ".join(texts)


@pytest.mark.e2e
def test_swedish_report_has_no_norwegian_words(swedish_text):
    norwegian_only = _words("nb") - _words("sv") - _words("en")
    assert {"ikke", "valgdeltakelse", "forsøkskommuner", "sammendrag", "skjult"} <= norwegian_only
    words = re.sub(r"«[^»]*»", " ", swedish_text)  # quotes are citizens' own words, in the data's language
    found = sorted(w for w in set(re.findall(r"\w+", words.lower())) if w in norwegian_only)
    assert not found, found
    assert "Sammanfattning" in swedish_text and "procent" in swedish_text


@pytest.mark.e2e
def test_swedish_numbers_use_decimal_comma(swedish_text):
    assert re.search(r"\d,\d", swedish_text)
    assert not re.search(r"\b\d+\.\d+\b", re.sub(r"\b[0-9a-f]{7,}\b|\d+\.\d+\.\d+", "", swedish_text))


@pytest.mark.e2e
def test_switching_language_reruns_only_reports(tmp_path_factory):
    run = pipeline_folder(tmp_path_factory)
    config_path = run / "config" / "config.yaml"
    original = config_path.read_text(encoding="utf-8")
    config = yaml.safe_load(original)
    config["report"]["language"] = "sv"
    try:
        config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        result = snakemake(
            run, "-n", "--quiet=rules", "all", "reports/_output/sv/data_quality.pdf", "reports/_output/sv/methods.pdf"
        )
    finally:
        config_path.write_text(original, encoding="utf-8")
    assert result.returncode == 0, result.stderr[-3000:]
    rules = set(re.findall(r"^(\w+)\s+\d+$", result.stdout + result.stderr, flags=re.M)) - {"total"}
    # provenance records the config's hash, so a changed config file redoes it (cheap)
    assert rules <= {"all", "programme_report", "pilot_report", "appendix_report", "provenance"}, rules
    assert {"programme_report", "pilot_report", "appendix_report"} <= rules, rules


def test_every_units_variant_has_its_key_and_the_same_placeholders():
    for key, text in TRANSLATIONS.items():
        if not key.endswith(UNITS_VARIANT):
            continue
        base = key.removesuffix(UNITS_VARIANT)
        assert base in TRANSLATIONS, key
        for lang in LANGUAGES:
            assert set(re.findall(r"\{\w+\}", text[lang])) == set(re.findall(r"\{\w+\}", TRANSLATIONS[base][lang]))


def test_a_treated_unit_below_the_municipality_calls_the_pilots_areas(tmp_path):
    variables = REPO / "config" / "variables.yaml"
    for lang, municipal, area in [
        ("nb", "Forsøkskommuner", "Forsøksområder"),
        ("sv", "Försökskommuner", "Försöksområden"),
    ]:
        words = {"translations": REPO / "reports" / "translations.yaml", "variables": variables}
        assert Translator.load(lang, **words)("pilot") == municipal
        assert Translator.load(lang, **words, below_municipality=True)("pilot") == area
        assert (
            Translator.load(lang, **words, below_municipality=True)("wave") == TRANSLATIONS["wave"][lang]
        )  # no variant


def test_a_list_of_languages_renders_every_report_in_each(tmp_path):
    run = small_workflow(tmp_path / "two_languages", lang=["nb", "nn"])
    result = snakemake(run, "-n", "--quiet=rules", "all")
    assert result.returncode == 0, result.stderr[-3000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", result.stdout + result.stderr, flags=re.M))
    assert counts["programme_report"] == "2" and counts["appendix_report"] == "4", counts
    jobs = snakemake(run, "-n", "all")
    for lang in ("nb", "nn"):
        for report in ("programme", "methods", "data_quality"):
            assert f"reports/_output/{lang}/{report}.pdf" in jobs.stdout + jobs.stderr, (lang, report)
