"""The rescaling of prior weights in R ``svyglm``, which R's iterations and residuals depend on."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from evaluation.survey.design import SurveyDesign


def prior_weight_scale(design: SurveyDesign, rows: np.ndarray | None = None) -> float:
    """Mean weight by which R ``svyglm`` rescales the prior weights (it moves the IRLS start values).

    R takes the mean over the rows of its design object: a calibrated design
    keeps every row (weight zero outside ``rows``), an uncalibrated one only
    ``rows``. ``rows`` defaults to the design's subset (before incomplete rows
    are dropped); R's Pearson residuals use the complete cases.
    """
    if rows is None:
        rows = design.rows_kept() if design.domain_mask is None else design.domain_mask
    if design.linearization.calibration is not None:
        return float(design.weights[rows].sum() / len(design.weights))
    return float(design.weights[rows].mean())
