"""Codebooks: declarative maps from one source's variables to the canonical variables.

A codebook is a YAML file (schema ``config/codebook.schema.yaml``). Applying it to
a raw frame gives the canonical columns, the item non-response with its reason,
and the rows that cannot be used (quarantined with a reason, never dropped).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import zoneinfo
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluation.errors import ConfigError, InputFileError
from evaluation.schemas import load_yaml, validate_against
from evaluation.sources import calendars, labels, party_rows
from evaluation.sources.file_names import FileNameRule
from evaluation.sources.identifiers import normalise_ids
from evaluation.sources.readers import FileMetadata, ReadOptions

QUARANTINE_COLUMNS = ["source_file", "row_number", "stage", "column", "value", "reason"]
NONRESPONSE_COLUMNS = ["row", "variable", "reason"]
RANGE_KEY = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*-\s*(-?\d+(?:\.\d+)?)\s*$")
ZERO_PAD = re.compile(r"^zero_pad_(\d+)$")
NUMERIC_TYPES = {"integer", "number", "category", "outcome"}


@dataclass(frozen=True)
class ColumnSpec:
    """How one canonical column is made from a source variable.

    ``scale`` is the source scale ``[low, high]`` that ``reverse`` mirrors and
    ``rescale`` maps linearly onto ``to``. ``missing_codes``, when given,
    replaces the codebook-wide missing codes for this column (any type).
    ``recode_labels`` recodes by the file's value labels, ``same_labels`` groups
    value labels that may replace each other between waves, ``expect_label`` is
    the variable label the file must show, and ``accept_missing_in_range``
    lists file-declared missing codes accepted inside an outcome's valid range
    (see :mod:`evaluation.sources.labels`).
    """

    name: str
    variable: str | dict[str, str]
    type: str
    required: bool = False
    recode: dict[Any, Any] | None = None
    transform: str | None = None
    scale: tuple[float, float] | None = None
    to: tuple[float, float] | None = None
    missing_codes: dict[Any, str] | None = None
    recode_labels: dict[str, Any] | None = None
    expect_label: str | dict[str, str] | None = None
    accept_missing_in_range: frozenset[float] = frozenset()
    same_labels: tuple[frozenset[str], ...] = ()  # groups of value labels (compared as labels.same_label) alike
    date_format: str | None = None  # dates: a strptime format, or one of DATE_NUMBER_FORMATS
    pivot_year: int | None = None  # dates with %y: the latest year a two-digit year can mean
    date_window: tuple[dt.date, dt.date] | None = None  # dates: the plausible [earliest, latest]
    timezone: str | None = None  # dates: the zone in which timestamps (unix_seconds, zoned datetimes) become dates

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

    def source_variables(self) -> set[str]:
        """Every source variable name this column may come from (any wave)."""
        return {self.variable} if isinstance(self.variable, str) else set(self.variable.values())


@dataclass(frozen=True)
class Codebook:
    """A parsed and schema-checked codebook."""

    path: Path
    source: str
    kind: str
    read: ReadOptions
    missing_codes: dict[Any, str]
    columns: tuple[ColumnSpec, ...]
    derived: dict[str, dict[str, Any]] = field(default_factory=dict)
    design: dict[str, Any] = field(default_factory=dict)  # weight, stratum and psu columns; replicate_weights
    constants: dict[str, Any] = field(default_factory=dict)
    register: dict[str, Any] = field(default_factory=dict)
    party_rows: party_rows.PartyRows | None = None  # turnout files with one row per party and area
    file_name: FileNameRule | None = None  # constants read from each file's name

    def column(self, name: str) -> ColumnSpec:
        """The spec of canonical column ``name``; ConfigError naming the codebook when absent."""
        for spec in self.columns:
            if spec.name == name:
                return spec
        raise ConfigError(f"{self.path}: columns/{name} is required for a codebook of kind {self.kind}")


@dataclass
class Harmonised:
    """The result of applying a codebook to one file (or one chunk of it)."""

    data: pd.DataFrame
    nonresponse: pd.DataFrame
    quarantine: pd.DataFrame
    source_names: dict[str, str] = field(default_factory=dict)  # canonical column -> the file's column it came from


# The canonical columns of each kind of table besides the outcomes and group variables of config/variables.yaml
# (docs/data-contracts.md).
CANONICAL_COLUMNS = {
    # area_code (the respondent's district) and unit_code (the treated area) link respondents to a treated unit
    # below the municipality (design.treated_unit, evaluation/units.py)
    "survey": frozenset(
        {"respondent_id", "interview_date", "municipality_code", "area_code", "unit_code", "link_code", "design_weight"}
        | {"age"}
    ),
    "turnout": frozenset(
        {
            "area_code",
            "municipality_code",
            "district_number",
            "election_type",
            "election_year",
            "election_date",
            "eligible_voters",
            "votes_cast",
            "turnout",
        }
    ),
    "areas": frozenset(
        {
            "area_code",
            "area_name",
            "municipality_code",
            "municipality_name",
            "role",
            "pilot_start",
            "pilot_end",
            "pilot_type",
            "cohort",
            "cycles",
            "unit_code",
            "unit_name",
            "population",
            "share_higher_education",
            "median_income",
            "share_immigrant",
        }
    ),
    "register": frozenset({"area_code", "municipality_code", "election_type", "election_year", "voted", "age"}),
    # one row per participant of a participation arena (or `count` participants of an aggregated row)
    "participants": frozenset({"arena", "municipality_code", "area_code", "participation_date", "count", "age"}),
    # one row per citizen proposal or consultation input, with its fate
    "proposals": frozenset(
        {
            "arena",
            "municipality_code",
            "area_code",
            "submitted_date",
            "topic",
            "proposer_group",
            "text",
            "decision_body",
            "outcome",
            "decision_date",
            "mentioned",
        }
    ),
}


def load_codebook(path: Path, canonical: Collection[str] | None = None) -> Codebook:
    """Read and validate a codebook YAML file; errors name the file and key.

    Parameters
    ----------
    path
        The codebook file.
    canonical
        The outcomes and group variables of ``config/variables.yaml``. When given,
        every column, derived and constant name must be one of them, a column of
        the kind in ``CANONICAL_COLUMNS``, a design column, or a source of a
        derived rule; an unknown name is a ConfigError listing the known ones.
    """
    path = Path(path)
    doc = load_yaml(path)
    doc = validate_against(doc, "codebook.schema.yaml", path)
    if canonical is not None:
        _check_canonical_names(doc, path, canonical)
    columns = tuple(_column_spec(name, spec, path) for name, spec in doc["columns"].items())
    file_name = FileNameRule.from_mapping(doc["file_name"], str(path)) if "file_name" in doc else None
    _check_file_name(doc, file_name, path, canonical)
    _check_replicate_pattern(doc, path)
    return Codebook(
        path=path,
        source=doc["source"],
        kind=doc["kind"],
        read=ReadOptions.from_mapping(doc.get("read")),
        missing_codes={_code_key(code): reason for code, reason in (doc.get("missing_codes") or {}).items()},
        columns=columns,
        derived=doc.get("derived") or {},
        design=doc["design"],
        constants=doc.get("constants") or {},
        register=doc.get("register") or {},
        party_rows=_party_rows(doc, path),
        file_name=file_name,
    )


def _check_replicate_pattern(doc: dict[str, Any], path: Path) -> None:
    """``design.replicate_weights.columns`` must be a regular expression."""
    replicates = doc["design"]["replicate_weights"] if "replicate_weights" in doc["design"] else None
    if replicates is None:
        return
    try:
        re.compile(replicates["columns"])
    except re.error as exc:
        raise ConfigError(
            f"{path}: design/replicate_weights/columns: {replicates['columns']!r} is not a regular expression ({exc})"
        ) from exc


def _party_rows(doc: dict[str, Any], path: Path) -> party_rows.PartyRows | None:
    """The ``party_rows`` section, parsed; turnout codebooks only."""
    if "party_rows" not in doc:
        return None
    if doc["kind"] != "turnout":
        raise ConfigError(f"{path}: party_rows is for codebooks of kind turnout, not {doc['kind']}")
    types = {name: spec["type"] for name, spec in doc["columns"].items()}
    return party_rows.PartyRows.from_mapping(doc["party_rows"], types, str(path))


def _check_file_name(
    doc: dict[str, Any], rule: FileNameRule | None, path: Path, canonical: Collection[str] | None
) -> None:
    """The file name's groups must be canonical columns given nowhere else in the codebook."""
    if rule is None:
        return
    for group in rule.columns:
        elsewhere = [section for section in ("columns", "constants", "derived") if group in (doc.get(section) or {})]
        if elsewhere:
            raise ConfigError(f"{path}: file_name gives {group}, which {elsewhere[0]}/{group} gives as well; keep one")
        known = set(CANONICAL_COLUMNS[doc["kind"]]) | set(canonical or ())
        if canonical is not None and group not in known:
            raise ConfigError(
                f"{path}: file_name/pattern: group {group!r} is not a canonical column of kind {doc['kind']}"
            )


