"""Stage ``uptake``: is citizens' input used? Adoption and time to decision of proposals, pilots against controls."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from evaluation.outputs import write_csv_tables
from evaluation.uptake.programme import uptake_tables

log = logging.getLogger(__name__)


def uptake(proposals_path: Path, areas_path: Path, out_dir: Path, config_settings: dict[str, Any]) -> dict[str, Path]:
    """Run the stage: write ``uptake.csv`` and ``uptake_effects.csv`` to ``out_dir``."""
    proposals = pd.read_parquet(proposals_path)
    log.info("uptake: %d proposals", len(proposals))
    tables = uptake_tables(
        proposals,
        pd.read_parquet(areas_path),
        min_n=config_settings["min_n"],
        level=config_settings["level"],
        seed=config_settings["seed"],
        n_permutations=config_settings["n_permutations"],
    )
    return write_csv_tables(tables, Path(out_dir))
