"""Collapsing raking cells that are empty or too small, before a wave is raked.

A cell of a raking margin with fewer than ``min_respondents`` respondents in a wave
(an empty one included) makes raking fail or gives a few respondents huge
weights. Such a cell is merged with a neighbour: the cell of the same margin that
shares every dimension but the last (``female, 18-29`` with ``female, 30-44``) and
has the most respondents, or else the margin's largest cell. Merging repeats,
smallest group first, until every group is large enough or one is left. The
population totals of merged cells add up. Collapsed margins are raked through a
column of group labels, which the weighted survey keeps (``raking_cell_<k>``) so
that calibration-aware variances use the same cells.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pandas as pd

COLUMN = "raking_cell_{k}"
SEPARATOR = " + "  # joins a cell's values, and merged cells, into one label


@dataclass(frozen=True)
class CollapsedMargins:
    """The margins of one wave after collapsing.

    Attributes
    ----------
    margins : list of Series
        The margins to rake to: unchanged ones as given, collapsed ones indexed by
        their label column (``raking_cell_<k>``).
    columns : dict of str to Series
        The label column of each collapsed margin, aligned with the wave's rows
        (missing where a dimension of the margin is missing).
    merges : list of str
        One line per merged cell, for the weighting summary.
    """

    margins: list[pd.Series]
    columns: dict[str, pd.Series]
    merges: list[str]


def collapse_small_cells(wave: pd.DataFrame, margins: list[pd.Series], min_respondents: int) -> CollapsedMargins:
    """Merge the cells of each margin that have fewer than ``min_respondents`` respondents in ``wave``.

    Parameters
    ----------
    wave : DataFrame
        One wave's respondents with the margins' columns.
    margins : list of Series
        Population totals per cell (index names are the columns), as
        :func:`evaluation.survey.margins.population_margins` gives them.
    min_respondents : int
        The smallest cell kept as it is; 0 collapses nothing.
    """
    dims_all = sorted({name for m in margins for name in m.index.names})
    complete = wave[dims_all].notna().all(axis=1)
    out_margins, columns, merges = [], {}, []
    for k, margin in enumerate(margins):
        dims = list(margin.index.names)
        cells = [cell if isinstance(cell, tuple) else (cell,) for cell in margin.index]
        values = wave.loc[complete, dims].astype(str)
        keys = list(zip(*(values[dim].tolist() for dim in dims)))  # each complete row's cell, as a tuple of labels
        counts = Counter(keys)
        groups = _merge([tuple(str(v) for v in cell) for cell in cells], counts, min_respondents, dims, merges)
        if all(len(members) == 1 for members in groups.values()):
            out_margins.append(margin)
            continue
        name = COLUMN.format(k=k)
        label_of = {cell: label for label, members in groups.items() for cell in members}
        labels = pd.Series(pd.NA, index=wave.index, dtype=object)
        # a sample cell without a population total keeps its own label, so that raking still names it
        labels[complete] = [label_of.get(cell, SEPARATOR.join(cell)) for cell in keys]
        totals = pd.Series(margin.to_numpy(), index=[tuple(str(v) for v in cell) for cell in cells])
        collapsed = totals.groupby(totals.index.map(label_of)).sum()
        collapsed.index.name = name
        out_margins.append(collapsed.astype(float).rename(margin.name))
        columns[name] = labels
    return CollapsedMargins(out_margins, columns, merges)


def _merge(
    cells: list[tuple[str, ...]],
    counts: dict[tuple[str, ...], int],
    minimum: int,
    dims: list[str],
    merges: list[str],
) -> dict[str, list[tuple[str, ...]]]:
    """Groups of cells (label -> cells) after merging every small group into its neighbour."""
    groups = {SEPARATOR.join(cell): [cell] for cell in cells}
    size = {label: counts.get(members[0], 0) for label, members in groups.items()}
    while len(groups) > 1:
        small = [label for label in groups if size[label] < minimum]
        if not small:
            break
        label = min(small, key=lambda g: (size[g], g))
        lead = groups[label][0][:-1]
        others = [g for g in groups if g != label]
        siblings = [g for g in others if groups[g][0][:-1] == lead] if len(dims) > 1 else others
        target = max(siblings or others, key=lambda g: (size[g], g))
        merged = f"{target}{SEPARATOR}{label}"
        merges.append(f"{' x '.join(dims)}: {label} ({size[label]} respondents) merged with {target} ({size[target]})")
        groups[merged] = groups.pop(target) + groups.pop(label)
        size[merged] = size.pop(target) + size.pop(label)
    return groups


def raking_columns(margins: list[list[str]], columns: pd.Index) -> list[list[str]]:
    """The columns of each raking margin in a weighted survey: its own, or the merged cells (``raking_cell_<k>``)."""
    return [[COLUMN.format(k=k)] if COLUMN.format(k=k) in columns else list(dims) for k, dims in enumerate(margins)]


def cell_labels(data: pd.DataFrame, dims: list[str]) -> pd.Series:
    """Each row's uncollapsed cell of a margin over ``dims`` as a label, missing where a dimension is missing."""
    complete = data[dims].notna().all(axis=1)
    labels = pd.Series(pd.NA, index=data.index, dtype=object)
    labels[complete] = data.loc[complete, dims].astype(str).agg(SEPARATOR.join, axis=1)
    return labels
