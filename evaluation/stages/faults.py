"""Stage ``inject-faults`` (demo only, ``demo.inject_faults``): a few known faults in the ingested tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.demo.faults import inject_faults


def inject(ingested_dir: Path, seed: int) -> pd.DataFrame:
    """Run the stage: change a few rows of the ingested tables in place; returns what was changed."""
    return inject_faults(Path(ingested_dir), np.random.default_rng(seed))