def with_constants(codebook: Codebook, constants: dict[str, Any], where: str) -> Codebook:
    """The codebook with one file's ``constants`` (``sources.turnout.files[].constants``) over its own.

    Raises
    ------
    ConfigError
        When a constant is not a canonical column of the codebook's kind, or the codebook
        gives it as a column, a derived column or from the file name; naming ``where``.
    """
    if not constants:
        return codebook
    given = {spec.name for spec in codebook.columns} | set(codebook.derived)
    given |= set(codebook.file_name.columns) if codebook.file_name else set()
    clash = sorted(set(constants) & given)
    if clash:
        raise ConfigError(
            f"{where}: constants {', '.join(clash)} also come from codebook {codebook.path} "
            "(columns, derived or file_name); give each once"
        )
    unknown = sorted(set(constants) - CANONICAL_COLUMNS[codebook.kind])
    if unknown:
        known = ", ".join(sorted(CANONICAL_COLUMNS[codebook.kind]))
        raise ConfigError(f"{where}: {', '.join(unknown)} is not a canonical column of kind {codebook.kind} ({known})")
    return replace(codebook, constants={**codebook.constants, **constants})


def _check_canonical_names(doc: dict[str, Any], path: Path, canonical: Collection[str]) -> None:
    """Every name the codebook gives a column must be known (see :func:`load_codebook`)."""
    derived = doc.get("derived") or {}
    design_columns = {value for value in (doc.get("design") or {}).values() if isinstance(value, str)}
    known = set(CANONICAL_COLUMNS[doc["kind"]]) | set(canonical) | design_columns
    known |= {source for rule in derived.values() for source in rule.get("from", [])}  # intermediate columns
    for section in ("columns", "derived", "constants"):
        for name in doc.get(section) or {}:
            if name not in known:
                close = difflib.get_close_matches(name, sorted(known), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise ConfigError(
                    f"{path}: {section}/{name}: {name!r} is not a canonical variable; {hint}"
                    f"known for kind {doc['kind']}: {', '.join(sorted(known))}"
                )


def _column_spec(name: str, spec: dict[str, Any], path: Path) -> ColumnSpec:
    where = f"{path}: columns/{name}"
    if spec.get("transform") == "rescale" and not ("scale" in spec and "to" in spec):
        raise ConfigError(f"{where}: transform rescale needs scale: [low, high] and to: [low, high]")
    _check_wave_map(spec["variable"], f"{where}/variable")
    recode = spec.get("recode")
    if recode and spec["type"] in NUMERIC_TYPES:
        _numeric_recode(recode, f"{where}/recode")  # fail early on bad keys and overlapping ranges
    return ColumnSpec(
        name=name,
        variable=spec["variable"],
        type=spec["type"],
        required=spec.get("required", False),
        recode=recode,
        transform=spec.get("transform"),
        scale=tuple(spec["scale"]) if "scale" in spec else None,
        to=tuple(spec["to"]) if "to" in spec else None,
        missing_codes={_code_key(c): r for c, r in spec["missing_codes"].items()} if "missing_codes" in spec else None,
        recode_labels=spec.get("recode_labels"),
        expect_label=spec.get("expect_label"),
        accept_missing_in_range=frozenset(float(c) for c in spec.get("accept_missing_in_range", [])),
        same_labels=tuple(frozenset(map(labels.same_label, group)) for group in spec.get("same_labels", [])),
        **_date_options(spec, where),
    )


# Dates written as numbers, parsed only when the codebook declares them: days since 1899-12-30 (Excel's 1900
# system; serials from 61, 1900-03-01, on) and seconds since 1970-01-01 UTC (dated in the column's timezone).
DATE_NUMBER_FORMATS = {"excel_serial": (dt.datetime(1899, 12, 30), "D"), "unix_seconds": (dt.datetime(1970, 1, 1), "s")}
RELATIVE_DATE = re.compile(r"^today\+(\d+)y$")


def _date_options(spec: dict[str, Any], where: str) -> dict[str, Any]:
    """``date_format``, ``pivot_year`` and ``date_window`` of a date column, checked; nothing for other types."""
    if spec["type"] != "date":
        return {}
    fmt, pivot = spec["format"], spec.get("pivot_year")
    if fmt not in DATE_NUMBER_FORMATS:
        if not re.search(r"%[Yy]", fmt) or not re.search(r"%[mbB]", fmt) and "%j" not in fmt:
            raise ConfigError(
                f"{where}: format {fmt!r} needs a year (%Y or %y) and a month (%m, %b, %B) or %j; "
                f"or use one of {sorted(DATE_NUMBER_FORMATS)}"
            )
        try:
            dt.datetime.strptime(dt.datetime(2019, 8, 1).strftime(fmt), fmt)
        except ValueError as exc:
            raise ConfigError(f"{where}: format {fmt!r} is not a strptime format: {exc}") from None
        if "%y" in fmt and pivot is None:
            raise ConfigError(
                f"{where}: format {fmt!r} has a two-digit year (%y); set pivot_year, the latest year "
                "it can mean (pivot_year: 2030 reads '30' as 2030 and '31' as 1931)"
            )
    if pivot is not None and "%y" not in fmt:
        raise ConfigError(f"{where}: pivot_year is only for formats with a two-digit year (%y); format is {fmt!r}")
    earliest, latest = (_window_end(spec[key], f"{where}: {key}") for key in ("earliest", "latest"))
    if earliest > latest:
        raise ConfigError(f"{where}: earliest {earliest} is after latest {latest}")
    try:
        zoneinfo.ZoneInfo(spec["timezone"])
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{where}: timezone {spec['timezone']!r} is not an IANA time zone (e.g. Europe/Oslo)"
        ) from None
    return {"date_format": fmt, "pivot_year": pivot, "date_window": (earliest, latest), "timezone": spec["timezone"]}


