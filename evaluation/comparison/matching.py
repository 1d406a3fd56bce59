"""Choosing control municipalities: nearest-neighbour matching or synthetic-control weights.

Every municipality is described by pre-period features only:

- ``turnout_level``: mean over the pre-period elections of its eligible-voter
  weighted turnout minus that election's mean over all municipalities (pp);
- ``turnout_trend``: least-squares slope of the same relative turnout over the
  pre-period elections (pp per election);
- socioeconomic profile from the area register: population-weighted means of
  ``share_higher_education``, ``median_income``, ``share_immigrant`` and the
  total ``population``.

The pre-period is the elections held before the *earliest* pilot start, so no
post-period outcome of any municipality enters the choice.  Features are
standardised by their standard deviation over all municipalities.

``nearest``: each pilot gets its ``k`` nearest controls (Euclidean distance on
the standardised features).  Without replacement, pairs are formed greedily
from the globally closest pilot-control pair on (Rosenbaum 2020, ch. 3: greedy
matching); with replacement a control may serve several pilots.  The control
weight is the number of pilots it serves divided by ``k``.

``synthetic``: for each pilot, non-negative weights summing to one over the
controls minimise the distance between the pilot's features and the weighted
controls' (Abadie, Diamond and Hainmueller 2010, with equal feature weights);
a control's weight is the sum over pilots, and controls below ``1e-6`` are
dropped.

The matched DiD keeps the pilots and the chosen controls and multiplies each
control's regression weight (eligible voters) by its matching weight.

The balance table reports standardised mean differences
``(mean_pilot - mean_control) / sqrt((var_pilot + var_control) / 2)`` with the
variances of the unmatched sample in the denominator for both rows, so that
before and after are on one scale (Stuart 2010).

References
----------
Abadie, A., Diamond, A. and Hainmueller, J. (2010). Synthetic control methods
for comparative case studies. JASA 105(490).
Rosenbaum, P. R. (2020). Design of Observational Studies, 2nd ed. Springer.
Stuart, E. A. (2010). Matching methods for causal inference: a review and a
look forward. Statistical Science 25(1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from evaluation.comparison.panel import TurnoutPanel
from evaluation.errors import EstimationError

DEFAULT_VARIABLES = (
    "turnout_level",
    "turnout_trend",
    "share_higher_education",
    "median_income",
    "share_immigrant",
    "population",
)
REGISTER_VARIABLES = ("share_higher_education", "median_income", "share_immigrant")


@dataclass(frozen=True)
class MatchingSpec:
    """How to choose controls (config section ``compare.matching``).

    Attributes
    ----------
    method : {"nearest", "synthetic"}
    n_neighbours : int
        Controls per pilot (``nearest``).
    replacement : bool
        Whether a control may serve several pilots (``nearest``).
    variables : tuple of str, optional
        Features to match on (see module docstring); None: every default
        feature the data provide.
    """

    method: str = "nearest"
    n_neighbours: int = 3
    replacement: bool = False
    variables: tuple[str, ...] | None = None

    @classmethod
    def from_config(cls, settings: dict | None) -> MatchingSpec:
        """Build from the ``compare.matching`` config mapping (missing keys take the defaults)."""
        settings = settings or {}
        spec = cls(
            method=str(settings.get("method", "nearest")),
            n_neighbours=int(settings.get("n_neighbours", 3)),
            replacement=bool(settings.get("replacement", False)),
            variables=tuple(settings["variables"]) if settings.get("variables") else None,
        )
        if spec.method not in ("nearest", "synthetic"):
            raise EstimationError(f"compare.matching.method: {spec.method!r} is not 'nearest' or 'synthetic'")
        if spec.n_neighbours < 1:
            raise EstimationError("compare.matching.n_neighbours must be at least 1")
        return spec


def unit_features(panel: TurnoutPanel, areas: pd.DataFrame) -> pd.DataFrame:
    """Pre-period features per treated unit (municipality, district or area), in the order of ``panel.units``.

    Register variables missing from ``areas`` are left out; register rows without turnout are left out.

    Raises
    ------
    EstimationError
        With fewer than two pre-period elections (no trend).
    """
    d = panel.data
    first_start = panel.cohort_starts.min()
    pre = d.loc[d["election_date"] < first_start]
    n_pre = pre["election_index"].nunique()
    if n_pre < 2:
        raise EstimationError(f"matching: {n_pre} election(s) before the first pilot start; need 2 for a turnout trend")
    votes = (
        pre.assign(v=pre["turnout_pp"] * pre["eligible_voters"])
        .groupby(["unit", "election_index"])[["v", "eligible_voters"]]
        .sum()
    )
    turnout = (votes["v"] / votes["eligible_voters"]).unstack("election_index")
    relative = turnout - turnout.mean(axis=0)
    x = relative.columns.to_numpy(float)
    xc = x - x.mean()
    out = pd.DataFrame(index=range(len(panel.units))).join(
        pd.DataFrame(
            {
                "turnout_level": relative.mean(axis=1),
                "turnout_trend": relative.sub(relative.mean(axis=1), axis=0).mul(xc).sum(axis=1) / (xc @ xc),
            }
        )
    )
    codes = panel.units["unit_code"].to_numpy()
    if "population" not in areas.columns:  # without population, only the turnout features
        return out.set_axis(codes)
    unit_of = d.drop_duplicates("area_code").set_index("area_code")["unit_code"]
    reg = areas.assign(area_code=areas["area_code"].astype(str))
    reg = reg[reg["area_code"].isin(unit_of.index)]
    unit = reg["area_code"].map(unit_of)
    pop = reg["population"].astype(float)
    present = [c for c in REGISTER_VARIABLES if c in reg.columns]
    profile = reg[present].astype(float).mul(pop, axis=0).groupby(unit).sum()
    profile = profile.div(pop.groupby(unit).sum(), axis=0)
    profile["population"] = pop.groupby(unit).sum()
    return out.set_axis(codes).join(profile.reindex(codes))


@dataclass(frozen=True)
class MatchResult:
    """Chosen controls.

    Attributes
    ----------
    weights : np.ndarray
        Per unit (``panel.units`` order): 1 for pilots, the
        matching weight for chosen controls, 0 otherwise.
    features : pd.DataFrame
        The (unstandardised) features used.
    """

    weights: np.ndarray
    features: pd.DataFrame


def match_controls(panel: TurnoutPanel, areas: pd.DataFrame, spec: MatchingSpec) -> MatchResult:
    """Choose controls for the pilots of ``panel`` (see module docstring)."""
    features = unit_features(panel, areas)
    variables = spec.variables or tuple(v for v in DEFAULT_VARIABLES if v in features.columns)
    unknown = [v for v in variables if v not in features.columns]
    if unknown:
        raise EstimationError(
            f"compare.matching.variables: unknown or unavailable variable(s) {', '.join(unknown)}; "
            f"choose from {', '.join(features.columns)}"
        )
    feats = features[list(variables)]
    if feats.isna().any().any():
        bad = feats.index[feats.isna().any(axis=1)][0]
        raise EstimationError(f"matching: unit {bad} has a missing feature (no pre-period turnout or register data)")
    sd = feats.std(ddof=1).replace(0, 1.0)
    z = (feats / sd).to_numpy()
    pilot = panel.units["cohort"].to_numpy() >= 0
    pilots, controls = np.flatnonzero(pilot), np.flatnonzero(~pilot)
    weights = pilot.astype(float)
    if spec.method == "nearest":
        weights[controls] = _nearest(z[pilots], z[controls], spec.n_neighbours, spec.replacement) / spec.n_neighbours
    else:
        weights[controls] = _synthetic(z[pilots], z[controls])
    return MatchResult(weights, feats)


def _nearest(treated: np.ndarray, pool: np.ndarray, k: int, replacement: bool) -> np.ndarray:
    """Times each pool member is chosen; ``k`` per treated unit."""
    dist = np.sqrt(((treated[:, None, :] - pool[None, :, :]) ** 2).sum(axis=2))
    if not replacement and k * len(treated) > len(pool):
        raise EstimationError(
            f"matching: {k} controls for each of {len(treated)} pilots without replacement, "
            f"but only {len(pool)} controls"
        )
    count = np.zeros(len(pool))
    if replacement:
        for row in dist:
            count[np.argsort(row, kind="stable")[:k]] += 1
        return count
    need = np.full(len(treated), k)
    order = np.argsort(dist, axis=None, kind="stable")
    for flat in order:
        i, j = divmod(int(flat), len(pool))
        if need[i] > 0 and count[j] == 0:
            count[j], need[i] = 1, need[i] - 1
            if not need.any():
                break
    return count


def _synthetic(treated: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Sum over treated units of their synthetic-control weights (non-negative, summing to one)."""
    total = np.zeros(len(pool))
    penalty = 1e3  # the sum-to-one constraint as a heavily weighted extra row of the NNLS problem
    design = np.vstack([pool.T, penalty * np.ones(len(pool))])
    for row in treated:
        w, _ = optimize.nnls(design, np.append(row, penalty))
        total += w / w.sum()
    return np.where(total > 1e-6, total, 0.0)


