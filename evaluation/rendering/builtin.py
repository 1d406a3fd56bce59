"""Render a report without the Quarto CLI: execute once, convert to HTML and PDF."""

from __future__ import annotations

import logging
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from evaluation.rendering.convert import metadata_block, write_html, write_pdf
from evaluation.rendering.document import Document, read_document
from evaluation.rendering.execute import execute_notebook, inject_parameters
from evaluation.rendering.markdown import Target, notebook_to_markdown
from evaluation.rendering.outputs import move_into_place
from evaluation.rendering.params import language_parameter

log = logging.getLogger(__name__)


def render_builtin(
    source: Path,
    params: dict[str, Any],
    html_out: Path,
    pdf_out: Path | None,
    workdir: Path,
    timeout: float,
) -> None:
    """Render a Quarto document with jupytext, IPython, pandoc and Typst.

    The document is read and executed once (one IPython shell in this
    process, see :mod:`evaluation.rendering.shell`); HTML and PDF are
    converted from the same executed notebook, at the same time (pandoc runs
    as its own process). Intermediate files live in a
    private temporary folder and finished outputs are moved into place, so
    parallel renders of one document do not collide and a failed render
    leaves no partial output.

    Parameters
    ----------
    source : Path
        The ``.qmd`` file.
    params : dict
        Checked parameters (see :func:`evaluation.rendering.params.normalise_params`).
    html_out : Path
        Self-contained HTML file to write.
    pdf_out : Path or None
        PDF file to write, if any.
    workdir : Path
        Working directory of the code.
    timeout : float
        Seconds the execution may take.
    """
    started = time.perf_counter()
    document = read_document(source)
    inject_parameters(document.notebook, params, source)
    execute_notebook(document.notebook, workdir, timeout, source)
    executed = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="render-") as tmp, ThreadPoolExecutor(max_workers=1) as pool:
        build_dir = Path(tmp)
        built = {build_dir / "report.html": html_out}
        html_md = _markdown(document, "html", build_dir, params)
        pdf_md = None if pdf_out is None else _markdown(document, "typst", build_dir, params)
        html = pool.submit(write_html, html_md, build_dir, source.parent, build_dir / "report.html")
        if pdf_md is not None:
            built[build_dir / "report.pdf"] = pdf_out
            write_pdf(pdf_md, build_dir, source.parent, build_dir / "report.pdf")
        html.result()
        for path, target in built.items():
            move_into_place(path, target)
    log.info(
        "%s: executed in %.1f s, converted in %.1f s",
        source,
        executed - started,
        time.perf_counter() - executed,
    )


def _markdown(document: Document, target: Target, build_dir: Path, params: dict[str, Any]) -> str:
    """The complete pandoc Markdown (metadata block and body) for one output format."""
    header = metadata_block(document.front_matter, document.source, target, language_parameter(params))
    return header + notebook_to_markdown(document, target, build_dir)
