"""Everything a report reads, loaded once: result tables, translations, provenance."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evaluation.reporting.i18n import Translator

RESULT_TABLES = ("effects", "event_study", "pilot_effects", "pilots", "data_quality")
"""Tables every run writes."""
SOURCE_TABLES = {
    "survey": ("estimates", "gaps", "adjusted_gaps", "weighting_summary"),
    "turnout": ("turnout_trends", "placebo_size", "power", "balance", "sensitivity"),
    "participants": ("representation", "representation_change"),
    "proposals": ("uptake", "uptake_effects", "themes", "theme_counts", "theme_quotes"),
}
"""Tables a run writes only when it has the source (``tables`` in the provenance settings)."""


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
        provenance = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
        sources = provenance["settings"]["tables"]
        names = [*RESULT_TABLES, *(name for source in sources for name in SOURCE_TABLES.get(source, ()))]
        tables = {
            name: pd.read_csv(
                folder / f"{name}.csv",
                dtype={
                    "municipality_code": str,
                    "unit_code": str,
                    "sample": str,
                    "group": str,
                    "group_a": str,
                    "group_b": str,
                },
            )
            for name in names
        }
        pilots = tables["pilots"]
        below_municipality = "treated_unit" in pilots and pilots["treated_unit"].ne("municipality").any()
        return cls(
            t=Translator.load(lang, Path(translations), Path(variables), bool(below_municipality)),
            tables=tables,
            provenance=provenance,
            min_n=int(provenance["settings"]["disclosure_min_n"]),
            demo=str(demo).lower() == "true",
            headline_outcomes=tuple(provenance["settings"]["headline_outcomes"]),
            gap_figures=tuple(tuple(pair) for pair in provenance["settings"]["gap_figures"]),
        )

    @property
    def level(self) -> float:
        """The interval level the run used (``estimation.level``, from ``provenance.json``)."""
        return float(self.provenance["settings"]["level"])

    def has(self, source: str) -> bool:
        """Whether the run had the source (``survey`` or ``turnout``), i.e. its result tables are loaded."""
        return all(name in self.tables for name in SOURCE_TABLES[source])

    def quality(self, section: str) -> pd.DataFrame:
        """One section of ``data_quality.csv`` (``rows``, ``quarantine``, ``checks``, ``nonresponse``, ``masked``)."""
        table = self.tables["data_quality"]
        return table[table["section"] == section]

    def accounting(self) -> pd.DataFrame:
        """Rows read, kept and quarantined per input file, one column per count."""
        rows = self.quality("rows")
        return rows.pivot(index="source", columns="item", values="count").reindex(rows["source"].unique())

    def pilot(self, code: str) -> pd.Series:
        """The register entry of one treated unit (``pilots.csv``: a pilot municipality, district or area)."""
        pilots = self.tables["pilots"].set_index("unit_code")
        return pilots.loc[str(code)]

    def pilot_name(self, code: str) -> str:
        """A treated unit's name as a reader knows it: the municipality, or the area with its municipality."""
        pilot = self.pilot(code)
        if pilot["unit_name"] == pilot["municipality_name"]:
            return str(pilot["municipality_name"])
        return f"{pilot['unit_name']} ({pilot['municipality_name']})"
