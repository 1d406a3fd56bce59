"""Randomization (permutation) inference for few treated municipalities.

Two procedures, both keeping the outcome data fixed and re-drawing which
municipalities are pilots:

**Studentised randomization test with a Ferman-Pinto variance model**
(several treated municipalities).  Draws keep the cohort structure: as many
municipalities start in each cohort as in the data, chosen at random among all
municipalities (every assignment when there are no more than ``n_draws``).  For
``H0: c'beta = r`` the nuisance coefficients are set to their restricted
estimates and the restricted residuals ``u_r`` are held fixed.  For every
assignment ``b`` the estimate is the linear statistic ``h_b' u_r`` (``h_b`` is
the TWFE influence vector under assignment ``b``) and it is studentised by

    V_b = sum_j a_jb' Sigma_j a_jb,   Sigma_j = A + B / M_j,

where ``a_jb`` sums ``h_b`` over the rows of municipality ``j`` in each period
cell (election, or election x group) and ``Sigma_j`` is the covariance of the
municipality's cell-mean residuals.  ``A`` and ``B`` (one entry per pair of
periods) are estimated by least squares of ``e_js e_jt`` on ``(1, 1/M_j)``
across municipalities, ``M_j`` being the municipality's size (eligible voters,
or respondents per wave).  This is the heteroskedasticity model of Ferman and
Pinto (2019, section 3: the variance of a group aggregate of ``M_j``
individuals is ``A + B/M_j``), applied to the full covariance over periods so
that it studentises any linear DiD statistic.  Plain coefficient permutation
(RI-beta) over-rejects when the pilots are larger or smaller than the
average municipality; studentising by ``V_b`` removes the dependence on size
(Ferman and Pinto 2019; MacKinnon and Webb 2020 show RI-t beats RI-beta).
The p-value is ``(1 + #{|t_b| >= |t|}) / (1 + B)`` for random draws and
``#{|t_b| >= |t|} / B`` for a complete enumeration (which contains the
observed assignment).  The interval collects the ``r`` not rejected (test
inversion, bisection).

**Conley-Taber interval with the Ferman-Pinto correction** (one treated
municipality).  Placebo estimates ``W_j`` assign the pilot's start date to each
control municipality ``j`` alone, on the controls only.  ``W_j^2`` is
regressed on ``(1, 1/M_j)`` to estimate ``sigma^2(M)``, and each placebo is
rescaled to the pilot's size, ``W~_j = W_j sigma(M_1) / sigma(M_j)``.  The
interval is ``[alpha - q_hi, alpha - q_lo]`` with ``q`` the empirical
quantiles of ``W~`` and the p-value is ``(1 + #{|W~_j| >= |alpha|}) / (1 + J0)``
(Conley and Taber 2011, section 2.2; Ferman and Pinto 2019, section 4.1).

References
----------
Conley, T. G. and Taber, C. R. (2011). Inference with "difference in
differences" with a small number of policy changes. REStat 93(1), 113-125.
Ferman, B. and Pinto, C. (2019). Inference in differences-in-differences with
few treated groups and heteroskedasticity. REStat 101(3), 452-467.
MacKinnon, J. G. and Webb, M. D. (2020). Randomization inference for
difference-in-differences with few treated clusters. J. Econometrics 218(2).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy import optimize

from evaluation.comparison.inference import Inference
from evaluation.comparison.influence import InfluenceDraws
from evaluation.comparison.twfe import WithinFit
from evaluation.comparison.within import WithinProjector
from evaluation.errors import EstimationError


@dataclass(frozen=True)
class CohortAssignment:
    """Cohort of every unit: index into the cohorts, or -1 for never treated.

    Parameters
    ----------
    observed : np.ndarray
        Observed cohort index per unit (length ``J``).
    n_cohorts : int
        Number of cohorts ``C``.
    strata : np.ndarray, optional
        Stratum per unit (e.g. its municipality, for the within-municipality
        comparison): draws then keep every stratum's cohort counts, re-drawing
        the treated units within each stratum. None: one stratum.
    """

    observed: np.ndarray
    n_cohorts: int
    strata: np.ndarray | None = None

    @property
    def counts(self) -> np.ndarray:
        """Number of treated units per cohort."""
        return self._counts(np.ones(len(self.observed), bool))

    def _counts(self, members: np.ndarray) -> np.ndarray:
        chosen = self.observed[members]
        return np.bincount(chosen[chosen >= 0], minlength=self.n_cohorts)

    def _blocks(self, pool: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(units of the pool in the stratum, cohort counts of the stratum)`` per stratum."""
        strata = np.zeros(len(self.observed)) if self.strata is None else np.asarray(self.strata)
        blocks = []
        for stratum in np.unique(strata):
            members = strata == stratum
            blocks.append((np.flatnonzero(members & pool), self._counts(members)))
        return blocks

    def n_assignments(self, pool: np.ndarray) -> int:
        """Number of distinct assignments of the cohort counts within ``pool``."""
        total = 1
        for idx, counts in self._blocks(np.asarray(pool, bool)):
            remaining = len(idx)
            for k in counts:
                total *= math.comb(remaining, int(k))
                remaining -= int(k)
        return total

    def draw(self, n_draws: int, rng: np.random.Generator, pool: np.ndarray | None = None) -> tuple[np.ndarray, bool]:
        """Assignments ``B x J`` keeping the cohort counts (of every stratum); ``(draws, exhaustive)``.

        Units outside ``pool`` (boolean, default all) stay never treated. When
        the pool admits at most ``n_draws`` assignments all are returned
        (``exhaustive=True``, the observed one included if feasible).
        """
        pool = np.ones(len(self.observed), bool) if pool is None else np.asarray(pool, bool)
        blocks = self._blocks(pool)
        for idx, counts in blocks:
            if counts.sum() > len(idx):
                raise EstimationError(
                    f"randomization: {counts.sum()} pilots but only {len(idx)} units to assign them to"
                    + ("" if self.strata is None else " in their stratum")
                )
        if self.n_assignments(pool) <= n_draws:
            per_block = [list(self._enumerate(list(idx), list(counts))) for idx, counts in blocks]
            rows = [self._fill([m for combo in combos for m in combo]) for combos in itertools.product(*per_block)]
            return np.array(rows, dtype=np.int64), True
        out = np.full((n_draws, len(self.observed)), -1, dtype=np.int64)
        for idx, counts in blocks:
            labels = np.repeat(np.arange(self.n_cohorts), counts)
            labels = np.concatenate([labels, np.full(len(idx) - len(labels), -1)])
            out[:, idx] = rng.permuted(np.tile(labels, (n_draws, 1)), axis=1)
        return out, False

    def _fill(self, members: list[tuple[int, int]]) -> np.ndarray:
        row = np.full(len(self.observed), -1, dtype=np.int64)
        for unit, cohort in members:
            row[unit] = cohort
        return row

    def _enumerate(self, pool: list[int], counts: list[int], cohort: int = 0):
        """Every assignment of ``counts`` within ``pool``, as lists of ``(unit, cohort)``."""
        if not counts:
            yield []
            return
        for first in itertools.combinations(pool, counts[0]):
            rest = [m for m in pool if m not in first]
            for tail in self._enumerate(rest, counts[1:], cohort + 1):
                yield [(m, cohort) for m in first] + tail


