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

References
----------
Callaway, B. and Sant'Anna, P. H. C. (2021). Difference-in-differences with
multiple time periods. J. Econometrics 225(2), 200-230.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from evaluation.errors import EstimationError

Control = Literal["never_treated", "not_yet_treated"]
Base = Literal["varying", "universal"]


@dataclass(frozen=True)
class Cell:
    """One group-time cell: cohort ``g``, period ``t``, base period ``b``."""

    g: int
    t: int
    b: int


def cells(groups: np.ndarray, n_periods: int, base: Base = "varying") -> list[Cell]:
    """All estimable cells for cohorts in ``groups`` (``-1`` never treated).

    Cohorts starting in the first period (no pre-period) or never within the
    window are not estimated.
    """
    out = []
    for g in sorted({int(x) for x in groups if 0 < x < n_periods}):
        for t in range(n_periods):
            if t >= g:
                out.append(Cell(g, t, g - 1))
            elif base == "varying" and t >= 1:
                out.append(Cell(g, t, t - 1))
            elif base == "universal" and t != g - 1:
                out.append(Cell(g, t, g - 1))
    return out


def _control_mask(groups: np.ndarray, cell: Cell, control: Control, n_periods: int) -> np.ndarray:
    never = (groups < 0) | (groups >= n_periods)
    if control == "never_treated":
        return never
    return never | ((groups > max(cell.t, cell.b)) & (groups != cell.g))


def cell_coefficients(
    groups: np.ndarray, weight: np.ndarray, cell: Cell, control: Control, n_periods: int
) -> np.ndarray:
    """Coefficients ``c_i`` with ``ATT(g,t) = sum_i c_i (Y_it - Y_ib)`` for assignments ``B x A``."""
    treated = (groups == cell.g) * weight
    ctrl = _control_mask(groups, cell, control, n_periods) * weight
    s_t, s_c = treated.sum(axis=-1, keepdims=True), ctrl.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return treated / s_t - ctrl / s_c


def select_cells(
    observed_groups: np.ndarray, n_periods: int, base: Base, aggregation: str, event_time: int | None
) -> list[Cell]:
    """Cells entering an aggregation: post cells (``simple``, ``group``) or ``t - g = e`` (``dynamic``)."""
    selected = []
    for cell in cells(observed_groups, n_periods, base):
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
    """

    outcome: np.ndarray
    weight: np.ndarray
    groups: np.ndarray
    cluster: np.ndarray
    control: Control = "never_treated"
    base: Base = "varying"

    @property
    def n_periods(self) -> int:
        """Number of periods ``T``."""
        return self.outcome.shape[1]

    def _cell(self, cell: Cell) -> tuple[float, np.ndarray]:
        """``ATT(g, t)`` and its district influence ``psi_i = c_i (D_i - m)``.

        ``D_i = Y_it - Y_ib`` and ``m`` is the weighted mean long difference of
        the district's side (cohort or comparison group) in the cell.
        """
        coef = cell_coefficients(self.groups[None], self.weight, cell, self.control, self.n_periods)[0]
        if not np.all(np.isfinite(coef)):
            raise EstimationError(
                f"Callaway-Sant'Anna: cell (cohort {cell.g}, period {cell.t}) has no {self.control.replace('_', '-')} "
                "comparison district"
            )
        diff = self.outcome[:, cell.t] - self.outcome[:, cell.b]
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
        rows = []
        for cell in cells(self.groups, self.n_periods, self.base):
            att, psi = self._cell(cell)
            psi = self._per_cluster(psi)
            rows.append(
                {"group": cell.g, "period": cell.t, "base": cell.b, "att": att, "se": float(np.sqrt(psi @ psi))}
            )
        return pd.DataFrame(rows)

    def cohort_influence(self, g: int) -> tuple[float, np.ndarray]:
        """Cohort ``g``'s average post-treatment ATT and its influence summed per municipality (``J``).

        The cells of one cohort share its weight, so no share influence enters.
        """
        selected = [c for c in select_cells(self.groups, self.n_periods, self.base, "group", None) if c.g == g]
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
            cohorts = sorted({c.g for c in select_cells(self.groups, self.n_periods, self.base, "group", None)})
            per_cohort = [self.cohort_influence(g) for g in cohorts]
            estimates = np.array([t for t, _ in per_cohort])
            psi_cells = [p for _, p in per_cohort]
        else:
            selected = select_cells(self.groups, self.n_periods, self.base, aggregation, event_time)
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
        return sorted({c.t - c.g for c in cells(self.groups, self.n_periods, self.base)})
