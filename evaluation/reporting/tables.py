"""Markdown tables for reports (pipe tables render in both HTML and PDF)."""

from __future__ import annotations

import pandas as pd

_ALIGNMENTS = {"l": "left", "r": "right", "c": "center"}
WIDE_COLUMN = 24  # characters: a column of longer cells wraps instead of squeezing the others
WORD_ROOM = 3  # characters beside a column's longest word (the cell's inset)


def markdown_table(frame: pd.DataFrame, align: str | None = None) -> str:
    """A pandoc pipe table (``DataFrame.to_markdown``, tabulate); ``align`` is one letter per column (l, r, c).

    Cells are written as given (no number parsing: they are formatted for the
    locale already) with ``|`` escaped. Pandoc takes the dashes of the
    separator line as relative column widths when a row is long (the PDF's
    column widths): each column gets as many as its widest cell, at most
    :data:`WIDE_COLUMN`, and at least its longest word plus :data:`WORD_ROOM`,
    so that a long text column wraps and no header word overflows its column.
    """
    cells = frame.astype(str).map(lambda v: v.replace("|", "\\|"))
    align = align or "l" + "r" * (len(frame.columns) - 1)
    colalign = [_ALIGNMENTS[letter] for letter in align]
    lines = cells.to_markdown(index=False, tablefmt="pipe", colalign=colalign, disable_numparse=True).split("\n")
    if len(frame.columns):  # a frame without columns is an empty text
        separators = (_separator(cells[column], column, letter) for column, letter in zip(cells, align))
        lines[1] = "|" + "|".join(separators) + "|"
    return "\n".join(lines) + "\n"


def _separator(values: pd.Series, header: object, letter: str) -> str:
    """One column's part of the separator line: its alignment colons and relative width in dashes."""
    texts = [str(header), *values]
    widest = max(len(text) for text in texts)
    longest_word = max(len(word) for text in texts for word in text.split(" "))  # a no-break space does not break
    dashes = max(min(widest, WIDE_COLUMN), longest_word + WORD_ROOM)
    left, right = (":" if letter in "lc" else "-"), (":" if letter in "rc" else "-")
    return left + "-" * dashes + right