class SizeVarianceModel:
    """Ferman-Pinto covariance model of municipality x period mean residuals.

    Parameters
    ----------
    projector : WithinProjector
        Fixed effects; its ``period`` codes define the cells within a municipality.
    row_cluster : np.ndarray
        Municipality index (``0..J-1``) of each row.
    cluster_size : np.ndarray
        ``M_j``, the number of individuals behind each municipality's aggregates.
    """

    def __init__(self, projector: WithinProjector, row_cluster: np.ndarray, cluster_size: np.ndarray) -> None:
        self.n_clusters = len(cluster_size)
        self.n_cells = projector.n_periods
        cell = row_cluster * self.n_cells + projector.period
        n_all = self.n_clusters * self.n_cells
        self.aggregate = sp.csr_matrix((np.ones(len(cell)), (cell, np.arange(len(cell)))), shape=(n_all, len(cell)))
        self.weighted = sp.csr_matrix((projector.weights, (cell, np.arange(len(cell)))), shape=(n_all, len(cell)))
        cell_weight = np.asarray(self.weighted.sum(axis=1)).ravel().reshape(self.n_clusters, self.n_cells)
        self.present = cell_weight > 0
        self.cell_weight = np.where(self.present, cell_weight, 1.0)
        self.inv_size = 1.0 / np.asarray(cluster_size, dtype=float)

    def fit(self, resid: np.ndarray) -> CellCovariance:
        """Least-squares ``A``, ``B`` of ``e_js e_jt`` on ``(1, 1/M_j)`` and the negative eigen-parts of ``A + B/M_j``."""
        mean = self._cell_means(resid)
        return self.clipped(*self._size_coefficients(mean[:, :, None] * mean[:, None, :]))

    def path(self, resid0: np.ndarray, resid1: np.ndarray) -> CovariancePath:
        """The fitted covariances along the residuals ``u(r) = resid0 + r * resid1``, for many ``r`` at little cost."""
        m0, m1 = self._cell_means(resid0), self._cell_means(resid1)
        outer = [m0[:, :, None] * m0[:, None, :], m0[:, :, None] * m1[:, None, :], m1[:, :, None] * m1[:, None, :]]
        outer[1] = outer[1] + outer[1].transpose(0, 2, 1)
        return CovariancePath(self, [self._size_coefficients(term) for term in outer])

    def _cell_means(self, resid: np.ndarray) -> np.ndarray:
        """Weighted mean residual of every municipality x period cell (``J x S``)."""
        return (self.weighted @ resid).reshape(self.n_clusters, self.n_cells) / self.cell_weight

    def _size_coefficients(self, prod: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``A``, ``B``: weighted least squares of ``prod`` (``J x S x S``) on ``(1, 1/M_j)`` for every pair at once.

        The map is linear in ``prod``, which :meth:`path` relies on.
        """
        both = self.present[:, :, None] & self.present[:, None, :]
        x0, x1 = both.astype(float), both * self.inv_size[:, None, None]
        s00, s01, s11 = x0.sum(0), x1.sum(0), (x1 * self.inv_size[:, None, None]).sum(0)
        t0, t1 = (prod * x0).sum(0), (prod * x1).sum(0)
        det = s00 * s11 - s01**2
        ok = det > 1e-12 * np.maximum(s00 * s11, 1e-300)
        b = np.where(ok, (s00 * t1 - s01 * t0) / np.where(ok, det, 1.0), 0.0)
        a = np.where(ok, (t0 - b * s01) / np.maximum(s00, 1), t0 / np.maximum(s00, 1))
        return a, b

    def clipped(self, a: np.ndarray, b: np.ndarray) -> CellCovariance:
        """``A + B/M_j`` with the negative eigen-parts of every municipality's matrix found (to be set to zero)."""
        # Sigma_j is affine in 1/M_j: when it is PSD at both extreme sizes it is PSD for every municipality
        # (a convex combination of PSD matrices), and no per-municipality eigendecomposition is needed
        ends = a[None] + b[None] * np.array([self.inv_size.min(), self.inv_size.max()])[:, None, None]
        none = np.zeros(0, dtype=np.int64)
        if np.linalg.eigvalsh(ends).min() >= 0:
            return CellCovariance(a, b, self.inv_size, none, np.zeros((0, 0)), np.zeros((0, self.n_cells, 0)))
        sigma = a[None] + b[None] * self.inv_size[:, None, None]
        negative = np.flatnonzero(np.linalg.eigvalsh(sigma)[:, 0] < 0)  # eigenvalues alone are cheaper than pairs
        if negative.size == 0:
            return CellCovariance(a, b, self.inv_size, none, np.zeros((0, 0)), np.zeros((0, self.n_cells, 0)))
        vals, vecs = np.linalg.eigh(sigma[negative])
        n_neg = int((vals < 0).sum(axis=1).max())  # eigh sorts ascending: the negative pairs come first
        return CellCovariance(a, b, self.inv_size, negative, np.minimum(vals[:, :n_neg], 0.0), vecs[:, :, :n_neg])

    def covariances(self, resid: np.ndarray) -> np.ndarray:
        """Fitted positive semi-definite ``Sigma_j`` for every municipality (``J x S x S``)."""
        return self.fit(resid).matrices()

    def cell_influence(self, influence: InfluenceDraws | np.ndarray) -> np.ndarray:
        """``a_jb``: influence (``n x B`` or :class:`InfluenceDraws`) summed over municipality x period cells (``J x S x B``)."""
        if isinstance(influence, np.ndarray):
            influence = InfluenceDraws(influence)
        return influence.aggregate(self.aggregate).reshape(self.n_clusters, self.n_cells, -1)

    def quadratic_forms(self, influence: InfluenceDraws | np.ndarray) -> QuadraticForms:
        """Per-draw quadratic forms that give ``V_b`` for any fitted covariance."""
        return QuadraticForms(self.cell_influence(influence), self.inv_size)


class CovariancePath:
    """Fitted covariances ``Sigma_j(r)`` for the residuals ``u(r) = u0 + r u1`` of a test inversion.

    The cell means are affine in ``r``, their products quadratic, and the least
    squares linear in the products, so ``A(r) = A0 + r A1 + r^2 A2`` (and ``B``
    alike): the ``J x S x S`` work is done once, not once per tested ``r``.
    Agrees with :meth:`SizeVarianceModel.fit` of ``u(r)`` up to rounding.
    """

    def __init__(self, model: SizeVarianceModel, terms: list[tuple[np.ndarray, np.ndarray]]) -> None:
        self.model, self.terms = model, terms

    def at(self, r: float) -> CellCovariance:
        """``Sigma_j(r)`` with negative eigenvalues set to zero."""
        (a0, b0), (a1, b1), (a2, b2) = self.terms
        return self.model.clipped(a0 + r * (a1 + r * a2), b0 + r * (b1 + r * b2))


@dataclass(frozen=True)
class CellCovariance:
    """``Sigma_j = clip(A + B / M_j)``: the size model with negative eigenvalues set to zero.

    For the municipalities ``neg_index`` (``N`` of them) whose ``A + B/M_j`` has
    negative eigenvalues, ``neg_values`` (``N x K``) and ``neg_vectors``
    (``N x S x K``) hold those eigenpairs ``(lambda, v)`` (zero-padded to the
    largest count ``K``), so that ``Sigma_j = A + B/M_j - sum_k lambda_jk v_jk v_jk'``.
    """

    a: np.ndarray
    b: np.ndarray
    inv_size: np.ndarray
    neg_index: np.ndarray
    neg_values: np.ndarray
    neg_vectors: np.ndarray

    def matrices(self) -> np.ndarray:
        """``Sigma_j`` for every municipality (``J x S x S``)."""
        sigma = self.a[None] + self.b[None] * self.inv_size[:, None, None]
        sigma[self.neg_index] -= np.einsum("jsk,jk,jtk->jst", self.neg_vectors, self.neg_values, self.neg_vectors)
        return sigma


class QuadraticForms:
    """``V_b = sum_j a_jb' Sigma_j a_jb`` for many covariances without re-reading the draws.

    With ``Sigma_j = A + B/M_j - N_j`` (``N_j`` the negative eigen-part),
    ``V_b = <A, Q0_b> + <B, Q1_b> - sum_j a_jb' N_j a_jb`` where
    ``Q0_b = sum_j a_jb a_jb'`` and ``Q1_b = sum_j a_jb a_jb' / M_j`` are
    computed once; each new covariance (one per tested ``r``) then costs
    ``S^2 B`` operations instead of ``J S^2 B``.

    Parameters
    ----------
    cell_influence : np.ndarray
        ``a_jb`` (``J x S x B``).
    inv_size : np.ndarray
        ``1 / M_j``.
    """

    def __init__(self, cell_influence: np.ndarray, inv_size: np.ndarray) -> None:
        self.cell = cell_influence
        by_draw = cell_influence.transpose(2, 0, 1)  # B x J x S
        n_b, n_s = by_draw.shape[0], by_draw.shape[2]
        self.q0 = np.matmul(by_draw.transpose(0, 2, 1), by_draw).reshape(n_b, n_s * n_s)
        self.q1 = np.matmul(by_draw.transpose(0, 2, 1), by_draw * inv_size[None, :, None]).reshape(n_b, n_s * n_s)

    def variance(self, cov: CellCovariance) -> np.ndarray:
        """``V_b`` for every draw."""
        v = self.q0 @ cov.a.ravel() + self.q1 @ cov.b.ravel()
        if cov.neg_values.shape[1]:
            proj = np.matmul(cov.neg_vectors.transpose(0, 2, 1), self.cell[cov.neg_index])  # N x K x B
            v -= np.einsum("jk,jkb->b", cov.neg_values, proj**2)
        return v


@dataclass(frozen=True)
class RandomizationResult:
    """Studentised randomization test of ``c'beta``."""

    inference: Inference
    n_draws: int
    exhaustive: bool


class StudentisedRandomizationTest:
    """Studentised randomization test and interval (see module docstring).

    The estimator must be linear, ``estimate = h' y`` with ``h`` orthogonal to
    the fixed effects, so that under ``H0: c'beta = r`` the statistic of draw
    ``b`` is ``h_b' u(r)`` with restricted residuals ``u(r) = u0 + r u1``.

    Parameters
    ----------
    estimate : float
        Observed estimate of ``c'beta``.
    resid0, resid1 : np.ndarray
        Restricted residuals ``u(r) = resid0 + r * resid1``.
    influence_obs : np.ndarray
        Influence vector of ``c'beta`` under the observed assignment.
    influence_draws : InfluenceDraws
        Influence vectors under the drawn assignments.
    variance_model : SizeVarianceModel
    exhaustive : bool
        Whether the draws enumerate every assignment.
    """

    def __init__(
        self,
        estimate: float,
        resid0: np.ndarray,
        resid1: np.ndarray,
        influence_obs: np.ndarray,
        influence_draws: InfluenceDraws,
        variance_model: SizeVarianceModel,
        exhaustive: bool,
    ) -> None:
        self.h = influence_draws.select(influence_draws.valid)
        self.estimate = float(estimate)
        self.p0, self.p1 = self.h.dot(np.column_stack([resid0, resid1])).T
        self.covariances = variance_model.path(resid0, resid1)
        self.q_obs = variance_model.quadratic_forms(influence_obs[:, None])
        self.q = variance_model.quadratic_forms(self.h)
        self.exhaustive = exhaustive

    @classmethod
    def from_fit(
        cls,
        fit: WithinFit,
        contrast: np.ndarray,
        influence_draws: InfluenceDraws,
        variance_model: SizeVarianceModel,
        exhaustive: bool,
    ) -> StudentisedRandomizationTest:
        """Test of ``c'beta`` in a fixed-effects fit; nuisance coefficients at their restricted estimates."""
        a = fit.bread @ contrast
        cwc = float(contrast @ a)
        estimate = float(contrast @ fit.coef)
        z = fit.x_tilde @ a
        return cls(
            estimate,
            fit.resid + z * estimate / cwc,
            -z / cwc,
            fit.weights * z,
            influence_draws,
            variance_model,
            exhaustive,
        )

    def _stats(self, r: float) -> tuple[float, np.ndarray]:
        cov = self.covariances.at(r)
        v_obs = self.q_obs.variance(cov)[0]
        v = self.q.variance(cov)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (self.p0 + r * self.p1) / np.sqrt(v)
        return (self.estimate - r) / np.sqrt(v_obs), t

    def model_se(self, r: float) -> float:
        """Ferman-Pinto model standard error of the observed estimate under ``H0: c'beta = r``."""
        return float(np.sqrt(self.q_obs.variance(self.covariances.at(r))[0]))

    def p_value(self, r: float = 0.0) -> float:
        """Randomization p-value of ``H0: c'beta = r``."""
        t_obs, t = self._stats(r)
        exceed = int(np.sum(np.abs(t) >= abs(t_obs) * (1 - 1e-10)))
        if self.exhaustive:
            return exceed / len(t)
        return (1 + exceed) / (1 + len(t))

    def result(self, level: float) -> RandomizationResult:
        """p-value of ``c'beta = 0`` and the test-inversion interval."""
        alpha = 1 - level
        scale = self.model_se(0.0)
        if not np.isfinite(scale) or scale <= 0:
            return RandomizationResult(
                Inference(self.estimate, np.nan, np.nan, np.nan, np.nan), self.h.n_draws, self.exhaustive
            )

        def excess(r: float) -> float:
            return self.p_value(r) - alpha

        def bound(sign: float) -> float:
            inner, step = self.estimate, scale
            while step <= 200 * scale:
                outer = self.estimate + sign * step
                if excess(outer) <= 0:
                    lo, hi = sorted((inner, outer))
                    return float(optimize.brentq(excess, lo, hi, xtol=1e-3 * scale))
                inner, step = outer, 2 * step
            return np.nan

        inf = Inference(self.estimate, scale, bound(-1.0), bound(1.0), self.p_value(0.0))
        return RandomizationResult(inf, self.h.n_draws, self.exhaustive)


def size_model_variances(
    placebo: np.ndarray, placebo_size: np.ndarray, treated_size: float
) -> tuple[np.ndarray, float]:
    """Ferman-Pinto variances ``sigma^2(M_j)`` of the placebos and ``sigma^2(M_1)`` at the treated size.

    Least squares of the squared centred placebos on ``(1, 1/M_j)``; falls back
    to the homoskedastic variance when a fitted variance is not positive.
    """
    inv = 1.0 / np.asarray(placebo_size, float)
    design = np.column_stack([np.ones_like(inv), inv])
    centred = placebo - placebo.mean()
    coef, *_ = np.linalg.lstsq(design, centred**2, rcond=None)
    var_j = design @ coef
    var_1 = coef[0] + coef[1] / treated_size
    if np.any(var_j <= 0) or var_1 <= 0:  # fall back to homoskedastic placebos
        return np.full_like(placebo, centred.var()), float(centred.var())
    return var_j, float(var_1)


def conley_taber_fp(
    estimate: float, placebo: np.ndarray, placebo_size: np.ndarray, treated_size: float, level: float
) -> Inference:
    """Conley-Taber interval and p-value with the Ferman-Pinto size correction.

    Parameters
    ----------
    estimate : float
        DiD estimate for the one treated municipality.
    placebo : np.ndarray
        Placebo estimates ``W_j``, one per control municipality.
    placebo_size, treated_size : np.ndarray, float
        ``M_j`` of the controls and ``M_1`` of the treated municipality.
    level : float
        Interval coverage.

    Returns
    -------
    Inference
        ``se`` is the size-model standard deviation ``sigma(M_1)``.
    """
    placebo = np.asarray(placebo, float)
    var_j, var_1 = size_model_variances(placebo, placebo_size, treated_size)
    rescaled = placebo * np.sqrt(var_1 / var_j)
    alpha = 1 - level
    q_lo, q_hi = np.quantile(rescaled, [alpha / 2, 1 - alpha / 2])
    p = (1 + np.sum(np.abs(rescaled) >= abs(estimate))) / (1 + len(rescaled))
    return Inference(estimate, float(np.sqrt(var_1)), estimate - q_hi, estimate - q_lo, float(p))
