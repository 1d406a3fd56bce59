"""The report section "Is input used?": adoption and time to decision of citizen proposals, before and after.

Built from ``uptake.csv`` and ``uptake_effects.csv`` only (see
:mod:`evaluation.uptake.programme`); values withheld there stay withheld.
Under the arena table and figure, the adopted share by topic and by proposer group, for
all arenas together, where ``uptake.csv`` has these breakdowns for the sample.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from evaluation.reporting.context import ReportContext
from evaluation.reporting.downloads import data_block
from evaluation.reporting.figures import PALETTE, figure_markdown
from evaluation.reporting.participation import arena_name
from evaluation.reporting.tables import markdown_table

ALL = "all"
PRIMARY = "permutation"
PERIODS = ("before", "after")
BREAKDOWNS = ("topic", "proposer_group")
"""The breakdowns ``uptake.csv`` may have (``group_variable``; ``evaluation.uptake.programme``), in report order."""


def uptake_section(ctx: ReportContext, sample: str) -> str:
    """Shares adopted and mentioned, days to decision, the pilots' effect (programme), adoption by topic and proposer."""
    t = ctx.t
    if not ctx.has("proposals"):
        return f"## {t('uptake_heading')}\n\n{t('uptake_missing')}\n"
    uptake = ctx.tables["uptake"]
    uptake = uptake[uptake["group_variable"] == ALL]
    code = ALL if sample == "programme" else str(sample)
    rows = uptake[(uptake["municipality_code"] == code) & (uptake["role"] == "pilot")]
    if rows.empty:
        return f"## {t('uptake_heading')}\n\n{t('participation_none_here')}\n"
    controls = uptake[(uptake["municipality_code"] == ALL) & (uptake["role"] == "control")]
    shown = pd.concat([rows, controls], ignore_index=True)
    wide = shown.pivot_table(
        index=["arena", "role"],
        columns="period",
        values=["adopted_share", "mentioned_share", "median_days", "n_decided"],
        aggfunc="first",
        sort=False,
    )
    wide = wide.sort_index(level=["arena", "role"], ascending=[True, False])  # all arenas first, pilots first

    def cells(value: str, scale: float = 100.0) -> dict[str, list[str]]:
        return {
            t(f"{value}_{period}"): [
                t.number(scale * v, 0) if pd.notna(v) else t("suppressed_mark") for v in wide[(value, period)]
            ]
            for period in PERIODS
        }

    who = {"pilot": t("pilot" if sample == "programme" else "this_pilot"), "control": t("control")}
    table = pd.DataFrame(
        {
            t("arena_and_group"): [
                f"{arena_name(t, a) if a != ALL else t('all_arenas')} · {who[r]}" for a, r in wide.index
            ],
            **cells("adopted_share"),
            **cells("mentioned_share"),
            **cells("median_days", 1.0),
            t("n_decided"): _decided_cases(t, wide),
        }
    )
    data = data_block(
        t,
        shown,
        f"uptake_{sample}",
        {"uptake.csv": ["adopted_share", "adopted_low", "adopted_high", "median_days", "mentioned_share", "n_decided"]},
    )
    where = t("where_programme") if sample == "programme" else ctx.pilot_name(sample)
    parts = [
        f"## {t('uptake_heading')}\n\n{t('uptake_intro')}\n",
        f"{markdown_table(table, 'lrrrrrrr')}\n: {t('uptake_table_cap', where=where)}\n\n{data}\n"
        f"{t('uptake_note', min_n=ctx.min_n)}\n",
    ]
    if sample == "programme":
        parts.append(_effect_sentences(ctx))
    parts.append(_share_figure(ctx, rows, controls, sample))
    parts.append(_breakdowns(ctx, code, sample))
    return "\n".join(parts)


def _effect_sentences(ctx: ReportContext) -> str:
    """The pilots' effect on the adopted and mentioned shares over all arenas (permutation inference)."""
    t = ctx.t
    effects = ctx.tables["uptake_effects"]
    rows = effects[(effects["arena"] == ALL) & (effects["inference"] == PRIMARY)]
    sentences = [
        t(
            f"uptake_effect_{row.estimand}",
            estimate=t.number(row.estimate, 1, signed=True),
            low=t.number(row.conf_low, 1),
            high=t.number(row.conf_high, 1),
            p=t.p_value(row.p_value),
            n_pilots=row.n_pilots,
            n_controls=row.n_controls,
        )
        for row in rows.itertuples()
    ]
    data = data_block(
        t,
        effects,
        "uptake_effects",
        {"uptake_effects.csv": ["estimate", "std_error", "conf_low", "conf_high", "p_value"]},
    )
    return " ".join(sentences) + "\n\n" + data if sentences else ""


