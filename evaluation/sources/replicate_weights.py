"""Replicate weights shipped with a survey: found by the codebook's pattern, checked, renamed.

A survey such as ESS or PIAAC ships its variance estimation as replicate
weights, one column per replicate (``design.replicate_weights`` of the
codebook: a pattern, the scale and optionally ``rscales``, ``mse`` and
``combined_weights``). Every
wave's file must have the same number of them. They become the canonical
columns ``replicate_weight_001 ...`` in natural order of their source names;
a row whose replicate weight is missing, not a number or negative is
quarantined with a reason naming the column.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from evaluation.errors import InputFileError
from evaluation.sources.codebook import QUARANTINE_COLUMNS, Harmonised

PREFIX = "replicate_weight_"


def canonical_names(count: int) -> list[str]:
    """The canonical names of ``count`` replicate-weight columns."""
    return [f"{PREFIX}{r:03d}" for r in range(1, count + 1)]


def replicate_columns(frame: pd.DataFrame) -> list[str]:
    """The canonical replicate-weight columns of a survey table, in order (none: an empty list)."""
    return sorted(name for name in frame.columns if name.startswith(PREFIX))


def _natural_key(name: str) -> list[Any]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def read_replicates(
    raw: pd.DataFrame, spec: dict[str, Any], source_file: str, expected: int | None, claimed: dict[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The replicate weights of ``raw`` under canonical names, and a quarantine record per unusable row.

    Parameters
    ----------
    raw : DataFrame
        The file as read (source column names, one row per data row).
    spec : dict
        The codebook's ``design.replicate_weights``.
    source_file : str
        The file's name, for messages and quarantine records.
    expected : int or None
        The number of replicate weights the earlier waves had (None for the first).
    claimed : dict
        Canonical column -> the file's column it comes from (``Harmonised.source_names``):
        none of those may be taken for a replicate (the full-sample weight would be one).

    Returns
    -------
    weights : DataFrame
        One column per replicate (``replicate_weight_001`` ...), indexed as ``raw``.
    quarantine : DataFrame
        ``row`` (0-based), ``column``, ``value`` and ``reason`` of the rows to quarantine.

    Raises
    ------
    InputFileError
        When no column matches the pattern, when a match is the source of a canonical column,
        or when the count differs from the earlier waves'.
    """
    pattern = re.compile(spec["columns"], re.IGNORECASE)
    sources = sorted((name for name in raw.columns if pattern.fullmatch(str(name))), key=_natural_key)
    if not sources:
        raise InputFileError(
            f"{source_file}: no column matches design.replicate_weights.columns {spec['columns']!r} of the codebook"
        )
    taken = {source.lower(): name for name, source in claimed.items()}
    clash = [name for name in sources if str(name).lower() in taken]
    if clash:
        raise InputFileError(
            f"{source_file}: column {clash[0]} matches design.replicate_weights.columns {spec['columns']!r}, but "
            f"the codebook reads {taken[str(clash[0]).lower()]} from it; narrow the pattern"
        )
    if expected is not None and len(sources) != expected:
        raise InputFileError(
            f"{source_file}: {len(sources)} replicate-weight columns match {spec['columns']!r}, "
            f"but the earlier waves have {expected}; every wave needs the same replicates"
        )
    if "rscales" in spec and len(spec["rscales"]) != len(sources):
        raise InputFileError(
            f"{source_file}: {len(sources)} replicate-weight columns, but design.replicate_weights.rscales "
            f"has {len(spec['rscales'])} values"
        )
    values = pd.DataFrame({name: pd.to_numeric(raw[name], errors="coerce") for name in sources})
    problems = []
    for name in sources:
        number = values[name].to_numpy(dtype=float, na_value=np.nan)
        missing, negative = np.isnan(number), number < 0
        written = raw[name].notna() & (raw[name].astype(str).str.strip() != "")  # a CSV's empty cell is missing
        unreadable = missing & written.to_numpy()
        reasons = np.select(
            [unreadable, missing, negative],
            ["replicate weight is not a number", "replicate weight is missing", "replicate weight is negative"],
            "",
        )
        bad = np.flatnonzero(reasons != "")
        problems.append(
            pd.DataFrame(
                {
                    "row": bad,
                    "column": name,
                    "value": raw[name].iloc[bad].astype(str).to_numpy(),
                    "reason": reasons[bad],
                }
            )
        )
    quarantine = pd.concat(problems, ignore_index=True).drop_duplicates("row")
    weights = values.set_axis(canonical_names(len(sources)), axis=1)
    return weights, quarantine


def with_replicates(
    result: Harmonised, weights: pd.DataFrame, problems: pd.DataFrame, source_file: str, multiplies: str | None
) -> Harmonised:
    """``result`` with the replicate weights joined, and the rows with an unusable one quarantined.

    Rows the codebook already quarantined keep their first reason. ``multiplies`` names the
    full-sample weight column when the file's columns are multipliers of it
    (``combined_weights: false``); the joined columns are then the products.
    """
    problems = problems[problems["row"].isin(result.data.index)]
    bad = pd.Index(problems["row"])
    records = pd.DataFrame(
        {
            "source_file": source_file,
            "row_number": problems["row"].to_numpy() + 1,
            "stage": "ingest",
            "column": problems["column"].to_numpy(),
            "value": problems["value"].to_numpy(),
            "reason": problems["reason"].to_numpy(),
        },
        columns=QUARANTINE_COLUMNS,
    )
    kept = result.data.drop(index=bad)
    weights = weights.loc[kept.index]
    if multiplies is not None:
        weights = weights.mul(kept[multiplies].astype(float), axis=0)
    return Harmonised(
        data=kept.join(weights),
        nonresponse=result.nonresponse[~result.nonresponse["row"].isin(bad)],
        quarantine=pd.concat([result.quarantine, records], ignore_index=True).sort_values("row_number"),
        source_names=result.source_names,
    )
