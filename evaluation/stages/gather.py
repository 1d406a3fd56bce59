"""Stage ``compare-gather``: the comparison parts into one CSV per result table, plus the pilot register."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evaluation.comparison.programme import gather
from evaluation.outputs import write_csv
from evaluation.units import unit_register


def run_gather(part_dirs: list[Path], areas_path: Path, out_dir: Path, treated_unit: str) -> None:
    """Job ``compare-gather``: the part folders (turnout first) into one CSV per result table, plus ``pilots.csv``.

    ``pilots.csv`` has one row per treated unit (``design.treated_unit``); the pilot reports are written per row.
    """
    parts = [{f.stem: pd.read_parquet(f) for f in sorted(Path(d).glob("*.parquet"))} for d in part_dirs]
    tables = gather(parts)
    tables["pilots"] = unit_register(pd.read_parquet(areas_path), treated_unit)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        write_csv(table, out_dir / f"{name}.csv")
