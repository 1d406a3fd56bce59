"""The methods appendix's paragraph on violations of parallel trends reads ``sensitivity.csv`` and words it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from shared import REPO

from evaluation.comparison.programme import SENSITIVITY_COLUMNS
from evaluation.reporting.appendices import sensitivity_section
from evaluation.reporting.context import SOURCE_TABLES, ReportContext
from evaluation.reporting.i18n import LANGUAGES, Translator


def translator(lang: str) -> Translator:
    return Translator.load(lang, REPO / "reports" / "translations.yaml", REPO / "config" / "variables.yaml")


def table(rm_breakdown: float, rm_beyond: bool, sd_breakdown: float, sd_beyond: bool) -> pd.DataFrame:
    base = dict(outcome="turnout", sample="programme", estimator="twfe", inference="crv1", target="mean_post")
    base |= dict(num_pre=4, num_post=3, n_clusters=60, level=0.95, open_low=False, open_high=False, estimate=3.28)
    rows = [base | dict(kind="original", method="normal", m=np.nan, conf_low=2.82, conf_high=3.74)]
    for kind, method, grid, breakdown, beyond in (
        ("relative_magnitude", "Conditional", [0, 0.5, 1, 1.5, 2], rm_breakdown, rm_beyond),
        ("smoothness", "FLCI", [0, 0.1, 0.25, 0.5, 1], sd_breakdown, sd_beyond),
    ):
        for m in grid:
            rows.append(
                base
                | dict(kind=kind, method=method, m=m, conf_low=1.0 - m, conf_high=4.0 + m, grid_max=max(grid))
                | dict(breakdown=np.nan if beyond else breakdown, breakdown_beyond_grid=beyond)
            )
    return pd.DataFrame(rows)[SENSITIVITY_COLUMNS]


def context(lang: str, sensitivity: pd.DataFrame) -> ReportContext:
    tables = {name: pd.DataFrame() for name in SOURCE_TABLES["turnout"]} | {"sensitivity": sensitivity}
    return ReportContext(t=translator(lang), tables=tables, provenance={}, min_n=20, demo=True)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_breakdown_values_and_caveat(lang):
    t = translator(lang)
    text = sensitivity_section(context(lang, table(1.5, False, 0.25, False)))
    assert text.startswith(f"## {t('sensitivity_heading')}")
    assert f"M̄ = {t.number(1.5, 1)}" in text and f"M = {t.number(0.25, 2)}" in text
    assert "CRV1" in text and t.number(60, 0) in text and t.number(3.28, 1) in text
    assert "sensitivity.csv" in text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_beyond_the_grid_and_at_zero(lang):
    t = translator(lang)
    beyond = sensitivity_section(context(lang, table(np.nan, True, np.nan, True)))
    assert t("sensitivity_rm_beyond", grid_max=t.number(2, 1), level="95") in beyond
    assert t("sensitivity_sd_beyond", grid_max=t.number(1, 1), level="95") in beyond
    zero = sensitivity_section(context(lang, table(0.0, False, 0.0, False)))
    assert t("sensitivity_rm_zero", level="95") in zero and t("sensitivity_sd_zero", level="95") in zero


def test_no_table_no_paragraph():
    assert sensitivity_section(context("en", pd.DataFrame(columns=SENSITIVITY_COLUMNS))) == ""
    assert sensitivity_section(ReportContext(t=translator("en"), tables={}, provenance={}, min_n=20, demo=True)) == ""
