"""Stage ``themes``: what citizens' proposals are about, grouped into themes, with scrubbed example quotes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from evaluation.outputs import write_csv_tables
from evaluation.themes.programme import theme_tables


def themes(proposals_path: Path, areas_path: Path, out_dir: Path, config_settings: dict[str, Any]) -> dict[str, Path]:
    """Run the stage: write ``themes.csv``, ``theme_counts.csv`` and ``theme_quotes.csv`` to ``out_dir``."""
    tables = theme_tables(
        pd.read_parquet(proposals_path),
        pd.read_parquet(areas_path),
        n_themes=config_settings["n_themes"],
        min_n=config_settings["min_n"],
        seed=config_settings["seed"],
    )
    return write_csv_tables(tables, Path(out_dir))
