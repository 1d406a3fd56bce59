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
from evaluation.comparison.twfe import WithinFit
from evaluation.comparison.within import WithinProjector
from evaluation.errors import EstimationError


@dataclass(frozen=True)
class CohortAssignment:
    """Cohort of every municipality: index into the cohorts, or -1 for never treated.

    Parameters
    ----------
    observed : np.ndarray
        Observed cohort index per municipality (length ``J``).
    n_cohorts : int
        Number of cohorts ``C``.
    """

    observed: np.ndarray
    n_cohorts: int

    @property
    def counts(self) -> np.ndarray:
        """Number of treated municipalities per cohort."""
        return np.bincount(self.observed[self.observed >= 0], minlength=self.n_cohorts)

    def n_assignments(self, pool: np.ndarray) -> int:
        """Number of distinct assignments of the cohort counts within ``pool``."""
        remaining, total = int(pool.sum()), 1
        for k in self.counts:
            total *= math.comb(remaining, int(k))
            remaining -= int(k)
        return total

    def draw(self, n_draws: int, rng: np.random.Generator, pool: np.ndarray | None = None) -> tuple[np.ndarray, bool]:
        """Assignments ``B x J`` keeping the cohort counts; ``(draws, exhaustive)``.

        Municipalities outside ``pool`` (boolean, default all) stay never
        treated.  When the pool admits at most ``n_draws`` assignments all are
        returned (``exhaustive=True``, the observed one included if feasible).
        """
        pool = np.ones(len(self.observed), bool) if pool is None else np.asarray(pool, bool)
        idx = np.flatnonzero(pool)
        counts = self.counts
        if counts.sum() > len(idx):
            raise EstimationError(f"randomization: {counts.sum()} pilots but only {len(idx)} municipalities to assign them to")
        labels = np.repeat(np.arange(self.n_cohorts), counts)
        labels = np.concatenate([labels, np.full(len(idx) - len(labels), -1)])
        if self.n_assignments(pool) <= n_draws:
            rows = [self._fill(idx, combo) for combo in self._enumerate(list(idx), list(counts))]
            return np.array(rows, dtype=np.int64), True
        order = rng.permuted(np.tile(labels, (n_draws, 1)), axis=1)
        out = np.full((n_draws, len(self.observed)), -1, dtype=np.int64)
        out[:, idx] = order
        return out, False

    def _fill(self, idx: np.ndarray, combo: list[tuple[int, ...]]) -> np.ndarray:
        row = np.full(len(self.observed), -1, dtype=np.int64)
        for cohort, members in enumerate(combo):
            row[list(members)] = cohort
        return row

    def _enumerate(self, pool: list[int], counts: list[int]):
        if not counts:
            yield []
            return
        for first in itertools.combinations(pool, counts[0]):
            rest = [m for m in pool if m not in first]
            for tail in self._enumerate(rest, counts[1:]):
                yield [first, *tail]


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


