"""Taylor-linearisation variance for multistage stratified cluster designs.

The estimand of every function here is the design-based variance of a
linear(ised) statistic ``sum_i z_i`` where ``z_i`` is a weighted influence
value. The formulas follow R ``survey::svyrecvar`` (``onestrat``/``multistage``):
at each stage, unit totals are centred within their variance group (stratum at
stage 1, parent unit later), scaled by ``(1 - f) n / (n - 1)`` and summed; later
stages are multiplied by the sampling fractions of the earlier stages. Every
statistic is turned into a *score matrix* ``S`` (one row per sampling unit over
all stages, one column per statistic) such that ``cov = S.T @ S``.

For domain statistics the dense ``n_units x n_domains`` score matrix is mostly
the group means of units without rows in the domain: :class:`StagePairs` and
:func:`sparse_stage_variance` give the same variances from the (unit, domain)
pairs and (group, domain) cells that occur, at a cost linear in the rows.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

LONELY_PSU_OPTIONS = ("fail", "remove", "certainty", "adjust", "average")

PSEUDO_INVERSE_RCOND = 1e-10
"""Singular values of ``X' D X`` (or a block of it) below this fraction of its largest are taken for zero.

Margins calibrated together are collinear (each sums to the row count), so the
matrix is singular; its computed null values are rounding noise, around
``1e-16`` to ``1e-15`` of its scale, which numpy's default cut-off (``1e-15``)
does not always remove, and they must not be inverted.
"""


@dataclass(frozen=True)
class Stage:
    """One sampling stage, with everything needed to centre and scale unit totals.

    Attributes
    ----------
    unit : ndarray of int64, shape (n_rows,)
        Code ``0 .. n_units - 1`` of the sampling unit of each row at this stage.
    group : ndarray of int64, shape (n_units,)
        Variance group of each unit (stratum at stage 1, parent unit later).
    n_in_group : ndarray of int64, shape (n_groups,)
        Number of sampled units in each group (from the whole design).
    root_scale : ndarray of float, shape (n_units,)
        Square root of the variance multiplier of each unit's group.
    centre : ndarray of bool, shape (n_groups,)
        False for lonely groups under ``lonely_psu="adjust"`` (their unit total is
        not centred, as in R).
    fpc_factor : ndarray of float, shape (n_groups,)
        ``(N - n) / N`` of each group (1 without a finite population correction).
    averaged : ndarray of bool, shape (n_groups,), or None
        Lonely groups under ``lonely_psu="average"`` at stage 1: they contribute
        nothing and the variance is inflated by (groups) / (groups not lonely),
        counting only groups with respondents in the domain (as R ``svyby``).
    """

    unit: np.ndarray
    group: np.ndarray
    n_in_group: np.ndarray
    root_scale: np.ndarray
    centre: np.ndarray
    fpc_factor: np.ndarray
    averaged: np.ndarray | None = None

    @property
    def n_units(self) -> int:
        return int(self.group.shape[0])

    @property
    def n_groups(self) -> int:
        return int(self.n_in_group.shape[0])


def group_scale(n_sampled: np.ndarray, pop_size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Variance multiplier ``(1 - f) n / (n - 1)`` and finite-population factor per group.

    Parameters
    ----------
    n_sampled : ndarray of int
        Sampled units per group.
    pop_size : ndarray of float
        Population units per group (``inf`` without a finite population correction).

    Returns
    -------
    scale, fpc_factor : ndarray
        ``fpc_factor = (N - n) / N`` (1 when ``N`` is infinite) and the scale
        (``fpc_factor`` alone for groups with one unit).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(np.isinf(pop_size), 1.0, (pop_size - n_sampled) / pop_size)
        ratio = np.where(n_sampled > 1, n_sampled / np.maximum(n_sampled - 1, 1), 1.0)
    return factor * ratio, factor


def group_sum(codes: np.ndarray, n_codes: int, values: np.ndarray) -> np.ndarray:
    """Sum the rows of ``values`` (shape (n,) or (n, k)) within integer codes."""
    if values.ndim == 1:
        return np.bincount(codes, weights=values, minlength=n_codes)
    out = np.empty((n_codes, values.shape[1]))
    for j in range(values.shape[1]):
        out[:, j] = np.bincount(codes, weights=values[:, j], minlength=n_codes)
    return out


def stage_scores(stage: Stage, totals: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
    """Centre unit totals within groups and scale them: rows of the score matrix.

    Parameters
    ----------
    stage : Stage
    totals : ndarray, shape (n_units, k)
        Totals of the (calibration-adjusted) influence values per unit.
    present : ndarray of bool, shape (n_groups, k), optional
        Groups with respondents for each column (for ``lonely_psu="average"``;
        all groups when omitted).
    """
    group_totals = group_sum(stage.group, stage.n_groups, totals)
    means = group_totals / stage.n_in_group[:, None]
    means[~stage.centre] = 0.0
    scores = (totals - means[stage.group]) * stage.root_scale[:, None]
    if stage.averaged is not None:
        if present is None:
            present = np.ones((stage.n_groups, totals.shape[1]), dtype=bool)
        ok = (present & ~stage.averaged[:, None]).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = scores * np.sqrt(present.sum(axis=0) / ok)
    return scores


@dataclass(frozen=True)
class Calibration:
    """Linear projection that removes the calibration margins from influence values.

    For calibrated weights ``w = g d`` (design weights ``d``) and margin indicators
    ``X``, the calibrated residual of an influence ``z = w e`` is ``w (e - X beta)``
    with ``beta = (X' D X)^+ X' D e``: the residual of the design-weighted
    regression of ``e`` on the margins (Deville and Saerndal 1992). This is R
    ``postStratify`` exactly, and the limit of R ``rake``'s ten backfitting sweeps
    when the design weights are constant within margin categories (R uses
    unweighted category means there).

    A row with code ``-1`` in a margin is in none of its categories (a row whose
    weight was not calibrated has ``-1`` in every margin: its residual is ``e``).
    Margins calibrated separately (for example each survey wave to its own
    totals) make ``X' D X`` block diagonal; its pseudo-inverse is formed block by
    block and kept sparse.

    Attributes
    ----------
    indicator : scipy.sparse.csr_matrix, shape (n_rows, n_cat)
        ``X``.
    gram : scipy.sparse.csr_matrix, shape (n_cat, n_cat)
        ``X' D X``; its pseudo-inverse :attr:`projector` is formed on first use.
    row_factor : ndarray, shape (n_rows,)
        ``d / w``: turns an influence ``w e`` into ``d e``.
    unit_weight_totals : list of scipy.sparse matrices, shape (n_units, n_cat)
        ``U_s W X`` for every stage ``s``.
    member_row, member_col : ndarray
        The (row, category) memberships: the non-zeros of ``X``.
    member_value : ndarray or None
        The values of those non-zeros when ``X`` is not an indicator matrix
        (calibration on numeric variables); None for indicators (all 1).
    margin_of_category : ndarray or None
        The margin of each category (indicators of margins only, else None).
    """

    indicator: sp.csr_matrix
    gram: sp.csr_matrix
    row_factor: np.ndarray
    unit_weight_totals: list[sp.csr_matrix]
    member_row: np.ndarray
    member_col: np.ndarray
    member_value: np.ndarray | None = None
    margin_of_category: np.ndarray | None = None

    @functools.cached_property
    def projector(self) -> sp.csr_matrix:
        """Pseudo-inverse of ``X' D X`` (block by block)."""
        return block_pinv(self.gram)

    @property
    def n_categories(self) -> int:
        return int(self.indicator.shape[1])

    @classmethod
    def build(
        cls,
        codes: Sequence[np.ndarray],
        sizes: Sequence[int],
        weights: np.ndarray,
        design_weights: np.ndarray,
        stages: Sequence[Stage],
    ) -> Calibration:
        """Precompute the projection for final ``weights`` and uncalibrated ``design_weights``."""
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        rows = np.concatenate([np.flatnonzero(c >= 0) for c in codes])
        cols = np.concatenate([c[c >= 0] + offsets[m] for m, c in enumerate(codes)])
        indicator = sp.csr_matrix((np.ones(cols.shape[0]), (rows, cols)), shape=(weights.shape[0], int(offsets[-1])))
        calibration = cls.from_matrix(indicator, weights, design_weights, stages, indicator_only=True)
        margin = np.repeat(np.arange(len(sizes)), sizes)
        return dataclasses.replace(calibration, margin_of_category=margin)

    @classmethod
    def from_matrix(
        cls,
        indicator: sp.csr_matrix,
        weights: np.ndarray,
        design_weights: np.ndarray,
        stages: Sequence[Stage],
        indicator_only: bool = False,
    ) -> Calibration:
        """The projection for a calibration matrix ``X`` (rows x auxiliary variables), e.g. GREG on numeric columns.

        ``indicator_only`` says that every non-zero of ``X`` is 1 (category indicators).
        """
        gram = (indicator.T @ (sp.diags(design_weights) @ indicator)).tocsr()
        with np.errstate(divide="ignore", invalid="ignore"):
            row_factor = np.where(weights > 0, design_weights / weights, 0.0)
        weighted = sp.diags(weights) @ indicator
        unit_totals = []
        for stage in stages:
            aggregate = sp.csr_matrix(
                (np.ones(weights.shape[0]), (stage.unit, np.arange(weights.shape[0]))),
                shape=(stage.n_units, weights.shape[0]),
            )
            unit_totals.append((aggregate @ weighted).tocsr())
        member = indicator.tocoo()
        value = None if indicator_only else member.data
        return cls(indicator, gram, row_factor, unit_totals, member.row, member.col, value)

    def category_totals(self, values: np.ndarray, dom: np.ndarray | None = None, n_dom: int = 1) -> np.ndarray:
        """``X' D e`` for row influence values ``z = w e`` (by domain when ``dom`` is given).

        Returns shape (n_cat, n_dom), or (n_cat, k) for a (n, k) matrix.
        """
        values = values * (self.row_factor if values.ndim == 1 else self.row_factor[:, None])
        if dom is None:
            return np.asarray(self.indicator.T @ values).reshape(self.n_categories, -1)
        return self.category_domain_totals(values, dom, n_dom).toarray()

    def category_domain_totals(self, values: np.ndarray, dom: np.ndarray, n_dom: int) -> sp.csr_matrix:
        """``X' D e`` by domain as a sparse (n_cat, n_dom) matrix, for ``values`` already multiplied by ``d / w``."""
        keep = values[self.member_row] != 0
        rows, cols = self.member_row[keep], self.member_col[keep]
        data = values[rows] if self.member_value is None else values[rows] * self.member_value[keep]
        return sp.csr_matrix((data, (cols, dom[rows])), shape=(self.n_categories, n_dom))

    def adjust(self, stage_index: int, totals: np.ndarray, coef: np.ndarray) -> np.ndarray:
        """Unit totals of the calibrated residual: ``T - (U W X) beta``."""
        return totals - np.asarray(self.unit_weight_totals[stage_index] @ coef)


def equilibrated_pinv(matrix: np.ndarray) -> np.ndarray:
    """A generalised inverse of a symmetric PSD matrix: the pseudo-inverse of ``S^-1 A S^-1`` (``S^2`` its diagonal)
    with the cut-off :data:`PSEUDO_INVERSE_RCOND`, scaled back.

    Scaling first keeps directions that are small only because the variables have
    different units (GREG on numeric columns) while the rounding noise of collinear
    margins is cut. It is the Moore-Penrose inverse only up to that scaling, but the
    calibration residuals ``e - X beta`` are the same for every generalised inverse.
    """
    diagonal = np.sqrt(np.clip(np.diag(matrix), 0.0, None))
    scale = np.where(diagonal > 0, 1.0 / np.where(diagonal > 0, diagonal, 1.0), 0.0)
    inverse = np.linalg.pinv(matrix * np.outer(scale, scale), rcond=PSEUDO_INVERSE_RCOND, hermitian=True)
    return inverse * np.outer(scale, scale)


def block_pinv(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Pseudo-inverse of a symmetric matrix that is block diagonal up to a permutation, block by block."""
    n_blocks, block = connected_components(matrix, directed=False)
    order = np.argsort(block, kind="stable")
    bounds = np.searchsorted(block[order], np.arange(n_blocks + 1))
    rows, cols, values = [], [], []
    for k in range(n_blocks):
        members = order[bounds[k] : bounds[k + 1]]
        inverse = equilibrated_pinv(matrix[members][:, members].toarray())
        rows.append(np.repeat(members, len(members)))
        cols.append(np.tile(members, len(members)))
        values.append(inverse.ravel())
    shape = matrix.shape
    if not rows:
        return sp.csr_matrix(shape)
    return sp.csr_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))), shape=shape)


@dataclass(frozen=True)
class Linearization:
    """Stages plus optional calibration: turns unit totals into score matrices."""

    stages: tuple[Stage, ...]
    calibration: Calibration | None = None
    cache: dict = field(default_factory=dict, compare=False, repr=False)

    def scores(
        self, unit_totals: Sequence[np.ndarray], category_totals: np.ndarray | None, present: np.ndarray | None = None
    ) -> np.ndarray:
        """Score matrix from per-stage unit totals and (for calibrated designs) ``X' z``.

        Parameters
        ----------
        unit_totals : sequence of ndarray, one (n_units_s, k) array per stage
        category_totals : ndarray (n_cat, k) or None
        present : ndarray of bool (n_strata, k), optional
            Strata with respondents per column (see :func:`stage_scores`).
        """
        coef = None
        if self.calibration is not None:
            coef = self.calibration.projector @ category_totals
        parts = []
        for index, (stage, totals) in enumerate(zip(self.stages, unit_totals)):
            if coef is not None:
                totals = self.calibration.adjust(index, totals, coef)
            parts.append(stage_scores(stage, totals, present if index == 0 else None))
        return parts[0] if len(parts) == 1 else np.vstack(parts)

    def row_scores(self, influence: np.ndarray) -> np.ndarray:
        """Score matrix for a dense row influence matrix ``influence`` (n_rows, k)."""
        influence = influence.reshape(influence.shape[0], -1)
        totals = [group_sum(stage.unit, stage.n_units, influence) for stage in self.stages]
        cat = None
        if self.calibration is not None:
            cat = self.calibration.category_totals(influence)
        return self.scores(totals, cat)

    def covariance(self, influence: np.ndarray) -> np.ndarray:
        """Design covariance matrix of the totals of the columns of ``influence``."""
        s = self.row_scores(influence)
        return s.T @ s


@dataclass(frozen=True)
class StagePairs:
    """The (unit, domain) pairs that occur at one stage, and their (group, domain) cells.

    Each row belongs to at most one domain, so of the ``n_units x n_domains`` unit
    totals of a domain statistic at most ``n_rows`` are non-zero: the *pairs*. A
    unit of a group with no rows in a domain has total 0, and contributes only
    through the group mean; the *cells* (group x domain with rows) count the
    units with rows, so the variance is formed without the dense matrix.

    Attributes
    ----------
    pair_of_row : ndarray of intp, shape (n_rows,)
        Pair of each row.
    pair_domain, pair_cell : ndarray, shape (n_pairs,)
        Domain and cell of each pair.
    cell_group, cell_domain, cell_units : ndarray, shape (n_cells,)
        Group, domain and number of units with rows (pairs) of each cell.
    """

    pair_of_row: np.ndarray
    pair_domain: np.ndarray
    pair_cell: np.ndarray
    cell_group: np.ndarray
    cell_domain: np.ndarray
    cell_units: np.ndarray

    @property
    def n_pairs(self) -> int:
        return int(self.pair_domain.shape[0])

    @classmethod
    def build(cls, stage: Stage, dom: np.ndarray, n_domains: int) -> StagePairs:
        """Pairs of ``stage`` units and domain codes ``dom`` (0 .. n_domains - 1, every row), by hashing."""
        pair_of_row, pair_key = pd.factorize(stage.unit * n_domains + dom)
        pair_unit, pair_domain = np.divmod(pair_key, n_domains)
        return cls.of_pairs(stage, pair_unit, pair_domain, n_domains, pair_of_row)

    @classmethod
    def of_pairs(
        cls,
        stage: Stage,
        pair_unit: np.ndarray,
        pair_domain: np.ndarray,
        n_domains: int,
        pair_of_row: np.ndarray | None = None,
    ) -> StagePairs:
        """Distinct (unit, domain) pairs given directly (``pair_of_row`` empty unless given)."""
        pair_cell, cell_key = dense_codes(stage.group[pair_unit] * n_domains + pair_domain, stage.n_groups * n_domains)
        cell_group, cell_domain = np.divmod(cell_key, n_domains)
        cell_units = np.bincount(pair_cell, minlength=cell_key.shape[0])
        rows = np.empty(0, dtype=np.intp) if pair_of_row is None else pair_of_row
        return cls(rows, pair_domain, pair_cell, cell_group, cell_domain, cell_units)

    def totals(self, values: np.ndarray) -> np.ndarray:
        """Pair totals of row ``values``."""
        return np.bincount(self.pair_of_row, weights=values, minlength=self.n_pairs)


DENSE_CODE_LIMIT = 20_000_000


def dense_codes(keys: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """Codes ``0 .. k - 1`` of the distinct ``keys`` (in ``0 .. n_keys - 1``) and the keys in code order.

    A lookup table when ``n_keys`` is moderate (no hashing), else ``pd.factorize``.
    """
    if n_keys > DENSE_CODE_LIMIT:
        return pd.factorize(keys)
    present = np.flatnonzero(np.bincount(keys, minlength=n_keys))
    lookup = np.empty(n_keys, dtype=np.intp)
    lookup[present] = np.arange(present.shape[0])
    return lookup[keys], present


def group_root_scale(stage: Stage) -> np.ndarray:
    """Square root of the variance multiplier of each group (``root_scale`` is constant within groups)."""
    root = np.zeros(stage.n_groups)
    root[stage.group] = stage.root_scale
    return root


def sparse_stage_variance(
    stage: Stage, pairs: StagePairs, totals: np.ndarray, n_domains: int, present: np.ndarray | None = None
) -> np.ndarray:
    """Per-domain variance contribution of one stage from pair totals.

    Equals the column sums of squares of :func:`stage_scores` on the dense
    ``n_units x n_domains`` totals: within group ``h`` (``n_h`` units, all of them,
    also those without rows in the domain), with centring mean
    ``m_hd = sum_{u in h} t_ud / n_h`` (0 for uncentred lonely groups),
    ``scale_h [sum_{pairs in h} (t_ud - m_hd)^2 + (n_h - k_hd) m_hd^2]`` where
    ``k_hd`` units of ``h`` have rows in ``d``.

    Parameters
    ----------
    stage : Stage
    pairs : StagePairs
        Pairs of this stage.
    totals : ndarray, shape (n_pairs,)
        Influence totals of the pairs.
    n_domains : int
    present : ndarray of bool, shape (n_cells,), optional
        Cells with respondents (stage 1 under ``lonely_psu="average"``; every
        group counts when omitted).
    """
    group = pairs.cell_group
    units = stage.n_in_group[group]
    cell_total = np.bincount(pairs.pair_cell, weights=totals, minlength=group.shape[0])
    mean = np.where(stage.centre[group], cell_total / units, 0.0)
    root = group_root_scale(stage)[group]
    dev = (totals - mean[pairs.pair_cell]) * root[pairs.pair_cell]
    absent = (units - pairs.cell_units) * (mean * root) ** 2
    variance = np.bincount(pairs.pair_domain, weights=dev * dev, minlength=n_domains) + np.bincount(
        pairs.cell_domain, weights=absent, minlength=n_domains
    )
    if stage.averaged is not None:
        if present is None:  # every group counts, as stage_scores without ``present``
            n_present = np.full(n_domains, float(stage.n_groups))
            n_ok = n_present - stage.averaged.sum()
        else:
            n_present = np.bincount(pairs.cell_domain, weights=present.astype(float), minlength=n_domains)
            n_ok = np.bincount(
                pairs.cell_domain, weights=(present & ~stage.averaged[group]).astype(float), minlength=n_domains
            )
        with np.errstate(divide="ignore", invalid="ignore"):
            inflated = variance * (n_present / n_ok)
        # as the dense scores after nan_to_num: 0 * inf -> 0, x * inf -> inf
        variance = np.where(n_ok > 0, inflated, np.where((variance > 0) & (n_present > 0), np.inf, 0.0))
    return variance
