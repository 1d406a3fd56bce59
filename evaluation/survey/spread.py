"""Population variances per domain (R ``svyvar``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaluation.survey.estimators import column, domain_statistic, tidy

if TYPE_CHECKING:
    from evaluation.survey.design import SurveyDesign


def variances(
    design: SurveyDesign,
    variables: Sequence[str],
    by: Sequence[str] | None,
    level: float,
    domain_df: bool,
) -> pd.DataFrame:
    """Domain variances ``n / (n - 1) sum_d w (y - ybar_d)^2 / sum_d w`` (see SurveyDesign.var).

    As R ``svyvar`` (and ``svyby(~y, ~d, design, svyvar, na.rm = TRUE)``) the
    estimate is the design mean of ``(y - ybar_d)^2 n / (n - 1)`` with ``ybar_d``
    held fixed, and so is its standard error; ``n`` counts the domain's rows with
    a positive sampling weight, including rows where ``y`` is missing (R counts
    them before ``na.rm`` drops them).
    """
    keys = design.domain_keys(by)
    n_dom = keys.domains.n_domains
    valid = keys.domains.valid
    n_rows = np.bincount(keys.dom, weights=(valid & (design.design_weights > 0)).astype(float), minlength=n_dom)
    stats = []
    for name in variables:
        y = column(design, name)
        ok = valid & ~np.isnan(y)
        ones = np.ones_like(y)
        centre = domain_statistic(design, keys, y, ones, ok).estimate
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = n_rows / (n_rows - 1)
        squared = np.where(ok, (y - centre[keys.dom]) ** 2 * factor[keys.dom], np.nan)
        stats.append(domain_statistic(design, keys, squared, ones, ok))
    frame = tidy(design, keys, variables, stats, level, "srswor", domain_df)
    return frame.drop(columns="deff")