def _share_figure(ctx: ReportContext, rows: pd.DataFrame, controls: pd.DataFrame, sample: str) -> str:
    """Adopted share before and after, the pilot(s) against the controls pooled, per arena and over all."""
    t = ctx.t
    arenas = list(dict.fromkeys(rows["arena"]))
    fig, ax = plt.subplots(figsize=(7, 3.2))
    width = 0.2
    x = np.arange(len(arenas))
    for offset, (frame, label, colour) in zip(
        (-1.5, -0.5, 0.5, 1.5),
        [
            (frame[frame["period"] == period], f"{who} · {t(f'period_{period}')}", colour)
            for frame, who, colours in (
                (rows, t("pilot" if sample == "programme" else "this_pilot"), (PALETTE["grey"], PALETTE["pilot"])),
                (controls, t("control"), ("#F5C978", PALETTE["control"])),
            )
            for period, colour in zip(PERIODS, colours)
        ],
    ):
        aligned = frame.set_index("arena").reindex(arenas)
        share = 100 * aligned["adopted_share"]
        ax.bar(x + offset * width, share, width, color=colour, label=label)
        ax.errorbar(
            x + offset * width,
            share,
            yerr=[share - 100 * aligned["adopted_low"], 100 * aligned["adopted_high"] - share],
            fmt="none",
            ecolor="black",
            elinewidth=0.8,
        )
    ax.set_xticks(x, [arena_name(t, a) if a != ALL else t("all_arenas") for a in arenas])
    ax.set_ylabel(t("adopted_share_axis"))
    ax.legend(fontsize=7, frameon=False, ncol=2)
    data = data_block(
        t,
        pd.concat([rows, controls], ignore_index=True),
        f"uptake_figure_{sample}",
        {"uptake.csv": ["adopted_share", "adopted_low", "adopted_high", "n_decided"]},
    )
    return figure_markdown(fig, t("uptake_fig_cap"), t("uptake_fig_alt"), t.number) + "\n" + data


def group_name(t, variable: str, group: str) -> str:
    """A topic's or proposer group's name in the report language, else as the data write it.

    The key in translations.yaml is ``<variable>_<group>`` with spaces as ``_`` (``proposer_group_lag_og_forening``).
    """
    key = f"{variable}_{group}".replace(" ", "_")
    return t(key) if key in t.words else group


def _breakdowns(ctx: ReportContext, code: str, sample: str) -> str:
    """The adopted share by topic and by proposer group over all arenas, the pilot(s) against the controls pooled.

    Empty when ``uptake.csv`` has no breakdown rows for ``code`` (the uptake
    stage writes them for the pooled cells only, so for the programme).
    """
    t = ctx.t
    uptake = ctx.tables["uptake"]
    pooled = uptake[uptake["arena"] == ALL]
    rows = pooled[(pooled["municipality_code"] == code) & (pooled["role"] == "pilot")]
    controls = pooled[(pooled["municipality_code"] == ALL) & (pooled["role"] == "control")]
    tables = [
        _breakdown_table(ctx, variable, rows, controls, sample)
        for variable in BREAKDOWNS
        if (rows["group_variable"] == variable).any()
    ]
    if not tables:
        return ""
    level = t.number(100 * ctx.level, 0)
    return (
        f"### {t('uptake_groups_heading')}\n\n{t('uptake_groups_intro', level=level)}\n\n"
        + "\n".join(tables)
        + f"\n{t('uptake_groups_note', min_n=ctx.min_n)}\n"
    )


def _breakdown_table(ctx: ReportContext, variable: str, rows: pd.DataFrame, controls: pd.DataFrame, sample: str) -> str:
    """One breakdown: a row per group (by its name) for the pilot(s) and the controls, adopted share and cases."""
    t = ctx.t
    shown = pd.concat([frame[frame["group_variable"] == variable] for frame in (rows, controls)], ignore_index=True)
    groups = sorted(dict.fromkeys(shown["group"]), key=lambda g: group_name(t, variable, g))  # as the reader reads them
    order = pd.MultiIndex.from_product([groups, ("pilot", "control")])
    values = ["adopted_share", "adopted_low", "adopted_high", "n_decided"]
    wide = (
        shown.set_index(["group", "role", "period"])[values]
        .unstack("period")
        .reindex(index=order, columns=pd.MultiIndex.from_product([values, PERIODS]))
    )
    who = {"pilot": t("pilot" if sample == "programme" else "this_pilot"), "control": t("control")}

    def shares(period: str) -> list[str]:
        return [
            f"{t.number(100 * v, 0)} ({t.number(100 * lo, 0)} {t('to_word')} {t.number(100 * hi, 0)})"
            if pd.notna(v)
            else t("suppressed_mark")
            for v, lo, hi in zip(
                wide[("adopted_share", period)], wide[("adopted_low", period)], wide[("adopted_high", period)]
            )
        ]

    table = pd.DataFrame(
        {
            t(f"uptake_{variable}_and_group"): [f"{group_name(t, variable, g)} · {who[r]}" for g, r in wide.index],
            t("uptake_groups_before"): shares("before"),
            t("uptake_groups_after"): shares("after"),
            t("uptake_groups_cases"): _decided_cases(t, wide),
        }
    )
    data = data_block(
        t,
        shown,
        f"uptake_{variable}_{sample}",
        {"uptake.csv": ["adopted_share", "adopted_low", "adopted_high", "n_decided"]},
    )
    where = t("where_programme") if sample == "programme" else ctx.pilot_name(sample)
    return f"{markdown_table(table, 'lrrr')}\n: {t(f'uptake_by_{variable}_cap', where=where)}\n\n{data}"


def _decided_cases(t, wide: pd.DataFrame) -> list[str]:
    """The decided cases before and after, ``before / after``, of every row of a table wide by period."""
    return [
        f"{t.number(b, 0)} / {t.number(a, 0)}"
        for b, a in zip(wide[("n_decided", "before")], wide[("n_decided", "after")])
    ]
