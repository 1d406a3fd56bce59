"""The theme tables of a programme: what the proposals are about, by arena, pilot or control and period.

Texts are scrubbed first (:mod:`.scrub`), so no name, number or address can
become a theme word or a quote, then grouped (:mod:`.grouping`). Counts of a
cell (arena or ``all`` arenas, role, period, theme) below ``min_n`` are withheld, and quotes
come only from themes with at least ``min_n`` texts in the arena, two per
theme and arena, drawn with the seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.themes.grouping import group_texts
from evaluation.themes.scrub import MARKS, scrub
from evaluation.units import municipal_periods

QUOTES_PER_THEME = 2
ALL = "all"
CELL = ["arena", "role", "period"]


def theme_tables(
    proposals: pd.DataFrame, areas: pd.DataFrame, *, n_themes: int, min_n: int, seed: int
) -> dict[str, pd.DataFrame]:
    """``themes`` (theme, words, n_texts), ``theme_counts`` and ``theme_quotes``.

    Records without texts (no ``text`` column, or fewer texts than themes) give
    empty tables: the report then says there were no texts to group.
    """
    if "text" not in proposals or proposals["text"].notna().sum() < n_themes:
        return {
            "themes": pd.DataFrame(columns=["theme", "words", "n_texts"]),
            "theme_counts": pd.DataFrame(columns=[*CELL, "theme", "count", "share", "suppressed"]),
            "theme_quotes": pd.DataFrame(columns=["arena", "theme", "quote"]),
        }
    records = municipal_periods(proposals[proposals["text"].notna()], areas, "submitted_date", "proposals")
    texts = records["text"].astype(str).map(scrub)
    grouped = group_texts(texts, n_themes, seed)
    records = records.assign(theme=grouped.theme + 1, quote=texts)  # themes numbered from 1
    records = records[records["theme"] > 0]
    themes = pd.DataFrame(
        {
            "theme": np.arange(1, n_themes + 1),
            "words": [", ".join(w for w in words if w not in _marker_words()) for words in grouped.words],
            "n_texts": records.groupby("theme").size().reindex(np.arange(1, n_themes + 1), fill_value=0).to_numpy(),
        }
    )
    every = pd.concat([records, records.assign(arena=ALL)], ignore_index=True)
    counts = every.groupby([*CELL, "theme"], as_index=False).size().rename(columns={"size": "count"})
    counts["share"] = counts["count"] / counts.groupby(CELL)["count"].transform("sum")
    counts["suppressed"] = counts["count"] < min_n
    counts[["count", "share"]] = counts[["count", "share"]].astype(float).mask(counts["suppressed"])
    rng = np.random.default_rng([seed, 19])
    quotes = []
    for (arena, theme), cell in records.groupby(["arena", "theme"]):
        if len(cell) >= min_n:
            picked = cell.iloc[rng.choice(len(cell), min(QUOTES_PER_THEME, len(cell)), replace=False)]
            quotes += [{"arena": arena, "theme": theme, "quote": q} for q in picked["quote"]]
    return {
        "themes": themes,
        "theme_counts": counts,
        "theme_quotes": pd.DataFrame(quotes, columns=["arena", "theme", "quote"]),
    }


def _marker_words() -> set[str]:
    return {mark.strip("[]") for mark in MARKS.values()}
