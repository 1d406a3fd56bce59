"""Refresh, in ``snapshot/*.parquet``, only the columns that the Callaway-Sant'Anna share influence changed.

Issue 15, item 3: the aggregated Callaway-Sant'Anna standard errors now include
the influence of the estimated cohort shares (R ``did::aggte``'s ``wif``;
checked against csdid in ``test_cs_aggregation.py``).  That changes, and only
changes, the interval columns of the Callaway-Sant'Anna rows: in ``effects``
the ``influence_function`` rows' ``se``, ``ci_low``, ``ci_high``, ``p_value``;
in ``event_study`` the ``callaway_santanna`` rows' ``se``, ``ci_low``,
``ci_high``, ``pretrend_p_value``, ``pretrend_f``.  Every other value of the
first release's snapshot is kept as it was.  Run once from the repository root:

    .venv/bin/python tests/comparison/reference/update_snapshot_cs.py
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from simulate import first_release_tables  # noqa: E402

CHANGED = {
    "effects": (
        ["estimand", "outcome", "sample", "method", "inference"],
        lambda d: d["method"].str.startswith("callaway_santanna") & (d["inference"] == "influence_function"),
        ["se", "ci_low", "ci_high", "p_value"],
    ),
    "event_study": (
        ["outcome", "sample", "method", "rel_time"],
        lambda d: d["method"] == "callaway_santanna",
        ["se", "ci_low", "ci_high", "pretrend_p_value", "pretrend_f"],
    ),
}

if __name__ == "__main__":
    result = first_release_tables()
    for name, (keys, rows, columns) in CHANGED.items():
        path = HERE / "snapshot" / f"{name}.parquet"
        old = pd.read_parquet(path)
        new = old[keys].merge(result[name], on=keys, how="left")
        mask = rows(old).to_numpy()
        for col in columns:
            print(
                f"{name}.{col}: {int(mask.sum())} rows, max |change| {np.nanmax(np.abs(new[col] - old[col])[mask]):.6g}"
            )
            old.loc[mask, col] = new.loc[mask, col].to_numpy()
        old.to_parquet(path, index=False)
