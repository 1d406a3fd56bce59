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
    text = np.array([normalise_id(value, where) for value in uniques] + [None], dtype=object)
    return pd.Series(text[codes], index=values.index, dtype="string")  # code -1 (missing) picks the final None


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
