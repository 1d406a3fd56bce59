"""Atomic outputs: every file a stage writes appears complete or not at all.

A stage writes to a temporary file in the target folder and renames it into
place when the write has finished, so a killed run or a full disk never leaves
a complete-looking partial Parquet, CSV or JSON file behind (a rename within
one folder is atomic on POSIX file systems).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd


def write_atomic(path: Path, write: Callable[[Path], Any]) -> Path:
    """Call ``write(temporary_path)`` and rename the result to ``path``; the folder is created if needed.

    On any error (or interruption) the temporary file is removed and ``path``
    is left as it was before.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        write(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def write_parquet(table: pd.DataFrame, path: Path) -> Path:
    """``table`` as Parquet (without the index), atomically."""
    return write_atomic(path, lambda p: table.to_parquet(p, index=False))


def write_csv(table: pd.DataFrame, path: Path) -> Path:
    """``table`` as CSV (without the index), atomically."""
    return write_atomic(path, lambda p: table.to_csv(p, index=False))


def write_csv_tables(tables: dict[str, pd.DataFrame], folder: Path) -> dict[str, Path]:
    """Write each table as ``<name>.csv`` in ``folder``; the paths by name."""
    return {name: write_csv(table, Path(folder) / f"{name}.csv") for name, table in tables.items()}


def write_json(document: Any, path: Path) -> Path:
    """``document`` as indented UTF-8 JSON, atomically."""
    text = json.dumps(document, indent=2, ensure_ascii=False)
    return write_atomic(path, lambda p: p.write_text(text, encoding="utf-8"))
