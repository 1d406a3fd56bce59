"""The uptake section's tables by topic and proposer group, from a small hand-made ``uptake.csv``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from shared import REPO

from evaluation.reporting.context import SOURCE_TABLES, ReportContext
from evaluation.reporting.i18n import LANGUAGES, NO_BREAK_SPACE, Translator
from evaluation.reporting.uptake import uptake_section

PILOT = "9101"
# (group_variable, group, role, period) -> n_decided, adopted_share, adopted_low, adopted_high; None = withheld
CELLS = {
    ("all", "all", "pilot", "before"): (320, 0.27, 0.22, 0.32),
    ("all", "all", "pilot", "after"): (354, 0.43, 0.38, 0.48),
    ("all", "all", "control", "before"): (1900, 0.29, 0.27, 0.31),
    ("all", "all", "control", "after"): (3145, 0.30, 0.29, 0.32),
    ("topic", "skole", "pilot", "before"): (154, 0.2338, 0.1694, 0.3086),
    ("topic", "skole", "pilot", "after"): (180, 0.4944, 0.4193, 0.5698),
    ("topic", "skole", "control", "before"): (952, 0.2826, 0.2541, 0.3123),
    ("topic", "skole", "control", "after"): (1580, 0.3057, 0.2830, 0.3291),
    ("topic", "samferdsel", "pilot", "before"): (12, None, None, None),
    ("topic", "samferdsel", "pilot", "after"): (174, 0.3621, 0.2907, 0.4382),
    ("topic", "samferdsel", "control", "before"): (948, 0.2848, 0.2563, 0.3147),
    ("topic", "samferdsel", "control", "after"): (1565, 0.2984, 0.2758, 0.3218),
    ("proposer_group", "lag og forening", "pilot", "before"): (157, 0.2803, 0.2116, 0.3574),
    ("proposer_group", "lag og forening", "pilot", "after"): (178, 0.4551, 0.3804, 0.5312),
    ("proposer_group", "lag og forening", "control", "before"): (1004, 0.3008, 0.2726, 0.3302),
    ("proposer_group", "lag og forening", "control", "after"): (1646, 0.3086, 0.2864, 0.3316),
    ("proposer_group", "ungdomsrad", "pilot", "before"): (66, 0.2727, 0.1703, 0.3964),
    ("proposer_group", "ungdomsrad", "pilot", "after"): (19, None, None, None),
    ("proposer_group", "ungdomsrad", "control", "before"): (449, 0.2829, 0.2416, 0.3270),
    ("proposer_group", "ungdomsrad", "control", "after"): (772, 0.3018, 0.2696, 0.3356),
}


def _uptake(codes: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    """``uptake.csv`` rows of arena ``all``: the cells above for the pooled pilots and controls (``all``), and for
    each municipality code of ``codes`` the pilot cells of the group variables it names."""
    rows = []
    for (variable, group, role, period), (n, share, low, high) in CELLS.items():
        for code in ("all", *codes):
            if code != "all" and (role != "pilot" or variable not in codes[code]):
                continue
            values = [np.nan if v is None else v for v in (share, low, high)]
            rows.append(
                dict(arena="all", municipality_code=code, role=role, period=period, group_variable=variable)
                | dict(group=group, n_proposals=n + 5, n_decided=n, median_days=40.0, mentioned_share=0.5)
                | dict(zip(("adopted_share", "adopted_low", "adopted_high"), values), suppressed=share is None)
            )
    return pd.DataFrame(rows)


def _context(lang: str, codes: dict[str, tuple[str, ...]] | None = None) -> ReportContext:
    effect_columns = ["arena", "inference", "estimand", "estimate", "std_error", "conf_low", "conf_high", "p_value"]
    effects = pd.DataFrame(columns=[*effect_columns, "n_pilots", "n_controls"])
    pilots = pd.DataFrame({"unit_code": [PILOT], "unit_name": ["Fjellvik"], "municipality_name": ["Fjellvik"]})
    tables = {name: pd.DataFrame() for name in SOURCE_TABLES["proposals"]}
    tables |= {"uptake": _uptake(codes or {PILOT: ("all",)}), "uptake_effects": effects, "pilots": pilots}
    t = Translator.load(lang, REPO / "reports" / "translations.yaml", REPO / "config" / "variables.yaml")
    return ReportContext(t=t, tables=tables, provenance={"settings": {"level": 0.95}}, min_n=20, demo=True)


def _rows(text: str) -> dict[str, list[str]]:
    """Table rows of the markdown, by their first cell."""
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines() if line.startswith("|")]
    return {row[0]: row[1:] for row in cells}


def test_programme_report_shows_adoption_by_topic_and_proposer_group():
    text = uptake_section(_context("nb"), "programme")
    rows = _rows(text)
    nbsp = NO_BREAK_SPACE
    assert rows["Saksområde · gruppe"] == ["Før (%)", "Etter (%)", "Saker"]
    assert rows["Skole · Forsøkskommuner"] == ["23 (17 til 31)", "49 (42 til 57)", "154 / 180"]
    assert rows["Skole · Sammenligningskommuner"] == ["28 (25 til 31)", "31 (28 til 33)", f"952 / 1{nbsp}580"]
    assert rows["Samferdsel · Sammenligningskommuner"] == ["28 (26 til 31)", "30 (28 til 32)", f"948 / 1{nbsp}565"]
    assert rows["Forslagsstiller · gruppe"] == ["Før (%)", "Etter (%)", "Saker"]
    assert rows["Lag og forening · Forsøkskommuner"] == ["28 (21 til 36)", "46 (38 til 53)", "157 / 178"]
    labels = list(rows)
    assert labels.index("Samferdsel · Forsøkskommuner") < labels.index("Skole · Forsøkskommuner")  # by name
    assert text.index("Saksområde · gruppe") > text.index("data:image/png")  # under the arena table and figure
    assert 'download="uptake_topic_programme.csv"' in text
    assert 'download="uptake_proposer_group_programme.csv"' in text


def test_withheld_cells_show_the_suppressed_mark():
    ctx = _context("en")
    rows = _rows(uptake_section(ctx, "programme"))
    mark = ctx.t("suppressed_mark")
    assert rows["Transport · Pilot municipalities"] == [mark, "36 (29 to 44)", "12 / 174"]
    assert rows["Youth council · Pilot municipalities"] == ["27 (17 to 40)", mark, "66 / 19"]
    assert rows["Youth council · Comparison municipalities"] == ["28 (24 to 33)", "30 (27 to 34)", "449 / 772"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_has_the_breakdown_headings_and_labels(lang):
    ctx = _context(lang)
    t = ctx.t
    text = uptake_section(ctx, "programme")
    where = t("where_programme")
    assert f"### {t('uptake_groups_heading')}\n" in text
    assert t("uptake_groups_intro", level="95") in text and t("uptake_groups_note", min_n=20) in text
    for variable in ("topic", "proposer_group"):
        assert f": {t(f'uptake_by_{variable}_cap', where=where)}" in text
        assert t(f"uptake_{variable}_and_group") in _rows(text)
    for label in ("topic_skole", "topic_samferdsel", "proposer_group_lag_og_forening", "proposer_group_ungdomsrad"):
        assert f"{t(label)} · {t('pilot')}" in _rows(text)


def test_pilot_report_shows_breakdowns_only_where_the_table_has_them():
    pooled_only = uptake_section(_context("en"), PILOT)
    ctx = _context("en", {PILOT: ("all", "topic")})
    own = uptake_section(ctx, PILOT)
    heading = f"### {ctx.t('uptake_groups_heading')}"
    assert ctx.t("arena_and_group") in pooled_only and heading not in pooled_only
    assert heading in own and ctx.t("uptake_proposer_group_and_group") not in own
    rows = _rows(own)
    assert rows["Schools · This municipality"] == ["23 (17 to 31)", "49 (42 to 57)", "154 / 180"]
    assert rows["Schools · Comparison municipalities"] == ["28 (25 to 31)", "31 (28 to 33)", "952 / 1,580"]
    assert f": {ctx.t('uptake_by_topic_cap', where='Fjellvik')}" in own