def balance_table(result: MatchResult, pilot: np.ndarray, method: str) -> pd.DataFrame:
    """Standardised mean differences before (all controls) and after matching.

    Returns
    -------
    pd.DataFrame
        ``variable``, ``sample`` (``all_controls``, ``matched``), ``method``,
        ``mean_pilot``, ``mean_control``, ``smd``, ``n_pilots``,
        ``n_controls`` (distinct controls with positive weight).
    """
    rows = []
    f = result.features
    controls = ~pilot
    for v in f.columns:
        x = f[v].to_numpy(float)
        scale = np.sqrt((x[pilot].var(ddof=1) + x[controls].var(ddof=1)) / 2)
        for sample, w in (
            ("all_controls", controls.astype(float)),
            ("matched", np.where(controls, result.weights, 0.0)),
        ):
            mean_c = float(np.average(x, weights=w))
            rows.append(
                {
                    "variable": v,
                    "sample": sample,
                    "method": method,
                    "mean_pilot": float(x[pilot].mean()),
                    "mean_control": mean_c,
                    "smd": (float(x[pilot].mean()) - mean_c) / scale if scale > 0 else np.nan,
                    "n_pilots": int(pilot.sum()),
                    "n_controls": int((w > 0).sum()),
                }
            )
    return pd.DataFrame(rows)
