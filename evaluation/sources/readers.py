"""Read one input file of any supported format into a DataFrame plus its metadata.

Every reader returns the data with the file's own column names and a
:class:`FileMetadata` holding variable labels, value labels and user-defined
missing values, so that codebooks can map codes to canonical categories and
keep the reason an answer is missing.

Formats: SPSS (``.sav``, compressed ``.zsav``, portable ``.por``), Stata
(``.dta``), SAS (``.sas7bdat``, transport ``.xpt``), text (``.csv``, ``.txt``,
``.tsv``), Excel (``.xlsx``), Parquet and JSON-stat 2 (``.json``, PxWeb). Stata and SAS extended missing values
(``.a``-``.z``, SAS ``.A``-``.Z`` and ``._``) become missing, and their tag is
kept in :attr:`FileMetadata.missing_tags` so a codebook can give the reason.
"""

from __future__ import annotations

import codecs
import fnmatch
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pyreadstat

from evaluation.errors import InputFileError
from evaluation.sources.jsonstat import read_jsonstat

STATISTICAL_FORMATS = {
    ".sav": "spss",
    ".zsav": "spss",
    ".por": "spss_por",
    ".dta": "stata",
    ".sas7bdat": "sas",
    ".xpt": "sas_xport",
}
TABLE_FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "excel",
    ".parquet": "parquet",
    ".json": "jsonstat",  # JSON-stat 2 datasets from PxWeb (SSB, SCB): evaluation/sources/jsonstat.py
}
# pyreadstat readers; user_missing keeps SPSS user-missing codes and Stata/SAS tagged missing values.
PYREADSTAT_READERS: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {
    "spss": (pyreadstat.read_sav, {"user_missing": True}),
    "spss_por": (pyreadstat.read_por, {}),
    "stata": (pyreadstat.read_dta, {"user_missing": True}),
    "sas": (pyreadstat.read_sas7bdat, {"user_missing": True}),
    "sas_xport": (pyreadstat.read_xport, {}),
}


@dataclass
class FileMetadata:
    """What a file says about its variables beyond the values themselves.

    ``missing_values`` holds the discrete user-missing codes per column and
    ``missing_ranges`` the SPSS user-missing ranges as inclusive ``(low, high)``
    intervals. ``missing_tags`` holds, per column, the Stata/SAS extended missing
    tag (``".a"``, ``".b"``, ...) of each row that had one, indexed by row position.
    """

    column_labels: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict[Any, str]] = field(default_factory=dict)
    missing_values: dict[str, list[Any]] = field(default_factory=dict)
    missing_ranges: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    missing_tags: dict[str, pd.Series] = field(default_factory=dict)


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
    def from_mapping(cls, mapping: dict[str, Any] | None) -> ReadOptions:
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
        spreadsheet cells keep their type (text, number, date); statistical files
        keep numeric codes, with user-defined missing codes left in place
        (``user_missing=True``) so their reason can be recorded.
    """
    path, fmt = _checked(path)
    with _naming(path, fmt):
        if fmt in {"csv", "excel", "parquet", "jsonstat"}:
            data, metadata = _read_table(path, fmt, options), FileMetadata()
        else:
            reader, kwargs = PYREADSTAT_READERS[fmt]
            data, meta = reader(str(path), **kwargs)
            check_header(path, list(meta.column_names))
            data, metadata = _with_metadata(data, meta, offset=0)
    if data.empty:
        raise InputFileError(f"{path}: has a header ({len(data.columns)} columns) but no data rows")
    return data, metadata


def iter_chunks(
    path: Path,
    options: ReadOptions = ReadOptions(),
    columns: list[str] | None = None,
    chunksize: int = 500_000,
) -> Iterator[tuple[pd.DataFrame, FileMetadata]]:
    """Read ``path`` in chunks of ``chunksize`` rows, keeping only ``columns``.

    Each chunk's index is the 0-based row position in the whole file, so row
    numbers in quarantine records stay right. Statistical files are read with
    ``pyreadstat.read_file_in_chunks``, CSV with ``pandas.read_csv(chunksize=)``,
    Parquet by row group batches; Excel is read whole (sheets are small).
    """
    path, fmt = _checked(path)
    with _naming(path, fmt):
        if fmt in PYREADSTAT_READERS:
            yield from _statistical_chunks(path, fmt, columns, chunksize)
        elif fmt == "csv":
            yield from _csv_chunks(path, options, columns, chunksize)
        elif fmt == "parquet":
            yield from _parquet_chunks(path, columns, chunksize)
        else:
            data = _read_table(path, fmt, options)
            yield (data[columns] if columns else data), FileMetadata()


def available_columns(path: Path, options: ReadOptions = ReadOptions()) -> list[str]:
    """The column names of ``path`` without reading its rows (header or metadata only)."""
    path, fmt = _checked(path)
    with _naming(path, fmt):
        if fmt in PYREADSTAT_READERS:
            reader, _ = PYREADSTAT_READERS[fmt]
            return check_header(path, list(reader(str(path), metadataonly=True)[1].column_names))
        if fmt == "parquet":
            return check_header(path, list(pq.ParquetFile(path).schema_arrow.names))
        return list(_read_table(path, fmt, options, nrows=0).columns)


def _checked(path: Path) -> tuple[Path, str]:
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise InputFileError(f"{path}: file is empty (0 bytes)")
    return path, file_format(path)


@contextmanager
def _naming(path: Path, fmt: str) -> Iterator[None]:
    """Turn any reader exception into an InputFileError naming the file and format."""
    try:
        yield
    except InputFileError:
        raise
    except Exception as exc:  # readers raise many types; name the file in one of ours
        actual = sniff_format(path)
        hint = (
            f"; its first bytes say it is a {actual} file (check the extension)"
            if actual and not fmt.startswith(actual.lower())
            else ""
        )
        raise InputFileError(f"{path}: cannot be read as {fmt}: {exc}{hint}") from exc


FILE_SIGNATURES = (
    (b"$FL2", "SPSS"),
    (b"$FL3", "SPSS"),
    (b"<stata_dta>", "Stata"),
    (b"PAR1", "Parquet"),
    (b"PK\x03\x04", "Excel (zip)"),
    (b"HEADER RECORD*******LIBRARY", "SAS transport"),
)


def sniff_format(path: Path) -> str | None:
    """The format a file's first bytes announce, or None (old Stata versions 113–115 included)."""
    with open(path, "rb") as handle:
        head = handle.read(32)
    for signature, name in FILE_SIGNATURES:
        if head.startswith(signature):
            return name
    if len(head) > 1 and head[0] in (113, 114, 115) and head[1] in (1, 2):
        return "Stata"
    return None


