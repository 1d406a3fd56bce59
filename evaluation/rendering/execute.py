"""Inject parameters into a report notebook and execute it in one Jupyter kernel."""

from __future__ import annotations

import logging
import math
import re
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
import zmq
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from traitlets import default

from evaluation.errors import RenderError
from evaluation.rendering.document import EXECUTE_DEFAULTS, NAME_KEY, OPTIONS_KEY
from evaluation.rendering.params import python_assignments

log = logging.getLogger(__name__)

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class CurrentPythonKernelManager(AsyncKernelManager):
    """Kernel manager whose kernel always runs this process's Python (``sys.executable``).

    A ``python3`` kernelspec found elsewhere on the Jupyter path (for example
    in the user's home) could point at another interpreter without our
    packages; this manager ignores kernelspecs altogether. Kernel traffic is
    encrypted (CurveZMQ) when pyzmq supports it; ipykernel 7 warns otherwise.
    """

    @default("transport_encryption")
    def _default_transport_encryption(self) -> str:
        """Encrypt when pyzmq can."""
        return "auto" if zmq.has("curve") else "disabled"

    @property
    def kernel_spec(self) -> KernelSpec:
        """The ipykernel spec for ``sys.executable``."""
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name="Python 3 (report rendering)",
            language="python",
            metadata={"supported_encryption": ["curve"]},
        )


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
    position = next(
        (i for i, cell in enumerate(cells) if "parameters" in cell.metadata.get("tags", [])), None
    )
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
    """Execute the code cells of ``notebook`` in place, in one kernel started in ``cwd``.

    Cells whose options say ``eval: false`` are not run; without cells to
    run, no kernel is started.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        The report notebook; outputs are added to its cells.
    cwd : Path
        Working directory of the kernel.
    timeout : float
        Seconds the whole execution (kernel start and all cells) may take.
    source : Path
        The report, for error messages.

    Raises
    ------
    RenderError
        If a cell raises (the message names the report, the code cell's number
        and first line of code, and gives the traceback), the time is up or
        the kernel does not start or dies.
    """
    cells = [(i, cell) for i, cell in enumerate(notebook.cells) if _runs(cell)]
    if not cells:
        return
    deadline = time.monotonic() + timeout
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        kernel_manager_class=CurrentPythonKernelManager,
        timeout=math.ceil(timeout),
        startup_timeout=math.ceil(timeout),
        shutdown_kernel="immediate",
        resources={"metadata": {"path": str(cwd)}},
    )
    try:
        with client.setup_kernel():
            for index, cell in cells:
                _execute_cell(client, cell, index, deadline)
    except RuntimeError as exc:  # raised by jupyter_client when the kernel does not start
        raise RenderError(f"{source}: the Python kernel ({sys.executable}) failed: {exc}") from exc


def _runs(cell: nbformat.NotebookNode) -> bool:
    """Whether a cell is code to execute (not empty, not ``eval: false``)."""
    return cell.cell_type == "code" and bool(cell.source.strip()) and cell.metadata[OPTIONS_KEY]["eval"]


def _execute_cell(client: NotebookClient, cell: nbformat.NotebookNode, index: int, deadline: float) -> None:
    """Execute one cell within the time left and turn nbclient's failures into :class:`RenderError`."""
    where = cell.metadata[NAME_KEY]
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise RenderError(f"{where} was not run: the time limit of the render is used up")
    client.timeout = math.ceil(remaining)
    try:
        client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
    except CellExecutionError as exc:
        raise RenderError(f"{where} raised {exc.ename}: {exc.evalue}\n{_ANSI.sub('', str(exc))}") from exc
    except CellTimeoutError as exc:
        raise RenderError(f"{where} did not finish within the time limit of the render") from exc
    except DeadKernelError as exc:
        raise RenderError(f"{where}: the Python kernel died ({exc})") from exc
