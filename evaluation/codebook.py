"""Codebooks: declarative maps from one source's variables to the canonical variables.

A codebook is a YAML file (schema ``config/codebook.schema.yaml``). Applying it to
a raw frame gives the canonical columns, the item non-response with its reason,
and the rows that cannot be used (quarantined with a reason, never dropped).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluation.errors import ConfigError, InputFileError
from evaluation.readers import FileMetadata, ReadOptions
from evaluation.schemas import load_yaml, validate_against

QUARANTINE_COLUMNS = ["source_file", "row_number", "stage", "column", "value", "reason"]


@dataclass(frozen=True)
class ColumnSpec:
    """How one canonical column is made from a source variable."""

    name: str
    variable: str | dict[str, str]
    type: str
    required: bool = False
    recode: dict[Any, Any] | None = None
    transform: str | None = None

    def source_variable(self, wave: int | None) -> str:
        """The source variable name, for the given wave when names differ between waves."""
        if isinstance(self.variable, str):
            return self.variable
        if wave is None:
            raise ConfigError(f"column {self.name!r}: per-wave variable names need a wave number")
        for key, name in self.variable.items():
            low, _, high = key.partition("-")
            if int(low) <= wave <= int(high or low):
                return name
        raise ConfigError(f"column {self.name!r}: no variable name given for wave {wave}")


@dataclass(frozen=True)
class Codebook:
    """A parsed and schema-checked codebook."""

    path: Path
    source: str
    kind: str
    read: ReadOptions
    missing_codes: dict[float, str]
    columns: tuple[ColumnSpec, ...]
    derived: dict[str, dict[str, Any]] = field(default_factory=dict)
    design: dict[str, str] = field(default_factory=dict)


@dataclass
class Harmonised:
    """The result of applying a codebook to one file."""

    data: pd.DataFrame
    nonresponse: pd.DataFrame
    quarantine: pd.DataFrame


def load_codebook(path: Path) -> Codebook:
    """Read and validate a codebook YAML file."""
    path = Path(path)
    doc = load_yaml(path)
    validate_against(doc, "codebook.schema.yaml", path)
    columns = tuple(
        ColumnSpec(
            name=name,
            variable=spec["variable"],
            type=spec["type"],
            required=spec.get("required", False),
            recode=spec.get("recode"),
            transform=spec.get("transform"),
        )
        for name, spec in doc["columns"].items()
    )
    return Codebook(
        path=path,
        source=doc["source"],
        kind=doc["kind"],
        read=ReadOptions.from_mapping(doc.get("read")),
        missing_codes={float(code): reason for code, reason in (doc.get("missing_codes") or {}).items()},
        columns=columns,
        derived=doc.get("derived") or {},
        design=doc.get("design") or {},
    )


def apply_codebook(
    raw: pd.DataFrame,
    metadata: FileMetadata,
    codebook: Codebook,
    source_file: str,
    wave: int | None = None,
) -> Harmonised:
    """Map a raw frame onto canonical columns.

    Parameters
    ----------
    raw
        The file as read, with its own column names.
    metadata
        Value labels and user-missing codes from the file.
    codebook
        The codebook of the source.
    source_file
        The file name, used in quarantine records and error messages.
    wave
        The survey wave, for codebooks whose variable names change between waves.

    Returns
    -------
    Harmonised
        ``data`` has one row per usable raw row (index = 0-based raw row position),
        ``nonresponse`` has one row per missing item answer with its reason,
        ``quarantine`` one row per unusable raw row with the first reason found.
    """
    missing = [spec.source_variable(wave) for spec in codebook.columns if spec.source_variable(wave) not in raw.columns]
    if missing:
        raise InputFileError(
            f"{source_file}: column(s) {', '.join(map(repr, missing))} named in codebook {codebook.path} "
            f"not found; the file has {', '.join(map(str, raw.columns[:30]))}"
        )
    out: dict[str, pd.Series] = {}
    problems: list[pd.DataFrame] = []
    nonresponse: list[pd.DataFrame] = []
    for spec in codebook.columns:
        source = raw[spec.source_variable(wave)]
        values, reasons = _convert(source, spec, codebook, metadata.missing_values.get(spec.source_variable(wave), []))
        out[spec.name] = values
        if reasons is not None:
            nonresponse.append(_reason_frame(reasons, spec.name))
        if spec.required:
            bad = values.isna() if values.dtype != object else values.isna() | values.astype(str).str.startswith("unknown:")
            if bad.any():
                problems.append(
                    pd.DataFrame(
                        {
                            "row": np.flatnonzero(bad.to_numpy()),
                            "column": spec.source_variable(wave),
                            "value": source[bad.to_numpy()].astype(str).to_numpy(),
                            "reason": f"missing or unreadable required value for {spec.name} ({spec.type})",
                        }
                    )
                )
    data = pd.DataFrame(out, index=raw.index)
    data = _derive(data, codebook)
    quarantine = _quarantine_frame(problems, source_file)
    keep = ~data.index.isin(quarantine["row_number"] - 1)
    nonresponse_frame = (
        pd.concat(nonresponse, ignore_index=True) if nonresponse else pd.DataFrame(columns=["row", "variable", "reason"])
    )
    return Harmonised(data=data[keep], nonresponse=nonresponse_frame, quarantine=quarantine)


def _convert(
    source: pd.Series, spec: ColumnSpec, codebook: Codebook, user_missing: list[Any]
) -> tuple[pd.Series, pd.Series | None]:
    """Convert one source column; returns the values and, for items, the missing reasons."""
    if spec.type == "text":
        text = source.astype("string").str.strip()
        if spec.transform == "zero_pad_4":
            text = text.str.zfill(4)
        if spec.recode:
            mapped = text.map({str(k): str(v) for k, v in spec.recode.items()})
            unknown = text.notna() & mapped.isna()
            text = mapped.mask(unknown, "unknown:" + text)
        return text.astype(object).where(text.notna(), None), None
    if spec.type == "date":
        return pd.to_datetime(source, errors="coerce").dt.normalize(), None
    numbers = _to_number(source, codebook.read)
    reasons = None
    if spec.type in {"category", "outcome"}:
        codes = {**codebook.missing_codes, **{float(v): codebook.missing_codes.get(float(v), f"missing_code_{v}") for v in user_missing}}
        is_code = numbers.isin(list(codes))
        reasons = numbers.where(is_code).map(codes).astype(object)
        reasons[numbers.isna() & source.notna()] = "unreadable"
        reasons[source.isna()] = "system_missing"
        numbers = numbers.mask(is_code)
    if spec.transform:
        numbers = TRANSFORMS[spec.transform](numbers)
    if spec.type == "category":
        recode = {float(k): str(v) for k, v in (spec.recode or {}).items()}
        mapped = numbers.map(recode)
        unknown = numbers.notna() & mapped.isna()
        mapped[unknown] = "unknown:" + numbers[unknown].map(_format_code).astype(str)
        return mapped.astype(object).where(mapped.notna(), None), reasons
    if spec.recode:
        numbers = numbers.map({float(k): float(v) for k, v in spec.recode.items()}).where(numbers.notna())
    if spec.type == "integer":
        return numbers.round().astype("Int64") if (numbers.dropna() % 1 == 0).all() else numbers, reasons
    return numbers.astype(float), reasons


def _to_number(source: pd.Series, read: ReadOptions) -> pd.Series:
    if pd.api.types.is_numeric_dtype(source):
        return source.astype(float)
    text = source.astype("string").str.strip()
    if read.thousands:
        text = text.str.replace(read.thousands, "", regex=False)
    if read.decimal != ".":
        text = text.str.replace(read.decimal, ".", regex=False)
    return pd.to_numeric(text, errors="coerce").astype(float)


def _format_code(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _reverse(values: pd.Series) -> pd.Series:
    return values.max() + values.min() - values


TRANSFORMS = {
    "zero_pad_4": lambda v: v,
    "reverse": _reverse,
    "age_from_birth_year": lambda v: v,  # completed in _derive, which knows the interview date
    "deciles_to_quintiles": lambda v: np.ceil(v / 2),
    "percent_to_share": lambda v: v / 100.0,
}


def _derive(data: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Add derived columns (age from birth year, age groups, area codes, election dates)."""
    age_specs = [s for s in codebook.columns if s.transform == "age_from_birth_year"]
    for spec in age_specs:
        if "interview_date" not in data:
            raise ConfigError(f"{codebook.path}: columns/{spec.name}: age_from_birth_year needs an interview_date column")
        data[spec.name] = data["interview_date"].dt.year - data[spec.name]
    for name, rule in codebook.derived.items():
        data[name] = _derived_column(data, rule, f"{codebook.path}: derived/{name}")
    return data


