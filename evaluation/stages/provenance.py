"""Stage ``provenance``: the provenance of a run: pipeline version, git commit, config hash, input checksums, date."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from evaluation.outputs import write_json


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def git_commit() -> str:
    """The current commit (with ``-dirty`` when the tree has changes), or ``unknown``."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def write_provenance(out: Path, inputs: list[Path], config_path: Path, settings: dict[str, Any]) -> None:
    """Write provenance JSON for the reports to print.

    ``settings`` are the config values that travel with the results (the
    disclosure threshold applied, the interval level, the comparison's seed, ...;
    see :func:`evaluation.config.stage_settings`): reports state them from here,
    so a report cannot name a threshold other than the one applied.
    """
    try:
        pipeline_version = version("lokaldemokrati-eval")
    except PackageNotFoundError:
        pipeline_version = "unknown"
    record = {
        "pipeline_version": pipeline_version,
        "git_commit": git_commit(),
        "config_sha256": sha256(config_path) if Path(config_path).exists() else "unknown",
        "inputs": {Path(p).name: sha256(Path(p)) for p in sorted(inputs)},
        "run_date": dt.date.today().isoformat(),
        "settings": settings,
    }
    write_json(record, Path(out))