def _window_end(value: Any, where: str) -> dt.date:
    """An ISO date, or ``today+Ny`` (today's date N years on)."""
    relative = RELATIVE_DATE.match(str(value))
    if relative:
        today = dt.date.today()
        year = today.year + int(relative.group(1))
        return today.replace(year=year) if (today.month, today.day) != (2, 29) else dt.date(year, 2, 28)
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where}: {value!r} is neither a date (YYYY-MM-DD) nor today+Ny") from None


def _check_wave_map(variable: str | dict[str, str], where: str) -> None:
    """Per-wave names must cover every wave from the first to the last key once: no gaps, no overlaps."""
    if isinstance(variable, str):
        return
    spans = []
    for key in variable:
        low, _, high = str(key).partition("-")
        if int(high or low) < int(low):
            raise ConfigError(f"{where}: wave range {key!r} runs backwards (write first-last)")
        spans.append((int(low), int(high or low), key))
    spans.sort()
    for (_, high, key), (next_low, _, next_key) in zip(spans, spans[1:]):
        if next_low <= high:
            raise ConfigError(f"{where}: wave keys {key!r} and {next_key!r} overlap (wave {next_low} is in both)")
        if next_low > high + 1:
            gap = f"{high + 1}" if next_low == high + 2 else f"{high + 1}-{next_low - 1}"
            raise ConfigError(f"{where}: no variable name for wave(s) {gap} (between keys {key!r} and {next_key!r})")


def _code_key(code: Any) -> Any:
    """Missing codes are numbers (97) or Stata/SAS extended missing tags (``.a``)."""
    try:
        return float(code)
    except (TypeError, ValueError):
        return str(code).lower()