def _derived_column(data: pd.DataFrame, rule: dict[str, Any], where: str) -> pd.Series:
    sources = rule.get("from", [])
    absent = [s for s in sources if s not in data]
    if absent:
        raise ConfigError(f"{where}: unknown source column(s) {absent}")
    kind = rule["rule"]
    if kind == "concat":
        result = data[sources[0]].astype(str)
        for col in sources[1:]:
            result = result + data[col].astype(str)
        return result
    if kind == "cut":
        if "breaks" not in rule or "labels" not in rule or len(rule["labels"]) != len(rule["breaks"]):
            raise ConfigError(f"{where}: rule cut needs breaks (lower bounds) and as many labels")
        bins = [*rule["breaks"], np.inf]
        cut = pd.cut(data[sources[0]], bins=bins, labels=rule["labels"], right=False)
        return cut.astype(object).where(cut.notna(), None)
    if kind == "second_monday_of_september":
        return data[sources[0]].map(_second_monday_of_september).astype("datetime64[ns]")
    if kind == "ratio":
        return data[sources[0]] / data[sources[1]]
    raise ConfigError(f"{where}: unknown rule {kind!r}")


def _second_monday_of_september(year: Any) -> pd.Timestamp:
    if pd.isna(year):
        return pd.NaT
    first = dt.date(int(year), 9, 1)
    first_monday = first + dt.timedelta(days=(7 - first.weekday()) % 7)
    return pd.Timestamp(first_monday + dt.timedelta(days=7))


def _reason_frame(reasons: pd.Series, variable: str) -> pd.DataFrame:
    present = reasons.dropna()
    return pd.DataFrame({"row": np.flatnonzero(reasons.notna().to_numpy()), "variable": variable, "reason": present.to_numpy()})


def _quarantine_frame(problems: list[pd.DataFrame], source_file: str) -> pd.DataFrame:
    if not problems:
        return pd.DataFrame(columns=QUARANTINE_COLUMNS)
    frame = pd.concat(problems, ignore_index=True).drop_duplicates("row").sort_values("row")
    return pd.DataFrame(
        {
            "source_file": source_file,
            "row_number": frame["row"].to_numpy() + 1,
            "stage": "ingest",
            "column": frame["column"].to_numpy(),
            "value": frame["value"].to_numpy(),
            "reason": frame["reason"].to_numpy(),
        }
    )
