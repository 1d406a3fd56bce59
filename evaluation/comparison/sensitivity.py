"""Sensitivity of an event-study effect to violations of parallel trends (Rambachan and Roth 2023).

The event study gives ``betahat = (beta_pre, beta_post)``: the pre-period
coefficients first, then the post-period ones, each in event-time order, the
reference period (``-1`` here, ``0`` in HonestDiD's numbering) left out, with
covariance ``sigma``.  Write ``beta = tau + delta``, where ``tau`` is zero
before the pilot and ``delta`` is the difference in trends (``delta_ref = 0``).
The target is ``theta = l' tau_post`` for weights ``l_vec`` (default: the
first post period, as in HonestDiD).  Parallel trends say ``delta_post = 0``;
the sets below allow post-period violations bounded by what the pre-periods show:

* **relative magnitudes** ``Delta^RM(Mbar)``: every post-period change of the
  trend difference ``|delta_{t+1} - delta_t|`` is at most ``Mbar`` times the
  largest pre-period change (``Mbar = 0``: parallel trends after the pilot,
  ``Mbar = 1``: no worse than the worst pre-period change);
* **smoothness** ``Delta^SD(M)``: every change of slope
  ``|(delta_{t+1} - delta_t) - (delta_t - delta_{t-1})|`` is at most ``M`` (in
  the outcome's unit per period squared; ``M = 0``: a linear trend difference,
  extrapolated from the pre-periods).

Each robust interval covers ``theta`` with probability ``1 - alpha`` for every
``delta`` in the set.  The functions mirror R ``HonestDiD`` 0.2:

=====================================  ===============================================================
here                                   HonestDiD
=====================================  ===============================================================
:func:`original_ci`                    ``constructOriginalCS`` (normal quantile)
:func:`relative_magnitude_bounds`      ``createSensitivityResults_relativeMagnitudes``
                                       (``bound = "deviation from parallel trends"``)
:func:`smoothness_bounds`              ``createSensitivityResults`` (``Delta = DeltaSD``)
:func:`smoothness_upper_bound_m`       ``DeltaSD_upperBound_Mpre``
:func:`breakdown_value`                the "breakdown value" read off a sensitivity plot
=====================================  ===============================================================

Methods.  ``"Conditional"`` is the conditional test of Andrews, Roth and Pakes
(ARP, 2023) inverted over HonestDiD's grid of ``theta`` (``grid_points``
equally spaced values, by default ``+- 20`` standard errors of ``l' beta_post``
around the identified set under ``delta_pre = 0``), with HonestDiD's choices:
only the moments that involve a post period, nuisance parameters ``tau`` for
more than one post period (linear programs, then the primal or, when the LP is
degenerate, the dual conditioning with HonestDiD's bisection for the
truncation points), and ``Delta^RM`` as the union over the period ``s`` and
sign of the largest pre-period change.  The interval is the smallest and
largest accepted grid value, so it agrees with HonestDiD exactly when the
grid is the same.  ``"C-LF"`` (HonestDiD's default for ``Delta^RM``) adds the
least-favourable first stage of size ``alpha / 10``; its critical value is
simulated (``n_lf_draws`` draws from a seeded ``numpy.random.Generator`` that
must be passed in), so it agrees with HonestDiD only up to that simulation
error.  ``"FLCI"`` (HonestDiD's default for ``Delta^SD``) is the optimal
fixed-length interval of Armstrong and Kolesar (2018): among affine estimators
``v' betahat`` with ``v_post = l``, the one whose interval
``v' betahat +- h cv_alpha(b / h)`` is shortest, where ``h`` is the
estimator's standard error, ``b`` its worst-case bias over ``Delta^SD(M)`` and
``cv_alpha(t)`` the ``1 - alpha`` quantile of ``|N(t, 1)|``.  Here ``cv`` is
computed exactly (HonestDiD draws ``10^6`` normals) and the half-length is
minimised over ``v`` by one smooth convex program (HonestDiD bisects over
``h`` to 1 % of its range), so FLCI half-lengths agree with HonestDiD to the
accuracy of its simulated quantile (0.1 %, tested to 0.4 %) and centres to
its search over ``h`` (tested to 2 % of the half-length).  The worst-case
bias is computed for any ``l_vec`` (:func:`sd_bias_matrix`); HonestDiD's
formula for it holds for ``l_vec >= 0`` only.

All solvers are deterministic: linear programs by :func:`scipy.optimize.linprog`
(HiGHS), the FLCI by SLSQP.

References
----------
Rambachan, A. and Roth, J. (2023). A more credible approach to parallel trends.
Review of Economic Studies 90(5), 2555-2591.
Andrews, I., Roth, J. and Pakes, A. (2023). Inference for linear conditional
moment inequalities. Review of Economic Studies 90(6), 2763-2791.
Armstrong, T. B. and Kolesar, M. (2018). Optimal inference in a class of
regression models. Econometrica 86(2), 655-683.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special

from evaluation.errors import SensitivityInputError

DEFAULT_MBAR = tuple(float(x) for x in np.linspace(0, 2, 10))
"""HonestDiD's default ``Mbarvec``: 10 values on ``[0, 2]``."""
KINDS = ("relative_magnitude", "smoothness")
"""The ``kind`` column of :meth:`SensitivityResult.tidy`."""
TIDY_COLUMNS = ["kind", "method", "m", "conf_low", "conf_high", "open_low", "open_high"]
"""Columns of :meth:`SensitivityResult.tidy` (``open_*``: the end is the grid's edge, so the interval may be wider)."""


# --------------------------------------------------------------------------------------------------------------------
# inputs


@dataclass(frozen=True)
class EventStudy:
    """Checked event-study coefficients: ``betahat`` (pre then post), ``sigma``, the period counts and ``l_vec``."""

    betahat: np.ndarray
    sigma: np.ndarray
    num_pre: int
    num_post: int
    l_vec: np.ndarray

    @property
    def post(self) -> slice:
        """Positions of the post-period coefficients."""
        return slice(self.num_pre, self.num_pre + self.num_post)

    @property
    def sd_theta(self) -> float:
        """Standard error of ``l' beta_post``."""
        s = self.sigma[self.post, self.post]
        return float(np.sqrt(self.l_vec @ s @ self.l_vec))


