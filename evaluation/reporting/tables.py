"""Markdown tables for reports (pipe tables render in both HTML and PDF)."""

from __future__ import annotations

import pandas as pd

_ALIGNMENTS = {"l": "left", "r": "right", "c": "center"}


def markdown_table(frame: pd.DataFrame, align: str | None = None) -> str:
    """A pandoc pipe table (``DataFrame.to_markdown``, tabulate); ``align`` is one letter per column (l, r, c).

    Cells are written as given (no number parsing: they are formatted for the
    locale already) with ``|`` escaped. The columns are padded to their widest
    cell, so the dashes of the separator line, which pandoc uses as relative
    column widths when a row is long, are proportional to each column's width.
    """
    cells = frame.astype(str).map(lambda v: v.replace("|", "\\|"))
    align = align or "l" + "r" * (len(frame.columns) - 1)
    colalign = [_ALIGNMENTS[letter] for letter in align]
    return cells.to_markdown(index=False, tablefmt="pipe", colalign=colalign, disable_numparse=True) + "\n"
