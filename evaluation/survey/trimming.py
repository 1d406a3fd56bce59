"""Weight trimming with the excess spread over the untrimmed weights (R ``trimWeights``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from evaluation.errors import DesignError, WeightingError

if TYPE_CHECKING:
    from evaluation.survey.design import SurveyDesign

_MAX_ROUNDS = 1000


def trim_weights(
    design: SurveyDesign, upper: float = np.inf, lower: float = -np.inf, strict: bool = False
) -> SurveyDesign:
    """Cap the sampling weights to ``[lower, upper]`` and share what was cut equally among the others.

    As R ``trimWeights(design, upper, lower, strict)``: weights outside the
    bounds are set to the bound, and the total trimmed (``sum(w - w_trimmed)``)
    is added in equal parts to every weight that was inside, so the sum of the
    weights is kept. Adding the excess can push weights over the bound again;
    ``strict=True`` repeats until none is outside. The returned design has the
    same sampling structure; its variances treat the trimmed weights as
    sampling weights, as R does for an uncalibrated design.

    Parameters
    ----------
    design : SurveyDesign
        An uncalibrated full design (calibrate after trimming).
    upper, lower : float
    strict : bool

    Returns
    -------
    SurveyDesign
    """
    if design.linearization.calibration is not None or design.domain_mask is not None:
        raise DesignError("trim_weights needs an uncalibrated full design: trim first, then calibrate or subset")
    if not lower < upper:
        raise WeightingError(f"trim_weights: lower={lower} must be below upper={upper}")
    weights = design.weights.copy()
    mean = weights.mean()
    if strict and not lower <= mean <= upper:
        raise WeightingError(
            f"trim_weights(strict=True): the mean weight {mean:g} lies outside [{lower}, {upper}], so no trimming "
            "that keeps the sum of the weights can bring every weight inside"
        )
    for _ in range(_MAX_ROUNDS):
        outside = (weights < lower) | (weights > upper)
        if not outside.any():
            break
        if outside.all():
            raise WeightingError(f"trim_weights: every weight lies outside [{lower}, {upper}]; nothing to spread over")
        trimmed = np.clip(weights, lower, upper)
        trimmed[~outside] += (weights - trimmed).sum() / (~outside).sum()
        weights = trimmed
        if not strict:
            break
    else:
        raise WeightingError(f"trim_weights(strict=True) did not settle in {_MAX_ROUNDS} rounds")
    return design.reweighted(weights)
