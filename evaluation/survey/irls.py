"""Iteratively reweighted least squares exactly as R ``glm.fit`` (start values, deviance stopping rule).

``svyglm`` in R fits with ``glm.fit`` and takes its sandwich from the last
iteration's working weights. Repeating the same iterations (not only the same
limit) makes the coefficients and standard errors agree with R at R's default
convergence tolerance, not only when both have converged far.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, xlogy

from evaluation.errors import EstimationError

_EPS = np.finfo(float).eps
_THRESH = 30.0  # R's C_logit_linkinv / C_logit_mu_eta clamp eta to [-30, 30]


@dataclass(frozen=True)
class GLMFit:
    """Result of :func:`fit_glm`.

    Attributes
    ----------
    coef : ndarray, shape (p,)
    mu : ndarray, shape (n,)
        Fitted means at ``coef``.
    bread : ndarray, shape (p, p)
        ``(X' W X)^-1`` with the last iteration's working weights (R ``cov.unscaled``).
    score : ndarray, shape (n,)
        Per-row factor of the estimating function: working residual times working
        weight (R ``resid(fit, "working") * fit$weights``).
    converged : bool
    iterations : int
    """

    coef: np.ndarray
    mu: np.ndarray
    bread: np.ndarray
    score: np.ndarray
    converged: bool
    iterations: int


def _link(family: str, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``linkinv(eta)`` and derivative ``mu.eta(eta)`` of the canonical link."""
    if family == "gaussian":
        return eta, np.ones_like(eta)
    if family == "quasibinomial":
        clamped = np.clip(eta, -_THRESH, _THRESH)
        mu = np.clip(expit(clamped), _EPS, 1 - _EPS)
        e = np.exp(-np.abs(clamped))
        return mu, np.maximum(e / (1 + e) ** 2, _EPS)
    mu = np.maximum(np.exp(eta), _EPS)
    return mu, mu


def _start(family: str, y: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """R's ``mustart`` of the family."""
    if family == "quasibinomial":
        return (prior * y + 0.5) / (prior + 1)
    if family == "quasipoisson":
        return y + 0.1
    return y


def _linkfun(family: str, mu: np.ndarray) -> np.ndarray:
    if family == "quasibinomial":
        return np.log(mu / (1 - mu))
    if family == "quasipoisson":
        return np.log(mu)
    return mu


def _variance(family: str, mu: np.ndarray) -> np.ndarray:
    if family == "quasibinomial":
        return mu * (1 - mu)
    if family == "quasipoisson":
        return mu
    return np.ones_like(mu)


def _deviance(family: str, y: np.ndarray, mu: np.ndarray, prior: np.ndarray) -> float:
    if family == "quasibinomial":
        unit = xlogy(y, y / mu) + xlogy(1 - y, (1 - y) / (1 - mu))
    elif family == "quasipoisson":
        unit = xlogy(y, y / mu) - (y - mu)
    else:
        return float(np.sum(prior * (y - mu) ** 2))
    return float(np.sum(2 * prior * unit))


def fit_glm(
    x: np.ndarray,
    y: np.ndarray,
    prior: np.ndarray,
    family: str,
    epsilon: float = 1e-8,
    maxit: int = 25,
    start: np.ndarray | None = None,
) -> GLMFit:
    """Fit a GLM with canonical link by IRLS, iteration for iteration as R ``glm.fit``.

    Parameters
    ----------
    x : ndarray, shape (n, p)
        Model matrix (full column rank).
    y : ndarray, shape (n,)
    prior : ndarray, shape (n,)
        Prior weights (``svyglm``: sampling weights divided by their mean).
    family : {"gaussian", "quasibinomial", "quasipoisson"}
        Identity, logit or log link.
    epsilon, maxit : float, int
        R ``glm.control``: stop when ``|dev - dev_old| / (|dev| + 0.1) < epsilon``.
    start : ndarray, optional
        Starting coefficients (R ``glm.fit(start = )``, as ``svyglm`` uses for
        replicate fits); by default R's ``mustart`` of the family.

    Returns
    -------
    GLMFit
    """
    eta = _linkfun(family, _start(family, y, prior)) if start is None else x @ start
    mu, mu_eta = _link(family, eta)
    dev_old = _deviance(family, y, mu, prior)
    converged = False
    for iteration in range(1, maxit + 1):
        z = eta + (y - mu) / mu_eta
        working = prior * mu_eta**2 / _variance(family, mu)
        root = np.sqrt(working)
        coef, *_ = np.linalg.lstsq(x * root[:, None], z * root, rcond=None)
        eta = x @ coef
        mu, mu_eta = _link(family, eta)
        dev = _deviance(family, y, mu, prior)
        if not np.isfinite(dev):
            raise EstimationError(f"the {family} fit diverged (non-finite deviance) at iteration {iteration}")
        if abs(dev - dev_old) / (abs(dev) + 0.1) < epsilon:
            converged = True
            break
        dev_old = dev
    bread = np.linalg.inv(x.T @ (working[:, None] * x))
    score = (y - mu) / mu_eta * working
    return GLMFit(coef, mu, bread, score, converged, iteration)
