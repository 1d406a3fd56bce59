"""Translations and locale-aware number formatting for reports."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from evaluation.errors import ConfigError

LANGUAGES = ("nb", "nn", "sv", "en")
NO_BREAK_SPACE = "\u00a0"


@dataclass
class Translator:
    """Words of one report language, from ``reports/translations.yaml`` and ``config/variables.yaml``."""

    lang: str
    words: dict[str, dict[str, str]]
    variables: dict[str, Any]

    @classmethod
    def load(cls, lang: str, translations: Path, variables: Path) -> "Translator":
        if lang not in LANGUAGES:
            raise ConfigError(f"report language {lang!r} is not one of {', '.join(LANGUAGES)}")
        words = yaml.safe_load(Path(translations).read_text(encoding="utf-8"))
        missing = sorted(key for key, text in words.items() if lang not in text)
        if missing:
            raise ConfigError(f"{translations}: no {lang!r} text for {', '.join(missing)}")
        return cls(lang, words, yaml.safe_load(Path(variables).read_text(encoding="utf-8")))

    def __call__(self, key: str, **values: Any) -> str:
        """The text of ``key`` in this language, with ``{placeholders}`` filled in."""
        if key not in self.words:
            raise ConfigError(f"translations: no entry {key!r}")
        return self.words[key][self.lang].format(**values)

    def outcome(self, name: str) -> str:
        return self.variables["outcomes"][name]["labels"][self.lang]

    def group_variable(self, name: str) -> str:
        return self.variables["group_variables"][name]["labels"][self.lang] if name in self.variables["group_variables"] else name

    def group(self, variable: str, category: str) -> str:
        categories = self.variables["group_variables"].get(variable, {}).get("categories", {})
        return categories.get(str(category), {}).get(self.lang, str(category))

    def number(self, value: float | None, decimals: int = 1, signed: bool = False) -> str:
        """Format a number for the locale: decimal comma and space as thousands separator except in English."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return self("suppressed_mark")
        text = f"{value:{'+' if signed else ''},.{decimals}f}"
        if self.lang == "en":
            return text.replace("-", "\u2212")
        return text.replace(",", NO_BREAK_SPACE).replace(".", ",").replace("-", "\u2212")

    def percent(self, value: float | None, decimals: int = 1) -> str:
        """A share already in per cent, in words: "12,5 prosent", "12.5 per cent"."""
        return f"{self.number(value, decimals)}{NO_BREAK_SPACE}{self('percent_unit')}"

    def p_value(self, value: float | None) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        return ("< " + self.number(0.001, 3)) if value < 0.001 else self.number(value, 3)
