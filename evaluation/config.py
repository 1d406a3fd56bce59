"""The pipeline configuration: load it, check it against the schema, fill the schema's defaults, and hand each stage
the sections it uses.

The schema (``evaluation/schemas/config.schema.yaml``) is the one home of every
default; stage code reads keys, never ``.get(key, default)``. Kept free of heavy
imports: the Snakefile uses it at parse time, so that a rule reruns when, and
only when, a section it uses changes.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evaluation.demo.scales import apply_scale
from evaluation.errors import ConfigError
from evaluation.estimation.threshold import MIN_N_FLOOR
from evaluation.schemas import load_yaml, validate_against
from evaluation.variables import Variables, load_variables

DEFAULT_CONFIG = Path("config/config.yaml")
Config = dict[str, Any]


def complete_config(config: Config, source: Path | str) -> Config:
    """``config`` checked against the schema, with its defaults and what ``demo.scale`` implies filled in (a copy).

    Raises
    ------
    ConfigError
        Naming ``source`` and the offending keys.
    """
    config = {**config, "sources": _configured(config.get("sources", {}))}
    completed = apply_scale(validate_against(config, "config.schema.yaml", Path(source)))
    _check_meaning(completed, Path(source))
    return completed


def _configured(sources: Any) -> Any:
    """The sources without those set to null: a scenario layered on another config leaves a source out so."""
    return (
        {name: value for name, value in sources.items() if value is not None} if isinstance(sources, dict) else sources
    )


def source_tables(config: Config) -> list[str]:
    """The canonical tables of a run: ``areas``, and ``turnout``, ``survey``, ``participants`` and ``proposals`` when configured."""
    names = ("turnout", "survey", "participants", "proposals")
    return ["areas", *(name for name in names if name in config["sources"])]


def survey_replicates(config: Config) -> dict[str, Any] | None:
    """The survey codebook's ``design.replicate_weights``, schema defaults filled (None when it has none).

    A codebook that cannot be found here is left to the ingest stage to report.
    """
    if "survey" not in config["sources"]:
        return None
    path = Path(config["sources"]["survey"]["codebook"])
    if not path.is_file():
        return None
    info = path.stat()
    return copy.deepcopy(_codebook_replicates(str(path), info.st_mtime_ns, info.st_size))


@functools.lru_cache(maxsize=8)
def _codebook_replicates(path: str, mtime_ns: int, size: int) -> dict[str, Any] | None:
    """The codebook's ``design.replicate_weights``, read once per version of the file (the config check, the
    estimate settings and provenance all ask)."""
    design = validate_against(load_yaml(Path(path)), "codebook.schema.yaml", Path(path))["design"]
    return design["replicate_weights"] if "replicate_weights" in design else None


def _check_meaning(config: Config, source: Path) -> None:
    """What the schema cannot say: ordered bounds and field periods, and names that must be canonical variables."""
    problems = []
    sources = config["sources"]
    if not {"turnout", "survey"} & set(sources):
        problems.append("sources: nothing to compare; configure turnout, a survey or both besides areas")
    if "survey" in sources and config["weighting"]["method"] == "rake" and "margins" not in sources:
        problems.append("sources.margins: the survey is raked (weighting.method: rake), so its margins file is needed")
    if "participants" in sources and "margins" not in sources:
        problems.append("sources.margins: participants are compared with the population margins, so they are needed")
    if survey_replicates(config) is not None and config["weighting"]["method"] != "none":
        problems.append(
            f"weighting.method: {config['weighting']['method']}, but the survey codebook "
            f"{sources['survey']['codebook']} declares replicate weights (design.replicate_weights): those are "
            "final weights, and re-weighting the full sample would leave them behind; set weighting.method: none"
        )
    trim = config["weighting"]["trim"]
    if trim and not trim[0] <= 1 <= trim[1]:
        problems.append(
            f"weighting.trim: {trim} must be [lower, upper] with lower <= 1 <= upper "
            "(bounds on adjusted / design weight)"
        )
    disclosure = config["disclosure"]
    if disclosure["min_n"] < MIN_N_FLOOR and not disclosure["allow_min_n_below_10"]:
        problems.append(
            f"disclosure.min_n: {disclosure['min_n']} is below {MIN_N_FLOOR}; cells that small are published only "
            "with disclosure.allow_min_n_below_10: true (the methods appendix then says so)"
        )
    for wave, (first, last) in config["validation"]["field_periods"].items():
        if first > last:
            problems.append(f"validation.field_periods.{wave}: first interview day {first} is after the last, {last}")
    variables_path = Path(config["variables"])
    if variables_path.is_file():
        variables = load_variables(variables_path)
        groups = set(variables.group_variables)
        problems += _report_problems(config["report"], variables)
        for name in config["estimation"]["group_variables"]:
            if name not in groups:
                problems.append(
                    f"estimation.group_variables: {name!r} is not a group variable of {variables_path} "
                    f"(known: {', '.join(sorted(groups))})"
                )
        margin_columns = groups | {"municipality_code"}
        for k, dims in enumerate(config["weighting"]["margins"]):
            for name in dims:
                if name not in margin_columns:
                    problems.append(
                        f"weighting.margins[{k}]: {name!r} is neither municipality_code nor a group "
                        f"variable of {variables_path}"
                    )
    if problems:
        raise ConfigError(f"{source}:\n" + "\n".join(f"  - {p}" for p in problems))


def _report_problems(report: dict[str, Any], variables: Variables) -> list[str]:
    """Headline outcomes and gap figures that ``variables`` does not declare."""
    problems = [
        f"report.headline_outcomes: {name!r} is not an outcome of {variables.path}"
        for name in report["headline_outcomes"] or []
        if name not in variables.outcomes
    ]
    for k, (outcome, group_variable) in enumerate(report["gap_figures"] or []):
        if outcome not in variables.outcomes:
            problems.append(f"report.gap_figures[{k}]: {outcome!r} is not an outcome of {variables.path}")
        if group_variable not in variables.gaps:
            problems.append(f"report.gap_figures[{k}]: {group_variable!r} has no gap in {variables.path}")
    return problems


def report_outcomes(config: Config) -> dict[str, list]:
    """The outcomes the reports show, in order, and their gap figures, with the schema's nulls resolved.

    ``headline_outcomes`` null: every outcome of ``variables``; ``gap_figures``
    null: each headline outcome by the first group variable with a declared gap.
    """
    variables = load_variables(Path(config["variables"]))
    report = config["report"]
    headline = list(report["headline_outcomes"] or variables.outcomes)
    first_gap = next(iter(variables.gaps), None)
    default_gaps = [[outcome, first_gap] for outcome in headline] if first_gap else []
    gaps = default_gaps if report["gap_figures"] is None else [list(pair) for pair in report["gap_figures"]]
    return {"headline_outcomes": headline, "gap_figures": gaps}


def load_config(path: Path = DEFAULT_CONFIG) -> Config:
    """Read the configuration file and :func:`complete_config` it."""
    return complete_config(load_yaml(Path(path)), path)


def _demo(config: Config) -> dict[str, Any]:
    return config["demo"]


def _ingest(config: Config) -> dict[str, Any]:
    return {
        "sources": config["sources"],
        "pseudonymisation": config["pseudonymisation"],
        "demo": config["demo"]["enabled"],
        "inject_faults": config["demo"]["inject_faults"],
        "variables": config["variables"],
    }


def _validate(config: Config) -> dict[str, Any]:
    return {
        "design": config["design"],
        "validation": config["validation"],
        "variables": config["variables"],
        "tables": source_tables(config),
        "country": config["country"],
    }


def _weight(config: Config) -> dict[str, Any]:
    return {"weighting": config["weighting"]}


def _estimate(config: Config) -> dict[str, Any]:
    return {
        "design": config["design"],
        "estimation": config["estimation"],
        "disclosure": config["disclosure"],
        "variables": config["variables"],
        "weighting": config["weighting"],
        "replicates": survey_replicates(config),
    }


def _compare(config: Config) -> dict[str, Any]:
    return {
        "compare": config["compare"],
        "design": config["design"],
        "estimation": config["estimation"],
        "disclosure": config["disclosure"],
        "variables": config["variables"],
        "country": config["country"],
    }


def _represent(config: Config) -> dict[str, Any]:
    return {
        "min_n": config["disclosure"]["min_n"],
        "level": config["estimation"]["level"],
        "seed": config["compare"]["seed"],
        "variables": config["variables"],
    }


def _uptake(config: Config) -> dict[str, Any]:
    return {
        "min_n": config["disclosure"]["min_n"],
        "level": config["estimation"]["level"],
        "seed": config["compare"]["seed"],
        "n_permutations": config["compare"]["n_permutations"],
    }


def _themes(config: Config) -> dict[str, Any]:
    return {
        "n_themes": config["themes"]["n_themes"],
        "min_n": config["disclosure"]["min_n"],
        "seed": config["compare"]["seed"],
    }


def _provenance(config: Config) -> dict[str, Any]:
    """The settings that travel with the results: reports read them from ``provenance.json``."""
    return {
        "disclosure_min_n": config["disclosure"]["min_n"],
        "level": config["estimation"]["level"],
        "lonely_psu": config["estimation"]["lonely_psu"],
        "compare_seed": config["compare"]["seed"],
        "weighting_method": config["weighting"]["method"],
        "replicate_weights": survey_replicates(config),
        **report_outcomes(config),
        "tables": source_tables(config),
    }


STAGES: dict[str, Callable[[Config], dict[str, Any]]] = {
    "demo": _demo,
    "ingest": _ingest,
    "validate": _validate,
    "weight": _weight,
    "estimate": _estimate,
    "compare": _compare,
    "represent": _represent,
    "uptake": _uptake,
    "themes": _themes,
    "provenance": _provenance,
}


def stage_settings(config: Config, stage: str) -> dict[str, Any]:
    """The config sections stage ``stage`` depends on (what Snakemake passes it as ``--settings``), as a copy."""
    return copy.deepcopy(STAGES[stage](config))
