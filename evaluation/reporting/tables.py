"""Markdown tables for reports (pipe tables render in both HTML and PDF)."""

from __future__ import annotations

import pandas as pd


def markdown_table(frame: pd.DataFrame, align: str | None = None) -> str:
    """A pandoc pipe table; ``align`` is one letter per column (l, r, c).

    The dashes of the separator line are proportional to each column's widest
    cell, which pandoc uses as relative column widths when a row is long.
    """
    cells = frame.astype(str).map(lambda v: v.replace("|", "\\|"))
    widths = [max([len(str(c)), *cells[c].str.len()]) for c in frame.columns]
    marks = {"l": ":{}", "r": "{}:", "c": ":{}:"}
    align = align or "l" + "r" * (len(frame.columns) - 1)
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "| " + " | ".join(marks[a].format("-" * max(3, w)) for a, w in zip(align, widths)) + " |"
    body = ["| " + " | ".join(row) + " |" for row in cells.itertuples(index=False)]
    return "\n".join([header, rule, *body]) + "\n"
