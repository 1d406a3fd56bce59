"""Influence vectors of the TWFE DiD under re-drawn pilot assignments, in a small basis.

A randomization test needs, for every drawn assignment ``b``, the influence
vector ``h_b = W X~_b (X~_b' W X~_b)^{-1} c`` of ``c'beta`` (``X~_b`` the
regressors net of the fixed effects).  Forming ``h_b`` row by row costs one
within-transformation of an ``n x B`` matrix per regressor.  It is not needed:
the treatment of a row only depends on its municipality's cohort, so with the
basis columns

    E_(m, j, c) = 1[row in municipality j] * exposure_c * multiplier_m

every drawn regressor is ``X_bm = E_m s_b`` for a 0/1 selection ``s_b`` of
(municipality, cohort) pairs, and ``X~_bm = Z_m s_b`` with ``Z = M E``
transformed once.  The cross-products are quadratic forms ``s_b' Z_m' W Z_l
s_b`` in a ``JC x JC`` Gram matrix, and ``h_b = W Z g_b`` with a coefficient
vector ``g_b`` that is ``s_b`` scaled by ``(X~_b' W X~_b)^{-1} c``.  Everything
the tests use is linear in ``h_b`` (``h_b' u``, sums over municipality x
period cells), so it is computed from ``Z' W u`` and ``A W Z`` without ever
forming ``h_b``.  The results equal the row-by-row computation up to floating
point rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from evaluation.comparison.within import SparseMinusLowRank, WithinProjector


def treatment_draws(exposure: np.ndarray, row_cluster: np.ndarray, assignments: np.ndarray) -> np.ndarray:
    """Treatment columns (``n x B``) implied by cohort assignments.

    Parameters
    ----------
    exposure : np.ndarray
        ``n x C``: treatment of each row if its municipality were in cohort
        ``c`` (0/1 for elections, a share for survey cells).
    row_cluster : np.ndarray
        Municipality index of each row.
    assignments : np.ndarray
        ``B x J`` cohort indices, -1 for never treated.
    """
    padded = np.column_stack([exposure, np.zeros(len(exposure))])  # column -1 -> 0
    cohort = assignments[:, row_cluster].T  # n x B
    return np.take_along_axis(padded, np.where(cohort < 0, exposure.shape[1], cohort), axis=1)


@dataclass(frozen=True)
class InfluenceDraws:
    """Influence vectors of ``B`` draws, ``h_b = basis @ coef[:, b]`` (``coef`` itself when ``basis`` is None).

    Attributes
    ----------
    coef : np.ndarray
        ``P x B`` coefficients (``n x B`` influence vectors when ``basis`` is None);
        a column of NaN marks a draw whose regressors are collinear.
    basis : SparseMinusLowRank or None
        ``n x P`` basis (``W Z``), or None.
    """

    coef: np.ndarray
    basis: SparseMinusLowRank | None = None

    @property
    def n_draws(self) -> int:
        """Number of draws ``B``."""
        return self.coef.shape[1]

    @property
    def valid(self) -> np.ndarray:
        """Draws with a finite influence vector."""
        return np.all(np.isfinite(self.coef), axis=0)

    def select(self, keep: np.ndarray) -> InfluenceDraws:
        """The draws where ``keep`` is true."""
        return InfluenceDraws(self.coef[:, keep], self.basis)

    def dot(self, u: np.ndarray) -> np.ndarray:
        """``h_b' u`` for every draw (``B``; ``B x k`` for a matrix ``u``)."""
        return self.coef.T @ (u if self.basis is None else self.basis.tdot(u))

    def aggregate(self, matrix: sp.spmatrix) -> np.ndarray:
        """``matrix @ h_b`` for every draw (``R x B``), e.g. sums over municipality x period cells."""
        if self.basis is None:
            return matrix @ self.coef
        # a draw selects a few (municipality, cohort) columns: multiply by the sparse coefficients
        return np.asarray((sp.csc_matrix(self.coef).T @ self.basis.rmatmul(matrix).T).T)

    def dense(self) -> np.ndarray:
        """The ``n x B`` influence vectors."""
        return self.coef if self.basis is None else self.basis.matmul(self.coef)


def twfe_influence(
    projector: WithinProjector,
    exposure: np.ndarray,
    row_cluster: np.ndarray,
    multipliers: np.ndarray,
    assignments: np.ndarray,
    contrast: np.ndarray,
) -> InfluenceDraws:
    """Influence vectors ``h_b = W X~_b (X~_b' W X~_b)^{-1} c`` of ``c'beta`` for each drawn assignment.

    The regressors of draw ``b`` are ``D_b * multipliers[:, m]`` with ``D_b``
    the treatment implied by ``assignments[b]`` (see :func:`treatment_draws`):
    multiplier 1 is the DiD dummy, a low-education indicator the triple
    difference interaction.

    Parameters
    ----------
    projector : WithinProjector
        Fixed effects and weights of the problem.
    exposure : np.ndarray
        ``n x C`` treatment of each row if its municipality were in cohort ``c``.
    row_cluster : np.ndarray
        Municipality index of each row.
    multipliers : np.ndarray
        ``n x k`` row multipliers.
    assignments : np.ndarray
        ``B x J`` cohort per municipality (-1 never treated).
    contrast : np.ndarray
        ``c`` (length ``k``).

    Returns
    -------
    InfluenceDraws
        In the basis ``W Z`` (see module docstring), kept sparse plus low rank;
        draws whose regressors are collinear get NaN coefficients.
    """
    n, n_c = exposure.shape
    k = multipliers.shape[1]
    n_b = len(assignments)
    present, local = np.unique(row_cluster, return_inverse=True)
    n_p = len(present) * n_c
    col = local[:, None] * n_c + np.arange(n_c)[None, :]  # basis column of (row's municipality, cohort)
    rows = np.repeat(np.arange(n), n_c)
    values = np.concatenate([(exposure * multipliers[:, [m]]).ravel() for m in range(k)])
    e = sp.csr_matrix(
        (values, (np.tile(rows, k), np.concatenate([col.ravel() + m * n_p for m in range(k)]))), shape=(n, k * n_p)
    )
    z = projector.transform_sparse(e)  # n x kP
    wz = z.scale_rows(projector.weights)
    gram = z.gram(wz)
    cohort = assignments[:, present]  # B x J'
    b_idx, j_idx = np.nonzero(cohort >= 0)
    select = sp.csr_matrix((np.ones(len(b_idx)), (b_idx, j_idx * n_c + cohort[b_idx, j_idx])), shape=(n_b, n_p))
    cross = np.empty((n_b, k, k))
    for m in range(k):
        for ell in range(m, k):
            block = gram[m * n_p : (m + 1) * n_p, ell * n_p : (ell + 1) * n_p]
            cross[:, m, ell] = cross[:, ell, m] = np.asarray(select.multiply(select @ block).sum(axis=1)).ravel()
    det_ok = np.abs(np.linalg.det(cross)) > 1e-10 * np.prod(np.diagonal(cross, axis1=1, axis2=2), axis=1).clip(1e-300)
    safe = np.where(det_ok[:, None, None], cross, np.eye(k))
    a = np.linalg.solve(safe, np.broadcast_to(contrast, (n_b, k))[..., None])[..., 0]  # B x k
    coef = np.concatenate([select.multiply(a[:, [m]]).toarray().T for m in range(k)], axis=0)  # kP x B
    coef[:, ~det_ok] = np.nan
    return InfluenceDraws(coef, wz)