def event_study_input(
    betahat: np.ndarray,
    sigma: np.ndarray,
    num_pre_periods: int,
    num_post_periods: int,
    l_vec: np.ndarray | Sequence[float] | None = None,
) -> EventStudy:
    """Check and bundle the inputs (``HonestDiD``'s ``.stopIfNotConformable``, stricter).

    Raises
    ------
    SensitivityInputError
        A ``ValueError`` naming the argument: counts that are not positive
        integers or do not add up to ``len(betahat)``, a ``sigma`` of the
        wrong shape, not symmetric or not positive semi-definite (or with a
        zero variance), an ``l_vec`` of the wrong length or all zero, or
        values that are not finite.
    """
    for name, value, least in (("num_pre_periods", num_pre_periods, 1), ("num_post_periods", num_post_periods, 1)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
            raise SensitivityInputError(f"sensitivity: {name} must be an integer >= {least}, got {value!r}")
    b = np.asarray(betahat, dtype=float)
    if b.ndim != 1:
        raise SensitivityInputError(f"sensitivity: betahat must be a vector, got shape {b.shape}")
    k = int(num_pre_periods) + int(num_post_periods)
    if b.size != k:
        raise SensitivityInputError(
            f"sensitivity: betahat has {b.size} coefficients but num_pre_periods + num_post_periods = "
            f"{num_pre_periods} + {num_post_periods} = {k} (the reference period is left out)"
        )
    if not np.all(np.isfinite(b)):
        raise SensitivityInputError("sensitivity: betahat has a missing or infinite value")
    s = np.asarray(sigma, dtype=float)
    if s.shape != (k, k):
        raise SensitivityInputError(f"sensitivity: sigma must be {k} x {k} (one row per coefficient), got {s.shape}")
    if not np.all(np.isfinite(s)):
        raise SensitivityInputError("sensitivity: sigma has a missing or infinite value")
    scale = max(float(np.max(np.abs(s))), np.finfo(float).tiny)
    if np.max(np.abs(s - s.T)) > 1e-10 * scale:
        raise SensitivityInputError(
            f"sensitivity: sigma is not symmetric (largest asymmetry {np.max(np.abs(s - s.T)):.3g})"
        )
    s = (s + s.T) / 2
    smallest = float(np.linalg.eigvalsh(s)[0])
    if smallest < -1e-10 * scale:
        raise SensitivityInputError(
            f"sensitivity: sigma is not positive semi-definite (smallest eigenvalue {smallest:.3g})"
        )
    if np.any(np.diag(s) <= 0):
        raise SensitivityInputError("sensitivity: sigma has a zero variance on its diagonal")
    lv = np.eye(int(num_post_periods))[0] if l_vec is None else np.asarray(l_vec, dtype=float)
    if lv.shape != (int(num_post_periods),):
        raise SensitivityInputError(
            f"sensitivity: l_vec must have num_post_periods = {num_post_periods} weights, got shape {lv.shape}"
        )
    if not np.all(np.isfinite(lv)) or not np.any(lv != 0):
        raise SensitivityInputError("sensitivity: l_vec must be finite and not all zero")
    return EventStudy(b, s, int(num_pre_periods), int(num_post_periods), lv)


def _check_alpha(alpha: float) -> float:
    if not 0 < alpha < 1:
        raise SensitivityInputError(f"sensitivity: alpha must be in (0, 1), got {alpha!r}")
    return float(alpha)


def _check_grid(values: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    grid = np.atleast_1d(np.asarray(values, dtype=float))
    if grid.ndim != 1 or grid.size == 0 or not np.all(np.isfinite(grid)) or np.any(grid < 0):
        raise SensitivityInputError(f"sensitivity: {name} must be a non-empty list of numbers >= 0, got {values!r}")
    return grid


# --------------------------------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class Interval:
    """A confidence interval for ``theta`` (NaN ends: empty)."""

    conf_low: float
    conf_high: float
    estimate: float = math.nan

    def covers(self, value: float = 0.0) -> bool:
        """Whether the interval contains ``value`` (False when empty)."""
        return bool(self.conf_low <= value <= self.conf_high)


@dataclass(frozen=True)
class Breakdown:
    """The smallest bound on the grid whose robust interval contains 0.

    ``value`` is that bound, or NaN when no interval on the grid contains 0
    (``beyond_grid``: the breakdown value is larger than the grid's largest,
    ``grid_max``).  ``value == 0`` means the original conclusion does not even
    survive the set's smallest member (e.g. ``Mbar = 0``).
    """

    value: float
    beyond_grid: bool
    grid_max: float

    def describe(self) -> str:
        """``"1.5"`` or ``"> 2 (beyond the grid)"``."""
        return f"> {self.grid_max:g} (beyond the grid)" if self.beyond_grid else f"{self.value:g}"


@dataclass(frozen=True)
class SensitivityResult:
    """Robust intervals for ``theta`` over a grid of bounds, with the original interval.

    ``kind`` is ``relative_magnitude`` (``m`` holds ``Mbar``) or ``smoothness``
    (``m`` holds ``M``); ``method`` is ``Conditional``, ``C-LF`` or ``FLCI``.
    ``open_low``/``open_high`` flag ends at the edge of the test grid
    (HonestDiD warns "CI is open at one of the endpoints").
    """

    kind: str
    method: str
    m: np.ndarray
    conf_low: np.ndarray
    conf_high: np.ndarray
    original: Interval
    alpha: float
    l_vec: np.ndarray
    open_low: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    open_high: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    def tidy(self) -> pd.DataFrame:
        """One row per bound: ``kind, method, m, conf_low, conf_high, open_low, open_high``."""
        n = len(self.m)
        return pd.DataFrame(
            {
                "kind": [self.kind] * n,
                "method": [self.method] * n,
                "m": self.m.astype(float),
                "conf_low": self.conf_low.astype(float),
                "conf_high": self.conf_high.astype(float),
                "open_low": self.open_low if self.open_low.size == n else np.zeros(n, bool),
                "open_high": self.open_high if self.open_high.size == n else np.zeros(n, bool),
            },
            columns=TIDY_COLUMNS,
        )

    def breakdown(self, value: float = 0.0) -> Breakdown:
        """See :func:`breakdown_value`."""
        return breakdown_value(self, value)


def breakdown_value(result: SensitivityResult, value: float = 0.0) -> Breakdown:
    """The smallest bound of ``result``'s grid at which the robust interval contains ``value`` (default 0).

    For ``Delta^RM`` this is Rambachan and Roth's breakdown ``Mbar``: how large
    the post-period violations of parallel trends may be, relative to the
    largest pre-period violation, before the effect is no longer
    distinguishable from ``value``.  Only the grid is searched (as one reads it
    off HonestDiD's sensitivity plot), so the true breakdown value lies
    between the returned bound and the grid's previous one.  When no interval
    contains ``value``, the value is NaN and ``beyond_grid`` is True: report
    "larger than ``grid_max``", not a number.
    """
    order = np.argsort(result.m, kind="stable")
    m, low, high = result.m[order], result.conf_low[order], result.conf_high[order]
    covers = (low <= value) & (value <= high)
    grid_max = float(m.max())
    if not covers.any():
        return Breakdown(math.nan, True, grid_max)
    return Breakdown(float(m[np.argmax(covers)]), False, grid_max)


def original_ci(
    betahat: np.ndarray,
    sigma: np.ndarray,
    num_pre_periods: int,
    num_post_periods: int,
    l_vec: np.ndarray | Sequence[float] | None = None,
    alpha: float = 0.05,
) -> Interval:
    """The interval under parallel trends, ``l' beta_post +- z_{1 - alpha/2} se`` (``HonestDiD::constructOriginalCS``).

    Uses the normal quantile, as HonestDiD does (the event-study table itself
    uses a t quantile with ``G - 1`` degrees of freedom).
    """
    es = event_study_input(betahat, sigma, num_pre_periods, num_post_periods, l_vec)
    return _original(es, _check_alpha(alpha))


def _original(es: EventStudy, alpha: float) -> Interval:
    estimate = float(es.l_vec @ es.betahat[es.post])
    half = float(special.ndtri(1 - alpha / 2)) * es.sd_theta
    return Interval(estimate - half, estimate + half, estimate)


# --------------------------------------------------------------------------------------------------------------------
# the sets as A delta <= d (delta without the reference period)


def _second_differences(num_pre: int, num_post: int) -> np.ndarray:
    """Rows ``delta_{t+1} - 2 delta_t + delta_{t-1}`` for every inner period, the reference column dropped."""
    n = num_pre + num_post
    full = np.zeros((n - 1, n + 1))
    for r in range(n - 1):
        full[r, r : r + 3] = (1.0, -2.0, 1.0)
    return np.delete(full, num_pre, axis=1)


def sd_constraints(num_pre: int, num_post: int, m: float) -> tuple[np.ndarray, np.ndarray]:
    """``Delta^SD(M) = {delta : A delta <= d}`` (HonestDiD ``.create_A_SD``, ``.create_d_SD``)."""
    a = _second_differences(num_pre, num_post)
    a = np.vstack([a, -a])
    return a, np.full(a.shape[0], float(m))


def rm_constraints(
    num_pre: int, num_post: int, mbar: float, s: int, max_positive: bool
) -> tuple[np.ndarray, np.ndarray]:
    """``Delta^RM_{s,sign}(Mbar)``: the pre-period change ending at ``s`` is the largest (HonestDiD ``.create_A_RM``).

    ``s`` runs over ``-(num_pre - 1), ..., 0``; ``max_positive`` says whether
    that largest change is positive.  ``Delta^RM(Mbar)`` is the union over
    ``s`` and sign.
    """
    n = num_pre + num_post
    first = np.zeros((n, n + 1))
    for r in range(n):
        first[r, r : r + 2] = (-1.0, 1.0)
    biggest = np.zeros(n + 1)
    biggest[num_pre + s - 1 : num_pre + s + 1] = (-1.0, 1.0)
    if not max_positive:
        biggest = -biggest
    bound = np.vstack([np.tile(biggest, (num_pre, 1)), np.tile(mbar * biggest, (num_post, 1))])
    a = np.vstack([first - bound, -first - bound])
    a = a[np.einsum("ij,ij->i", a, a) > 1e-10]
    a = np.delete(a, num_pre, axis=1)
    return a, np.zeros(a.shape[0])


def _post_rows(a: np.ndarray, num_pre: int) -> np.ndarray:
    """Rows of ``a`` with a post-period coefficient (HonestDiD's ``postPeriodMomentsOnly``)."""
    return np.flatnonzero(np.any(a[:, num_pre:] != 0, axis=1))


def _identified_set_at_zero(a: np.ndarray, d: np.ndarray, es: EventStudy) -> tuple[float, float]:
    """Bounds of ``l' delta_post`` over ``{A delta <= d, delta_pre = 0}`` (HonestDiD ``.compute_IDset_*`` at 0)."""
    k = es.num_pre + es.num_post
    objective = np.concatenate([np.zeros(es.num_pre), es.l_vec])
    eq = np.hstack([np.eye(es.num_pre), np.zeros((es.num_pre, es.num_post))])
    kw = dict(A_ub=a, b_ub=d, A_eq=eq, b_eq=np.zeros(es.num_pre), bounds=[(None, None)] * k, method="highs")
    high = optimize.linprog(-objective, **kw)
    low = optimize.linprog(objective, **kw)
    if high.status != 0 or low.status != 0:
        return 0.0, 0.0
    return float(high.fun), float(-low.fun)  # -max and -min: HonestDiD's id.lb and id.ub at beta = 0


# --------------------------------------------------------------------------------------------------------------------
# distributions


def truncated_normal_quantile(p: float, low: float, high: float) -> float:
    """The ``p`` quantile of a standard normal truncated to ``[low, high]`` (``TruncatedNormal::norminvp``).

    Computed on the log scale of the tail nearer the mass, so it stays
    accurate far in the tails (where ``low`` is, e.g., 30).
    """
    if low >= high:
        return float(low)
    if low + high > 0:  # mass in the right tail: mirror
        return -truncated_normal_quantile(1 - p, -high, -low)
    log_lo = float(special.log_ndtr(low))
    log_hi = float(special.log_ndtr(high))
    if not np.isfinite(log_lo):  # low = -inf
        return float(special.ndtri_exp(math.log(p) + log_hi)) if p > 0 else -math.inf
    # log(Phi(lo) + p (Phi(hi) - Phi(lo))) = log_hi + log(p + (1 - p) exp(log_lo - log_hi))
    return float(special.ndtri_exp(log_hi + math.log(p + (1 - p) * math.exp(log_lo - log_hi))))


def folded_normal_quantile(p: float, t: float) -> float:
    """The ``p`` quantile of ``|N(t, 1)|``: ``c`` with ``Phi(c - t) - Phi(-c - t) = p`` (exact, not simulated)."""
    t = abs(float(t))
    if t == 0:
        return float(special.ndtri((1 + p) / 2))

    def excess(c: float) -> float:
        return float(special.ndtr(c - t) - special.ndtr(-c - t)) - p

    lo, hi = max(t + float(special.ndtri(p)) - 1e-9, 0.0), t + float(special.ndtri((1 + p) / 2)) + 1e-9
    return float(optimize.brentq(excess, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=200))


def _folded_slope(c: float, t: float) -> float:
    """``d cv / d t`` of :func:`folded_normal_quantile` at ``(c, t)``."""
    a, b = math.exp(-0.5 * (c - t) ** 2), math.exp(-0.5 * (c + t) ** 2)
    return (a - b) / (a + b)


# --------------------------------------------------------------------------------------------------------------------
# ARP conditional test (Andrews, Roth and Pakes), as in HonestDiD's arp-nuisance.R / arp-nonuisance.R

_TOL_LAMBDA = 1e-6
_TOL_EQUALITY = 1e-6
_TOL_C = 1e-6


@dataclass(frozen=True)
class _LF:
    """Least-favourable hybrid: first-stage size ``kappa`` and critical value ``cv``."""

    kappa: float
    cv: float


def _eta_lp(y: np.ndarray, x: np.ndarray, sd: np.ndarray):
    """``min eta s.t. y - X delta <= eta sd`` (HonestDiD ``.test_delta_lp_fn``); returns (eta, lambda) or None."""
    k = x.shape[1]
    c = np.zeros(1 + k)
    c[0] = 1.0
    res = optimize.linprog(
        c, A_ub=-np.column_stack([sd, x]), b_ub=-y, bounds=[(None, None)] * (1 + k), method="highs-ds"
    )
    if res.status != 0:
        return None
    return float(res.fun), -np.asarray(res.ineqlin.marginals, float)


def _max_program(s_t, b_vec, w_t, c):
    """``max (s_T + b c)' x s.t. W_T' x = e_1, x >= 0`` (HonestDiD ``.max_program``)."""
    f = s_t + b_vec * c
    beq = np.zeros(w_t.shape[1])
    beq[0] = 1.0
    res = optimize.linprog(-f, A_eq=w_t.T, b_eq=beq, bounds=(0, None), method="highs-ds")
    if res.status != 0:
        return False, None
    return abs(c - (-res.fun)) <= _TOL_EQUALITY, res.x


def _roundeps(x: float) -> float:
    return 0.0 if abs(x) < np.finfo(float).eps ** 0.75 else x


def _dual_bound(eta, s_t, b_vec, w_t, start, upper: bool) -> float:
    """One truncation point of the dual approach (HonestDiD ``.vlo_vup_dual_fn``, ARP appendix D, algorithm 1)."""
    honest, x = _max_program(s_t, b_vec, w_t, start)
    if honest:
        return math.inf if upper else -math.inf
    if x is None:  # no solution at the far end: HonestDiD's LP returns garbage here; treat the end as open
        return math.inf if upper else -math.inf
    dif, iters, maxiters = 0.0, 1, 10000
    mid = _roundeps(float(x @ s_t)) / (1 - float(x @ b_vec))
    while True:
        honest, x = _max_program(s_t, b_vec, w_t, mid)
        if honest or iters >= maxiters:
            break
        iters += 1
        if iters >= 10 or x is None:
            dif = _TOL_C + 1
            break
        mid = _roundeps(float(x @ s_t)) / (1 - float(x @ b_vec))
    low, high = (eta, mid) if upper else (mid, eta)
    while dif > _TOL_C and iters < maxiters:
        iters += 1
        mid = (high + low) / 2
        honest, _ = _max_program(s_t, b_vec, w_t, mid)
        if honest == upper:
            low = mid
        else:
            high = mid
        dif = high - low
    return mid


def _dual_rejects(y, x, eta, gamma, sigma, sigma_b: float, size: float, lf: _LF | None) -> bool:
    """The dual approach's decision (HonestDiD ``.lp_dual_fn`` and the dual branch of ``.lp_conditional_test_fn``).

    The truncation points come from HonestDiD's bisection (``.vlo_vup_dual_fn``,
    ARP appendix D, algorithm 1).  Two shortcuts give the same decision with
    fewer linear programs: with ``eta <= 0`` the test cannot reject (its
    critical value is at least 0), and once ``vlo`` is known, a statistic above
    the quantile truncated to ``[vlo, inf)`` rejects whatever ``vup`` is (the
    truncated quantile increases with the upper point).
    """
    if eta <= 0:
        return False
    sd = np.sqrt(np.diag(sigma))
    w_t = np.column_stack([sd, x])
    sg = sigma @ gamma
    var = float(gamma @ sg)
    s_t = y - sg * (gamma @ y) / var
    b_vec = sg / var
    honest, _ = _max_program(s_t, b_vec, w_t, eta)
    if not honest:  # HonestDiD: vlo = eta, vup = inf, so the test accepts
        return False
    stat = eta / sigma_b
    zlo = _dual_bound(eta, s_t, b_vec, w_t, min(-100.0, eta - 20 * sigma_b), upper=False) / sigma_b
    top = math.inf if lf is None else lf.cv / sigma_b
    if not zlo <= stat:
        return False
    if stat > max(0.0, truncated_normal_quantile(1 - size, zlo, top)):
        return True
    vup = _dual_bound(eta, s_t, b_vec, w_t, max(100.0, eta + 20 * sigma_b), upper=True)
    zup = min(vup, math.inf if lf is None else lf.cv) / sigma_b
    if not stat <= zup:
        return False
    return stat > max(0.0, truncated_normal_quantile(1 - size, zlo, zup))


def _conditional_rejects(y, x, sigma, alpha: float, lf: _LF | None) -> bool:
    """ARP test of ``E[y - X tau] <= 0`` for some nuisance ``tau`` (HonestDiD ``.lp_conditional_test_fn``)."""
    sd = np.sqrt(np.diag(sigma))
    solved = _eta_lp(y, x, sd)
    if solved is None:  # HonestDiD: "LP for eta did not converge properly. Not rejecting"
        return False
    eta, lam = solved
    size = alpha
    if lf is not None:
        if eta > lf.cv:
            return True
        size = (alpha - lf.kappa) / (1 - lf.kappa)
    k = x.shape[1]
    binding = lam > _TOL_LAMBDA
    degenerate = int(binding.sum()) != k + 1
    x_b = x[binding]
    full_rank = x_b.shape[0] > 0 and np.linalg.matrix_rank(x_b) == min(x_b.shape)
    if degenerate or not full_rank:
        sigma_b = math.sqrt(max(float(lam @ sigma @ lam), 0.0))
        if sigma_b < 1e-10:
            return eta > 0
        return _dual_rejects(y, x, eta, lam, sigma, sigma_b, size, lf)
    else:
        w_b = np.column_stack([sd[binding], x_b])
        w_bc = np.column_stack([sd[~binding], x[~binding]])
        s_b = np.eye(len(y))[binding]
        solved_b = np.linalg.solve(w_b, s_b)
        gamma_b = w_bc @ solved_b - np.eye(len(y))[~binding]
        v_b = solved_b[0]
        sigma2_b = float(v_b @ sigma @ v_b)
        sigma_b = math.sqrt(sigma2_b)
        rho = gamma_b @ sigma @ v_b / sigma2_b
        with np.errstate(divide="ignore", invalid="ignore"):
            bound = -(gamma_b @ y) / rho + float(v_b @ y)
        vlo = float(bound[rho > 0].max()) if np.any(rho > 0) else -math.inf
        vup = float(bound[rho < 0].min()) if np.any(rho < 0) else math.inf
    if lf is not None:
        vup = min(vup, lf.cv)
    zlo, zup, stat = vlo / sigma_b, vup / sigma_b, eta / sigma_b
    if not (zlo <= stat <= zup):
        return False
    return stat > max(0.0, truncated_normal_quantile(1 - size, zlo, zup))


def _no_nuisance_rejects(y, sigma, a, d, alpha: float, lf: _LF | None) -> bool:
    """ARP test of ``E[A y] - d <= 0`` without nuisance parameters (HonestDiD ``.testInIdentifiedSet``)."""
    scale = np.sqrt(np.einsum("ij,jk,ik->i", a, sigma, a))
    a_t, d_t = a / scale[:, None], d / scale
    moments = a_t @ y - d_t
    at = int(np.argmax(moments))
    size = alpha
    if lf is not None:
        if moments[at] > lf.cv:
            return True
        size = (alpha - lf.kappa) / (1 - lf.kappa)
    gamma = a_t[at]
    a_bar = a_t - gamma[None, :]
    d_bar = d_t - d_t[at]
    sg = sigma @ gamma
    var = float(gamma @ sg)
    c = sg / var
    z = y - c * (gamma @ y)
    ac = a_bar @ c
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (d_bar - a_bar @ z) / ac
    vlo = float(ratio[ac < 0].max()) if np.any(ac < 0) else -math.inf
    vup = float(ratio[ac > 0].min()) if np.any(ac > 0) else math.inf
    mu, sd = float(d_t[at]), math.sqrt(var)
    critical = mu + sd * truncated_normal_quantile(1 - size, (vlo - mu) / sd, (vup - mu) / sd)
    return bool(moments[at] + mu > critical)


def _gamma_matrix(l_vec: np.ndarray) -> np.ndarray:
    """Invertible matrix with first row ``l'`` (HonestDiD ``.construct_Gamma``: the pivots of ``rref([l, I])``).

    The pivot columns are ``l`` and every unit vector except the one at ``l``'s last non-zero entry.
    """
    n = len(l_vec)
    last = int(np.flatnonzero(l_vec)[-1])
    return np.vstack([l_vec, np.delete(np.eye(n), last, axis=0)])


def _least_favorable_cv(x, sigma, kappa: float, n_draws: int, rng: np.random.Generator) -> float:
    """``1 - kappa`` quantile of ``eta`` under ``y ~ N(0, sigma)`` (HonestDiD ``.compute_least_favorable_cv``)."""
    draws = rng.multivariate_normal(np.zeros(sigma.shape[0]), sigma, size=n_draws, method="eigh")
    sd = np.sqrt(np.diag(sigma))
    if x is None:
        eta = np.max(draws / sd, axis=1)
    else:
        solved = (_eta_lp(draw, x, sd) for draw in draws)
        eta = np.array([s[0] for s in solved if s is not None])
    return float(np.quantile(eta, 1 - kappa))


class _Piece:
    """The conditional (or C-LF) test of ``theta`` for one ``Delta = {A delta <= d}``, set up once.

    HonestDiD ``.ARP_computeCI`` (more than one post period: nuisance
    parameters, the moments with a post period) or ``.APR_computeCI_NoNuis``
    (one post period: every moment).
    """

    def __init__(self, es: EventStudy, a, d, alpha: float, lf_kappa: float | None, n_lf_draws: int, rng) -> None:
        self.es, self.alpha, self.lf = es, alpha, None
        if es.num_post == 1:
            self.a, self.d = a, d
            self.e = np.zeros(len(es.betahat))
            self.e[es.num_pre] = 1.0
            if lf_kappa is not None:
                self.lf = _LF(lf_kappa, _least_favorable_cv(None, a @ es.sigma @ a.T, lf_kappa, n_lf_draws, rng))
            return
        rows = _post_rows(a, es.num_pre)
        a_post = a[:, es.post] @ np.linalg.inv(_gamma_matrix(es.l_vec))
        self.y = (a @ es.betahat - d)[rows]
        self.one, self.x = a_post[rows, 0], a_post[rows, 1:]
        self.sigma_y = (a @ es.sigma @ a.T)[np.ix_(rows, rows)]
        if lf_kappa is not None:
            self.lf = _LF(lf_kappa, _least_favorable_cv(self.x, self.sigma_y, lf_kappa, n_lf_draws, rng))

    def accepts(self, theta: float) -> bool:
        """Whether the test accepts ``theta``."""
        if self.es.num_post == 1:
            y = self.es.betahat - self.e * theta
            return not _no_nuisance_rejects(y, self.es.sigma, self.a, self.d, self.alpha, self.lf)
        return not _conditional_rejects(self.y - self.one * theta, self.x, self.sigma_y, self.alpha, self.lf)


SEARCHES = ("grid", "bisect")
"""How the theta grid is searched: every value (HonestDiD), or a coarse pass and bisection at the ends."""
COARSE_STEP = 25
"""``search="bisect"``: the coarse pass tests every ``COARSE_STEP``-th grid value."""


def _invert(pieces: list[_Piece], grid: np.ndarray, search: str, seed: float) -> tuple[float, float, bool, bool]:
    """The smallest and largest grid value that some piece accepts (the union, as HonestDiD's ``Delta^RM``).

    ``search="grid"`` tests every value, as HonestDiD does.  ``"bisect"``
    starts at the grid value nearest ``seed`` (the point estimate) and, while
    it is accepted, walks outwards in steps of :data:`COARSE_STEP` values until
    a value is rejected, then bisects that last step; when the start is
    rejected it tests every :data:`COARSE_STEP`-th value instead and bisects
    the steps at the ends of the accepted ones (every value when none is).  It
    finds HonestDiD's ends whenever the accepted set is an interval (the usual
    case), with a few dozen tests instead of ``len(grid)``.  Returns
    ``(low, high, open_low, open_high)``: NaN ends when nothing is accepted,
    ``open_*`` when an end is the grid's edge.
    """
    cache: dict[int, bool] = {}

    def ok(i: int) -> bool:
        if i not in cache:
            cache[i] = any(piece.accepts(float(grid[i])) for piece in pieces)
        return cache[i]

    def edge(inside: int, outside: int) -> int:
        """The accepted value next to the boundary between an accepted and a rejected index."""
        while abs(outside - inside) > 1:
            mid = (inside + outside) // 2
            inside, outside = (mid, outside) if ok(mid) else (inside, mid)
        return inside

    def walk(start: int, direction: int) -> int:
        """From an accepted index, the last accepted one in ``direction`` (an interval assumed)."""
        i = start
        while True:
            nxt = min(max(i + direction * COARSE_STEP, 0), n - 1)
            if nxt == i:
                return i
            if not ok(nxt):
                return edge(i, nxt)
            i = nxt

    n = len(grid)
    if search == "grid":
        accepted = [i for i in range(n) if ok(i)]
    else:
        start = int(np.argmin(np.abs(grid - seed)))
        if ok(start):
            accepted = [walk(start, -1), walk(start, 1)]
        else:
            coarse = sorted({*range(0, n, COARSE_STEP), n - 1})
            hits = [i for i in coarse if ok(i)]
            if not hits:
                accepted = [i for i in range(n) if ok(i)]
            else:
                first, last = hits[0], hits[-1]
                if first > 0:
                    first = edge(first, coarse[coarse.index(first) - 1])
                if last < n - 1:
                    last = edge(last, coarse[coarse.index(last) + 1])
                accepted = [first, last]
    if not accepted:
        return math.nan, math.nan, False, False
    return float(grid[accepted[0]]), float(grid[accepted[-1]]), accepted[0] == 0, accepted[-1] == n - 1


def _methods(method: str, allowed: tuple[str, ...], rng, n_lf_draws: int) -> None:
    if method not in allowed:
        raise SensitivityInputError(f"sensitivity: method must be one of {', '.join(allowed)}, got {method!r}")
    if method == "C-LF" and not isinstance(rng, np.random.Generator):
        raise SensitivityInputError("sensitivity: method 'C-LF' simulates its critical value; pass rng (a Generator)")
    if method == "C-LF" and n_lf_draws < 100:
        raise SensitivityInputError(f"sensitivity: n_lf_draws must be >= 100, got {n_lf_draws}")


# --------------------------------------------------------------------------------------------------------------------
# public: relative magnitudes


def relative_magnitude_bounds(
    betahat: np.ndarray,
    sigma: np.ndarray,
    num_pre_periods: int,
    num_post_periods: int,
    mbar: Sequence[float] | np.ndarray = DEFAULT_MBAR,
    l_vec: np.ndarray | Sequence[float] | None = None,
    alpha: float = 0.05,
    method: str = "Conditional",
    grid_points: int = 1000,
    grid_lb: float | None = None,
    grid_ub: float | None = None,
    rng: np.random.Generator | None = None,
    n_lf_draws: int = 1000,
    search: str = "grid",
) -> SensitivityResult:
    """Robust intervals for ``theta = l' tau_post`` under ``Delta^RM(Mbar)`` for each ``Mbar`` in ``mbar``.

    HonestDiD: ``createSensitivityResults_relativeMagnitudes(betahat, sigma,
    numPrePeriods, numPostPeriods, bound = "deviation from parallel trends",
    method, Mbarvec = mbar, l_vec, alpha, gridPoints = grid_points, grid.lb,
    grid.ub)``.

    Parameters
    ----------
    betahat, sigma : np.ndarray
        Event-study coefficients (pre periods, then post periods, the reference
        period left out) and their covariance, in the outcome's unit.
    num_pre_periods, num_post_periods : int
        Numbers of pre- and post-period coefficients.
    mbar : sequence of float
        The bounds ``Mbar >= 0`` (default 10 values on ``[0, 2]``, as HonestDiD).
    l_vec : array, optional
        Weights of the post-period effects in ``theta`` (default the first post
        period; ``np.full(T, 1 / T)`` for their average).
    alpha : float
        One minus the coverage.
    method : {"Conditional", "C-LF"}
        ARP conditional test (deterministic), or the conditional least-favourable
        hybrid (HonestDiD's default; needs ``rng``).
    grid_points, grid_lb, grid_ub
        The ``theta`` grid the test is inverted over (default
        ``+- 20 sd(l' beta_post)``, HonestDiD's).
    rng : np.random.Generator, optional
        Draws of the least-favourable critical value (``C-LF`` only).
    n_lf_draws : int
        Number of those draws (HonestDiD: 1000).
    search : {"grid", "bisect"}
        Test every grid value (HonestDiD), or a coarse pass and bisection at
        the ends (same ends for an interval, about a tenth of the tests; see
        :func:`_invert`).

    Returns
    -------
    SensitivityResult
        ``kind = "relative_magnitude"``; an interval is NaN when no grid value is accepted.
    """
    es = event_study_input(betahat, sigma, num_pre_periods, num_post_periods, l_vec)
    alpha = _check_alpha(alpha)
    mbar = _check_grid(mbar, "mbar")
    _methods(method, ("Conditional", "C-LF"), rng, n_lf_draws)
    grid = _theta_grid(grid_lb, grid_ub, -20 * es.sd_theta, 20 * es.sd_theta, grid_points)
    _check_search(search)
    kappa = alpha / 10 if method == "C-LF" else None
    lows, highs, open_lo, open_hi = [], [], [], []
    for value in mbar:
        pieces = [
            _Piece(
                es, *rm_constraints(es.num_pre, es.num_post, float(value), s, positive), alpha, kappa, n_lf_draws, rng
            )
            for s, positive in _rm_pieces(es)
        ]
        low, high, olo, ohi = _invert(pieces, grid, search, float(es.l_vec @ es.betahat[es.post]))
        lows.append(low), highs.append(high), open_lo.append(olo), open_hi.append(ohi)
    return SensitivityResult(
        "relative_magnitude",
        method,
        mbar,
        np.array(lows),
        np.array(highs),
        _original(es, alpha),
        alpha,
        es.l_vec,
        np.array(open_lo),
        np.array(open_hi),
    )


def _rm_pieces(es: EventStudy) -> list[tuple[int, bool]]:
    """``(s, max_positive)`` of ``Delta^RM``'s pieces, the likeliest largest pre-period change first.

    The order does not change the union, only how soon :func:`_invert` finds an accepting piece.
    """
    pre = np.concatenate([es.betahat[: es.num_pre], [0.0]])  # event times -num_pre .. 0
    change = {s: pre[es.num_pre + s] - pre[es.num_pre + s - 1] for s in range(-(es.num_pre - 1), 1)}
    pieces = [(s, positive) for s in change for positive in (True, False)]
    return sorted(pieces, key=lambda p: (-abs(change[p[0]]), (change[p[0]] >= 0) != p[1]))


def _check_search(search: str) -> None:
    if search not in SEARCHES:
        raise SensitivityInputError(f"sensitivity: search must be one of {', '.join(SEARCHES)}, got {search!r}")


def _theta_grid(lb: float | None, ub: float | None, default_lb: float, default_ub: float, points: int) -> np.ndarray:
    if isinstance(points, bool) or not isinstance(points, int | np.integer) or points < 2:
        raise SensitivityInputError(f"sensitivity: grid_points must be an integer >= 2, got {points!r}")
    lb = default_lb if lb is None else float(lb)
    ub = default_ub if ub is None else float(ub)
    if not lb < ub:
        raise SensitivityInputError(f"sensitivity: grid_lb ({lb}) must be below grid_ub ({ub})")
    return np.linspace(lb, ub, int(points))


# --------------------------------------------------------------------------------------------------------------------
# public: smoothness


def smoothness_upper_bound_m(
    betahat: np.ndarray, sigma: np.ndarray, num_pre_periods: int, alpha: float = 0.05
) -> float:
    """Upper ``1 - alpha`` bound for the largest pre-period second difference (``HonestDiD::DeltaSD_upperBound_Mpre``).

    ``max_t (A_t beta_pre + z_{1-alpha} se_t)`` over the second differences ``+-``; HonestDiD's default largest ``M``.
    """
    if isinstance(num_pre_periods, bool) or not isinstance(num_pre_periods, int | np.integer) or num_pre_periods < 2:
        raise SensitivityInputError(f"sensitivity: num_pre_periods must be an integer >= 2, got {num_pre_periods!r}")
    b = np.asarray(betahat, float)[:num_pre_periods]
    s = np.asarray(sigma, float)[:num_pre_periods, :num_pre_periods]
    a, _ = sd_constraints(num_pre_periods, 0, 0.0)
    se = np.sqrt(np.einsum("ij,jk,ik->i", a, s, a))
    return float(np.max(a @ b + float(special.ndtri(1 - alpha)) * se))


def smoothness_bounds(
    betahat: np.ndarray,
    sigma: np.ndarray,
    num_pre_periods: int,
    num_post_periods: int,
    m: Sequence[float] | np.ndarray | None = None,
    l_vec: np.ndarray | Sequence[float] | None = None,
    alpha: float = 0.05,
    method: str = "FLCI",
    grid_points: int = 1000,
    grid_lb: float | None = None,
    grid_ub: float | None = None,
    rng: np.random.Generator | None = None,
    n_lf_draws: int = 1000,
    search: str = "grid",
) -> SensitivityResult:
    """Robust intervals for ``theta = l' tau_post`` under ``Delta^SD(M)`` for each ``M`` in ``m``.

    HonestDiD: ``createSensitivityResults(betahat, sigma, numPrePeriods,
    numPostPeriods, method, Mvec = m, l_vec, alpha)`` (``Delta = DeltaSD``).

    Parameters
    ----------
    m : sequence of float, optional
        Bounds ``M >= 0`` on the change of slope of the trend difference per
        period, in the outcome's unit (turnout: percentage points).  Default as
        HonestDiD: 10 values from 0 to :func:`smoothness_upper_bound_m` (with one
        pre period, to its standard error).
    method : {"FLCI", "Conditional", "C-LF"}
        Optimal fixed-length interval (HonestDiD's default), the ARP conditional
        test, or its least-favourable hybrid (needs ``rng``).
    grid_points, grid_lb, grid_ub
        The ``theta`` grid of the conditional tests (default: the identified
        set under ``delta_pre = 0`` ``+- 20 sd(l' beta_post)``, HonestDiD's).

    Other parameters are those of :func:`relative_magnitude_bounds`.
    """
    es = event_study_input(betahat, sigma, num_pre_periods, num_post_periods, l_vec)
    alpha = _check_alpha(alpha)
    _methods(method, ("FLCI", "Conditional", "C-LF"), rng, n_lf_draws)
    _check_search(search)
    if m is None:
        top = (
            math.sqrt(es.sigma[0, 0])
            if es.num_pre == 1
            else smoothness_upper_bound_m(es.betahat, es.sigma, es.num_pre, 0.05)
        )
        m = np.linspace(0, max(top, 0.0), 10)
    m = _check_grid(m, "m")
    lows, highs, open_lo, open_hi = [], [], [], []
    for value in m:
        if method == "FLCI":
            ci = flci(es.betahat, es.sigma, es.num_pre, es.num_post, float(value), es.l_vec, alpha)
            low, high, olo, ohi = ci.conf_low, ci.conf_high, False, False
        else:
            a, d = sd_constraints(es.num_pre, es.num_post, float(value))
            id_lb, id_ub = _identified_set_at_zero(a, d, es)
            grid = _theta_grid(grid_lb, grid_ub, id_lb - 20 * es.sd_theta, id_ub + 20 * es.sd_theta, grid_points)
            kappa = alpha / 10 if method == "C-LF" else None
            piece = _Piece(es, a, d, alpha, kappa, n_lf_draws, rng)
            seed = flci(es.betahat, es.sigma, es.num_pre, es.num_post, float(value), es.l_vec, alpha).estimate
            low, high, olo, ohi = _invert([piece], grid, search, seed)
        lows.append(low), highs.append(high), open_lo.append(olo), open_hi.append(ohi)
    return SensitivityResult(
        "smoothness",
        method,
        m,
        np.array(lows),
        np.array(highs),
        _original(es, alpha),
        alpha,
        es.l_vec,
        np.array(open_lo),
        np.array(open_hi),
    )


# --------------------------------------------------------------------------------------------------------------------
# FLCI


@dataclass(frozen=True)
class FLCI:
    """Optimal fixed-length interval under ``Delta^SD(M)``: ``v' betahat +- half_length``.

    ``weights`` is ``v`` (pre-period weights, then ``l_vec``), ``sd`` the
    estimator's standard error ``h`` and ``max_bias`` its worst-case bias ``b``
    (so ``half_length = h cv_alpha(b / h)``).
    """

    m: float
    estimate: float
    half_length: float
    weights: np.ndarray
    sd: float
    max_bias: float

    @property
    def conf_low(self) -> float:
        """Lower end."""
        return self.estimate - self.half_length

    @property
    def conf_high(self) -> float:
        """Upper end."""
        return self.estimate + self.half_length


def sd_bias_matrix(num_pre: int, num_post: int) -> tuple[np.ndarray, np.ndarray]:
    """``(B, t)``: the worst-case bias of ``v' betahat`` over ``Delta^SD(M)`` is ``M ||B v||_1`` when ``t' v = 0``.

    Every ``delta`` with ``delta_ref = 0`` is ``c t + G omega``, a linear
    trend of slope ``c`` (``t`` the event times, 1 for the first post
    period, -1 for the last pre period) plus the effect of its second
    differences ``omega`` (``|omega| <= M`` in ``Delta^SD(M)``).  So
    ``sup v' delta`` is finite iff ``t' v = 0``, and is then
    ``M sum_r |(G' v)_r|``; ``B = G'``.  (HonestDiD writes the same bias as
    ``M (constant + sum_k |w_1 + ... + w_k|)`` in its ``w`` coordinates.)
    """
    times = np.concatenate([np.arange(-num_pre, 0), np.arange(1, num_post + 1)]).astype(float)
    centres = np.arange(-num_pre + 1, num_post)  # second difference centred at s (reference period 0)
    g = np.zeros((len(times), len(centres)))
    for j, s in enumerate(centres):
        for i, t in enumerate(times):
            if s >= 1 and t > s:
                g[i, j] = t - s
            elif s <= 0 and t < s:
                g[i, j] = s - t
    return g.T, times


def flci(
    betahat: np.ndarray,
    sigma: np.ndarray,
    num_pre_periods: int,
    num_post_periods: int,
    m: float = 0.0,
    l_vec: np.ndarray | Sequence[float] | None = None,
    alpha: float = 0.05,
) -> FLCI:
    """Optimal FLCI for ``theta = l' tau_post`` under ``Delta^SD(m)`` (``HonestDiD::findOptimalFLCI``).

    Minimises ``h cv_alpha(b / h)`` over the pre-period weights ``w`` of
    ``v = (w, l)`` with ``t' v = 0`` (finite bias), ``b = m ||B v||_1`` and
    ``h = sqrt(v' sigma v)`` (see :func:`sd_bias_matrix`), a convex problem,
    as a smooth program in ``(w, u)`` with ``-u <= B v <= u``, solved by SLSQP
    from the minimum-variance and the minimum-bias estimators (the ends of
    HonestDiD's search).  ``cv_alpha`` is the exact folded-normal quantile.
    """
    es = event_study_input(betahat, sigma, num_pre_periods, num_post_periods, l_vec)
    alpha = _check_alpha(alpha)
    if not (np.isfinite(m) and m >= 0):
        raise SensitivityInputError(f"sensitivity: m must be a number >= 0, got {m!r}")
    bmat, times = sd_bias_matrix(es.num_pre, es.num_post)
    t_pre, t_post = times[: es.num_pre], times[es.num_pre :]
    rhs = -float(t_post @ es.l_vec)
    # w = w0 + N z spans {w : t_pre' w = rhs}
    w0 = t_pre * rhs / float(t_pre @ t_pre)
    null = np.linalg.svd(t_pre[None, :])[2][1:].T
    sig = es.sigma

    def vec(z: np.ndarray) -> np.ndarray:
        return np.concatenate([w0 + null @ z, es.l_vec])

    n_z = null.shape[1]
    # the minimum-variance estimator (closed form) and the minimum-bias one (all pre weight on the last pre period)
    if n_z:
        v0 = vec(np.zeros(n_z))
        nv = np.vstack([null, np.zeros((es.num_post, n_z))])
        z_var = np.linalg.solve(nv.T @ sig @ nv, -nv.T @ sig @ v0)
        w_bias = np.zeros(es.num_pre)
        w_bias[-1] = rhs / t_pre[-1]
        z_bias = np.linalg.lstsq(null, w_bias - w0, rcond=None)[0]
    else:
        z_var = z_bias = np.zeros(0)

    def parts(z: np.ndarray) -> tuple[float, float, np.ndarray]:
        v = vec(z)
        return float(np.sqrt(v @ sig @ v)), float(m * np.abs(bmat @ v).sum()), v

    def half(z: np.ndarray) -> float:
        h, b, _ = parts(z)
        return h * folded_normal_quantile(1 - alpha, b / h)

    best = z_var
    if n_z and m > 0:
        n_u = bmat.shape[0]
        bz, bc = bmat[:, : es.num_pre] @ null, bmat @ vec(np.zeros(n_z))  # B v = bz z + bc

        def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
            z, u = x[:n_z], x[n_z:]
            v = vec(z)
            h = float(np.sqrt(v @ sig @ v))
            t = m * u.sum() / h
            c = folded_normal_quantile(1 - alpha, t)
            slope = _folded_slope(c, t)
            dh = (null.T @ (sig @ v)[: es.num_pre]) / h
            grad = np.concatenate([(c - t * slope) * dh, np.full(n_u, slope * m)])
            return h * c, grad

        cons = [
            {
                "type": "ineq",
                "fun": lambda x: x[n_z:] - (bz @ x[:n_z] + bc),
                "jac": lambda x: np.hstack([-bz, np.eye(n_u)]),
            },
            {
                "type": "ineq",
                "fun": lambda x: x[n_z:] + (bz @ x[:n_z] + bc),
                "jac": lambda x: np.hstack([bz, np.eye(n_u)]),
            },
        ]
        scale = max(parts(z_var)[0], 1e-300)
        candidates = [z_var, z_bias]
        for start in (z_var, z_bias, (z_var + z_bias) / 2):
            x0 = np.concatenate([start, np.abs(bz @ start + bc) * (1 + 1e-12)])
            res = optimize.minimize(
                lambda x: tuple(part / scale for part in objective(x)),
                x0,
                jac=True,
                method="SLSQP",
                constraints=cons,
                options={"ftol": 1e-15, "maxiter": 1000},
            )
            candidates.append(res.x[:n_z])
        best = min(candidates, key=half)
    h, b, v = parts(best)
    return FLCI(float(m), float(v @ es.betahat), h * folded_normal_quantile(1 - alpha, b / h), v, h, b)
