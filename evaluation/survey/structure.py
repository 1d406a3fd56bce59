"""Build the sampling-stage structure of a design from data columns (as R ``svydesign``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from evaluation.errors import DesignError
from evaluation.survey.variance import LONELY_PSU_OPTIONS, Stage, group_scale

_CERTAIN = 1e-7  # R: a group with (N - n) / N below this is self-representing


def codes_of(values: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (sorted order of the labels) and the labels."""
    codes, labels = pd.factorize(values, sort=True)
    return codes.astype(np.int64), np.asarray(labels)


def _combine(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Codes of the pairs (first, second), 0 .. n_pairs - 1."""
    key = first * (int(second.max()) + 1) + second
    return codes_of(key)[0]


def group_range(group: np.ndarray, n_groups: int, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimum and maximum of ``values`` within each group."""
    low = np.full(n_groups, np.inf)
    high = np.full(n_groups, -np.inf)
    np.minimum.at(low, group, values)
    np.maximum.at(high, group, values)
    return low, high


def _require_columns(data: pd.DataFrame, columns: Sequence[str], role: str) -> None:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise DesignError(f"{role} column(s) {missing} not in the data (columns: {list(data.columns)[:20]}...)")
    for c in columns:
        if data[c].isna().any():
            raise DesignError(
                f"{role} column `{c}` has {int(data[c].isna().sum())} missing values; every respondent needs a value"
            )


def _population_sizes(
    fpc: np.ndarray, group: np.ndarray, n_in_group: np.ndarray, column: str, group_labels: np.ndarray
) -> np.ndarray:
    """Population units per group from an fpc column (population sizes, or fractions if all <= 1)."""
    value, high = group_range(group, len(n_in_group), fpc)
    varying = np.flatnonzero(value != high)
    if varying.size:
        raise DesignError(
            f"fpc column `{column}` varies within stratum/cluster "
            f"{group_labels[varying[0]]!r}; it must be constant there"
        )
    if np.any(value <= 0):
        raise DesignError(f"fpc column `{column}` has values <= 0")
    pop = n_in_group / value if np.all(value <= 1) else value
    too_small = np.flatnonzero(pop < n_in_group - 1e-9)
    if too_small.size:
        g = too_small[0]
        raise DesignError(
            f"fpc column `{column}` implies more than 100% sampling in "
            f"{group_labels[g]!r}: population {pop[g]:g} < sampled {n_in_group[g]}"
        )
    return pop


def _lonely(stage_no: int, lonely: np.ndarray, group_labels: np.ndarray, option: str) -> None:
    if option == "fail" and lonely.any():
        labels = [str(x) for x in group_labels[lonely][:5]]
        where = "stratum" if stage_no == 1 else "stage-1 cluster"
        raise DesignError(
            f"{where}(s) {labels} ha(s) only one sampled unit at stage {stage_no}; "
            "choose lonely_psu='remove', 'certainty', 'adjust' or 'average' "
            "(as R options(survey.lonely.psu=...))"
        )


def make_stage(
    unit: np.ndarray,
    group_of_row: np.ndarray,
    group_labels: np.ndarray,
    pop_size_col: tuple[str, np.ndarray] | None,
    prior_fraction: np.ndarray | None,
    lonely_psu: str,
    stage_no: int,
) -> tuple[Stage, np.ndarray]:
    """One stage: units nested in groups, scaled as R ``onestrat``.

    Parameters
    ----------
    unit : ndarray
        Unit code per row (0 .. n_units - 1).
    group_of_row : ndarray
        Group code per row (constant within unit).
    group_labels : ndarray
        Label of each group, for messages.
    pop_size_col : (name, values per row) or None
        fpc column of this stage.
    prior_fraction : ndarray or None
        Product of the sampling fractions of earlier stages, per group.
    lonely_psu : str
    stage_no : int

    Returns
    -------
    stage : Stage
    fraction : ndarray
        Sampling fraction ``n / N`` of each group (0 without fpc), for the next stage.
    """
    n_units = int(unit.max()) + 1
    group = np.zeros(n_units, dtype=np.int64)
    group[unit] = group_of_row
    n_groups = len(group_labels)
    n_in_group = np.bincount(group, minlength=n_groups)
    if pop_size_col is None:
        pop = np.full(n_groups, np.inf)
    else:
        pop = _population_sizes(pop_size_col[1], group_of_row, n_in_group, pop_size_col[0], group_labels)
    scale, factor = group_scale(n_in_group, pop)
    certain = factor < _CERTAIN
    scale[certain] = 0.0
    lonely = (n_in_group == 1) & ~certain
    _lonely(stage_no, lonely, group_labels, lonely_psu)
    centre = np.ones(n_groups, dtype=bool)
    if lonely_psu == "adjust":
        centre[lonely] = False
    else:
        scale[lonely] = 0.0
    averaged = None
    if lonely_psu == "average" and lonely.any():
        if stage_no == 1:
            averaged = lonely
        else:
            scale *= n_groups / (n_groups - lonely.sum())
    if prior_fraction is not None:
        scale = scale * prior_fraction
    fraction = np.where(np.isinf(pop), 0.0, n_in_group / pop)
    stage = Stage(
        unit=unit,
        group=group,
        n_in_group=n_in_group,
        root_scale=np.sqrt(scale[group]),
        centre=centre,
        fpc_factor=factor,
        averaged=averaged,
    )
    return stage, fraction


def build_stages(
    data: pd.DataFrame, strata: str | None, psu: Sequence[str], fpc: Sequence[str], nest: bool, lonely_psu: str
) -> list[Stage]:
    """All stages of the design.

    Without ``fpc`` at every stage only the first (ultimate-cluster) stage is used, as in R.
    """
    if lonely_psu not in LONELY_PSU_OPTIONS:
        raise DesignError(f"lonely_psu={lonely_psu!r}; use one of {LONELY_PSU_OPTIONS}")
    if fpc and len(fpc) != max(len(psu), 1):
        raise DesignError(
            f"fpc has {len(fpc)} column(s) for {max(len(psu), 1)} stage(s): give one "
            "fpc column per stage, or none (ultimate-cluster variance)"
        )
    _require_columns(data, [c for c in [strata, *psu, *fpc] if c], "design")
    n = len(data)
    if strata is None:
        stratum, strata_labels = np.zeros(n, dtype=np.int64), np.array(["(all)"])
    else:
        stratum, strata_labels = codes_of(data[strata])
    if not psu:
        psu_columns: list[np.ndarray] = [np.arange(n, dtype=np.int64)]
    else:
        psu_columns = [codes_of(data[c])[0] for c in psu]
    first = psu_columns[0]
    if nest:
        first = _combine(stratum, first)
    elif strata is not None:
        low, high = group_range(first, int(first.max()) + 1, stratum.astype(float))
        if (low != high).any():
            raise DesignError(
                f"PSU `{psu[0]}` value(s) occur in more than one stratum of `{strata}`; "
                "use nest=True if PSU labels are reused across strata"
            )
    if int(first.max()) + 1 == 1 and strata is None:
        raise DesignError("the design has only one primary sampling unit: no variance can be estimated")
    stage, fraction = make_stage(
        first,
        stratum,
        strata_labels,
        (fpc[0], data[fpc[0]].to_numpy(dtype=float)) if fpc else None,
        None,
        lonely_psu,
        1,
    )
    stages = [stage]
    if fpc and len(psu) > 1:
        unit = first
        prior = fraction
        for k in range(1, len(psu)):
            parent, parent_stage = unit, stages[-1]
            unit = _combine(parent, psu_columns[k])
            labels = np.arange(parent_stage.n_units)
            stage, fraction = make_stage(
                unit,
                parent,
                labels,
                (fpc[k], data[fpc[k]].to_numpy(dtype=float)),
                prior[parent_stage.group],
                lonely_psu,
                k + 1,
            )
            prior = prior[parent_stage.group] * fraction
            stages.append(stage)
    return stages
