"""Everything a report reads, loaded once: result tables, translations, provenance."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evaluation.reporting.i18n import Translator

RESULT_TABLES = (
    "estimates",
    "gaps",
    "effects",
    "event_study",
    "pilot_effects",
    "turnout_trends",
    "pilots",
    "placebo_size",
    "power",
    "weighting_summary",
    "data_quality",
)


@dataclass
class ReportContext:
    """Result tables and words for one report language."""

    t: Translator
    tables: dict[str, pd.DataFrame]
    provenance: dict
    min_n: int
    demo: bool
    headline_outcomes: tuple[str, ...] = ()  # survey outcomes in figures and group tables, in order
    gap_figures: tuple[tuple[str, str], ...] = ()  # (outcome, group variable) gap figures of the programme report

    @classmethod
    def load(
        cls, results: str, variables: str, lang: str, demo: str | bool, translations: str = "translations.yaml"
    ) -> ReportContext:
        """Read the result folder written by the pipeline (``data/processed/results``).

        The disclosure threshold is the one the run applied, as recorded in
        ``provenance.json`` (never a report parameter that could differ from it);
        so are the headline outcomes and gap figures (``report`` in the config).
        """
        folder = Path(results)
        tables = {
            name: pd.read_csv(
                folder / f"{name}.csv",
                dtype={"municipality_code": str, "sample": str, "group": str, "group_a": str, "group_b": str},
            )
            for name in RESULT_TABLES
        }
        provenance = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
        return cls(
            t=Translator.load(lang, Path(translations), Path(variables)),
            tables=tables,
            provenance=provenance,
            min_n=int(provenance["settings"]["disclosure_min_n"]),
            demo=str(demo).lower() == "true",
            headline_outcomes=tuple(provenance["settings"]["headline_outcomes"]),
            gap_figures=tuple(tuple(pair) for pair in provenance["settings"]["gap_figures"]),
        )

    def quality(self, section: str) -> pd.DataFrame:
        """One section of ``data_quality.csv`` (``rows``, ``quarantine``, ``checks``, ``nonresponse``, ``masked``)."""
        table = self.tables["data_quality"]
        return table[table["section"] == section]

    def accounting(self) -> pd.DataFrame:
        """Rows read, kept and quarantined per input file, one column per count."""
        rows = self.quality("rows")
        return rows.pivot(index="source", columns="item", values="count").reindex(rows["source"].unique())

    def pilot(self, code: str) -> pd.Series:
        """The register entry of one pilot municipality."""
        pilots = self.tables["pilots"].set_index("municipality_code")
        return pilots.loc[str(code)]
