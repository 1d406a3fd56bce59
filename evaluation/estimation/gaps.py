"""Gaps between two groups (e.g. higher minus compulsory education) per wave and area type.

A gap is the difference of two domain means in the same wave and area type,
``mean(group_a) - mean(group_b)``, with the design covariance of the two means
included (:meth:`evaluation.survey.SurveyDesign.mean_differences`). The pairs come
from ``gaps:`` in ``config/variables.yaml``. Binary outcomes are in percentage
points, scales in scale points (as ``estimates.csv``).
"""

from __future__ import annotations

import pandas as pd

from evaluation.estimation.disclosure import suppress_contrasts
from evaluation.survey import SurveyDesign
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


def gap_estimates(
    design: SurveyDesign, outcomes: dict[str, Outcome], gaps: dict[str, tuple[str, str]], level: float
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
    frames = []
    for group_variable, (group_a, group_b) in gaps.items():
        by_area = {}  # pilot and control come from one estimate by area_type
        for area_type in AREA_TYPES:
            area_column = "area_type" if area_type != "all" else "all"
            for outcome, spec in outcomes.items():
                if (area_column, outcome) not in by_area:
                    by_area[area_column, outcome] = design.mean_differences(
                        outcome, ["wave", area_column], group_variable, group_a, group_b, level
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
                        }
                    )
                )
    rows = pd.concat(frames, ignore_index=True) if frames else []
    return pd.DataFrame(rows, columns=GAP_COLUMNS[:-2])


def published_gaps(design: SurveyDesign, variables: Variables, estimates: pd.DataFrame, level: float) -> pd.DataFrame:
    """Gap estimates, blanked wherever either group's estimate in ``estimates`` is suppressed.

    Parameters
    ----------
    estimates : DataFrame
        The disclosure-checked ``estimates.csv`` table.
    """
    gaps = gap_estimates(design, variables.outcomes, variables.gaps, level)
    return suppress_contrasts(gaps, estimates)[GAP_COLUMNS]
