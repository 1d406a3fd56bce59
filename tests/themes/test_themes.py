"""Themes of proposal texts: scrubbing by rules, agreement with the demo's known themes, no identity in any output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from evaluation.demo.proposals import PLANTED, simulate_proposals
from evaluation.themes.programme import theme_tables
from evaluation.themes.scrub import scrub

MUNIS = pd.DataFrame({"municipality_code": ["9101", "9102", "9103", "9104"], "pilot_start": ["2019-08-01", "", "", ""]})
AREAS = pd.DataFrame(
    {
        "municipality_code": MUNIS["municipality_code"],
        "role": ["pilot", "control", "control", "control"],
        "pilot_start": pd.to_datetime(["2019-08-01", None, None, None]),
    }
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Ny skolevei. Hilsen Kari Nordmann, Storgata 12", "Ny skolevei. Hilsen [navn], [adresse]"),
        ("Kontakt ola.hansen@example.no eller +47 98765432.", "Kontakt [e-post] eller [telefon]."),
        ("Ring 912 34 567 eller 070-123 45 67", "Ring [telefon] eller [telefon]"),
        ("Bor i Kyrkvägen 3 B sedan 2019.", "Bor i [adresse] sedan 2019."),
        ("Skolen i Lyngvåg trenger 12 nye pulter i 2024.", "Skolen i Lyngvåg trenger 12 nye pulter i 2024."),
    ],
)
def test_scrub_removes_identities_and_keeps_the_rest(text, expected):
    assert scrub(text) == expected


@pytest.fixture(scope="module")
def demo():
    frame, truth = simulate_proposals(11, MUNIS)
    records = frame.rename(columns={"kommune": "municipality_code", "tekst": "text", "tema": "topic"}).assign(
        submitted_date=lambda f: pd.to_datetime(f["innsendt"], format="%d.%m.%Y")
    )
    return records, truth


def test_themes_agree_with_the_known_topics(demo):
    records, _ = demo
    tables = theme_tables(records, AREAS, n_themes=5, min_n=20, seed=3)
    themes = tables["themes"]
    assert len(themes) == 5 and themes["n_texts"].sum() == len(records)
    # every known topic's vocabulary dominates one theme (the demo's themes are separable; real texts are harder)
    from evaluation.themes.grouping import group_texts

    grouped = group_texts(records["text"].map(scrub), 5, 3)
    assert adjusted_rand_score(records["topic"], grouped.theme) > 0.9


def test_no_planted_identity_reaches_a_theme_word_or_quote(demo):
    records, _ = demo
    assert records["text"].str.contains("Hilsen").any()  # the demo does plant them
    tables = theme_tables(records, AREAS, n_themes=5, min_n=20, seed=3)
    published = " ".join(tables["themes"]["words"]) + " " + " ".join(tables["theme_quotes"]["quote"])
    planted = [value for values in PLANTED.values() for value in values]
    assert not [value for value in planted if value in published]
    assert not [part for value in PLANTED["names"] for part in value.split() if part.lower() in published.lower()]


def test_small_cells_are_withheld_and_quotes_come_from_large_ones(demo):
    records, _ = demo
    tables = theme_tables(records, AREAS, n_themes=5, min_n=80, seed=3)
    counts = tables["theme_counts"]
    assert counts["suppressed"].any() and counts.loc[counts["suppressed"], "count"].isna().all()
    assert (counts.loc[~counts["suppressed"], "count"] >= 80).all()
    from evaluation.themes.grouping import group_texts

    theme = group_texts(records["text"].map(scrub), 5, 3).theme + 1
    sizes = records.assign(theme=theme).groupby(["arena", "theme"]).size()
    quotes = tables["theme_quotes"]
    assert len(quotes) and all(sizes[(a, th)] >= 80 for a, th in zip(quotes["arena"], quotes["theme"]))


def test_records_without_texts_give_empty_tables(demo):
    records, _ = demo
    tables = theme_tables(records.drop(columns="text"), AREAS, n_themes=5, min_n=20, seed=3)
    assert all(table.empty for table in tables.values())
    assert np.array_equal(
        tables["theme_counts"].columns, ["arena", "role", "period", "theme", "count", "share", "suppressed"]
    )
