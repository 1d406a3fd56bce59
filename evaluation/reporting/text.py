"""Plain-language sentences generated from result rows."""

from __future__ import annotations

from evaluation.reporting.i18n import Translator


def effect_sentence(t: Translator, what: str, where: str, estimate: float, ci_low: float, ci_high: float, unit: str) -> str:
    """One careful sentence about an effect and its 95 % interval.

    When the interval includes zero the sentence says we cannot tell; otherwise it
    states the direction and size with the interval.
    """
    values = {
        "what": what,
        "what_lower": what[:1].lower() + what[1:],
        "where": where,
        "unit": t(unit),
        "lo": t.number(ci_low),
        "hi": t.number(ci_high),
    }
    if ci_low <= 0 <= ci_high:
        return t("effect_unclear", x=t.number(estimate, signed=True), **values)
    key = "effect_up" if estimate > 0 else "effect_down"
    return t(key, x=t.number(abs(estimate)), **values)
