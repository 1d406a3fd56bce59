"""Gaps between two groups (e.g. higher minus compulsory education) per wave and area type.

A gap is the difference of two domain means in the same wave and area type,
``mean(group_a) - mean(group_b)``, with the design covariance of the two means
included (:meth:`evaluation.survey.SurveyDesign.mean_differences`). The pairs come
from ``gaps:`` in ``config/variables.yaml``. Binary outcomes are in percentage
points, scales in scale points (as ``estimates.csv``).

An *adjusted* gap is the same difference net of the other group variables: the
coefficient of ``1[group = a]`` in the design-weighted linear regression on the
two groups' respondents with the other group variables as factors, one regression
per wave and area type (:meth:`evaluation.survey.SurveyDesign.adjusted_differences`,
R ``svyglm`` on the domain's subset). "Is the education gap in trust still there
net of age, gender and income?"
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from evaluation.estimation.disclosure import suppress_contrasts
from evaluation.survey import ReplicateDesign, SurveyDesign
from evaluation.variables import Outcome, Variables

GAP_COLUMNS = [
    "outcome",
    "family",
    "kind",
    "group_variable",
    "group_a",
    "group_b",
    "area_type",
    "wave",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "n",
    "suppressed",
]
AREA_TYPES = ("pilot", "control", "all")


ADJUSTED_GAP_COLUMNS = [*GAP_COLUMNS[:-2], "adjusted_for", "df", "n", "suppressed"]


def gap_estimates(
    design: SurveyDesign | ReplicateDesign, outcomes: dict[str, Outcome], gaps: dict[str, tuple[str, str]], level: float
) -> pd.DataFrame:
    """Gap of every outcome for every configured pair, by wave × area type (pilot, control, all).

    Parameters
    ----------
    design : SurveyDesign
        The all-waves design of :func:`evaluation.estimation.domains.survey_design` (columns
        ``wave``, ``area_type`` and ``all``).
    outcomes : dict
        Name -> :class:`evaluation.variables.Outcome` (``family``, ``kind``).
    gaps : dict
        Group variable -> ``[group_a, group_b]``; the gap is a minus b.
    level : float
        Confidence level of the t interval.

    Returns
    -------
    DataFrame
        One row per outcome × pair × area type × wave observed in both groups,
        columns of :data:`GAP_COLUMNS` except ``n`` and ``suppressed``.
    """

    def raw(outcome: str, by: list[str], variable: str, a: str, b: str) -> pd.DataFrame:
        return design.mean_differences(outcome, by, variable, a, b, level)

    return _gap_table(outcomes, gaps, raw, GAP_COLUMNS[:-2])


def adjusted_gap_estimates(
    design: SurveyDesign | ReplicateDesign,
    outcomes: dict[str, Outcome],
    gaps: dict[str, tuple[str, str]],
    group_variables: list[str],
    level: float,
) -> pd.DataFrame:
    """Gaps adjusted for the other ``group_variables`` the survey has (as :func:`gap_estimates` otherwise).

    Returns
    -------
    DataFrame
        Columns of :data:`ADJUSTED_GAP_COLUMNS` except ``n`` and ``suppressed``;
        ``adjusted_for`` names the covariates (joined by ``+``) and ``df`` is the
        regression's residual degrees of freedom.
    """

    def covariates(variable: str) -> list[str]:
        return [g for g in group_variables if g != variable and g in design.data.columns]

    def adjusted(outcome: str, by: list[str], variable: str, a: str, b: str) -> pd.DataFrame:
        table = design.adjusted_differences(outcome, by, variable, a, b, covariates(variable), level)
        return table.assign(adjusted_for="+".join(covariates(variable)))

    return _gap_table(outcomes, gaps, adjusted, ADJUSTED_GAP_COLUMNS[:-2])


def _gap_table(
    outcomes: dict[str, Outcome],
    gaps: dict[str, tuple[str, str]],
    difference: Callable[[str, list[str], str, str, str], pd.DataFrame],
    columns: list[str],
) -> pd.DataFrame:
    """``difference(outcome, by, group variable, a, b)`` for every pair × area type × outcome, one row per wave."""
    frames = []
    for group_variable, (group_a, group_b) in gaps.items():
        by_area = {}  # pilot and control come from one estimate by area_type
        for area_type in AREA_TYPES:
            area_column = "area_type" if area_type != "all" else "all"
            for outcome, spec in outcomes.items():
                if (area_column, outcome) not in by_area:
                    by_area[area_column, outcome] = difference(
                        outcome, ["wave", area_column], group_variable, group_a, group_b
                    )
                gap = by_area[area_column, outcome]
                gap = gap[gap[area_column] == area_type]
                scale = 100 if spec.kind == "binary" else 1
                frames.append(
                    pd.DataFrame(
                        {
                            "outcome": outcome,
                            "family": spec.family,
                            "kind": spec.kind,
                            "group_variable": group_variable,
                            "group_a": group_a,
                            "group_b": group_b,
                            "area_type": area_type,
                            "wave": gap["wave"].to_numpy(),
                            **{k: gap[k].to_numpy() * scale for k in ("estimate", "se", "ci_low", "ci_high")},
                            **{k: gap[k].to_numpy() for k in ("adjusted_for", "df") if k in columns},
                        }
                    )
                )
    rows = pd.concat(frames, ignore_index=True) if frames else []
    return pd.DataFrame(rows, columns=columns)


def published_gaps(
    design: SurveyDesign | ReplicateDesign, variables: Variables, estimates: pd.DataFrame, level: float
) -> pd.DataFrame:
    """Gap estimates, blanked wherever either group's estimate in ``estimates`` is suppressed.

    Parameters
    ----------
    estimates : DataFrame
        The disclosure-checked ``estimates.csv`` table.
    """
    gaps = gap_estimates(design, variables.outcomes, variables.gaps, level)
    return suppress_contrasts(gaps, estimates)[GAP_COLUMNS]


def published_adjusted_gaps(
    design: SurveyDesign | ReplicateDesign,
    variables: Variables,
    group_variables: list[str],
    estimates: pd.DataFrame,
    level: float,
) -> pd.DataFrame:
    """Adjusted gaps, blanked wherever either group's estimate in ``estimates`` is suppressed (as the raw gaps)."""
    gaps = adjusted_gap_estimates(design, variables.outcomes, variables.gaps, group_variables, level)
    return suppress_contrasts(gaps, estimates)[ADJUSTED_GAP_COLUMNS]
