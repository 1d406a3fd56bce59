"""Stage ``represent``: who takes part in the participation arenas, against the population."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluation.errors import InputFileError
from evaluation.outputs import write_csv_tables
from evaluation.representation.programme import representation_tables
from evaluation.variables import load_variables

log = logging.getLogger(__name__)


def represent(
    participants_path: Path, areas_path: Path, margins_path: Path, out_dir: Path, config_settings: dict[str, Any]
) -> dict[str, Path]:
    """Run the stage: write ``representation.csv`` and ``representation_change.csv`` to ``out_dir``.

    The group variables are the canonical ones (``variables.yaml``) that both the
    participants and the population margins have.

    Raises
    ------
    InputFileError
        When the participants and the margins share no group variable.
    """
    participants = pd.read_parquet(participants_path)
    margins = pd.read_csv(margins_path, dtype={"municipality_code": str}, keep_default_na=False, na_values=[""])
    declared = load_variables(Path(config_settings["variables"])).group_variables
    groups = [name for name in declared if name in participants and name in margins]
    if not groups:
        raise InputFileError(
            f"{participants_path} and {margins_path} share no group variable of {', '.join(declared)}; "
            "representation needs the same categories on both sides"
        )
    log.info("represent: %d participants, group variables %s", len(participants), ", ".join(groups))
    tables = representation_tables(
        participants,
        margins,
        pd.read_parquet(areas_path),
        groups,
        min_n=config_settings["min_n"],
        level=config_settings["level"],
        rng=np.random.default_rng([config_settings["seed"], 17]),
    )
    return write_csv_tables(tables, Path(out_dir))
