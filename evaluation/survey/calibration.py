"""Generalised calibration of design weights to population totals (R ``calibrate``).

The calibrated weights are ``w_i = d_i g_i`` with ``g_i = F(x_i' eta)`` chosen so
that ``sum_i w_i x_i`` equals the population totals ``T`` of the auxiliary
variables ``x`` (the model matrix of a formula): ``linear`` (GREG,
``F(u) = 1 + u``), ``raking`` (``exp(u)``) or ``logit`` (bounded between
``lower`` and ``upper``); bounds truncate ``linear`` and ``raking``. ``eta`` is
found by the Newton iterations of R's ``grake`` (start 0, pseudo-inverse,
step halving, stop when every ``|misfit| / (1 + |T|) < epsilon``), so the weights
agree with R's, not only at convergence. Variances use the residuals of the
influence values on ``x`` weighted by the design weights, as R.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaluation.errors import WeightingError
from evaluation.survey.weighting import matched_margin

if TYPE_CHECKING:
    from evaluation.survey.design import SurveyDesign

CALFUNS = ("linear", "raking", "logit")
_RESCALE_THRESHOLD = 20.0  # R grake: weights far below the population scale are rescaled first
_TREATMENT = re.compile(r"\[T\.(.*)\]$")


def _g_minus_one(calfun: str, u: np.ndarray, lower: float, upper: float) -> np.ndarray:
    """R ``calfun$Fm1``."""
    if calfun == "linear":
        return np.minimum(np.maximum(u + 1, lower), upper) - 1
    if calfun == "raking":
        return np.minimum(np.maximum(np.exp(u), lower), upper) - 1
    a = (upper - lower) / ((upper - 1) * (1 - lower))
    e = np.exp(a * u)
    return (lower * (upper - 1) + upper * (1 - lower) * e) / (upper - 1 + (1 - lower) * e) - 1


def _derivative(calfun: str, u: np.ndarray, lower: float, upper: float) -> np.ndarray:
    """R ``calfun$dF`` (with R's bound test on ``u`` for linear and raking)."""
    inside = (u < upper - 1) & (u > lower - 1)
    if calfun == "linear":
        return inside.astype(float)
    if calfun == "raking":
        return np.where(inside, np.exp(u), 0.0)
    a = (upper - lower) / ((upper - 1) * (1 - lower))
    e = np.exp(a * u)
    top = lower * (upper - 1) + upper * (1 - lower) * e
    bottom = upper - 1 + (1 - lower) * e
    return upper * (1 - lower) * e * a / bottom - top * ((1 - lower) * e * a) / bottom**2


def calibration_factors(
    x: np.ndarray,
    weights: np.ndarray,
    population: np.ndarray,
    calfun: str = "linear",
    bounds: tuple[float, float] = (-np.inf, np.inf),
    epsilon: float = 1e-7,
    maxit: int = 50,
) -> np.ndarray:
    """The factors ``g`` (calibrated weight over design weight), iteration for iteration as R ``grake``.

    Raises WeightingError when the iterations do not meet ``epsilon`` in ``maxit``
    steps (R warns and returns the last weights).
    """
    lower, upper = bounds
    total = (x * weights[:, None]).sum(axis=0)
    scale = None
    ratios = population / total
    if ratios.min() > _RESCALE_THRESHOLD:
        scale = ratios.mean()
        weights, total = weights * scale, total * scale
    eta = np.zeros(x.shape[1])
    u = x @ eta
    deriv = _derivative(calfun, u, lower, upper)
    iteration = 1
    while True:
        tmat = (x * (weights * deriv)[:, None]).T @ x
        misfit = population - total - (x * (weights * _g_minus_one(calfun, u, lower, upper))[:, None]).sum(axis=0)
        step = np.linalg.pinv(tmat, rcond=256 * np.finfo(float).eps) @ misfit
        eta = eta + step
        u = x @ eta
        g = 1 + _g_minus_one(calfun, u, lower, upper)
        deriv = _derivative(calfun, u, lower, upper)
        while iteration < maxit and not (np.isfinite(g).all() and np.isfinite(deriv).all()):
            iteration += 1
            step = step / 2
            eta = eta - step
            u = x @ eta
            g = 1 + _g_minus_one(calfun, u, lower, upper)
            deriv = _derivative(calfun, u, lower, upper)
        misfit = population - total - (x * (weights * _g_minus_one(calfun, u, lower, upper))[:, None]).sum(axis=0)
        achieved = np.abs(misfit) / (1 + np.abs(population))
        if (achieved < epsilon).all():
            break
        iteration += 1
        if iteration > maxit:
            raise WeightingError(
                f"calibrate ({calfun}): did not reach the population totals in {maxit} iterations "
                f"(largest relative misfit {achieved.max():.3g}); widen the bounds or check the totals"
            )
    return g * scale if scale is not None else g


def _r_name(column: str) -> str:
    if column == "Intercept":
        return "(Intercept)"
    return ":".join(_TREATMENT.sub(r"\1", part) for part in column.split(":"))


def _margin_matrix(design: SurveyDesign, margins: list[pd.Series]) -> tuple[np.ndarray, np.ndarray]:
    """Indicator columns of every category of every margin, and their population totals."""
    matched = [matched_margin(design.data, m, design.weights) for m in margins]
    n = len(design.data)
    x = np.zeros((n, sum(len(m.targets) for m in matched)))
    offset = 0
    for m in matched:
        x[np.arange(n), offset + m.codes] = 1.0
        offset += len(m.targets)
    return x, np.concatenate([m.targets for m in matched])


def _formula_matrix(design: SurveyDesign, formula: str, population: pd.Series | None) -> tuple[np.ndarray, np.ndarray]:
    """Model matrix of ``formula`` and the population totals of its columns (matched by R column name)."""
    from formulaic import model_matrix  # imported here: it takes 0.2 s, and most runs fit no formula
    from formulaic.errors import FormulaicError

    rhs = formula.split("~", 1)[-1]
    try:
        matrix = model_matrix(rhs, design.data.reset_index(drop=True), na_action="raise")
    except (FormulaicError, NameError, SyntaxError, KeyError, ValueError, TypeError) as exc:
        raise WeightingError(f"calibrate: formula {formula!r} cannot be evaluated on the survey data: {exc}") from exc
    names = [_r_name(c) for c in matrix.columns]
    if not isinstance(population, pd.Series):
        raise WeightingError("calibrate: population must be a Series of totals indexed by model-matrix column names")
    missing = [n for n in names if n not in population.index]
    extra = [n for n in population.index if n not in names]
    if missing or extra:
        raise WeightingError(
            f"calibrate: population totals must name the model-matrix columns {names}; missing {missing}, unknown {extra}"
        )
    return np.asarray(matrix, dtype=float), population.loc[names].to_numpy(dtype=float)


def calibrate(
    design: SurveyDesign,
    formula: str | list[pd.Series],
    population: pd.Series | None = None,
    calfun: str = "linear",
    bounds: tuple[float, float] = (-np.inf, np.inf),
    epsilon: float = 1e-7,
    maxit: int = 50,
) -> SurveyDesign:
    """Calibrate the weights of ``design`` to population totals of the model matrix of ``formula`` (R ``calibrate``).

    Parameters
    ----------
    design : SurveyDesign
        An uncalibrated full design.
    formula : str or list of Series
        Right-hand side of a formula (``"~ stype + api99"``; an intercept is
        included unless ``- 1``/``+ 0``), parsed by ``formulaic`` with R's column
        names (``(Intercept)``, ``stypeH``, ``api99``). Or margins as for
        :func:`rake`: Series of population totals indexed by the categories of
        one or several columns (every category is an auxiliary indicator).
    population : Series, optional
        With a formula: population total of every model-matrix column, indexed
        by those names (R ``population``; the ``(Intercept)`` total is the
        population size). Not used with margins.
    calfun : {"linear", "raking", "logit"}
    bounds : (lower, upper)
        Bounds on ``g`` (finite ones are needed for ``logit``).
    epsilon, maxit : float, int
        Convergence control, as R.

    Returns
    -------
    SurveyDesign
        With weights ``d * g`` and calibration-aware variances.
    """
    if calfun not in CALFUNS:
        raise WeightingError(f"calfun={calfun!r}; use one of {CALFUNS}")
    lower, upper = bounds
    if not lower < 1 < upper:
        raise WeightingError(f"bounds={bounds}: need lower < 1 < upper")
    if calfun == "logit" and not (np.isfinite(lower) and np.isfinite(upper)):
        raise WeightingError("calfun='logit' needs finite bounds")
    if isinstance(formula, str):
        x, totals = _formula_matrix(design, formula, population)
    else:
        if population is not None:
            raise WeightingError("calibrate: margins carry their own totals; do not give population as well")
        x, totals = _margin_matrix(design, list(formula))
    if not np.isfinite(totals).all():
        raise WeightingError("calibrate: population totals must be finite numbers")
    g = calibration_factors(x, design.weights, totals, calfun, bounds, epsilon, maxit)
    return design.calibrated_matrix(design.weights * g, x)
