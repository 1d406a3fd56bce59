"""Population quantiles with Woodruff confidence intervals (R ``svyquantile``, survey >= 4.1).

The quantile is read off the weighted distribution function by a quantile rule
(R ``qrule``); the interval inverts an interval for the proportion below the
estimated quantile (Woodruff 1952): ``F(q_hat)`` is estimated as a design mean,
its interval mapped back through the same rule. The standard error is the
interval's half-width over the t quantile, as R reports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaluation.errors import EstimationError
from evaluation.survey.estimators import column, domain_statistic
from evaluation.survey.intervals import proportion_interval, t_quantile

if TYPE_CHECKING:
    from evaluation.survey.design import SurveyDesign

QUANTILE_RULES = ("math", "school", "hf7")
QUANTILE_INTERVALS = ("mean", "xlogit", "asin", "beta")


def _sorted(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values in (stable) order and cumulative weights accumulated in extended precision, as R ``cumsum``."""
    order = np.argsort(x, kind="stable")
    return x[order], np.cumsum(w[order].astype(np.longdouble)).astype(float)


def quantile_rule(x: np.ndarray, w: np.ndarray, p: float, rule: str = "math") -> float:
    """The ``p`` quantile of values ``x`` with weights ``w`` (R ``qrule_math``, ``qrule_school``, ``qrule_hf7``).

    ``math``: the smallest value whose cumulative weight share reaches ``p``
    (inverse of the weighted distribution function); ``school``: the average
    of the two values when the share equals ``p`` exactly; ``hf7``: linear
    interpolation (Hyndman and Fan type 7). Rows with zero weight are ignored.
    Ported with R's quirk that a ``p`` below the first value's share gives the
    second smallest value under ``math`` and ``school``.
    """
    keep = w != 0
    x, cumw = _sorted(x[keep], w[keep])
    n = x.size
    if rule == "hf7":
        pk = np.concatenate([[0.0], cumw[:-1]]) / cumw[n - 2]
        return float(np.interp(p, pk, x))
    total = cumw[-1]
    below = np.flatnonzero(cumw <= p * total)
    pos = int(below[-1]) if below.size else 0
    nxt = pos if pos == n - 1 else pos + 1
    if p - cumw[pos] / total == 0:
        return float((x[pos] + x[nxt]) / 2) if rule == "school" else float(x[pos])
    return float(x[nxt])


def quantiles(
    design: SurveyDesign,
    variables: Sequence[str],
    probs: Sequence[float],
    by: Sequence[str] | None,
    level: float,
    rule: str,
    interval: str,
) -> pd.DataFrame:
    """Quantiles ``probs`` of each variable per domain (see SurveyDesign.quantile).

    Each domain is handled as R's ``svyby(~y, ~d, design, svyquantile, na.rm = TRUE)``:
    on the subset design of its rows with a non-missing value, whose degrees of
    freedom the interval uses.
    """
    if rule not in QUANTILE_RULES:
        raise EstimationError(f"rule={rule!r}; use one of {QUANTILE_RULES}")
    if interval not in QUANTILE_INTERVALS:
        raise EstimationError(f"interval={interval!r}; use one of {QUANTILE_INTERVALS}")
    probs = [float(p) for p in probs]
    if not probs or any(not 0 <= p <= 1 for p in probs):
        raise EstimationError(f"probs={probs}: quantile probabilities must lie in [0, 1]")
    keys = design.domain_keys(by)
    labels = keys.domains.labels
    rows = []
    for name in variables:
        y = column(design, name)
        for d in range(keys.domains.n_domains):
            in_domain = (keys.domains.codes == d) & ~np.isnan(y)
            if not in_domain.any():
                continue
            sub = design.subset(in_domain)
            sub_keys = sub.domain_keys(None)
            use = in_domain & (sub.weights > 0)
            for p in probs:
                q = quantile_rule(y[use], sub.weights[use], p, rule)
                below = (y <= q).astype(float)
                share = domain_statistic(sub, sub_keys, below, np.ones_like(below), in_domain)
                est, se = share.estimate, np.sqrt(share.variance)
                n_kept = np.array([float(sub.rows_kept().sum())])
                low_p, high_p = proportion_interval(est, se, n_kept, level, float(sub.df), interval)
                low = (
                    np.nan
                    if np.isnan(low_p[0]) or low_p[0] < 0
                    else quantile_rule(y[use], sub.weights[use], low_p[0], rule)
                )
                high = (
                    np.nan
                    if np.isnan(high_p[0]) or high_p[0] > 1
                    else quantile_rule(y[use], sub.weights[use], high_p[0], rule)
                )
                rows.append(
                    {
                        "variable": name,
                        **{c: labels[c].iloc[d] for c in labels.columns},
                        "probability": p,
                        "estimate": q,
                        "se": (high - low) / (2 * float(t_quantile(level, sub.df))),
                        "ci_low": low,
                        "ci_high": high,
                        "n": int(in_domain.sum()),
                        "df": float(sub.df),
                    }
                )
    return pd.DataFrame(rows)
