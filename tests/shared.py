"""Constants shared by the test modules (import as ``from shared import REPO``)."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TESTS = REPO / "tests"
"""The test suite's folder: fixtures and reference values are found from here, wherever a test file lives."""
SMALL_DEMO = dict(seed=7, n_municipalities=20, n_pilots=6, respondents_per_wave=600, n_waves=4)

WORKFLOW_FILES = ("Snakefile", "rules", "envs", "config", "reports", "profiles")


def small_workflow(
    folder: Path,
    demo: dict = SMALL_DEMO,
    draws: int = 199,
    lang: str = "en",
    without: tuple[str, ...] = (),
    **demo_settings,
) -> Path:
    """The workflow copied into ``folder`` with a shrunk demo config (``demo`` sizes, ``draws`` permutations).

    ``without`` names sources (``turnout``, ``survey``) left out of the config.
    """
    import shutil

    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns("_output"))
        else:
            shutil.copy(source, folder / name)
    path = folder / "config" / "config.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["demo"].update(
        seed=demo["seed"],
        municipalities=demo["n_municipalities"],
        pilots=demo["n_pilots"],
        respondents_per_wave=demo["respondents_per_wave"],
        waves=demo["n_waves"],
        **demo_settings,
    )
    config["sources"]["survey"]["waves"] = list(range(1, demo["n_waves"] + 1))
    config["compare"].update(n_permutations=draws, n_bootstrap=draws)
    config["report"]["language"] = lang
    for source in without:
        del config["sources"][source]
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return folder


def reduced_variables(path: Path, outcome: str, groups: list[str], gap: str) -> Path:
    """``config/variables.yaml`` cut to one outcome, some group variables and one gap, written to ``path``."""
    import yaml

    document = yaml.safe_load((REPO / "config" / "variables.yaml").read_text(encoding="utf-8"))
    document["outcomes"] = {outcome: document["outcomes"][outcome]}
    document["group_variables"] = {name: document["group_variables"][name] for name in groups}
    document["gaps"] = {gap: document["gaps"][gap]}
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path
