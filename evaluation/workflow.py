"""What the Snakefile needs at parse time: the raw inputs of a run, the source files of each stage, the command
the rules run and the folders they derive from their files.

Kept free of heavy imports, so that parsing the workflow stays fast.
"""

from __future__ import annotations

import functools
import re
import shlex
from pathlib import Path
from typing import Any

from evaluation.sources.file_sets import source_files

SINGLE_FILE_SOURCES = ("areas", "margins", "area_links", "crosswalk", "register", "participants", "proposals")
"""Sources that are one file each (``sources.<name>.file``); turnout may be many, the survey is one per wave."""


def report_languages(report: dict[str, Any]) -> list[str]:
    """The languages the reports are rendered in (``report.language``: one code or a list)."""
    language = report["language"]
    return [language] if isinstance(language, str) else list(language)


def survey_files(raw_dir: Path, survey_source: dict[str, Any]) -> dict[int, Path]:
    """The file of each survey wave, from the configured name pattern."""
    return {wave: Path(raw_dir) / survey_source["files"].format(wave=wave) for wave in survey_source["waves"]}


def raw_inputs(raw_dir: Path, sources: dict[str, Any]) -> list[Path]:
    """Every raw file the pipeline reads (Snakemake's inputs; checksummed for provenance)."""
    singles = [Path(raw_dir) / sources[name]["file"] for name in SINGLE_FILE_SOURCES if name in sources]
    turnout = [f.path for f in source_files(Path(raw_dir), sources["turnout"])] if "turnout" in sources else []
    survey = list(survey_files(raw_dir, sources["survey"]).values()) if "survey" in sources else []
    return singles + turnout + survey


def folder_above(path: str | Path, relative: str | Path) -> str:
    """The folder that ``relative`` was joined to, to give ``path``.

    Rules derive folder arguments from their input and output files this way
    (rather than from config values), so that they follow the files when
    Snakemake rewrites their paths (storage plugins, no shared file system).

    Raises
    ------
    ValueError
        If ``path`` does not end in ``relative``.
    """
    parts, tail = Path(path).parts, Path(relative).parts
    if not tail or parts[-len(tail) :] != tail:
        raise ValueError(f"{path} does not end in {relative}")
    return str(Path(*parts[: -len(tail)]))


def evaluation_command(python: str, deployed: bool, source_root: Path) -> str:
    """The shell command that runs ``python -m evaluation``, as every rule calls it.

    Parameters
    ----------
    python
        The interpreter running Snakemake (used without a software deployment method:
        the venv's Python, whatever is first on PATH).
    deployed
        True under ``--sdm conda`` or ``apptainer``: then the environment's ``python``
        runs the code of the workflow's own checkout, ``source_root`` (put on PYTHONPATH,
        since the environments hold the dependencies, not this package).
    source_root
        The folder that holds the ``evaluation`` package.
    """
    if deployed:
        return f"PYTHONPATH={shlex.quote(str(source_root))} python -m evaluation"
    return f"{shlex.quote(python)} -m evaluation"


PACKAGE = Path(__file__).resolve().parent


def stage_code(*modules: str) -> list[str]:
    """Source files of ``modules`` and of every ``evaluation`` module they import, transitively.

    Rules list them as inputs, so that changing a stage's code reruns the stage
    (Snakemake only tracks the code of ``script:`` and ``run:`` rules itself).
    ``"evaluation.reporting.*"`` stands for every module of that package (for
    code that report templates import). Imports are read with ``ast``, without
    importing anything.
    """
    pending = [m for name in modules for m in _expand(name)]
    seen: dict[str, Path] = {}
    while pending:
        name = pending.pop()
        path = _module_file(name)
        if name in seen or path is None:
            continue
        seen[name] = path
        parents = name.split(".")
        pending += [".".join(parents[:k]) for k in range(1, len(parents))]  # packages run their __init__
        pending += _imports(path)
    return sorted(str(p) for p in seen.values())


def render_assets() -> list[str]:
    """The renderer's files that are not Python (Lua filter, CSS, Typst header), for the report rules' inputs."""
    folder = PACKAGE / "rendering"
    return sorted(str(p) for p in folder.iterdir() if p.suffix in {".lua", ".css", ".typ"})


def _expand(name: str) -> list[str]:
    if not name.endswith(".*"):
        return [name]
    package = name[:-2]
    folder = PACKAGE.joinpath(*package.split(".")[1:])
    return [package, *(f"{package}.{p.stem}" for p in sorted(folder.glob("*.py")) if p.stem != "__init__")]


IMPORT_LINE = re.compile(
    r"^[ \t]*import[ \t]+([\w.]+(?:[ \t]+as[ \t]+\w+)?(?:[ \t]*,[ \t]*[\w.]+(?:[ \t]+as[ \t]+\w+)?)*)", re.M
)
FROM_LINE = re.compile(r"^[ \t]*from[ \t]+(evaluation[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]+)", re.M)


@functools.cache
def _imports(path: Path) -> list[str]:
    """Names of ``evaluation`` modules (or module attributes) imported by one file.

    Read from the import statements' text (a regular expression is ten times
    faster than parsing every file at each workflow start); an import written in a
    docstring counts too, which can only add a file.
    """
    text = path.read_text(encoding="utf-8")
    names = []
    for match in IMPORT_LINE.finditer(text):
        modules = (part.split()[0] for part in match.group(1).split(","))
        names += [m for m in modules if m == "evaluation" or m.startswith("evaluation.")]
    for module, imported in FROM_LINE.findall(text):
        aliases = imported.strip("()").split("#")[0] if not imported.startswith("(") else imported.strip("()")
        members = [a.split()[0] for a in re.sub(r"#[^\n]*", "", aliases).replace("\n", ",").split(",") if a.strip()]
        names += [module, *(f"{module}.{member}" for member in members)]
    return names


def _module_file(name: str) -> Path | None:
    """The file of module ``evaluation.x.y`` (a package's ``__init__.py``); None for a name that is not a module."""
    if name != "evaluation" and not name.startswith("evaluation."):
        return None
    relative = Path(*name.split(".")[1:])
    for path in (PACKAGE / relative / "__init__.py", PACKAGE / relative.with_suffix(".py") if relative.parts else None):
        if path is not None and path.is_file():
            return path
    return None
