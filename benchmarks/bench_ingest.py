"""Benchmark of the register ingest: chunked codebook + aggregation vs bare ``pyreadstat.read_sav``.

Writes (once per ``--workdir``; seeded) an SPSS electoral-roll register of ROWS
voters: person id (text), voting district (text, 1,800 districts), voted (0/1),
birth year, gender, education (code 9 user-missing) and immigrant background.
Then, each in a fresh process so that peak memory (``ru_maxrss``) is its own:

``ours``
    ``evaluation.sources.register.aggregate_register`` with
    ``config/codebooks/register_valgmanntall.yaml``: chunked read of the six
    columns the codebook names, codebook harmonisation, area x group cells.
``bare``
    ``pyreadstat.read_sav(path, user_missing=True)`` of the whole file.
``bare-usecols``
    the same, reading only the six columns the codebook names.

Reports rows/s and peak resident memory (VmHWM) of each, and ours / bare time.
Target: ours within 1.2x of the bare read.

    python benchmarks/bench_ingest.py [--rows 4000000] [--workdir DIR] [--chunksize 500000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

REPO = Path(__file__).resolve().parent.parent
CODEBOOK = REPO / "config" / "codebooks" / "register_valgmanntall.yaml"
COLUMNS = ["stemmekrets", "stemt", "fodselsar", "kjonn", "utdanning", "innvandrer"]


def write_register(path: Path, rows: int, seed: int = 20240901) -> None:
    """A synthetic register of ``rows`` voters (seeded numpy Generator)."""
    rng = np.random.default_rng(seed)
    districts = np.array([f"{m:04d}{d:04d}" for m in range(101, 161) for d in range(1, 31)])
    frame = pd.DataFrame(
        {
            "lopenr": np.char.add("P", rng.integers(0, 10**9, rows).astype(str)),
            "stemmekrets": districts[rng.integers(0, len(districts), rows)],
            "stemt": rng.integers(0, 2, rows).astype(float),
            "fodselsar": rng.integers(1930, 2006, rows).astype(float),
            "kjonn": rng.integers(1, 3, rows).astype(float),
            "utdanning": rng.choice([1.0, 2.0, 3.0, 9.0], rows, p=[0.3, 0.4, 0.28, 0.02]),
            "innvandrer": rng.integers(0, 2, rows).astype(float),
        }
    )
    pyreadstat.write_sav(frame, str(path), missing_ranges={"utdanning": [9]})


def measure(which: str, path: Path, chunksize: int) -> dict[str, float]:
    """Run one case in this process; returns seconds, rows and peak RSS in MiB."""
    start = time.perf_counter()
    if which == "ours":
        sys.path.insert(0, str(REPO))
        from evaluation.sources.codebook import load_codebook
        from evaluation.sources.register import aggregate_register

        result = aggregate_register(path, load_codebook(CODEBOOK), chunksize=chunksize)
        rows = int(result.accounting["rows_read"].iloc[0])
    else:
        usecols = COLUMNS if which == "bare-usecols" else None
        data, _ = pyreadstat.read_sav(str(path), user_missing=True, usecols=usecols)
        rows = len(data)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": rows, "peak_mib": peak_memory_mib()}


def peak_memory_mib() -> float:
    """Peak resident memory of this process: VmHWM (reset by exec, unlike ru_maxrss, which a child
    inherits from the parent that forked it), else ru_maxrss."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(which: str, path: Path, chunksize: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", which, "--file", str(path), "--chunksize", str(chunksize)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4_000_000)
    parser.add_argument("--workdir", type=Path, help="folder to keep the generated file in (default: a temp dir)")
    parser.add_argument("--chunksize", type=int, default=500_000)
    parser.add_argument("--measure", choices=["ours", "bare", "bare-usecols"], help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.file, args.chunksize)))
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"register_{args.rows}.sav"
    if not path.exists():
        start = time.perf_counter()
        write_register(path, args.rows)
        print(f"wrote {path} ({path.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - start:.1f} s")
    results = {which: run_child(which, path, args.chunksize) for which in ("bare", "bare-usecols", "ours")}
    for which, r in results.items():
        print(
            f"{which:>13}: {r['seconds']:6.2f} s  {r['rows'] / r['seconds']:>10,.0f} rows/s  peak RSS {r['peak_mib']:,.0f} MiB"
        )
    ratio = results["ours"]["seconds"] / results["bare"]["seconds"]
    print(
        f"ours / bare read: {ratio:.2f}x (target <= 1.2x); ours / bare read of the same columns: "
        f"{results['ours']['seconds'] / results['bare-usecols']['seconds']:.2f}x"
    )


if __name__ == "__main__":
    main()
