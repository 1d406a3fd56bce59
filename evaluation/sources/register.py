"""Electoral-roll registers: one row per voter, aggregated to area x group cells.

A register file (codebook ``kind: register``) has one row per eligible voter:
the area, whether the person voted, and group variables (age or birth year,
gender, education, immigrant background). It is read in chunks with only the
columns the codebook names, so a file of millions of rows never sits in memory
whole: each chunk is harmonised and counted, and the counts are summed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.errors import ConfigError, InputFileError
from evaluation.sources import labels
from evaluation.sources.codebook import QUARANTINE_COLUMNS, Codebook, apply_codebook, source_columns
from evaluation.sources.readers import available_columns, iter_chunks

CELL_KEYS = ["area_code", "municipality_code", "election_type", "election_year"]
DEFAULT_CHUNKSIZE = 500_000


@dataclass
class RegisterCells:
    """Area x group cells of one register file, with its quarantine and row accounting."""

    cells: pd.DataFrame
    quarantine: pd.DataFrame
    accounting: pd.DataFrame
    dictionary: pd.DataFrame  # variable and value labels of the columns read (labels.data_dictionary)


def register_groups(codebook: Codebook) -> list[str]:
    """The group variables cells are cut by: ``register.groups``, else every category and cut column."""
    categories = [s.name for s in codebook.columns if s.type == "category" and s.name != "voted"]
    cuts = [name for name, rule in codebook.derived.items() if rule["rule"] == "cut"]
    return list(codebook.register.get("groups") or [*categories, *cuts])


def aggregate_register(path: Path, codebook: Codebook, chunksize: int = DEFAULT_CHUNKSIZE) -> RegisterCells:
    """Count eligible voters and votes per area x group cell.

    Parameters
    ----------
    path
        The register file (any supported format).
    codebook
        A ``kind: register`` codebook with columns ``area_code`` and ``voted``
        (0/1 after recoding) and, as columns or constants, ``election_type`` and
        ``election_year``.
    chunksize
        Rows read at a time.

    Returns
    -------
    RegisterCells
        ``cells``: one row per area x combination of group values, with
        ``eligible_voters`` (persons), ``votes_cast`` (persons who voted) and
        ``turnout``; a group value that is missing in the file is ``None``.
        Rows without a usable area or vote are quarantined, not counted.
    """
    path = Path(path)
    _check_register_codebook(codebook)
    try:
        names = source_columns(codebook, available_columns(path, codebook.read))
    except InputFileError as exc:
        raise InputFileError(f"{path.name}: {exc}") from None
    keys = [k for k in CELL_KEYS if _has(codebook, k)] + register_groups(codebook)
    counts, quarantines, rows_read, dictionary = [], [], 0, None
    for chunk, metadata in iter_chunks(path, codebook.read, sorted(set(names.values())), chunksize):
        if dictionary is None:  # the file's labels are the same in every chunk
            dictionary = labels.data_dictionary(codebook, metadata, list(chunk.columns), names, path.name, None)
        rows_read += len(chunk)
        result = apply_codebook(chunk, metadata, codebook, path.name)
        quarantines.append(result.quarantine)
        counts.append(_count(result.data, keys))
    cells = _sum_counts(counts, keys)
    quarantine = pd.concat(quarantines, ignore_index=True) if quarantines else pd.DataFrame(columns=QUARANTINE_COLUMNS)
    accounting = pd.DataFrame(
        [
            {
                "source_file": path.name,
                "stage": "ingest",
                "rows_read": rows_read,
                "rows_kept": rows_read - len(quarantine),
                "rows_quarantined": len(quarantine),
            }
        ]
    )
    return RegisterCells(cells, quarantine, accounting, dictionary)


def group_turnout(cells: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Sum cells over every group variable not in ``by`` (e.g. ``["area_code", "education"]``)."""
    summed = cells.groupby(by, dropna=False, as_index=False, observed=True)[["eligible_voters", "votes_cast"]].sum()
    summed["turnout"] = summed["votes_cast"] / summed["eligible_voters"]
    return summed


def _has(codebook: Codebook, name: str) -> bool:
    return name in codebook.constants or name in codebook.derived or any(s.name == name for s in codebook.columns)


def _check_register_codebook(codebook: Codebook) -> None:
    if codebook.kind != "register":
        raise ConfigError(f"{codebook.path}: kind is {codebook.kind!r}; a register needs kind: register")
    for name in ("area_code", "voted"):
        codebook.column(name)
    for name in ("election_type", "election_year"):
        if not _has(codebook, name):
            raise ConfigError(f"{codebook.path}: a register needs {name} as a column or under constants")


def _count(data: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Persons and voters per distinct combination of ``keys`` (missing values form their own group)."""
    codes, uniques = zip(*(pd.factorize(data[key], use_na_sentinel=False) for key in keys))
    combined = np.zeros(len(data), dtype=np.int64)
    for column_codes, column_uniques in zip(codes, uniques):
        combined = combined * len(column_uniques) + column_codes
    cells, inverse = np.unique(combined, return_inverse=True)
    voted = pd.to_numeric(data["voted"], errors="coerce").fillna(0).to_numpy(dtype=float)
    index = {}
    for key, column_uniques in zip(reversed(keys), reversed(uniques)):
        index[key] = np.asarray(column_uniques, dtype=object)[cells % len(column_uniques)]
        cells = cells // len(column_uniques)
    frame = pd.DataFrame({key: index[key] for key in keys})
    frame["eligible_voters"] = np.bincount(inverse, minlength=len(frame))
    frame["votes_cast"] = np.bincount(inverse, weights=voted, minlength=len(frame))
    return frame


def _sum_counts(counts: list[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    if not counts:
        return pd.DataFrame(columns=[*keys, "eligible_voters", "votes_cast", "turnout"])
    cells = (
        pd.concat(counts, ignore_index=True).groupby(keys, dropna=False, sort=True, observed=True).sum().reset_index()
    )
    cells["eligible_voters"] = cells["eligible_voters"].astype("int64")
    cells["votes_cast"] = cells["votes_cast"].round().astype("int64")
    cells["turnout"] = cells["votes_cast"] / cells["eligible_voters"]
    return cells