def source_columns(codebook: Codebook, available: list[str], wave: int | None = None) -> dict[str, str]:
    """Map each canonical column to the file's column name (exact, else ignoring case and surrounding spaces).

    SPSS portable files upper-case variable names and exports change case, so
    ``kjonn`` in a codebook finds ``KJONN`` when no exact match exists (and ``Parti``
    finds a workbook's `` Parti``).

    Raises
    ------
    InputFileError
        Naming the codebook and the columns it asks for that the file lacks.
    """
    by_lower: dict[str, list[str]] = {}
    for name in available:
        by_lower.setdefault(str(name).strip().lower(), []).append(name)  # " Parti" in a workbook finds Parti
    resolved, absent = {}, []
    for spec in codebook.columns:
        wanted = spec.source_variable(wave)
        matches = by_lower.get(wanted.strip().lower(), [])
        if len(matches) > 1:  # KJONN and kjonn: which one the codebook means is not for us to choose
            positions = " and ".join(f"{m!r} (column {available.index(m) + 1})" for m in matches)
            raise InputFileError(
                f"column {wanted!r} named in codebook {codebook.path} (columns/{spec.name}) matches {positions} "
                "when case is ignored; rename one of them"
            )
        if len(matches) == 1:
            resolved[spec.name] = matches[0]
        else:
            absent.append(wanted)
    if absent:
        raise InputFileError(
            f"column(s) {', '.join(map(repr, absent))} named in codebook {codebook.path} "
            f"not found; the file has {', '.join(map(str, available[:30]))}"
        )
    return resolved


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
        The file as read, with its own column names; the index is the 0-based
        row position in the file (chunks keep their offset).
    metadata
        Value labels, user-missing codes and extended missing tags from the file.
    codebook
        The codebook of the source.
    source_file
        The file name, used in quarantine records and error messages.
    wave
        The survey wave, for codebooks whose variable names change between waves.

    Returns
    -------
    Harmonised
        ``data`` has one row per usable raw row (same index as ``raw``),
        ``nonresponse`` one row per missing item answer with its reason (``row``
        is the raw index), ``quarantine`` one row per unusable raw row with the
        first reason found (``row_number`` is 1-based).
    """
    try:
        names = source_columns(codebook, list(raw.columns), wave)
    except InputFileError as exc:
        raise InputFileError(f"{source_file}: {exc}") from None
    out: dict[str, pd.Series] = {}
    problems: list[pd.DataFrame] = []
    nonresponse: list[pd.DataFrame] = []
    for spec in codebook.columns:
        variable = names[spec.name]
        source = raw[variable]
        where = f"{source_file}, variable {variable} ({spec.name})"
        if spec.expect_label is not None:
            labels.check_variable_label(spec.expect_label, metadata.column_labels.get(variable), where)
        spec = _with_label_recode(spec, source, codebook, metadata, variable, where)
        try:
            values, reasons = _convert(source, spec, codebook, metadata, variable)
        except InputFileError as exc:  # dates that stop the run: name the file
            raise InputFileError(f"{source_file}: {exc}") from None
        out[spec.name] = values
        if reasons is not None and len(reasons):
            nonresponse.append(
                pd.DataFrame({"row": reasons.index, "variable": spec.name, "reason": reasons.to_numpy()})
            )
        if spec.type in PARSED_TYPES and not spec.required:
            unreadable = _present(source) & values.isna().to_numpy()
            if reasons is not None:
                unreadable &= ~source.index.isin(reasons.index)  # missing codes are missing, not unreadable
            if unreadable.any():
                problems.append(
                    pd.DataFrame(
                        {
                            "row": raw.index[unreadable],
                            "column": variable,
                            "value": source[unreadable].astype(str).to_numpy(),
                            "reason": f"unreadable value for {spec.name}: expected {_expected(spec, codebook.read)}",
                        }
                    )
                )
        if spec.required:
            bad = _unusable(values)
            if bad.any():
                problems.append(
                    pd.DataFrame(
                        {
                            "row": raw.index[bad],
                            "column": variable,
                            "value": source[bad].astype(str).to_numpy(),
                            "reason": _required_reasons(spec, codebook.read, reasons, raw.index[bad]),
                        }
                    )
                )
    data = pd.DataFrame(out, index=raw.index)
    from_name = codebook.file_name.constants(source_file) if codebook.file_name else {}
    for name, value in {**codebook.constants, **from_name}.items():
        data[name] = value
    data = _derive(data, codebook, source_file, ratios=codebook.party_rows is None)
    if codebook.kind != "register":  # registers are counted by category; other tables hold text
        data = _plain(data)
    quarantine = _quarantine_frame(problems, source_file)
    if codebook.party_rows is not None:
        data = _party_totals(raw, data, quarantine, codebook, source_file, names)
        return Harmonised(data, pd.DataFrame(columns=NONRESPONSE_COLUMNS), quarantine, names)
    keep = ~data.index.isin(quarantine["row_number"].to_numpy(dtype=np.int64) - 1)
    nonresponse_frame = (
        pd.concat(nonresponse, ignore_index=True) if nonresponse else pd.DataFrame(columns=NONRESPONSE_COLUMNS)
    )
    return Harmonised(data=data[keep], nonresponse=nonresponse_frame, quarantine=quarantine, source_names=names)


PARSED_TYPES = {"integer", "number", "date"}  # a present value that does not parse quarantines the row


def _present(source: pd.Series) -> np.ndarray:
    """Cells that hold something (not missing, not blank text)."""
    if pd.api.types.is_numeric_dtype(source) or pd.api.types.is_datetime64_any_dtype(source):
        return source.notna().to_numpy()
    return (source.notna() & (source.astype("string").str.strip() != "")).to_numpy(dtype=bool)


def _unusable(values: pd.Series) -> np.ndarray:
    """Missing values, and values flagged ``unknown:`` by a recode."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        flagged = np.append(values.cat.categories.astype(str).str.startswith("unknown:"), True)
        return flagged[values.cat.codes.to_numpy()]
    return values.isna().to_numpy()


