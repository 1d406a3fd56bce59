"""Benchmark of the ``validate`` stage on a large synthetic ingested survey.

Writes an ingested folder (the layout ``ingest`` produces) with ROWS survey rows
of which FAULTY_SHARE are faulty in one of five ways (trust outside 0-10,
negative weight, unknown gender code, municipality outside the register,
interview date outside the field period), then times
``python -m evaluation validate`` as a subprocess: wall time including Python
and Great Expectations start-up, as Snakemake would run it. Checks that exactly
the faulty rows were quarantined.

    python benchmarks/bench_validate.py [--rows 1000000] [--faulty-share 0.01] [--repeat 3]
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

from evaluation.config import load_config, stage_settings

REPO = Path(__file__).resolve().parent.parent
WAVES = 10
MUNICIPALITIES = [f"{3000 + k:04d}" for k in range(60)]
FAULTS = ("trust_local_politicians", "design_weight", "gender", "municipality_code", "interview_date")


def make_ingested(folder: Path, rows: int, faulty_share: float, seed: int) -> int:
    """Write areas, turnout, survey, quarantine and accounting tables; return the number of faulty rows."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    areas = pd.DataFrame(
        {
            "area_code": [m + "0001" for m in MUNICIPALITIES],
            "area_name": "x",
            "municipality_code": MUNICIPALITIES,
            "municipality_name": "x",
            "role": ["pilot"] * 7 + ["control"] * 53,
            "pilot_start": pd.to_datetime(["2019-08-01"] * 7 + [None] * 53),
            "pilot_type": None,
            "cohort": pd.array([2019] * 7 + [None] * 53, "Int64"),
            "population": 1000,
            "source_file": "area_register.csv",
            "source_row": np.arange(1, 61),
        }
    )
    turnout = pd.DataFrame(
        {
            "area_code": areas["area_code"],
            "municipality_code": MUNICIPALITIES,
            "election_type": "local",
            "election_year": 2019,
            "election_date": pd.Timestamp("2019-09-09"),
            "eligible_voters": 1000,
            "votes_cast": 650,
            "turnout": 0.65,
            "source_file": "turnout.csv",
            "source_row": np.arange(1, 61),
        }
    )
    wave = np.repeat(np.arange(1, WAVES + 1), rows // WAVES + 1)[:rows]
    year, month = 2019 + (wave - 1) // 2, np.where(wave % 2 == 1, 3, 10)
    start = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": 1}))
    age = rng.integers(18, 90, rows)
    survey = pd.DataFrame(
        {
            "respondent_id": [f"r{i:07d}" for i in range(rows)],
            "wave": wave,
            "interview_date": start + pd.to_timedelta(rng.integers(0, 28, rows), unit="D"),
            "municipality_code": np.array(MUNICIPALITIES)[rng.integers(0, 60, rows)],
            "design_weight": rng.uniform(0.5, 3.0, rows),
            "gender": np.array(["male", "female"])[rng.integers(0, 2, rows)],
            "age": age,
            "age_group": pd.cut(
                age, [18, 30, 45, 60, 200], right=False, labels=["18-29", "30-44", "45-59", "60+"]
            ).astype(str),
            "education": np.array(["compulsory", "upper_secondary", "higher"])[rng.integers(0, 3, rows)],
            "income_quintile": rng.integers(1, 6, rows).astype(str),
            "immigrant_background": np.array(["no", "yes"])[rng.integers(0, 2, rows)],
        }
    )
    for name in (
        "voted_local",
        "contacted_politician",
        "attended_meeting",
        "took_part_consultation",
        "signed_petition",
    ):
        survey[name] = rng.integers(0, 2, rows).astype(float)
    for name in ("trust_local_politicians", "trust_council", "trust_administration"):
        survey[name] = rng.integers(0, 11, rows).astype(float)
    survey["satisfaction_democracy"] = rng.integers(1, 5, rows).astype(float)
    survey.insert(6, "stratum", survey["municipality_code"])
    survey.insert(7, "psu", survey["respondent_id"])
    survey["source_file"] = "wave" + pd.Series(wave).map("{:02d}".format) + ".sav"
    survey["source_row"] = survey.groupby("wave").cumcount() + 1
    faulty = rng.choice(rows, int(rows * faulty_share), replace=False)
    for kind, part in zip(FAULTS, np.array_split(faulty, len(FAULTS))):
        survey.loc[part, kind] = {
            "trust_local_politicians": 14.0,
            "design_weight": -1.0,
            "gender": "unknown:5",
            "municipality_code": "9999",
            "interview_date": pd.Timestamp("2030-01-01"),
        }[kind]
    areas.to_parquet(folder / "areas.parquet", index=False)
    turnout.to_parquet(folder / "turnout.parquet", index=False)
    survey.to_parquet(folder / "survey.parquet", index=False)
    pd.DataFrame(columns=["source_file", "row_number", "stage", "column", "value", "reason"]).to_parquet(
        folder / "quarantine.parquet", index=False
    )
    files = pd.concat([survey["source_file"], areas["source_file"], turnout["source_file"]]).value_counts()
    pd.DataFrame(
        {
            "source_file": files.index,
            "stage": "ingest",
            "rows_read": files.to_numpy(),
            "rows_kept": files.to_numpy(),
            "rows_quarantined": 0,
        }
    ).to_csv(folder / "row_accounting.csv", index=False)
    return len(faulty)


def run_stage(ingested: Path, out: Path) -> float:
    """Wall seconds of ``python -m evaluation validate`` (start-up included)."""
    settings = stage_settings(load_config(REPO / "config" / "config.yaml"), "validate")
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "evaluation",
            "validate",
            "--input",
            str(ingested),
            "--out",
            str(out),
            "--settings",
            json.dumps(settings),
        ],
        cwd=REPO,
        check=True,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--faulty-share", type=float, default=0.01)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20240501)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ingested = Path(tmp) / "ingested"
        n_faulty = make_ingested(ingested, args.rows, args.faulty_share, args.seed)
        times = [run_stage(ingested, Path(tmp) / f"out{k}") for k in range(args.repeat)]
        summary = json.loads((Path(tmp) / "out0" / "validation_summary.json").read_text())
        quarantined = summary["tables"]["survey"]["rows_quarantined"]
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"rows={args.rows:,} faulty={n_faulty:,} quarantined={quarantined:,}")
    print("wall seconds (start-up included): " + ", ".join(f"{t:.2f}" for t in times) + f"; best {min(times):.2f}")
    print(f"peak memory of the stage: {peak:.0f} MiB")
    if quarantined != n_faulty:
        raise SystemExit(f"expected {n_faulty} quarantined rows, got {quarantined}")


if __name__ == "__main__":
    main()
