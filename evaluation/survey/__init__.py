"""Design-based estimation for complex survey samples (modelled on R ``survey``).

Public API
----------
SurveyDesign
    Design object (strata, clusters, fpc, weights) with ``mean``, ``total``,
    ``ratio``, ``proportion`` (``ci_method="likelihood"`` among others), ``var``,
    ``quantile``, ``ttest``, ``chisq`` (Rao-Scott), ``mean_vcov``,
    ``contrast_means`` and ``subset`` (R ``subset()`` domains); domain
    intervals use the domain's degrees of freedom.
rake, poststratify
    Calibrate the weights of a design to population margins.
calibrate
    Linear (GREG), raking and logit calibration to totals of a formula's model matrix (R ``calibrate``).
trim_weights
    Trim weights and spread the excess (R ``trimWeights``).
weight_summary
    Kish effective sample size and design effect of a set of weights.
capped_cell_weights
    Cell weights capped and rescaled (Norwegian Citizen Panel style).
ReplicateDesign, jackknife, bootstrap, brr
    Replicate-weight variance estimation (jackknife, Rao-Wu bootstrap, BRR and Fay, or supplied weights).
svyglm
    Generalised linear models from an R-style formula (factors, interactions;
    gaussian, quasibinomial, quasipoisson) with design-based standard errors
    and R's residual degrees of freedom; also on replicate designs.
term_test
    Wald test of model terms (R ``regTermTest``).
"""

from evaluation.survey.calibration import calibrate
from evaluation.survey.design import SurveyDesign
from evaluation.survey.regression import SurveyGLMResult, svyglm
from evaluation.survey.replicates import ReplicateDesign, bootstrap, brr, jackknife
from evaluation.survey.term_tests import term_test
from evaluation.survey.trimming import trim_weights
from evaluation.survey.weighting import capped_cell_weights, poststratify, rake, weight_summary

__all__ = [
    "ReplicateDesign",
    "SurveyDesign",
    "SurveyGLMResult",
    "bootstrap",
    "brr",
    "calibrate",
    "capped_cell_weights",
    "jackknife",
    "poststratify",
    "rake",
    "svyglm",
    "term_test",
    "trim_weights",
    "weight_summary",
]