def _statistical_chunks(
    path: Path, fmt: str, columns: list[str] | None, chunksize: int
) -> Iterator[tuple[pd.DataFrame, FileMetadata]]:
    reader, kwargs = PYREADSTAT_READERS[fmt]
    check_header(path, list(reader(str(path), metadataonly=True)[1].column_names))
    offset = 0
    for data, meta in pyreadstat.read_file_in_chunks(reader, str(path), chunksize=chunksize, usecols=columns, **kwargs):
        yield _with_metadata(data, meta, offset)
        offset += len(data)


def _with_metadata(data: pd.DataFrame, meta: Any, offset: int) -> tuple[pd.DataFrame, FileMetadata]:
    """Index rows by file position, move extended missing tags out of the data, collect labels."""
    data.index = pd.RangeIndex(offset, offset + len(data))
    tags = _extract_missing_tags(data, getattr(meta, "missing_user_values", None) or {})
    missing: dict[str, list[Any]] = {}
    missing_ranges: dict[str, list[tuple[float, float]]] = {}
    for name, ranges in (getattr(meta, "missing_ranges", None) or {}).items():
        for rng in ranges:  # SPSS: discrete values come as lo == hi, ranges (96 THRU 99, LO THRU -1) as intervals
            if rng["lo"] == rng["hi"]:
                missing.setdefault(name, []).append(rng["lo"])
            else:
                missing_ranges.setdefault(name, []).append((float(rng["lo"]), float(rng["hi"])))
    if not tags:  # SPSS discrete user-missing values (Stata/SAS tags are handled above)
        for name, values in (getattr(meta, "missing_user_values", None) or {}).items():
            missing.setdefault(name, []).extend(values)
    labels = dict(zip(meta.column_names, meta.column_labels or [None] * len(meta.column_names)))
    value_labels = {
        name: {_tag_key(code): label for code, label in codes.items()}
        for name, codes in (meta.variable_value_labels or {}).items()
    }
    return data, FileMetadata(
        column_labels={k: v for k, v in labels.items() if v},
        value_labels=value_labels,
        missing_values=missing,
        missing_ranges=missing_ranges,
        missing_tags=tags,
    )


def _extract_missing_tags(data: pd.DataFrame, user_values: dict[str, list[Any]]) -> dict[str, pd.Series]:
    """Replace Stata/SAS extended missing letters by NaN in place; return their tags per column."""
    tags: dict[str, pd.Series] = {}
    for name, letters in user_values.items():
        if name not in data or not any(isinstance(v, str) for v in letters):
            continue
        column = data[name]
        is_tag = column.isin(letters)
        tags[name] = ("." + column[is_tag].astype(str).str.lower()).astype(object)
        data[name] = pd.to_numeric(column.mask(is_tag), errors="coerce").astype(float)
    return tags


