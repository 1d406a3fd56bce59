"""Design degrees of freedom of a design and of its domains (R ``degf``)."""

from __future__ import annotations

import numpy as np

from evaluation.survey.variance import Stage

_COUNT_LIMIT = 4_000_000


def domain_degrees_of_freedom(
    stage: Stage, sampling_weights: np.ndarray, domain: np.ndarray, n_domains: int
) -> np.ndarray:
    """Degrees of freedom of every domain: its PSUs minus the strata of those PSUs.

    This is R ``degf(subset(design, d == k))`` for each domain ``k``: ``degf``
    counts the first-stage clusters with a non-zero sampling weight in the
    (subset) design, less the strata they lie in. It is also the ``df`` that
    ``svyby(~y, ~d, design, svyciprop, vartype = "ci")`` uses, since ``svyby``
    estimates each domain on ``design[d == k, ]``.

    Parameters
    ----------
    stage : Stage
        First sampling stage (units = PSUs, groups = strata).
    sampling_weights : ndarray, shape (n_rows,)
        Sampling (design) weights; rows with weight 0 count in no domain, as R.
    domain : ndarray of int, shape (n_rows,)
        Domain code per row, ``-1`` for rows in no domain.
    n_domains : int

    Returns
    -------
    ndarray of int64, shape (n_domains,)
        ``0`` for a domain without rows of positive weight.
    """
    rows = (domain >= 0) & (sampling_weights > 0)
    keys = stage.unit[rows] * n_domains + domain[rows]
    size = stage.n_units * n_domains
    if size <= _COUNT_LIMIT:  # a count per (PSU, domain) is cheaper than sorting the rows
        pairs = np.flatnonzero(np.bincount(keys, minlength=size))
    else:
        pairs = _distinct(keys)
    pair_domain = pairs % n_domains
    cells = _distinct(stage.group[pairs // n_domains] * n_domains + pair_domain)
    n_psu = np.bincount(pair_domain, minlength=n_domains)
    n_strata = np.bincount(cells % n_domains, minlength=n_domains)
    return (n_psu - n_strata).astype(np.int64)


def _distinct(keys: np.ndarray) -> np.ndarray:
    """The distinct ``keys``, sorted (as ``np.unique``, which is many times slower on large integer arrays)."""
    ordered = np.sort(keys)
    return ordered[np.concatenate([[True], ordered[1:] != ordered[:-1]])] if ordered.shape[0] else ordered
