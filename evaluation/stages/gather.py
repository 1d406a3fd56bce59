"""Stage ``compare-gather``: the comparison parts into one CSV per result table, plus the pilot register."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evaluation.comparison.programme import gather, pilot_register
from evaluation.outputs import write_csv


def run_gather(part_dirs: list[Path], areas_path: Path, out_dir: Path) -> None:
    """Job ``compare-gather``: the part folders (turnout first) into one CSV per result table, plus ``pilots.csv``."""
    parts = [{f.stem: pd.read_parquet(f) for f in sorted(Path(d).glob("*.parquet"))} for d in part_dirs]
    tables = gather(parts)
    tables["pilots"] = pilot_register(pd.read_parquet(areas_path))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        write_csv(table, out_dir / f"{name}.csv")
