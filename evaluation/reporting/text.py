"""Plain-language sentences generated from result rows."""

from __future__ import annotations

from evaluation.reporting.i18n import Translator


def effect_sentence(
    t: Translator, what: str, where: str, estimate: float, ci_low: float, ci_high: float, unit: str
) -> str:
    """One careful sentence about an effect and its 95 % interval.

    When the interval includes zero the sentence says we cannot tell; otherwise it
    states the direction and size with the interval.
    """
    decimals = shown_decimals(estimate, ci_low, ci_high)
    values = {
        "what": what,
        "what_lower": what[:1].lower() + what[1:],
        "where": where,
        "unit": t(unit),
        "lo": t.number(ci_low, decimals),
        "hi": t.number(ci_high, decimals),
    }
    if ci_low <= 0 <= ci_high:
        return t("effect_unclear", x=t.number(estimate, decimals, signed=True), **values)
    key = "effect_up" if estimate > 0 else "effect_down"
    return t(key, x=t.number(abs(estimate), decimals), **values)


def shown_decimals(*values: float, fewest: int = 1, most: int = 3) -> int:
    """Decimals (``fewest`` to ``most``) with which no non-zero value reads as 0.

    "rose 0.1 (95 % interval 0.0 to 0.2)" would contradict itself; with two
    decimals it reads "0.12 (0.03 to 0.21)".
    """
    smallest = min((abs(v) for v in values if v != 0), default=1.0)
    decimals = fewest
    while decimals < most and round(smallest, decimals) == 0:
        decimals += 1
    return decimals
