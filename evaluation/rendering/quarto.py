"""Render a report with the Quarto CLI (``quarto render``).

Each render runs in a private temporary copy of the report's folder, so
several renders of the same ``.qmd`` with different parameters can run in
parallel; the code itself runs in ``workdir`` (``--execute-dir``) so relative
data paths mean the same as with the built-in engine. Parameters are passed
with ``-P name:value``, where Quarto reads the value as YAML; they are
written as JSON (a subset of YAML), so their types survive.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from evaluation.errors import RenderError
from evaluation.rendering.outputs import move_into_place
from evaluation.rendering.params import language_parameter, yaml_value

log = logging.getLogger(__name__)

#: Output file extension of each Quarto format we render.
FORMAT_EXTENSIONS = {"html": "html", "typst": "pdf"}
_NOT_COPIED = shutil.ignore_patterns(".quarto", "_output", "*_files", "__pycache__", ".ipynb_checkpoints")
_STDERR_LINES = 40


def quarto_command(
    quarto: str,
    source: Path,
    to: str,
    params: dict[str, Any],
    workdir: Path,
) -> list[str]:
    """Build the ``quarto render`` command for one output format.

    Parameters
    ----------
    quarto : str
        Path of the ``quarto`` executable.
    source : Path
        The (copied) ``.qmd`` file.
    to : {"html", "typst"}
        Quarto output format; ``typst`` produces a PDF.
    params : dict
        Checked parameters.
    workdir : Path
        Working directory of the code (``--execute-dir``).

    Returns
    -------
    list of str
        The command, e.g. ``quarto render report.qmd --to html --output
        report.html --execute-dir DIR -M embed-resources:true -M lang:"nb"
        -P lang:"nb" -P year:2024``; a ``lang`` parameter also sets the
        document language, as with the built-in engine.
    """
    command = [
        quarto,
        "render",
        str(source),
        "--to",
        to,
        "--output",
        f"{source.stem}.{FORMAT_EXTENSIONS[to]}",
        "--execute-dir",
        str(workdir),
    ]
    if to == "html":
        command += ["-M", "embed-resources:true"]
    lang = language_parameter(params)
    if lang:
        command += ["-M", f"lang:{yaml_value(lang)}"]
    for name, value in params.items():
        command += ["-P", f"{name}:{yaml_value(value)}"]
    return command


def render_quarto(
    quarto: str,
    source: Path,
    params: dict[str, Any],
    html_out: Path,
    pdf_out: Path | None,
    workdir: Path,
    timeout: float,
) -> None:
    """Render a report to HTML (and PDF via Typst) with the Quarto CLI.

    Parameters
    ----------
    quarto : str
        Path of the ``quarto`` executable.
    source : Path
        The ``.qmd`` file.
    params : dict
        Checked parameters.
    html_out : Path
        Self-contained HTML file to write.
    pdf_out : Path or None
        PDF file to write, if any.
    workdir : Path
        Working directory of the code.
    timeout : float
        Seconds all Quarto runs together may take.

    Raises
    ------
    RenderError
        If Quarto fails, times out or does not write the expected file.
    """
    deadline = time.monotonic() + timeout
    targets = {"html": html_out} if pdf_out is None else {"html": html_out, "typst": pdf_out}
    with tempfile.TemporaryDirectory(prefix="quarto-render-") as tmp:
        folder = Path(tmp) / source.parent.name
        shutil.copytree(source.parent, folder, ignore=_NOT_COPIED)
        copy = folder / source.name
        for to, target in targets.items():
            command = quarto_command(quarto, copy, to, params, workdir.resolve())
            _run(command, folder, deadline, source)
            built = folder / f"{copy.stem}.{FORMAT_EXTENSIONS[to]}"
            if not built.is_file():
                raise RenderError(f"{source}: quarto render --to {to} finished but wrote no {built.name}")
            move_into_place(built, target)


def _run(command: list[str], cwd: Path, deadline: float, source: Path) -> None:
    """Run Quarto with the kernel on this process's Python and turn failures into RenderError."""
    log.info("%s: %s", source, " ".join(command))
    env = {**os.environ, "QUARTO_PYTHON": sys.executable}
    remaining = max(1.0, deadline - time.monotonic())
    try:
        result = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, timeout=remaining, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise RenderError(f"{source}: quarto render did not finish within the time limit") from exc
    if result.returncode != 0:
        tail = "\n".join(result.stderr.splitlines()[-_STDERR_LINES:])
        raise RenderError(f"{source}: quarto render failed (exit code {result.returncode}):\n{tail}")
