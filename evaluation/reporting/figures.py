"""Figures for reports, in a colour-blind-safe palette (Okabe–Ito)."""

from __future__ import annotations

import base64
import io

import matplotlib.pyplot as plt
import pandas as pd

PALETTE = {"pilot": "#0072B2", "control": "#E69F00", "this": "#D55E00", "grey": "#999999"}
plt.rcParams.update({"figure.figsize": (7, 3.6), "figure.dpi": 110, "axes.spines.top": False, "axes.spines.right": False, "font.size": 10})


def series_with_intervals(ax, frame: pd.DataFrame, x: str, label: str, colour: str, marker: str = "o") -> None:
    """Draw a line with points and 95 % interval bars (``estimate``, ``ci_low``, ``ci_high``)."""
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


def figure_markdown(fig, caption: str, alt: str) -> str:
    """The figure as a Markdown image with caption and alt text, the PNG embedded as a data URI.

    Captions and alt text depend on the report language and the data, which Quarto's
    static ``fig-cap`` cell option cannot express; a Markdown image works in Quarto and
    in the built-in renderer alike.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=150, bbox_inches="tight")
    plt.close(fig)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    safe_alt = alt.replace('"', "'")
    return f'![{caption}](data:image/png;base64,{encoded}){{fig-alt="{safe_alt}"}}\n'
