"""Restricted wild cluster bootstrap (WCR) with Webb six-point weights.

Procedure (Cameron, Gelbach and Miller 2008; Roodman, MacKinnon, Nielsen and
Webb 2019, "Fast and wild", Stata Journal 19(1)), for ``H0: c'beta = r``:

1. estimate the model subject to ``c'beta = r`` and keep its residuals ``u``;
2. for draws ``b = 1..B`` multiply the residuals of every municipality ``g``
   by one weight ``v_bg`` from Webb's (2023) six-point distribution
   (``+-sqrt(1/2), +-1, +-sqrt(3/2)``, each 1/6) and build
   ``y* = X beta_r + u * v``;
3. refit and compute the CRV1 t-statistic of ``c'beta* - r``;
4. the p-value is the share of ``|t*_b| >= |t|`` (symmetric test).

The refit is never done explicitly.  With ``U_h = M (u * 1[g = h])`` the
bootstrap numerator is ``sum_h v_h N_h`` and the bootstrap cluster scores are
``sum_h v_h K_gh``, so each draw costs one ``G x G`` product (Roodman et al.
2019, section 3).  Both ``N`` and ``K`` are affine in ``r``; the interval
inverts the test over ``r`` with the same draws.

References
----------
Webb, M. D. (2023). Reworking wild bootstrap-based inference for clustered
errors. Canadian Journal of Economics 56(3).
MacKinnon, J. G. and Webb, M. D. (2018). The wild bootstrap for few (treated)
clusters. Econometrics Journal 21(2).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy import optimize

from evaluation.comparison.inference import Inference, cluster_indicator, cluster_sum, crv1_factor
from evaluation.comparison.twfe import WithinFit

WEBB_POINTS = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


def webb_weights(n_draws: int, n_clusters: int, rng: np.random.Generator) -> np.ndarray:
    """Draw a ``n_draws x n_clusters`` matrix of Webb six-point weights."""
    return WEBB_POINTS[rng.integers(0, 6, size=(n_draws, n_clusters))]


class WildClusterBootstrap:
    """WCR test and test-inversion interval for one linear combination ``c'beta``.

    Parameters
    ----------
    fit : WithinFit
        Unrestricted fit (clusters = municipalities).
    contrast : np.ndarray
        ``c``, length ``k``.
    weights : np.ndarray
        Bootstrap weights ``B x G`` (see :func:`webb_weights`).
    """

    def __init__(self, fit: WithinFit, contrast: np.ndarray, weights: np.ndarray) -> None:
        self.fit = fit
        self.v = weights
        c = np.asarray(contrast, dtype=float)
        w = fit.weights
        a = fit.bread @ c
        z = fit.x_tilde @ a  # influence direction of c'beta per row (without weight)
        cwc = float(c @ a)
        g, n_g = fit.clusters, fit.n_clusters
        self.estimate = float(c @ fit.coef)
        self.factor = crv1_factor(fit.n_obs, fit.n_params, n_g)
        # restricted residuals u(r) = u0 + r * u1 (affine in r)
        u0 = fit.y_tilde - fit.x_tilde @ (fit.coef - a * self.estimate / cwc)
        u1 = -fit.x_tilde @ (a / cwc)
        # cluster sums of w z x~' for the refit correction: (G x k)
        wzx = cluster_sum((w * z)[:, None] * fit.x_tilde, g, n_g)
        self._parts = []
        proj = fit.projector
        # per-cluster sums of w z E~ (G x S), used when units are nested in clusters
        wze = cluster_sum((w * z)[:, None] * proj.period_tilde, g, n_g)
        for u in (u0, u1):
            c_h = cluster_sum((w * u)[:, None] * fit.x_tilde, g, n_g)  # sum_{i in h} w x~ u
            if fit.unit_nested:
                # u has zero unit means, so M(u 1_h) = u 1_h - E~ Gamma_h
                e_u = cluster_sum((w * u)[:, None] * proj.period_tilde, g, n_g)
                gamma = proj.period_solver @ e_u.T  # S x G
                wz_u = np.diag(np.bincount(g, weights=w * z * u, minlength=n_g)) - wze @ gamma
            else:
                masked = sp.csr_matrix((u, (np.arange(fit.n_obs), g)), shape=(fit.n_obs, n_g))  # u 1_h, column h
                wz_u = proj.transform_sparse(masked).scale_rows(w * z).rmatmul(cluster_indicator(g, n_g))
            k_mat = wz_u - wzx @ fit.bread @ c_h.T  # K_gh
            self._parts.append((c_h @ a, k_mat))  # (N_h, K_gh)
        # bootstrap numerators and cluster scores are affine in r: precompute both parts once
        self._numer = [self.v @ n_h for n_h, _ in self._parts]
        self._score = [self.v @ k_mat.T for _, k_mat in self._parts]
        scores = cluster_sum(w * z * fit.resid, g, n_g)
        self.se = float(np.sqrt(self.factor * np.sum(scores**2)))

    def _t_star(self, r: float) -> np.ndarray:
        numer = self._numer[0] + r * self._numer[1]
        score = self._score[0] + r * self._score[1]
        se = np.sqrt(self.factor * np.einsum("bg,bg->b", score, score))
        with np.errstate(divide="ignore", invalid="ignore"):
            return numer / se

    def p_value(self, r: float = 0.0) -> float:
        """Bootstrap p-value of ``H0: c'beta = r``."""
        t_obs = (self.estimate - r) / self.se
        t_star = self._t_star(r)
        return float(np.mean(np.abs(t_star) >= abs(t_obs) - 1e-12 * abs(t_obs)))

    def interval(self, level: float) -> tuple[float, float]:
        """Interval ``{r : p(r) > 1 - level}`` found by bisection from the estimate.

        Returns NaN bounds when the test cannot reject at any ``r`` within
        ``estimate +- 100 se`` (typical with one treated cluster).
        """
        alpha = 1 - level

        def excess(r: float) -> float:
            return self.p_value(r) - alpha

        def bound(sign: float) -> float:
            inner, step = self.estimate, self.se
            while step <= 100 * self.se:
                outer = self.estimate + sign * step
                if excess(outer) <= 0:
                    lo, hi = sorted((inner, outer))
                    return float(optimize.brentq(excess, lo, hi, xtol=1e-3 * self.se))
                inner, step = outer, 2 * step
            return np.nan

        return bound(-1.0), bound(1.0)

    def inference(self, level: float) -> Inference:
        """Estimate, CRV1 standard error, WCR interval and WCR p-value (H0: 0)."""
        lo, hi = self.interval(level)
        return Inference(self.estimate, self.se, lo, hi, self.p_value(0.0))
