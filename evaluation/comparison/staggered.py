"""Callaway-Sant'Anna group-time ATTs for staggered pilot starts.

For cohort ``g`` (first treated election) and election ``t`` the unconditional
group-time effect is the weighted 2x2 DiD

    ATT(g, t) = E_w[Y_t - Y_b | G = g] - E_w[Y_t - Y_b | C],

with base ``b = g - 1`` for ``t >= g`` and, with ``base_period="varying"``
(the default of R ``did``), ``b = t - 1`` for pre-periods.  The comparison
group ``C`` is the never-treated districts (``control="never_treated"``) or
every district not yet treated at ``max(t, b)`` other than cohort ``g``
(``control="not_yet_treated"``).  Weights ``w`` are the district's mean
eligible voters, so effects are per eligible voter, like the TWFE estimates.

Aggregations (Callaway and Sant'Anna 2021, section 3.3): ``simple`` averages
post-treatment cells with weights ``P(G = g)``; ``dynamic`` averages cells with
``t - g = e`` with the same weights; ``group`` averages post cells within a
cohort, then over cohorts by ``P(G = g)``.  Given the shares, every estimate
is linear in the outcomes, ``theta = sum_it h_it Y_it``; standard errors are
the cluster-robust influence-function variances ``sum_j (sum_{i in j} psi_i)^2``
(municipality clusters).  The influence of an aggregation includes that of the
estimated cohort shares ``P(G = g)`` (the ``wif`` term of R ``did::aggte``),

    psi_i += sum_k (w_i 1[G_i = g_k] - S_k / n) (ATT_k - theta) / sum_k S_k,

over the aggregated estimates ``k`` (cells, or cohorts for ``group``), with
``S_k`` the weight of cohort ``g_k`` and ``n`` the number of districts.

Simultaneous (uniform) bands over several estimates, say the event times, are
R ``did::mboot``'s multiplier bootstrap (:func:`uniform_band`): with one
multiplier ``v_j`` per cluster, ``theta*_k - theta_k = sum_j v_j psi_jk``; the
bootstrap SE is the draws' interquartile range over ``qnorm(.75) -
qnorm(.25)``, the critical value the level quantile of ``max_k |theta*_k -
theta_k| / se_k``, and the band ``theta_k +- crit se_k``.

Covariates (conditional parallel trends) replace the 2x2 DiD of a cell by the
panel estimators of Sant'Anna and Zhao (2020), as R ``DRDID`` and ``did``
(``est_method``): doubly robust (``"dr"``, the default of ``did``), inverse
probability weighting (``"ipw"``, normalised) or outcome regression
(``"reg"``), on the cell's units (cohort ``g`` and its comparison group), the
covariates taken in the earlier of ``t`` and ``b`` (as ``did`` does for
panels).  The propensity score is a weighted logit, trimmed at 0.995 for the
comparison units as ``DRDID`` does.  ``anticipation = delta`` periods move the
base of the cells from ``g - delta`` on to ``g - delta - 1``, and the
not-yet-treated comparison group to the units first treated after
``max(t, b) + delta``.

References
----------
Callaway, B. and Sant'Anna, P. H. C. (2021). Difference-in-differences with
multiple time periods. J. Econometrics 225(2), 200-230.
Sant'Anna, P. H. C. and Zhao, J. (2020). Doubly robust difference-in-differences
estimators. J. Econometrics 219(1), 101-122.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from evaluation import distributions
from evaluation.errors import EstimationError

Control = Literal["never_treated", "not_yet_treated"]
Base = Literal["varying", "universal"]
EstMethod = Literal["dr", "ipw", "reg"]
Multipliers = Literal["rademacher", "mammen"]
TRIM_LEVEL = 0.995  # DRDID's trim.level: comparison units with a larger propensity score get no weight


@dataclass(frozen=True)
class Cell:
    """One group-time cell: cohort ``g``, period ``t``, base period ``b``."""

    g: int
    t: int
    b: int


def cells(groups: np.ndarray, n_periods: int, base: Base = "varying", anticipation: int = 0) -> list[Cell]:
    """All estimable cells for cohorts in ``groups`` (``-1`` never treated).

    Cohorts without a period before ``g - anticipation`` or never within the
    window are not estimated.  Cells from ``g - anticipation`` on are compared
    with ``g - anticipation - 1``.
    """
    out = []
    for g in sorted({int(x) for x in groups if anticipation < x < n_periods}):
        start = g - anticipation
        for t in range(n_periods):
            if t >= start:
                out.append(Cell(g, t, start - 1))
            elif base == "varying" and t >= 1:
                out.append(Cell(g, t, t - 1))
            elif base == "universal" and t != start - 1:
                out.append(Cell(g, t, start - 1))
    return out


def _control_mask(
    groups: np.ndarray, cell: Cell, control: Control, n_periods: int, anticipation: int = 0
) -> np.ndarray:
    never = (groups < 0) | (groups >= n_periods)
    if control == "never_treated":
        return never
    return never | ((groups > max(cell.t, cell.b) + anticipation) & (groups != cell.g))


def cell_coefficients(
    groups: np.ndarray, weight: np.ndarray, cell: Cell, control: Control, n_periods: int, anticipation: int = 0
) -> np.ndarray:
    """Coefficients ``c_i`` with ``ATT(g,t) = sum_i c_i (Y_it - Y_ib)`` for assignments ``B x A``."""
    treated = (groups == cell.g) * weight
    ctrl = _control_mask(groups, cell, control, n_periods, anticipation) * weight
    s_t, s_c = treated.sum(axis=-1, keepdims=True), ctrl.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return treated / s_t - ctrl / s_c


def select_cells(
    observed_groups: np.ndarray,
    n_periods: int,
    base: Base,
    aggregation: str,
    event_time: int | None,
    anticipation: int = 0,
) -> list[Cell]:
    """Cells entering an aggregation: post cells (``simple``, ``group``) or ``t - g = e`` (``dynamic``)."""
    selected = []
    for cell in cells(observed_groups, n_periods, base, anticipation):
        if aggregation in ("simple", "group") and cell.t < cell.g:
            continue
        if aggregation == "dynamic" and cell.t - cell.g != event_time:
            continue
        selected.append(cell)
    if not selected:
        raise EstimationError(f"Callaway-Sant'Anna: no cell for aggregation {aggregation!r} (event time {event_time})")
    return selected


def aggregation_weights(
    groups: np.ndarray, weight: np.ndarray, selected: list[Cell], aggregation: str
) -> list[np.ndarray]:
    """Weight of each selected cell per assignment (``B`` each), summing to one.

    ``P(G = g)`` is the cohort's share of district weight; ``group`` divides it
    equally among the cohort's post cells.
    """
    size = {g: ((groups == g) * weight).sum(axis=1) for g in {c.g for c in selected}}
    if aggregation == "group":
        n_post = {g: sum(1 for c in selected if c.g == g) for g in size}
        raw = [size[c.g] / n_post[c.g] for c in selected]
    else:
        raw = [size[c.g] for c in selected]
    total = np.sum(raw, axis=0)
    return [r / total for r in raw]


def influence(
    groups: np.ndarray,
    weight: np.ndarray,
    n_periods: int,
    control: Control = "never_treated",
    base: Base = "varying",
    aggregation: str = "simple",
    event_time: int | None = None,
) -> np.ndarray:
    """Outcome weights ``h`` (``B x A x T``) of an aggregated ATT, one per assignment.

    Parameters
    ----------
    groups : np.ndarray
        ``B x A`` first-treated period per district (-1 never); row 0 must be
        the observed assignment (it defines the cells), further rows are
        randomization draws with the same cohorts.
    weight : np.ndarray
        District weights ``w_i``.
    n_periods : int
        ``T``.
    control, base : str
        See module docstring.
    aggregation : {"simple", "dynamic", "group"}
        ``dynamic`` needs ``event_time``.
    """
    groups = np.atleast_2d(groups)
    selected = select_cells(groups[0], n_periods, base, aggregation, event_time)
    h = np.zeros((*groups.shape, n_periods))
    for c, w in zip(selected, aggregation_weights(groups, weight, selected, aggregation)):
        coef = cell_coefficients(groups, weight, c, control, n_periods) * w[:, None]
        h[:, :, c.t] += coef
        h[:, :, c.b] -= coef
    return h


def multiplier_draws(rng: np.random.Generator, n_boot: int, n_clusters: int, kind: Multipliers) -> np.ndarray:
    """``n_boot x n_clusters`` multipliers with mean 0 and variance 1.

    ``"rademacher"`` is +-1 with equal probability (R ``did``, through
    ``BMisc::multiplier_bootstrap``); ``"mammen"`` is Mammen's two-point
    distribution, ``(1 - sqrt 5) / 2`` with probability ``(sqrt 5 + 1) / (2 sqrt 5)``,
    else ``(1 + sqrt 5) / 2`` (R ``DRDID``).
    """
    if kind == "rademacher":
        return 2.0 * rng.integers(0, 2, size=(n_boot, n_clusters)) - 1.0
    root5 = np.sqrt(5.0)
    low = rng.random((n_boot, n_clusters)) < (root5 + 1) / (2 * root5)
    return np.where(low, (1 - root5) / 2, (1 + root5) / 2)


@dataclass(frozen=True)
class UniformBand:
    """Multiplier-bootstrap SEs, sup-t critical value and adjusted p-values of several estimates.

    ``p_value`` is the share of bootstrap maxima at least ``|estimate| / se``:
    below ``1 - level`` exactly when the band excludes 0.  Estimates without
    bootstrap spread have NaN SE and p-value and do not enter the maximum.
    """

    se: np.ndarray
    critical_value: float
    p_value: np.ndarray


def uniform_band(
    estimates: np.ndarray,
    psi: np.ndarray,
    level: float,
    n_boot: int,
    rng: np.random.Generator,
    kind: Multipliers = "rademacher",
) -> UniformBand:
    """Sup-t simultaneous band by the multiplier bootstrap, as R ``did::mboot``.

    Parameters
    ----------
    estimates : np.ndarray
        ``K`` estimates.
    psi : np.ndarray
        Their influence summed per cluster, ``J x K`` (``Var = psi.T @ psi``).
    level : float
        Simultaneous coverage.
    n_boot : int
        Bootstrap draws (``did``'s ``biters``).
    rng : np.random.Generator
        The only source of randomness.
    kind : {"rademacher", "mammen"}
        Multipliers, one per cluster (see :func:`multiplier_draws`).
    """
    draws = multiplier_draws(rng, n_boot, psi.shape[0], kind) @ psi
    q25, q75 = np.quantile(draws, [0.25, 0.75], axis=0, method="inverted_cdf")  # R quantile(type = 1)
    se = (q75 - q25) / (distributions.normal_quantile(0.75) - distributions.normal_quantile(0.25))
    se = np.where(se > 0, se, np.nan)
    used = np.isfinite(se)
    if not used.any():
        return UniformBand(se, np.nan, np.full(len(se), np.nan))
    maxima = np.max(np.abs(draws[:, used]) / se[used], axis=1)
    crit = float(np.quantile(maxima, level, method="inverted_cdf"))
    t = np.abs(estimates) / se
    p = np.where(used, np.mean(maxima[None, :] >= t[:, None], axis=1), np.nan)
    return UniformBand(se, crit, p)


def _logit(d: np.ndarray, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted logit fit of ``d`` on ``x`` by Newton-Raphson; fitted probabilities (R ``glm(binomial)``)."""
    beta = np.zeros(x.shape[1])
    for _ in range(100):
        p = 1 / (1 + np.exp(-(x @ beta)))
        step = np.linalg.solve(x.T @ (x * (w * p * (1 - p))[:, None]), x.T @ (w * (d - p)))
        beta += step
        if np.max(np.abs(step)) < 1e-12 * (1 + np.max(np.abs(beta))):
            return 1 / (1 + np.exp(-(x @ beta)))
    raise EstimationError("Callaway-Sant'Anna: the propensity-score logit did not converge (perfect separation?)")


def conditional_att(
    delta_y: np.ndarray, treated: np.ndarray, x: np.ndarray, weight: np.ndarray, method: EstMethod = "dr"
) -> tuple[float, np.ndarray]:
    """Panel 2x2 ATT under conditional parallel trends and its influence function, as R ``DRDID``.

    Parameters
    ----------
    delta_y : np.ndarray
        ``Y_t - Y_b`` of the cell's units (cohort and comparison group).
    treated : np.ndarray
        1 for the cohort, 0 for the comparison group.
    x : np.ndarray
        Covariates with an intercept column (``n x k``).
    weight : np.ndarray
        Unit weights.
    method : {"dr", "ipw", "reg"}
        ``drdid_panel``, ``std_ipw_did_panel`` or ``reg_did_panel``.

    Returns
    -------
    att : float
        The ATT in the outcome's unit.
    inf : np.ndarray
        The influence function ``psi_i`` (``Var(att) ~ mean(psi^2) / n``).
    """
    n = len(delta_y)
    d = treated.astype(float)
    w = weight / weight.mean()
    ctrl = 1 - d
    gram = x.T @ (x * (w * ctrl)[:, None]) / n
    if np.linalg.matrix_rank(gram) < x.shape[1]:
        raise EstimationError(
            "Callaway-Sant'Anna: the covariates are collinear (or constant) among the comparison units of a cell"
        )
    beta = np.linalg.solve(gram, x.T @ (w * ctrl * delta_y) / n)
    out = x @ beta
    ols = (x * (w * ctrl * (delta_y - out))[:, None]) @ np.linalg.inv(gram)  # linear representation of beta
    w_treat = w * d
    if method == "reg":
        eta_treat = np.mean(w_treat * delta_y) / np.mean(w_treat)
        eta_cont = np.mean(w_treat * out) / np.mean(w_treat)
        inf_treat = (w_treat * delta_y - w_treat * eta_treat) / np.mean(w_treat)
        inf_cont = (w_treat * out - w_treat * eta_cont + ols @ np.mean(w_treat[:, None] * x, axis=0)) / np.mean(w_treat)
        return float(eta_treat - eta_cont), inf_treat - inf_cont
    ps = np.minimum(_logit(d, x, w), 1 - 1e-6)
    keep = np.where(d == 1, ps < 1.01, ps < TRIM_LEVEL)
    w_treat = keep * w_treat
    w_cont = keep * w * ps * ctrl / (1 - ps)
    hessian = np.linalg.inv(x.T @ (x * (w * ps * (1 - ps))[:, None])) * n
    ps_rep = (x * (w * (d - ps))[:, None]) @ hessian  # linear representation of the logit coefficients
    resid = delta_y - out if method == "dr" else delta_y
    eta_treat = np.mean(w_treat * resid) / np.mean(w_treat)
    eta_cont = np.mean(w_cont * resid) / np.mean(w_cont)
    inf_treat = w_treat * resid - w_treat * eta_treat
    inf_cont = w_cont * resid - w_cont * eta_cont + ps_rep @ np.mean((w_cont * (resid - eta_cont))[:, None] * x, axis=0)
    if method == "dr":
        inf_treat = inf_treat - ols @ np.mean(w_treat[:, None] * x, axis=0)
        inf_cont = inf_cont - ols @ np.mean(w_cont[:, None] * x, axis=0)
    return float(eta_treat - eta_cont), inf_treat / np.mean(w_treat) - inf_cont / np.mean(w_cont)


@dataclass(frozen=True)
class CallawaySantAnna:
    """Group-time ATTs and their aggregations for one outcome.

    Parameters
    ----------
    outcome : np.ndarray
        Balanced ``A x T`` outcomes (turnout in pp).
    weight : np.ndarray
        District weights.
    groups : np.ndarray
        First treated period per district, ``-1`` never.
    cluster : np.ndarray
        Municipality index per district.
    control, base : str
        Comparison group and pre-period base (see module docstring).
    covariates : np.ndarray, optional
        ``A x T x K`` covariates (conditional parallel trends); None for the
        unconditional 2x2 DiD.
    est_method : {"dr", "ipw", "reg"}
        Estimator of a cell with covariates.
    anticipation : int
        Periods before ``g`` in which the treatment may already act.
    """

    outcome: np.ndarray
    weight: np.ndarray
    groups: np.ndarray
    cluster: np.ndarray
    control: Control = "never_treated"
    base: Base = "varying"
    covariates: np.ndarray | None = None
    est_method: EstMethod = "dr"
    anticipation: int = 0

    @property
    def n_periods(self) -> int:
        """Number of periods ``T``."""
        return self.outcome.shape[1]

    def _cell(self, cell: Cell) -> tuple[float, np.ndarray]:
        """``ATT(g, t)`` and its district influence ``psi_i = c_i (D_i - m)``.

        ``D_i = Y_it - Y_ib`` and ``m`` is the weighted mean long difference of
        the district's side (cohort or comparison group) in the cell.  With
        covariates, :func:`conditional_att` on the cell's districts, its
        influence divided by their number.
        """
        coef = cell_coefficients(self.groups[None], self.weight, cell, self.control, self.n_periods, self.anticipation)[
            0
        ]
        if not np.all(np.isfinite(coef)):
            raise EstimationError(
                f"Callaway-Sant'Anna: cell (cohort {cell.g}, period {cell.t}) has no {self.control.replace('_', '-')} "
                "comparison district"
            )
        diff = self.outcome[:, cell.t] - self.outcome[:, cell.b]
        if self.covariates is not None:
            used = coef != 0
            x = self.covariates[used, min(cell.t, cell.b)]
            att, inf = conditional_att(
                diff[used], coef[used] > 0, np.column_stack([np.ones(len(x)), x]), self.weight[used], self.est_method
            )
            psi = np.zeros(len(self.weight))
            psi[used] = inf / used.sum()
            return att, psi
        psi = np.zeros(len(self.weight))
        for side in (coef > 0, coef < 0):
            if side.any():
                mean = np.sum(coef[side] * diff[side]) / np.sum(coef[side])
                psi[side] = coef[side] * (diff[side] - mean)
        return float(np.nansum(coef * diff)), psi

    def _share_influence(self, cohorts: list[int], estimates: np.ndarray) -> np.ndarray:
        """District influence of the estimated shares in ``sum_k P(G = g_k) est_k / sum_k P(G = g_k)``.

        R ``did``'s ``wif``: ``sum_k x_ik (est_k - theta) / sum_k S_k`` with
        ``x_ik = w_i 1[G_i = g_k] - S_k / n`` (see module docstring).
        """
        member = (self.groups[:, None] == np.asarray(cohorts)[None, :]) * self.weight[:, None]
        size = member.sum(axis=0)
        theta = size @ estimates / size.sum()
        return (member - size / len(self.weight)) @ (estimates - theta) / size.sum()

    def _per_cluster(self, psi: np.ndarray) -> np.ndarray:
        """District influence summed per municipality."""
        return np.bincount(self.cluster, weights=psi, minlength=int(self.cluster.max()) + 1)

    def group_time(self) -> pd.DataFrame:
        """``ATT(g, t)`` for every estimable cell: ``group``, ``period``, ``base``, ``att``, ``se``."""
        return self.group_time_influence()[0]

    def group_time_influence(self) -> tuple[pd.DataFrame, np.ndarray]:
        """:meth:`group_time` and the cells' influence summed per municipality (``J x cells``)."""
        rows, psis = [], []
        for cell in self._cells():
            att, psi = self._cell(cell)
            psi = self._per_cluster(psi)
            psis.append(psi)
            rows.append(
                {"group": cell.g, "period": cell.t, "base": cell.b, "att": att, "se": float(np.sqrt(psi @ psi))}
            )
        return pd.DataFrame(rows), np.column_stack(psis)

    def cohort_influence(self, g: int) -> tuple[float, np.ndarray]:
        """Cohort ``g``'s average post-treatment ATT and its influence summed per municipality (``J``).

        The cells of one cohort share its weight, so no share influence enters.
        """
        selected = [c for c in self._select("group", None) if c.g == g]
        if not selected:
            raise EstimationError(f"Callaway-Sant'Anna: cohort {g} has no post-treatment cell")
        pairs = [self._cell(c) for c in selected]
        theta = float(np.mean([a for a, _ in pairs]))
        return theta, self._per_cluster(np.mean([p for _, p in pairs], axis=0))

    def aggregate_influence(
        self, aggregation: str = "simple", event_time: int | None = None
    ) -> tuple[float, np.ndarray]:
        """Aggregated ATT and its influence summed per municipality (``J``), shares' influence included."""
        if aggregation == "group":
            cohorts = sorted({c.g for c in self._select("group", None)})
            per_cohort = [self.cohort_influence(g) for g in cohorts]
            estimates = np.array([t for t, _ in per_cohort])
            psi_cells = [p for _, p in per_cohort]
        else:
            selected = self._select(aggregation, event_time)
            cohorts = [c.g for c in selected]
            pairs = [self._cell(c) for c in selected]
            estimates = np.array([a for a, _ in pairs])
            psi_cells = [self._per_cluster(p) for _, p in pairs]
        size = np.array([((self.groups == g) * self.weight).sum() for g in cohorts])
        share = size / size.sum()
        theta = float(share @ estimates)
        psi = share @ np.array(psi_cells) + self._per_cluster(self._share_influence(cohorts, estimates))
        return theta, psi

    def aggregate(self, aggregation: str = "simple", event_time: int | None = None) -> tuple[float, float]:
        """Aggregated ATT ``(theta, se)``; see module docstring."""
        theta, psi = self.aggregate_influence(aggregation, event_time)
        return theta, float(np.sqrt(psi @ psi))

    def dynamic(self) -> tuple[list[int], np.ndarray, np.ndarray]:
        """Event times, dynamic ATTs and their joint cluster-robust covariance."""
        times = self.event_times()
        pairs = [self.aggregate_influence("dynamic", e) for e in times]
        psi = np.column_stack([p for _, p in pairs])
        return times, np.array([t for t, _ in pairs]), psi.T @ psi

    def event_times(self) -> list[int]:
        """Event times ``t - g`` available for the dynamic aggregation."""
        return sorted({c.t - c.g for c in self._cells()})

    def _cells(self) -> list[Cell]:
        return cells(self.groups, self.n_periods, self.base, self.anticipation)

    def _select(self, aggregation: str, event_time: int | None) -> list[Cell]:
        return select_cells(self.groups, self.n_periods, self.base, aggregation, event_time, self.anticipation)
