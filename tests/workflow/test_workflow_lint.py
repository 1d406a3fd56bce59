"""The workflow meets the Snakemake catalog's standards: lint clean, formatted, a pinned environment per rule."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import yaml
from shared import REPO

from evaluation.workflow import stage_code

DATA_STAGES = ("demo", "ingest", "faults", "validate", "weight", "estimate", "compare", "gather", "data_quality")
# the environment each rule's stage code runs in, and the modules of that code
ENVIRONMENTS = {
    "pipeline.yaml": [f"evaluation.stages.{stage}" for stage in (*DATA_STAGES, "provenance")],
    "reports.yaml": ["evaluation.stages.render", "evaluation.reporting.*"],
}
# what `python -m evaluation` imports before any stage (evaluation.cli imports the stages in its functions)
COMMAND_LINE = ["evaluation.config"]


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=120)


def test_snakemake_lint_is_clean():
    result = run(sys.executable, "-m", "snakemake", "--lint")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Lints for" not in output, output
    assert "Congratulations, your workflow is in a good condition!" in output


def test_snakefmt_leaves_the_workflow_unchanged():
    result = run(sys.executable, "-m", "snakefmt", "--check", "Snakefile", "rules/")
    assert result.returncode == 0, result.stdout + result.stderr


def normalise(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements.lock").read_text(encoding="utf-8").splitlines():
        name, sep, version = line.strip().partition("==")
        if sep:
            pins[normalise(name)] = version
    return pins


def pip_pins(env: Path) -> dict[str, str]:
    """``name -> version`` of the pip section of a conda environment file (every entry must be pinned)."""
    spec = yaml.safe_load(env.read_text(encoding="utf-8"))
    pip_sections = [item["pip"] for item in spec["dependencies"] if isinstance(item, dict)]
    assert len(pip_sections) == 1, f"{env}: one pip section expected"
    pins = {}
    for entry in pip_sections[0]:
        name, sep, version = entry.partition("==")
        assert sep, f"{env}: {entry!r} is not pinned with =="
        pins[normalise(name)] = version
    return pins


def rule_environments() -> dict[str, Path]:
    """``rule -> conda environment file`` of every rule in rules/*.smk that runs a shell command."""
    declared = {}
    for rules_file in sorted((REPO / "rules").glob("*.smk")):
        chunks = re.split(r"^\s*(?:rule|checkpoint) (\w+):$", rules_file.read_text(encoding="utf-8"), flags=re.M)
        for rule, body in zip(chunks[1::2], chunks[2::2], strict=True):
            if "shell:" in body:
                envs = re.findall(r'conda:\n\s+"([^"]+)"', body)
                assert len(envs) == 1, f"{rules_file.name}: rule {rule} needs one conda: environment"
                declared[rule] = (rules_file.parent / envs[0]).resolve()
    return declared


def test_every_rule_names_an_environment_that_exists():
    declared = rule_environments()
    assert len(declared) == 16, sorted(declared)
    for rule, env in declared.items():
        assert env.is_file(), f"rule {rule}: {env} does not exist"
    assert {env.relative_to(REPO).as_posix() for env in declared.values()} == {f"envs/{e}" for e in ENVIRONMENTS}
    reports = {rule for rule, env in declared.items() if env.name == "reports.yaml"}
    assert reports == {"programme_report", "pilot_report", "appendix_report"}


def test_environments_pin_the_versions_of_the_lock():
    lock = locked()
    envs = sorted((REPO / "envs").glob("*.yaml"))
    assert [p.name for p in envs] == sorted(ENVIRONMENTS)
    for env in envs:
        for name, version in pip_pins(env).items():
            assert name in lock, f"{env.name}: {name} is not in requirements.lock"
            assert version == lock[name], f"{env.name}: {name}=={version}, requirements.lock has {lock[name]}"
        spec = yaml.safe_load(env.read_text(encoding="utf-8"))
        assert "python =3.11" in spec["dependencies"], f"{env.name}: python 3.11 (the lock's) expected"


def imported_distributions(modules: list[str]) -> set[str]:
    """Distributions (installed from the lock) that the code of ``modules`` imports, at any depth."""
    owners = packages_distributions()
    found = set()
    for path in stage_code(*modules):
        for node in ast.walk(ast.parse(Path(path).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != "evaluation" and top not in sys.stdlib_module_names:
                    # names not installed are optional imports (guarded by ImportError), e.g. threadpoolctl
                    found.update(normalise(d) for d in owners.get(top, []))
    return found


def test_each_environment_holds_what_its_code_imports():
    lock = locked()
    for env, modules in ENVIRONMENTS.items():
        needed = {name for name in imported_distributions([*modules, *COMMAND_LINE]) if name in lock}
        missing = needed - set(pip_pins(REPO / "envs" / env))
        assert not missing, f"envs/{env} lacks {sorted(missing)}, imported by the code of its rules"
