"""Sensitivity of an event-study effect to violations of parallel trends (Rambachan and Roth 2023).

The event study gives ``betahat = (beta_pre, beta_post)`` (reference period
omitted, so ``delta_ref = 0``) with covariance ``sigma``.  Write
``beta = delta + (0, tau)``: ``delta`` is the difference in trends, ``tau`` the
treatment effects, and the target is ``theta = l' tau_post``.  Parallel
trends say ``delta_post = 0``; the smoothness restriction

    Delta^SD(M) = {delta : |(delta_{t+1} - delta_t) - (delta_t - delta_{t-1})| <= M for all t}

only bounds how far the trend may bend from a linear extrapolation of the
pre-period trend per period (``M = 0``: linear trends).  The robust interval
is the optimal fixed-length confidence interval (FLCI, Armstrong and Kolesar
2018; the default of R ``HonestDiD`` for ``Delta^SD``): among the affine
estimators ``v' betahat`` with ``v_post = l`` whose worst-case bias over
``Delta^SD(M)`` is finite (``v`` orthogonal to linear trends), the one with
the shortest interval ``v' betahat +- cv_alpha(b / s) s``, where ``s`` is the
estimator's standard error, ``b = M ||lambda(v)||_1`` its worst-case bias and
``cv_alpha(t)`` the ``1 - alpha`` quantile of ``|N(t, 1)|``.  The breakdown
value is the largest ``M`` whose interval excludes zero.

The interval is found as in ``HonestDiD``: for a standard error bound ``h``
the smallest worst-case bias is a convex problem, and the half-length is then
minimised over ``h`` (here with a bounded scalar search instead of
``HonestDiD``'s grid of 100 points, so the two agree to the grid's accuracy).

References
----------
Rambachan, A. and Roth, J. (2023). A more credible approach to parallel trends.
Review of Economic Studies 90(5), 2555-2591.
Armstrong, T. B. and Kolesar, M. (2018). Optimal inference in a class of
regression models. Econometrica 86(2), 655-683.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from evaluation.errors import EstimationError


def _critical_value(t: float, alpha: float) -> float:
    """``1 - alpha`` quantile of ``|N(t, 1)|`` (the folded normal)."""
    if t < 1e-12:
        return float(stats.norm.ppf(1 - alpha / 2))
    return float(np.sqrt(stats.ncx2.ppf(1 - alpha, df=1, nc=t * t)))


@dataclass(frozen=True)
class _Design:
    """Linear maps of the FLCI problem for ``num_pre`` pre and ``num_post`` post periods."""

    num_pre: int
    num_post: int

    @property
    def k(self) -> int:
        return self.num_pre + self.num_post

    def dual(self) -> np.ndarray:
        """``Lambda`` with ``lambda(v) = Lambda v``: the second-difference weights reproducing ``v``.

        ``sup_{delta in Delta^SD(M)} v' delta = M ||lambda||_1`` where
        ``D' lambda = v~ + mu e_ref`` (``v~`` is ``v`` with 0 at the reference
        period, ``D`` the second differences); ``[D', -e_ref]`` has full column
        rank, so ``(lambda, mu)`` is unique when ``v`` is orthogonal to linear
        trends.
        """
        n = self.k + 1
        second = np.zeros((n - 2, n))
        for r in range(n - 2):
            second[r, r : r + 3] = (1.0, -2.0, 1.0)
        ref = np.zeros(n)
        ref[self.num_pre] = 1.0
        system = np.column_stack([second.T, -ref])
        insert = np.delete(np.eye(n), self.num_pre, axis=1)  # v -> v~
        return (np.linalg.pinv(system) @ insert)[:-1]

    def trend(self) -> np.ndarray:
        """Event times ``-num_pre..-1, 1..num_post``: ``v`` must be orthogonal to them."""
        return np.concatenate([np.arange(-self.num_pre, 0), np.arange(1, self.num_post + 1)]).astype(float)


@dataclass(frozen=True)
class FLCI:
    """Optimal fixed-length confidence interval under ``Delta^SD(M)``."""

    m: float
    estimate: float
    half_length: float
    weights: np.ndarray

    @property
    def conf_low(self) -> float:
        """Lower end."""
        return self.estimate - self.half_length

    @property
    def conf_high(self) -> float:
        """Upper end."""
        return self.estimate + self.half_length


def _check(betahat: np.ndarray, sigma: np.ndarray, num_pre: int, num_post: int, l_vec: np.ndarray) -> None:
    k = num_pre + num_post
    if num_pre < 2 and num_pre != 1:
        raise EstimationError(f"sensitivity: num_pre must be >= 1, got {num_pre}")
    if betahat.shape != (k,):
        raise EstimationError(f"sensitivity: betahat has {betahat.size} values; expected num_pre + num_post = {k}")
    if sigma.shape != (k, k) or not np.allclose(sigma, sigma.T) or np.min(np.linalg.eigvalsh(sigma)) <= 0:
        raise EstimationError(f"sensitivity: sigma must be a symmetric positive definite {k} x {k} matrix")
    if l_vec.shape != (num_post,):
        raise EstimationError(f"sensitivity: l_vec has {l_vec.size} values; expected num_post = {num_post}")
    if not np.all(np.isfinite(betahat)):
        raise EstimationError("sensitivity: betahat has a missing or infinite value")


def flci(
    betahat: np.ndarray,
    sigma: np.ndarray,
    num_pre: int,
    num_post: int,
    m: float,
    l_vec: np.ndarray | None = None,
    alpha: float = 0.05,
) -> FLCI:
    """Optimal FLCI for ``theta = l' tau_post`` under ``Delta^SD(m)``, as ``HonestDiD::findOptimalFLCI``.

    Parameters
    ----------
    betahat : np.ndarray
        Event-study coefficients, pre periods then post periods, ordered by
        event time, the reference period left out.
    sigma : np.ndarray
        Their covariance.
    num_pre, num_post : int
        Numbers of pre and post coefficients.
    m : float
        Bound on the change in slope of the trend difference per period, in
        the outcome's unit.
    l_vec : np.ndarray, optional
        Weights of the post effects in ``theta``; default the first post period.
    alpha : float
        One minus the coverage.

    Returns
    -------
    FLCI
    """
    betahat, sigma = np.asarray(betahat, float), np.asarray(sigma, float)
    l_vec = np.eye(num_post)[0] if l_vec is None else np.asarray(l_vec, float)
    _check(betahat, sigma, num_pre, num_post, l_vec)
    if m < 0:
        raise EstimationError(f"sensitivity: M must be >= 0, got {m}")
    design = _Design(num_pre, num_post)
    lam, trend = design.dual(), design.trend()
    # v = (w, l): the pre weights w solve trend_pre' w = -trend_post' l; parametrise w = w0 + N z
    a = trend[:num_pre][None, :]
    rhs = -trend[num_pre:] @ l_vec
    w0 = np.linalg.lstsq(a, [rhs], rcond=None)[0]
    null = np.linalg.svd(a)[2][1:].T  # num_pre x (num_pre - 1)

    def vec(z: np.ndarray) -> np.ndarray:
        return np.concatenate([w0 + null @ z, l_vec])

    def sd(z: np.ndarray) -> float:
        v = vec(z)
        return float(np.sqrt(v @ sigma @ v))

    def bias(z: np.ndarray) -> float:
        return float(m * np.abs(lam @ vec(z)).sum())

    def half(z: np.ndarray) -> float:
        s = sd(z)
        return _critical_value(bias(z) / s, alpha) * s

    dim = null.shape[1]
    if dim == 0:
        best = np.zeros(0)
    else:
        # the smallest-variance and the smallest-bias estimators bracket the optimum; minimise the half-length
        # over the segment of h, solving the convex min-bias-given-sd problem at each h (HonestDiD's approach)
        z_var = optimize.minimize(lambda z: sd(z) ** 2, np.zeros(dim), method="BFGS", options={"gtol": 1e-12}).x
        if m == 0:
            best = z_var
        else:
            n_lam = lam.shape[0]

            def min_bias(h: float, start: np.ndarray) -> np.ndarray:
                x0 = np.concatenate([start, np.abs(lam @ vec(start))])
                cons = [
                    {"type": "ineq", "fun": lambda x: x[dim:] - lam @ vec(x[:dim])},
                    {"type": "ineq", "fun": lambda x: x[dim:] + lam @ vec(x[:dim])},
                    {"type": "ineq", "fun": lambda x: h * h - vec(x[:dim]) @ sigma @ vec(x[:dim])},
                ]
                res = optimize.minimize(
                    lambda x: x[dim:].sum(),
                    x0,
                    method="SLSQP",
                    constraints=cons,
                    options={"ftol": 1e-14, "maxiter": 500},
                )
                return res.x[:dim]

            z_bias = min_bias(1e6 * sd(z_var), z_var)
            h0, h1 = sd(z_var), max(sd(z_bias), sd(z_var) * (1 + 1e-9))
            found = optimize.minimize_scalar(
                lambda h: half(min_bias(h, z_var)), bounds=(h0, h1), method="bounded", options={"xatol": 1e-10 * h1}
            )
            candidates = [z_var, z_bias, min_bias(found.x, z_var)]
            best = min(candidates, key=half)
            del n_lam
    v = vec(best)
    return FLCI(m=float(m), estimate=float(v @ betahat), half_length=half(best), weights=v)


def breakdown(
    betahat: np.ndarray,
    sigma: np.ndarray,
    num_pre: int,
    num_post: int,
    l_vec: np.ndarray | None = None,
    alpha: float = 0.05,
    tol: float = 1e-6,
) -> float:
    """Largest ``M`` whose FLCI under ``Delta^SD(M)`` excludes zero (0 when even ``M = 0`` does not; bisection).

    The FLCI widens with ``M``, so the set of ``M`` that exclude zero is an interval from 0.
    """

    def excludes(m: float) -> bool:
        ci = flci(betahat, sigma, num_pre, num_post, m, l_vec, alpha)
        return ci.conf_low > 0 or ci.conf_high < 0

    if not excludes(0.0):
        return 0.0
    hi = float(np.sqrt(np.max(np.diag(sigma))))
    while excludes(hi):
        hi *= 2
    lo = 0.0
    while hi - lo > tol * max(hi, 1e-12):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if excludes(mid) else (lo, mid)
    return lo


def smoothness_table(
    betahat: np.ndarray,
    sigma: np.ndarray,
    num_pre: int,
    num_post: int,
    m_values: np.ndarray,
    l_vec: np.ndarray | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """FLCI for each ``M``: ``m, estimate, conf_low, conf_high`` (``HonestDiD::createSensitivityResults``)."""
    rows = []
    for m in m_values:
        ci = flci(betahat, sigma, num_pre, num_post, float(m), l_vec, alpha)
        rows.append({"m": ci.m, "estimate": ci.estimate, "conf_low": ci.conf_low, "conf_high": ci.conf_high})
    return pd.DataFrame(rows)
