"""Inject parameters into a report notebook and execute its code cells in this process, in one IPython shell."""

from __future__ import annotations

import contextlib
import logging
import re
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat

from evaluation.errors import RenderError
from evaluation.progress import progress
from evaluation.rendering.document import EXECUTE_DEFAULTS, NAME_KEY, OPTIONS_KEY
from evaluation.rendering.params import python_assignments
from evaluation.rendering.shell import ReportShell, report_shell

log = logging.getLogger(__name__)

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class _TimeUp(BaseException):
    """Raised in the running cell when the time limit of the render is reached (not an ``Exception``,
    so that report code catching ``Exception`` does not swallow it)."""


def inject_parameters(notebook: nbformat.NotebookNode, params: dict[str, Any], source: Path) -> None:
    """Insert a cell assigning ``params`` after the cell tagged ``parameters``.

    Later assignments override the defaults, as in papermill and Quarto. The
    injected cell is tagged ``injected-parameters`` and shown like the
    ``parameters`` cell. Without a ``parameters`` cell the parameters are
    injected, hidden, at the top (and a warning is logged).

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        Notebook read by :func:`evaluation.rendering.document.read_document`.
    params : dict
        Checked parameters (see :func:`evaluation.rendering.params.normalise_params`).
    source : Path
        The report, for the log message.
    """
    if not params:
        return
    cells = notebook.cells
    position = next((i for i, cell in enumerate(cells) if "parameters" in cell.metadata.get("tags", [])), None)
    if position is None:
        log.warning("%s: no cell tagged `parameters`; injecting parameters at the top", source)
        options = {**EXECUTE_DEFAULTS, "include": False}
    else:
        options = cells[position].metadata[OPTIONS_KEY]
    injected = nbformat.v4.new_code_cell(python_assignments(params))
    injected.metadata[OPTIONS_KEY] = {**options, "tags": ["injected-parameters"]}
    injected.metadata["tags"] = ["injected-parameters"]
    injected.metadata[NAME_KEY] = f"{source}: injected parameters cell"
    cells.insert(0 if position is None else position + 1, injected)


def execute_notebook(notebook: nbformat.NotebookNode, cwd: Path, timeout: float, source: Path) -> None:
    """Execute the code cells of ``notebook`` in place, in one IPython shell in this process working in ``cwd``.

    Cells whose options say ``eval: false`` are not run; without cells to
    run, no shell is created. Each cell gets the outputs a Jupyter kernel
    would have sent (see :mod:`evaluation.rendering.shell`).

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        The report notebook; outputs are added to its cells.
    cwd : Path
        Working directory of the code.
    timeout : float
        Seconds all cells together may take. The limit is a ``SIGALRM`` timer,
        so it holds only when rendering in the main thread on POSIX systems
        (otherwise a warning is logged and there is no limit).
    source : Path
        The report, for error messages.

    Raises
    ------
    RenderError
        If a cell raises (the message names the report, the code cell's number
        and first line of code, and gives the traceback) or the time is up.
    """
    cells = [cell for cell in notebook.cells if _runs(cell)]
    if not cells:
        return
    cell = cells[0]
    try:
        with report_shell(cwd) as shell, _time_limit(timeout, source):
            for cell in progress(cells, f"render {source.name}: cell", log, lambda c: c.metadata[NAME_KEY]):
                _execute_cell(shell, cell)
    except _TimeUp as exc:
        raise RenderError(f"{cell.metadata[NAME_KEY]} did not finish within the time limit of the render") from exc


def _runs(cell: nbformat.NotebookNode) -> bool:
    """Whether a cell is code to execute (not empty, not ``eval: false``)."""
    return cell.cell_type == "code" and bool(cell.source.strip()) and cell.metadata[OPTIONS_KEY]["eval"]


def _execute_cell(shell: ReportShell, cell: nbformat.NotebookNode) -> None:
    """Run one cell, store its outputs and turn its failure into :class:`RenderError` (the time limit into
    :class:`_TimeUp`)."""
    shell.start_cell()
    result = shell.run_cell(cell.source, store_history=True)
    cell.outputs = shell.outputs
    error = result.error_before_exec or result.error_in_exec
    if isinstance(error, _TimeUp):  # IPython caught it in the cell's code
        raise error
    if error is None and shell.traceback is None:
        return
    what = f"{type(error).__name__}: {error}" if error is not None else "an error while showing its figures"
    traceback = _ANSI.sub("", shell.traceback or "")
    raise RenderError(f"{cell.metadata[NAME_KEY]} raised {what}\n{traceback}") from error


@contextlib.contextmanager
def _time_limit(seconds: float, source: Path) -> Iterator[None]:
    """Raise :class:`_TimeUp` in whatever runs when ``seconds`` have passed (main thread, POSIX only)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        log.warning("%s: not rendering in the main thread of a POSIX process; no time limit", source)
        yield
        return

    def time_up(signum: int, frame: object) -> None:
        raise _TimeUp

    previous = signal.signal(signal.SIGALRM, time_up)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
