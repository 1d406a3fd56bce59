"""Rules list the code of their stage as input (``stage_settings.stage_code``), so changed code reruns the stage."""

from __future__ import annotations

import re
from pathlib import Path

from evaluation.stage_settings import PACKAGE, stage_code

REPO = Path(__file__).resolve().parent.parent


def names(files: list[str]) -> set[str]:
    return {Path(f).relative_to(PACKAGE).as_posix() for f in files}


def test_a_stage_includes_what_it_imports_transitively():
    compare = names(stage_code("evaluation.compare"))
    assert {"compare.py", "comparison/power.py", "comparison/within.py", "comparison/__init__.py", "__init__.py",
            "errors.py"} <= compare
    assert not any(n.startswith(("survey/", "reporting/", "validation/")) for n in compare)
    estimate = names(stage_code("evaluation.estimate"))
    assert {"estimate.py", "weight.py", "survey/variance.py", "gaps.py", "disclosure.py"} <= estimate
    assert not any(n.startswith("comparison/") for n in estimate)


def test_a_package_wildcard_takes_every_module_of_it():
    reports = names(stage_code("evaluation.render", "evaluation.reporting.*"))
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
