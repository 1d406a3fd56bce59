"""Domain (subpopulation) coding for estimation on the full design, as R ``svyby``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.errors import EstimationError

_DENSE_LIMIT = 50_000_000


@dataclass(frozen=True)
class Domains:
    """Domain membership of every row.

    Attributes
    ----------
    codes : ndarray of int64, shape (n_rows,)
        Domain code ``0 .. n_domains - 1``; ``-1`` where a ``by`` value is missing
        (such rows belong to no domain, as in ``svyby``).
    labels : DataFrame
        One row per domain (in sorted label order), one column per ``by`` variable.
    """

    codes: np.ndarray
    labels: pd.DataFrame

    @property
    def n_domains(self) -> int:
        return len(self.labels)

    @property
    def valid(self) -> np.ndarray:
        return self.codes >= 0


def make_domains(data: pd.DataFrame, by: Sequence[str] | None, rows: np.ndarray | None = None) -> Domains:
    """Code the combinations of ``by`` present in the data (all rows: one domain if ``by`` is empty).

    Only ``rows`` (boolean mask, default all) belong to a domain; the others get
    code ``-1``, and combinations found only outside ``rows`` are no domain.
    """
    n = len(data)
    outside = np.zeros(n, dtype=bool) if rows is None else ~np.asarray(rows, dtype=bool)
    if not by:
        return Domains(np.where(outside, -1, 0).astype(np.int64), pd.DataFrame(index=range(1)))
    missing = [c for c in by if c not in data.columns]
    if missing:
        raise EstimationError(f"by column(s) {missing} not in the data")
    key = np.zeros(n, dtype=np.int64)
    bad = outside.copy()
    column_codes, uniques, radix = [], [], []
    for column in by:
        codes, labels = pd.factorize(data[column], sort=True)
        bad |= codes < 0
        column_codes.append(np.maximum(codes, 0).astype(np.int64))
        radix.append(max(len(labels), 1))
        uniques.append(labels)
    size = int(np.prod(radix, dtype=np.float64))
    multipliers = np.cumprod([1, *radix[:0:-1]])[::-1]
    for codes, m in zip(column_codes, multipliers):
        key += codes * int(m)
    key[bad] = -1
    if size <= _DENSE_LIMIT:
        present = np.flatnonzero(np.bincount(key[~bad], minlength=size))
        lookup = np.full(size, -1, dtype=np.int64)
        lookup[present] = np.arange(present.size)
        codes = np.where(bad, -1, lookup[np.maximum(key, 0)])
    else:
        present, inverse = np.unique(key[~bad], return_inverse=True)
        codes = np.full(n, -1, dtype=np.int64)
        codes[~bad] = inverse
    labels = {}
    for column, m, r, u in zip(by, multipliers, radix, uniques):
        labels[column] = pd.Index(u).take((present // int(m)) % r)
    return Domains(codes, pd.DataFrame({c: np.asarray(v) for c, v in labels.items()}))
