"""Disclosure control, checked on what a reader gets: every rendered HTML and PDF report.

The small cells are recomputed here from the weighted survey with
:class:`evaluation.survey.SurveyDesign`, not read from the published table, so a
bug in the estimate stage or in a report cannot hide a leak.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
import yaml
from report_run import LANG, ensure_tools, pdf_text, pipeline_folder, reports, visible_text
from shared import REPO

from evaluation.estimation.disclosure import ESTIMATE_MARGINS, disclosure_control
from evaluation.reporting.i18n import Translator
from evaluation.survey import SurveyDesign

pytestmark = pytest.mark.e2e

MIN_N = 20
KEYS = ["outcome", "group_variable", "group", "area_type", "municipality_code", "wave"]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    return pipeline_folder(tmp_path_factory)


@pytest.fixture(scope="module")
def texts(run) -> dict[str, str]:
    """Visible text of every HTML report and extracted text of every PDF report."""
    ensure_tools("pdftotext")
    html = {p.name: visible_text(p.read_text(encoding="utf-8")) for p in reports(run, "html")}
    pdf = {p.name: pdf_text(p) for p in reports(run, "pdf")}
    return html | pdf


@pytest.fixture(scope="module")
def raw_cells(run) -> pd.DataFrame:
    """Every domain mean of the estimates table, unsuppressed, recomputed from the weighted survey."""
    processed = run / "data" / "processed"
    survey = pd.read_parquet(processed / "weighted" / "survey.parquet")
    roles = (
        pd.read_parquet(processed / "validated" / "areas.parquet")
        .drop_duplicates("municipality_code")
        .set_index("municipality_code")["role"]
    )
    area_type = survey["municipality_code"].map(roles)
    data = survey.assign(
        area_type=area_type, pilot=survey["municipality_code"].where(area_type == "pilot"), everyone="all"
    )
    design = SurveyDesign(data, weights="weight", strata="stratum", psu="psu", nest=True, lonely_psu="adjust")
    variables = yaml.safe_load((run / "config" / "variables.yaml").read_text(encoding="utf-8"))
    outcomes = list(variables["outcomes"])
    frames = []
    for group_variable in ["everyone", *variables["group_variables"]]:
        for area, municipality in (("area_type", None), ("everyone", None), ("pilot", "pilot")):
            table = design.mean(outcomes, by=["wave", area, group_variable])
            table = table.rename(columns={"variable": "outcome", group_variable: "group"})
            table["group_variable"] = "all" if group_variable == "everyone" else group_variable
            table["area_type"] = "municipality" if municipality else ("all" if area == "everyone" else table[area])
            table["municipality_code"] = table[area] if municipality else "all"
            frames.append(table)
    cells = pd.concat(frames, ignore_index=True)
    cells["group"] = cells["group"].astype(str).replace({"everyone": "all"})
    binary = cells["outcome"].map({k: v["kind"] == "binary" for k, v in variables["outcomes"].items()})
    for column in ("estimate", "ci_low", "ci_high"):
        cells.loc[binary, column] *= 100
    return cells[[*KEYS, "estimate", "ci_low", "ci_high", "n"]]


@pytest.fixture(scope="module")
def published(run) -> pd.DataFrame:
    return pd.read_csv(
        run / "data" / "processed" / "results" / "estimates.csv", dtype={"group": str, "municipality_code": str}
    )


def test_every_small_cell_is_suppressed_in_the_results(raw_cells, published):
    small = raw_cells[raw_cells["n"] < MIN_N]
    assert len(small), "the small demo should have small cells"
    merged = small.merge(published, on=KEYS, how="left", suffixes=("", "_published"))
    assert merged["suppressed"].all(), merged[~merged["suppressed"]].head()


def _single_hidden_parts(table: pd.DataFrame) -> list[str]:
    """Margins whose published total has exactly one hidden part (derivable by subtraction)."""
    exposed = []
    for margin in ESTIMATE_MARGINS:
        keys = list(margin.keys)
        totals = table[margin.is_total(table) & ~table["suppressed"]][keys]
        parts = table[margin.is_part(table)].merge(totals, on=keys)
        hidden = parts.groupby([*keys, *margin.split_by])["suppressed"].sum()
        exposed += [f"{margin.name}: {key}" for key in hidden[hidden == 1].index]
    return exposed


def test_no_published_total_exposes_a_single_hidden_part(published):
    """Secondary suppression: within every margin 0 or at least 2 parts are hidden (or the total is)."""
    assert _single_hidden_parts(published) == []


def test_no_figure_of_a_suppressed_cell_appears_in_any_report(raw_cells, published, texts):
    """Neither small cells nor their complements appear as "estimate (low – high)" in any HTML or PDF."""
    hidden = published.loc[published["suppressed"], KEYS]
    small = raw_cells[raw_cells["n"] < MIN_N][KEYS]
    forbidden_cells = raw_cells.merge(pd.concat([hidden, small]).drop_duplicates(), on=KEYS)
    t = Translator.load(LANG, REPO / "reports" / "translations.yaml", REPO / "config" / "variables.yaml")

    def cells(frame: pd.DataFrame) -> set[str]:
        return {
            f"{t.number(e)} ({t.number(lo)} – {t.number(hi)})"
            for e, lo, hi in frame[["estimate", "ci_low", "ci_high"]].dropna().itertuples(index=False)
        }

    # a hidden cell may by chance print exactly as a published one; that text is no leak
    forbidden = cells(forbidden_cells) - cells(published)
    assert len(forbidden) > 50
    for name, text in texts.items():
        leaks = [cell for cell in forbidden if cell in text]
        assert not leaks, f"{name} shows suppressed figures: {leaks[:5]}"


def test_group_tables_mark_every_suppressed_cell(run, raw_cells, published):
    """Each group table shows the mark wherever the cell is small or hidden by secondary suppression."""
    from lxml import html as lxml_html

    t = Translator.load(LANG, REPO / "reports" / "translations.yaml", REPO / "config" / "variables.yaml")
    latest = published["wave"].max()
    for path in reports(run, "html"):
        if not path.stem.startswith(("pilot_", "programme")):
            continue
        sample = path.stem.removeprefix("pilot_")
        rows = published[(published["wave"] == latest) & (published["group_variable"] != "all")]
        rows = rows[
            (rows["municipality_code"] == sample)
            if sample != "programme"
            else ((rows["area_type"] == "pilot") & (rows["municipality_code"] == "all"))
        ]
        small = raw_cells.merge(rows[KEYS], on=KEYS)
        expected = rows.merge(small[[*KEYS, "n"]], on=KEYS, how="left", suffixes=("", "_raw"))
        expected = expected[expected["suppressed"] | (expected["n_raw"] < MIN_N)]
        table = next(
            tb
            for tb in lxml_html.fromstring(path.read_text(encoding="utf-8")).iter("table")
            if t("group") in tb.text_content()
        )
        headers = [th.text_content().strip() for th in table.iter("th")]
        cells = {
            tr[0].text_content().strip(): [td.text_content().strip() for td in tr]
            for tr in table.iter("tr")
            if tr.find("td") is not None
        }
        for row in expected.itertuples():
            label = f"{t.group_variable(row.group_variable)}: {t.group(row.group_variable, row.group)}"
            column = t.outcome(row.outcome)
            if column in headers:
                assert cells[label][headers.index(column)] == t("suppressed_mark"), (path.name, label, column)


def test_no_microdata_in_any_report(run, texts):
    """No pseudonymised respondent id and no raw respondent id appears in any HTML (source or text) or PDF."""
    processed = run / "data" / "processed"
    ids = set()
    for path in processed.glob("*/survey.parquet"):
        ids |= set(pd.read_parquet(path, columns=["respondent_id"])["respondent_id"].astype(str))
    for path in (run / "data" / "raw" / "demo").glob("*.sav"):
        frame, _ = pyreadstat.read_sav(str(path), usecols=["Resp_ID"])
        ids |= set(frame["Resp_ID"].astype(str))
    assert len(ids) > 1000
    pattern = re.compile("|".join(map(re.escape, sorted(ids, key=len, reverse=True))))
    sources = {p.name + " (source)": p.read_text(encoding="utf-8") for p in reports(run, "html")}
    for name, text in (texts | sources).items():
        found = pattern.search(text)
        assert found is None, f"{name} contains the respondent id {found.group()}"


def test_secondary_suppression_hides_the_next_smallest_category():
    keys = dict(outcome="trust", area_type="all", municipality_code="all", wave=1)
    table = pd.DataFrame(
        [
            {**keys, "group_variable": "all", "group": "all", "n": 100},
            {**keys, "group_variable": "education", "group": "compulsory", "n": 12},
            {**keys, "group_variable": "education", "group": "upper_secondary", "n": 30},
            {**keys, "group_variable": "education", "group": "higher", "n": 58},
            {**keys, "group_variable": "gender", "group": "female", "n": 49},
            {**keys, "group_variable": "gender", "group": "male", "n": 51},
        ]
    ).assign(estimate=5.0, se=0.1, ci_low=4.8, ci_high=5.2, deff=1.0)
    result = disclosure_control(table, min_n=20)
    assert result["suppressed"].tolist() == [False, True, True, False, False, False]
    assert result.loc[2, ["estimate", "ci_low"]].isna().all() and pd.isna(result.loc[2, "n"])


def test_a_lone_hidden_part_beside_a_remainder_keeps_the_total():
    """Female 19 of 25, no other category: only female and the other 6 together (the total) can be derived."""
    keys = dict(outcome="trust", area_type="all", municipality_code="all", wave=1)
    table = pd.DataFrame(
        [
            {**keys, "group_variable": "all", "group": "all", "n": 25},
            {**keys, "group_variable": "gender", "group": "female", "n": 19},
        ]
    ).assign(estimate=5.0, se=0.1, ci_low=4.8, ci_high=5.2, deff=1.0)
    assert disclosure_control(table, min_n=20)["suppressed"].tolist() == [False, True]


def gender_table(areas: list[tuple[str, str, int, int, int | None]]) -> pd.DataFrame:
    """An estimates table of one outcome and wave: (area_type, code, n all, n female, n male or None) per area."""
    rows = []
    for area, code, n_all, n_female, n_male in areas:
        cells = [("all", "all", n_all), ("gender", "female", n_female)] + (
            [("gender", "male", n_male)] if n_male else []
        )
        for group_variable, group, n in cells:
            rows.append(
                {"outcome": "trust", "area_type": area, "municipality_code": code, "wave": 1}
                | {"group_variable": group_variable, "group": group, "n": n}
            )
    return pd.DataFrame(rows).assign(estimate=5.0, se=0.1, ci_low=4.8, ci_high=5.2, deff=1.0)


def test_a_lone_hidden_part_without_a_remainder_hides_its_total():
    """Everyone is female: a hidden female cell would equal its published total, so the total goes too."""
    table = gender_table(
        [("pilot", "all", 45, 45, None), ("municipality", "1", 12, 12, None), ("municipality", "2", 33, 33, None)]
    )
    result = disclosure_control(table, 20)
    # 1 (primary); 2 (the pilot margin); then each municipality's total, where female is its only part
    assert result["suppressed"].tolist() == [False, False, True, True, True, True]


def test_suppression_cascades_across_margins():
    """Hiding a pilot municipality's cell to protect another can expose a group category; that is hidden too."""
    table = gender_table(
        [
            ("pilot", "all", 200, 95, 105),
            ("municipality", "1", 60, 15, 45),
            ("municipality", "2", 70, 30, 40),
            ("municipality", "3", 70, 50, 20),
        ]
    )
    result = disclosure_control(table, 20)
    hidden = set(zip(result.loc[result["suppressed"], "municipality_code"], result.loc[result["suppressed"], "group"]))
    # female in 1 (primary); male in 1 (its category margin); female in 2 (smallest other female municipality)
    assert {("1", "female"), ("1", "male"), ("2", "female")} <= hidden
    assert _single_hidden_parts(result) == []
    assert np.isnan(result.loc[result["suppressed"], "estimate"]).all()


def test_gaps_are_published_only_with_both_groups(published, run):
    gaps = pd.read_csv(run / "data" / "processed" / "results" / "gaps.csv", dtype={"group_a": str, "group_b": str})
    cells = published[published["municipality_code"] == "all"].set_index(
        ["outcome", "group_variable", "group", "area_type", "wave"]
    )["suppressed"]
    for row in gaps.itertuples():
        either = (
            cells[(row.outcome, row.group_variable, row.group_a, row.area_type, row.wave)]
            or cells[(row.outcome, row.group_variable, row.group_b, row.area_type, row.wave)]
        )
        assert row.suppressed == either
        assert np.isnan(row.estimate) == either
