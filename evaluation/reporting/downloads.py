"""The numbers behind a figure or table: a CSV download link (HTML) and a source line (HTML and PDF).

The CSV is embedded in the self-contained HTML as a ``data:text/csv`` link,
so an analyst gets the aggregates a figure shows without the result folder.
The link is a raw HTML block, which Quarto and pandoc leave out of the PDF,
and which pandoc passes through without parsing the long URI as Markdown
(parsed as Markdown links, the URIs made pandoc three to four times slower).
It holds published values only: the frames come from the result tables the
pipeline wrote after disclosure control, and every value of a row marked
``suppressed`` is written empty here too, so a withheld number can never
reach the download.
"""

from __future__ import annotations

import base64
import html

import pandas as pd

from evaluation.errors import RenderError

#: Columns of a row that identify it (kept in a suppressed row); all others are values and are emptied.
KEY_COLUMNS = frozenset(
    {
        "outcome",
        "family",
        "kind",
        "estimand",
        "method",
        "inference",
        "sample",
        "role",
        "group_variable",
        "group",
        "group_a",
        "group_b",
        "area_type",
        "municipality_code",
        "wave",
        "election_index",
        "election_type",
        "election_year",
        "election_date",
        "rel_time",
        "suppressed",
    }
)


def published(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the values of rows marked ``suppressed`` emptied (their keys kept)."""
    if "suppressed" not in frame:
        return frame
    hidden = frame["suppressed"].fillna(False).astype(bool)
    values = [c for c in frame.columns if c not in KEY_COLUMNS]
    out = frame.astype({c: object for c in values}).copy()
    out.loc[hidden, values] = None
    return out


def csv_data_uri(frame: pd.DataFrame) -> str:
    """The published rows of ``frame`` as a base64 ``data:text/csv`` URI (UTF-8, empty cells for missing values).

    Counts stored as floats because a column has missing values (``n``) are
    written as whole numbers (``145``, not ``145.0``).
    """
    out = published(frame)
    for column in out.columns:
        values = pd.to_numeric(out[column], errors="coerce") if out[column].dtype == object else out[column]
        present = values.dropna()
        if pd.api.types.is_float_dtype(values) and len(present) == out[column].notna().sum() and len(present):
            if (present == present.round()).all():
                out[column] = values.astype("Int64")
    text = out.to_csv(index=False, lineterminator="\n")
    return "data:text/csv;charset=utf-8;base64," + base64.b64encode(text.encode("utf-8")).decode("ascii")


def data_block(t, frame: pd.DataFrame, name: str, sources: dict[str, list[str]]) -> str:
    """Markdown under a figure or table: the CSV download (HTML only) and the result files and columns it shows.

    Parameters
    ----------
    t : Translator
        Words of the report language.
    frame : DataFrame
        The aggregates the figure or table shows, as in the result tables.
    name : str
        File name of the download, without ``.csv``.
    sources : dict
        Result file name -> the columns of it the figure or table shows.

    Raises
    ------
    RenderError
        If a named source column is neither in ``frame`` nor derived (a wrong
        source line would send the reader to the wrong numbers).
    """
    missing = [c for columns in sources.values() for c in columns if c not in frame.columns]
    if missing:
        raise RenderError(f"data of {name}.csv: columns {', '.join(missing)} named as sources are not in the table")
    files = "; ".join(f"`{file}` ({', '.join(f'`{c}`' for c in columns)})" for file, columns in sources.items())
    link = (
        f'<p><a href="{csv_data_uri(frame)}" download="{html.escape(name)}.csv" class="data-download">'
        f"{html.escape(t('download_csv'))}</a></p>"
    )
    return f"::: {{.data-source}}\n{t('data_source', files=files)}\n:::\n\n```{{=html}}\n{link}\n```\n"
