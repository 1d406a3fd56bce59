"""Report helpers: wording, locale formatting, disclosure control and tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from shared import REPO

from evaluation.errors import ConfigError
from evaluation.estimation.disclosure import suppress_small_cells
from evaluation.reporting.i18n import LANGUAGES, Translator
from evaluation.reporting.tables import WIDE_COLUMN, WORD_ROOM, markdown_table
from evaluation.reporting.text import effect_sentence


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


def test_numbers_keep_python_rounding_signs_and_grouping():
    nb, en = translator("nb"), translator("en")
    assert nb.number(1234567.891, 0) == "1\u00a0234\u00a0568"
    assert nb.number(0.5, 2, signed=True) == "+0,50"
    assert nb.number(-0.04, 1) == "\u22120,0"  # rounds to zero, still negative
    assert nb.number(2.675, 2) == "2,67"  # the float 2.675 is below 2.675, as f"{2.675:.2f}" rounds it
    assert en.number(-1234.5, 1, signed=True) == "\u22121,234.5"
    assert translator("sv").number(1000, 0) == "1\u00a0000"


def test_effect_sentence_says_we_cannot_tell_when_the_interval_spans_zero():
    t = translator("en")
    unclear = effect_sentence(t, "Turnout", "the pilots", 0.8, -0.3, 2.1, "unit_pp")
    assert unclear.startswith("We cannot tell whether the pilot changed turnout")
    assert "includes zero" in unclear
    up = effect_sentence(t, "Turnout", "the pilots", 2.1, 0.4, 3.8, "unit_pp")
    assert (
        up
        == "Turnout rose 2.1 percentage points more in the pilots than in comparable municipalities (95 % interval 0.4 to 3.8)."
    )
    down = effect_sentence(translator("nb"), "Valgdeltakelsen", "Fjellvik", -1.5, -2.5, -0.5, "unit_pp")
    assert down.startswith("Valgdeltakelsen falt 1,5 prosentpoeng mer i Fjellvik")


def test_effect_sentence_never_shows_a_bound_that_excludes_zero_as_zero():
    t = translator("en")
    small = effect_sentence(t, "Trust", "the pilots", 0.12, 0.031, 0.21, "unit_scale")
    assert "rose 0.12" in small and "(95 % interval 0.03 to 0.21)" in small
    unclear = effect_sentence(t, "Trust", "the pilots", 0.2, -0.004, 0.5, "unit_scale")
    assert "\u22120.004 to 0.500" in unclear
    assert "(95 % interval 0.4 to 3.8)" in effect_sentence(t, "Turnout", "the pilots", 2.1, 0.4, 3.8, "unit_pp")


def test_unknown_language_is_a_config_error():
    with pytest.raises(ConfigError, match="'de' is not one of"):
        translator("de")


def test_small_cells_are_suppressed():
    table = pd.DataFrame(
        {
            "estimate": [5.0, 6.0],
            "se": [0.1, 0.2],
            "ci_low": [4.8, 5.6],
            "ci_high": [5.2, 6.4],
            "n": [19, 20],
            "deff": [1.1, 1.2],
        }
    )
    result = suppress_small_cells(table, min_n=20)
    assert result["suppressed"].tolist() == [True, False]
    assert np.isnan(result.loc[0, ["estimate", "se", "ci_low", "ci_high", "deff"]].astype(float)).all()
    assert pd.isna(result.loc[0, "n"]) and result.loc[1, "n"] == 20
    assert table.loc[0, "estimate"] == 5.0  # input left untouched


def test_markdown_table_escapes_pipes_and_sizes_columns():
    text = markdown_table(pd.DataFrame({"a": ["x|y"], "long column": [1]}))
    assert text.splitlines() == ["| a    |   long column |", "|:--------|------------:|", "| x\\|y |             1 |"]


def test_markdown_table_of_nothing_is_empty():
    assert markdown_table(pd.DataFrame()) == "\n"
    assert markdown_table(pd.DataFrame(columns=["a"])).splitlines() == ["| a   |", "|:-----|"]


def test_markdown_table_widths_let_long_text_wrap_and_header_words_fit():
    """The separator's dashes (pandoc's relative widths): at most WIDE_COLUMN, at least the longest word + room."""
    text = markdown_table(pd.DataFrame({"Tema": ["skule og barnehage " * 5], "Samanlikning før": ["20"]}))
    text_column, number_column = text.splitlines()[1].strip("|").split("|")
    assert len(text_column) == 2 + WIDE_COLUMN
    assert len(number_column) == 2 + len("Samanlikning før")
    _, narrow = markdown_table(pd.DataFrame({"x": ["1"], "Forsøk": ["2"]})).splitlines()[1].strip("|").split("|")
    assert len(narrow) == 2 + len("Forsøk") + WORD_ROOM


def test_markdown_table_keeps_cells_as_formatted():
    text = markdown_table(pd.DataFrame({"code": ["0301"], "share": ["1.50"], "n": ["12\u00a0345"]}), "lcr")
    assert text.splitlines()[1:] == ["|:--------|:--------:|----------:|", "| 0301   |  1.50   | 12\u00a0345 |"]


def test_percent_in_words():
    assert translator("nb").percent(12.5) == "12,5\u00a0prosent"
    assert translator("sv").percent(3) == "3,0\u00a0procent"
    assert translator("en").percent(3) == "3.0\u00a0per cent"


def test_tick_labels_follow_the_locale():
    import matplotlib.pyplot as plt

    from evaluation.reporting.figures import localise_ticks, series_with_intervals

    fig, ax = plt.subplots()
    series_with_intervals(
        ax, pd.DataFrame({"year": [2019, 2020, 2021], "estimate": [0.25, 0.5, 1.0]}), "year", "", "#000000"
    )
    localise_ticks(fig, translator("nb").number)
    labels = [label.get_text() for label in ax.get_yticklabels()]
    assert "0,5" in labels and not any("." in label for label in labels)
    assert not any("\u00a0" in label.get_text() for label in ax.get_xticklabels())  # years keep no separator
    plt.close(fig)


def test_data_quality_counts_hold_no_row_level_values():
    from evaluation.stages.data_quality import check_counts, nonresponse_counts, quarantine_counts

    quarantine = pd.DataFrame(
        {
            "stage": ["ingest", "validate", "validate"],
            "value": ["IP0000452", "14", "14"],
            "reason": [
                "crosswalk.split: municipality_code 1507 was split (1577 0.40)",
                "survey.trust.range: value outside 0-10",
                "survey.trust.range: value outside 0-10",
            ],
        }
    )
    counts = quarantine_counts(quarantine)
    assert set(counts["item"]) == {"crosswalk.split", "survey.trust.range"}
    assert counts.set_index("item")["count"].to_dict() == {"crosswalk.split": 1, "survey.trust.range": 2}
    assert not counts.astype(str).apply(lambda c: c.str.contains("IP0000452|1507")).any().any()
    summary = {
        "tables": {
            "survey": {
                "checks": [
                    {"severity": "fail", "success": True},
                    {"severity": "warn", "success": False},
                    {"severity": "quarantine", "success": False},
                ]
            }
        }
    }
    checks = check_counts(summary).set_index("item")["count"]
    assert (
        checks["checks_run"],
        checks["checks_passed"],
        checks["checks_warned"],
        checks["checks_quarantined"],
        checks["checks_failed"],
    ) == (3, 1, 1, 1, 0)
    missing = nonresponse_counts(
        pd.DataFrame(
            {
                "respondent_id": ["a", "b", "c"],
                "variable": ["trust", "trust", "voted"],
                "reason": ["refused", "refused", "dont_know"],
            }
        ),
        100,
    )
    assert "respondent_id" not in missing and missing["count"].sum() == 3 and (missing["total"] == 100).all()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_masked_values_appendix_names_table_variable_and_reason(lang):
    from evaluation.reporting.appendices import masked_section
    from evaluation.reporting.context import ReportContext
    from evaluation.stages.data_quality import masked_counts

    masked = pd.DataFrame(
        {
            "table": ["areas", "areas", "turnout"],
            "source_file": ["omrader.csv"] * 2 + ["valg.csv"],
            "source_row": [4, 9, 2],
            "variable": ["share_higher_education", "share_higher_education", "votes_cast"],
            "reason": ["suppressed_confidential"] * 2 + ["suppressed_nil"],
        }
    )
    t = translator(lang)
    ctx = ReportContext(t=t, tables={"data_quality": masked_counts(masked)}, provenance={}, min_n=20, demo=True)
    text = masked_section(ctx)
    assert text.startswith(f"## {t('masked_heading')}")
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in text.splitlines() if line.startswith("|")]
    assert [f"{t('table_areas')}: `share_higher_education`", t("reason_suppressed_confidential"), "2"] in rows
    assert [f"{t('table_turnout')}: `votes_cast`", t("reason_suppressed_nil"), "1"] in rows
    assert "omrader.csv" not in text and "| 4 " not in text  # no file names or row numbers


def test_no_masked_values_no_appendix_section():
    from evaluation.reporting.appendices import masked_section
    from evaluation.reporting.context import ReportContext

    quality = pd.DataFrame(columns=["section", "source", "item", "count", "total"])
    ctx = ReportContext(t=translator("en"), tables={"data_quality": quality}, provenance={}, min_n=20, demo=True)
    assert masked_section(ctx) == ""


@pytest.mark.parametrize("lang", LANGUAGES)
def test_methods_appendix_names_a_threshold_below_the_floor(lang):
    from evaluation.reporting.appendices import disclosure_section
    from evaluation.reporting.context import ReportContext

    t = translator(lang)

    def section(min_n: int) -> str:
        return disclosure_section(ReportContext(t=t, tables={}, provenance={}, min_n=min_n, demo=True))

    assert "allow_min_n_below_10" in section(5) and t.number(5, 0) in section(5)
    assert "allow_min_n_below_10" not in section(10)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_balance_table_in_the_methods_appendix(lang):
    from evaluation.reporting.appendices import balance_section
    from evaluation.reporting.context import SOURCE_TABLES, ReportContext

    rows = []
    for sample, mean_control, smd, n_controls in (("all_controls", 0.25, 0.3, 40), ("matched", 0.28, 0.05, 12)):
        rows.append(
            dict(
                variable="share_higher_education",
                sample=sample,
                method="nearest",
                mean_pilot=0.3,
                mean_control=mean_control,
                smd=smd,
                n_pilots=4,
                n_controls=n_controls,
            )
        )
    t = translator(lang)
    tables = {name: pd.DataFrame() for name in SOURCE_TABLES["turnout"]} | {"balance": pd.DataFrame(rows)}
    text = balance_section(ReportContext(t=t, tables=tables, provenance={}, min_n=20, demo=True))
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines() if line.startswith("|")]
    assert cells[-1] == [
        t("balance_share_higher_education"),
        t.number(0.3, 2),
        t.number(0.25, 2),
        t.number(0.3, 2, signed=True),
        t.number(0.28, 2),
        t.number(0.05, 2, signed=True),
    ]
    assert t.number(12, 0) in text and t("balance_heading") in text
    without_turnout = ReportContext(t=t, tables={}, provenance={}, min_n=20, demo=True)
    assert balance_section(without_turnout) == ""
    unmatched = ReportContext(
        t=t, tables=tables | {"balance": pd.DataFrame(columns=rows[0])}, provenance={}, min_n=20, demo=True
    )
    assert balance_section(unmatched) == ""  # too few controls to match: no table


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_interval_that_disagrees_with_its_p_value_is_marked(lang):
    """A per-pilot interval excluding zero next to p = 0.056 is marked and explained, never printed bare."""
    from evaluation.reporting.context import ReportContext
    from evaluation.reporting.headline import headline_section
    from evaluation.reporting.sections import DISAGREE_MARK, methods_section

    base = dict(outcome="turnout", sample="0301", method="twfe", inference="permutation", suppressed=False)
    base |= dict(se=0.8, n_clusters=40, n_treated_clusters=1)
    effects = pd.DataFrame(
        [
            {**base, "estimand": "att_turnout", "estimate": 2.0, "ci_low": 0.4, "ci_high": 3.5, "p_value": 0.0556},
            {**base, "estimand": "att_turnout_type_youth_council", "estimate": 1.0, "ci_low": -0.5, "ci_high": 2.5}
            | {"p_value": 0.3},
        ]
    )
    t = translator(lang)
    tables = {
        "pilot_effects": effects,
        "pilots": pd.DataFrame(
            {"unit_code": ["0301"], "unit_name": ["Oslo"], "municipality_code": ["0301"], "municipality_name": ["Oslo"]}
            | {"cohort": [2019]}
        ),
        **_turnout_tables(),
    }
    ctx = ReportContext(t=t, tables=tables, provenance={"settings": {"level": 0.95}}, min_n=20, demo=True)
    table = methods_section(ctx, "0301")
    assert table.count(DISAGREE_MARK) == 2  # the marked cell and its note
    assert t("interval_p_disagree", alpha=t.number(0.05, 2)) in table
    summary = headline_section(ctx, "0301")
    assert f"{DISAGREE_MARK}\n" in summary and t("interval_p_disagree", alpha=t.number(0.05, 2)) in summary
    assert f"{t('verdict_rose')} {DISAGREE_MARK}" in summary  # the verdict in the headline table is marked too
    assert t("mde_note_turnout_one") in summary and t.number(1.9, 1) in summary  # the power row of one pilot
    agreeing = effects.assign(p_value=[0.01, 0.3])
    ctx = ReportContext(
        t=t, tables=tables | {"pilot_effects": agreeing}, provenance=ctx.provenance, min_n=20, demo=True
    )
    assert DISAGREE_MARK not in methods_section(ctx, "0301") + headline_section(ctx, "0301")


def _turnout_tables() -> dict[str, pd.DataFrame]:
    """The turnout result tables a headline needs (``ctx.has("turnout")``): two elections, a power table."""
    trends = pd.DataFrame(
        {
            "sample": ["0301", "0301", "programme", "programme"],
            "role": ["pilot", "pilot", "control", "control"],
            "election_type": ["local", "parliamentary"] * 2,
            "election_year": [2015, 2017] * 2,
        }
    )
    power = pd.DataFrame(
        {"n_pilots": [1, 3], "mde": [1.9, 1.1], "alpha": [0.05, 0.05], "power": [0.8, 0.8], "outcome": "turnout"}
    )
    return {
        "turnout_trends": trends,
        "power": power,
        "placebo_size": pd.DataFrame(),
        "balance": pd.DataFrame(),
        "sensitivity": pd.DataFrame(),
    }


def _headline_context(
    lang: str, rows: list[dict], power: pd.DataFrame | None = None, turnout: bool = True, survey: bool = True
):
    """A programme context with the given effect rows (permutation inference), 7 pilots of 60 municipalities."""
    from evaluation.reporting.context import ReportContext

    base = dict(sample="programme", method="twfe", inference="permutation", n_clusters=60, n_treated_clusters=7)
    effects = pd.DataFrame([{**base, "estimand": f"att_{r['outcome']}", **r} for r in rows])
    survey_tables = {
        "estimates": pd.DataFrame({"wave": [1, 2, 3]}),
        "gaps": pd.DataFrame(),
        "adjusted_gaps": pd.DataFrame(),
        "weighting_summary": pd.DataFrame(),
    }
    turnout_tables = _turnout_tables() if turnout else {}
    if power is not None:
        turnout_tables["power"] = power
    tables = {
        "effects": effects,
        "pilots": pd.DataFrame({"municipality_code": [f"9{i}" for i in range(7)], "cohort": [2019] * 4 + [2021] * 3}),
        **(survey_tables if survey else {}),
        **turnout_tables,
    }
    return ReportContext(
        t=translator(lang),
        tables=tables,
        provenance={"settings": {"level": 0.95}},
        min_n=20,
        demo=False,
        headline_outcomes=("trust_local_politicians", "took_part_consultation"),
    )


HEADLINE_ROWS = [
    {"outcome": "turnout", "estimate": 3.5, "se": 0.6, "ci_low": 2.8, "ci_high": 4.1, "p_value": 0.001},
    {"outcome": "trust_local_politicians", "estimate": -0.3, "se": 0.1, "ci_low": -0.5, "ci_high": -0.1}
    | {"p_value": 0.01},
    {"outcome": "took_part_consultation", "estimate": 1.0, "se": 2.5, "ci_low": -4.0, "ci_high": 6.0, "p_value": 0.7},
]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_headline_table_gives_verdict_and_smallest_detectable_change(lang):
    from evaluation.reporting.headline import headline_rows, headline_section

    ctx = _headline_context(lang, HEADLINE_ROWS)
    rows = headline_rows(ctx, "programme").set_index("outcome")
    assert list(rows.index) == ["turnout", "trust_local_politicians", "took_part_consultation"]
    assert list(rows["verdict"]) == ["rose", "fell", "no_detectable_change"]
    # turnout: the power table's MDE for 3 pilots, the largest size not above the 7 treated; survey: 2.8 SE
    assert rows.loc["turnout", "mde"] == 1.1 and rows.loc["turnout", "mde_source"] == "power:3"
    assert rows.loc["took_part_consultation", "mde"] == pytest.approx(7.0)
    assert rows.loc["trust_local_politicians", "mde"] == pytest.approx(0.28)
    t = ctx.t
    text = headline_section(ctx, "programme")
    for verdict in ("rose", "fell", "no_detectable_change"):
        assert f"| {t('verdict_' + verdict)}" in text
    assert t("mde_note_turnout", k="3") in text and t("mde_note_survey", m=t.number(2.8, 1)) in text
    assert t.number(7.0, 1) in text and t.number(0.28, 2) in text
    data = f"{t('design_turnout', k='2', first=2015, last=2017)} {t('and_word')} {t('design_survey', first=1, last=3)}"
    treated = t("design_treated_programme", n="7")
    assert t("design_line", treated=treated, starts=f"2019 {t('and_word')} 2021", controls="53", data=data) in text
    assert text.count("\n- ") == 3  # one sentence per headline outcome, below the table
    assert text.index(t("design_line", treated=treated, starts="", controls="", data="")[:5]) < text.index("| ")
    assert text.index(t("table_headline_cap", where=t("where_programme"))) < text.index("\n- ")


def test_headline_without_turnout_has_no_turnout_row_or_power_note():
    from evaluation.reporting.headline import headline_section

    ctx = _headline_context("en", HEADLINE_ROWS[1:], turnout=False)
    text = headline_section(ctx, "programme")
    assert "Turnout" not in text and "power.csv" not in text and "elections" not in text
    assert "Trust in local politicians" in text and "waves 1–3" in text


def test_headline_suppressed_outcome_shows_no_numbers():
    from evaluation.reporting.headline import headline_section
    from evaluation.reporting.sections import programme_summary

    rows = [HEADLINE_ROWS[0], {"outcome": "took_part_consultation", "suppressed": True}]
    ctx = _headline_context("en", rows)
    text = headline_section(ctx, "programme")
    line = next(line for line in text.splitlines() if line.startswith("| Took part"))
    assert "not shown" in line and not any(ch.isdigit() for ch in line.split("|", 2)[2])
    assert "fewer than 20 respondents" in text
    assert "Took part" not in programme_summary(ctx)  # said once, in the headline


def test_headline_refuses_a_power_table_of_another_level():
    from evaluation.errors import RenderError
    from evaluation.reporting.headline import headline_section

    power = pd.DataFrame(
        {"n_pilots": [1, 7], "mde": [1.9, 0.8], "alpha": [0.05, 0.1], "power": 0.8, "outcome": "turnout"}
    )
    with pytest.raises(RenderError, match=r"power.csv row 3: alpha 0.1"):
        headline_section(_headline_context("en", HEADLINE_ROWS, power=power), "programme")


def test_data_download_holds_published_values_only():
    import base64
    import io
    import re

    from evaluation.errors import RenderError
    from evaluation.reporting.downloads import data_block

    frame = pd.DataFrame(
        {
            "outcome": ["a", "a"],
            "wave": [1, 2],
            "estimate": [12.5, 99.0],  # the second row is suppressed: its value must not leave
            "n": [40, 3],
            "suppressed": [False, True],
        }
    )
    block = data_block(translator("en"), frame, "survey_a", {"estimates.csv": ["wave", "estimate", "n"]})
    link = re.search(r'<a href="data:text/csv;charset=utf-8;base64,([A-Za-z0-9+/=]+)" download="survey_a.csv"', block)
    csv = base64.b64decode(link[1]).decode("utf-8")
    assert "99" not in csv and ",3," not in csv
    assert "a,1,12.5,40,False\n" in csv and "a,2,,,True\n" in csv  # counts stay whole numbers
    back = pd.read_csv(io.StringIO(csv))
    assert back.loc[0, "estimate"] == 12.5 and back.loc[1, ["estimate", "n"]].isna().all()
    assert back.loc[1, "wave"] == 2  # the key of a suppressed row stays, so the reader sees it was withheld
    assert "Source: `estimates.csv` (`wave`, `estimate`, `n`)." in block
    assert "```{=html}" in block.split("Source:")[1]  # the link is HTML only, the source line is not
    with pytest.raises(RenderError, match="ci_low"):
        data_block(translator("en"), frame, "survey_a", {"estimates.csv": ["ci_low"]})


def test_headline_without_survey_has_turnout_only():
    from evaluation.reporting.headline import headline_section

    ctx = _headline_context("en", HEADLINE_ROWS, survey=False)
    text = headline_section(ctx, "programme")
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(table) == 2 and "Turnout" in table[1]  # header and the turnout row; survey effects are not headlines
    assert "citizen panel" not in text and "standard error" not in text
    assert "at 2 elections 2015–2017" in text


@pytest.mark.parametrize("to", ["html", "typst"])
def test_conditional_content_and_word_joiners_follow_the_format(to):
    """The Lua filter keeps HTML-only blocks (the CSV links) out of the PDF, and word joiners out of Typst."""
    import subprocess

    import pypandoc

    from evaluation.rendering.convert import LUA_FILTER

    markdown = (
        '::: {.content-visible when-format="html"}\nonly-in-html\n:::\n\n'
        '::: {.content-hidden when-format="html"}\nnever-in-html\n:::\n\n'
        '::: {.content-visible when-format="pdf"}\nonly-in-pdf\n:::\n\n'
        "1,2\u00a0–\u2060\u00a03,4\n"
    )
    command = [pypandoc.get_pandoc_path(), "--from=markdown", f"--to={to}", f"--lua-filter={LUA_FILTER}"]
    out = subprocess.run(command, input=markdown, capture_output=True, text=True, check=True).stdout
    html = to == "html"
    assert ("only-in-html" in out) == html and ("never-in-html" in out) != html and ("only-in-pdf" in out) != html
    assert ("\u2060" in out) == html and "3,4" in out
    assert "content-visible" not in out and "content-hidden" not in out
