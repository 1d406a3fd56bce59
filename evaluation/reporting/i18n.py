"""Translations and locale-aware number formatting for reports."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel.numbers import format_decimal

from evaluation.errors import ConfigError
from evaluation.schemas import load_yaml
from evaluation.variables import Variables, load_variables

LANGUAGES = ("nb", "nn", "sv", "en")
UNITS_VARIANT = ".units"
"""Suffix of a key's variant for a treated unit below the municipality (a district or an area)."""
NO_BREAK_SPACE = "\u00a0"
MINUS_SIGN = "\u2212"


@dataclass
class Translator:
    """Words of one report language, from ``reports/translations.yaml`` and ``config/variables.yaml``.

    With ``below_municipality`` (``design.treated_unit`` is a district or an
    area) a key's ``<key>.units`` variant, when it exists, replaces the key, so
    that pilots are called areas rather than municipalities.
    """

    lang: str
    words: dict[str, dict[str, str]]
    variables: Variables
    below_municipality: bool = False

    @classmethod
    def load(cls, lang: str, translations: Path, variables: Path, below_municipality: bool = False) -> Translator:
        if lang not in LANGUAGES:
            raise ConfigError(f"report language {lang!r} is not one of {', '.join(LANGUAGES)}")
        words = load_yaml(Path(translations))
        missing = sorted(key for key, text in words.items() if lang not in text)
        if missing:
            raise ConfigError(f"{translations}: no {lang!r} text for {', '.join(missing)}")
        return cls(lang, words, load_variables(Path(variables)), below_municipality)

    def __call__(self, key: str, **values: Any) -> str:
        """The text of ``key`` in this language, with ``{placeholders}`` filled in."""
        if key not in self.words:
            raise ConfigError(f"translations: no entry {key!r}")
        if self.below_municipality and key + UNITS_VARIANT in self.words:
            key += UNITS_VARIANT
        return self.words[key][self.lang].format(**values)

    def outcome(self, name: str) -> str:
        return self.variables.outcomes[name].labels[self.lang]

    def group_variable(self, name: str) -> str:
        groups = self.variables.group_variables
        return groups[name].labels[self.lang] if name in groups else name

    def group(self, variable: str, category: str) -> str:
        groups = self.variables.group_variables
        categories = groups[variable].categories if variable in groups else {}
        return categories.get(str(category), {}).get(self.lang, str(category))

    def number(self, value: float | None, decimals: int = 1, signed: bool = False) -> str:
        """Format a number for the locale with Babel (CLDR symbols and grouping).

        Norwegian and Swedish write a decimal comma and a no-break space between
        thousands (``12 345,7``), English ``12,345.7``. The value is rounded to
        ``decimals`` as Python rounds a float (``f"{value:.1f}"``); negative
        numbers, also those that round to zero, get the minus sign U+2212 in
        every language (CLDR's English has a hyphen), and ``signed`` puts ``+``
        before the others. ``None`` and NaN are the suppression mark.
        """
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return self("suppressed_mark")
        rounded = Decimal(f"{value:.{decimals}f}")
        pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
        sign = MINUS_SIGN if rounded.is_signed() else "+" if signed else ""
        return sign + format_decimal(abs(rounded), format=pattern, locale=self.lang)

    def percent(self, value: float | None, decimals: int = 1) -> str:
        """A share already in per cent, in words: "12,5 prosent", "12.5 per cent"."""
        return f"{self.number(value, decimals)}{NO_BREAK_SPACE}{self('percent_unit')}"

    def p_value(self, value: float | None) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        return ("< " + self.number(0.001, 3)) if value < 0.001 else self.number(value, 3)
