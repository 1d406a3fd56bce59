"""Checks that turn DataFrame columns into the arrays the comparison cores take.

Every check stops with an :class:`~evaluation.errors.EstimationError` that
names the column, the offending rows (first few, by DataFrame index) and what
was expected.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.errors import EstimationError


def rows(data: pd.DataFrame, bad: np.ndarray) -> str:
    """``n row(s) (index a, b, ...)``: the rows flagged by ``bad``, the first five by DataFrame index."""
    index = data.index[np.asarray(bad, bool)]
    shown = ", ".join(str(i) for i in index[:5])
    return f"{len(index)} row(s) (index {shown}{', ...' if len(index) > 5 else ''})"


def show(value: object) -> str:
    """``repr`` of a value, numpy scalars as plain Python values."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def require_columns(data: pd.DataFrame, **roles: str | None) -> None:
    """Stop unless every named column exists; ``roles`` maps the argument name to the column."""
    if not isinstance(data, pd.DataFrame):
        raise EstimationError(f"data: expected a pandas DataFrame, got {type(data).__name__}")
    if data.empty:
        raise EstimationError("data: the DataFrame has no rows")
    for role, column in roles.items():
        if column is not None and column not in data.columns:
            raise EstimationError(f"{role}={column!r}: no such column (columns: {', '.join(map(str, data.columns))})")


def labels(data: pd.DataFrame, column: str, role: str) -> np.ndarray:
    """Identifier column (unit, time, cluster) without missing values."""
    values = data[column]
    missing = values.isna().to_numpy()
    if missing.any():
        raise EstimationError(f"{role} column {column!r}: missing value in {rows(data, missing)}; expected none")
    return values.to_numpy()


def numeric(data: pd.DataFrame, column: str, role: str) -> np.ndarray:
    """Finite numeric column."""
    values = pd.to_numeric(data[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        raise EstimationError(
            f"{role} column {column!r}: missing, non-numeric or infinite value in {rows(data, bad)}; "
            "expected a finite number on every row"
        )
    return values


def outcome(data: pd.DataFrame, column: str) -> np.ndarray:
    """Finite outcome that varies."""
    y = numeric(data, column, "outcome")
    if np.ptp(y) == 0:
        raise EstimationError(f"outcome column {column!r}: constant ({y[0]:g} on every row); nothing to estimate")
    return y


def binary(data: pd.DataFrame, column: str) -> np.ndarray:
    """0/1 (or boolean) treatment indicator with both values present."""
    values = data[column]
    if values.dtype == bool:
        return values.to_numpy(dtype=float)
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isin(x, (0.0, 1.0))
    if bad.any():
        found = ", ".join(map(show, pd.unique(values[bad])[:5]))
        raise EstimationError(f"treated column {column!r}: values {found} in {rows(data, bad)}; expected 0 or 1")
    if x.min() == x.max():
        raise EstimationError(
            f"treated column {column!r}: every row is {int(x[0])}; expected treated and untreated rows"
        )
    return x


def weights(data: pd.DataFrame, column: str | None) -> np.ndarray:
    """Positive finite weights (all ones when ``column`` is None)."""
    if column is None:
        return np.ones(len(data))
    w = numeric(data, column, "weights")
    bad = w <= 0
    if bad.any():
        raise EstimationError(f"weights column {column!r}: weight <= 0 in {rows(data, bad)}; expected positive weights")
    return w


def constant_within(data: pd.DataFrame, column: str, unit: str, role: str) -> None:
    """Stop unless ``column`` takes one value per unit (NaN counts as a value)."""
    n_values = data[column].fillna(-np.inf).groupby(data[unit]).transform("nunique").to_numpy()
    bad = n_values > 1
    if bad.any():
        first = data.loc[bad, unit].iloc[0]
        raise EstimationError(
            f"{role} column {column!r}: differs within unit {show(first)} ({rows(data, bad)}); expected one value per unit"
        )


def cohorts(data: pd.DataFrame, column: str, periods: np.ndarray) -> np.ndarray:
    """Position of each row's cohort (first treated period) among ``periods``; -1 for never treated.

    NaN and 0 mean never treated (0 only when it is not a period); any other value must be one of the
    observed periods.
    """
    raw = pd.to_numeric(data[column], errors="coerce")
    unreadable = raw.isna().to_numpy() & data[column].notna().to_numpy()
    if unreadable.any():
        raise EstimationError(f"cohort column {column!r}: non-numeric value in {rows(data, unreadable)}")
    zero = (raw == 0).to_numpy()
    if zero.any() and 0 in periods:
        raise EstimationError(
            f"cohort column {column!r}: 0 in {rows(data, zero)} is ambiguous because 0 is also a period; "
            "mark never-treated units with NaN"
        )
    never = raw.isna().to_numpy() | zero
    values = raw.to_numpy(dtype=float)
    position = np.searchsorted(periods, values)
    inside = ~never & (position < len(periods))
    found = np.zeros(len(values), bool)
    found[inside] = periods[position[inside]] == values[inside]
    bad = ~never & ~found
    if bad.any():
        shown = ", ".join(f"{v:g}" for v in pd.unique(values[bad])[:5])
        raise EstimationError(
            f"cohort column {column!r}: cohort {shown} in {rows(data, bad)} is not one of the periods "
            f"({periods.min():g} to {periods.max():g}); expected a period of the panel, or NaN/0 for never treated "
            "(code units first treated after the panel as never treated)"
        )
    return np.where(never, -1, position)


def periods(data: pd.DataFrame, column: str) -> np.ndarray:
    """Sorted distinct numeric periods of the time column."""
    t = numeric(data, column, "time")
    return np.unique(t)
