"""Read one input file of any supported format into a DataFrame plus its metadata.

Every reader returns the data with the file's own column names and a
:class:`FileMetadata` holding variable labels, value labels and user-defined
missing values, so that codebooks can map codes to canonical categories and
keep the reason an answer is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyreadstat

from evaluation.errors import InputFileError

STATISTICAL_FORMATS = {
    ".sav": "spss",
    ".zsav": "spss",
    ".por": "spss_por",
    ".dta": "stata",
    ".sas7bdat": "sas",
    ".xpt": "sas_xport",
}
TABLE_FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "excel", ".parquet": "parquet"}


@dataclass
class FileMetadata:
    """What a file says about its variables beyond the values themselves."""

    column_labels: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict[Any, str]] = field(default_factory=dict)
    missing_values: dict[str, list[Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class ReadOptions:
    """How to read a text or spreadsheet file (ignored for self-describing formats)."""

    sep: str | None = None
    decimal: str = "."
    thousands: str | None = None
    encoding: str | None = None
    sheet: str | int = 0
    header_row: int = 0

    @classmethod
    def from_mapping(cls, mapping: dict[str, Any] | None) -> "ReadOptions":
        return cls(**(mapping or {}))


def file_format(path: Path) -> str:
    """Return the format name for a path from its extension, or raise InputFileError."""
    suffix = path.suffix.lower()
    fmt = STATISTICAL_FORMATS.get(suffix) or TABLE_FORMATS.get(suffix)
    if fmt is None:
        known = ", ".join(sorted({*STATISTICAL_FORMATS, *TABLE_FORMATS}))
        raise InputFileError(f"{path}: unsupported file extension {suffix!r}; expected one of {known}")
    return fmt


def read_file(path: Path, options: ReadOptions = ReadOptions()) -> tuple[pd.DataFrame, FileMetadata]:
    """Read ``path`` into a DataFrame with its metadata.

    Parameters
    ----------
    path
        The input file; its extension selects the reader.
    options
        Separator, decimal mark, encoding and sheet for CSV and Excel files.

    Returns
    -------
    data, metadata
        Text files are read with every column as text (codes keep leading zeros);
        statistical files keep numeric codes, with user-defined missing codes left
        in place (``user_missing=True``) so their reason can be recorded.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise InputFileError(f"{path}: file is empty (0 bytes)")
    fmt = file_format(path)
    try:
        if fmt in {"csv", "excel", "parquet"}:
            return _read_table(path, fmt, options), FileMetadata()
        return _read_statistical(path, fmt)
    except InputFileError:
        raise
    except Exception as exc:  # readers raise many types; name the file in one of ours
        raise InputFileError(f"{path}: cannot be read as {fmt}: {exc}") from exc


def _read_statistical(path: Path, fmt: str) -> tuple[pd.DataFrame, FileMetadata]:
    readers = {
        "spss": lambda p: pyreadstat.read_sav(p, user_missing=True),
        "spss_por": lambda p: pyreadstat.read_por(p),
        "stata": lambda p: pyreadstat.read_dta(p, user_missing=True),
        "sas": lambda p: pyreadstat.read_sas7bdat(p, user_missing=True),
        "sas_xport": lambda p: pyreadstat.read_xport(p),
    }
    data, meta = readers[fmt](str(path))
    missing = {
        name: [value for rng in ranges for value in _range_values(rng)]
        for name, ranges in (getattr(meta, "missing_ranges", None) or {}).items()
    }
    for name, values in (getattr(meta, "missing_user_values", None) or {}).items():
        missing.setdefault(name, []).extend(values)
    labels = dict(zip(meta.column_names, meta.column_labels or [None] * len(meta.column_names)))
    return data, FileMetadata(
        column_labels={k: v for k, v in labels.items() if v},
        value_labels=dict(meta.variable_value_labels or {}),
        missing_values=missing,
    )


def _range_values(rng: dict[str, Any]) -> list[Any]:
    low, high = rng["lo"], rng["hi"]
    if low == high:
        return [low]
    if isinstance(low, (int, float)) and float(low).is_integer() and float(high).is_integer():
        return list(range(int(low), int(high) + 1))
    return [low, high]


def _read_table(path: Path, fmt: str, options: ReadOptions) -> pd.DataFrame:
    if fmt == "parquet":
        return pd.read_parquet(path)
    if fmt == "excel":
        return pd.read_excel(path, sheet_name=options.sheet, header=options.header_row, dtype=str)
    encoding = options.encoding or _detect_encoding(path)
    return pd.read_csv(
        path,
        sep=options.sep,
        engine="python" if options.sep is None else "c",
        encoding=encoding,
        dtype=str,
        keep_default_na=False,
        na_values=[""],
        skiprows=options.header_row,
    )


def _detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the bytes decode as such, else cp1252."""
    raw = path.read_bytes()[: 1 << 20]
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"
