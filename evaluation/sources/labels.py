"""Checks of a file's own metadata (variable labels, value labels, user-missing codes) against its codebook.

SPSS and Stata files say what their codes mean. A codebook that recodes by code
(``recode: {1: male}``) trusts that the code means the same in every wave; one
that recodes by label (``recode_labels: {Mann: male}``) reads the meaning from
the file. These functions make both safe:

* :func:`label_recode` turns ``recode_labels`` into a code recode for one file,
  and checks it against the codebook's code ``recode`` where both are given;
* :class:`LabelHistory` stops the run when a code changes its label between
  waves of the same canonical variable (1 = Mann in wave 5, 1 = Kvinne in wave 6);
* :func:`check_variable_label` stops it when the file's variable label
  contradicts the label the codebook expects (items swapped after a rename);
* :func:`check_missing_in_range` stops it when a code the file declares missing
  lies inside an outcome's valid range, unless the codebook accepts that code;
* :func:`data_dictionary` lists variable and value labels for the output
  ``data_dictionary.csv``.

Labels are compared after Unicode NFC, trimming, collapsing inner whitespace
and case folding, so ``"Kvinne "`` and ``"kvinne"`` are one label.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from evaluation.errors import InputFileError

if TYPE_CHECKING:
    from evaluation.sources.codebook import Codebook
    from evaluation.sources.readers import FileMetadata

WIDEST_RANGE_CHECKED = 1000  # a missing range is checked code by code up to this width, else at its ends
DICTIONARY_COLUMNS = [
    "source_file",
    "wave",
    "variable",
    "canonical",
    "variable_label",
    "code",
    "value_label",
    "missing",
]


def same_label(label: Any) -> str:
    """The form labels are compared in (NFC, trimmed, single spaces, case-folded)."""
    return " ".join(unicodedata.normalize("NFC", str(label)).split()).casefold()


def code_key(code: Any) -> Any:
    """Numeric codes as floats (SPSS says 1.0, Stata 1); tagged missing values (``.a``) as text."""
    try:
        return float(code)
    except (TypeError, ValueError):
        return str(code)


def format_code(code: Any) -> str:
    """``1.0`` -> ``"1"``, ``2.5`` -> ``"2.5"``, ``".a"`` -> ``".a"``."""
    return str(int(code)) if isinstance(code, float) and code.is_integer() else str(code)


def label_recode(
    recode_labels: dict[str, Any],
    value_labels: dict[Any, str],
    code_rules: list[tuple[float, float, Any]],
    missing: set[Any],
    where: str,
) -> dict[str, Any]:
    """The code recode (``{"1": "male"}``) that ``recode_labels`` gives for one file's value labels.

    Parameters
    ----------
    recode_labels
        The codebook's label -> canonical value map.
    value_labels
        The file's code -> label map for the variable (empty when the file has none).
    code_rules
        The codebook's code ``recode`` as inclusive intervals ``(low, high, value)``;
        where a labelled code is also recoded by code, both must give the same value.
    missing
        Codes declared missing (by the file or the codebook): their labels need no recode.
    where
        File, variable and canonical column, for the messages.

    Raises
    ------
    InputFileError
        The file has no value labels; a substantive code's label is not in
        ``recode_labels``; or the label and the code recode disagree.
    """
    if not value_labels:
        raise InputFileError(
            f"{where}: the codebook recodes by label (recode_labels) but the file has no value labels for this "
            "variable; give a code recode for files without labels"
        )
    wanted = {same_label(label): value for label, value in recode_labels.items()}
    recode: dict[str, Any] = {}
    for code, label in value_labels.items():
        key = code_key(code)
        if not isinstance(key, float) or key in missing:
            continue
        if same_label(label) not in wanted:
            raise InputFileError(
                f"{where}: value label {label!r} (code {format_code(key)}) is not in recode_labels "
                f"({', '.join(map(str, recode_labels))}); add it, or declare code {format_code(key)} missing"
            )
        target = wanted[same_label(label)]
        by_code = next((value for low, high, value in code_rules if low <= key <= high), None)
        if by_code is not None and str(by_code) != str(target):
            raise InputFileError(
                f"{where}: code {format_code(key)} is labelled {label!r}, which recode_labels maps to {target!r}, "
                f"but the code recode maps code {format_code(key)} to {by_code!r}"
            )
        recode[format_code(key)] = target
    return recode


@dataclass
class LabelHistory:
    """The value labels seen so far per canonical variable, to catch a code whose meaning changes between waves."""

    seen: dict[str, dict[Any, tuple[str, int, str]]] = field(default_factory=dict)

    def check(
        self,
        canonical: str,
        value_labels: dict[Any, str],
        wave: int,
        source_file: str,
        variable: str,
        same_labels: tuple[frozenset[str], ...] = (),
    ) -> None:
        """Record this wave's labels of ``canonical``; InputFileError when a code's label differs from an earlier wave.

        Labels in one group of ``same_labels`` (compared as :func:`same_label`) mean the same.
        """
        earlier = self.seen.setdefault(canonical, {})
        for code, label in value_labels.items():
            key = code_key(code)
            if key not in earlier:
                earlier[key] = (str(label), wave, source_file)
                continue
            first_label, first_wave, first_file = earlier[key]
            pair = {same_label(first_label), same_label(label)}
            if len(pair) > 1 and not any(pair <= group for group in same_labels):
                raise InputFileError(
                    f"{source_file} (wave {wave}), variable {variable} ({canonical}): code {format_code(key)} is "
                    f"labelled {str(label)!r}, but {first_label!r} in wave {first_wave} ({first_file}); the code "
                    "changed meaning between waves: recode by label (recode_labels), declare the two labels alike "
                    "(same_labels) if only the wording changed, or correct the file"
                )


def check_variable_label(expected: str | dict[str, str], label: str | None, where: str) -> None:
    """InputFileError when the file's variable label contradicts the codebook's ``expect_label``.

    ``expected`` is a text that the label must contain (compared as :func:`same_label`)
    or ``{regex: PATTERN}`` searched case-insensitively. A file without a variable
    label (CSV, Excel) contradicts nothing.
    """
    if not label:
        return
    if isinstance(expected, dict):
        matches = re.search(expected["regex"], label, flags=re.IGNORECASE) is not None
        wanted = f"to match /{expected['regex']}/"
    else:
        matches = same_label(expected) in same_label(label)
        wanted = f"to contain {expected!r}"
    if not matches:
        raise InputFileError(
            f"{where}: the file labels this variable {label!r}, but the codebook expects the label {wanted} "
            "(expect_label); check that the variable map names the right variable for this wave"
        )


def check_missing_in_range(
    declared: list[float],
    ranges: list[tuple[float, float]],
    valid: tuple[float, float],
    accepted: set[float],
    where: str,
    to_canonical: Callable[[float], float | None] = float,
) -> None:
    """InputFileError when a code the file declares missing would be a valid answer of the outcome.

    ``declared`` are discrete missing codes and ``ranges`` missing ranges, in source
    codes; ``to_canonical`` gives the canonical value a source code would get
    (transform and recode; None when unmapped), which is compared with the valid
    range ``valid``; ``accepted`` are the source codes the codebook accepts
    (``accept_missing_in_range``). A range is checked at its ends and, when it is
    at most ``WIDEST_RANGE_CHECKED`` wide, at every whole code inside.
    """
    low, high = valid

    def inside(code: float) -> bool:
        value = to_canonical(code)
        return value is not None and low <= value <= high and code not in accepted

    found = [format_code(float(c)) for c in declared if inside(float(c))]
    for a, b in ranges:
        codes = [a, b]
        if math.isfinite(a) and math.isfinite(b) and b - a <= WIDEST_RANGE_CHECKED:
            codes += [float(c) for c in range(math.ceil(a), math.floor(b) + 1)]
        if any(inside(c) for c in codes if math.isfinite(c)):
            found.append(f"{format_code(a)}-{format_code(b)}")
    if found:
        raise InputFileError(
            f"{where}: the file declares missing code(s) {', '.join(found)} inside the valid range "
            f"{format_code(float(low))}-{format_code(float(high))}; a valid answer may be lost or a missing one counted. "
            "Correct the file, or list the code(s) under accept_missing_in_range in the codebook"
        )


def check_wave(
    codebook: Codebook,
    metadata: FileMetadata,
    names: dict[str, str],
    source_file: str,
    wave: int,
    history: LabelHistory,
    valid_ranges: dict[str, tuple[float, float]],
) -> None:
    """The checks of one survey wave's metadata that need more than the file: earlier waves and valid ranges.

    ``names`` maps canonical columns to the file's columns (the codebook's match);
    ``valid_ranges`` the valid range of each outcome (``config/variables.yaml``),
    against which each declared missing code is checked as the canonical value it
    would get (:func:`evaluation.sources.codebook.canonical_value`).
    """
    from evaluation.sources.codebook import canonical_value  # here: the codebook module imports this one

    for spec in codebook.columns:
        variable = names[spec.name]
        if spec.type in {"category", "outcome"} and spec.recode_labels is None:
            history.check(
                spec.name, metadata.value_labels.get(variable, {}), wave, source_file, variable, spec.same_labels
            )
        if spec.type != "outcome" or spec.name not in valid_ranges:
            continue
        declared = [float(v) for v in metadata.missing_values.get(variable, []) if isinstance(code_key(v), float)]
        check_missing_in_range(
            declared,
            metadata.missing_ranges.get(variable, []),
            valid_ranges[spec.name],
            set(spec.accept_missing_in_range),
            f"{source_file} (wave {wave}), variable {variable} ({spec.name})",
            lambda code, spec=spec: canonical_value(spec, code),
        )


def data_dictionary(
    codebook: Codebook,
    metadata: FileMetadata,
    variables: list[str],
    names: dict[str, str],
    source_file: str,
    wave: int | None,
) -> pd.DataFrame:
    """One row per variable (code empty) and one per labelled code, columns ``DICTIONARY_COLUMNS``.

    ``variables`` are the file's columns and ``names`` maps canonical columns to them;
    a file column the codebook does not use has an empty ``canonical``. ``missing``
    is true for codes the file or the codebook declares missing for that column.
    """
    canonical = {variable: name for name, variable in names.items()}
    specs = {spec.name: spec for spec in codebook.columns}
    rows = []
    for variable in variables:
        spec = specs.get(canonical.get(variable, ""))
        own = (
            {}
            if spec is None
            else spec.missing_codes
            if spec.missing_codes is not None
            else (codebook.missing_codes if spec.type in {"category", "outcome"} else {})
        )
        missing = {code_key(c) for c in [*own, *metadata.missing_values.get(variable, [])]}
        ranges = metadata.missing_ranges.get(variable, [])
        base = {
            "source_file": source_file,
            "wave": wave,
            "variable": variable,
            "canonical": canonical.get(variable, ""),
            "variable_label": metadata.column_labels.get(variable, ""),
        }
        rows.append({**base, "code": "", "value_label": "", "missing": False})
        for code, label in metadata.value_labels.get(variable, {}).items():
            key = code_key(code)
            is_missing = (
                key in missing
                or str(key).lower() in {str(m).lower() for m in missing}
                or (isinstance(key, float) and any(low <= key <= high for low, high in ranges))
            )
            rows.append({**base, "code": format_code(key), "value_label": label, "missing": is_missing})
    return pd.DataFrame(rows, columns=DICTIONARY_COLUMNS).astype({"wave": "Int64"})
