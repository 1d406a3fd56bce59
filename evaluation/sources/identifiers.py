"""One text form per identifier, whatever file type or wave it comes from.

The same respondent is ``452`` in a Stata file, ``452.0`` in an SPSS file (SPSS
stores every number as a double), ``"452.0"`` in a CSV exported from it and
``" 452"`` in a spreadsheet. Ids (and codes) are normalised before they are
hashed, compared or checked for duplicates, so that these are one person:

* text is put in Unicode NFC and stripped of surrounding whitespace (no-break
  spaces included); empty text is missing;
* an integer-valued number is written as an integer (``452.0`` -> ``"452"``),
  and so is integer-valued text (``"452.0"`` -> ``"452"``);
* other numbers keep their shortest exact text (``452.5`` -> ``"452.5"``).

Leading zeros and letter case are kept: ``"0452"`` and ``"452"`` may be
different people in a register, and nothing in the file says otherwise.
"""

from __future__ import annotations

import math
import numbers
import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd

from evaluation.errors import InputFileError

INTEGER_TEXT = re.compile(r"^([+-]?\d+)\.0+$")
LARGEST_EXACT_FLOAT = 2**53  # integers beyond this are not stored exactly as doubles


def normalise_ids(values: pd.Series, where: str = "identifier") -> pd.Series:
    """The normalised text of each value (``pd.NA`` when missing or blank), same index as ``values``.

    Parameters
    ----------
    values
        Ids or codes as read: numbers (int or float), text, or a mix (spreadsheets).
    where
        File and column, named in the error for a number too large to be exact.

    Raises
    ------
    InputFileError
        A float id of magnitude 2**53 or more: the file has already lost digits of it.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    distinct = pd.Series(np.asarray(uniques, dtype=object))
    text = np.empty(len(distinct) + 1, dtype=object)  # the final None is what code -1 (missing) picks
    kinds = distinct.map(type)
    is_text = kinds.eq(str).to_numpy()
    if is_text.any():  # the common cases vectorised: text ids ...
        stripped = distinct[is_text].astype("string").str.normalize("NFC").str.strip()
        stripped = stripped.str.replace(INTEGER_TEXT.pattern, r"\1", regex=True)
        text[:-1][is_text] = stripped.astype(object).where(stripped.notna() & (stripped != ""), None).to_numpy()
    floats = pd.to_numeric(distinct.where(kinds.eq(float)), errors="coerce").to_numpy(dtype=float)
    whole = (floats % 1 == 0) & (np.abs(floats) < LARGEST_EXACT_FLOAT)  # ... and integer-valued doubles (SPSS)
    if whole.any():
        text[:-1][whole] = pd.Series(floats[whole]).astype("int64").astype(str).to_numpy(dtype=object)
    rest = ~is_text & ~whole
    text[:-1][rest] = [normalise_id(value, where) for value in distinct[rest]]
    return pd.Series(text[codes], index=values.index, dtype="string")


def normalise_id(value: Any, where: str = "identifier") -> str | None:
    """The normalised text of one id or code (None when missing or blank); see the module notes."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return str(int(value))
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        number = float(value)
        if number.is_integer():
            if abs(number) >= LARGEST_EXACT_FLOAT:
                raise InputFileError(
                    f"{where}: id {number:.0f} is stored as a floating-point number too large to be exact; "
                    "export the id column as text"
                )
            return str(int(number))
        return repr(number)
    text = unicodedata.normalize("NFC", str(value)).strip()
    if not text:
        return None
    return INTEGER_TEXT.sub(r"\1", text)
