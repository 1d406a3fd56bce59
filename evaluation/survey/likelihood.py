"""Profile-likelihood interval for a proportion (R ``svyciprop(method = "likelihood")``).

R fits ``svyglm(y ~ 1, family = quasibinomial)`` and profiles the quasi-deviance
of the intercept (``MASS``'s ``profile.glm`` as copied into ``survey``), with the
cut-off rescaled by the design effect of the intercept so that the interval
has the design's coverage (Rao-Scott style scaling): ``lambda = V_design / V_model``,
``alpha = pnorm(qt((1 - level) / 2, df) * sqrt(lambda)) / 2``, and the interval is
where the signed root deviance ``z`` crosses ``qnorm(2 alpha)`` and
``qnorm(1 - 2 alpha)``, read off an FMM spline through the profile as R does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.special import expit, xlogy

from evaluation import distributions
from evaluation.errors import EstimationError
from evaluation.survey.irls import fit_glm
from evaluation.survey.prior_weights import prior_weight_scale
from evaluation.survey.rspline import approx, spline

if TYPE_CHECKING:
    from evaluation.survey.design import SurveyDesign

_MAXSTEPS = 10  # MASS profile.glm defaults
_STEPS_PER_ZMAX = 5


def _binomial_deviance(y: np.ndarray, mu: float, prior: np.ndarray) -> float:
    return float(np.sum(2 * prior * (xlogy(y, y / mu) + xlogy(1 - y, (1 - y) / (1 - mu)))))


def likelihood_interval(
    design: SurveyDesign, indicator: np.ndarray, ok: np.ndarray, level: float, df: float
) -> tuple[float, float]:
    """Profile-likelihood interval of the share ``indicator`` in the subset ``design``.

    Parameters
    ----------
    design : SurveyDesign
        A :meth:`SurveyDesign.subset` design of the domain (or the full design).
    indicator : ndarray, shape (n_rows,)
        0/1 per row (any value where ``ok`` is False).
    ok : ndarray of bool
        Rows with a non-missing value.
    level : float
    df : float
        Degrees of freedom of the t quantile (R ``svyciprop``'s ``df = degf(design)``).

    Returns
    -------
    low, high : float
        NaN where the profile does not reach the cut-off (as R's ``approx``).
    """
    in_design = np.ones(len(indicator), dtype=bool) if design.domain_mask is None else design.domain_mask
    used = ok & in_design & (design.weights > 0)
    if not used.any() or not df > 0:
        return np.nan, np.nan
    y = indicator[used].astype(float)
    prior = design.weights[used] / prior_weight_scale(design)
    x = np.ones((y.size, 1))
    fit = fit_glm(x, y, prior, "quasibinomial")
    if not fit.converged:
        raise EstimationError("likelihood interval: the intercept-only logistic fit did not converge")
    influence = np.zeros((len(indicator), 1))
    influence[used, 0] = fit.score * fit.bread[0, 0]
    design_variance = float(design.linearization.covariance(influence)[0, 0])
    se = np.sqrt(design_variance)
    b0 = float(fit.coef[0])
    mu0 = float(fit.mu[0])
    # R: summary.svyglm's dispersion = svyvar(Pearson residuals, design), n / (n - 1) times the
    # weighted variance; residuals.svyglm scales (y - mu) / sqrt(V) by sqrt(prior / sampling weight),
    # both rescaled to mean 1, the latter over the complete cases only.
    ratio = prior_weight_scale(design, used) / prior_weight_scale(design)
    pearson = (y - fit.mu) * np.sqrt(ratio) / np.sqrt(fit.mu * (1 - fit.mu))
    w = design.weights[used]
    centre = np.sum(w * pearson) / np.sum(w)
    dispersion = np.sum(w * (pearson - centre) ** 2) / np.sum(w) * y.size / (y.size - 1)
    # R: n is the rows of the model frame, complete rows that the design object keeps
    n_frame = int((ok & design.rows_kept()).sum())
    lam = design_variance / fit.bread[0, 0]
    alpha = distributions.normal_cdf(distributions.t_quantile((1 - level) / 2, df) * np.sqrt(lam)) / 2
    # R: sqrt(qf(alpha, 1, n - 1, lower.tail = FALSE)), the t quantile (exact where scipy's F quantile overflows)
    zmax = distributions.t_isf(alpha / 2, n_frame - 1)
    step_size = zmax / _STEPS_PER_ZMAX
    deviance0 = _binomial_deviance(y, mu0, prior)
    values, z_values = [b0], [0.0]
    for sign in (-1.0, 1.0):
        step, z = 0, 0.0
        while (step := step + 1) < _MAXSTEPS and abs(z) < zmax:
            b = b0 + sign * step * step_size * se
            zz = (_binomial_deviance(y, float(expit(b)), prior) - deviance0) / dispersion
            if zz <= -0.001:
                raise EstimationError("likelihood interval: profiling found a better fit; the fit had not converged")
            z = sign * np.sqrt(max(zz, 0.0))
            values.append(b)
            z_values.append(z)
    order = np.argsort(z_values, kind="stable")
    grid, curve = spline(np.asarray(values)[order], np.asarray(z_values)[order])
    cutoff = np.array([distributions.normal_quantile(2 * alpha), distributions.normal_isf(2 * alpha)])
    low, high = expit(approx(curve, grid, cutoff))
    return float(low), float(high)
