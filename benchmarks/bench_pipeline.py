"""Wall time of the demo pipeline: a cold run and a no-op rerun, in a fresh copy of the workflow.

Run: ``python benchmarks/bench_pipeline.py [--cores 2] [--keep]``. Targets (issue 2):
cold demo run <= 60 s and no-op rerun <= 3 s on 2 cores.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORKFLOW_FILES = ("Snakefile", "rules", "envs", "config", "reports")


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{result.stderr[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ld-bench-"))
    for name in WORKFLOW_FILES:
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, folder / name)
    snakemake = [sys.executable, "-m", "snakemake", "--cores", str(args.cores)]
    cold = timed(snakemake, folder)
    noop = timed(snakemake, folder)
    print(f"| run | wall time (s) |\n| --- | --- |\n| cold demo run | {cold:.1f} |\n| no-op rerun | {noop:.1f} |")
    print(f"workflow folder: {folder}" if args.keep else "")
    if not args.keep:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
