"""Rules list the code of their stage as input (``workflow.stage_code``), so changed code reruns the stage; the
floor plan holds (no stage imports a stage, no library imports a stage or reads the config)."""

from __future__ import annotations

import re
from pathlib import Path

from shared import REPO

from evaluation.workflow import PACKAGE, stage_code


def names(files: list[str]) -> set[str]:
    return {Path(f).relative_to(PACKAGE).as_posix() for f in files}


def test_a_stage_includes_what_it_imports_transitively():
    compare = names(stage_code("evaluation.stages.compare"))
    assert {
        "stages/compare.py",
        "comparison/programme.py",
        "comparison/power.py",
        "comparison/within.py",
        "comparison/__init__.py",
        "__init__.py",
        "errors.py",
    } <= compare
    assert not any(n.startswith(("survey/", "reporting/", "validation/")) for n in compare)
    estimate = names(stage_code("evaluation.stages.estimate"))
    assert {
        "stages/estimate.py",
        "survey/margins.py",
        "survey/variance.py",
        "estimation/gaps.py",
        "estimation/disclosure.py",
    } <= estimate
    assert not any(n.startswith("comparison/") for n in estimate)


def test_a_package_wildcard_takes_every_module_of_it():
    reports = names(stage_code("evaluation.stages.render", "evaluation.reporting.*"))
    on_disk = {f"reporting/{p.name}" for p in (PACKAGE / "reporting").glob("*.py")}
    assert on_disk <= reports and "rendering/builtin.py" in reports


def test_every_rule_that_runs_package_code_lists_it():
    """Each rule that calls ``python -m evaluation`` or ``{PY}`` declares its code input (provenance excepted)."""
    text = "\n".join(p.read_text() for p in sorted((REPO / "rules").glob("*.smk")))
    rules = re.split(r"\n(?=\s*(?:rule|checkpoint) \w+:)", text)
    missing = []
    for body in rules:
        name = re.match(r"\s*(?:rule|checkpoint) (\w+):", body)
        if not name or "{PY}" not in body or name.group(1) == "provenance":
            continue
        if "stage_code(" not in body and "_CODE" not in body:
            missing.append(name.group(1))
    assert not missing, f"rules without their code as input: {missing}"


def _imports(path: Path) -> set[str]:
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return found


def test_no_stage_imports_a_stage_and_no_library_imports_a_stage_or_the_config():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(PACKAGE).as_posix()
        imported = _imports(path)
        if module.startswith("stages/"):
            offenders += [f"{module} -> {name}" for name in imported if name.startswith("evaluation.stages.")]
        elif module.split("/")[0] in {
            "sources",
            "validation",
            "survey",
            "estimation",
            "comparison",
            "reporting",
            "rendering",
            "demo",
        }:
            offenders += [
                f"{module} -> {name}"
                for name in imported
                if name.startswith(("evaluation.stages", "evaluation.config", "evaluation.cli"))
            ]
    assert not offenders, offenders


def test_imports_read_from_text_include_every_import_the_parser_sees():
    """The fast import scan finds every evaluation import that ast finds, in every module of the package."""
    import ast

    from evaluation.workflow import _imports

    for path in sorted(PACKAGE.rglob("*.py")):
        parsed = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                parsed |= {a.name for a in node.names if a.name.startswith("evaluation")}
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("evaluation"):
                parsed |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
        assert parsed <= set(_imports(path)), path


def test_report_renders_depend_on_the_renderer_assets():
    from evaluation.workflow import render_assets

    assert {Path(p).name for p in render_assets()} == {"quarto-conventions.lua", "style.css", "typst-header.typ"}
