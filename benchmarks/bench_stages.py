"""Wall time and peak memory of every pipeline stage, from Snakemake's ``benchmark:`` files.

Copies the workflow to a temporary folder (as ``tests/workflow/test_pipeline.py`` does),
sets ``demo.scale``, runs the whole workflow, then a no-op rerun, and prints one
table: per job the wall time (s), max RSS (MB) and CPU time (s) Snakemake
recorded in ``logs/benchmarks/*.tsv``, plus the total wall time, the peak RSS
of the whole process tree (all jobs running at once, sampled every 0.5 s), the
no-op rerun time and the machine's load average (the machine may be shared).

Run::

    python benchmarks/bench_stages.py --scale demo
    python benchmarks/bench_stages.py --scale national --keep

Targets (issue 8, national scale, 2 cores): whole run < 15 min, peak < 8 GiB,
no-op rerun < 5 s. The table is also written to
``benchmarks/results/stages_<scale>.csv`` (git-ignored).
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import yaml

REPO = Path(__file__).resolve().parent.parent
WORKFLOW_FILES = ("Snakefile", "rules", "envs", "config", "reports", "profiles")
TARGETS = {"national": {"total_s": 15 * 60, "peak_mb": 8 * 1024, "noop_s": 5.0}}


class TreeMemory(threading.Thread):
    """Peak summed RSS (MB) of a process and all its descendants, sampled every ``interval`` seconds."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak_mb, self.stop = pid, interval, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                root = psutil.Process(self.pid)
                total = 0
                for proc in [root, *root.children(recursive=True)]:
                    try:
                        total += proc.memory_info().rss
                    except psutil.Error:
                        pass
                self.peak_mb = max(self.peak_mb, total / 2**20)
            except psutil.Error:
                return
            self.stop.wait(self.interval)


def copy_workflow(folder: Path, scale: str, overrides: dict) -> None:
    """The workflow files in ``folder`` with ``demo.scale`` (and any overrides) set in its config."""
    for name in WORKFLOW_FILES:
        source = REPO / name
        if source.exists():
            (shutil.copytree if source.is_dir() else shutil.copy)(
                source,
                folder / name,
                **({"ignore": shutil.ignore_patterns("_output"), "dirs_exist_ok": True} if source.is_dir() else {}),
            )
    path = folder / "config" / "config.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["demo"]["scale"] = scale
    for section, values in overrides.items():
        config[section].update(values)
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")


def run(command: list[str], cwd: Path, log: Path) -> tuple[float, float]:
    """Run ``command``; return (wall time in s, peak RSS of its process tree in MB). Exit on failure."""
    start = time.perf_counter()
    with log.open("w") as handle:
        process = subprocess.Popen(command, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT)
        sampler = TreeMemory(process.pid)
        sampler.start()
        returncode = process.wait()
        sampler.stop.set()
    elapsed = time.perf_counter() - start
    if returncode != 0:
        sys.exit(f"failed ({returncode}): {' '.join(command)}\n{log.read_text()[-4000:]}")
    return elapsed, sampler.peak_mb


def read_benchmarks(folder: Path) -> list[dict]:
    """One row per benchmark TSV (job): name, wall s, max RSS MB, CPU s, mean load."""
    rows = []
    for path in sorted(folder.glob("*.tsv")):
        with path.open() as handle:
            record = next(csv.DictReader(handle, delimiter="\t"))

        def number(key: str, record: dict = record) -> float:
            try:
                return float(record.get(key, "nan"))
            except ValueError:  # "NA" when a job was too short to sample
                return float("nan")

        rows.append(
            {
                "job": path.stem,
                "wall_s": number("s"),
                "max_rss_mb": number("max_rss"),
                "cpu_s": number("cpu_time"),
                "mean_load": number("mean_load"),
            }
        )
    return sorted(rows, key=lambda r: -r["wall_s"])


def table(rows: list[dict], summary: list[tuple[str, str]]) -> str:
    lines = ["| job | wall time (s) | max RSS (MB) | CPU time (s) |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| {r['job']} | {r['wall_s']:.1f} | {r['max_rss_mb']:.0f} | {r['cpu_s']:.1f} |" for r in rows]
    lines += [f"| **{name}** | {value} | | |" for name, value in summary]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("demo", "national"), default="demo")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--folder", type=Path, help="run in this folder (created; default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the workflow folder")
    parser.add_argument("--permutations", type=int, help="compare.n_permutations and n_bootstrap (default: config)")
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix=f"ld-bench-{args.scale}-"))
    folder.mkdir(parents=True, exist_ok=True)
    overrides = (
        {"compare": {"n_permutations": args.permutations, "n_bootstrap": args.permutations}}
        if args.permutations
        else {}
    )
    copy_workflow(folder, args.scale, overrides)
    snakemake = [sys.executable, "-m", "snakemake", "--cores", str(args.cores)]
    load_before = os.getloadavg()
    cold, peak = run(snakemake, folder, folder / "bench_cold.log")
    load_after = os.getloadavg()
    noop, _ = run(snakemake, folder, folder / "bench_noop.log")
    if "Nothing to be done" not in (folder / "bench_noop.log").read_text():
        print("warning: the rerun was not a no-op (see bench_noop.log)", file=sys.stderr)
    rows = read_benchmarks(folder / "logs" / "benchmarks")
    summary = [
        ("whole run (wall s)", f"{cold:.1f}"),
        ("peak RSS, all jobs together (MB)", f"{peak:.0f}"),
        ("no-op rerun (wall s)", f"{noop:.1f}"),
        ("load average 1/5/15 min before", " / ".join(f"{x:.2f}" for x in load_before)),
        ("load average 1/5/15 min after", " / ".join(f"{x:.2f}" for x in load_after)),
    ]
    print(f"scale {args.scale}, {args.cores} cores, {os.cpu_count()} CPUs, folder {folder}\n")
    print(table(rows, summary))
    target = TARGETS.get(args.scale)
    if target:
        misses = [
            name
            for name, ok in (
                ("whole run < 15 min", cold < target["total_s"]),
                ("peak < 8 GiB", peak < target["peak_mb"]),
                ("no-op < 5 s", noop < target["noop_s"]),
            )
            if not ok
        ]
        print("\ntargets: " + ("all met" if not misses else "missed: " + ", ".join(misses)))
    out = REPO / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    with (out / f"stages_{args.scale}.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["job", "wall_s", "max_rss_mb", "cpu_s", "mean_load"])
        writer.writeheader()
        writer.writerows(rows)
        for name, value in summary:
            writer.writerow({"job": name, "wall_s": value})
    if not args.keep and not args.folder:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
