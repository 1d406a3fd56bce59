"""The methods appendix says how the standard errors were computed: linearised, or from shipped replicate weights."""

from __future__ import annotations

import pytest
from shared import REPO

from evaluation.reporting.appendices import methods_text
from evaluation.reporting.context import ReportContext
from evaluation.reporting.i18n import Translator

LANGUAGES = ("nb", "nn", "sv", "en")


def _context(lang: str, replicates: dict | None) -> ReportContext:
    t = Translator.load(lang, REPO / "reports" / "translations.yaml", REPO / "config" / "variables.yaml")
    provenance = {"settings": {"level": 0.95, "replicate_weights": replicates}}
    return ReportContext(t=t, tables={}, provenance=provenance, min_n=20, demo=False)


def test_replicate_weights_replace_the_linearisation_and_raking_text():
    text = methods_text(
        _context("en", {"columns": "repwt[0-9]+", "scale": 1 / 79, "mse": False, "method": "bootstrap"})
    )
    assert "replicate weights (bootstrap, scale 0.0127" in text
    assert "Standard errors come from the replicate weights" in text
    assert "Taylor" not in text and "raked" not in text
    plain = methods_text(_context("en", None))
    assert "Taylor-linearised" in plain and "replicate" not in plain


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_describes_replicate_weights(lang):
    replicates = {"columns": "w[0-9]+", "scale": 0.05, "mse": False, "method": "JK1"}
    text = methods_text(_context(lang, replicates))
    assert "JK1" in text and ("0,05" in text or "0.05" in text)
    assert text != methods_text(_context(lang, None))
