"""Command-line entry for every stage: ``python -m evaluation <command> --help``.

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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evaluation.config import DEFAULT_CONFIG, load_config, stage_settings
from evaluation.errors import EvaluationError, RenderError

log = logging.getLogger("evaluation")

Runner = Callable[[argparse.Namespace, dict[str, Any]], None]


def _demo(args: argparse.Namespace, settings: dict[str, Any]) -> None:
    from evaluation.stages.demo import write_demo

    truth = write_demo(Path(args.out), settings)
    log.info("%s: demo scenario written (%d pilots; truths in truth.json)", args.out, len(truth["pilots"]))


def _ingest(args: argparse.Namespace, settings: dict[str, Any]) -> None:
    from evaluation.stages.ingest import ingest

    ingest(Path(args.raw), Path(args.out), settings)


def _inject_faults(args: argparse.Namespace, settings: dict[str, Any]) -> None:
    from evaluation.stages.faults import inject

    print(inject(Path(args.ingested), args.seed).to_string(index=False))


def _validate(args: argparse.Namespace, settings: dict[str, Any]) -> None:
    from evaluation.stages.validate import validate

    validate(Path(args.input), Path(args.out), settings)


def _weight(args: argparse.Namespace, settings: dict[str, Any]) -> None:
    from evaluation.stages.weight import weight

    margins = Path(args.margins) if args.margins else None
    weight(Path(args.survey), margins, Path(args.out), Path(args.summary), settings)


def _estimate(args: argparse.Namespace, settings: dict[str, Any]) -> None:
    from evaluation.stages.estimate import estimate

    estimate(Path(args.survey), Path(args.areas), Path(args.out), settings)


def _compare(args: argparse.Namespace, settings: dict[str, Any]) -> None:
    from evaluation.stages import compare

    if args.part == "turnout":
        if not args.turnout:
            raise EvaluationError("compare --part turnout needs --turnout")
        compare.run_turnout(Path(args.turnout), Path(args.areas), Path(args.out), settings)
        return
    if not args.survey:
        raise EvaluationError("compare --part survey needs --survey")
    compare.run_survey(Path(args.areas), Path(args.survey), args.shard, args.shards, Path(args.out), settings)


def _gather(args: argparse.Namespace, settings: dict[str, Any]) -> None:
    from evaluation.stages.gather import run_gather

    run_gather([Path(p) for p in args.parts], Path(args.areas), Path(args.out), settings["design"]["treated_unit"])


def _represent(args: argparse.Namespace, settings: dict[str, Any]) -> None:
    from evaluation.stages.represent import represent

    represent(Path(args.participants), Path(args.areas), Path(args.margins), Path(args.out), settings)


def _uptake(args: argparse.Namespace, settings: dict[str, Any]) -> None:
    from evaluation.stages.uptake import uptake

    uptake(Path(args.proposals), Path(args.areas), Path(args.out), settings)


def _themes(args: argparse.Namespace, settings: dict[str, Any]) -> None:
    from evaluation.stages.themes import themes

    themes(Path(args.proposals), Path(args.areas), Path(args.out), settings)


def _data_quality(args: argparse.Namespace, settings: dict[str, Any]) -> None:
    from evaluation.stages.data_quality import write_data_quality

    write_data_quality(Path(args.ingested), Path(args.validated), Path(args.out))


def _provenance(args: argparse.Namespace, settings: dict[str, Any]) -> None:
    from evaluation.stages.provenance import write_provenance

    write_provenance(Path(args.out), [Path(p) for p in args.inputs], Path(args.config), settings)


def _render(args: argparse.Namespace, settings: dict[str, Any]) -> None:
    from evaluation.stages.render import render

    params = dict(parse_param(item) for item in args.param)
    engine = render(Path(args.source), params, Path(args.html), Path(args.pdf) if args.pdf else None, args.engine)
    log.info("%s rendered with the %s engine", args.source, engine)


def _render_server(args: argparse.Namespace, settings: dict[str, Any]) -> None:
    from evaluation.rendering.warm import serve

    serve(args.socket, main)


def _config_docs(args: argparse.Namespace, settings: dict[str, Any]) -> None:
    from evaluation.schemas.docs import config_docs

    text = config_docs()
    if args.out is None:
        print(text, end="")
        return
    Path(args.out).write_text(text, encoding="utf-8")
    log.info("%s: config reference written", args.out)


def parse_param(text: str) -> tuple[str, Any]:
    """Parse a ``name=value`` report parameter (the value as JSON if valid, else as a string).

    Raises
    ------
    RenderError
        If there is no ``=``.
    """
    name, sep, raw = text.partition("=")
    if not sep:
        raise RenderError(f"parameter {text!r} is not of the form name=value")
    try:
        return name.strip(), json.loads(raw)
    except json.JSONDecodeError:
        return name.strip(), raw


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one subcommand per stage."""
    parser = argparse.ArgumentParser(prog="python -m evaluation", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging detail")
    parser.add_argument("--log", type=Path, help="write the log to this file (errors are printed to the console too)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    def command(name: str, runner: Runner, help_text: str, settings: str | None = None) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="pipeline config (default: %(default)s)")
        if settings:
            sub.add_argument("--settings", help="JSON with the config sections the stage uses (overrides --config)")
        sub.set_defaults(run=runner, stage=settings)
        return sub

    demo = command("demo", _demo, "write the synthetic demo scenario (raw files and truth.json)", "demo")
    demo.add_argument("--out", required=True, help="folder for the raw demo files")
    ingest = command("ingest", _ingest, "read raw files through their codebooks into canonical tables", "ingest")
    ingest.add_argument("--raw", required=True, help="folder with the raw input files")
    ingest.add_argument("--out", required=True, help="folder for the canonical Parquet tables")
    faults = command("inject-faults", _inject_faults, "demo only: inject a few known faults into the ingested tables")
    faults.add_argument("--ingested", required=True, help="folder written by ingest (changed in place)")
    faults.add_argument("--seed", required=True, type=int, help="seed of the fault positions")
    validate = command(
        "validate", _validate, "validate canonical tables with Great Expectations; quarantine bad rows", "validate"
    )
    validate.add_argument("--input", required=True, help="folder written by ingest")
    validate.add_argument("--out", required=True, help="folder for validated tables and the summary")
    weight = command("weight", _weight, "rake survey design weights to population margins", "weight")
    weight.add_argument("--survey", required=True, help="validated survey Parquet")
    weight.add_argument("--margins", help="population margins CSV (for weighting.method rake)")
    weight.add_argument("--out", required=True, help="weighted survey Parquet")
    weight.add_argument("--summary", required=True, help="weighting summary CSV")
    estimate = command("estimate", _estimate, "design-based estimates by group, area type and wave", "estimate")
    estimate.add_argument("--survey", required=True, help="weighted survey Parquet")
    estimate.add_argument("--areas", required=True, help="validated area register Parquet")
    estimate.add_argument(
        "--out", required=True, help="estimates CSV (gaps.csv and adjusted_gaps.csv are written beside it)"
    )
    compare = command(
        "compare", _compare, "pilot-versus-control comparisons (difference-in-differences), one part", "compare"
    )
    compare.add_argument(
        "--part", choices=("turnout", "survey"), required=True, help="turnout, or the survey outcomes of one shard"
    )
    compare.add_argument("--shard", type=int, default=1, help="survey shard, 1..--shards (default: %(default)s)")
    compare.add_argument("--shards", type=int, default=1, help="number of survey shards (default: %(default)s)")
    compare.add_argument("--turnout", help="validated turnout Parquet (for --part turnout)")
    compare.add_argument("--areas", required=True, help="validated area register Parquet")
    compare.add_argument("--survey", help="weighted survey (for --part survey)")
    compare.add_argument("--out", required=True, help="folder for the part's tables (Parquet)")
    gather = command("compare-gather", _gather, "gather the comparison parts into the result tables (CSV)", "compare")
    gather.add_argument(
        "--parts", nargs="+", required=True, help="part folders: turnout (if compared), then the survey shards"
    )
    gather.add_argument("--areas", required=True, help="validated area register (for pilots.csv)")
    gather.add_argument("--out", required=True, help="folder for the comparison tables")
    represent = command(
        "represent",
        _represent,
        "who takes part: participants against the population, per arena and period",
        "represent",
    )
    represent.add_argument("--participants", required=True, help="validated participants Parquet")
    represent.add_argument("--areas", required=True, help="validated area register Parquet")
    represent.add_argument("--margins", required=True, help="population margins CSV")
    represent.add_argument("--out", required=True, help="folder for representation.csv and representation_change.csv")
    uptake = command("uptake", _uptake, "is input used: adoption and time to decision of citizen proposals", "uptake")
    uptake.add_argument("--proposals", required=True, help="validated proposals Parquet")
    uptake.add_argument("--areas", required=True, help="validated area register Parquet")
    uptake.add_argument("--out", required=True, help="folder for uptake.csv and uptake_effects.csv")
    themes = command(
        "themes", _themes, "what proposals are about: texts grouped into themes, scrubbed quotes", "themes"
    )
    themes.add_argument("--proposals", required=True, help="validated proposals Parquet (with a text column)")
    themes.add_argument("--areas", required=True, help="validated area register Parquet")
    themes.add_argument("--out", required=True, help="folder for themes.csv, theme_counts.csv and theme_quotes.csv")
    quality = command("data-quality", _data_quality, "publish the data-quality counts of ingest and validate")
    quality.add_argument("--ingested", required=True, help="folder written by ingest")
    quality.add_argument("--validated", required=True, help="folder written by validate")
    quality.add_argument("--out", required=True, help="CSV to write")
    provenance = command(
        "provenance",
        _provenance,
        "record version, commit, config hash, input checksums and the settings that travel with the results",
        "provenance",
    )
    provenance.add_argument("--out", required=True)
    provenance.add_argument("inputs", nargs="*", help="input files to checksum")
    render = command("render", _render, "render one Quarto report to HTML and PDF")
    render.add_argument("source", help=".qmd file")
    render.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="report parameter; VALUE is JSON if valid, else a string (repeatable)",
    )
    render.add_argument("--html", required=True, help="HTML file to write")
    render.add_argument("--pdf", help="PDF file to write (optional)")
    render.add_argument("--engine", choices=["auto", "quarto", "builtin"], default="auto")
    render.add_argument(
        "--warm",
        action="store_true",
        help="render in a background process that has imported the renderer once and serves the run's reports "
        "(started by the first such render, which renders itself; same outputs, less time)",
    )
    server = commands.add_parser("render-server")  # started by `render --warm`; without help=, not listed
    server.add_argument("socket", type=Path)
    server.set_defaults(run=_render_server, stage=None)
    docs = command("config-docs", _config_docs, "the config reference (config/README.md), generated from the schema")
    docs.add_argument("--out", type=Path, help="file to write (default: print it)")
    return parser


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    if args.stage is None:
        return {}
    if args.settings:
        return json.loads(args.settings)
    return stage_settings(load_config(args.config), args.stage)


def main(argv: list[str] | None = None) -> int:
    """Run one command; errors of our own types print as one clear message and exit 1."""
    args = build_parser().parse_args(argv)
    if args.command == "render" and args.warm:
        from evaluation.rendering.warm import render_warm

        status = render_warm([item for item in (sys.argv[1:] if argv is None else argv) if item != "--warm"])
        if status is not None:
            return status
    if args.log:
        args.log.parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        filename=args.log,
        filemode="w",
        force=True,
    )
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    try:
        args.run(args, _settings(args))
    except EvaluationError as exc:
        log.error("%s", exc)
        print(f"error: {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0
