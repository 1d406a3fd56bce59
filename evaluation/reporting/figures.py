"""Figures for reports, in a colour-blind-safe palette (Okabe–Ito)."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FixedFormatter, FixedLocator, MaxNLocator

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
FIGURE_DPI = 120  # sharp on screen and in print at the 7-inch figure width, and fast to encode
PALETTE = {"pilot": "#0072B2", "control": "#E69F00", "this": "#0072B2", "grey": "#999999"}
plt.rcParams.update(
    {
        "figure.figsize": (7, 3.6),
        "figure.dpi": 110,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "font.size": 10,
    }
)


def series_with_intervals(ax, frame: pd.DataFrame, x: str, label: str, colour: str, marker: str = "o") -> None:
    """Draw a line with points and 95 % interval bars (``estimate``, ``ci_low``, ``ci_high``).

    ``x`` is whole numbers (waves, years, elections relative to the start), so are its ticks.
    """
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    frame = frame.sort_values(x)
    ax.plot(frame[x], frame["estimate"], marker=marker, color=colour, label=label)
    if {"ci_low", "ci_high"} <= set(frame.columns):
        ax.vlines(frame[x], frame["ci_low"], frame["ci_high"], color=colour, alpha=0.6)


def event_study_plot(frame: pd.DataFrame, xlabel: str, ylabel: str):
    """Event-study coefficients with intervals; the reference period sits at zero."""
    fig, ax = plt.subplots()
    ax.axhline(0, color=PALETTE["grey"], linewidth=0.8)
    ax.axvline(-0.5, color=PALETTE["grey"], linewidth=0.8, linestyle=":")
    series_with_intervals(ax, frame, "rel_time", "", PALETTE["pilot"])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return fig


def gap_plot(series: list[tuple[pd.DataFrame, str, str, str]], xlabel: str, ylabel: str):
    """Gaps between two groups over waves, one line per area type, with 95 % interval bars.

    ``series`` holds ``(frame, label, colour, marker)``; each frame has ``wave``,
    ``estimate``, ``ci_low`` and ``ci_high``.
    """
    fig, ax = plt.subplots()
    ax.axhline(0, color=PALETTE["grey"], linewidth=0.8)
    for offset, (frame, label, colour, marker) in zip((-0.08, 0.08), series):
        series_with_intervals(ax, frame.assign(wave=frame["wave"] + offset), "wave", label, colour, marker)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8, frameon=False)
    return fig


def stacked_bars(shares: pd.DataFrame, xlabel: str):
    """Horizontal bars of ``shares`` (rows: bars, columns: up to eight stacked parts)."""
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(shares) + 1.2))
    left = pd.Series(0.0, index=shares.index)
    for colour, column in zip(OKABE_ITO[: len(shares.columns)], shares.columns, strict=True):
        ax.barh(shares.index, shares[column], left=left, color=colour, label=column)
        left += shares[column]
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.legend(
        fontsize=8,
        frameon=False,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.6 / len(shares) - 0.12),
        ncol=len(shares.columns),
    )
    return fig


def localise_ticks(fig, number: Callable[[float, int], str]) -> None:
    """Write non-integer tick labels with the report locale's decimal mark (``0,25``).

    Integer ticks (waves, years, per cent) keep matplotlib's labels, so a year
    never gets a thousands separator.
    """
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            ticks = axis.get_majorticklocs()
            if np.allclose(ticks, np.round(ticks)):
                continue
            decimals = next(d for d in range(1, 7) if np.allclose(ticks, np.round(ticks, d)))
            axis.set_major_locator(FixedLocator(ticks))
            axis.set_major_formatter(FixedFormatter([number(float(v), decimals) for v in ticks]))


def figure_markdown(fig, caption: str, alt: str, number: Callable[[float, int], str]) -> str:
    """The figure as a Markdown image with caption and alt text, the PNG embedded as a data URI.

    Captions and alt text depend on the report language and the data, which Quarto's
    static ``fig-cap`` cell option cannot express; a Markdown image works in Quarto and
    in the built-in renderer alike. ``number`` formats tick labels for the locale
    (:meth:`evaluation.reporting.i18n.Translator.number`).
    """
    localise_ticks(fig, number)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
    plt.close(fig)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    safe_alt = alt.replace('"', "'")
    return f'![{caption}](data:image/png;base64,{encoded}){{fig-alt="{safe_alt}"}}\n'
