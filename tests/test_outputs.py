"""Outputs are atomic: a failed or killed write leaves no complete-looking file, and an earlier file intact."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from evaluation.outputs import write_atomic, write_csv, write_parquet


def test_a_failing_write_leaves_the_previous_file_and_no_partial(tmp_path: Path) -> None:
    target = tmp_path / "results" / "estimates.csv"
    write_csv(pd.DataFrame({"estimate": [1.5]}), target)
    before = target.read_bytes()

    def half_then_fail(path: Path) -> None:
        path.write_text("estimate\n2.")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        write_atomic(target, half_then_fail)
    assert target.read_bytes() == before
    assert sorted(p.name for p in target.parent.iterdir()) == ["estimates.csv"]


def test_a_killed_stage_leaves_no_output(tmp_path: Path) -> None:
    """SIGKILL in the middle of writing a Parquet file: the target does not exist afterwards."""
    target = tmp_path / "survey.parquet"
    started = tmp_path / "started"
    script = f"""
import time
from pathlib import Path
import pandas as pd
from evaluation.outputs import write_atomic

def slow(path):
    pd.DataFrame({{"x": range(1000)}}).to_parquet(path)
    Path({str(started)!r}).touch()
    time.sleep(60)

write_atomic(Path({str(target)!r}), slow)
"""
    process = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 60
    while not started.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert started.exists(), "the writer did not start"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert not target.exists()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "started"]
    assert all(name.startswith(".") and name.endswith(".partial") for name in leftovers), leftovers


def test_write_parquet_round_trips(tmp_path: Path) -> None:
    table = pd.DataFrame({"area_code": ["0301", "1103"], "turnout": [0.7, 0.65]})
    pd.testing.assert_frame_equal(pd.read_parquet(write_parquet(table, tmp_path / "a" / "t.parquet")), table)
