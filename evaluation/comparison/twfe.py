"""Weighted least squares with absorbed fixed effects (two-way fixed-effects DiD).

The difference-in-differences estimand of :func:`fit_within` with a single
treatment dummy is the eligible-voter-weighted TWFE coefficient

    y_it = beta * D_it + alpha_i + gamma_t + e_it,

estimated on ``M y`` and ``M D`` (see :mod:`evaluation.comparison.within`).
Additional regressors (the treatment x low-education interaction of the triple
difference, event-time dummies) enter the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaluation.comparison.within import WithinProjector, _encode
from evaluation.errors import EstimationError


@dataclass(frozen=True)
class WithinFit:
    """A fitted fixed-effects regression and everything inference needs.

    Attributes
    ----------
    coef : np.ndarray
        Coefficients (``k``), in the units of ``y``.
    names : tuple[str, ...]
        Regressor names.
    x_tilde, y_tilde : np.ndarray
        Regressors and outcome net of the fixed effects.
    resid : np.ndarray
        Residuals ``y_tilde - x_tilde @ coef``.
    bread : np.ndarray
        ``(X~' W X~)^{-1}``.
    clusters : np.ndarray
        Cluster codes ``0..G-1``.
    projector : WithinProjector
        The fixed-effects projection used.
    y, x : np.ndarray
        The untransformed outcome and regressors (kept for re-estimation on
        subsets, as in CRV3).
    unit_nested : bool
        Whether every unit lies in one cluster (affects the small-sample factor).
    """

    coef: np.ndarray
    names: tuple[str, ...]
    x_tilde: np.ndarray
    y_tilde: np.ndarray
    resid: np.ndarray
    bread: np.ndarray
    clusters: np.ndarray
    projector: WithinProjector
    y: np.ndarray
    x: np.ndarray
    unit_nested: bool

    @property
    def weights(self) -> np.ndarray:
        """Analytic weights."""
        return self.projector.weights

    @property
    def n_obs(self) -> int:
        """Number of observations."""
        return self.projector.n_obs

    @property
    def n_clusters(self) -> int:
        """Number of clusters."""
        return int(self.clusters.max()) + 1

    @property
    def n_params(self) -> int:
        """``K`` of the small-sample factor: regressors plus counted fixed effects."""
        return self.x.shape[1] + self.projector.n_fe_params(self.unit_nested)

    def index(self, name: str) -> int:
        """Position of regressor ``name``."""
        return self.names.index(name)


def solve_wls(x_tilde: np.ndarray, y_tilde: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(coef, bread)`` of weighted least squares on transformed data.

    Raises
    ------
    EstimationError
        If a regressor has no variation left after the fixed effects (for
        example no treated observation in the sample).
    """
    cross = x_tilde.T @ (weights[:, None] * x_tilde)
    scale = np.sqrt(np.clip(np.diag(cross), 0, None))
    if np.any(scale <= 1e-9 * max(1.0, float(np.sqrt(weights.sum())))):
        raise EstimationError("fixed-effects model: a regressor has no variation after removing the fixed effects")
    try:
        bread = np.linalg.inv(cross)
    except np.linalg.LinAlgError as exc:
        raise EstimationError("fixed-effects model: regressors are collinear after removing the fixed effects") from exc
    return bread @ (x_tilde.T @ (weights * y_tilde)), bread


def fit_within(
    projector: WithinProjector,
    y: np.ndarray,
    x: np.ndarray,
    names: tuple[str, ...],
    clusters: np.ndarray,
) -> WithinFit:
    """Fit ``y ~ x | unit + period`` by weighted least squares.

    Parameters
    ----------
    projector : WithinProjector
        Fixed effects and weights.
    y : np.ndarray
        Outcome (turnout in percentage points, a scale, ...).
    x : np.ndarray
        Regressors, ``n x k``.
    names : tuple of str
        Names of the ``k`` regressors.
    clusters : np.ndarray
        Cluster labels (municipality codes), one per row.

    Returns
    -------
    WithinFit
    """
    x = np.asarray(x, dtype=float).reshape(len(y), -1)
    y = np.asarray(y, dtype=float)
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(x))):
        raise EstimationError("fixed-effects model: outcome or regressors contain missing values")
    transformed = projector.transform(np.column_stack([y, x]))
    y_t, x_t = transformed[:, 0], transformed[:, 1:]
    coef, bread = solve_wls(x_t, y_t, projector.weights)
    cl, _ = _encode(clusters)
    clusters_per_unit = np.zeros(projector.n_units, dtype=np.int64) - 1
    clusters_per_unit[projector.unit] = cl
    nested = bool(np.all(clusters_per_unit[projector.unit] == cl))
    return WithinFit(
        coef=coef,
        names=tuple(names),
        x_tilde=x_t,
        y_tilde=y_t,
        resid=y_t - x_t @ coef,
        bread=bread,
        clusters=cl,
        projector=projector,
        y=y,
        x=x,
        unit_nested=nested,
    )