def _tag_key(code: Any) -> Any:
    """Stata/SAS tagged-missing value labels are keyed by letter; key them as ``.a`` like the tags."""
    return "." + code.lower() if isinstance(code, str) and len(code) == 1 and (code.isalpha() or code == "_") else code


def _read_table(path: Path, fmt: str, options: ReadOptions, nrows: int | None = None) -> pd.DataFrame:
    if fmt == "jsonstat":
        data = read_jsonstat(path)
        return data if nrows is None else data.head(nrows)
    if fmt == "parquet":
        check_header(path, list(pq.ParquetFile(path).schema_arrow.names))
        return pd.read_parquet(path)
    if fmt == "excel":
        return _read_excel(path, options, nrows)
    _check_csv_header(path, options)
    data = pd.read_csv(path, **_csv_arguments(path, options), nrows=nrows)
    _check_separator(path, data, options)
    return data


def _read_excel(path: Path, options: ReadOptions, nrows: int | None) -> pd.DataFrame:
    sheets = pd.ExcelFile(path).sheet_names
    sheet = _sheet(path, options.sheet, sheets)
    header = pd.read_excel(path, sheet_name=sheet, header=None, skiprows=options.header_row, nrows=1, dtype=str)
    check_header(path, [str(name) for name in header.iloc[0].dropna()] if len(header) else [], f"sheet {sheet!r}")
    # cells keep their type: a number cell is not re-read with the text decimal mark, a date cell is a date
    data = pd.read_excel(path, sheet_name=sheet, header=options.header_row, dtype=object, nrows=nrows)
    unnamed = [str(c) for c in data.columns if str(c).startswith("Unnamed:")]
    if unnamed and len(unnamed) == len(data.columns):
        raise InputFileError(
            f"{path}, sheet {sheet!r}: row {options.header_row + 1} has no column names; "
            "set read.header_row to the 0-based row that holds the header"
        )
    return data


def _sheet(path: Path, sheet: str | int, sheets: list[str]) -> str | int:
    """The sheet ``read.sheet`` names: a name, a 0-based number, or a pattern with ``*`` that one sheet matches.

    Valmyndigheten names a workbook's sheet after its election (``R antal``, ``K antal``), so one
    codebook reads every election's workbook with ``sheet: "* antal"``.
    """
    if isinstance(sheet, str) and "*" in sheet:
        matches = [name for name in sheets if fnmatch.fnmatchcase(name, sheet)]
        if len(matches) == 1:
            return matches[0]
        raise InputFileError(
            f"{path}: read.sheet pattern {sheet!r} matches {len(matches)} sheets ({matches}); the workbook has sheets "
            f"{sheets}, and the pattern must match exactly one"
        )
    if (isinstance(sheet, str) and sheet not in sheets) or (isinstance(sheet, int) and not 0 <= sheet < len(sheets)):
        raise InputFileError(
            f"{path}: sheet {sheet!r} not found; the workbook has sheets {sheets} "
            "(read.sheet takes a name, a 0-based number or a pattern with *)"
        )
    return sheet


def _csv_arguments(path: Path, options: ReadOptions) -> dict[str, Any]:
    return dict(
        sep=options.sep,
        engine="python" if options.sep is None else "c",
        encoding=text_encoding(path, options.encoding),
        dtype=str,
        keep_default_na=False,
        na_values=[""],
        skiprows=options.header_row,
    )


def _csv_chunks(
    path: Path, options: ReadOptions, columns: list[str] | None, chunksize: int
) -> Iterator[tuple[pd.DataFrame, FileMetadata]]:
    _check_csv_header(path, options)
    with pd.read_csv(path, **_csv_arguments(path, options), usecols=columns, chunksize=chunksize) as reader:
        for chunk in reader:
            yield chunk, FileMetadata()


def check_header(path: Path, names: list[str], where: str = "") -> list[str]:
    """Return ``names`` when no two are equal; else InputFileError naming the file and both column positions.

    Readers rename a repeated name (pandas makes ``x`` and ``x.1``), after which
    a codebook would bind one of them silently, so the header as written is checked.
    """
    first: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name in first:
            place = f"{path}, {where}" if where else str(path)
            raise InputFileError(
                f"{place}: column name {name!r} appears twice in the header (columns {first[name]} and {position}); "
                "every column needs its own name"
            )
        first[name] = position
    return names


