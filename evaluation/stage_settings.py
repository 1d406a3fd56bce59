"""Which configuration sections each stage depends on.

Kept free of heavy imports: the Snakefile uses it at parse time, so that a rule
reruns when, and only when, a section it uses changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

Config = dict[str, Any]


def demo(config: Config) -> dict[str, Any]:
    return config["demo"]


def ingest(config: Config) -> dict[str, Any]:
    return {
        "sources": config["sources"],
        "pseudonymisation": config["pseudonymisation"],
        "demo": config["demo"]["enabled"],
        "inject_faults": config["demo"].get("inject_faults", False),
    }


def validate(config: Config) -> dict[str, Any]:
    return {"validation": config["validation"], "variables": config["variables"]}


def weight(config: Config) -> dict[str, Any]:
    return {"weighting": config["weighting"]}


def estimate(config: Config) -> dict[str, Any]:
    return {"estimation": config["estimation"], "disclosure": config["disclosure"], "variables": config["variables"],
            "weighting": config["weighting"]}


def compare(config: Config) -> dict[str, Any]:
    return {"compare": config["compare"], "estimation": config["estimation"], "disclosure": config["disclosure"]}


STAGES: dict[str, Callable[[Config], dict[str, Any]]] = {
    "demo": demo,
    "ingest": ingest,
    "validate": validate,
    "weight": weight,
    "estimate": estimate,
    "compare": compare,
}


def survey_files(raw_dir: Path, survey_source: dict[str, Any]) -> dict[int, Path]:
    """The file of each survey wave, from the configured name pattern."""
    return {wave: Path(raw_dir) / survey_source["files"].format(wave=wave) for wave in survey_source["waves"]}


def raw_inputs(raw_dir: Path, sources: dict[str, Any]) -> list[Path]:
    """Every raw file the pipeline reads (Snakemake's inputs; checksummed for provenance)."""
    optional = [name for name in ("crosswalk", "register") if sources.get(name)]
    singles = [Path(raw_dir) / sources[name]["file"] for name in ("areas", "turnout", "margins", *optional)]
    return singles + list(survey_files(raw_dir, sources["survey"]).values())
