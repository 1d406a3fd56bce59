"""Domain variances of a raked design from within-block Gram matrices.

For a design calibrated on margins the stage unit totals of a domain's
influence ``z`` are ``T_ud = o_ud - r_ud``: ``o`` the uncalibrated unit totals,
``r = M beta``, ``M = U W X`` (unit totals of the weighted margin indicators) and
``beta_d`` a solution of ``(X' D X) beta_d = X' D e_d`` (see
:class:`~evaluation.survey.variance.Calibration`; ``M beta`` is the same for
every solution). A variance group ``h`` (``n_h`` units, multiplier ``s_h``,
centred unless ``c_h = 0``) contributes ``s_h [sum_u T_ud^2 - c_h (sum_u T_ud)^2
/ n_h]``, which expands to

    V_d = V_own_d - 2 (beta_d' y_d - sum_cells c s O R / n) + beta_d' Q beta_d,
    Q = sum_h s_h (M_h' M_h - c_h m_h m_h' / n_h),  y_d = sum_pairs s o M_u,

with ``V_own`` the variance of the uncalibrated totals (as
:func:`~evaluation.survey.variance.sparse_stage_variance`), ``O`` and
``R = m_h beta_d`` the group totals of ``o`` and ``r`` on the (group, domain)
cells with rows, and ``m_h`` the group's sum of ``M``. This is the unit-by-unit
sum rearranged, not an approximation. When every domain lies inside one
calibration block (the categories of margins calibrated together, e.g. one
survey wave raked on its own), ``beta_d``, ``y_d`` and the needed parts of ``Q``
live on that block, so the cost per statistic is linear in the rows plus a few
sparse products over all blocks at once (block-diagonal matrices), instead of
one term per unit of the block and domain. Within a block the margin with most categories has a diagonal part of
``X' D X`` and is eliminated first, so only the other margins' Schur complement
is inverted densely.

The expansion subtracts large terms. Where a domain's variance is below
``CANCELLATION_TOLERANCE`` times ``sum s o^2 + beta' (sum_h s_h M_h' M_h) beta``
(which bounds every term), :meth:`BlockGram.variance` returns None and the caller
computes that statistic unit by unit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from evaluation.survey.variance import (
    Calibration,
    Linearization,
    Stage,
    StagePairs,
    equilibrated_pinv,
    group_root_scale,
    sparse_stage_variance,
)

CANCELLATION_TOLERANCE = 1e-6
"""Smallest variance, relative to the size of the terms of the expansion, trusted to the Gram formula."""

DENSE_LIMIT = 20_000_000
"""Largest number of entries of the dense Schur complements of all blocks together, and of the
(stacked categories x domains) coefficient matrix of one ``by``; beyond it the unit-by-unit sum is used."""


@dataclass(frozen=True)
class CalibrationBlock:
    """One calibration block: its categories (largest margin first) and what the variance needs of it.

    Attributes
    ----------
    primary_inverse : ndarray, shape (n_primary,)
        ``1 / (X' D X)_cc`` of the largest margin's categories (0 for empty ones).
    coupling : scipy.sparse.csr_matrix, shape (n_primary, n_other)
        ``X' D X`` between the largest margin and the other margins of the block.
    schur_pinv : ndarray, shape (n_other, n_other)
        Pseudo-inverse of the other margins' Schur complement.
    products : tuple of scipy.sparse.csr_matrix, one per stage
        ``Q``, ``sum_h s_h M_h' M_h`` and ``m`` (groups x categories) on the block's
        categories, stacked (``2 k + n_groups`` rows), so one product gives all three.
    """

    primary_inverse: np.ndarray
    coupling: sp.csr_matrix
    schur_pinv: np.ndarray
    products: tuple[sp.csr_matrix, ...]


@dataclass(frozen=True)
class DomainLayout:
    """Where each domain's coefficients sit: column ``position`` of a (categories x ``width``) matrix, the
    categories of all calibration blocks stacked (a domain's entries outside its block stay 0).

    ``category_entry`` and ``own_entries`` (one per stage) are the flat positions of
    the calibration memberships and of the row expansions of :class:`BlockGram`.
    """

    block: np.ndarray
    position: np.ndarray
    width: int
    n_rows: int
    category_entry: np.ndarray | None = None
    own_entries: tuple[np.ndarray, ...] = ()

    @property
    def size(self) -> int:
        return self.n_rows * self.width

    def index(self, row: np.ndarray, block: np.ndarray, domain: np.ndarray) -> np.ndarray:
        """Flat index of (stacked category ``row`` of ``block``, ``domain``); the spare slot where they do not match."""
        return np.where(self.block[domain] == block, row * self.width + self.position[domain], self.size)


@dataclass(frozen=True)
class BlockGram:
    """The calibration blocks of a raked design and the row expansions the variance needs."""

    block_of_category: np.ndarray
    row_of_category: np.ndarray
    row_start: np.ndarray
    primary_rows: np.ndarray
    other_rows: np.ndarray
    primary_inverse: np.ndarray
    coupling: sp.csr_matrix
    coupling_t: sp.csr_matrix
    schur_pinv: sp.csr_matrix
    products: tuple[sp.csr_matrix, ...]
    product_rows: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]
    row_block: np.ndarray
    unit_blocks: tuple[np.ndarray, ...]
    expansions: tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], ...]

    @classmethod
    def build(cls, calibration: Calibration, stages: Sequence[Stage]) -> BlockGram | None:
        """The blocks of ``calibration`` (margins of indicators); None for other calibrations or too large blocks."""
        if calibration.margin_of_category is None:
            return None
        indicator, gram = calibration.indicator, calibration.gram
        n_blocks, block_of_category = connected_components(gram, directed=False)
        row_block = np.full(indicator.shape[0], -1, dtype=np.int64)
        row_block[calibration.member_row] = block_of_category[calibration.member_col]
        if (row_block[calibration.member_row] != block_of_category[calibration.member_col]).any():
            return None  # a row (of design weight 0) in two blocks
        members = _ordered_members(block_of_category, n_blocks, calibration.margin_of_category)
        if sum((len(m) - k1) ** 2 for m, k1 in members) > DENSE_LIMIT:
            return None
        row_start = np.concatenate([[0], np.cumsum([len(m) for m, _ in members])])
        row_of_category = np.empty(block_of_category.shape[0], dtype=np.int64)
        for (m, _), start in zip(members, row_start):
            row_of_category[m] = start + np.arange(len(m))
        unit_totals = [m.tocsc() for m in calibration.unit_weight_totals]
        group_totals = [_group_totals(stage, m).tocsc() for stage, m in zip(stages, calibration.unit_weight_totals)]
        blocks = [_calibration_block(gram, m, k1, stages, unit_totals, group_totals) for m, k1 in members]
        primary_rows = np.concatenate([start + np.arange(k1) for (_, k1), start in zip(members, row_start)])
        other_rows = np.concatenate(
            [np.arange(start + k1, end) for (_, k1), start, end in zip(members, row_start, row_start[1:])]
        )
        coupling = sp.block_diag([b.coupling for b in blocks], format="csr")
        products, product_rows = [], []
        for index, stage in enumerate(stages):
            products.append(sp.block_diag([b.products[index] for b in blocks], format="csr"))
            product_rows.append(_product_rows([len(m) for m, _ in members], stage.n_groups))
        unit_blocks, expansions = [], []
        for stage, totals in zip(stages, calibration.unit_weight_totals):
            coo = totals.tocoo()
            keys = coo.row.astype(np.int64) * n_blocks + block_of_category[coo.col]
            unit_blocks.append(np.unique(keys))
            expansions.append(_row_expansion(stage, coo, keys, row_block, n_blocks, row_of_category))
        return cls(
            block_of_category,
            row_of_category,
            row_start,
            primary_rows,
            other_rows,
            np.concatenate([b.primary_inverse for b in blocks]),
            coupling,
            coupling.T.tocsr(),
            sp.block_diag([sp.csr_matrix(b.schur_pinv) for b in blocks], format="csr"),
            tuple(products),
            tuple(product_rows),
            row_block,
            tuple(unit_blocks),
            tuple(expansions),
        )

    def _solve(self, rhs: np.ndarray) -> np.ndarray:
        """A solution ``beta`` of ``(X' D X) beta = rhs`` (stacked categories x domains), block by block at once."""
        scaled = rhs[self.primary_rows] * self.primary_inverse[:, None]
        other = self.schur_pinv @ (rhs[self.other_rows] - self.coupling_t @ scaled)
        beta = np.empty_like(rhs)
        beta[self.primary_rows] = scaled - (self.coupling @ other) * self.primary_inverse[:, None]
        beta[self.other_rows] = other
        return beta

    def layout(
        self, calibration: Calibration, stages: Sequence[Stage], codes: np.ndarray, dom: np.ndarray, n_domains: int
    ) -> DomainLayout | None:
        """The layout of the domains ``codes`` (-1: no domain; ``dom`` any code there); None if a domain spans blocks."""
        valid = codes >= 0
        placed = valid & (self.row_block >= 0)
        block = np.full(n_domains, -1, dtype=np.int64)
        block[dom[placed]] = self.row_block[placed]
        if (block[dom[placed]] != self.row_block[placed]).any():
            return None
        loose = np.flatnonzero(valid & (self.row_block < 0) & (block[dom] >= 0))
        n_blocks = self.row_start.shape[0] - 1
        for stage, unit_blocks in zip(stages, self.unit_blocks):  # uncalibrated rows of a unit with margin totals
            if loose.shape[0] and np.isin(stage.unit[loose] * n_blocks + block[dom[loose]], unit_blocks).any():
                return None
        position = np.zeros(n_domains, dtype=np.int64)
        placed_domains = np.flatnonzero(block >= 0)
        counts = np.bincount(block[placed_domains], minlength=n_blocks)
        order = placed_domains[np.argsort(block[placed_domains], kind="stable")]
        position[order] = np.arange(order.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)
        width = max(int(counts.max()) if counts.size else 0, 1)
        layout = DomainLayout(block, position, width, int(self.row_start[-1]))
        if layout.size > DENSE_LIMIT:
            return None
        columns = calibration.member_col
        category_entry = layout.index(
            self.row_of_category[columns], self.block_of_category[columns], dom[calibration.member_row]
        )
        own_entries = tuple(layout.index(stacked, block, dom[row]) for row, block, stacked, _ in self.expansions)
        return dataclasses.replace(layout, category_entry=category_entry, own_entries=own_entries)

    def variance(
        self,
        calibration: Calibration,
        stages: Sequence[Stage],
        stage_pairs: Sequence[StagePairs],
        layout: DomainLayout,
        influence: np.ndarray,
    ) -> np.ndarray | None:
        """Design variance of every domain total of ``influence``; None where rounding could matter.

        Parameters
        ----------
        calibration : Calibration
        stages, stage_pairs : sequences
            The design's stages and the (unit, domain) pairs of the domains at each.
        layout : DomainLayout
            From :meth:`layout` for the same domains.
        influence : ndarray, shape (n_rows,)
            Row influence values ``z`` (0 outside every domain).
        """
        n_domains = layout.block.shape[0]
        shape = (layout.n_rows, layout.width)
        weights = (influence * calibration.row_factor)[calibration.member_row]
        totals = np.bincount(layout.category_entry, weights=weights, minlength=layout.size + 1)
        beta = self._solve(totals[:-1].reshape(shape))
        placed = layout.block >= 0
        starts = self.row_start[:-1]
        n_stages = len(stages)
        quadratic, bound, cross = (np.zeros((n_stages, n_domains)) for _ in range(3))
        fitted_groups = []
        for s, (entry, (row, _, _, value)) in enumerate(zip(layout.own_entries, self.expansions)):
            own_totals = np.bincount(entry, weights=influence[row] * value, minlength=layout.size + 1)
            product = self.products[s] @ beta
            centred, uncentred, groups = self.product_rows[s]
            for out, part in (
                (quadratic[s], product[centred]),
                (bound[s], product[uncentred]),
                (cross[s], own_totals[:-1].reshape(shape)),
            ):
                by_block = np.add.reduceat(beta * part, starts, axis=0)
                out[placed] = by_block[layout.block[placed], layout.position[placed]]
            fitted_groups.append(product[groups].ravel())
        variance, size = np.zeros(n_domains), np.zeros(n_domains)
        for s, (stage, pairs) in enumerate(zip(stages, stage_pairs)):
            own = pairs.totals(influence)
            scale = group_root_scale(stage) ** 2
            group, domain = pairs.cell_group, pairs.cell_domain
            cell_own = np.bincount(pairs.pair_cell, weights=own, minlength=group.shape[0])
            fitted = np.append(fitted_groups[s], 0.0)
            block = layout.block[domain]
            at = np.where(block >= 0, (block * stage.n_groups + group) * layout.width + layout.position[domain], -1)
            weight = stage.centre[group] * scale[group] / stage.n_in_group[group]
            cells = np.bincount(domain, weights=weight * cell_own * fitted[at], minlength=n_domains)
            pair_unit = np.zeros(pairs.n_pairs, dtype=np.int64)
            pair_unit[pairs.pair_of_row] = stage.unit
            pair_scale = scale[stage.group[pair_unit]]
            variance += sparse_stage_variance(stage, pairs, own, n_domains) - 2 * (cross[s] - cells) + quadratic[s]
            size += np.bincount(pairs.pair_domain, weights=pair_scale * own**2, minlength=n_domains) + bound[s]
        if (variance < CANCELLATION_TOLERANCE * size).any():
            return None
        return variance


def _ordered_members(
    block_of_category: np.ndarray, n_blocks: int, margin_of_category: np.ndarray
) -> list[tuple[np.ndarray, int]]:
    """Per block, its categories with those of its largest margin first, and how many those are."""
    members = []
    for b in range(n_blocks):
        categories = np.flatnonzero(block_of_category == b)
        margins, counts = np.unique(margin_of_category[categories], return_counts=True)
        primary = margin_of_category[categories] == margins[np.argmax(counts)]
        members.append((np.concatenate([categories[primary], categories[~primary]]), int(primary.sum())))
    return members


def _product_rows(sizes: list[int], n_groups: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of the block-diagonal stacked products that hold ``Q beta``, the bound's and ``m beta``.

    Block ``b`` contributes ``sizes[b]`` rows of each of the first two (in stacked
    category order) and ``n_groups`` rows of the third.
    """
    starts = np.concatenate([[0], np.cumsum([2 * k + n_groups for k in sizes])])
    centred = np.concatenate([start + np.arange(k) for k, start in zip(sizes, starts)])
    uncentred = np.concatenate([start + k + np.arange(k) for k, start in zip(sizes, starts)])
    groups = np.concatenate([start + 2 * k + np.arange(n_groups) for k, start in zip(sizes, starts)])
    return centred, uncentred, groups


def _group_totals(stage: Stage, unit_totals: sp.csr_matrix) -> sp.csr_matrix:
    """``m``: the sum of the unit rows of ``M`` within each variance group."""
    to_groups = sp.csr_matrix(
        (np.ones(stage.n_units), (stage.group, np.arange(stage.n_units))), shape=(stage.n_groups, stage.n_units)
    )
    return (to_groups @ unit_totals).tocsr()


def _calibration_block(
    gram: sp.csr_matrix,
    members: np.ndarray,
    n_primary: int,
    stages: Sequence[Stage],
    unit_totals: Sequence[sp.csc_matrix],
    group_totals: Sequence[sp.csc_matrix],
) -> CalibrationBlock:
    """The elimination pieces of one block and its stacked ``Q``, bound and ``m`` at every stage."""
    part = gram[members][:, members]
    diagonal = part.diagonal()[:n_primary]
    with np.errstate(divide="ignore"):
        primary_inverse = np.where(diagonal > 0, 1.0 / diagonal, 0.0)
    coupling = part[:n_primary, n_primary:].tocsr()
    schur = part[n_primary:, n_primary:].toarray() - (coupling.T @ sp.diags(primary_inverse) @ coupling).toarray()
    products = []
    for stage, units, groups in zip(stages, unit_totals, group_totals):
        root = group_root_scale(stage)
        own, group = units[:, members], groups[:, members]
        gram_units = (own.T @ sp.diags(root[stage.group] ** 2) @ own).tocsr()
        group_weight = stage.centre * root**2 / np.maximum(stage.n_in_group, 1)
        centred = gram_units - group.T @ sp.diags(group_weight) @ group
        products.append(sp.vstack([centred, gram_units, group]).tocsr())
    return CalibrationBlock(primary_inverse, coupling, equilibrated_pinv(schur), tuple(products))


def _row_expansion(
    stage: Stage,
    unit_totals: sp.coo_matrix,
    keys: np.ndarray,
    row_block: np.ndarray,
    n_blocks: int,
    row_of_category: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every row's entries of ``s_u M_u`` on its own block: (row, block, stacked category row, value)."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    rows = np.flatnonzero(row_block >= 0)
    row_keys = stage.unit[rows].astype(np.int64) * n_blocks + row_block[rows]
    first = np.searchsorted(sorted_keys, row_keys, side="left")
    count = np.searchsorted(sorted_keys, row_keys, side="right") - first
    which = np.repeat(np.arange(rows.shape[0]), count)
    entry = order[first[which] + np.arange(which.shape[0]) - np.repeat(np.cumsum(count) - count, count)]
    scale = group_root_scale(stage)[stage.group] ** 2
    row = rows[which]
    stacked = row_of_category[unit_totals.col[entry]]
    return row, row_block[row], stacked, unit_totals.data[entry] * scale[unit_totals.row[entry]]


def block_gram(linearization: Linearization) -> BlockGram | None:
    """The :class:`BlockGram` of a calibrated design (built once and kept in ``linearization.cache``)."""
    if "block_gram" not in linearization.cache:
        calibration = linearization.calibration
        gram = None if calibration is None else BlockGram.build(calibration, linearization.stages)
        linearization.cache["block_gram"] = gram
    return linearization.cache["block_gram"]
