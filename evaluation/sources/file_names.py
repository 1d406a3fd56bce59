"""Election constants read from a file's name (the codebook's ``file_name`` section).

Authorities publish one file per election and name it after the election:
valgresultat.no's ``partifordeling_1_st_2021.csv`` is the 2021 stortingsvalg at county
level. A codebook can declare a regular expression whose named groups are canonical
columns (``election_type``, ``election_year``) with a recode of the codes the name
uses (``st: parliamentary``), so that one codebook reads every year's file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from evaluation.errors import ConfigError, InputFileError


@dataclass(frozen=True)
class FileNameRule:
    """A pattern searched in the file name (not the folder) and the recode of its named groups."""

    pattern: re.Pattern[str]
    recode: dict[str, dict[str, Any]]

    @classmethod
    def from_mapping(cls, mapping: dict[str, Any], where: str) -> FileNameRule:
        """Parse the ``file_name`` section; ConfigError for a pattern that does not compile or has no named group."""
        try:
            pattern = re.compile(mapping["pattern"])
        except re.error as exc:
            raise ConfigError(
                f"{where}/file_name/pattern: {mapping['pattern']!r} is not a regular expression: {exc}"
            ) from None
        if not pattern.groupindex:
            raise ConfigError(
                f"{where}/file_name/pattern: {pattern.pattern!r} has no named group such as (?P<election_year>[0-9]{{4}})"
            )
        recode = {
            str(group): {str(k): v for k, v in codes.items()} for group, codes in (mapping.get("recode") or {}).items()
        }
        unknown = sorted(set(recode) - set(pattern.groupindex))
        if unknown:
            raise ConfigError(f"{where}/file_name/recode: {', '.join(unknown)} is not a named group of the pattern")
        return cls(pattern=pattern, recode=recode)

    @property
    def columns(self) -> list[str]:
        """The canonical columns the rule gives."""
        return list(self.pattern.groupindex)

    def constants(self, file_name: str) -> dict[str, Any]:
        """The value of each named group in ``file_name``: recoded, else an integer when all digits, else the text.

        Raises
        ------
        InputFileError
            When the name does not match, or a group's text is not in its recode; naming the file, the
            pattern and the codes known.
        """
        match = self.pattern.search(file_name)
        if match is None:
            raise InputFileError(
                f"{file_name}: the file name does not match the codebook's file_name pattern {self.pattern.pattern!r}, "
                f"which gives {', '.join(self.columns)}; rename the file as the source publishes it"
            )
        values = {}
        for group, text in match.groupdict().items():
            if group in self.recode:
                if text not in self.recode[group]:
                    raise InputFileError(
                        f"{file_name}: {group} code {text!r} in the file name is not in the codebook's "
                        f"file_name/recode/{group} ({', '.join(sorted(self.recode[group]))})"
                    )
                values[group] = self.recode[group][text]
            else:
                values[group] = int(text) if text is not None and text.isdigit() else text
        return values
