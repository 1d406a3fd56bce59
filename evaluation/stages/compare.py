"""Stage ``compare``: one part of the pilot-versus-control comparison (turnout, or a shard of survey outcomes).

The statistics are in :mod:`evaluation.comparison` (:mod:`~evaluation.comparison.programme`
assembles them); this stage reads the canonical tables, runs one part with the
configured options and writes one Parquet file per table.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from evaluation.comparison.blas import blas_threads as limit_blas_threads
from evaluation.comparison.matching import MatchingSpec
from evaluation.comparison.programme import (
    CompareOptions,
    SensitivitySpec,
    compare_survey,
    compare_turnout,
    survey_shard,
)
from evaluation.outputs import write_parquet
from evaluation.sources.calendars import load_calendar
from evaluation.variables import Variables, load_variables


def _options(config_settings: dict) -> CompareOptions:
    """The options in the ``compare`` config section (its defaults filled in from the schema)."""
    settings = config_settings["compare"]
    counts = ("n_permutations", "n_bootstrap", "n_placebo_replications", "n_placebo_draws", "n_power_draws")
    return CompareOptions(
        **{k: settings[k] for k in counts},
        level=config_settings["estimation"]["level"],
        matching=MatchingSpec.from_config(settings["matching"]),
        min_n=config_settings["disclosure"]["min_n"],
        treated_unit=config_settings["design"]["treated_unit"],
        comparisons=COMPARISONS[config_settings["design"]["comparison"]],
        sensitivity=SensitivitySpec.from_config(settings["sensitivity"]),
    )


COMPARISONS = {"across": ("across",), "within": ("within",), "both": ("across", "within")}
"""``design.comparison`` -> the comparisons made."""


def _run_part(part: Callable[..., dict[str, pd.DataFrame]], out_dir: Path, config_settings: dict, *tables) -> None:
    """Compute one part with the configured seed, options and BLAS threads; one Parquet file per table in ``out_dir``."""
    settings = config_settings["compare"]
    with limit_blas_threads(settings["blas_threads"]):
        result = part(*tables, seed=settings["seed"], options=_options(config_settings))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, table in result.items():
        write_parquet(table, out_dir / f"{name}.parquet")


def run_turnout(turnout_path: Path, areas_path: Path, out_dir: Path, config_settings: dict) -> None:
    """Job ``compare turnout``: the turnout part."""
    _run_part(compare_turnout, out_dir, config_settings, pd.read_parquet(turnout_path), pd.read_parquet(areas_path))


def run_survey(
    areas_path: Path,
    survey_path: Path,
    shard: int,
    n_shards: int,
    out_dir: Path,
    config_settings: dict,
) -> None:
    """Job ``compare survey``: shard ``shard`` of ``n_shards`` of the survey outcomes.

    The outcomes are those of ``config/variables.yaml`` that the survey has, in that
    order. Uses the final (raked) weights of the ``weight`` stage as design weights.
    """
    survey = pd.read_parquet(survey_path)
    survey = survey.assign(design_weight=survey["weight"])
    variables = load_variables(Path(config_settings["variables"]))
    kinds = {name: outcome.kind for name, outcome in variables.outcomes.items() if name in survey.columns}
    outcomes = survey_shard(kinds, shard, n_shards)
    gaps = {name: pair for name, pair in variables.gaps.items() if name in survey.columns}
    part = functools.partial(compare_survey, gaps=gaps, references=_references(variables, config_settings["country"]))
    _run_part(part, out_dir, config_settings, pd.read_parquet(areas_path), survey, outcomes)


def _references(variables: Variables, country: str) -> dict[str, list]:
    """For each outcome about the last election of a type: the dates of that type's elections (the calendar's)."""
    calendar = load_calendar(country)
    references = {}
    for name, outcome in variables.outcomes.items():
        if outcome.refers_to.startswith("last_"):
            election_type = outcome.refers_to.removeprefix("last_").removesuffix("_election")
            references[name] = list(calendar.loc[calendar["election_type"] == election_type, "election_date"])
    return references
