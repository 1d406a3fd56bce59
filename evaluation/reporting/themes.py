"""The report section "What is input about?": themes of the proposals, pilots against controls, with quotes.

Built from ``themes.csv``, ``theme_counts.csv`` and ``theme_quotes.csv`` only
(see :mod:`evaluation.themes.programme`): the texts were scrubbed and the
small cells withheld before they were written.
"""

from __future__ import annotations

import pandas as pd

from evaluation.reporting.context import ReportContext
from evaluation.reporting.downloads import data_block
from evaluation.reporting.tables import markdown_table

ALL = "all"
COLUMNS = (("pilot", "before"), ("pilot", "after"), ("control", "before"), ("control", "after"))


def themes_section(ctx: ReportContext) -> str:
    """The themes' words and their shares of the texts, pilots and controls before and after, and one quote each."""
    t = ctx.t
    if not ctx.has("proposals"):
        return ""  # the uptake section has said that there were no proposals
    themes = ctx.tables["themes"]
    if themes.empty:
        return f"## {t('themes_heading')}\n\n{t('themes_missing')}\n"
    counts = ctx.tables["theme_counts"]
    counts = counts[counts["arena"] == ALL].set_index(["role", "period", "theme"])["share"]
    quotes = ctx.tables["theme_quotes"].drop_duplicates("theme").set_index("theme")["quote"]
    table = pd.DataFrame(
        {
            t("theme"): [f"{n}: {w}" for n, w in zip(themes["theme"], themes["words"])],
            **{
                t(f"themes_{role}_{period}"): [_share(t, counts.get((role, period, n))) for n in themes["theme"]]
                for role, period in COLUMNS
            },
        }
    )
    lines = "\n".join(f"- {n}: «{quotes[n]}»" for n in themes["theme"] if n in quotes.index)
    data = data_block(
        t,
        ctx.tables["theme_counts"],
        "theme_counts",
        {"theme_counts.csv": ["arena", "role", "period", "theme", "share"]},
    )
    return (
        f"## {t('themes_heading')}\n\n{t('themes_intro', n=len(themes))}\n\n"
        f"{markdown_table(table, 'lrrrr')}\n: {t('themes_table_cap')}\n\n{data}\n"
        f"{t('themes_quotes_intro', min_n=ctx.min_n)}\n\n{lines}\n"
    )


def _share(t, value) -> str:
    return t.number(100 * value, 0) if value is not None and pd.notna(value) else t("suppressed_mark")