def _plain(data: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns back to text (object, ``None`` when missing), as the canonical tables hold them."""
    for name in data.columns[[isinstance(t, pd.CategoricalDtype) for t in data.dtypes]]:
        values = data[name].astype(object).to_numpy(copy=True)
        values[pd.isna(values)] = None
        data[name] = pd.Series(values, index=data.index, dtype=object)
    return data


def _convert(
    source: pd.Series, spec: ColumnSpec, codebook: Codebook, metadata: FileMetadata, variable: str
) -> tuple[pd.Series, pd.Series | None]:
    """Convert one source column; returns the values and, for items, the missing reasons (sparse)."""
    if spec.type == "text":
        return _convert_text(source.mask(_text_missing(source, spec, metadata, variable)), spec), None
    if spec.type == "date":
        reasons = _with_masking_reasons(source, _date_code_reasons(source, spec, metadata, variable))
        return _convert_date(source.mask(source.index.isin(reasons.index)), spec, variable), reasons
    numbers = _to_number(source, codebook.read)
    item = spec.type in {"category", "outcome"}  # codebook-wide missing codes and system-missing reasons: items only
    own_codes = spec.missing_codes if spec.missing_codes is not None else codebook.missing_codes if item else {}
    numbers, reasons = _missing_reasons(source, numbers, own_codes, metadata, variable, record_empty=item)
    reasons = _with_masking_reasons(source, reasons)
    if spec.transform:
        numbers = _transform(numbers, spec)
    if spec.type == "category":
        return _recode_categories(numbers, spec), reasons
    if spec.recode:
        recoded = pd.to_numeric(_map_values(numbers, _numeric_recode(spec.recode, spec.name)).astype(object))
        if spec.type == "outcome":
            unmapped = numbers.notna() & recoded.isna()
            if unmapped.any():
                extra = pd.Series("not_in_recode", index=numbers.index[unmapped], dtype=object)
                reasons = extra if reasons is None else pd.concat([reasons, extra]).sort_index()
        numbers = recoded.astype(float)
    if spec.type == "integer":
        return numbers.mask(numbers % 1 != 0).astype("Int64"), reasons  # 2.5 is unreadable as an integer, not rounded
    return numbers.astype(float), reasons


def _convert_date(source: pd.Series, spec: ColumnSpec, variable: str) -> pd.Series:
    """Dates in the declared format only (typed dates of SPSS, Stata, SAS and Parquet files as they are).

    A value that does not fit the format is missing (the row is quarantined by the
    caller); nothing is inferred from the values.

    Raises
    ------
    InputFileError
        When no present value fits the format (the declaration is wrong), or a
        parsed date lies outside the column's plausible window; naming the column,
        the rows and the values.
    """
    if pd.api.types.is_datetime64_any_dtype(source):
        zoned = source.dt.tz is not None
        dates = (source.dt.tz_convert(spec.timezone).dt.tz_localize(None) if zoned else source).dt.normalize()
    else:
        codes, uniques = pd.factorize(source, use_na_sentinel=True)
        parsed = pd.to_datetime(pd.Series([_parse_date(value, spec) for value in uniques] + [None], dtype=object))
        dates = pd.Series(parsed.to_numpy()[codes], index=source.index).dt.normalize()
        present = codes >= 0
        if present.any() and dates[present].isna().all():
            row = source.index[present][0]
            raise InputFileError(
                f"column {variable} ({spec.name}): none of its {int(present.sum())} values is "
                f"{_expected(spec, ReadOptions())} (row {row + 1}: {source[row]!r}); "
                "declare the column's format in the codebook"
            )
    earliest, latest = spec.date_window or (dt.date.min, dt.date.max)
    outside = dates.notna() & ((dates < pd.Timestamp(earliest)) | (dates > pd.Timestamp(latest)))
    if outside.any():
        rows = ", ".join(f"row {row + 1}: {source[row]!r}" for row in dates.index[outside][:5])
        raise InputFileError(
            f"column {variable} ({spec.name}): {int(outside.sum())} date(s) outside the plausible window {earliest} to "
            f"{latest} ({rows}); check the declared format {spec.date_format!r}, or set earliest/latest for the column"
        )
    return dates


def _date_code_reasons(source: pd.Series, spec: ColumnSpec, metadata: FileMetadata, variable: str) -> pd.Series:
    """Reasons of the date cells that hold a missing code of the column (``missing_codes``) or of the file (sparse)."""
    if pd.api.types.is_datetime64_any_dtype(source):
        return pd.Series(dtype=object)
    coded = _text_missing(source, spec, metadata, variable)
    reasons = {_format_code(c) if isinstance(c, float) else str(c): r for c, r in (spec.missing_codes or {}).items()}
    reasons = {code.casefold(): reason for code, reason in reasons.items()}
    texts = normalise_ids(source[coded]).str.casefold()
    return texts.map(lambda text: reasons.get(text, f"missing_code_{text}")).astype(object)


def _parse_date(value: Any, spec: ColumnSpec) -> dt.datetime | dt.date | None:
    """One value in the column's declared format; None when it does not fit."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value  # a typed date in the file (pandas Timestamps are datetimes)
    fmt = spec.date_format or ""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        if not np.isfinite(value) or (fmt not in DATE_NUMBER_FORMATS and not float(value).is_integer()):
            return None
        value = str(int(value)) if float(value).is_integer() else str(value)
    text = str(value).strip()
    if fmt in DATE_NUMBER_FORMATS:
        if not re.fullmatch(r"-?\d+(\.\d+)?", text):
            return None
        origin, unit = DATE_NUMBER_FORMATS[fmt]
        try:
            if unit == "D":
                return origin + dt.timedelta(days=float(text))
            instant = (origin + dt.timedelta(seconds=float(text))).replace(tzinfo=dt.UTC)
            return instant.astimezone(zoneinfo.ZoneInfo(spec.timezone)).replace(tzinfo=None)  # the local date
        except (OverflowError, ValueError):
            return None
    try:
        parsed = dt.datetime.strptime(text, fmt)
    except ValueError:
        return None
    if spec.pivot_year is not None and "%y" in fmt:
        year = spec.pivot_year - (spec.pivot_year - parsed.year % 100) % 100
        try:
            parsed = parsed.replace(year=year)
        except ValueError:  # 29 February in a year that is not a leap year
            return None
    return parsed


def _convert_text(source: pd.Series, spec: ColumnSpec) -> pd.Series:
    """Strip, pad and recode the distinct values only; returns a categorical column."""
    codes, uniques = pd.factorize(source, use_na_sentinel=True)
    text = normalise_ids(pd.Series(uniques), f"column {spec.name}")  # NFC, trimmed, 301.0 and "301.0" -> "301"
    pad = ZERO_PAD.match(spec.transform or "")
    if pad:
        text = text.str.zfill(int(pad.group(1)))
    if spec.recode:
        mapped = text.map({str(k): str(v) for k, v in spec.recode.items()})
        unknown = text.notna() & mapped.isna()
        text = mapped.mask(unknown, "unknown:" + text)
    return _spread(codes, text.astype(object).where(text.notna(), None).to_numpy(), source.index)


def _spread(codes: np.ndarray, values: np.ndarray, index: pd.Index) -> pd.Series:
    """A categorical column whose row ``i`` is ``values[codes[i]]`` (code -1 or value None: missing)."""
    value_codes, categories = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    row_codes = np.append(value_codes, -1)[codes]
    return pd.Series(pd.Categorical.from_codes(row_codes, categories=pd.Index(categories, dtype=object)), index=index)


def _missing_reasons(
    source: pd.Series,
    numbers: pd.Series,
    missing_codes: dict[Any, str],
    metadata: FileMetadata,
    variable: str,
    record_empty: bool = True,
) -> tuple[pd.Series, pd.Series]:
    """Blank missing codes (the codebook's, the file's values and ranges); return the numbers and the reasons (sparse).

    ``record_empty`` also gives empty cells a reason (``system_missing``, ``unreadable``), as item answers need.
    """
    user_missing = metadata.missing_values.get(variable, [])
    codes = {**{float(v): f"missing_code_{_format_code(v)}" for v in user_missing if _is_number(v)}, **missing_codes}
    numeric_codes = [c for c in codes if isinstance(c, float)]
    is_code = numbers.isin(numeric_codes).to_numpy()
    for low, high in metadata.missing_ranges.get(variable, []):
        in_range = numbers.between(low, high).to_numpy() & ~is_code
        codes.update({float(v): f"missing_code_{_format_code(v)}" for v in pd.unique(numbers[in_range])})
        is_code = is_code | in_range
    empty = numbers.isna().to_numpy() & record_empty
    if not (is_code.any() or empty.any() or len(metadata.missing_tags.get(variable, []))):
        return numbers, pd.Series(dtype=object)
    reasons = pd.Series(np.nan, index=numbers.index, dtype=object)
    reasons[is_code] = numbers[is_code].map(codes)
    reasons[empty] = np.where(source[empty].isna().to_numpy(), "system_missing", "unreadable")
    tags = metadata.missing_tags.get(variable)
    if tags is not None and len(tags):
        tags = tags[tags.index.isin(reasons.index)]
        reasons[tags.index] = [codes.get(tag, f"missing_code_{tag}") for tag in tags]
    return numbers.mask(is_code), reasons.dropna()


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _text_missing(source: pd.Series, spec: ColumnSpec, metadata: FileMetadata, variable: str) -> np.ndarray:
    """Text cells equal to a missing code declared by the file or by the column (``missing_codes``)."""
    declared = {str(v).strip() for v in metadata.missing_values.get(variable, [])}
    declared |= {_format_code(c) if isinstance(c, float) else str(c) for c in (spec.missing_codes or {})}
    if not declared:
        return np.zeros(len(source), dtype=bool)
    return normalise_ids(source).str.casefold().isin({d.casefold() for d in declared}).to_numpy(dtype=bool)


def _with_label_recode(
    spec: ColumnSpec, source: pd.Series, codebook: Codebook, metadata: FileMetadata, variable: str, where: str
) -> ColumnSpec:
    """The spec with ``recode_labels`` turned into a code recode for this file (the spec itself without them)."""
    if spec.recode_labels is None:
        return spec
    if spec.type == "text" or (spec.type == "category" and not pd.api.types.is_numeric_dtype(source)):
        # text values (a CSV or spreadsheet wave) are their own labels
        texts = normalise_ids(pd.Series(pd.unique(source.dropna()))).dropna()
        wanted = {labels.same_label(k): v for k, v in spec.recode_labels.items()}
        recode = {text: wanted[labels.same_label(text)] for text in texts if labels.same_label(text) in wanted}
        own_codes = spec.missing_codes if spec.missing_codes is not None else codebook.missing_codes
        return replace(spec, type="text", recode={**recode, **(spec.recode or {})}, missing_codes=own_codes)
    own_codes = spec.missing_codes if spec.missing_codes is not None else codebook.missing_codes
    missing = {c for c in own_codes if isinstance(c, float)} | {
        float(v) for v in metadata.missing_values.get(variable, []) if _is_number(v)
    }
    missing |= {
        code
        for code in map(labels.code_key, metadata.value_labels.get(variable, {}))
        if isinstance(code, float)
        and any(low <= code <= high for low, high in metadata.missing_ranges.get(variable, []))
    }
    rules = _numeric_recode(spec.recode, where) if spec.recode else []
    recode = labels.label_recode(spec.recode_labels, metadata.value_labels.get(variable, {}), rules, missing, where)
    return replace(spec, recode={**recode, **(spec.recode or {})})


def _to_number(source: pd.Series, read: ReadOptions) -> pd.Series:
    """Numbers as statistics offices write them (see :func:`_number_pattern`); anything else is NaN.

    Typed numbers (spreadsheet cells, statistical files) are taken as they are, not re-read with the decimal mark.
    """
    if pd.api.types.is_numeric_dtype(source):
        return source.astype(float)
    codes, uniques = pd.factorize(source, use_na_sentinel=True)
    pattern = _number_pattern(read.decimal, read.thousands)
    parsed = np.array(
        [
            float(value)
            if isinstance(value, (int, float)) and not isinstance(value, bool)  # typed cells
            else _parse_number(str(value), pattern)
            for value in uniques
        ]
        + [np.nan],
        dtype=float,
    )
    return pd.Series(parsed[codes], index=source.index)


SPACES = " \u00a0\u202f\u2009"  # space, no-break space, narrow no-break space, thin space
MINUS_SIGNS = "-\u2212"  # hyphen-minus and the minus sign U+2212
# Symbols statistics offices print instead of a value (SSB, SCB, Eurostat), with the reason recorded for them.
MASKING_SYMBOLS = {
    "..": "suppressed_not_available",
    "...": "suppressed_not_yet_available",
    "\u2026": "suppressed_not_yet_available",
    ":": "suppressed_confidential",
    "x": "suppressed_confidential",
    "-": "suppressed_nil",
    "\u2013": "suppressed_nil",
}


@lru_cache(maxsize=16)
def _number_pattern(decimal: str, thousands: str | None) -> re.Pattern[str]:
    """A full-match pattern for one number: sign, digits in groups of three or ungrouped, decimals, exponent.

    Thousands separators are the spaces in ``SPACES`` always, ``.`` when the decimal
    mark is ``,``, and the codebook's ``read.thousands``; one value uses one separator,
    and every group after the first has three digits (``1.5`` with a decimal comma is
    not a number).
    """
    separators = set(SPACES) | ({"."} if decimal == "," else set()) | ({thousands} if thousands else set())
    separators.discard(decimal)
    group = "|".join(re.escape(sep) for sep in sorted(separators))
    return re.compile(
        rf"(?P<sign>[{re.escape(MINUS_SIGNS)}+]?)"
        rf"(?P<digits>\d{{1,3}}(?P<sep>{group})\d{{3}}(?:(?P=sep)\d{{3}})*|\d+)"
        rf"(?:{re.escape(decimal)}(?P<fraction>\d+))?(?P<exponent>[eE][-+]?\d+)?"
    )


def _parse_number(text: str, pattern: re.Pattern[str]) -> float:
    match = pattern.fullmatch(text.strip(SPACES))
    if match is None:
        return np.nan
    digits = match["digits"].replace(match["sep"], "") if match["sep"] else match["digits"]
    sign = "-" if match["sign"] and match["sign"] != "+" else ""
    return float(f"{sign}{digits}.{match['fraction'] or '0'}{match['exponent'] or ''}")


def _with_masking_reasons(source: pd.Series, reasons: pd.Series | None) -> pd.Series | None:
    """Add (or put in place of ``unreadable``) the reason of each cell holding a masking symbol."""
    if pd.api.types.is_numeric_dtype(source):
        return reasons
    codes, uniques = pd.factorize(source, use_na_sentinel=True)  # distinct values only: register chunks are long
    symbols = [MASKING_SYMBOLS.get(str(value).strip(SPACES).lower()) for value in uniques]
    symbols = np.array([*symbols, None], dtype=object)  # code -1 (missing) picks the final None
    masked = pd.Series(symbols[codes], index=source.index, dtype=object).dropna()
    if masked.empty:
        return reasons
    if reasons is None or reasons.empty:
        return masked
    return pd.concat([reasons.drop(masked.index, errors="ignore"), masked]).sort_index()


def _expected(spec: ColumnSpec, read: ReadOptions) -> str:
    """What a readable value of the column looks like, for quarantine reasons."""
    if spec.type == "date":
        written = "%" in str(spec.date_format)
        return f"a date written {spec.date_format!r}" if written else f"a date as {spec.date_format}"
    if spec.recode_labels:
        return "one of the labels " + ", ".join(repr(label) for label in spec.recode_labels)
    if spec.type == "text":
        return "a text that is not empty"
    kind = "a whole number" if spec.type == "integer" else "a number"
    separators = "space, no-break space, narrow no-break space" + (", '.'" if read.decimal == "," else "")
    separators += f", {read.thousands!r}" if read.thousands and read.thousands not in SPACES + "." else ""
    return f"{kind} (decimal mark {read.decimal!r}, thousands separator {separators})"


def _required_reasons(spec: ColumnSpec, read: ReadOptions, reasons: pd.Series | None, rows: pd.Index) -> Any:
    """The quarantine reason of each row without a usable required value: its missing reason when it has one."""
    generic = f"missing or unreadable required value for {spec.name} ({spec.type}): expected {_expected(spec, read)}"
    if reasons is None or reasons.empty:
        return generic
    given = reasons[~reasons.index.duplicated()].reindex(rows)
    return np.where(given.notna(), f"required value for {spec.name} is missing: " + given.astype(str), generic)


def _format_code(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _numeric_recode(recode: dict[Any, Any], where: str) -> list[tuple[float, float, Any]]:
    """Recode keys as inclusive intervals: a code ``3`` is ``[3, 3]``, a range ``"10-12"`` is ``[10, 12]``."""
    rules = []
    for key, value in recode.items():
        match = RANGE_KEY.match(str(key))
        try:
            low, high = (float(match.group(1)), float(match.group(2))) if match else (float(key), float(key))
        except ValueError:
            raise ConfigError(
                f"{where}: recode key {key!r} is neither a numeric code nor a range such as '10-12'"
            ) from None
        if low > high:
            raise ConfigError(f"{where}: recode range {key!r} runs backwards (write low-high)")
        rules.append((low, high, value))
    spans = sorted(zip(rules, recode))
    for ((_, high, _), key), ((next_low, _, _), next_key) in zip(spans, spans[1:]):
        if next_low <= high:  # the first one listed would win silently
            shared = _format_code(next_low)
            raise ConfigError(f"{where}: recode keys {key!r} and {next_key!r} overlap ({shared} is in both)")
    return rules


def _map_values(numbers: pd.Series, rules: list[tuple[float, float, Any]]) -> pd.Series:
    """Apply interval rules to the distinct values only (fast on millions of rows); categorical result."""
    codes, uniques = pd.factorize(numbers, use_na_sentinel=True)
    mapped = np.array([_first_match(value, rules) for value in uniques], dtype=object)
    return _spread(codes, mapped, numbers.index)


def _first_match(value: float, rules: list[tuple[float, float, Any]]) -> Any:
    return next((target for low, high, target in rules if low <= value <= high), None)


def _recode_categories(numbers: pd.Series, spec: ColumnSpec) -> pd.Series:
    rules = [(low, high, str(value)) for low, high, value in _numeric_recode(spec.recode or {}, spec.name)]
    rules += [(value, value, "unknown:" + _format_code(value)) for value in pd.unique(numbers.dropna())]
    return _map_values(numbers, rules)


def _transform(numbers: pd.Series, spec: ColumnSpec) -> pd.Series:
    if spec.transform == "reverse":
        low, high = spec.scale or (numbers.min(), numbers.max())
        return low + high - numbers
    if spec.transform == "rescale":
        (low, high), (new_low, new_high) = spec.scale, spec.to
        return new_low + (numbers - low) * (new_high - new_low) / (high - low)
    return TRANSFORMS.get(spec.transform, lambda v: v)(numbers)


TRANSFORMS = {
    "deciles_to_quintiles": lambda v: np.ceil(v / 2),
    "percent_to_share": lambda v: v / 100.0,
    # zero_pad_N applies to text; age_from_birth_year is completed in _derive, which knows the date
}


def canonical_value(spec: ColumnSpec, code: float) -> float | None:
    """The canonical value source code ``code`` of numeric column ``spec`` would get as an answer (transform, then recode).

    None when the code recode does not map it, or when ``reverse`` has no declared ``scale`` (it then depends on the data).
    """
    if spec.transform == "reverse" and spec.scale is None:
        return None
    value = float(_transform(pd.Series([float(code)]), spec).iloc[0]) if spec.transform else float(code)
    if spec.recode:
        target = _first_match(value, _numeric_recode(spec.recode, spec.name))
        return None if target is None else float(target)
    return value


def _derive(data: pd.DataFrame, codebook: Codebook, source_file: str = "", ratios: bool = True) -> pd.DataFrame:
    """Add derived columns (age from birth year, age groups, area codes, election dates; ratios unless ``ratios`` is False)."""
    for spec in (s for s in codebook.columns if s.transform == "age_from_birth_year"):
        year = _reference_year(data, codebook, spec)
        data[spec.name] = year - data[spec.name]
    for name, rule in codebook.derived.items():
        if ratios or rule["rule"] != "ratio":
            where = f"{source_file + ': ' if source_file else ''}{codebook.path}: derived/{name}"
            data[name] = _derived_column(data, rule, where)
    return data


def _party_totals(
    raw: pd.DataFrame,
    data: pd.DataFrame,
    quarantine: pd.DataFrame,
    codebook: Codebook,
    source_file: str,
    names: dict[str, str],
) -> pd.DataFrame:
    """One row per area and election from a party-row file (see :mod:`evaluation.sources.party_rows`), ratios derived.

    A party row that cannot be used stops the run: setting it aside would undercount its area's votes.
    """
    if len(quarantine):
        first = quarantine.iloc[0]
        raise InputFileError(
            f"{source_file}: {len(quarantine)} party row(s) cannot be used (row {first['row_number']}, column "
            f"{first['column']}, value {first['value']!r}: {first['reason']}); a party row cannot be set aside "
            "without undercounting its area's votes, so the file must be corrected"
        )
    spec = codebook.party_rows
    columns = [_party_column(raw, name, codebook, source_file) for name in spec.party]
    party = raw[columns[0]].astype("string").str.strip()
    for column in columns[1:]:
        party = party + " / " + raw[column].astype("string").str.strip().fillna("")
    totals = party_rows.aggregate(data, party.loc[data.index], spec, source_file, names)
    ratio_rules = {name: rule for name, rule in codebook.derived.items() if rule["rule"] == "ratio"}
    for name, rule in ratio_rules.items():
        totals[name] = _derived_column(totals, rule, f"{source_file}: {codebook.path}: derived/{name}")
    return totals


def _party_column(raw: pd.DataFrame, name: str, codebook: Codebook, source_file: str) -> Any:
    """The file's column ``name`` of ``party_rows/party`` (exact, else ignoring case and surrounding spaces)."""
    matches = [c for c in raw.columns if str(c) == name] or [
        c for c in raw.columns if str(c).strip().lower() == name.strip().lower()
    ]
    if len(matches) != 1:
        raise InputFileError(
            f"{source_file}: party column {name!r} named in codebook {codebook.path} (party_rows/party) "
            f"{'not found' if not matches else 'matches ' + ' and '.join(map(repr, matches))}; "
            f"the file has {', '.join(map(str, list(raw.columns)[:30]))}"
        )
    return matches[0]


def _reference_year(data: pd.DataFrame, codebook: Codebook, spec: ColumnSpec) -> pd.Series | float:
    """The year age is counted at: the interview or participation date, else the election year."""
    for date in ("interview_date", "participation_date"):
        if date in data:
            return data[date].dt.year
    if "election_year" in data:
        return pd.to_numeric(data["election_year"], errors="coerce").astype(float)
    raise ConfigError(
        f"{codebook.path}: columns/{spec.name}: age_from_birth_year needs an interview_date, participation_date "
        "or election_year column (or constant)"
    )


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
        cut = pd.cut(data[sources[0]].astype(float), bins=bins, labels=rule["labels"], right=False)
        return cut
    if kind == "election_calendar":
        if "country" not in rule or len(sources) != 2:
            raise ConfigError(f"{where}: rule election_calendar needs from: [election_type, election_year] and country")
        return calendars.election_dates(rule["country"], data[sources[0]], data[sources[1]], where)
    if kind == "ratio":
        return data[sources[0]] / data[sources[1]]
    if kind == "prefix":
        if "length" not in rule or len(sources) != 1:
            raise ConfigError(f"{where}: rule prefix needs from: [one text column] and length")
        text = data[sources[0]].astype("string")
        short = text.notna() & (text.str.len() < rule["length"])
        if short.any():
            row = short[short].index[0]
            raise InputFileError(
                f"{where}: {sources[0]} {text[row]!r} (row {row + 1}) is shorter than the {rule['length']} characters "
                "its prefix takes"
            )
        return text.str[: rule["length"]].astype(object)
    raise ConfigError(f"{where}: unknown rule {kind!r}")


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
