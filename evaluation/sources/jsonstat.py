"""JSON-stat 2 datasets (the format SSB's and SCB's PxWeb APIs serve) as a flat table.

A JSON-stat 2 dataset (https://json-stat.org/format/) is a cube: ``id`` lists the
dimensions in order, ``size`` their lengths, ``dimension[<id>].category.index`` each
dimension's category codes in cube order (an object code -> position, or a list of
codes), ``category.label`` their texts, and ``value`` the cells in row-major order
(the last dimension varying fastest), as a list or as an object position -> value
(sparse cubes). ``status`` marks cells: a masked cell has the value ``null`` and a
status such as ``..`` (SCB/SSB: not available) or ``:`` (confidential).

:func:`read_jsonstat` gives one row per cell: a column per dimension holding the
category code (``Region``: ``0114``), a column ``<id>_label`` with its text, and
``value`` as text (a masked cell holds its status symbol, so that a codebook records
the reason the value is missing, as for a CSV cell written ``..``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluation.errors import InputFileError

VALUE_COLUMN = "value"


def read_jsonstat(path: Path) -> pd.DataFrame:
    """Read a JSON-stat 2 dataset file (``class: dataset``) into one row per cell.

    Raises
    ------
    InputFileError
        Naming the file and the key: not JSON, not a dataset (a PxWeb ``json`` or a JSON-stat 1
        bundle), a dimension without categories, ``size`` that disagrees with the categories, or
        ``value`` of another length than the cube.
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))  # SCB's API writes a byte-order mark
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(f"{path}: is not a JSON file ({exc})") from None
    if not isinstance(doc, dict) or doc.get("class") != "dataset" or "id" not in doc:
        found = f"class {doc.get('class')!r}" if isinstance(doc, dict) else type(doc).__name__
        raise InputFileError(
            f"{path}: is not a JSON-stat 2 dataset (expected an object with class 'dataset', id, size, dimension and "
            f"value; found {found}); ask the PxWeb API for format json-stat2"
        )
    ids, sizes = list(doc["id"]), list(doc.get("size", []))
    if len(ids) != len(sizes):
        raise InputFileError(f"{path}: id lists {len(ids)} dimensions but size has {len(sizes)} lengths")
    codes, texts = [], []
    for dimension, size in zip(ids, sizes):
        dimension_codes, dimension_texts = _categories(doc, dimension, path)
        if len(dimension_codes) != size:
            raise InputFileError(
                f"{path}: dimension {dimension!r} has {len(dimension_codes)} categories but size says {size}"
            )
        codes.append(dimension_codes)
        texts.append(dimension_texts)
    cells = int(np.prod(sizes)) if sizes else 0
    values = _values(doc.get("value"), cells, path)
    status = _positions(doc.get("status"), cells)
    masked = [None if value is not None or status[i] is None else str(status[i]) for i, value in enumerate(values)]
    grid = np.indices(sizes).reshape(len(sizes), -1) if sizes else np.empty((0, 0), dtype=int)
    table = {}
    for number, dimension in enumerate(ids):
        table[dimension] = np.asarray(codes[number], dtype=object)[grid[number]]
        table[f"{dimension}_label"] = np.asarray(texts[number], dtype=object)[grid[number]]
    table[VALUE_COLUMN] = [masked[i] if values[i] is None else _text(values[i]) for i in range(cells)]
    data = pd.DataFrame(table)
    if data.empty:
        raise InputFileError(f"{path}: the dataset has no cells (size {sizes})")
    return data


def _categories(doc: dict[str, Any], dimension: str, path: Path) -> tuple[list[str], list[str]]:
    """The codes of a dimension in cube order, and their labels (the code where a label is absent)."""
    category = (doc.get("dimension") or {}).get(dimension, {}).get("category")
    if not category:
        raise InputFileError(f"{path}: dimension {dimension!r} (listed in id) has no dimension/{dimension}/category")
    index, labels = category.get("index"), category.get("label") or {}
    if index is None:  # a single category may be given by its label alone
        order = list(labels)
    elif isinstance(index, list):
        order = [str(code) for code in index]
    else:
        order = [code for code, _ in sorted(index.items(), key=lambda item: item[1])]
    return order, [str(labels.get(code, code)) for code in order]


def _values(value: Any, cells: int, path: Path) -> list[Any]:
    if value is None:
        raise InputFileError(f"{path}: has no value")
    if isinstance(value, list):
        if len(value) != cells:
            raise InputFileError(
                f"{path}: value has {len(value)} cells but the dimensions' sizes make {cells}; the file is cut short"
            )
        return value
    return _positions(value, cells)


def _positions(given: Any, cells: int) -> list[Any]:
    """A JSON-stat per-cell property (list, position -> item object, or one item for every cell)."""
    if given is None:
        return [None] * cells
    if isinstance(given, list):
        return given + [None] * (cells - len(given))
    if isinstance(given, dict):
        spread = [None] * cells
        for position, item in given.items():
            spread[int(position)] = item
        return spread
    return [given] * cells


def _text(value: Any) -> str:
    """A cell as the text a CSV would hold (codebooks parse it with read.decimal '.')."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
