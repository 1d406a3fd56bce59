"""The report section "Who takes part?": participants of each arena against the population, before and after.

Built from ``representation.csv`` and ``representation_change.csv`` only (see
:mod:`evaluation.representation.programme`); values withheld there stay withheld.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from evaluation.reporting.context import ReportContext
from evaluation.reporting.downloads import data_block
from evaluation.reporting.figures import PALETTE, figure_markdown
from evaluation.reporting.tables import markdown_table

ALL = "all"


def arena_name(t, arena: str) -> str:
    """An arena's name in the report language (``arena_<name>`` in translations.yaml), else as the data write it."""
    key = f"arena_{arena}"
    return t(key) if key in t.words else arena


def participation_section(ctx: ReportContext, sample: str) -> str:
    """Dissimilarity of the participants before and after the start, and representation ratios after it.

    ``sample`` is ``programme`` (the pilots pooled, against the controls pooled) or a
    pilot municipality's code.
    """
    t = ctx.t
    if not ctx.has("participants"):
        return f"## {t('participation_heading')}\n\n{t('participation_missing')}\n"
    change = ctx.tables["representation_change"]
    code = ALL if sample == "programme" else str(sample)
    rows = change[(change["municipality_code"] == code) & (change["role"] == "pilot")]
    if rows.empty:
        return f"## {t('participation_heading')}\n\n{t('participation_none_here')}\n"
    controls = change[(change["municipality_code"] == ALL) & (change["role"] == "control")]
    reference = controls.set_index(["arena", "group_variable"])["change"]
    table = pd.DataFrame(
        {
            t("arena_and_group"): [
                f"{arena_name(t, a)} · {t.group_variable(v)}" for a, v in zip(rows["arena"], rows["group_variable"])
            ],
            t("dissimilarity_before"): [_share(t, v) for v in rows["dissimilarity_before"]],
            t("dissimilarity_after"): [_share(t, v) for v in rows["dissimilarity_after"]],
            t("dissimilarity_change"): [
                f"{_points(t, e, signed=True)} ({_points(t, lo)} {t('to_word')} {_points(t, hi)})"
                for e, lo, hi in zip(rows["change"], rows["ci_low"], rows["ci_high"])
            ],
            t("dissimilarity_change_controls"): [
                _points(t, reference.get((a, v), np.nan), signed=True)
                for a, v in zip(rows["arena"], rows["group_variable"])
            ],
            t("n_participants"): [
                f"{t.number(b, 0)} / {t.number(a, 0)}" for b, a in zip(rows["n_before"], rows["n_after"])
            ],
        }
    )
    data = data_block(
        t,
        pd.concat([rows, controls], ignore_index=True),
        f"participation_{sample}",
        {"representation_change.csv": ["dissimilarity_before", "dissimilarity_after", "change", "ci_low", "ci_high"]},
    )
    where = t("where_programme") if sample == "programme" else ctx.pilot_name(sample)
    return (
        f"## {t('participation_heading')}\n\n{t('participation_intro')}\n\n"
        f"{markdown_table(table, 'lrrrrr')}\n: {t('participation_table_cap', where=where)}\n\n{data}\n"
        f"{t('participation_note', min_n=ctx.min_n)}\n\n{_ratio_figure(ctx, code)}"
    )


def _share(t, value: float) -> str:
    """A dissimilarity index (a share) as per cent."""
    return t.number(100 * value, 1) if pd.notna(value) else t("suppressed_mark")


def _points(t, value: float, signed: bool = False) -> str:
    return t.number(100 * value, 1, signed=signed) if pd.notna(value) else t("suppressed_mark")


def _ratio_figure(ctx: ReportContext, code: str) -> str:
    """Representation ratios after the start by category, the pilot(s) against the controls pooled."""
    t = ctx.t
    ratios = ctx.tables["representation"]
    after = ratios[(ratios["period"] == "after") & ~ratios["suppressed"].astype(bool)]
    pilot = after[(after["municipality_code"] == code) & (after["role"] == "pilot")]
    control = after[(after["municipality_code"] == ALL) & (after["role"] == "control")]
    if pilot.empty:
        return ""
    keys = ["arena", "group_variable", "group"]
    order = pilot[keys].drop_duplicates()
    labels = [
        f"{arena_name(t, a)} · {t.group_variable(v)}: {t.group(v, g)}" for a, v, g in order.itertuples(index=False)
    ]
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(order) + 1.4))
    ax.axvline(1, color=PALETTE["grey"], linewidth=0.8)
    y = np.arange(len(order))
    for offset, (frame, label, colour, marker) in zip(
        (-0.15, 0.15),
        (
            (pilot, t("pilot" if code == ALL else "this_pilot"), PALETTE["pilot"], "o"),
            (control, t("control"), PALETTE["control"], "s"),
        ),
    ):
        aligned = order.merge(frame, on=keys, how="left")
        ax.errorbar(
            aligned["ratio"],
            y + offset,
            xerr=[aligned["ratio"] - aligned["ratio_low"], aligned["ratio_high"] - aligned["ratio"]],
            fmt=marker,
            color=colour,
            label=label,
            markersize=4,
            elinewidth=1,
        )
    ax.set_yticks(y, labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(t("representation_ratio_axis"))
    ax.legend(fontsize=8, frameon=False)
    shown = pd.concat([pilot, control], ignore_index=True)
    data = data_block(
        t,
        shown,
        f"representation_{code}",
        {"representation.csv": ["participant_share", "population_share", "ratio", "ratio_low", "ratio_high"]},
    )
    return (
        figure_markdown(fig, t("representation_fig_cap", min_n=ctx.min_n), t("representation_fig_alt"), t.number)
        + "\n"
        + data
    )
