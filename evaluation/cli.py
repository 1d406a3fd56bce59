"""Command-line entry: ``python -m evaluation <stage> --help``.

Each stage reads explicit input paths and writes explicit output paths, so an
analyst can rerun one stage by hand. Settings come from the config file
(``--config``, default ``config/config.yaml``) or, as Snakemake passes them, from
``--settings`` JSON holding just the sections the stage depends on.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any, Callable

from evaluation.config import DEFAULT_CONFIG, load_config
from evaluation.errors import EvaluationError
from evaluation.stage_settings import STAGES

log = logging.getLogger("evaluation")


def _stage_settings(args: argparse.Namespace) -> dict[str, Any]:
    if args.settings:
        return json.loads(args.settings)
    return STAGES[args.stage](load_config(args.config))


def _run_demo(args: argparse.Namespace) -> None:
    from evaluation.demo import DemoConfig, generate_demo

    demo = _stage_settings(args)
    generate_demo(Path(args.out), DemoConfig.from_settings(demo))


def _run_ingest(args: argparse.Namespace) -> None:
    from evaluation import ingest

    ingest.ingest(Path(args.raw), Path(args.out), _stage_settings(args))


def _run_validate(args: argparse.Namespace) -> None:
    from evaluation import validation

    validation.validate(Path(args.input), Path(args.out), _stage_settings(args))


def _run_weight(args: argparse.Namespace) -> None:
    from evaluation import weight

    weight.weight(Path(args.survey), Path(args.margins), Path(args.out), Path(args.summary), _stage_settings(args))


def _run_estimate(args: argparse.Namespace) -> None:
    from evaluation import estimate

    estimate.estimate(Path(args.survey), Path(args.areas), Path(args.out), _stage_settings(args))


def _run_compare(args: argparse.Namespace) -> None:
    from evaluation import compare

    if args.part == "turnout":
        compare.run_turnout(Path(args.turnout), Path(args.areas), Path(args.out), _stage_settings(args))
    else:
        if not args.survey:
            raise EvaluationError("compare --part survey needs --survey")
        compare.run_survey(Path(args.turnout), Path(args.areas), Path(args.survey), args.shard, args.shards, Path(args.out),
                           _stage_settings(args))


def _run_compare_gather(args: argparse.Namespace) -> None:
    from evaluation import compare

    compare.run_gather([Path(p) for p in args.parts], Path(args.areas), Path(args.out))


def _run_provenance(args: argparse.Namespace) -> None:
    from evaluation import provenance

    provenance.write_provenance(Path(args.out), [Path(p) for p in args.inputs], Path(args.config))


def _run_render(args: argparse.Namespace) -> None:
    from evaluation.render import parse_param, render_report

    params = dict(parse_param(item) for item in args.param)
    render_report(Path(args.source), params, Path(args.html), Path(args.pdf) if args.pdf else None, engine=args.engine)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one subcommand per stage."""
    parser = argparse.ArgumentParser(prog="python -m evaluation", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging detail")
    stages = parser.add_subparsers(dest="stage", required=True)

    def stage(name: str, runner: Callable[[argparse.Namespace], None], help_text: str) -> argparse.ArgumentParser:
        sub = stages.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="pipeline config (default: %(default)s)")
        sub.add_argument("--settings", help="JSON with the config sections the stage uses (overrides --config)")
        sub.set_defaults(run=runner)
        return sub

    demo = stage("demo", _run_demo, "write the synthetic demo scenario (raw files and truth.json)")
    demo.add_argument("--out", required=True, help="folder for the raw demo files")
    ingest = stage("ingest", _run_ingest, "read raw files through their codebooks into canonical tables")
    ingest.add_argument("--raw", required=True, help="folder with the raw input files")
    ingest.add_argument("--out", required=True, help="folder for the canonical Parquet tables")
    validate = stage("validate", _run_validate, "validate canonical tables with Great Expectations; quarantine bad rows")
    validate.add_argument("--input", required=True, help="folder written by ingest")
    validate.add_argument("--out", required=True, help="folder for validated tables and the summary")
    weight = stage("weight", _run_weight, "rake survey design weights to population margins")
    weight.add_argument("--survey", required=True)
    weight.add_argument("--margins", required=True)
    weight.add_argument("--out", required=True, help="weighted survey Parquet")
    weight.add_argument("--summary", required=True, help="weighting summary CSV")
    estimate = stage("estimate", _run_estimate, "design-based estimates by group, area type and wave")
    estimate.add_argument("--survey", required=True)
    estimate.add_argument("--areas", required=True)
    estimate.add_argument("--out", required=True, help="estimates CSV")
    compare = stage("compare", _run_compare, "pilot-versus-control comparisons (difference-in-differences), one part")
    compare.add_argument("--part", choices=("turnout", "survey"), required=True,
                         help="turnout, or the survey outcomes of one shard")
    compare.add_argument("--shard", type=int, default=1, help="survey shard, 1..--shards (default: %(default)s)")
    compare.add_argument("--shards", type=int, default=1, help="number of survey shards (default: %(default)s)")
    compare.add_argument("--turnout", required=True)
    compare.add_argument("--areas", required=True)
    compare.add_argument("--survey", help="weighted survey (for --part survey)")
    compare.add_argument("--out", required=True, help="folder for the part's tables (Parquet)")
    gather = stage("compare-gather", _run_compare_gather, "gather the comparison parts into the result tables (CSV)")
    gather.add_argument("--parts", nargs="+", required=True, help="part folders, turnout first")
    gather.add_argument("--areas", required=True, help="validated area register (for pilots.csv)")
    gather.add_argument("--out", required=True, help="folder for the comparison tables")
    provenance = stage("provenance", _run_provenance, "record version, commit, config hash and input checksums")
    provenance.add_argument("--out", required=True)
    provenance.add_argument("inputs", nargs="*", help="input files to checksum")
    render = stage("render", _run_render, "render one Quarto report to HTML and PDF")
    render.add_argument("source", help=".qmd file")
    render.add_argument("--param", action="append", default=[], help="key=value report parameter")
    render.add_argument("--html", required=True)
    render.add_argument("--pdf")
    render.add_argument("--engine", choices=["auto", "quarto", "builtin"], default="auto")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one stage; errors of our own types print as one clear message and exit 1."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    try:
        args.run(args)
    except EvaluationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
