"""Markdown tables for reports (pipe tables render in both HTML and PDF)."""

from __future__ import annotations

import pandas as pd


def markdown_table(frame: pd.DataFrame, align: str | None = None) -> str:
    """A pandoc pipe table; ``align`` is one letter per column (l, r, c)."""
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    marks = {"l": ":---", "r": "---:", "c": ":---:"}
    align = align or "l" + "r" * (len(frame.columns) - 1)
    rule = "| " + " | ".join(marks[a] for a in align) + " |"
    body = ["| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body]) + "\n"
