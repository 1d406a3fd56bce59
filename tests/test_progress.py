"""Progress lines: long stages log a count and the elapsed time, so that a log file shows where a run is."""

from __future__ import annotations

import logging
import re

from evaluation.progress import Stopwatch, progress


def test_progress_logs_each_item_with_its_count_and_the_time(caplog):
    log = logging.getLogger("evaluation.test")
    with caplog.at_level(logging.INFO, logger="evaluation.test"):
        assert list(progress(["a", "b", "c"], "estimate: group variable", log)) == ["a", "b", "c"]
        Stopwatch("compare turnout", log).step("placebo size")
    lines = [record.getMessage() for record in caplog.records]
    assert [re.sub(r"\d+\.\d s", "T", line) for line in lines] == [
        "estimate: group variable 1/3 (a), T",
        "estimate: group variable 2/3 (b), T",
        "estimate: group variable 3/3 (c), T",
        "estimate: group variable: all 3 done in T",
        "compare turnout: placebo size, T",
    ]
