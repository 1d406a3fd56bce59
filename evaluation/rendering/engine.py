"""Render a parameterised Quarto report to self-contained HTML and PDF.

With the Quarto CLI on ``PATH`` the report is rendered by ``quarto render``;
without it, a built-in engine (jupytext, IPython, pandoc, Typst) renders it
with the Quarto features our reports use (see
:mod:`evaluation.rendering.builtin`).

Command line::

    python -m evaluation render reports/report.qmd --param municipality=0301 \\
        --param year=2024 --html out/report.html --pdf out/report.pdf

A ``--param`` value is read as JSON when it is valid JSON (``2024``,
``true``, ``"0301"``, ``[1, 2]``) and as a string otherwise (``nb``, ``no``).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from evaluation.errors import RenderError
from evaluation.rendering.builtin import render_builtin
from evaluation.rendering.params import normalise_params
from evaluation.rendering.quarto import render_quarto

log = logging.getLogger(__name__)

ENGINES = ("auto", "quarto", "builtin")


def render_report(
    source: Path,
    params: dict[str, Any],
    html_out: Path,
    pdf_out: Path | None,
    engine: str = "auto",
    workdir: Path | None = None,
    timeout: int = 300,
) -> str:
    """Render one parameterised Quarto document to self-contained HTML and, optionally, PDF.

    Parameters
    ----------
    source : Path
        The ``.qmd`` file; its ``{python}`` cell tagged ``parameters`` holds
        the defaults that ``params`` override.
    params : dict
        Parameter values (``None``, bool, int, float, str, paths, or lists and
        dicts of those), keyed by Python identifiers.
    html_out : Path
        HTML file to write (images and styles embedded; no network needed to view it).
    pdf_out : Path or None
        PDF file to write, or ``None`` for HTML only.
    engine : {"auto", "quarto", "builtin"}
        ``auto`` uses Quarto if ``quarto`` is on ``PATH`` and the built-in
        engine otherwise.
    workdir : Path, optional
        Working directory of the report's code; defaults to the folder of
        ``source`` (as with Quarto).
    timeout : int
        Seconds the code execution (built-in) or all Quarto runs may take.

    Returns
    -------
    str
        The engine used: ``"quarto"`` or ``"builtin"``.

    Raises
    ------
    RenderError
        If the engine is unknown or unavailable, a parameter is invalid, the
        report's code fails (the message names the file and cell) or
        conversion fails.
    """
    source = Path(source)
    workdir = source.parent if workdir is None else Path(workdir)
    checked = normalise_params(params, source)
    chosen = resolve_engine(engine)
    pdf = None if pdf_out is None else Path(pdf_out)
    if chosen == "quarto":
        render_quarto(shutil.which("quarto"), source, checked, Path(html_out), pdf, workdir, timeout)
    else:
        render_builtin(source, checked, Path(html_out), pdf, workdir, timeout)
    return chosen


def resolve_engine(engine: str) -> str:
    """Return ``"quarto"`` or ``"builtin"`` for a requested engine.

    Raises
    ------
    RenderError
        If ``engine`` is unknown, or is ``"quarto"`` and Quarto is not on ``PATH``.
    """
    if engine not in ENGINES:
        raise RenderError(f"unknown render engine {engine!r}; use one of {', '.join(ENGINES)}")
    has_quarto = shutil.which("quarto") is not None
    if engine == "quarto" and not has_quarto:
        raise RenderError("engine 'quarto' requested but the quarto command is not on PATH")
    if engine == "auto":
        return "quarto" if has_quarto else "builtin"
    return engine