def twfe_influence(projector: WithinProjector, treatment: np.ndarray, multipliers: np.ndarray, contrast: np.ndarray) -> np.ndarray:
    """Influence vectors ``h_b = W X~_b (X~_b' W X~_b)^{-1} c`` for each draw.

    The regressors of draw ``b`` are ``treatment[:, b] * multipliers[:, m]``
    (multiplier 1: the DiD dummy; a low-education indicator: the triple
    difference interaction).  Returns ``n x B``; a draw whose regressors are
    collinear gets NaN.
    """
    n, n_b = treatment.shape
    k = multipliers.shape[1]
    stacked = np.concatenate([treatment * multipliers[:, [m]] for m in range(k)], axis=1)
    xt = projector.transform(stacked).reshape(n, k, n_b)
    w = projector.weights
    cross = np.einsum("ikb,i,ilb->bkl", xt, w, xt)
    det_ok = np.abs(np.linalg.det(cross)) > 1e-10 * np.prod(np.diagonal(cross, axis1=1, axis2=2), axis=1).clip(1e-300)
    safe = np.where(det_ok[:, None, None], cross, np.eye(k))
    a = np.linalg.solve(safe, np.broadcast_to(contrast, (n_b, k))[..., None])[..., 0]  # B x k
    h = w[:, None] * np.einsum("ikb,bk->ib", xt, a)
    h[:, ~det_ok] = np.nan
    return h


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

    def covariances(self, resid: np.ndarray) -> np.ndarray:
        """Fitted positive semi-definite ``Sigma_j`` for every municipality (``J x S x S``)."""
        mean = (self.weighted @ resid).reshape(self.n_clusters, self.n_cells) / self.cell_weight
        prod = mean[:, :, None] * mean[:, None, :]
        both = self.present[:, :, None] & self.present[:, None, :]
        # weighted least squares of prod on (1, 1/M_j) for every pair (s, t) at once
        x0, x1 = both.astype(float), both * self.inv_size[:, None, None]
        s00, s01, s11 = x0.sum(0), x1.sum(0), (x1 * self.inv_size[:, None, None]).sum(0)
        t0, t1 = (prod * x0).sum(0), (prod * x1).sum(0)
        det = s00 * s11 - s01**2
        ok = det > 1e-12 * np.maximum(s00 * s11, 1e-300)
        b = np.where(ok, (s00 * t1 - s01 * t0) / np.where(ok, det, 1.0), 0.0)
        a = np.where(ok, (t0 - b * s01) / np.maximum(s00, 1), t0 / np.maximum(s00, 1))
        sigma = a[None] + b[None] * self.inv_size[:, None, None]
        vals, vecs = np.linalg.eigh(sigma)
        return np.einsum("jsk,jk,jtk->jst", vecs, vals.clip(0), vecs)

    def cell_influence(self, influence: np.ndarray) -> np.ndarray:
        """``a_jb``: influence summed over the rows of each municipality x period cell (``J x S x B``)."""
        return (self.aggregate @ influence).reshape(self.n_clusters, self.n_cells, -1)

    @staticmethod
    def variance(cell_influence: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        """``V_b = sum_j a_jb' Sigma_j a_jb``."""
        return np.sum(cell_influence * np.matmul(sigma, cell_influence), axis=(0, 1))


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
    influence_draws : np.ndarray
        Influence vectors under the drawn assignments (``n x B``).
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
        influence_draws: np.ndarray,
        variance_model: SizeVarianceModel,
        exhaustive: bool,
    ) -> None:
        valid = np.all(np.isfinite(influence_draws), axis=0)
        self.h = influence_draws[:, valid]
        self.estimate = float(estimate)
        self.u0, self.u1 = resid0, resid1
        self.p0, self.p1 = self.h.T @ resid0, self.h.T @ resid1
        self.model = variance_model
        self.a_obs = variance_model.cell_influence(influence_obs[:, None])
        self.a = variance_model.cell_influence(self.h)
        self.exhaustive = exhaustive

    @classmethod
    def from_fit(cls, fit: WithinFit, contrast: np.ndarray, influence_draws: np.ndarray,
                 variance_model: SizeVarianceModel, exhaustive: bool) -> "StudentisedRandomizationTest":
        """Test of ``c'beta`` in a fixed-effects fit; nuisance coefficients at their restricted estimates."""
        a = fit.bread @ contrast
        cwc = float(contrast @ a)
        estimate = float(contrast @ fit.coef)
        z = fit.x_tilde @ a
        return cls(estimate, fit.resid + z * estimate / cwc, -z / cwc, fit.weights * z, influence_draws,
                   variance_model, exhaustive)

    def _stats(self, r: float) -> tuple[float, np.ndarray]:
        u = self.u0 + r * self.u1
        sigma = self.model.covariances(u)
        v_obs = self.model.variance(self.a_obs, sigma)[0]
        v = self.model.variance(self.a, sigma)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (self.p0 + r * self.p1) / np.sqrt(v)
        return (self.estimate - r) / np.sqrt(v_obs), t

    def model_se(self, r: float) -> float:
        """Ferman-Pinto model standard error of the observed estimate under ``H0: c'beta = r``."""
        return float(np.sqrt(self.model.variance(self.a_obs, self.model.covariances(self.u0 + r * self.u1))[0]))

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
            return RandomizationResult(Inference(self.estimate, np.nan, np.nan, np.nan, np.nan), self.h.shape[1], self.exhaustive)

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
        return RandomizationResult(inf, self.h.shape[1], self.exhaustive)


def conley_taber_fp(estimate: float, placebo: np.ndarray, placebo_size: np.ndarray, treated_size: float, level: float) -> Inference:
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
    inv = 1.0 / np.asarray(placebo_size, float)
    design = np.column_stack([np.ones_like(inv), inv])
    centred = placebo - placebo.mean()
    coef, *_ = np.linalg.lstsq(design, centred**2, rcond=None)
    var_j = design @ coef
    var_1 = coef[0] + coef[1] / treated_size
    if np.any(var_j <= 0) or var_1 <= 0:  # fall back to homoskedastic placebos
        var_j = np.full_like(placebo, centred.var())
        var_1 = float(centred.var())
    rescaled = placebo * np.sqrt(var_1 / var_j)
    alpha = 1 - level
    q_lo, q_hi = np.quantile(rescaled, [alpha / 2, 1 - alpha / 2])
    p = (1 + np.sum(np.abs(rescaled) >= abs(estimate))) / (1 + len(rescaled))
    return Inference(estimate, float(np.sqrt(var_1)), estimate - q_hi, estimate - q_lo, float(p))
