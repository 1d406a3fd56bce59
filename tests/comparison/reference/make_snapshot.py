"""Write ``snapshot/*.parquet``: the ``compare`` tables of the first release on the test panel.

Produced with the code before the speed work (commit of issue 6, first
helper) and kept so that ``test_compare.py::test_same_results_as_before_the_speed_work``
shows that the faster code gives the same tables for the same seed.  Rerun
only when a result is meant to change:

    .venv/bin/python tests/comparison/reference/make_snapshot.py
"""

import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from simulate import first_release_tables  # noqa: E402

TABLES = ("effects", "event_study", "pilot_effects", "turnout_trends", "placebo_size", "power")

if __name__ == "__main__":
    result = first_release_tables()
    (HERE / "snapshot").mkdir(exist_ok=True)
    for name in TABLES:
        result[name].to_parquet(HERE / "snapshot" / f"{name}.parquet", index=False)
