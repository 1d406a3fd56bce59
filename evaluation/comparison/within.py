"""Exact weighted within-transformation for one many-level and one few-level fixed effect.

The comparison models absorb a *unit* fixed effect with many levels (voting
district, municipality or respondent) and a *period* fixed effect with few
levels (election, election x group, survey wave).  For a weighted and possibly
unbalanced panel, alternating projections only converge geometrically; the
Frisch-Waugh-Lovell theorem gives the exact answer cheaply instead:

1. demean every column by unit (weighted group means), giving ``M_u X``;
2. partial out the unit-demeaned period dummies ``E~ = M_u E`` by weighted
   least squares, ``M X = M_u X - E~ (E~' W E~)^+ E~' W M_u X``.

The projector is built once; applying it to a matrix with many columns (one per
permutation draw) costs two sparse products and one small dense product.  A
sparse matrix stays sparse: :meth:`WithinProjector.transform_sparse` returns
``M X`` as ``M_u X`` (sparse) minus a rank-``S`` correction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from evaluation.errors import EstimationError


def _encode(codes: np.ndarray) -> tuple[np.ndarray, int]:
    """Return dense integer codes ``0..L-1`` and the number of levels ``L``."""
    uniques, inverse = np.unique(np.asarray(codes), return_inverse=True)
    return inverse.astype(np.int64), len(uniques)


def _dense(x: np.ndarray | sp.spmatrix) -> np.ndarray:
    return x.toarray() if sp.issparse(x) else np.asarray(x)


@dataclass(frozen=True)
class SparseMinusLowRank:
    """The ``n x P`` matrix ``sparse - left @ right`` without forming it.

    Attributes
    ----------
    sparse : scipy.sparse.csr_matrix
        ``n x P``.
    left : np.ndarray
        ``n x S`` (few columns).
    right : np.ndarray
        ``S x P``.
    """

    sparse: sp.csr_matrix
    left: np.ndarray
    right: np.ndarray

    def scale_rows(self, factor: np.ndarray) -> SparseMinusLowRank:
        """``diag(factor) @ self``."""
        return SparseMinusLowRank(
            sp.csr_matrix(self.sparse.multiply(factor[:, None])), factor[:, None] * self.left, self.right
        )

    def matmul(self, x: np.ndarray | sp.spmatrix) -> np.ndarray:
        """``self @ x`` (dense result)."""
        return _dense(self.sparse @ x) - self.left @ _dense(self.right @ x)

    def rmatmul(self, a: np.ndarray | sp.spmatrix) -> np.ndarray:
        """``a @ self`` (dense result)."""
        return _dense(a @ self.sparse) - _dense(a @ self.left) @ self.right

    def tdot(self, u: np.ndarray) -> np.ndarray:
        """``self.T @ u``."""
        return _dense(self.sparse.T @ u) - self.right.T @ (self.left.T @ u)

    def gram(self, other: SparseMinusLowRank) -> np.ndarray:
        """``self.T @ other`` (``P x P``)."""
        return (
            _dense(self.sparse.T @ other.sparse)
            - _dense(self.sparse.T @ other.left) @ other.right
            - self.right.T @ _dense(other.sparse.T @ self.left).T
            + self.right.T @ (self.left.T @ other.left) @ other.right
        )


@dataclass(frozen=True)
class WithinProjector:
    """Weighted projection off ``unit`` and ``period`` fixed effects.

    Parameters
    ----------
    unit : np.ndarray
        Integer codes ``0..U-1`` of the many-level fixed effect, one per row.
    period : np.ndarray
        Integer codes ``0..S-1`` of the few-level fixed effect, one per row.
    weights : np.ndarray
        Positive analytic weights (for turnout: eligible voters).
    n_units, n_periods : int
        Numbers of levels.
    unit_sum : scipy.sparse.csr_matrix
        ``U x n`` matrix of weights, so ``unit_sum @ X / unit_weight`` are the
        weighted unit means.
    unit_weight : np.ndarray
        Total weight per unit.
    period_tilde : np.ndarray
        ``M_u E``, the unit-demeaned period dummies (``n x S``).
    period_solver : np.ndarray
        Pseudo-inverse of ``E~' W E~`` (``S x S``).
    """

    unit: np.ndarray
    period: np.ndarray
    weights: np.ndarray
    n_units: int
    n_periods: int
    unit_sum: sp.csr_matrix
    unit_weight: np.ndarray
    period_tilde: np.ndarray
    period_solver: np.ndarray

    @classmethod
    def build(cls, unit: np.ndarray, period: np.ndarray, weights: np.ndarray) -> WithinProjector:
        """Build the projector from raw unit and period labels and weights.

        Raises
        ------
        EstimationError
            If a weight is not positive and finite.
        """
        w = np.asarray(weights, dtype=float)
        if not np.all(np.isfinite(w)) or np.any(w <= 0):
            raise EstimationError("fixed-effects model: weights must be positive and finite")
        u, n_u = _encode(unit)
        p, n_p = _encode(period)
        n = len(w)
        unit_sum = sp.csr_matrix((w, (u, np.arange(n))), shape=(n_u, n))
        unit_weight = np.asarray(unit_sum.sum(axis=1)).ravel()
        dummies = np.zeros((n, n_p))
        dummies[np.arange(n), p] = 1.0
        e_tilde = dummies - (unit_sum @ dummies / unit_weight[:, None])[u]
        cross = e_tilde.T @ (w[:, None] * e_tilde)
        solver = np.linalg.pinv(cross, rcond=1e-10, hermitian=True)
        return cls(u, p, w, n_u, n_p, unit_sum, unit_weight, e_tilde, solver)

    @property
    def n_obs(self) -> int:
        """Number of rows."""
        return len(self.weights)

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Return ``M x``: ``x`` (vector or ``n x k`` matrix) net of both fixed effects."""
        x = np.asarray(x, dtype=float)
        vector = x.ndim == 1
        mat = x[:, None] if vector else x
        demeaned = mat - (self.unit_sum @ mat / self.unit_weight[:, None])[self.unit]
        coef = self.period_solver @ (self.period_tilde.T @ (self.weights[:, None] * demeaned))
        out = demeaned - self.period_tilde @ coef
        return out[:, 0] if vector else out

    def transform_sparse(self, x: sp.spmatrix) -> SparseMinusLowRank:
        """Return ``M x`` for a sparse ``n x P`` matrix, as ``M_u x`` minus a rank-``S`` correction.

        ``M_u x`` is nonzero only on the rows of units that touch a nonzero of
        ``x``, so a matrix of municipality indicators stays sparse.
        """
        x = sp.csr_matrix(x, dtype=float)
        means = sp.diags(1.0 / self.unit_weight) @ (self.unit_sum @ x)  # U x P
        demeaned = sp.csr_matrix(x - means.tocsr()[self.unit])
        cross = np.asarray(demeaned.T @ (self.weights[:, None] * self.period_tilde)).T  # S x P
        return SparseMinusLowRank(demeaned, self.period_tilde, self.period_solver @ cross)

    def subset(self, keep: np.ndarray) -> WithinProjector:
        """Projector for the rows where ``keep`` is true (levels re-encoded)."""
        return WithinProjector.build(self.unit[keep], self.period[keep], self.weights[keep])

    def n_fe_params(self, unit_nested_in_cluster: bool) -> int:
        """Fixed-effect parameters counted in the small-sample factor.

        Follows fixest/pyfixest ``ssc(fixef_k="nested")``: a unit effect nested
        in the clusters counts as one parameter (the intercept), otherwise all
        ``U`` levels count; the period effect adds its levels minus one.  Like
        fixest, levels are counted nominally: a period effect partly absorbed
        by the units (election x low-education, with low education constant
        within a district) is not discounted.
        """
        return (1 if unit_nested_in_cluster else self.n_units) + self.n_periods - 1
