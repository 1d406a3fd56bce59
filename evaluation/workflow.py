"""What the Snakefile needs at parse time: the raw inputs of a run and the source files of each stage.

Kept free of heavy imports, so that parsing the workflow stays fast.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path
from typing import Any


def survey_files(raw_dir: Path, survey_source: dict[str, Any]) -> dict[int, Path]:
    """The file of each survey wave, from the configured name pattern."""
    return {wave: Path(raw_dir) / survey_source["files"].format(wave=wave) for wave in survey_source["waves"]}


def raw_inputs(raw_dir: Path, sources: dict[str, Any]) -> list[Path]:
    """Every raw file the pipeline reads (Snakemake's inputs; checksummed for provenance)."""
    optional = [name for name in ("crosswalk", "register") if sources.get(name)]
    singles = [Path(raw_dir) / sources[name]["file"] for name in ("areas", "turnout", "margins", *optional)]
    return singles + list(survey_files(raw_dir, sources["survey"]).values())


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


def _expand(name: str) -> list[str]:
    if not name.endswith(".*"):
        return [name]
    package = name[:-2]
    folder = PACKAGE.joinpath(*package.split(".")[1:])
    return [package, *(f"{package}.{p.stem}" for p in sorted(folder.glob("*.py")) if p.stem != "__init__")]


@functools.cache
def _imports(path: Path) -> list[str]:
    """Names of ``evaluation`` modules (or module attributes) imported by one file."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names if alias.name.startswith("evaluation")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("evaluation"):
            names += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
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
