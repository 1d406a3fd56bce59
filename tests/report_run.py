"""One small pipeline run shared by the report tests, and the system tools they need.

The run (small demo, injected faults, English reports) happens once per test
session however many ``test_report_*`` modules ask for it: pytest keeps a
fixture imported into several modules once per module, so the folder is cached
here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from shared import small_workflow

LANG = "en"
APPENDICES = ("data_quality", "methods")
# Debian packages of the commands the reader checks use
PACKAGES = {"chromium": "chromium", "pdftoppm": "poppler-utils", "pdftotext": "poppler-utils"}
_RUNS: dict[str, Path] = {}


def snakemake(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """Run Snakemake on the workflow copy in ``folder``."""
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--cores",
        "2",
        "--directory",
        str(folder),
        "--snakefile",
        str(folder / "Snakefile"),
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, cwd=folder, timeout=900)


def appendix_targets(lang: str = LANG) -> list[str]:
    """The data-quality report and methods appendix (until the Snakefile's ``rule all`` lists them)."""
    return [f"reports/_output/{lang}/{name}.{ext}" for name in APPENDICES for ext in ("html", "pdf")]


def pipeline_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The workflow copied to a temporary folder and run once on a small demo with injected faults."""
    if "run" not in _RUNS:
        folder = small_workflow(tmp_path_factory.mktemp("report_workflow"), draws=99, lang=LANG, inject_faults=True)
        result = snakemake(folder, "all", *appendix_targets())
        assert result.returncode == 0, result.stderr[-5000:]
        _RUNS["run"] = folder
    return _RUNS["run"]


def reports(folder: Path, ext: str, lang: str = LANG) -> list[Path]:
    """Every rendered report of one format."""
    found = sorted((folder / "reports" / "_output" / lang).glob(f"*.{ext}"))
    assert found, f"no .{ext} reports in {folder}"
    return found


def visible_text(html: str) -> str:
    """The text a reader sees in an HTML report (tags, styles, scripts and data URIs removed)."""
    from lxml import html as lxml_html

    tree = lxml_html.fromstring(html)
    for element in tree.xpath("//script | //style"):
        element.drop_tree()
    return re.sub(r"\s+", " ", " ".join(tree.itertext()))


def pdf_text(path: Path) -> str:
    """The text of a PDF (``pdftotext``), whitespace collapsed and words broken by hyphenation joined."""
    result = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True)
    return re.sub(r"\s+", " ", re.sub("\u00ad\\s*", "", result.stdout))


def ensure_tools(*commands: str) -> None:
    """Install missing commands with apt-get when we may (root or password-less sudo), else skip.

    CI machines start without Chromium and Poppler; the tests install them
    rather than expecting a hand-made setup.
    """
    missing = [c for c in commands if shutil.which(c) is None]
    if not missing:
        return
    packages = sorted({PACKAGES[c] for c in missing})
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    if shutil.which("apt-get") is None or (
        prefix and subprocess.run([*prefix, "true"], capture_output=True).returncode != 0
    ):
        pytest.skip(f"{', '.join(missing)} not installed and apt-get cannot be used here; install {' '.join(packages)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*prefix, "apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
    install = subprocess.run(
        [*prefix, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    still = [c for c in commands if shutil.which(c) is None]
    if still:
        pytest.skip(f"could not install {' '.join(packages)}: {install.stderr[-500:]}")
