"""Cluster-robust variances (CRV1, CRV3) and Wald tests for fixed-effects fits.

All clustering is by municipality, the level at which pilots are assigned.
With few treated municipalities these variances are unreliable (MacKinnon and
Webb 2017); they are reported next to the wild cluster bootstrap and the
randomization tests, never alone.

References
----------
Cameron, A. C., Gelbach, J. B. and Miller, D. L. (2008). Bootstrap-based
improvements for inference with clustered errors. REStat 90(3).
MacKinnon, J. G., Nielsen, M. Ø. and Webb, M. D. (2023). Cluster-robust
inference: a guide to empirical practice. J. Econometrics 232(2).
MacKinnon, J. G. and Webb, M. D. (2017). Wild bootstrap inference for wildly
different cluster sizes. J. Applied Econometrics 32(2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from evaluation import distributions
from evaluation.comparison.twfe import WithinFit, solve_wls
from evaluation.errors import EstimationError


@dataclass(frozen=True)
class Inference:
    """One estimate with its standard error, interval and p-value (H0: 0)."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float

    def tidy(self, *, n_obs: int, n_clusters: int, n_treated_clusters: int, **labels: str) -> dict:
        """One row of an effects table: ``labels`` (estimand, outcome, sample, method, inference), the estimate,
        its standard error, interval and p-value, then the sample sizes."""
        return {
            **labels,
            "estimate": self.estimate,
            "se": self.se,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "p_value": self.p_value,
            "n_obs": n_obs,
            "n_clusters": n_clusters,
            "n_treated_clusters": n_treated_clusters,
        }


def crv1_factor(n_obs: int, n_params: int, n_clusters: int) -> float:
    """Small-sample factor ``G/(G-1) * (N-1)/(N-K)`` (Stata, fixest, pyfixest).

    ``K`` counts a unit fixed effect nested in the clusters as one parameter
    (fixest ``ssc(fixef.K = "nested")``, pyfixest's default).
    """
    if n_clusters < 2 or n_obs <= n_params:
        raise EstimationError(
            f"cluster-robust variance needs >= 2 clusters and N > K (G={n_clusters}, N={n_obs}, K={n_params})"
        )
    return n_clusters / (n_clusters - 1) * (n_obs - 1) / (n_obs - n_params)


def cluster_sum(values: np.ndarray, clusters: np.ndarray, n_clusters: int) -> np.ndarray:
    """Sum the rows of ``values`` (``n`` or ``n x ...``) within clusters; returns ``G`` or ``G x ...``.

    One sparse product with the cluster indicator (much faster than
    ``np.add.at`` for wide rows).
    """
    values = np.asarray(values, dtype=float)
    n = len(clusters)
    return (cluster_indicator(clusters, n_clusters) @ values.reshape(n, -1)).reshape((n_clusters, *values.shape[1:]))


def cluster_indicator(clusters: np.ndarray, n_clusters: int) -> sp.csr_matrix:
    """``G x n`` 0/1 matrix: row ``g`` marks the rows of cluster ``g``."""
    n = len(clusters)
    return sp.csr_matrix((np.ones(n), (clusters, np.arange(n))), shape=(n_clusters, n))


def cluster_cross_products(
    values: np.ndarray, weights: np.ndarray, clusters: np.ndarray, n_clusters: int
) -> np.ndarray:
    """``sum_{i in g} w_i v_i v_i'`` for every cluster (``G x k x k``), one small product per cluster.

    Never forms the ``n x k x k`` row outer products.
    """
    order = np.argsort(clusters, kind="stable")
    bounds = np.searchsorted(clusters[order], np.arange(n_clusters + 1))
    out = np.zeros((n_clusters, values.shape[1], values.shape[1]))
    for g in np.flatnonzero(np.diff(bounds)):
        rows = order[bounds[g] : bounds[g + 1]]
        v = values[rows]
        out[g] = v.T @ (weights[rows, None] * v)
    return out


def cluster_scores(fit: WithinFit) -> np.ndarray:
    """Per-cluster scores ``sum_{i in g} w_i x~_i u_i`` as a ``G x k`` matrix."""
    return cluster_sum(fit.x_tilde * (fit.weights * fit.resid)[:, None], fit.clusters, fit.n_clusters)


def crv1(fit: WithinFit) -> np.ndarray:
    """CRV1 covariance matrix of the coefficients (``k x k``)."""
    s = cluster_scores(fit)
    meat = s.T @ s
    return crv1_factor(fit.n_obs, fit.n_params, fit.n_clusters) * fit.bread @ meat @ fit.bread