def _check_csv_header(path: Path, options: ReadOptions) -> None:
    """Check the header row as written (before pandas renames repeats)."""
    arguments = {**_csv_arguments(path, options), "header": None, "nrows": 1}
    header = pd.read_csv(path, **arguments)
    check_header(path, [] if header.empty else [str(name) for name in header.iloc[0].dropna()])


def _parquet_chunks(
    path: Path, columns: list[str] | None, chunksize: int
) -> Iterator[tuple[pd.DataFrame, FileMetadata]]:
    check_header(path, list(pq.ParquetFile(path).schema_arrow.names))
    offset = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=chunksize, columns=columns):
        data = batch.to_pandas()
        data.index = pd.RangeIndex(offset, offset + len(data))
        offset += len(data)
        yield data, FileMetadata()


def _check_separator(path: Path, data: pd.DataFrame, options: ReadOptions) -> None:
    """A declared separator that leaves one column, while the header has another, is a wrong separator."""
    if options.sep is None or len(data.columns) != 1:
        return
    header = str(data.columns[0])
    others = [s for s in (";", ",", "\t", "|") if s != options.sep and s in header]
    if others:
        raise InputFileError(
            f"{path}: read.sep is {options.sep!r} but the header line {header[:80]!r} has no such separator; "
            f"it looks separated by {others[0]!r}"
        )


def text_encoding(path: Path, declared: str | None = None) -> str:
    """The encoding a text file is read with, checked by decoding the whole file (never a prefix).

    A declared encoding must decode every byte. Without one: a UTF-16 or UTF-8
    byte-order mark, else UTF-8 when the whole file decodes as such, else cp1252,
    but only when the file has no byte in 0x80-0x9F (those bytes are letters in
    cp865 and mac_roman and punctuation in cp1252, so choosing would be a guess).

    Raises
    ------
    InputFileError
        Naming the file, the line and the byte offset of the first byte that
        does not decode, and what to declare in ``read.encoding``.
    """
    path = Path(path)
    stat = path.stat()
    return _checked_encoding(path, declared, stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=64)
def _checked_encoding(path: Path, declared: str | None, size: int, mtime_ns: int) -> str:
    """:func:`text_encoding` for one version of a file (size and mtime key the cache)."""
    if declared:
        failure = _decode_failure(path, declared)
        if failure:
            raise InputFileError(f"{path}: does not decode as the declared read.encoding {declared!r}: {failure}")
        return declared
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig" if head.startswith(b"\xef\xbb\xbf") else "utf-8"
    failure = _decode_failure(path, encoding)
    if not failure:
        return encoding
    if encoding == "utf-8":
        ambiguous = _first_byte_in(path, bytes(range(0x80, 0xA0)))
        if ambiguous is None and not _decode_failure(path, "cp1252"):
            return "cp1252"
        if ambiguous is not None:
            line, offset, byte = ambiguous
            failure += (
                f"; byte 0x{byte:02x} (line {line}, byte offset {offset}) is a different character in cp1252, "
                "cp865 and mac_roman, so no encoding is assumed"
            )
    raise InputFileError(
        f"{path}: is not {encoding}: {failure}; declare the file's encoding in the codebook's "
        "read.encoding (for example cp1252, latin-1 or cp865)"
    )


DECODE_BLOCK = 1 << 20  # bytes decoded at a time; the whole file is decoded, block by block


def _decode_failure(path: Path, encoding: str) -> str | None:
    """Decode the whole file; None when it decodes, else where it fails (line, byte offset, byte value)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset, lines = 0, 0
    with open(path, "rb") as handle:
        while True:
            block = handle.read(DECODE_BLOCK)
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                position = offset - pending + exc.start  # exc.start counts the bytes the decoder still held
                before = exc.start - pending
                line = lines + (block[: max(before, 0)].count(b"\n")) + 1
                byte = exc.object[exc.start]
                return f"line {line}, byte offset {position} (0-based), byte 0x{byte:02x} ({exc.reason})"
            if not block:
                return None
            lines += block.count(b"\n")
            offset += len(block)


def _first_byte_in(path: Path, values: bytes) -> tuple[int, int, int] | None:
    """Line (1-based), byte offset and value of the first byte of ``values`` in the file, or None."""
    table = bytes(range(256))
    offset, lines = 0, 0
    with open(path, "rb") as handle:
        while block := handle.read(DECODE_BLOCK):
            rest = block.translate(table, values)  # the block without those bytes
            if len(rest) != len(block):
                position = next(i for i, b in enumerate(block) if b in values)
                return lines + block[:position].count(b"\n") + 1, offset + position, block[position]
            lines += block.count(b"\n")
            offset += len(block)
    return None
