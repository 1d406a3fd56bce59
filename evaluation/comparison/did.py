"""One DiD problem and all of its inference methods.

A :class:`DidProblem` is a fixed-effects regression whose regressors are the
treatment indicator times fixed row multipliers (1 for the DiD, a
low-education indicator for the triple-difference interaction), together with
what the randomization test needs to re-draw the treatment: the exposure of
every row to every cohort and the sizes of the treated units (municipalities,
districts or areas).  :func:`infer` returns
the estimate of ``c'beta`` under each method.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from evaluation.comparison.inference import Inference, crv1, crv3, t_inference
from evaluation.comparison.influence import InfluenceDraws, treatment_draws, twfe_influence
from evaluation.comparison.randomization import CohortAssignment, SizeVarianceModel, StudentisedRandomizationTest
from evaluation.comparison.twfe import WithinFit, fit_within
from evaluation.comparison.wild_bootstrap import WildClusterBootstrap, webb_weights
from evaluation.comparison.within import WithinProjector

METHODS = ("crv1", "crv3", "wild_bootstrap_webb", "permutation")


@dataclass(frozen=True)
class DidProblem:
    """A DiD regression ``y ~ sum_m (D * multiplier_m) | unit + period``.

    Attributes
    ----------
    projector : WithinProjector
        Fixed effects and weights.
    y : np.ndarray
        Outcome.
    treatment : np.ndarray
        Observed treatment ``D`` (0/1, or a treated share for survey cells).
    multipliers : np.ndarray
        ``n x k`` row multipliers; column 0 is all ones.
    names : tuple[str, ...]
        Names of the ``k`` regressors.
    row_cluster : np.ndarray
        Unit index ``0..J-1`` per row (clusters and randomization units: the level
        at which treatment was assigned).
    exposure : np.ndarray
        ``n x C`` treatment of each row if its unit were in cohort ``c``.
    assignment : CohortAssignment
        Observed cohorts per unit.
    cluster_size : np.ndarray
        ``M_j`` per unit for the Ferman-Pinto variance model.
    """

    projector: WithinProjector
    y: np.ndarray
    treatment: np.ndarray
    multipliers: np.ndarray
    names: tuple[str, ...]
    row_cluster: np.ndarray
    exposure: np.ndarray
    assignment: CohortAssignment
    cluster_size: np.ndarray

    def fit(self) -> WithinFit:
        """Fit the observed model."""
        x = self.treatment[:, None] * self.multipliers
        return fit_within(self.projector, self.y, x, self.names, self.row_cluster)

    @property
    def n_treated_clusters(self) -> int:
        """Municipalities with at least one treated row."""
        return int(np.unique(self.row_cluster[self.treatment > 0]).size)

    def subset(self, keep: np.ndarray) -> DidProblem:
        """The same problem on the rows where ``keep`` is true (unit indices unchanged)."""
        return replace(
            self,
            projector=self.projector.subset(keep),
            y=self.y[keep],
            treatment=self.treatment[keep],
            multipliers=self.multipliers[keep],
            row_cluster=self.row_cluster[keep],
            exposure=self.exposure[keep],
        )

    def reweighted(self, cluster_weight: np.ndarray) -> DidProblem:
        """Rows of units with ``cluster_weight > 0``, regression weights multiplied by it (matched samples)."""
        sub = self.subset(cluster_weight[self.row_cluster] > 0)
        proj = sub.projector
        return replace(
            sub, projector=WithinProjector.build(proj.unit, proj.period, proj.weights * cluster_weight[sub.row_cluster])
        )

    def single(self) -> DidProblem:
        """The plain DiD (treatment dummy only) on the same rows."""
        return replace(self, multipliers=self.multipliers[:, :1], names=self.names[:1])

    def stratified(self, strata: np.ndarray) -> DidProblem:
        """The problem whose randomization test re-draws the treated units within each stratum (per unit)."""
        return replace(self, assignment=replace(self.assignment, strata=np.asarray(strata)))

    def with_assignment(self, cohorts: np.ndarray) -> DidProblem:
        """The problem with units re-assigned to ``cohorts`` (placebo pilots)."""
        treatment = treatment_draws(self.exposure, self.row_cluster, cohorts[None, :])[:, 0]
        return replace(self, treatment=treatment, assignment=replace(self.assignment, observed=cohorts))

    def influence(self, assignments: np.ndarray, contrast: np.ndarray) -> InfluenceDraws:
        """Influence vectors of ``c'beta`` under each assignment (``B x J`` cohorts)."""
        return twfe_influence(self.projector, self.exposure, self.row_cluster, self.multipliers, assignments, contrast)

    def permutation_test(
        self,
        fit: WithinFit,
        contrast: np.ndarray,
        n_draws: int,
        rng: np.random.Generator,
        pool: np.ndarray | None = None,
    ) -> StudentisedRandomizationTest:
        """Studentised randomization test of ``c'beta`` (Ferman-Pinto variance model).

        Draws assign the observed cohort counts among ``pool`` (default: the
        units that have rows in this problem).
        """
        if pool is None:
            pool = np.isin(np.arange(len(self.assignment.observed)), self.row_cluster)
        draws, exhaustive = self.assignment.draw(n_draws, rng, pool)
        influence = self.influence(draws, contrast)
        model = SizeVarianceModel(self.projector, self.row_cluster, self.cluster_size)
        return StudentisedRandomizationTest.from_fit(fit, contrast, influence, model, exhaustive)


def infer(
    problem: DidProblem,
    contrast: np.ndarray,
    *,
    n_permutations: int,
    n_bootstrap: int,
    level: float,
    rng: np.random.Generator,
    methods: tuple[str, ...] = METHODS,
    fit: WithinFit | None = None,
    intervals: bool = True,
) -> dict[str, Inference]:
    """Estimate ``c'beta`` with each requested inference method.

    With ``intervals=False`` the bootstrap and randomization intervals (test
    inversion, the costly part) are skipped and returned as NaN.

    Returns
    -------
    dict
        ``method -> Inference``; t intervals use ``G - 1`` degrees of freedom.
        CRV3 is NaN when leaving one cluster out loses identification.
    """
    fit = problem.fit() if fit is None else fit
    c = np.asarray(contrast, float)
    est = float(c @ fit.coef)
    df = fit.n_clusters - 1
    out: dict[str, Inference] = {}
    if "crv1" in methods:
        out["crv1"] = t_inference(est, float(c @ crv1(fit) @ c), df, level)
    if "crv3" in methods:
        out["crv3"] = t_inference(est, float(c @ crv3(fit) @ c), df, level)
    if "wild_bootstrap_webb" in methods:
        boot = WildClusterBootstrap(fit, c, webb_weights(n_bootstrap, fit.n_clusters, rng))
        out["wild_bootstrap_webb"] = (
            boot.inference(level) if intervals else Inference(est, boot.se, np.nan, np.nan, boot.p_value(0.0))
        )
    if "permutation" in methods:
        test = problem.permutation_test(fit, c, n_permutations, rng)
        out["permutation"] = (
            test.result(level).inference
            if intervals
            else Inference(est, test.model_se(0.0), np.nan, np.nan, test.p_value(0.0))
        )
    return out
