"""Stage ``demo``: write the synthetic demo scenario (raw files and ``truth.json``) to the raw-data folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evaluation.demo.generate import DemoConfig, generate_demo
from evaluation.demo.medborgarbudget import generate_medborgarbudget


def write_demo(out_dir: Path, demo_settings: dict[str, Any]) -> dict[str, Any]:
    """Run the stage with the config's ``demo`` section; returns the truths written to ``truth.json``."""
    if demo_settings.get("programme") == "medborgarbudget":
        return generate_medborgarbudget(Path(out_dir), demo_settings["seed"])
    return generate_demo(Path(out_dir), DemoConfig.from_settings(demo_settings))