def jackknife_coefficients(fit: WithinFit) -> np.ndarray:
    """Leave-one-cluster-out coefficients (``G x k``); NaN where not identified.

    Each refit re-estimates every fixed effect on the remaining clusters.  When
    the unit effects are nested in the clusters, dropping a cluster leaves the
    other units' demeaned data unchanged, so only the period effects are
    re-partialled: the refit is assembled from per-cluster cross-products of
    ``[E~, X_u, y_u]`` (exact, no re-demeaning).  Otherwise each refit
    rebuilds the projection.
    """
    k = len(fit.coef)
    out = np.full((fit.n_clusters, k), np.nan)
    if fit.unit_nested:
        proj = fit.projector
        z = np.column_stack([fit.y, fit.x])
        zu = z - (proj.unit_sum @ z / proj.unit_weight[:, None])[proj.unit]
        full = np.column_stack([proj.period_tilde, zu])
        parts = cluster_cross_products(full, proj.weights, fit.clusters, fit.n_clusters)
        s = proj.n_periods
        loo = parts.sum(axis=0)[None] - parts
        # drop the first period column: the others are then identified whenever the panel stays connected
        ee, ez, zz = loo[:, 1:s, 1:s], loo[:, 1:s, s:], loo[:, s:, s:]
        try:
            solved = np.linalg.solve(ee, ez)
        except np.linalg.LinAlgError:  # some refit loses a period: pseudo-inverse for those
            solved = np.empty_like(ez)
            for g in range(fit.n_clusters):
                try:
                    solved[g] = np.linalg.solve(ee[g], ez[g])
                except np.linalg.LinAlgError:
                    solved[g] = np.linalg.pinv(ee[g], rcond=1e-10, hermitian=True) @ ez[g]
        cross = zz - np.matmul(ez.transpose(0, 2, 1), solved)  # [y, x] cross-products net of period effects
        xx, xy = cross[:, 1:, 1:], cross[:, 1:, 0]
        ok = np.linalg.cond(xx) < 1e10
        out[ok] = np.linalg.solve(xx[ok], xy[ok][..., None])[..., 0]
        return out
    for g in range(fit.n_clusters):
        keep = fit.clusters != g
        sub = fit.projector.subset(keep)
        transformed = sub.transform(np.column_stack([fit.y[keep], fit.x[keep]]))
        try:
            out[g], _ = solve_wls(transformed[:, 1:], transformed[:, 0], sub.weights)
        except EstimationError:
            continue
    return out


def crv3(fit: WithinFit) -> np.ndarray:
    """CRV3 (cluster jackknife) covariance ``(G-1)/G * sum_g (b_(g) - b)(b_(g) - b)'``.

    This is the CV3 of MacKinnon, Nielsen and Webb (2023, eq. 25), centred at
    the full-sample estimate.  pyfixest's ``CRV3`` uses the same sum but scales
    it by the CRV1 factor ``G/(G-1) (N-1)/(N-K)`` instead of ``(G-1)/G``.
    The result is NaN when dropping some cluster leaves a coefficient
    unidentified (for example the only treated municipality).
    """
    jack = jackknife_coefficients(fit)
    if np.isnan(jack).any():
        return np.full((len(fit.coef), len(fit.coef)), np.nan)
    dev = jack - fit.coef
    g = fit.n_clusters
    return (g - 1) / g * dev.T @ dev


def t_inference(estimate: float, variance: float, df: int, level: float) -> Inference:
    """Student-t interval and two-sided p-value with ``df`` degrees of freedom (``G - 1``)."""
    se = float(np.sqrt(variance)) if np.isfinite(variance) and variance >= 0 else np.nan
    if not np.isfinite(se) or se == 0:
        return Inference(estimate, se, np.nan, np.nan, np.nan)
    q = distributions.t_quantile(0.5 + level / 2, df)
    p = 2 * distributions.t_sf(abs(estimate / se), df)
    return Inference(estimate, se, estimate - q * se, estimate + q * se, float(p))


def wald_test(coef: np.ndarray, cov: np.ndarray, restriction: np.ndarray, df_denominator: int) -> tuple[float, float]:
    """Wald F test of ``R beta = 0``; returns ``(F, p)`` with ``F(q, df_denominator)``.

    With cluster-robust ``cov``, ``df_denominator = G - 1`` as in fixest's
    ``wald()`` and Stata's ``test`` after ``reg, cluster()``.
    """
    r = np.atleast_2d(restriction)
    rb = r @ coef
    v = r @ cov @ r.T
    q = r.shape[0]
    try:
        stat = float(rb @ np.linalg.solve(v, rb)) / q
    except np.linalg.LinAlgError:
        return np.nan, np.nan
    return stat, float(distributions.f_sf(stat, q, df_denominator))
